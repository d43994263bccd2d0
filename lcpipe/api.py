"""lcpipe from Python, for notebooks: `lcpipe.forecast(...)` gives what `lcpipe forecast` prints
and writes, as a pandas DataFrame (one row per run), through the same code path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from lcpipe.config import Params
from lcpipe.curve import Curve
from lcpipe.errors import LcpipeError
from lcpipe.forecasting import live
from lcpipe.forecasting.logs import read_curves

CurvesLike = str | Path | Sequence[str | Path] | Mapping[str, Sequence[float]]


def _curves(given: CurvesLike, metric: str, what: str) -> list[Curve]:
    """Curves from paths (files, folders, DVCLive runs, as the CLI reads them) or from a mapping of
    run name -> the metric's values per epoch (fractions, epoch 1 first)."""
    if isinstance(given, Mapping):
        out = []
        for name, values in given.items():
            values = np.asarray(values, dtype=float)
            if values.ndim != 1 or not len(values) or not np.all(np.isfinite(values)) \
                    or np.any((values < 0) | (values > 1)):
                raise LcpipeError(f"{what} {name!r}: give finite fractions in [0, 1], one per epoch")
            out.append(Curve(str(name), {"epoch": np.arange(1.0, len(values) + 1), metric: values}))
        return out
    paths = [given] if isinstance(given, (str, Path)) else list(given)
    return read_curves(paths, metric)


def forecast(history: CurvesLike, runs: CurvesLike, epochs: int, metric: str = "test_acc",
             predictor: str = live.DEFAULT_PREDICTOR) -> pd.DataFrame:
    """Forecast runs still training from finished `history` curves: one row per run with `run`,
    `observed`, `epochs` (its planned length), `final`, `lower`, `upper` (80 % interval of the
    final value), `p_best`, `decision` ("keep" / "stop") and `forecast` (the mean per future epoch).

    >>> lcpipe.forecast(history="data/history/cifar10-plain-vs-resnet", runs="runs/", epochs=164)
    """
    params = replace(Params(), features=replace(Params().features, metric=metric))
    past, now = _curves(history, metric, "history curve"), _curves(runs, metric, "run")
    planned = live.planned_epochs(now, epochs, min_observed=params.features.window + 1)
    results = live.forecast_runs(live.fit_on_history(predictor, params, past, now), now, planned, metric)
    rows = []
    for r, n in zip(results, planned):
        mean, lower, upper = r.final
        rows.append({"run": r.run, "observed": len(r.observed), "epochs": n, "final": mean, "lower": lower,
                     "upper": upper, "p_best": r.p_best, "decision": r.decision, "forecast": r.forecast.mean})
    return pd.DataFrame(rows)
