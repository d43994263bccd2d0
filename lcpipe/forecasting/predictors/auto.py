"""`auto`, lcpipe's default forecaster: analogs from a history of finished curves.

Each history curve is put on the target's time axis (normalised time, epoch / planned length, so
a 200-epoch history serves a 100-epoch run) and moved to meet the target's observed prefix in
log-error space, log(1 - acc), with recent epochs weighted most. Its remaining epochs, moved the
same way, are one analog forecast: the history curve brings the shape (plateaus, the jump after an
lr drop, late overfitting), the target its own level. The forecast is the mean of the analogs,
weighted by how closely each followed the prefix; the 80 % band is their spread plus the target's
own jitter around them, times a scale calibrated to cover 80 % of the actual points. History
curves are smoothed first (a centred moving average: they are finished, so the future may be
used), so that their epoch-to-epoch jitter does not pass into the forecast.

Why log-error: two runs of one recipe tend to keep the *ratio* of their errors, not their
difference, so a run at 20 % error where its analog was at 25 % ends near 0.8 x the analog's
final error. The settings (recency, similarity, smooth, interval_scale) are chosen by leave-one-group-out
on the development corpus: `python bench/forecast_quality.py`.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from lcpipe.curve import Series
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.predictors.base import Z80, Forecast, Predictor

ERROR_FLOOR = 1e-3  # log(1 - acc) needs 1 - acc > 0; a curve at 100 % is treated as 99.9 %
NOISE_FLOOR = 0.005  # the band never narrows below half an accuracy point of std
CHUNK = 2_000_000  # runs x history x epochs per vectorised block: bounds memory at ~16 MB a block


def on_time_axis(acc: np.ndarray, horizon: int) -> np.ndarray:
    """A finished curve of any length resampled to epochs 1..horizon on normalised time."""
    n = len(acc)
    if n == horizon:
        return acc
    return np.interp(np.arange(1, horizon + 1) * n / horizon, np.arange(1, n + 1), acc)


def log_error(acc: np.ndarray) -> np.ndarray:
    return np.log(np.clip(1.0 - acc, ERROR_FLOOR, 1.0))


def centred_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Moving average over `width` epochs centred on each one (narrower at the ends)."""
    half = width // 2
    total = np.concatenate([[0.0], np.cumsum(values)])
    i = np.arange(len(values))
    lo, hi = np.maximum(0, i - half), np.minimum(len(values), i + half + 1)
    return (total[hi] - total[lo]) / (hi - lo)


class Auto(Predictor):
    """Analog forecaster: `recency` is the half-life (epochs) of the prefix weights, `similarity`
    how sharply the analogs that fit the prefix best dominate (0: plain mean), `smooth` the width
    (epochs) of the history curves' moving average (1: raw), `interval_scale` the calibration of
    the 80 % band."""

    name = "auto"

    def __init__(self, recency: float = 5.0, similarity: float = 8.0, smooth: int = 5, interval_scale: float = 0.75):
        self.recency = recency
        self.similarity = similarity
        self.smooth = smooth
        self.interval_scale = interval_scale

    def fit(self, sources: list[Series]) -> Auto:
        """Keep the history curves; nothing else is learned, so fitting is instant."""
        self.history_ = [np.asarray(s.values, dtype=float) for s in sources if len(s.values)]
        if not self.history_:
            raise LcpipeError("auto needs at least one finished history curve to forecast from")
        self._axes: dict[int, np.ndarray] = {}
        return self

    def forecast(self, prefix: Series, horizon: int) -> Forecast:
        return self.forecast_many([prefix], [horizon])[0]

    def forecast_many(self, prefixes: list[Series], horizons: list[int]) -> list[Forecast]:
        """All runs that share a prefix length and horizon are forecast as one array operation."""
        batches: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, (prefix, horizon) in enumerate(zip(prefixes, horizons, strict=True)):
            if not 1 <= len(prefix.values) < horizon:
                raise LcpipeError(f"{prefix.name}: {len(prefix.values)} epochs observed of {horizon}; "
                                  "a forecast needs at least one observed and one unobserved epoch")
            batches[(len(prefix.values), horizon)].append(i)
        out: list[Forecast | None] = [None] * len(prefixes)
        for (_, horizon), members in batches.items():
            step = max(1, CHUNK // (len(self.history_) * horizon))
            for start in range(0, len(members), step):
                idx = members[start:start + step]
                y = np.stack([np.asarray(prefixes[i].values, dtype=float) for i in idx])
                for i, fc in zip(idx, self._forecast_block(y, horizon), strict=True):
                    out[i] = fc
        return out

    def _history_on(self, horizon: int) -> np.ndarray:
        """Log-error of every history curve on this horizon's time axis, (curves, horizon), cached."""
        if horizon not in self._axes:
            self._axes[horizon] = np.stack([centred_mean(log_error(on_time_axis(h, horizon)), self.smooth)
                                            for h in self.history_])
        return self._axes[horizon]

    def _forecast_block(self, y: np.ndarray, horizon: int) -> list[Forecast]:
        """y: (runs, k) prefixes of equal length -> one Forecast per run."""
        k = y.shape[1]
        hist = self._history_on(horizon)  # (J, H)
        w = 0.5 ** ((k - np.arange(1, k + 1)) / self.recency)
        w /= w.sum()
        resid = log_error(y)[:, None, :] - hist[None, :, :k]  # (R, J, k)
        shift = resid @ w  # (R, J): where each analog must move to meet the run
        distance = np.sqrt(((resid - shift[..., None]) ** 2) @ w)
        weight = np.exp(-self.similarity * (distance / (distance.min(axis=1, keepdims=True) + 1e-4) - 1))
        weight /= weight.sum(axis=1, keepdims=True)
        analogs = 1.0 - np.exp(hist[None, :, k:] + shift[..., None])  # (R, J, H - k)
        mean = np.einsum("rj,rjt->rt", weight, analogs)
        spread = np.einsum("rj,rjt->rt", weight, (analogs - mean[:, None, :]) ** 2)
        fitted = 1.0 - np.exp(hist[None, :, :k] + shift[..., None])
        jitter = np.einsum("rj,rj->r", weight, ((y[:, None, :] - fitted) ** 2) @ w)
        std = self.interval_scale * np.sqrt(spread + jitter[:, None] + NOISE_FLOOR**2)
        return [Forecast.clipped(m, m - Z80 * s, m + Z80 * s) for m, s in zip(mean, std, strict=True)]
