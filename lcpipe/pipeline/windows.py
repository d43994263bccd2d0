"""Stage windows: gradient-feature windows of every source curve -> one .npz (the LSTM's data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lcpipe.atomic import atomic_path
from lcpipe.config import Params
from lcpipe.forecasting.features import make_windows
from lcpipe.pipeline.arch_curves import read_arch_curves, sources_of


def build_windows(p: Params, curves_dir: Path, out: Path) -> None:
    x, y = make_windows(sources_of(p, read_arch_curves(p, curves_dir)), p.features.window,
                        p.features.inputs, p.features.smooth)
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, x=x, y=y, inputs=np.array(p.features.inputs), window=np.array(p.features.window))
