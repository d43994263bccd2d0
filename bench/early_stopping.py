"""Early stopping that uses the forecast, against the rules people use today, on real curves,
under the headline protocol: foreign history, leave-one-family-out.

    python bench/early_stopping.py [--predictor NAME] [--dev DIR]

Each study of the dev corpus (../shared/curves/dev/: runs of one study, one recipe, one length)
is replayed as a study whose runs all train in lockstep; the forecaster is fitted on the finished
curves of every OTHER family (MANIFEST.csv's `family`: no sibling, no rerun of the recipe, no own run
in its history), each run forecast with its own config. Policies:
- train everything;
- the median stopping rule (Golovin et al. 2017): from a grace period of a tenth of the budget,
  stop a run whose best value so far is below the median of the other runs' running means;
- successive halving on current accuracy: eta = 3, rungs at 1/27, 1/9 and 1/3 of the budget;
- lcpipe halving: the same rungs and the same number kept, ranked by forecast final value;
- lcpipe keep: at every 1/27 of the budget, stop the surviving runs that stop_rule.keep stops (some
  other survivor is likely to end above them), the one rule of `lcpipe forecast` and the pruner,
  each check at stop_rule.per_check's share of the threshold (a run is decided 26 times).
Per policy: the epochs spent (all runs together, % of training everything) and the regret (best
final accuracy of the study minus the best final accuracy among the runs trained to the end, in
points); per family and overall (mean over studies), with 95 % bootstrap CIs over studies.
Nothing is tuned: keep's thresholds are stop_rule's constants.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.args import Parser  # noqa: E402
from bench.corpus import families_of  # noqa: E402
from lcpipe.config import Params  # noqa: E402
from lcpipe.curve import Series  # noqa: E402
from lcpipe.errors import LcpipeError, exits_cleanly  # noqa: E402
from lcpipe.forecasting.live import DEFAULT_PREDICTOR, fit_on_history  # noqa: E402
from lcpipe.forecasting.logs import read_curve_dir  # noqa: E402
from lcpipe.forecasting.stop_rule import STOP_BELOW, final_value, keep, per_check, std_of  # noqa: E402

DEV = ROOT.parent / "shared" / "curves" / "dev"
if not DEV.is_dir():  # a clone outside the workspace (CI's): the corpus where the workspace keeps it (as pruners.py)
    DEV = Path("/work/shared/curves/dev")
ETA, RUNGS = 3, (1 / 27, 1 / 9, 1 / 3)
GRACE = 0.1  # median rule: no stopping in the first tenth of the budget
BOOT = 2000
POLICIES = ("train all", "median rule", "succ. halving", "lcpipe halving", "lcpipe keep")


def rungs(n: int) -> list[int]:
    return sorted({max(1, round(n * f)) for f in RUNGS})


def checks(n: int) -> list[int]:
    """Where the P(best) rule looks: every 1/27 of the budget (a forecast costs no training)."""
    return sorted({max(1, round(n * k / 27)) for k in range(1, 27)} - {n})


def train_all(acc: np.ndarray) -> np.ndarray:
    return np.full(len(acc), acc.shape[1])


def median_rule(acc: np.ndarray) -> np.ndarray:
    """Epochs trained per run under the median stopping rule, all runs in lockstep."""
    runs, n = acc.shape
    trained, active = np.full(runs, n), np.ones(runs, bool)
    running_mean = np.cumsum(acc, axis=1) / np.arange(1, n + 1)
    best_so_far = np.maximum.accumulate(acc, axis=1)
    for t in range(max(1, math.ceil(GRACE * n)), n):
        idx = np.flatnonzero(active)
        if len(idx) < 3:
            break
        means = running_mean[idx, t - 1]
        others = np.array([np.median(np.delete(means, k)) for k in range(len(idx))])
        stop = best_so_far[idx, t - 1] < others
        stop[np.argmax(best_so_far[idx, t - 1])] = False
        trained[idx[stop]] = t
        active[idx[stop]] = False
    return trained


def halving(acc: np.ndarray, score) -> np.ndarray:
    """Successive halving: at each rung keep the top 1/ETA of the survivors by score(runs, rung)."""
    n = acc.shape[1]
    trained, alive = np.full(len(acc), n), np.arange(len(acc))
    for r in rungs(n):
        kept = max(1, math.ceil(len(alive) / ETA))
        order = alive[np.argsort(-score(alive, r), kind="stable")]
        trained[order[kept:]] = r
        alive = order[:kept]
    return trained


def keep_rule(acc: np.ndarray, finals: dict[int, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """At every check, stop the survivors that stop_rule.keep stops among the survivors."""
    n = acc.shape[1]
    trained, alive = np.full(len(acc), n), np.arange(len(acc))
    below = per_check(STOP_BELOW, len(checks(n)))  # a run decided at every check: the union bound
    for r in checks(n):
        mean, std = finals[r]
        kept = keep(mean[alive], std[alive], below, seen=r)  # lockstep: every survivor seen at epoch r
        trained[alive[~kept]] = r
        alive = alive[kept]
    return trained


def regret(acc: np.ndarray, trained: np.ndarray) -> float:
    final = acc[:, -1]
    return float(final.max() - final[trained == acc.shape[1]].max())


def forecast_finals(predictor, acc: np.ndarray, configs: list[dict]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """epoch -> (forecast final mean, std) of every run seen to that epoch (every rung and check),
    one batched call each, each run with its own config."""
    n, out = acc.shape[1], {}
    for r in sorted(set(rungs(n)) | set(checks(n))):
        runs = [Series(f"run{i}", a[:r], config=c) for i, (a, c) in enumerate(zip(acc, configs))]
        fcs = predictor.forecast_many(runs, [n] * len(acc))
        finals = np.array([final_value(a[:r], fc) for a, fc in zip(acc, fcs)])  # (mean, lower, upper) per run
        out[r] = (finals[:, 0], std_of(finals[:, 1], finals[:, 2]))
    return out


def replay(studies: dict[str, list], families: dict[str, str], predictor: str) -> dict:
    """study -> policy -> (epochs spent, epochs of training all, regret in points)."""
    results = {}
    for name, curves in studies.items():
        acc = np.stack([c.metric("test_acc") for c in curves])
        history = [c for g, cs in studies.items() if families[g] != families[name] for c in cs]
        model = fit_on_history(predictor, Params(), history, [])
        finals = forecast_finals(model, acc, [c.config for c in curves])
        policies = {
            "train all": train_all(acc),
            "median rule": median_rule(acc),
            "succ. halving": halving(acc, lambda runs, r, acc=acc: acc[runs, r - 1]),
            "lcpipe halving": halving(acc, lambda runs, r, finals=finals: finals[r][0][runs]),
            "lcpipe keep": keep_rule(acc, finals),
        }
        results[name] = {p: (int(t.sum()), int(acc.size), 100 * regret(acc, t)) for p, t in policies.items()}
        print(f"  replayed {name}", file=sys.stderr, flush=True)
    return results


def cis(rows: list[dict], policy: str) -> str:
    """compute % (sum over studies) and mean regret, each with a 95 % bootstrap CI over studies."""
    spent = np.array([r[policy][0] for r in rows], float)
    total = np.array([r[policy][1] for r in rows], float)
    reg = np.array([r[policy][2] for r in rows], float)
    idx = np.random.default_rng(0).integers(0, len(rows), size=(BOOT, len(rows)))
    c = 100 * spent[idx].sum(axis=1) / total[idx].sum(axis=1)
    g = reg[idx].mean(axis=1)
    return (f"{100 * spent.sum() / total.sum():5.1f} [{np.percentile(c, 2.5):5.1f},{np.percentile(c, 97.5):5.1f}] "
            f"{reg.mean():5.2f} [{np.percentile(g, 2.5):5.2f},{np.percentile(g, 97.5):5.2f}]")


def table(results: dict, families: dict[str, str]) -> str:
    width = max(len(f) for f in [*families.values(), "overall (mean over studies)"])
    lines = [f"{'family':<{width}} {'studies':>7}  " + "  ".join(f"{p:>34}" for p in POLICIES),
             f"{'':<{width}} {'':>7}  " + "  ".join(f"{'epochs % [CI]   regret [CI]':>34}" for _ in POLICIES)]
    for fam in sorted(set(families.values())):
        rows = [r for g, r in results.items() if families[g] == fam]
        lines.append(f"{fam:<{width}} {len(rows):>7}  " + "  ".join(f"{cis(rows, p):>34}" for p in POLICIES))
    rows = list(results.values())
    lines.append(f"{'overall (mean over studies)':<{width}} {len(rows):>7}  "
                 + "  ".join(f"{cis(rows, p):>34}" for p in POLICIES))
    return "\n".join(lines)


@exits_cleanly
def main() -> None:
    ap = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--predictor", default=DEFAULT_PREDICTOR)
    ap.add_argument("--dev", type=Path, default=DEV, help="folder of study folders (with MANIFEST.csv)")
    args = ap.parse_args()
    if args.predictor == "lstm":  # its window of epochs is more than successive halving's first rung (epoch 1)
        ap.error("--predictor lstm: the LSTM forecasts from at least features.window + 1 epochs, and this bench "
                 "decides from epoch 1 on; choose auto, poly, parametric, source_shift or last_value")
    if not args.dev.is_dir():
        raise LcpipeError(f"--dev {args.dev}: not a directory of study folders")
    studies = {g.name: read_curve_dir(g) for g in sorted(args.dev.iterdir()) if g.is_dir()}
    families = families_of([args.dev], studies)
    results = replay(studies, families, args.predictor)
    print(f"Early stopping, predictor {args.predictor}, headline protocol (history: every other family's finished "
          "curves): epochs spent (% of training every run) and regret (accuracy points), 95 % bootstrap CIs over "
          "studies")
    print(table(results, families))
    for p in ("lcpipe halving", "lcpipe keep"):
        wins = sum(r[p][2] < r["succ. halving"][2] and r[p][0] <= r["succ. halving"][0] for r in results.values())
        ties = sum(r[p][2] == r["succ. halving"][2] and r[p][0] <= r["succ. halving"][0] for r in results.values())
        print(f"{p}: lower regret than successive halving at equal or lower compute on {wins} of {len(results)} "
              f"studies, equal regret at equal or lower compute on {ties}")


if __name__ == "__main__":
    main()
