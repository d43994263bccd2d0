"""The keep/stop decision replayed on finished curves and scored: every candidate seen to one cutoff
at once, forecast from a history that is none of them, kept or stopped by stop_rule.keep; scored by
Kendall tau between forecast and true finals, whether the truly best run was kept, the regret (best
final minus best kept final) and the epochs saved by stopping the others at the cutoff."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from lcpipe.forecasting.stop_rule import keep, rule_for, std_of
from lcpipe.metric import ACCURACY, Metric


def decisions(rows: list[dict], epochs: dict[str, int], metric: Metric | None = None) -> list[dict]:
    """One entry per (cutoff, predictor) from backtest rows of every candidate; `epochs` maps each
    candidate to its full length. A predictor whose rows hold no interval (poly, lstm, last_value, source_shift)
    decides nothing, as `lcpipe forecast` with it keeps every run: all kept, nothing saved (`decides` False; its
    Kendall tau still scores its ranking). Until 2026-12-06 its forecasts counted as certain to within the 0.2-point
    floor, and the report credited it with savings no live decision of it makes (review). The rows are in the
    metric's units; the rule decides in its internal space (higher is better), and the regret is in its units (the
    best final minus the best kept final, for a loss the other way)."""
    metric = metric or ACCURACY
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["cutoff"], row["predictor"])].append(row)
    out = []
    for (cutoff, predictor), members in sorted(groups.items()):
        names = [m["target"] for m in members]
        user = np.array([m["final_actual"] for m in members])
        forecast, lower, upper = metric.band_to_internal(*([m.get(k, m["final_predicted"]) for m in members]
                                                           for k in ("final_predicted", "final_lower", "final_upper")))
        actual = metric.to_internal(user)
        decides = all(m.get("final_lower") is not None for m in members)
        kept = keep(forecast, std_of(lower, upper), seen=cutoff, **rule_for(metric.kind)) if decides \
            else np.ones(len(members), dtype=bool)  # all seen at the cutoff
        best = int(actual.argmax())
        out.append({"cutoff": cutoff, "predictor": predictor, "kendall_tau": _finite(kendall_tau(forecast, actual)),
                    "kept": [n for n, k in zip(names, kept) if k], "runs_stopped": int(np.sum(~kept)),
                    "best": names[best], "best_kept": bool(kept[best]),
                    "regret": float(abs(user[best] - user[kept][actual[kept].argmax()])),
                    "epochs_saved": int(sum(epochs[n] - cutoff for n, k in zip(names, kept) if not k)),
                    "epochs_total": int(sum(epochs[n] for n in names)), "decides": decides})
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
