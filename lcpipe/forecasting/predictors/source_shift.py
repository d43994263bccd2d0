"""Reference: the mean of the source curves, shifted to meet the target at the cutoff."""

import numpy as np

from lcpipe.forecasting.predictors.base import Forecast, Predictor


def mean_curve(sources, horizon: int) -> np.ndarray:
    """Epoch-wise mean of the sources over 1..horizon; a short source holds its last value."""
    padded = [np.concatenate([s.values[:horizon], np.full(max(0, horizon - len(s.values)), s.values[-1])])
              for s in sources]
    return np.mean(padded, axis=0)


class SourceShift(Predictor):
    name = "source_shift"

    def fit(self, sources):
        self.sources_ = list(sources)
        return self

    def forecast(self, prefix, horizon):
        mean = mean_curve(self.sources_, horizon)
        k = len(prefix.values)
        return Forecast.clipped(mean[k:] + (prefix.values[-1] - mean[k - 1]), bounded=prefix.bounded)
