"""ForecastPruner with a big history, timed: a new pruner's first study, the next pruner's, and a
check in a study of 3,000 completed trials.

    python bench/history_speed.py [--per-task 264] [--task digits] [--trials 3000]

Issue 24's case: teams keep years of curves, and every new pruner instance (each worker, each study)
needs its forecaster fitted on them. The history is --per-task curves of each OTHER task of
bench/hpo_table (5 x 264 = 1,320), written as `--history` files with their task as the dataset;
the study is bench/hpo.py's (TPE,
seed 0, one worker) with a budget of 40 full trainings. Timed, side by side in one process:

- cold: the first pruner ever on this history (no fit cached anywhere), reading included;
- warm: a new pruner, as in another worker process or the next study: this process's cache is
  emptied, so the fit comes from the disk cache the cold run wrote (lcpipe/forecasting/fit_cache.py);
- a check at --trials completed trials (the table's curves, drawn with replacement, each with a little
  noise, so that all are distinct curves): the median
  time of ForecastPruner.prune over a trial's checks (a check at every step from the warmup), and
  the first check after a new completion (the completed trials are fitted again).

Budgets: <= 10 s for the cold study, first fit included; <= 50 ms a check at 3,000 trials.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.args import Parser  # noqa: E402
from bench.hpo import TABLE, Task, load_table, run_study, write_history  # noqa: E402
from lcpipe.errors import exits_cleanly  # noqa: E402
from lcpipe.forecasting import fit_cache  # noqa: E402
from lcpipe.integrations.optuna import ForecastPruner  # noqa: E402


def timed_study(task: Task, folders: list[Path], cache: Path) -> tuple[float, float]:
    """(seconds to construct the pruner, seconds for the study) with an empty in-process cache."""
    fit_cache._IN_PROCESS.clear()
    fit_cache._ON_DISK.clear()
    t0 = time.perf_counter()
    pruner = ForecastPruner(task.epochs, folders, fit_cache=cache)
    t1 = time.perf_counter()
    run_study(task, "tpe", 0, pruner, "raise", 1, 40 * task.epochs, "max")
    return t1 - t0, time.perf_counter() - t1


def check_times(task: Task, folders: list[Path], cache: Path, trials: int) -> tuple[float, float]:
    """(median seconds of a check, seconds of the first check after a new completion) in a study of
    `trials` completed trials."""
    rng = np.random.default_rng(0)
    pruner = ForecastPruner(task.epochs, folders, fit_cache=cache, growth=1.0)  # every step from the warmup a check
    study = optuna.create_study(direction="maximize", pruner=pruner)
    dist = {"config": optuna.distributions.IntDistribution(0, len(task.configs) - 1)}
    for c in rng.integers(0, len(task.configs), trials):
        # a little seed noise: each a distinct curve, as reruns are (exact copies count once: ForecastPruner._distinct)
        curve = np.clip(task.values[c] + rng.normal(0, 1e-4, task.epochs), 0, 1)
        if np.isfinite(curve).all():
            study.add_trial(optuna.trial.create_trial(
                params={"config": int(c)}, distributions=dist, value=float(curve[-1]),
                intermediate_values={e + 1: float(v) for e, v in enumerate(curve)}))
    trial = study.ask()
    times = []
    running = task.values[int(rng.integers(len(task.configs)))]
    half = task.epochs // 2
    for epoch, value in enumerate(running[:half], start=1):
        trial.report(float(value), epoch)
        frozen = study._storage.get_trial(trial._trial_id)
        t = time.perf_counter()
        pruner.prune(study, frozen)
        if epoch >= pruner.warmup_steps:
            times.append(time.perf_counter() - t)
    times = times[1:]  # the first check fits the study's 3,000 curves at once
    curve = task.values[0]
    study.add_trial(optuna.trial.create_trial(params={"config": 0}, distributions=dist, value=float(curve[-1]),
                                              intermediate_values={e + 1: float(v) for e, v in enumerate(curve)}))
    trial.report(float(running[half]), half + 1)
    t = time.perf_counter()
    pruner.prune(study, study._storage.get_trial(trial._trial_id))
    return float(np.median(times)), time.perf_counter() - t


@exits_cleanly
def main() -> None:
    ap = Parser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-task", type=int, default=264, help="history curves of each other task (264: 1,320 in all)")
    ap.add_argument("--task", default="digits", help="the task the studies tune (digits)")
    ap.add_argument("--trials", type=int, default=3000, help="completed trials the check is timed at (3000; the "
                    "50 ms budget is for 3,000)")
    a = ap.parse_args()
    if a.per_task < 2:
        ap.error(f"--per-task {a.per_task}: give at least 2")
    if a.trials < 1:
        ap.error(f"--trials {a.trials}: give at least 1")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    every = load_table(TABLE, "test_acc")
    if a.task not in every:
        ap.error(f"--task {a.task!r}: the table has {', '.join(every)}")
    task = every[a.task]
    if a.per_task > len(task.configs):  # (red team: 1000 said, 320 used)
        ap.error(f"--per-task {a.per_task}: the table's tasks hold {len(task.configs)} configs; give at most that")
    with tempfile.TemporaryDirectory(prefix="lcpipe-history-") as tmp:
        # each curve's sidecar names its task as its dataset, as a team's curves of many tasks do: the
        # history is then calibrated leave-one-task-out (the slow part of a fit)
        folders = write_history({a.task: task}, every, "test_acc", a.per_task, Path(tmp), dataset=True)[a.task]
        curves = sum(len(list(f.glob("*.csv"))) for f in folders)
        cache = Path(tmp) / "fit-cache"
        cold_read, cold = timed_study(task, folders, cache)
        warm_read, warm = timed_study(task, folders, cache)
        check, first = check_times(task, folders, cache, a.trials)
    print(f"{curves} history curves; a TPE study of 40 full trainings' epochs, reading included: "
          f"cold (first fit) {cold_read + cold:.1f} s ({cold_read:.1f} s reading), warm (the fit from the disk "
          f"cache, as a new worker finds it) {warm_read + warm:.1f} s: {(warm_read + warm) / (cold_read + cold):.2f}x")
    print(f"a check at {a.trials} completed trials: median {1000 * check:.0f} ms; the first after a new "
          f"completion {1000 * first:.0f} ms")
    print(f"budgets: cold study {cold_read + cold:.1f} s of 10 s; a check {1000 * check:.0f} ms of 50 ms")


if __name__ == "__main__":
    main()
