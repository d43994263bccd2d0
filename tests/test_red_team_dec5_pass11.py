"""An eleventh hostile-input pass (2026-12-05, evening): scores that go below 0 by their nature, and messages
that name the Python argument where Python was called. Each test failed on the code before its fix."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from lcpipe.errors import LcpipeError
from lcpipe.integrations.optuna import ForecastPruner
from lcpipe.metric import Metric

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.parametrize("name", ["kappa", "cohen_kappa", "val_quadratic_kappa", "weightedKappa", "f1_delta",
                                  "balanced_accuracy_adjusted", "val_auc_delta", "loss_diff"])
def test_a_score_that_may_go_below_zero_is_any_series_in_its_names_direction(name):
    """Cohen's kappa lies in [-1, 1] (below 0: worse than chance, as a first epoch may be), as MCC and QWK,
    which were read so already; an adjusted score or a difference of two goes below 0 too. Read as a
    fraction, the first negative report stopped the whole study."""
    metric = Metric.infer(name)
    assert metric.kind == "any"
    assert metric.mode == ("min" if "loss" in name else "max")
    assert Metric.infer("val_acc").kind == "fraction" and Metric.infer("f1").kind == "fraction"


def test_a_kappa_study_whose_first_reports_are_below_zero_runs_and_prunes():
    def objective(trial):
        quality = trial.suggest_float("quality", 0.1, 1.0)
        for epoch in range(1, 21):
            kappa = -0.15 + 0.8 * (1 - np.exp(-epoch / 5)) * quality  # below 0 at epoch 1
            trial.report(float(kappa), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(kappa)

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0),
                                pruner=ForecastPruner(epochs=20, metric="quadratic_kappa", fit_cache=False))
    study.optimize(objective, n_trials=12)  # before: PrunerError at the first check, the study ended
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) >= 3
    assert optuna.trial.TrialState.PRUNED in states


def test_a_percent_history_in_python_names_the_python_argument(tmp_path):
    """ForecastPruner(history=...) of accuracies in percent: the line named the CLI's --metric alone."""
    for i in range(4):
        (tmp_path / f"r{i}.csv").write_text("epoch,test_acc\n" + "".join(f"{e},{40 + e + i}\n" for e in range(1, 11)))
    with pytest.raises(LcpipeError, match=r"metric= in Python"):
        ForecastPruner(epochs=10, history=tmp_path)
