"""ForecastPruner with a big history: 1,320 finished curves, one TPE study on the HPO table, timed.

    python bench/history_speed.py [--per-task 264] [--task digits]

Issue 24's case: teams keep years of curves, and every new pruner instance (each worker, each study)
fits its forecaster on them. The history is --per-task curves of each OTHER task of bench/hpo_table
(5 x 264 = 1,320), written as `--history` files; the study is bench/hpo.py's (TPE, seed 0, one
worker) with a budget of 40 full trainings. Times: reading the history (ForecastPruner's
constructor) and the whole study, its first fit on the history included. Budget: <= 10 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import optuna

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hpo import TABLE, load_table, run_study, write_history  # noqa: E402
from lcpipe.integrations.optuna import ForecastPruner  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-task", type=int, default=264)
    ap.add_argument("--task", default="digits")
    a = ap.parse_args()
    if a.per_task < 2:
        raise SystemExit("--per-task needs at least 2")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    every = load_table(TABLE, "test_acc")
    if a.task not in every:
        raise SystemExit(f"--task {a.task!r}: the table has {', '.join(every)}")
    task = every[a.task]
    with tempfile.TemporaryDirectory(prefix="lcpipe-history-") as tmp:
        folders = write_history({a.task: task}, every, "test_acc", a.per_task, Path(tmp))[a.task]
        curves = sum(len(list(f.glob("*.csv"))) for f in folders)
        t0 = time.perf_counter()
        pruner = ForecastPruner(task.epochs, folders)
        t1 = time.perf_counter()
        done = run_study(task, "tpe", 0, pruner, "raise", 1, 40 * task.epochs, "max")
        t2 = time.perf_counter()
    print(f"{curves} history curves: read in {t1 - t0:.1f} s; a TPE study of 40 full trainings' epochs "
          f"({len(done)} trials trained to the end), first fit included, {t2 - t1:.1f} s; "
          f"total {t2 - t0:.1f} s (budget 10 s)")


if __name__ == "__main__":
    main()
