"""Reference: the last observed value held flat. Any learned method must beat it."""

import numpy as np

from lcpipe.forecasting.predictors.base import Forecast, Predictor


class LastValue(Predictor):
    name = "last_value"

    def forecast(self, prefix, horizon):
        return Forecast.clipped(np.full(horizon - len(prefix.values), prefix.values[-1]), bounded=prefix.bounded)
