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


def _imports(path: Path, lazy: bool) -> set[str]:
    """Every lcpipe module named by an import in `path`, at any depth of the file, and with `lazy`
    every string that is a dotted lcpipe name (the predictor registry's imports on first use)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and DOTTED.fullmatch(node.value):
            if lazy:
                names.add(node.value)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in names if n == "lcpipe" or n.startswith("lcpipe.")}


def import_closure(script: Path, root: Path) -> set[Path]:
    """Files of the lcpipe package that `script` imports, directly or through each other.

    Package __init__ files are included: Python runs them on the way to a submodule. Their lazy
    (string) imports count only where the package itself is imported by name: importing
    `predictors.auto` runs the registry's module code, not every predictor it names.
    """
    walked: dict[Path, bool] = {}  # file -> walked with its lazy imports too
    todo = [(script, True)]
    while todo:
        path, named = todo.pop()
        if walked.get(path) or (path in walked and not named):
            continue
        walked[path] = named
        for module in _imports(path, lazy=named):
            parts = module.split(".")
            files = [f for f in (_module_file(root, ".".join(parts[:i])) for i in range(1, len(parts) + 1)) if f]
            todo += [(f, i == len(files) - 1) for i, f in enumerate(files)]
    return {p.relative_to(root) for p in walked if p != script}
