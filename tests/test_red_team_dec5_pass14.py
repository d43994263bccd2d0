"""A fourteenth hostile-input pass (2026-12-05, evening): ForecastPruner with Optuna's other storages and with
trials that report more sparsely than the running one. Each test failed on the code before its fix."""

from __future__ import annotations

import warnings

import numpy as np
import optuna
from optuna.distributions import FloatDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from lcpipe.integrations.optuna import ForecastPruner
from tests.helpers import ROOT

optuna.logging.set_verbosity(optuna.logging.WARNING)
HISTORY = ROOT / "tests" / "fixtures" / "adabelief-c10-resnet34"
EPOCHS = 30
LRS = {"lr": FloatDistribution(1e-4, 1e-1, log=True)}


def accuracy(lr: float, epoch: int) -> float:
    """A trial's test accuracy: its level set by lr (best near 10^-2.5), one shape for all, a little noise."""
    level = 0.92 - 0.15 * (np.log10(lr) + 2.5) ** 2
    noise = np.random.default_rng([int(round(lr * 1e8)), epoch]).normal(0, 0.004)
    return float(level - 0.5 * np.exp(-epoch / 6) + noise)


def objective_every(every_of):
    """An objective reporting every `every_of(trial)` epochs up to EPOCHS."""
    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        every = every_of(trial)
        for epoch in range(every, EPOCHS + 1, every):
            trial.report(accuracy(lr, epoch), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return accuracy(lr, EPOCHS)
    return objective


def true_best(study: optuna.Study) -> optuna.trial.FrozenTrial:
    return max(study.trials, key=lambda t: accuracy(t.params["lr"], EPOCHS))


def test_a_baseline_added_with_its_final_report_alone_is_no_rival_standing_there_from_step_1():
    """study.add_trial with last month's baseline and its last report only: it was read as at 0.86 from step 1,
    ahead of every new trial at step 3, and pruned all 25 of them, the best (0.91) included."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=3),
                                pruner=ForecastPruner(epochs=EPOCHS, history=HISTORY, fit_cache=False))
    baseline = accuracy(0.01, EPOCHS)
    study.add_trial(optuna.trial.create_trial(params={"lr": 0.01}, distributions=LRS, value=baseline,
                                              intermediate_values={EPOCHS: baseline}))
    study.optimize(objective_every(lambda _: 1), n_trials=25)
    best = true_best(study)
    assert best.state == optuna.trial.TrialState.COMPLETE and study.best_trial.number == best.number
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) >= 3  # not all pruned at step 3


def test_trials_reporting_every_5_epochs_do_not_prune_one_reporting_each_epoch_from_where_they_first_stood():
    """A study resumed with an evaluation every epoch where the first session evaluated every 5: the first
    session's trials, read as flat from step 1 at their epoch-5 value, pruned the best new trial at step 3 (and
    at step 5 when only their first report was required)."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=3),
                                pruner=ForecastPruner(epochs=EPOCHS, history=HISTORY, fit_cache=False))
    for lr in (0.01, 0.001, 0.02, 0.003):
        study.enqueue_trial({"lr": lr})
    study.optimize(objective_every(lambda t: 5 if t.number < 4 else 1), n_trials=25)
    best = true_best(study)
    assert best.number >= 4 and best.state == optuna.trial.TrialState.COMPLETE
    assert study.best_trial.number == best.number
    assert any(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)  # it still prunes


def test_trials_rejected_after_one_evaluation_do_not_say_epochs_is_wrong():
    """An objective that returns after one evaluation for a config it rejects: three such trials made the pruner
    warn that none reached `epochs`, blaming the user's correct epochs=."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1),
                                pruner=ForecastPruner(epochs=EPOCHS, history=HISTORY, fit_cache=False))
    for lr in (0.09, 0.08, 0.095):
        study.enqueue_trial({"lr": lr})

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        for epoch in range(1, EPOCHS + 1):
            trial.report(accuracy(lr, epoch), epoch)
            if lr > 0.05:
                return accuracy(lr, epoch)  # rejected at its first evaluation
            if trial.should_prune():
                raise optuna.TrialPruned()
        return accuracy(lr, EPOCHS)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(objective, n_trials=8)
    assert not [w for w in caught if "none of the" in str(w.message)]


def test_final_forecast_accepts_a_trial_of_the_same_journal_file_opened_anew(tmp_path):
    """A helper that opens the study anew for each call (two JournalStorage objects on one file): the trial's
    study was read as another one, and final_forecast stopped study.optimize with "a trial of study 's', not of
    's'". SQLite worked."""
    pruner = ForecastPruner(epochs=EPOCHS, history=HISTORY, fit_cache=False)
    log = str(tmp_path / "journal.log")

    def open_study():
        return optuna.create_study(study_name="s", storage=JournalStorage(JournalFileBackend(log)),
                                   direction="maximize", pruner=pruner, load_if_exists=True,
                                   sampler=optuna.samplers.RandomSampler(seed=0))
    study = open_study()
    told = []

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        for epoch in range(1, EPOCHS + 1):
            trial.report(accuracy(lr, epoch), epoch)
            if trial.should_prune():
                told.append(pruner.final_forecast(study, trial)[0])
                return told[-1]
        return accuracy(lr, EPOCHS)

    open_study().optimize(objective, n_trials=10)
    assert len(open_study().trials) == 10 and told and all(np.isfinite(told))



def _finished_trials(study, lrs, steps, value):
    for lr in lrs:
        study.add_trial(optuna.trial.create_trial(params={"lr": lr}, distributions=LRS, value=value(lr, max(steps)),
                                                  intermediate_values={s: value(lr, s) for s in steps}))


def _pruned_at(study, lr, steps, value):
    study.enqueue_trial({"lr": lr})
    trial = study.ask()
    trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    for s in steps:
        trial.report(value(lr, s), s)
        if trial.should_prune():
            return s
    return None


def test_trials_of_the_running_ones_cadence_are_rivals_where_the_grid_falls_short_of_their_reports():
    """Every trial reports every 15 steps of 1,000: the grid spacing is 1000 / 67 = 14.93, so the first check
    (point 3) fell at step 44.8, before every finished trial's third report at 45, and no trial was compared
    there (review of the fix above): a bad trial was pruned at 75 instead of 45."""
    def value(lr, s):
        return float(0.92 - 0.15 * (np.log10(lr) + 2.5) ** 2 - 0.5 * np.exp(-5 * s / 1000))
    steps = range(15, 1001, 15)
    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(steps=1000, fit_cache=False,
                                                                                   warmup=0))
    _finished_trials(study, (0.003, 0.005, 0.002, 0.004), steps, value)
    assert _pruned_at(study, 1e-4, steps, value) == 45


def test_final_forecast_from_trials_that_are_no_curves_yet_is_a_forecast_not_a_false_error():
    """Finished trials reporting every 5 epochs, no history: at step 2 none is a curve yet, and final_forecast
    said 'no history and no completed trial yet' (review); it forecasts from them instead."""
    pruner = ForecastPruner(epochs=EPOCHS, fit_cache=False)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    _finished_trials(study, (0.003, 0.005, 0.002, 0.004), range(5, EPOCHS + 1, 5), accuracy)
    trial = study.ask()
    trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    for s in (1, 2):
        trial.report(accuracy(trial.params["lr"], s), s)
    mean, lower, upper = pruner.final_forecast(study, trial)
    assert lower <= mean <= upper and 0 < mean < 1


def test_one_sqlite_file_written_relative_and_absolute_is_one_storage(tmp_path, monkeypatch):
    """sqlite:///r.db from its folder and sqlite:////abs/r.db are one database: final_forecast said the trial was
    of study 's', not of 's' (review)."""
    monkeypatch.chdir(tmp_path)
    pruner = ForecastPruner(epochs=EPOCHS, history=HISTORY, fit_cache=False)
    here = optuna.create_study(study_name="s", storage="sqlite:///r.db", direction="maximize", pruner=pruner)
    there = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'r.db'}", pruner=pruner)
    trial = here.ask()
    trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    for s in range(1, 6):
        trial.report(accuracy(trial.params["lr"], s), s)
    assert np.isfinite(pruner.final_forecast(there, trial)[0])


def test_trials_that_skipped_epoch_1_do_not_prune_every_trial_of_the_resumed_study():
    """Ten trials evaluated from epoch 2 on, then the study resumed evaluating from epoch 1: a whole interval's
    slack let the earlier trials in at the first checks, flat at epoch 1 where they first stood at epoch 2, and
    all 20 new trials were pruned at step 3, the best (above every earlier one) included (second review)."""
    def objective(steps):
        def run(trial):
            lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
            for e in steps:
                trial.report(accuracy(lr, e), e)
                if trial.should_prune():
                    raise optuna.TrialPruned()
            return accuracy(lr, EPOCHS)
        return run

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0),
                                pruner=ForecastPruner(epochs=EPOCHS, history=HISTORY, fit_cache=False))
    study.optimize(objective(range(2, EPOCHS + 1)), n_trials=10)
    study.optimize(objective(range(1, EPOCHS + 1)), n_trials=20)
    new = study.trials[10:]
    best = max(new, key=lambda t: accuracy(t.params["lr"], EPOCHS))
    assert accuracy(best.params["lr"], EPOCHS) > max(t.value for t in study.trials[:10] if t.value is not None)
    assert best.state == optuna.trial.TrialState.COMPLETE
    assert any(t.state == optuna.trial.TrialState.PRUNED for t in new)


def test_evaluate_says_when_one_cutoff_sees_curves_of_a_study_to_very_different_steps(tmp_path, capsys):
    """Half the runs evaluated every 100 steps, half every 1,000: cutoff 5 saw them to steps 500 and 5,000, the
    scores and the decision mixing early and late prefixes, silently (hostile pass 15). One stderr line says so;
    a study logged at one interval gets none."""
    from lcpipe.cli import main as cli

    steps = np.arange(100, 10001, 100)
    for every, folder in ((None, "mixed"), (100, "even")):
        (tmp_path / folder).mkdir()
        for i in range(6):
            keep = steps % (every or (100 if i % 2 else 1000)) == 0
            loss = 2 + 0.1 * i + 3 * np.exp(-steps / 2000)
            (tmp_path / folder / f"r{i}.csv").write_text(
                "step,val_loss\n" + "".join(f"{s},{v:.5f}\n" for s, v in zip(steps[keep], loss[keep])))
        cli(["evaluate", "--curves", str(tmp_path / folder), "--metric", "val_loss", "--cutoffs", "5",
             "--predictors", "last_value"])
        notes = [line for line in capsys.readouterr().err.splitlines() if "logged at different intervals" in line]
        assert notes == ([] if every else [
            "note: the curves are logged at different intervals (every 100 to 1000 steps); a cutoff counts "
            "each curve's own grid points, so at cutoff 5 they are seen to about step 500 to 5000; compare curves "
            "logged at one interval and of one length"])


def test_a_run_first_evaluated_a_few_intervals_late_is_not_flat_before_its_first_evaluation():
    """A loss logged every 500 steps from step 1500 (Hugging Face's eval_delay): on its grid, steps 500 and 1000
    held the step-1500 value, a flat head that moved its forecast 0.19 too low, and the study's worst run became
    the likeliest to end best (hostile pass 15). Before its first evaluation the curve goes on along the slope of
    its first two, geometrically, so a loss stays positive."""
    from lcpipe.curve import Curve, on_grid

    steps = np.arange(1500, 3001, 500)
    loss = 2 + 3 * np.exp(-steps / 2000)
    grid, spacing = on_grid(Curve("late", {"val_loss": loss}, steps=steps.astype(float)), planned=10_000)
    head = grid.columns["val_loss"][:3]  # steps 500, 1000, 1500
    assert spacing == 500 and head[2] == loss[0]
    assert head[0] > head[1] > head[2] > 0  # rising back toward the start, as a loss does; not flat
    rising = on_grid(Curve("r", {"val_loss": np.array([0.005, 0.01, 0.02])}, steps=np.array([300.0, 400, 500])),
                     planned=1000)[0].columns["val_loss"]
    assert np.all(rising > 0) and rising[0] < rising[1] < 0.005  # a line back from a rising start would cross zero
