"""Tune the small CNN on the embedded digits data with Optuna and lcpipe's ForecastPruner.

    PYTHONPATH=. python examples/optuna_digits.py [--trials 10] [--epochs 15] [--history DIR]
                                                  [--storage URL --study NAME]

With --storage (e.g. postgresql+psycopg2://user:pass@db-host/tune), create study NAME once
(`optuna create-study --study-name NAME --direction maximize --storage URL`: workers that start
together on an empty database race to create Optuna's tables), then run the same command on each of
N machines or processes: each joins the study and runs its --trials; Optuna's storage hands out trial
numbers, the pruner reads only the storage and history.

lr and weight_decay are sampled (TPE); each trial trains resnet18 (width 8) on scikit-learn's
bundled 8x8 digits, reporting test accuracy every epoch. ForecastPruner stops a trial when a
completed trial is likely to end above it (history: --history, finished curves of any length, or
only the study's own completed trials). To say whether pruning lost the best trial, a pruned trial
is trained on to the end off the books (that check costs the compute pruning saved; drop it in real
use). Minutes on 2 CPUs.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

import optuna
import torch
from sqlalchemy.exc import SQLAlchemyError  # optuna's RDB storages raise its errors

from lcpipe.config import TrainParams
from lcpipe.errors import LcpipeError, exits_cleanly
from lcpipe.integrations.optuna import ForecastPruner
from lcpipe.training.data import digits
from lcpipe.training.loop import train_epochs

ARCH = "resnet18"


class OneLineParser(argparse.ArgumentParser):
    """A bad argument is one line, `optuna_digits.py: error: ...`, exit 2, as lcpipe says it (--help lists them)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")


@exits_cleanly
def main() -> None:
    ap = OneLineParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10, help="trials this worker runs (10)")
    ap.add_argument("--epochs", type=int, default=15, help="epochs of a trial, 4 or more (15)")
    ap.add_argument("--history", default=None, help="folder of finished curves (default: completed trials only)")
    ap.add_argument("--storage", default=None, help="an Optuna storage URL shared by every worker (default: memory)")
    ap.add_argument("--study", default="digits-cnn", help="the study's name in --storage")
    args = ap.parse_args()
    if args.trials < 1:
        ap.error(f"--trials {args.trials}: give at least 1")
    if args.study != "digits-cnn" and not args.storage:  # (red team: a study name in memory, ignored without a word)
        ap.error(f"--study {args.study!r} without --storage: a study in memory has no name to join; give --storage")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if "OMP_NUM_THREADS" not in os.environ:  # several workers on one machine set it to 1 each (README)
        torch.set_num_threads(2)
    ds = digits(seed=0, test_fraction=0.25)
    if args.epochs < 4:  # the pruner decides from a trial's third report on
        ap.error(f"--epochs {args.epochs}: give the epochs of a trial, 4 or more")
    try:
        pruner = ForecastPruner(args.epochs, args.history)
    except LcpipeError as exc:
        empty = args.history and Path(args.history).is_dir() and not any(Path(args.history).glob("*.csv"))
        hint = " (on a fresh clone, `make repro` or `dvc pull` puts the pipeline's curves there first)" if empty else \
            " (this example's trials report test accuracy: give --history a folder of accuracy curves with a " \
            "test_acc column, as data/curves)" if "metric=" in str(exc) else ""
        raise LcpipeError(f"{str(exc).replace('epochs=', '--epochs ')}{hint}") from None
    try:
        if args.storage:  # a worker joins the study created once; a mistyped name is no new study (review)
            names = optuna.get_all_study_names(storage=args.storage)
            if names and args.study not in names:
                raise LcpipeError(f"--study {args.study!r}: no such study in {args.storage}, which holds "
                                  f"{', '.join(map(repr, names[:5]))}{' ...' if len(names) > 5 else ''}; for a new "
                                  f"one, create it first: optuna create-study --study-name {args.study} --direction "
                                  f"maximize --storage URL")
        study = optuna.create_study(direction="maximize", pruner=pruner, storage=args.storage, study_name=args.study,
                                    load_if_exists=True,
                                    sampler=optuna.samplers.TPESampler(seed=None if args.storage else 0))
    except (ImportError, ValueError, optuna.exceptions.OptunaError, SQLAlchemyError) as exc:
        # a URL no driver reads, a driver missing, a folder that does not exist, a server that is down
        raise LcpipeError(f"--storage {args.storage}: {type(exc).__name__}: {str(exc).splitlines()[0]:.200}") from None
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:  # `optuna create-study` without --direction
        raise LcpipeError(f"study {args.study!r} in {args.storage} minimizes; this example maximizes test accuracy: "
                          "create it with `optuna create-study ... --direction maximize`")
    finals: dict[int, float] = {}  # every trial's true final accuracy (pruned ones trained on, off the books)

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
        weight_decay = trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)
        r = dataclasses.replace(TrainParams(), epochs=args.epochs, lr=lr, weight_decay=weight_decay, width=8)
        pruned_at = None
        for row, _ in train_epochs(ARCH, ds, r, device=torch.device("cpu"), log=lambda line: None):
            if pruned_at is None:
                trial.report(row["test_acc"], step=row["epoch"])
                if row["epoch"] < args.epochs and trial.should_prune():
                    pruned_at = row["epoch"]
                    mean, lower, upper = pruner.final_forecast(study, trial)
                    print(f"trial {trial.number} (lr {lr:.4f}, wd {weight_decay:.1e}): pruned at epoch {pruned_at}, "
                          f"acc {row['test_acc']:.4f}, forecast final {mean:.4f} [{lower:.4f}, {upper:.4f}]")
        finals[trial.number] = row["test_acc"]
        if pruned_at is not None:
            trial.set_user_attr("epochs_trained", pruned_at)
            raise optuna.TrialPruned()
        print(f"trial {trial.number} (lr {lr:.4f}, wd {weight_decay:.1e}): completed, final {row['test_acc']:.4f}")
        trial.set_user_attr("epochs_trained", args.epochs)
        return row["test_acc"]

    t0 = time.perf_counter()
    try:
        study.optimize(objective, n_trials=args.trials)
    except SQLAlchemyError as exc:  # the database failed mid-study: one line, not a page of driver traceback
        raise LcpipeError(f"--storage {args.storage}: failed mid-study ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0]:.160}); the trial it ran stays RUNNING in the study (a storage "
                          "URL sets no heartbeat to mark it failed); rerun this line to go on") from None
    mine = [t for t in study.trials if t.number in finals]  # this process's trials (a shared study has others)
    trained = sum(t.user_attrs["epochs_trained"] for t in mine)
    total = args.epochs * len(mine)
    pruned = [t for t in mine if t.state == optuna.trial.TrialState.PRUNED]
    best = max(finals, key=finals.get)
    print(f"{len(pruned)} of {len(mine)} trials pruned: {total - trained} of {total} epochs saved "
          f"({100 * (total - trained) / total:.0f} %); {time.perf_counter() - t0:.0f} s with the off-the-books check")
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):  # every trial pruned, and
        # another worker's that pruned them killed (review: study.best_trial raised "Record does not exist")
        print(f"this process's best trial by true final accuracy: {best} ({finals[best]:.4f}); no trial of the "
              "study has completed yet")
        return
    survived = study.best_trial.number == best or finals[best] <= study.best_value
    print(f"this process's best trial by true final accuracy: {best} ({finals[best]:.4f}); the study's best "
          f"completed: {study.best_trial.number} ({study.best_value:.4f}); that trial survived: "
          f"{'yes' if survived else 'no'}")


if __name__ == "__main__":
    main()
