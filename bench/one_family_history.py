"""A history of one other family: each dev family's studies forecast from each other family's curves alone.

    python bench/one_family_history.py [--corpus DIR] [--metric test_acc] [--percent] [--factors 1,2,3]

A team's first history is often one earlier project: one dataset, one recipe (or a few archs). `auto` calibrates its
final band on that history's own held-out errors, which are errors within one dataset; a run of another dataset errs
as a foreign family's does. This bench measures how far: every (target family, history family) pair of the corpus,
each target study's runs seen at the cutoffs (points, or percent of each run with --percent) and forecast from the
history family's finished curves, as bench/forecast_quality.py's backtest does. It reports, over the runs `auto`
reads as strangers to their history (auto._stranger: the history states one dataset and the run another, or one
recipe and the run another arch of it), the final 80 % band's coverage at each factor in --factors (auto's
FOREIGN_RECIPE or FOREIGN_RECIPE_SERIES, set in the workers), the factor each family would get chosen without it
(the one closest to 80 % on the pairs that involve neither it as the target nor as the history), its coverage
there, and what the library's stop rule stops and loses at factor 1 (before) and at the library's factor. Its
last line: `one family as history: cov80 ... at factor F (library), ... at 1 | held out: picks ...`.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import forecast_quality as fq  # noqa: E402  (the bench's own backtest, run as a script from the repository root)
from args import Parser  # noqa: E402
from corpus import families_of  # noqa: E402

from lcpipe.config import Params  # noqa: E402
from lcpipe.forecasting.predictors import auto as auto_module  # noqa: E402
from lcpipe.metric import Metric  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "curves" / "dev"
TARGET = 0.8


def _factor_job(args: tuple) -> list[dict]:
    """One (target study, history family) pair at one factor, in a worker of one thread."""
    study, curves, history, cutoffs, metric, percent, factor, params = args
    os.environ["OMP_NUM_THREADS"] = "1"
    setattr(auto_module, "FOREIGN_RECIPE" if metric.bounded else "FOREIGN_RECIPE_SERIES", factor)
    fq.METRIC[0], fq.PERCENT[0] = metric, percent
    return fq.backtest_group(study, curves, "auto", params, cutoffs if percent else fq.study_cutoffs(cutoffs, curves),
                             history, {}, metric, percent)


def stranger(target: dict, recipes: set) -> bool:
    """As auto reads a run against a history of one dataset (`recipes`: auto.one_dataset_recipes of its configs)."""
    return bool(recipes) and auto_module._stranger(auto_module._plain_recipe(target), recipes)


def main() -> None:
    ap = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--metric", default="test_acc")
    ap.add_argument("--mode", default="auto", choices=("min", "max", "auto"))
    ap.add_argument("--percent", action="store_true", help="cutoffs in percent of each run (10, 20, 40)")
    ap.add_argument("--factors", default=None, metavar="F,...",
                    help="the factors measured (default 1,2,2.5,3,3.5,4 for an accuracy, 1,4,6,7,8,10 otherwise)")
    a = ap.parse_args()
    start = time.perf_counter()
    metric = Metric.infer(a.metric, a.mode)
    groups = fq.groups_of([a.corpus], metric)
    metric = metric.with_scale([c.metric(a.metric) for curves in groups.values() for c in curves])
    library = auto_module.FOREIGN_RECIPE if metric.bounded else auto_module.FOREIGN_RECIPE_SERIES
    default = "1,2,2.5,3,3.5,4" if metric.bounded else "1,4,6,7,8,10"
    try:
        factors = sorted({float(x) for x in (a.factors or default).split(",")} | {1.0, library})
    except ValueError:
        ap.error(f"--factors {a.factors!r}: numbers separated by commas, e.g. {default}")
    if min(factors) <= 0:
        ap.error(f"--factors {a.factors!r}: each above 0")
    cutoffs = fq.PERCENT_CUTOFFS if a.percent else fq.CUTOFFS
    params = replace(Params(), features=replace(Params().features, metric=a.metric))
    family = families_of([a.corpus], groups)
    families = sorted(set(family.values()))
    configs = collections.defaultdict(list)
    for g, curves in groups.items():
        configs[family[g]] += [c.config or {} for c in curves]
    recipes = {f: auto_module.one_dataset_recipes(cs) for f, cs in configs.items()}
    print(metric.describe(), file=sys.stderr)
    pairs = [(g, h) for g in groups for h in families if h != family[g]]
    rows: dict[float, list[dict]] = {}
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        for factor in factors:
            jobs = [(g, groups[g], [c for o, cs in groups.items() if family[o] == h for c in cs], cutoffs, metric,
                     a.percent, factor, params) for g, h in pairs]
            out = []
            for (g, h), got in zip(pairs, pool.map(_factor_job, jobs, chunksize=4)):
                targets = {c.name: c.config or {} for c in groups[g]}
                out += [{**r, "target_family": family[g], "history": h, "in": r["lower"] <= r["actual"] <= r["upper"]}
                        for r in got if stranger(targets[r["target"]], recipes[h])]
            rows[factor] = out
            print(f"factor {factor:g}: {len(jobs)} (study, history family) pairs ({time.perf_counter() - start:.0f} s)",
                  file=sys.stderr, flush=True)
    cuts = sorted({r["cutoff"] for r in rows[1.0]})
    unit = "% of each run" if a.percent else "points"

    def coverage(rs: list[dict]) -> str:
        return " ".join(f"{np.mean([r['in'] for r in rs if r['cutoff'] == c]):.2f}" for c in cuts)

    print(f"## {len(rows[1.0])} forecasts of runs foreign to their one-family history ({len(families)} families, each "
          f"study forecast from each other family alone; cutoffs {cuts} {unit}): final cov80 per cutoff")
    for factor in factors:
        print(f"  factor {factor:g}{' (library)' if factor == library else ''}: {coverage(rows[factor])}")
    picks, held = [], []
    for f in families:  # chosen on the pairs that involve neither f as the target nor as the history (3 families on)
        without = {x: [r["in"] for r in rows[x] if f not in (r["target_family"], r["history"])] for x in factors}
        if not without[1.0]:
            continue
        pick = min(factors, key=lambda x: abs(np.mean(without[x]) - TARGET))
        picks.append(pick)
        held += [r for r in rows[pick] if r["target_family"] == f]
    chosen = ", ".join(f"{k:g} by {v} of {len(families)}" for k, v in collections.Counter(picks).most_common())
    held_out = coverage(held) if held else "n/a (one family held out leaves no pair to choose on: give 3 or more)"
    print(f"  each family at the factor chosen without it (closest to 80 % on the pairs without it): {held_out}"
          f"{f' (picks: {chosen})' if held else ''}")
    print("## the library's stop rule on those studies (each study's runs that are strangers to the history): "
          "share stopped / kept-set regret (points; a loss: % of it), mean over (study, history) pairs")
    fq.METRIC[0] = metric
    for factor in sorted({1.0, library}):
        by = collections.defaultdict(list)
        for r in rows[factor]:
            by[(r["group"], r["history"], r["cutoff"])].append(r)
        scores = collections.defaultdict(list)
        for (_, _, c), members in by.items():
            if len(members) > 1:
                s = fq.study_scores(members)
                scores[c].append((s["stopped"], s["keep_regret"]))
        line = " | ".join(f"{c}: {np.mean([x for x, _ in v]):.2f} / {np.mean([y for _, y in v]):.2f}"
                          for c, v in sorted(scores.items()))
        print(f"  factor {factor:g}{' (library)' if factor == library else ' (before)'}: {line}")
    print(f"# {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(f"one family as history: cov80 {coverage(rows[library])} at factor {library:g} (library), "
          f"{coverage(rows[1.0])} at 1 | held out: {coverage(held) if held else 'n/a'}")


if __name__ == "__main__":
    main()
