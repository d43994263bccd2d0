"""Forecast scores, all as fractions of accuracy: RMSE and MAE (the paper's §2.3), the error at
the final epoch, and for forecasts with an interval its 80 % coverage and mean width."""

from __future__ import annotations

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
