"""The decision a forecast exists for: which runs to keep training, and which to stop.

One rule for `lcpipe forecast`, the early_stop stage, the benches and the Optuna pruner. Each run's
final value is a normal read off its forecast's 80 % interval. Run i is stopped when some other
run j is likely to end above it by more than a margin:

    stop i  <=>  min over j != i of P(final_i >= final_j - margin) < stop_below

It stops a run because it loses, never because many runs share the chance of being best: n
identical runs each have P(final_i >= final_j - margin) >= 1/2 against every other, so none is
stopped for any n, and adding a copy of a run adds a comparison equal to one already made, so no
other run's decision changes (tests/test_decision.py).

Relative, not absolute. Runs of one study share forecast errors (the same history, the same
analogs), so the difference of two finals is less uncertain than two independent errors: `shared`
is that correlation. Two runs seen at the SAME step share most: the same forecaster extrapolates
the same distance from the same point of the schedule, so its error on one is largely its error on
the other (`same_step`, the correlation ForecastPruner uses between a trial and a rival cut at the
trial's step). Runs seen at different steps share less (`shared`).

The settings are chosen leave-one-family-out on the dev corpus (`python bench/forecast_quality.py`
prints the choice and the held-out stops, kept-set regret and coverage): among the settings whose
kept-set regret on the other families stays within 0.5 accuracy points at cutoff 10 and 0.25 at 20
and 40 (an earlier decision saves more, so it may cost more), the one that stops most; (same_step
0.8, stop_below 0.2) is the most frequent pick (5 of 13 families; 4 pick (0.95, 0.1), the others between
them), and held out the choice stops 49 / 54 / 52 % of the runs at cutoffs 10 / 20 / 40 for a kept-set
regret of 0.41 / 0.25 / 0.14 points. ForecastPruner keeps
its own stop_below (0.1): it checks a trial several times and a prune is final, so each check must
be surer than a decision made once. For the same reason a run decided at several checks (the
early_stop stage's stop.at) stops at a check only below `per_check(STOP_BELOW, checks)`: the chance
of stopping it wrongly over all its checks stays within STOP_BELOW (a union bound). Measured: the
one-shot threshold applied at 26 lockstep checks stops far too much (bench/early_stopping.py: 27 %
of the epochs for 0.84 points of regret; with the bound, 72 % for 0.00).

P(ends best), reported beside the decision, is the joint probability of being the highest
(independent normals); it informs, it no longer decides.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr, ndtr

from lcpipe.forecasting.predictors.base import Z80, Forecast

STOP_BELOW = 0.2  # stop when P(final >= another's final - MARGIN) falls below this, for some other run
MARGIN = 0.002  # 0.2 accuracy points: ending this close to the best is not losing
SHARED = 0.5  # correlation of two runs' forecast errors within one study, seen at different steps
SAME_STEP = 0.8  # ... and of two runs seen at the same step
# A loss or any other series: (same_step, stop_below) the pick of 15 of 16 families leave-one-family-out on
# the dev-loss corpus (`python bench/forecast_quality.py --corpus ../shared/curves/dev-loss --metric val_loss
# --percent`, its stop-rule section): two loss forecasts from one step share less of their error (a late
# rise, a schedule's last decay), and at the accuracy's (0.8, 0.2) the kept set lost 0.74 % of the loss at
# 20 % of the length. Held out, the picks stop 11 / 17 / 29 % of the runs at 10 / 20 / 40 % of their length for
# 0.00 / 0.34 / 0.32 % of the loss (the regret from the one family that picks (0.85, 0.15)). (0.8, 0.05) since the
# loss's band floor fell to 0.2 % (auto.NOISE_FLOOR_SERIES, 2026-12-07): on dev-loss it stops 11 / 16 / 27 % at
# 0.00 where (0.7, 0.05), the pick before, stopped 11 / 14 / 23 %; on the LoRA sweeps 18 / 41 / 78 % against
# 14 / 34 / 73 %, also at 0.00; in-study on dev-loss 52 / 42 / 48 % for 0.08 / 0.00 / 0.00 % (46 / 40 / 46 % for
# 0.01 / 0.00 / 0.00). (0.5, 0.05), the pick before auto's smoothing cap, stopped 5 / 14 / 21 %
SERIES_SAME_STEP, SERIES_STOP_BELOW = 0.8, 0.05
STD_FLOOR = 0.002  # 0.2 accuracy points: no final value is known better than epoch-to-epoch jitter
MAX_GRID = 4096  # grid points of the P(best) integral: a quarter of STD_FLOOR apart unless the spread is wide
GRID_CHUNK = 2_000_000  # runs x grid points per block of the integral (~16 MB)
PAIR_CHUNK = 4_000_000  # run pairs per block of the stop rule (~32 MB)


def p_not_beaten(mean: np.ndarray, std: np.ndarray, margin: float = MARGIN, shared: float = SHARED,
                 floor: float = STD_FLOOR, seen: np.ndarray | None = None, same_step: float = SAME_STEP) -> np.ndarray:
    """For each run i: min over j != i of P(final_i >= final_j - margin), finals jointly normal
    with correlation `shared`, or `same_step` for two runs whose `seen` (the step each was seen at)
    is equal; no std below `floor`; 1 for a run with no rival. Without `seen` every pair is at
    `shared`. Blocks of rows bound the memory."""
    mean = np.asarray(mean, dtype=float)
    std = np.maximum(np.asarray(std, dtype=float), floor)
    n = len(mean)
    out = np.ones(n)
    if n < 2:
        return out
    rows = max(1, PAIR_CHUNK // n)
    for s in range(0, n, rows):
        i = slice(s, s + rows)
        rho = shared if seen is None else np.where(seen[i, None] == seen[None, :], same_step, shared)
        var = std[i, None] ** 2 + std[None, :] ** 2 - 2 * rho * std[i, None] * std[None, :]
        z = (mean[i, None] - mean[None, :] + margin) / np.sqrt(np.maximum(var, floor**2))
        p = ndtr(z)
        p[np.arange(p.shape[0]), np.arange(s, s + p.shape[0])] = 1.0  # not against itself
        out[i] = p.min(axis=1)
    return out


def rule_for(kind: str) -> dict:
    """keep's same_step and stop_below for a metric of this kind (metric.Metric.kind): an accuracy's,
    or a loss's and any other series'."""
    if kind == "fraction":
        return {"same_step": SAME_STEP, "stop_below": STOP_BELOW}
    return {"same_step": SERIES_SAME_STEP, "stop_below": SERIES_STOP_BELOW}


def per_check(stop_below: float, checks: int) -> float:
    """The threshold of each of `checks` decisions on one run, so that all of them together stop it
    wrongly no more often than one decision at `stop_below` would (union bound)."""
    return stop_below / max(1, int(checks))


def keep(mean: np.ndarray, std: np.ndarray, stop_below: float = STOP_BELOW, margin: float = MARGIN,
         shared: float = SHARED, unit: float = 1.0, seen=None, same_step: float = SAME_STEP) -> np.ndarray:
    """Which runs to keep: those no other run is likely to beat by more than `margin`. `seen`: the
    step each run was seen at (pairs at one step share `same_step`); a scalar means all at one step.
    `unit` scales the margin and the std floor, stated in accuracy points, to the metric's own noise
    (Metric.unit)."""
    mean = np.asarray(mean, dtype=float)
    if seen is not None:
        seen = np.broadcast_to(np.asarray(seen, dtype=float), mean.shape)
    return p_not_beaten(mean, std, margin * unit, shared, STD_FLOOR * unit, seen, same_step) >= stop_below


def p_best(mean: np.ndarray, std: np.ndarray, floor: float = STD_FLOOR) -> np.ndarray:
    """P(run i's final value is the highest), finals independent N(mean_i, std_i^2):
    the integral of pdf_i(x) * prod_{j != i} cdf_j(x) dx on one shared grid (trapezoid rule),
    all runs at once, in blocks of runs."""
    mean = np.asarray(mean, dtype=float)
    std = np.maximum(np.asarray(std, dtype=float), floor)
    if len(mean) == 1:
        return np.ones(1)
    # below the highest mean - 8 std some run is above x for sure, above the top one's + 8 std none
    # is: runs that end below that range have cdf 1 on it (no say) and P(best) 0 (skipped)
    lo, hi = np.max(mean - 8 * std), np.max(mean + 8 * std)
    grid = np.linspace(lo, hi, int(np.clip((hi - lo) / (floor / 4), 64, MAX_GRID)))
    p = np.zeros(len(mean))
    (idx,) = np.nonzero(mean + 8 * std >= lo)
    p[idx] = _p_best_on_grid(mean[idx], std[idx], grid)
    return p / p.sum()


def _p_best_on_grid(mean: np.ndarray, std: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The integral of p_best on the grid x, in blocks of runs that bound the memory."""
    step = max(1, GRID_CHUNK // len(x))
    blocks = [slice(s, s + step) for s in range(0, len(mean), step)]

    def log_cdf(b):
        return log_ndtr((x[None, :] - mean[b, None]) / std[b, None])

    log_all = sum(log_cdf(b).sum(axis=0) for b in blocks)  # log prod_j cdf_j(x)
    p = np.empty(len(mean))
    for b in blocks:
        z = (x[None, :] - mean[b, None]) / std[b, None]
        pdf = np.exp(-0.5 * z**2) / (np.sqrt(2 * np.pi) * std[b, None])
        p[b] = np.trapezoid(pdf * np.exp(log_all[None, :] - log_cdf(b)), x, axis=1)
    return p


def final_value(observed: np.ndarray, fc: Forecast) -> tuple[float, float, float]:
    """(mean, lower, upper) at the last planned epoch; exact for a finished run (no forecast)."""
    if not len(fc.mean):
        last = float(observed[-1])
        return last, last, last
    lower, upper = (fc.lower, fc.upper) if fc.lower is not None else (fc.mean, fc.mean)
    return float(fc.mean[-1]), float(lower[-1]), float(upper[-1])


def std_of(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The std of a normal whose central 80 % is [lower, upper]."""
    return (np.asarray(upper, dtype=float) - np.asarray(lower, dtype=float)) / (2 * Z80)
