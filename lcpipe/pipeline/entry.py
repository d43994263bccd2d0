"""The shared entry point of stages/*.py: paths as command-line options, params validated first,
input errors as one line and exit 2 (see errors.py)."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path

from lcpipe.config import load_params
from lcpipe.errors import exits_cleanly


@exits_cleanly
def run_stage(func: Callable, doc: str, **defaults: str | None) -> None:
    """Call `func(params, **options)`; each default becomes `--name` (None: required)."""
    params = inspect.signature(func).parameters
    ap = argparse.ArgumentParser(description=doc)
    for name, default in defaults.items():
        kind = Path if params[name].annotation in (Path, "Path") else str
        ap.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default, required=default is None)
    args = ap.parse_args()
    func(load_params(), **vars(args))
