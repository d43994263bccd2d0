"""Forecast quality under a protocol that cannot flatter: leave-one-group-out.

    python bench/forecast_quality.py [--quick] [--corpus DIR ...] [--predictors a,b,...]

The corpus is groups of curves (one folder each: runs of one study, one recipe). Inside a group,
each curve in turn is the target, forecast from its first `cutoff` epochs by predictors fitted on
the group's other curves (the paper's leave-one-out). The settings in GRIDS (all of `auto`'s, and
parametric's and poly's) are chosen for each group on the *other* groups only, so nothing is tuned
on the group it is scored on; the LSTM runs at params.yaml's values, which were not tuned on this
corpus. References: last_value, source_shift and pow3 (a 3-parameter power law).

Scores: RMSE and MAE over the forecast epochs (mean over curves), Kendall tau of the group's runs
ranked by forecast final value and regret (accuracy points lost by keeping the top-forecast run;
both mean over groups), and the share of actual points inside the 80 % interval. A cutoff at or
past a curve's end skips that curve, counted. Last line: the default predictor's RMSE over the
best reference's at each cutoff.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lcpipe.config import Params  # noqa: E402
from lcpipe.curve import Curve  # noqa: E402
from lcpipe.errors import LcpipeError, exits_cleanly  # noqa: E402
from lcpipe.forecasting.backtest import backtest  # noqa: E402
from lcpipe.forecasting.decision_scores import kendall_tau  # noqa: E402
from lcpipe.forecasting.logs import read_curve_dir  # noqa: E402
from lcpipe.forecasting.registry import PREDICTORS  # noqa: E402

CORPUS = [ROOT.parent / "shared" / "curves" / "dev", ROOT.parent / "shared" / "curves" / "cifar10-plain-vs-resnet"]
CUTOFFS = (5, 10, 20, 40)
DEFAULT = "auto"
REFERENCES = ("last_value", "source_shift", "pow3")
# The settings chosen leave-one-group-out, per predictor; the LSTM's fit (minutes per pass over
# the corpus) is too slow to search, so it runs at params.yaml's values, as does what is not here.
GRIDS = {"auto": {"recency": (2.0, 5.0, 10.0), "similarity": (0.5, 2.0, 8.0), "smooth": (1, 5, 9)},
         "parametric": {"prior_weight": (0.0, 3.0)},
         "poly": {"degree": (1, 2, 3), "fit_on": ("prefix", "pooled")}}
SCALES = tuple(np.round(np.arange(0.5, 2.01, 0.05), 2))
QUICK = {"groups": 4, "cutoffs": (10, 20), "predictors": ("auto", "last_value", "source_shift")}


def groups_of(dirs: list[Path], metric: str) -> dict[str, list[Curve]]:
    """Group name -> its curves; a folder holding CSVs is a group, subfolders too."""
    return {folder.name: read_curve_dir(folder, metric)
            for top in dirs for folder in sorted({p.parent for p in top.rglob("*.csv") if p.name != "MANIFEST.csv"})}


def with_settings(name: str, params: Params, settings: dict) -> tuple[str, Params]:
    """The registered predictor and params that run `name` with `settings` replacing its section's
    values; the reference pow3 is the parametric ensemble reduced to that one family, prior off."""
    if name == "pow3":
        name, settings = "parametric", {"families": ["pow3"], "prior_weight": 0.0}
    if settings:
        params = replace(params, **{name: replace(getattr(params, name), **settings)})
    return name, params


def backtest_group(group: str, curves: list[Curve], name: str, params: Params, cutoffs, history,
                   settings) -> list[dict]:
    """lcpipe's own backtest (what `lcpipe evaluate` runs) on one group: each curve forecast from
    the group's other curves, or from `history` when given, at the cutoffs inside it; one row per
    (target, cutoff) with the forecast itself."""
    registered, params = with_settings(name, params, settings)
    actual = {c.name: c.metric(params.features.metric) for c in curves}
    rows = []

    def keep(target, cutoff, _predictor, fc):
        rows.append({"group": group, "target": target, "cutoff": cutoff, "actual": actual[target][cutoff:],
                     "mean": fc.mean, "lower": fc.lower, "upper": fc.upper})

    for target in curves:
        fitting = [c for c in cutoffs if c < len(target)]
        if fitting:
            backtest(curves, fitting, [registered], params, history=history, targets=[target.name], on_forecast=keep)
    return rows


def one_thread() -> None:
    """Worker start-up, before torch is imported there: one process per core, one thread each, or
    the LSTM's small matrix ops oversubscribe the cores (measured: fits 7x slower on 2 cores)."""
    os.environ["OMP_NUM_THREADS"] = "1"


def backtest_all(groups, name, params, cutoffs, history=None, **settings) -> list[dict]:
    """backtest_group over every group, the groups spread over one process per core."""
    with ProcessPoolExecutor(max_workers=os.cpu_count(), initializer=one_thread) as pool:
        jobs = [pool.submit(backtest_group, g, curves, name, params, cutoffs, (history or {}).get(g), settings)
                for g, curves in groups.items()]
        return [row for job in jobs for row in job.result()]


def scaled(row: dict, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The row's band with its half-widths multiplied by `scale`."""
    m = row["mean"]
    return m - scale * (m - row["lower"]), m + scale * (row["upper"] - m)


def coverage(rows: list[dict], scale: float = 1.0) -> float:
    inside = [np.mean((r["actual"] >= lo) & (r["actual"] <= hi)) for r in rows if r["lower"] is not None
              for lo, hi in [scaled(r, scale)]]
    return float(np.mean(inside)) if inside else float("nan")


def rmse(r: dict) -> float:
    return float(np.sqrt(np.mean((r["actual"] - r["mean"]) ** 2)))


def summarise(rows: list[dict], cutoff: int) -> dict:
    """RMSE/MAE/coverage over curves, tau/regret over groups, at one cutoff; accuracy points."""
    rows = [r for r in rows if r["cutoff"] == cutoff]
    taus, regrets = [], []
    for group in dict.fromkeys(r["group"] for r in rows):
        members = [r for r in rows if r["group"] == group]
        final = np.array([r["mean"][-1] for r in members])
        actual = np.array([r["actual"][-1] for r in members])
        if len(members) > 1:
            taus.append(kendall_tau(final, actual))
            regrets.append(100 * (actual.max() - actual[final.argmax()]))
    return {"rmse": 100 * np.mean([rmse(r) for r in rows]),
            "mae": 100 * np.mean([np.mean(np.abs(r["actual"] - r["mean"])) for r in rows]),
            "tau": float(np.nanmean(taus)), "regret": float(np.mean(regrets)), "cov80": coverage(rows),
            "n": len(rows)}


def choose_setting(results: dict, groups: list[str], calibrate: bool) -> tuple[list[dict], dict]:
    """For each group, the setting with the lowest RMSE on the other groups and, with `calibrate`,
    the band scale (interval_scale) whose coverage there is closest to 80 %; returns the scored
    rows and the setting per group."""
    scored, chosen = [], {}
    for group in groups:
        def others(rows, g=group):
            return [r for r in rows if r["group"] != g]
        setting = min(results, key=lambda s: np.mean([rmse(r) for r in others(results[s])]))
        scale = min(SCALES, key=lambda s: abs(coverage(others(results[setting]), s) - 0.8)) if calibrate else 1.0
        chosen[group] = {**dict(setting), **({"interval_scale": float(scale)} if calibrate else {})}
        for r in results[setting]:
            if r["group"] == group:
                lo, hi = scaled(r, scale) if calibrate else (r["lower"], r["upper"])
                scored.append({**r, "lower": lo, "upper": hi})
    return scored, chosen


def other_lengths(groups, params, cutoffs, in_group: dict) -> str:
    """`auto` at params.yaml's settings with a history of the *other* groups only (other lengths,
    recipes and datasets, put on normalised time) against its in-group leave-one-out score."""
    history = {g: [c for o, curves in groups.items() if o != g for c in curves] for g in groups}
    rows = backtest_all(groups, DEFAULT, params, cutoffs, history=history)
    cells = [f"c{c}: RMSE {s['rmse']:.2f} (in-group {in_group[c]['rmse']:.2f}) tau {s['tau']:.2f} "
             f"regret {s['regret']:.2f} cov80 {s['cov80']:.2f}" for c in cutoffs for s in [summarise(rows, c)]]
    return f"{DEFAULT} from the other groups only (history of other lengths): " + " | ".join(cells)


def table(title: str, summaries: dict[str, dict], cutoffs) -> str:
    lines = [title, f"{'predictor':14s} " + " ".join(f"{'c' + str(c) + ' RMSE':>9s} {'MAE':>5s} {'tau':>5s} "
                                                    f"{'regret':>6s} {'cov80':>5s}" for c in cutoffs)]
    for name, s in summaries.items():
        lines.append(f"{name:14s} " + " ".join(f"{s[c]['rmse']:9.2f} {s[c]['mae']:5.2f} {s[c]['tau']:5.2f} "
                                               f"{s[c]['regret']:6.2f} {s[c]['cov80']:5.2f}" for c in cutoffs))
    return "\n".join(lines)


@exits_cleanly
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="4 groups, cutoffs 10 and 20, auto and references (tests)")
    ap.add_argument("--corpus", type=Path, nargs="+", default=CORPUS)
    ap.add_argument("--predictors", default=",".join(dict.fromkeys([*PREDICTORS, *REFERENCES])))
    args = ap.parse_args()
    start = time.perf_counter()
    params = Params()
    groups = groups_of(args.corpus, params.features.metric)
    cutoffs, names = CUTOFFS, [n for n in dict.fromkeys(args.predictors.split(",")) if n]
    if args.quick:
        groups = dict(list(groups.items())[:: max(1, len(groups) // QUICK["groups"])][: QUICK["groups"]])
        cutoffs, names = QUICK["cutoffs"], list(QUICK["predictors"])
    if len(groups) < 2:
        raise LcpipeError(f"leave-one-group-out needs at least two groups (folders of curves); "
                          f"{' '.join(map(str, args.corpus))} holds {len(groups)}")
    print(f"{sum(map(len, groups.values()))} curves in {len(groups)} groups; cutoffs {list(cutoffs)}",
          file=sys.stderr)
    chosen: dict = {}
    skipped = sum(c >= len(curve) for curves in groups.values() for curve in curves for c in cutoffs)
    results = {}
    for name in names:
        print(f"backtesting {name} ({time.perf_counter() - start:.0f} s so far) ...", file=sys.stderr, flush=True)
        if name in GRIDS:
            calibrate = "interval_scale" in {f.name for f in fields(getattr(params, name))}
            grid = GRIDS[name]
            runs = {tuple(zip(grid, values)): backtest_all(groups, name, params, cutoffs, **dict(zip(grid, values)),
                                                       **({"interval_scale": 1.0} if calibrate else {}))
                    for values in itertools.product(*grid.values())}
            results[name], chosen[name] = choose_setting(runs, list(groups), calibrate)
        else:
            results[name] = backtest_all(groups, name, params, cutoffs)
    summaries = {n: {c: summarise(rows, c) for c in cutoffs} for n, rows in results.items()}
    print(table("## all groups (RMSE, MAE, regret in accuracy points; tau and cov80 as fractions)",
                summaries, cutoffs))
    print("\n## per group: RMSE / tau / regret / cov80 of", DEFAULT, "and the best reference at each cutoff")
    refs = [r for r in REFERENCES if r in results]
    for group in groups:
        cells = []
        for c in cutoffs:
            rows = {n: [r for r in results[n] if r["group"] == group] for n in [DEFAULT, *refs] if n in results}
            if not rows.get(DEFAULT) or not any(r["cutoff"] == c for r in rows[DEFAULT]):
                cells.append(f"c{c}: skipped")
                continue
            s = {n: summarise(v, c) for n, v in rows.items()}
            best = min(refs, key=lambda n: s[n]["rmse"]) if refs else DEFAULT
            d = s[DEFAULT]
            cells.append(f"c{c}: {d['rmse']:.2f}/{d['tau']:+.2f}/{d['regret']:.2f}/{d['cov80']:.2f} "
                         f"vs {best} {s[best]['rmse']:.2f}/{s[best]['tau']:+.2f}")
        print(f"{group:40s} " + " | ".join(cells))
    print()
    for name, per_group in chosen.items():
        counts = Counter(tuple(v.items()) for v in per_group.values())
        print(f"{name} settings chosen leave-one-group-out: "
              + "; ".join(f"{dict(s)} for {n} group(s)" for s, n in counts.most_common()))
    print(f"skipped (cutoff at or past the curve's end): {skipped} (target, cutoff) pairs of each predictor")
    if DEFAULT in results and not args.quick:
        print(other_lengths(groups, params, cutoffs, summaries[DEFAULT]))
    print(f"elapsed {time.perf_counter() - start:.0f} s", file=sys.stderr)
    if DEFAULT in results and refs:
        ratios = [summaries[DEFAULT][c]["rmse"] / min(summaries[r][c]["rmse"] for r in refs) for c in cutoffs]
        print("default vs best reference: " + " ".join(f"{r:.2f}" for r in ratios))


if __name__ == "__main__":
    main()
