"""The shared entry point of stages/*.py: params validated first, then the stage function called
with the paths dvc.yaml's `cmd` gives (the only place they are written); input errors as one
line and exit 2 (see errors.py)."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path

from lcpipe.config import load_params
from lcpipe.errors import exits_cleanly


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
    func(load_params(), **vars(args))
