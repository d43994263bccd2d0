"""Early stopping that uses the forecast, against the rules people use today, on real curves.

    python bench/early_stopping.py [--predictor NAME] [--plot early_stopping.png]

Each group of the dev corpus (../shared/curves/dev/: runs of one study, one recipe, one length)
is replayed as a study whose runs all train in lockstep; the forecaster is fitted on the other
groups only (its history never holds the study's own runs). Policies:
- train everything;
- the median stopping rule (Golovin et al. 2017): from a grace period of a tenth of the budget,
  stop a run whose best value so far is below the median of the other runs' running means;
- successive halving on current accuracy: eta = 3, rungs at 1/27, 1/9 and 1/3 of the budget;
- lcpipe halving: the same rungs and the same number kept, ranked by forecast final value;
- lcpipe P(best) < eps: at the same rungs, stop every run whose P(ends best) < eps (decision.py).
Per policy: the epochs spent (all runs together, % of training everything) and the regret (best
final accuracy of the study minus the best final accuracy among the runs trained to the end, in
points). eps is swept; "lcpipe eps*" takes for each group the eps chosen on the other groups (the
smallest mean regret at no more compute than successive halving there), so no group tunes its
own eps. The last lines say on how many groups lcpipe beats successive halving.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lcpipe.atomic import atomic_path  # noqa: E402
from lcpipe.config import Params  # noqa: E402
from lcpipe.errors import LcpipeError, exits_cleanly  # noqa: E402
from lcpipe.forecasting.features import Series  # noqa: E402
from lcpipe.forecasting.live import DEFAULT_PREDICTOR, fit_on_history  # noqa: E402
from lcpipe.forecasting.logs import read_curve_dir  # noqa: E402
from lcpipe.forecasting.stop_rule import final, keep, p_best, std_of  # noqa: E402

DEV = ROOT.parent / "shared" / "curves" / "dev"
ETA, RUNGS = 3, (1 / 27, 1 / 9, 1 / 3)
EPSILONS = (0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
GRACE = 0.1  # median rule: no stopping in the first tenth of the budget


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


def p_best_rule(acc: np.ndarray, finals: dict[int, tuple[np.ndarray, np.ndarray]], eps: float) -> np.ndarray:
    """At every check, stop the surviving runs whose P(ends best) among the survivors < eps."""
    n = acc.shape[1]
    trained, alive = np.full(len(acc), n), np.arange(len(acc))
    for r in checks(n):
        mean, std = finals[r]
        kept = keep(p_best(mean[alive], std[alive]), eps)
        trained[alive[~kept]] = r
        alive = alive[kept]
    return trained


def regret(acc: np.ndarray, trained: np.ndarray) -> float:
    final = acc[:, -1]
    return float(final.max() - final[trained == acc.shape[1]].max())


def forecast_finals(predictor, acc: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """epoch -> (forecast final mean, std) of every run seen to that epoch (every rung and check),
    one batched call each."""
    n, out = acc.shape[1], {}
    for r in sorted(set(rungs(n)) | set(checks(n))):
        fcs = predictor.forecast_many([Series(f"run{i}", a[:r]) for i, a in enumerate(acc)], [n] * len(acc))
        finals = np.array([final(a[:r], fc) for a, fc in zip(acc, fcs)])  # (mean, lower, upper) per run
        out[r] = (finals[:, 0], std_of(finals[:, 1], finals[:, 2]))
    return out


def replay(groups: dict[str, np.ndarray], history: dict[str, list], predictor: str) -> dict:
    """group -> policy -> (epochs spent, regret)."""
    results = {}
    for name, acc in groups.items():
        model = fit_on_history(predictor, Params(), [c for g, cs in history.items() if g != name for c in cs], [])
        finals = forecast_finals(model, acc)
        policies = {
            "train all": train_all(acc),
            "median rule": median_rule(acc),
            "succ. halving": halving(acc, lambda runs, r, acc=acc: acc[runs, r - 1]),
            "lcpipe halving": halving(acc, lambda runs, r, finals=finals: finals[r][0][runs]),
            **{f"lcpipe eps={eps:g}": p_best_rule(acc, finals, eps) for eps in EPSILONS},
        }
        results[name] = {p: (int(t.sum()), regret(acc, t)) for p, t in policies.items()}
        print(f"  replayed {name}", file=sys.stderr, flush=True)
    return results


def choose_eps(results: dict, groups: list[str]) -> float:
    """The eps with the smallest mean regret over `groups` among those that spend no more epochs
    than successive halving there (the cheapest eps when none does)."""
    def spent(eps):
        return sum(results[g][f"lcpipe eps={eps:g}"][0] for g in groups)

    def mean_regret(eps):
        return np.mean([results[g][f"lcpipe eps={eps:g}"][1] for g in groups])

    budget = sum(results[g]["succ. halving"][0] for g in groups)
    affordable = [e for e in EPSILONS if spent(e) <= budget] or [max(EPSILONS)]
    return min(affordable, key=lambda e: (mean_regret(e), spent(e)))


def table(results: dict, policies: list[str]) -> str:
    width = max(len(g) for g in results)
    head = f"{'group':<{width}}  " + "  ".join(f"{p:>18}" for p in policies)
    lines = [head, f"{'':<{width}}  " + "  ".join(f"{'epochs %  regret':>18}" for _ in policies)]
    for g, row in results.items():
        full = row["train all"][0]
        lines.append(f"{g:<{width}}  " + "  ".join(f"{100 * row[p][0] / full:>8.1f}  {100 * row[p][1]:>8.2f}"
                                                    for p in policies))
    total = sum(r["train all"][0] for r in results.values())
    lines.append(f"{'overall':<{width}}  " + "  ".join(
        f"{100 * sum(r[p][0] for r in results.values()) / total:>8.1f}  "
        f"{100 * np.mean([r[p][1] for r in results.values()]):>8.2f}" for p in policies))
    return "\n".join(lines)


def figure(path: Path, results: dict, policies: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    total = sum(r["train all"][0] for r in results.values())
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sweep = [f"lcpipe eps={e:g}" for e in EPSILONS]
    xs = [100 * sum(r[p][0] for r in results.values()) / total for p in sweep]
    ys = [100 * np.mean([r[p][1] for r in results.values()]) for p in sweep]
    ax.plot(xs, ys, "o-", color="tab:blue", label="lcpipe P(best) < eps (eps swept)")
    for i, (x, y, e) in enumerate(zip(xs, ys, EPSILONS)):
        if i % 2 == 0 or x > 25:  # every other label where the points crowd
            ax.annotate(f"{e:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7, color="tab:blue")
    for p, marker in zip([q for q in policies if not q.startswith("lcpipe eps=")], "sDv^P"):
        x = 100 * sum(r[p][0] for r in results.values()) / total
        y = 100 * np.mean([r[p][1] for r in results.values()])
        ax.plot([x], [y], marker, ms=8, label=p)
    ax.set_xlabel("compute: epochs spent, % of training every run")
    ax.set_ylabel("mean regret over groups (accuracy points)")
    ax.set_title(f"Early stopping on {len(results)} dev-corpus studies (history: the other studies)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower() or "png", dpi=110, bbox_inches="tight")
    plt.close(fig)


@exits_cleanly
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--predictor", default=DEFAULT_PREDICTOR)
    ap.add_argument("--dev", type=Path, default=DEV, help="folder of study folders")
    ap.add_argument("--plot", type=Path, default=Path("early_stopping.png"))
    args = ap.parse_args()
    if not args.dev.is_dir():
        raise LcpipeError(f"--dev {args.dev}: not a directory of study folders")
    history = {g.name: read_curve_dir(g) for g in sorted(args.dev.iterdir()) if g.is_dir()}
    groups = {g: np.stack([c.metric("test_acc") for c in cs]) for g, cs in history.items()}
    results = replay(groups, history, args.predictor)
    for g in results:  # eps for each group chosen on the other groups only
        eps = choose_eps(results, [h for h in results if h != g])
        results[g]["lcpipe eps*"] = results[g][f"lcpipe eps={eps:g}"]
        print(f"  {g}: eps chosen on the other groups = {eps:g}", file=sys.stderr)
    shown = ["train all", "median rule", "succ. halving", "lcpipe halving", "lcpipe eps*"]
    print(f"Early stopping, predictor {args.predictor}: epochs spent (% of training every run) and regret "
          "(accuracy points) per study")
    print(table(results, shown))
    total = sum(r["train all"][0] for r in results.values())
    print("\nlcpipe P(best) < eps, eps swept, all groups:  eps  epochs %  mean regret")
    for e in EPSILONS:
        p = f"lcpipe eps={e:g}"
        print(f"{e:>50g}  {100 * sum(r[p][0] for r in results.values()) / total:>8.1f}  "
              f"{100 * np.mean([r[p][1] for r in results.values()]):>11.2f}")
    print(f"eps chosen on all groups: {choose_eps(results, list(results)):g}")
    for p in ("lcpipe halving", "lcpipe eps*"):
        wins = sum(r[p][1] < r["succ. halving"][1] and r[p][0] <= r["succ. halving"][0] for r in results.values())
        ties = sum(r[p][1] == r["succ. halving"][1] and r[p][0] <= r["succ. halving"][0] for r in results.values())
        print(f"{p}: lower regret than successive halving at equal or lower compute on {wins} of {len(results)} "
              f"groups, equal regret at equal or lower compute on {ties}")
    figure(args.plot, results, shown)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
