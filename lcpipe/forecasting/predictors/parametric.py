"""Domhan, Springenberg & Hutter (IJCAI 2015): fit the paper's saturating curve families to the
observed prefix and extrapolate a fit-quality weighted ensemble of them.

The paper samples a weighted sum of the families by MCMC; here each family is fitted on its own
by bounded least squares (cheap, deterministic) and the forecasts are averaged. The bounds keep
asymptotes in [0, 1] and fits whose curve leaves [0, 1] before the horizon are dropped, which
stands in for the paper's priors. x is the 1-based epoch.

With prior_weight = 0 only the target's prefix is used (the paper's setting). With prior_weight > 0, fit()
records the mean final accuracy of the source curves and every family is fitted to the prefix
plus that value as a pseudo-observation at the horizon, worth prior_weight prefix points: a
prior on where the curve ends. It helps when the sources share the target's task and schedule
(no family can see an lr drop coming), and misleads when they do not.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import curve_fit

from lcpipe.curve import Series
from lcpipe.forecasting.predictors.base import Z80, Forecast, Predictor

MAXFEV = 100  # per fit; 2 fits x 10 families at k = 164 stay well under 0.5 s
TOL = 0.01  # how far outside [0, 1] a fitted curve may stray before it is dropped
NOISE = 1e-5  # held-out mse floor (0.3 accuracy points rms): below it fits count as equally good
MIN_POINTS = 4  # shorter prefixes leave too little to fit and hold out: hold the last value
# A longer prefix (a run logged every step) is fitted on this many evenly spaced points, each standing for
# the points around it: 2 x 10 least-squares fits on 50,000 points took seconds, for the same curve
FIT_POINTS = 2_000

# name -> (curve f(x, *params), initial guess from (first value, asymptote guess, their gap),
#          (lower bounds, upper bounds)). Formulas as in the paper's Table 1.
FAMILIES = {
    "pow3": (lambda x, c, a, al: c - a * x ** -al,
             lambda y0, top, gap: [top, gap, 0.5], ([0, -1, 0], [1, 10, 5])),
    # the paper's c - (a'x + b')^-al as c - a (x + b)^-al (a = a'^-al, b = b'/a'): the same
    # curves, but a' and b' no longer span orders of magnitude, so the fit converges
    "pow4": (lambda x, c, a, b, al: c - a * (x + b) ** -al,
             lambda y0, top, gap: [top, gap, 0.0, 0.5], ([0, -1, 0, 0], [1, 10, 50, 5])),
    "log_power": (lambda x, a, b, c: a / (1 + (x / np.exp(b)) ** c),
                  lambda y0, top, gap: [top, np.log(top / y0 - 1 + 1e-3), -1.0],
                  ([0, -10, -10], [1, 10, 10])),
    "exp4": (lambda x, c, a, b, al: c - np.exp(-a * x ** al + b),
             lambda y0, top, gap: [top, 0.1, np.log(gap) + 0.1, 1.0],
             ([0, 0, -20, 0], [1, 10, 20, 3])),
    # mmf, janoschek, weibull: (asymptote, value at x = 0, rate, shape)
    "mmf": (lambda x, al, be, ka, de: al - (al - be) / (1 + (ka * x) ** de),
            lambda y0, top, gap: [top, y0 / 2, 0.2, 1.0], ([0, 0, 1e-4, 0.01], [1, 1, 10, 10])),
    "janoschek": (lambda x, al, be, ka, de: al - (al - be) * np.exp(-ka * x ** de),
                  lambda y0, top, gap: [top, y0 / 2, 0.2, 1.0],
                  ([0, 0, 1e-4, 0.01], [1, 1, 10, 10])),
    "weibull": (lambda x, al, be, ka, de: al - (al - be) * np.exp(-((ka * x) ** de)),
                lambda y0, top, gap: [top, y0 / 2, 0.2, 1.0],
                ([0, 0, 1e-4, 0.01], [1, 1, 10, 10])),
    # log(x + 1) as in the authors' code: log(1) = 0 would put a pole at the first epoch
    "ilog2": (lambda x, c, a: c - a / np.log(x + 1),
              lambda y0, top, gap: [top, gap * np.log(2.0)], ([0, -10], [1, 10])),
    # no asymptote when c > 0; the [0, 1] check on the fitted curve bounds it instead
    "vapor_pressure": (lambda x, a, b, c: np.exp(a + b / x + c * np.log(x)),
                       lambda y0, top, gap: [np.log(top), np.log(y0 / top), 0.0],
                       ([-10, -10, -1], [0, 10, 0.5])),
    "hill": (lambda x, th, et, ka: th * x ** et / (ka ** et + x ** et),
             lambda y0, top, gap: [top, 1.0, top / y0 - 1], ([0, 0.01, 1e-3], [1, 10, 1e3])),
}


def fit_family(name: str, y: np.ndarray, horizon: int, start=None, anchor=None, weight=0.0):
    """Family `name` least-squares fitted to y (epochs 1..len(y)), from `start` or its own
    guess, plus `anchor` at x = horizon worth `weight` points when given: (params, its values
    for epochs 1..horizon), or None when the fit fails or the curve is not finite and inside
    [0, 1] (the paper's prior likewise rejects curves that leave the metric's range)."""
    f, guess, (lo, hi) = FAMILIES[name]
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    x, sigma = np.arange(1.0, len(y) + 1), np.ones(len(y))
    if len(y) > FIT_POINTS:
        kept = np.unique(np.linspace(0, len(y) - 1, FIT_POINTS).round().astype(int))
        x, y, sigma = x[kept], y[kept], np.full(len(kept), np.sqrt(len(kept) / len(y)))
    if anchor is not None and weight > 0:
        x, y, sigma = np.append(x, horizon), np.append(y, anchor), np.append(sigma, weight ** -0.5)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            if start is None:
                top = float(np.clip(np.max(y) + 0.02, 0.05, 1.0))  # a bit above the best seen
                y0 = float(np.clip(y[0], 0.01, top - 0.01))
                start = guess(y0, top, top - y0)
            start = np.clip(np.nan_to_num(np.asarray(start, float)), lo + 1e-9, hi - 1e-9)
            params, _ = curve_fit(f, x, y, p0=start, sigma=sigma, bounds=(lo, hi), maxfev=MAXFEV)
            curve = f(np.arange(1.0, horizon + 1), *params)
        except Exception:  # noqa: BLE001 - a failed family is simply left out of the ensemble
            return None
    ok = np.all(np.isfinite(curve)) and curve.min() >= -TOL and curve.max() <= 1 + TOL
    return (params, curve) if ok else None


class Parametric(Predictor):
    """Fit-weighted ensemble of the curve families; `families` restricts it (e.g. ["pow3"]),
    `prior_weight` > 0 turns on the source prior on the final value (see the module doc)."""

    name = "parametric"

    def __init__(self, families: list[str] | None = None, prior_weight: float = 3.0):
        self.families = list(FAMILIES) if families is None else list(families)
        self.prior_weight = prior_weight

    def fit(self, sources: list[Series]) -> Parametric:
        """Record the sources' mean final accuracy; used only when prior_weight > 0."""
        finals = [s.values[-1] for s in sources if len(s.values)]
        self.anchor_ = float(np.mean(finals)) if finals else None
        return self

    def forecast(self, prefix: Series, horizon: int) -> Forecast:
        """Fit quality is judged out of sample: each family is also fitted without the last
        fifth of the prefix and scored by its mse on that held-out tail. In-sample mse would
        reward flexibility, not extrapolation: on a 5-epoch prefix every 4-parameter family
        interpolates almost exactly, often with a curve that is already flat. Weights ∝
        1 / max(held-out mse, NOISE), inverse mse being the precision of each family's
        extrapolation. Mean = weighted mean; the 80 % interval is mean ± Z80 * sqrt(spread
        between families + weighted held-out mse), the second term being how far the actual
        values strayed from the families' extrapolations on the prefix itself."""
        if not prefix.bounded:  # the families live in [0, 1]: fit an unbounded metric on an affine map into it
            y = np.asarray(prefix.values, dtype=float)
            lo, span = float(y.min()), float(np.ptp(y)) or 1e-6
            anchor = None if self.anchor_ is None else 0.2 + 0.4 * (self.anchor_ - lo) / span
            inner = self._forecast(0.2 + 0.4 * (y - lo) / span, horizon, anchor)
            back = [None if a is None else lo + (a - 0.2) * span / 0.4 for a in (inner.mean, inner.lower, inner.upper)]
            return Forecast.clipped(*back, bounded=False)
        return self._forecast(np.asarray(prefix.values, dtype=float), horizon, self.anchor_)

    def _forecast(self, y: np.ndarray, horizon: int, anchor: float | None) -> Forecast:
        k = len(y)
        flat = np.full(horizon - k, y[-1])
        if k < MIN_POINTS:
            return Forecast.clipped(flat, flat, flat)
        hold = max(1, k // 5)
        prior = {"anchor": anchor, "weight": self.prior_weight}
        curves, errors = [], []
        for name in self.families:
            held = fit_family(name, y[:-hold], horizon, **prior)
            if held is None:
                continue
            full = fit_family(name, y, horizon, start=held[0], **prior)  # warm start: ~1.5x faster
            if full is not None:
                curves.append(full[1][k:])
                errors.append(np.mean((held[1][k - hold:k] - y[-hold:]) ** 2))
        if not curves:
            return Forecast.clipped(flat, flat, flat)
        curves, errors = np.clip(np.array(curves), 0.0, 1.0), np.array(errors)
        w = 1.0 / np.maximum(errors, NOISE)
        w /= w.sum()
        mean = w @ curves
        std = np.sqrt(w @ (curves - mean) ** 2 + w @ errors)
        return Forecast.clipped(mean, mean - Z80 * std, mean + Z80 * std)

