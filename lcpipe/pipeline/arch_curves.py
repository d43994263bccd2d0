"""The pipeline's own curves, data/curves/<arch>.csv, as the forecasting stages read them: strictly
(lcpipe wrote them), in train.archs order, split into the held-out target and its sources."""

from __future__ import annotations

from pathlib import Path

from lcpipe.config import Params
from lcpipe.curve import Curve, Series, read_lcpipe_csv, series_of


def read_arch_curves(p: Params, curves_dir: Path) -> list[Curve]:
    """The curve of every arch in train.archs, in that order."""
    return [read_lcpipe_csv(Path(curves_dir) / f"{arch}.csv", p.features.metric) for arch in p.train.archs]


def sources_of(p: Params, curves: list[Curve]) -> list[Series]:
    """Every curve but predict.target's: what the predictors learn from."""
    return [series_of(c, p.features.metric) for c in curves if c.name != p.predict.target]


def target_of(p: Params, curves: list[Curve]) -> Series:
    return next(series_of(c, p.features.metric) for c in curves if c.name == p.predict.target)
