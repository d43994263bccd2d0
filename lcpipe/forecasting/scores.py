"""Forecast scores, all as fractions of accuracy: RMSE and MAE (the paper's §2.3), the error at
the final epoch, and for forecasts with an interval its 80 % coverage and mean width."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from lcpipe.forecasting.predictors.base import Forecast


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(actual - predicted)))


def score(actual: np.ndarray, forecast: Forecast) -> dict[str, float]:
    """Every metric of one forecast against the actual values of the same epochs."""
    actual = np.asarray(actual, dtype=float)
    out = {"rmse": rmse(actual, forecast.mean), "mae": mae(actual, forecast.mean),
           "final_abs_err": float(abs(actual[-1] - forecast.mean[-1]))}
    if forecast.lower is not None:
        inside = (actual >= forecast.lower) & (actual <= forecast.upper)
        out["coverage80"] = float(inside.mean())
        out["interval_width"] = float(np.mean(forecast.upper - forecast.lower))
    return out


def mean_by(rows: list[dict], keys: tuple[str, ...] = ("cutoff", "predictor")) -> list[dict]:
    """Average every score over the rows sharing `keys` (e.g. over targets)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in keys)].append(row)
    out = []
    for key, members in groups.items():
        scores = [k for k in members[0] if k not in ("target", "cutoff", "predictor", *keys)]
        out.append({**dict(zip(keys, key)), "n": len(members),
                    **{s: float(np.mean([m[s] for m in members])) for s in scores}})
    return out
