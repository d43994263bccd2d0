"""The shared entry point of stages/*.py: params validated first, then the stage function called
with the paths dvc.yaml's `cmd` gives (the only place they are written); input errors as one
line and exit 2 (see errors.py)."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path

from lcpipe.atomic import check_output, check_own_folder, resolve
from lcpipe.config import load_params
from lcpipe.errors import LcpipeError, exits_cleanly

# a stage function's path arguments that it reads; every other path is one it writes (a name ending in _dir a
# folder, any other a file)
# output folders a stage replaces whole (atomic_dir), refused before any work where they are a link or a file (a
# sweep met its linked forecasts folder after rewriting half its outputs); folders a stage writes its own files into
# (checkpoints, timings, curves) may be links to a bigger disk (review)
# ... each with the kinds of file it holds: an existing one holding anything else is refused before any work too, not
# after the stage's figures were drawn and its other outputs written (a newcomer's read: `stages/sweep.py
# --figures-dir metrics` wrote six files, then refused)
REPLACED_WHOLE = {"forecasts_dir": (".csv",), "figures_dir": (".png",), "plots_dir": (".png",)}
INPUTS = frozenset({"curves_dir", "predictions_dir", "predictors_dir", "prepared", "windows", "history"})


@exits_cleanly
def run_stage(func: Callable, doc: str) -> None:
    """Call `func(params, **options)`: each argument after params without a default is a required
    `--name` option."""
    ap = argparse.ArgumentParser(description=doc)
    for name, arg in list(inspect.signature(func).parameters.items())[1:]:
        if arg.default is not inspect.Parameter.empty:
            continue  # a library option (e.g. run_training's stopper), not a path from dvc.yaml
        kind = Path if arg.annotation in (Path, "Path") else str
        ap.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, required=True)
    args = ap.parse_args()
    check_stage_paths(vars(args), replaced=getattr(func, "replaces", {}))
    func(load_params(), **vars(args))


def check_stage_paths(options: dict, replaced: dict[str, tuple[str, ...]] | None = None) -> None:
    """A stage run by hand with a wrong path stops here, before any work: an output that is an input, lies
    in one or holds one; an output folder that holds another output or the project itself (a stage replaces
    its output folders whole: `stages/evaluate.py --plots-dir metrics` deleted every other stage's metrics,
    `--plots-dir data/curves` its own input; red team); two outputs at one path; a file output that is not a
    regular file. `replaced`: the stage's own folders it replaces whole (its function's `replaces`: predict's and
    fit's --out-dir, a name train uses for a folder it writes into), each with the kinds of file it holds, checked
    as REPLACED_WHOLE's are."""
    whole = {**REPLACED_WHOLE, **(replaced or {})}
    paths = {name: Path(value) for name, value in options.items() if isinstance(value, Path)}
    inputs = [p for name, p in paths.items() if name in INPUTS]
    outputs = {name: p for name, p in paths.items() if name not in INPUTS}
    project = Path.cwd().resolve()
    for name, out in outputs.items():
        flag, real = f"--{name.replace('_', '-')}", resolve(out)
        if real == project or real in project.parents:
            raise LcpipeError(f"{flag} {out} is the project's folder or one above it; give the path dvc.yaml names")
        for given in inputs:
            other = resolve(given)
            if real == other or other in real.parents or real in other.parents:
                raise LcpipeError(f"{flag} {out} would overwrite the input {given}; give the path dvc.yaml names")
        for other_name, other in outputs.items():
            other_flag = f"--{other_name.replace('_', '-')}"
            if other_name != name and real == resolve(other):  # (review: --forecasts-dir X --figures-dir X ran the
                # whole sweep, wrote six outputs, then refused the folder)
                raise LcpipeError(f"{flag} {out} and {other_flag} {other} are one path; each output needs its own: "
                                  "give the paths dvc.yaml names")
            if other_name != name and real in resolve(other).parents:
                raise LcpipeError(f"{flag} {out} holds {other_flag} {other}, and a stage replaces its output folders "
                                  "whole; give the path dvc.yaml names")
        if not name.endswith("_dir") and not _in_dvc_cache(out):
            check_output(out, inputs, flag)
        elif name in whole:
            check_own_folder(out, flag, kinds=whole[name])


def _in_dvc_cache(path: Path) -> bool:
    """A link DVC placed (cache.type symlink, after `dvc pull` or `dvc checkout`) to an object of its cache,
    which DVC keeps read-only: the stage replaces the link, never the object, as before (review). A link of the
    user's to a file of theirs is not one, and check_output refuses it."""
    if not path.is_symlink():
        return False
    try:
        target = path.resolve(strict=True)
        return "/files/md5/" in target.as_posix() or not target.stat().st_mode & 0o222
    except OSError:
        return False
