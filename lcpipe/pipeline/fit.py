"""Stage fit: fit the learned predictors on the windows; save plain state dicts.

It imports the learned predictors themselves, not the registry, so an edit to any other predictor
reruns neither this stage nor windows (tests/test_predictors.py keeps LEARNED equal to the
registry's list)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from lcpipe.atomic import atomic_dir
from lcpipe.config import Params
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.predictors.lstm import LSTM
from lcpipe.progress import step

LEARNED = {"lstm": LSTM}


def read_windows(p: Params, windows: Path) -> tuple[np.ndarray, np.ndarray]:
    """The windows stage's x, y, after checking they were built with today's features params."""
    try:
        with np.load(windows, allow_pickle=False) as z:
            x, y, inputs, window = z["x"], z["y"], list(z["inputs"]), int(z["window"])
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise LcpipeError(f"{windows}: cannot read windows ({type(exc).__name__}); rerun `dvc repro windows`") from None
    if inputs != p.features.inputs or window != p.features.window:
        raise LcpipeError(f"{windows} was built with inputs {inputs}, window {window}; params say "
                          f"{p.features.inputs}, {p.features.window}; rerun `dvc repro windows`")
    return x, y


def fit_learned(p: Params, windows: Path, out_dir: Path) -> None:
    x, y = read_windows(p, windows)
    with atomic_dir(out_dir) as tmp:
        for name, cls in LEARNED.items():
            with step(f"fit: {name} on {len(x)} windows"):
                predictor = cls.from_params(p).fit_windows(x, y)
            torch.save(predictor.state_dict(), tmp / f"{name}.pt")


fit_learned.replaces = {"out_dir": (".pt",)}  # its folder, replaced whole (entry.check_stage_paths)
