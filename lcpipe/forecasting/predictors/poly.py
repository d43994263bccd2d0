"""The paper's polynomial regression: least squares on (epoch, accuracy), degree `poly.degree`.

fit_on 'pooled' (the default, the paper's §2.1: the polynomial is fitted on the data of
ResNet-34, ResNet-50 and Plain-34 with the target's first epochs) fits every point of the source
curves together with the target's observed prefix; 'prefix' fits the prefix alone.
"""

import numpy as np
from numpy.polynomial import Polynomial

from lcpipe.forecasting.predictors.base import Forecast, Predictor


class Poly(Predictor):
    name = "poly"

    def __init__(self, degree: int = 3, fit_on: str = "pooled"):
        self.degree, self.fit_on = degree, fit_on

    def fit(self, sources):
        self.sources_ = list(sources)
        return self

    def forecast(self, prefix, horizon):
        k = len(prefix.values)
        points = [(np.arange(1, k + 1), prefix.values)]
        if self.fit_on == "pooled":
            points += [(np.arange(1, len(s.values) + 1), s.values) for s in self.sources_]
        x = np.concatenate([p[0] for p in points]).astype(float)
        y = np.concatenate([p[1] for p in points])
        degree = min(self.degree, len(np.unique(x)) - 1)  # never more coefficients than points
        poly = Polynomial.fit(x, y, degree)  # scaled domain: well conditioned at any degree
        return Forecast.clipped(poly(np.arange(k + 1, horizon + 1, dtype=float)), bounded=prefix.bounded)
