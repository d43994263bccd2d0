"""The decision a forecast exists for: at a cutoff, which arch to keep training.

From leave-one-out rows (every arch held out in turn, see backtest.leave_one_out), rank the
archs by forecast final accuracy and compare with the true ranking: Kendall tau, whether the
truly best arch is the one picked, and the epochs saved by stopping all the others at the cutoff.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


def decisions(rows: list[dict], epochs: dict[str, int]) -> list[dict]:
    """One entry per (cutoff, predictor); `epochs` maps each target to its full length."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["cutoff"], row["predictor"])].append(row)
    out = []
    for (cutoff, predictor), members in sorted(groups.items()):
        names = [m["target"] for m in members]
        forecast = np.array([m["final_predicted"] for m in members])
        actual = np.array([m["final_actual"] for m in members])
        picked, best = names[int(forecast.argmax())], names[int(actual.argmax())]
        tau = kendall_tau(forecast, actual)
        saved = sum(epochs[n] - cutoff for n in names if n != picked)
        out.append({"cutoff": cutoff, "predictor": predictor, "kendall_tau": _finite(tau),
                    "picked": picked, "best": best, "picked_best": picked == best,
                    "regret": float(actual.max() - actual[names.index(picked)]),
                    "epochs_saved": int(saved), "epochs_total": int(sum(epochs[n] for n in names))})
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
    lines = ["| cutoff | predictor | Kendall τ | picked | truly best | regret (points) | epochs saved |",
             "|---|---|---|---|---|---|---|"]
    for e in entries:
        tau = "n/a" if e["kendall_tau"] is None else f"{e['kendall_tau']:.2f}"
        mark = "" if e["picked_best"] else " ✗"
        lines.append(f"| {e['cutoff']} | {e['predictor']} | {tau} | {e['picked']}{mark} | {e['best']} | "
                     f"{e['regret'] * 100:.2f} | {e['epochs_saved']} / {e['epochs_total']} |")
    return "\n".join(lines) + "\n"
