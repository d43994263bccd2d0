"""A red-team pass of 2026-12-07 (seventeenth session): ForecastPruner as Optuna's checkpoint recipe runs it, and the
forecasts of a history of one recipe for runs of another. Each test failed on the code before its fix."""

from __future__ import annotations

import csv
import warnings

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from lcpipe.integrations.optuna import ForecastPruner
from tests.helpers import ROOT

optuna.logging.set_verbosity(optuna.logging.WARNING)
FIXTURES = ROOT / "tests" / "fixtures"
STUDY = FIXTURES / "adabelief-c10-resnet34"  # 9 real CIFAR-10 runs of 200 epochs, one per optimizer
HISTORY = FIXTURES / "cifar10-plain-vs-resnet"  # 8 real CIFAR-10 runs of another recipe


def curves() -> dict[str, dict[int, float]]:
    out = {}
    for path in sorted(STUDY.glob("*.csv")):
        with path.open() as f:
            out[path.stem] = {int(r["epoch"]): float(r["test_acc"]) for r in csv.DictReader(f)}
    return out


class Preempted(Exception):
    """The worker's machine went away after saving a checkpoint."""


def study_with_one_resumed(resume_after: int, which: str) -> tuple[optuna.Study, optuna.trial.FrozenTrial, list]:
    """Every run but one trained to its end, then `which` ('best' or 'worst'), preempted after epoch `resume_after`
    and retried as Optuna's checkpoint recipe retries it: RetryHeartbeatStaleTrialCallback (RetryFailedTrialCallback
    before Optuna 4.9) re-queues the trial without its
    reports, and the objective carries on from its checkpoint (`for epoch in range(epoch_begin, EPOCHS)`)."""
    runs = curves()
    epochs = max(next(iter(runs.values())))
    pick = (max if which == "best" else min)(runs, key=lambda n: runs[n][epochs])
    study = optuna.create_study(direction="maximize",
                                pruner=ForecastPruner(epochs=epochs, history=HISTORY, fit_cache=False))
    for name in runs:
        if name != pick:
            study.enqueue_trial({"run": name})

    def finished(trial: optuna.Trial) -> float:
        values = runs[trial.suggest_categorical("run", list(runs))]
        for epoch in range(1, epochs + 1):
            trial.report(values[epoch], epoch)
        return values[epochs]

    study.optimize(finished, n_trials=len(runs) - 1)

    def objective(trial: optuna.Trial) -> float:
        values = runs[trial.suggest_categorical("run", list(runs))]
        retried = RetryHeartbeatStaleTrialCallback.retried_trial_number(study.trials[trial.number]) is not None
        for epoch in range(resume_after + 1 if retried else 1, epochs + 1):
            if not retried and epoch == resume_after + 1:
                raise Preempted
            trial.report(values[epoch], epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return values[epochs]

    study.enqueue_trial({"run": pick})
    study.optimize(objective, n_trials=1, catch=(Preempted,))
    RetryHeartbeatStaleTrialCallback(max_retry=1)(study, study.trials[-1])  # as the storage's heartbeat does
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        study.optimize(objective, n_trials=1)
    return study, study.trials[-1], [str(w.message) for w in said if "ForecastPruner" in str(w.message)]


@pytest.mark.parametrize("resume_after", [40, 80])
def test_the_best_trial_resumed_from_a_checkpoint_is_not_pruned_on_epochs_it_never_reported(resume_after):
    """Read flat before its first report after resuming, as if it had stopped improving long ago, the study's best run
    was pruned at its third report after resuming, and study.best_value fell, silently (red team: 0.952 -> 0.948)."""
    study, resumed, said = study_with_one_resumed(resume_after, "best")
    assert resumed.state == TrialState.COMPLETE, f"pruned at step {resumed.last_step}"
    assert study.best_trial.number == resumed.number
    assert len(said) == 1 and f"first reported at step {resume_after + 1}" in said[0] \
        and "inherit_intermediate_values=True" in said[0]


def test_a_trial_resumed_from_a_checkpoint_is_still_pruned_once_its_own_reports_say_enough():
    """The wait is for its own reports to cover two thirds of its run so far, not a pass: the worst run, resumed after
    epoch 40 of 200, is pruned, and not before its check at step 120 or later."""
    _, resumed, _ = study_with_one_resumed(40, "worst")
    assert resumed.state == TrialState.PRUNED
    assert resumed.last_step >= 3 * 41
