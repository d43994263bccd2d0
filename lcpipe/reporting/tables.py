"""Tables the stages and commands write: markdown for people (sweep, decisions) and long-format
CSV for dvc.yaml's native plots (templates in .dvc/plots/) and for the predict stage's output.
CSVs go through pandas, floats at full precision, so equal numbers give identical bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lcpipe.atomic import atomic_path
from lcpipe.forecasting.predictors.base import Forecast
from lcpipe.forecasting.scores import mean_by


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    """`frame` as CSV at `path`, atomically; blanks for NaN."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format=repr_float, lineterminator="\n")


def repr_float(x: float) -> str:
    return repr(float(x))


def prediction_frame(actual: np.ndarray, cutoff: int, fc: Forecast) -> pd.DataFrame:
    """The predict stage's file: `epoch,actual,predicted` (+ `lower,upper`), epochs after the cutoff."""
    table = {"epoch": np.arange(cutoff + 1, len(actual) + 1), "actual": actual[cutoff:], "predicted": fc.mean}
    if fc.lower is not None:
        table.update(lower=fc.lower, upper=fc.upper)
    return pd.DataFrame(table)


def forecast_frame(actual: np.ndarray, cutoff: int, forecasts: dict[str, Forecast]) -> pd.DataFrame:
    """Fig. 1-2 as data for .dvc/plots/forecast.json: `epoch,series,kind,value,lower,upper`, one
    row per epoch of the observed prefix, of the actual curve, and of each predictor's forecast."""
    parts = [pd.DataFrame({"epoch": np.arange(1, cutoff + 1), "series": "observed", "kind": "observed",
                           "value": actual[:cutoff]}),
             pd.DataFrame({"epoch": np.arange(1, len(actual) + 1), "series": "actual", "kind": "actual",
                           "value": actual})]
    for name, fc in forecasts.items():
        parts.append(pd.DataFrame({"epoch": np.arange(cutoff + 1, cutoff + 1 + len(fc.mean)), "series": name,
                                   "kind": "forecast", "value": fc.mean,
                                   "lower": fc.lower if fc.lower is not None else np.nan,
                                   "upper": fc.upper if fc.upper is not None else np.nan}))
    return pd.concat(parts, ignore_index=True).reindex(columns=["epoch", "series", "kind", "value", "lower", "upper"])


def sweep_frame(means: list[dict]) -> pd.DataFrame:
    """RMSE/MAE against the cutoff as data (`cutoff,predictor,rmse,mae`) for .dvc/plots/rmse_cutoff.json."""
    frame = pd.DataFrame(means, columns=["cutoff", "predictor", "rmse", "mae"])
    return frame.sort_values(["predictor", "cutoff"], kind="stable")


def small_multiples_frame(actual: np.ndarray, forecasts: dict[tuple[str, int], Forecast]) -> pd.DataFrame:
    """The small multiples as data for .dvc/plots/small_multiples.json:
    `predictor,cutoff,epoch,actual,predicted,lower,upper`, every epoch of every panel."""
    parts = []
    n = len(actual)
    for (name, cutoff), fc in forecasts.items():
        pad = np.full(cutoff, np.nan)
        band = (fc.lower, fc.upper) if fc.lower is not None else (np.full(n - cutoff, np.nan),) * 2
        parts.append(pd.DataFrame({"predictor": name, "cutoff": cutoff, "epoch": np.arange(1, n + 1),
                                   "actual": actual, "predicted": np.r_[pad, fc.mean],
                                   "lower": np.r_[pad, band[0]], "upper": np.r_[pad, band[1]]}))
    return pd.concat(parts, ignore_index=True)


def markdown_table(rows: list[dict], score: str = "rmse", percent: bool = True) -> str:
    """Mean `score` in accuracy points (percent) or in the metric's own units: one row per cutoff,
    one column per predictor."""
    means = mean_by(rows)
    cutoffs = sorted({r["cutoff"] for r in means})
    names = list(dict.fromkeys(r["predictor"] for r in means))
    cell = {(r["cutoff"], r["predictor"]): r[score] for r in means}
    lines = [f"| cutoff | {' | '.join(names)} |", "|---" * (len(names) + 1) + "|"]
    for c in cutoffs:
        best = min(cell[(c, n)] for n in names)
        shown = {n: f"{cell[(c, n)] * 100:.2f}" if percent else f"{cell[(c, n)]:.4g}" for n in names}
        vals = [f"**{shown[n]}**" if cell[(c, n)] == best else shown[n] for n in names]
        lines.append(f"| {c} | {' | '.join(vals)} |")
    return "\n".join(lines) + "\n"


def decision_markdown(entries: list[dict], percent: bool = True, saved: str = "epochs", metric: str = "") -> str:
    """The decision table; `saved`: what a curve's points count ("evaluations" on a step axis, where the cutoff
    and the lengths count evaluations, not epochs); `metric`: the name a regret not in accuracy points is in."""
    unit = "points" if percent else metric or "units"
    lines = [f"| cutoff | predictor | Kendall τ | kept | truly best | regret ({unit}) | {saved} saved |",
             "|---|---|---|---|---|---|---|"]
    for e in entries:
        tau = "n/a" if e["kendall_tau"] is None else f"{e['kendall_tau']:.2f}"
        mark = "" if e["best_kept"] else " ✗ stopped"
        regret = f"{e['regret'] * 100:.2f}" if percent else f"{e['regret']:.4g}"
        kept = ", ".join(e["kept"]) if e.get("decides", True) else "all (no interval: decides nothing)"
        lines.append(f"| {e['cutoff']} | {e['predictor']} | {tau} | {kept} | {e['best']}{mark} | "
                     f"{regret} | {e['epochs_saved']} / {e['epochs_total']} |")
    return "\n".join(lines) + "\n"
