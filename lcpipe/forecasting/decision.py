"""The decision a forecast exists for: which runs to keep training, and which to stop.

The rule, the same live (`lcpipe forecast`) and in backtests: each run's final value is a normal
read off its forecast's 80 % interval, independent across runs; P(ends best) integrates over all
runs jointly; a run is stopped when P(ends best) < EPSILON, and the likeliest winner is always kept.

The backtest (`decisions`) replays that rule on finished curves seen to one cutoff at once, from
forecasts fitted on a history that is none of the candidates, and scores it: Kendall tau between
forecast and true finals, whether the truly best run was kept, the regret (best final minus the
best kept final), and the epochs saved by stopping the others at the cutoff.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.special import log_ndtr

from lcpipe.forecasting.predictors.base import Z80, Forecast

# Stop a run when P(ends best) falls below this. Chosen by bench/early_stopping.py on the dev
# corpus: the smallest mean regret at no more compute than successive halving (eta = 3), the
# same 0.25 whichever group is held out (with auto: 16 % of the epochs of training every run).
EPSILON = 0.25
STD_FLOOR = 0.002  # 0.2 accuracy points: no final value is known better than epoch-to-epoch jitter
MAX_GRID = 4096  # grid points of the integral: a quarter of STD_FLOOR apart unless the spread is wide
GRID_CHUNK = 2_000_000  # runs x grid points per block of the integral (~16 MB)


def p_best(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """P(run i's final value is the highest), finals independent N(mean_i, std_i^2):
    the integral of pdf_i(x) * prod_{j != i} cdf_j(x) dx on one shared grid (trapezoid rule),
    all runs at once, in blocks of runs."""
    mean = np.asarray(mean, dtype=float)
    std = np.maximum(np.asarray(std, dtype=float), STD_FLOOR)
    if len(mean) == 1:
        return np.ones(1)
    # below the highest mean - 8 std some run is above x for sure, above the top one's + 8 std none
    # is: runs that end below that range have cdf 1 on it (no say) and P(best) 0 (skipped)
    lo, hi = np.max(mean - 8 * std), np.max(mean + 8 * std)
    grid = np.linspace(lo, hi, int(np.clip((hi - lo) / (STD_FLOOR / 4), 64, MAX_GRID)))
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


def final(observed: np.ndarray, fc: Forecast) -> tuple[float, float, float]:
    """(mean, lower, upper) at the last planned epoch; exact for a finished run (no forecast)."""
    if not len(fc.mean):
        last = float(observed[-1])
        return last, last, last
    lower, upper = (fc.lower, fc.upper) if fc.lower is not None else (fc.mean, fc.mean)
    return float(fc.mean[-1]), float(lower[-1]), float(upper[-1])


def std_of(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The std of a normal whose central 80 % is [lower, upper]."""
    return (np.asarray(upper, dtype=float) - np.asarray(lower, dtype=float)) / (2 * Z80)


def keep(p: np.ndarray, epsilon: float = EPSILON) -> np.ndarray:
    """Which runs to keep: P(ends best) >= epsilon, and always the likeliest winner."""
    kept = np.asarray(p) >= epsilon
    kept[int(np.argmax(p))] = True
    return kept


def decisions(rows: list[dict], epochs: dict[str, int], epsilon: float = EPSILON) -> list[dict]:
    """One entry per (cutoff, predictor) from backtest rows of every candidate; `epochs` maps each
    candidate to its full length. Rows without an interval count as (near) certain forecasts."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["cutoff"], row["predictor"])].append(row)
    out = []
    for (cutoff, predictor), members in sorted(groups.items()):
        names = [m["target"] for m in members]
        forecast = np.array([m["final_predicted"] for m in members])
        actual = np.array([m["final_actual"] for m in members])
        lower = np.array([m.get("final_lower", m["final_predicted"]) for m in members])
        upper = np.array([m.get("final_upper", m["final_predicted"]) for m in members])
        kept = keep(p_best(forecast, std_of(lower, upper)), epsilon)
        best = int(actual.argmax())
        out.append({"cutoff": cutoff, "predictor": predictor, "kendall_tau": _finite(kendall_tau(forecast, actual)),
                    "kept": [n for n, k in zip(names, kept) if k], "best": names[best], "best_kept": bool(kept[best]),
                    "regret": float(actual.max() - actual[kept].max()),
                    "epochs_saved": int(sum(epochs[n] - cutoff for n, k in zip(names, kept) if not k)),
                    "epochs_total": int(sum(epochs[n] for n in names))})
    return out


def kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-b (ties allowed); NaN when either ranking is all ties. A handful of archs:
    the O(n^2) pair count is instant, and it spares every stage the import of scipy.stats."""
    i, j = np.triu_indices(len(a), k=1)
    da, db = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
    denom = np.sqrt(np.count_nonzero(da) * np.count_nonzero(db))
    return float(np.sum(da * db) / denom) if denom else float("nan")


def _finite(x: float) -> float | None:
    """Kendall tau is undefined (NaN) when a ranking is all ties; JSON gets null for it."""
    return None if x is None or np.isnan(x) else round(float(x), 4)


def markdown(entries: list[dict]) -> str:
    lines = ["| cutoff | predictor | Kendall τ | kept | truly best | regret (points) | epochs saved |",
             "|---|---|---|---|---|---|---|"]
    for e in entries:
        tau = "n/a" if e["kendall_tau"] is None else f"{e['kendall_tau']:.2f}"
        mark = "" if e["best_kept"] else " ✗ stopped"
        lines.append(f"| {e['cutoff']} | {e['predictor']} | {tau} | {', '.join(e['kept'])} | {e['best']}{mark} | "
                     f"{e['regret'] * 100:.2f} | {e['epochs_saved']} / {e['epochs_total']} |")
    return "\n".join(lines) + "\n"
