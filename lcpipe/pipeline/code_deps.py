"""The lcpipe modules a stage script runs: its import closure inside the package.

dvc.yaml lists these as each stage's code deps; tests/test_code_deps.py keeps the two equal, so
a stage reruns when code it runs changes, and only then.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

DOTTED = re.compile(r"lcpipe(\.[A-Za-z_]\w*)+")


def _module_file(root: Path, module: str) -> Path | None:
    base = root / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Every lcpipe module named by an import in `path`, at any depth of the file, and every string
    that is a dotted lcpipe name (the predictor registry's imports on first use)."""
    names: set[str] = set()
    tree = ast.parse(path.read_text())
    hooks = [n for n in tree.body if path.name == "__init__.py" and _is_lazy_hook(n)]
    skipped = {id(inner) for hook in hooks for inner in ast.walk(hook)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and DOTTED.fullmatch(node.value):
            names.add(node.value)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in names if n == "lcpipe" or n.startswith("lcpipe.")}


def _is_lazy_hook(node: ast.stmt) -> bool:
    """A package's module-level `__getattr__`: it runs only when a user reads a lazy attribute
    (`lcpipe.forecast`), never on the way to a stage's modules."""
    return isinstance(node, ast.FunctionDef) and node.name == "__getattr__"


def _runs_code(path: Path) -> bool:
    """False for a package __init__ file that holds only a docstring and a lazy `__getattr__`:
    Python runs it on the way to a submodule, but no edit to it can change what a stage computes."""
    body = ast.parse(path.read_text()).body
    docstring = [n for n in body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)]
    rest = [n for n in body if n not in docstring]
    return not (path.name == "__init__.py" and len(docstring) <= 1 and all(map(_is_lazy_hook, rest)))


def import_closure(script: Path, root: Path) -> set[Path]:
    """Files of the lcpipe package that `script` imports, directly or through each other, that hold
    code (package __init__ files that hold only a docstring are not)."""
    walked: set[Path] = set()
    todo = [script]
    while todo:
        path = todo.pop()
        if path in walked:
            continue
        walked.add(path)
        for module in _imports(path):
            parts = module.split(".")
            todo += [f for f in (_module_file(root, ".".join(parts[:i])) for i in range(1, len(parts) + 1)) if f]
    return {p.relative_to(root) for p in walked if p != script and _runs_code(p)}


def covered(closure: set[str], deps: list[str]) -> tuple[set[str], set[str]]:
    """(files of the closure no dep covers, deps that cover no file of the closure); a dep covers a
    file when it is the file or a folder above it."""
    def covers(dep: str, f: str) -> bool:
        return f == dep or f.startswith(dep.rstrip("/") + "/")

    return ({f for f in closure if not any(covers(d, f) for d in deps)},
            {d for d in deps if not any(covers(d, f) for f in closure)})
