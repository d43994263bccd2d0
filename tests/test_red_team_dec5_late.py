"""Defects the fourth hostile-input pass (2026-12-05, late) found, each pinned by the behaviour a user depends on;
every test here failed on the code before its fix."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

import lcpipe
from lcpipe.cli import main as cli
from lcpipe.errors import LcpipeError
from lcpipe.integrations.optuna import ForecastPruner
from tests.helpers import curve_csv, learning_curve

optuna.logging.set_verbosity(optuna.logging.WARNING)


def history(folder: Path, epochs: int = 30) -> Path:
    """Six finished accuracy curves of `epochs` epochs, finals 0.50-0.85."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(6):
        (folder / f"h{i}.csv").write_text(curve_csv(learning_curve(epochs, final=0.5 + 0.07 * i, seed=i, noise=0.003)))
    return folder


# -- ForecastPruner: running trials as rivals ----------------------------------------------------------------

def test_a_trial_pruned_behind_a_running_one_before_any_finished_is_not_the_best_trial(tmp_path):
    """Two workers, nothing finished yet: a slow trial is pruned at step 5 behind a running one that leads
    (0.48 to its 0.26) and is told its forecast, 0.59; the leader then stalls and ends at 0.55, so
    study.best_trial was the pruned trial, its value a guess. Told no better than the best value the running
    trial had reported (0.48), it stays out of best_trial."""
    pruner = ForecastPruner(40, history(tmp_path, epochs=40), fit_cache=False)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    leader, slow = study.ask(), study.ask()
    lead = learning_curve(40, final=0.95, seed=1).clip(max=0.55)  # leads early, then stalls at 0.55
    behind = learning_curve(40, final=0.8, rate=0.08, seed=2, start=0.05)
    for epoch in range(1, 41):
        leader.report(float(lead[epoch - 1]), epoch)
        slow.report(float(behind[epoch - 1]), epoch)
        if slow.should_prune():
            break
    assert epoch < 40, "the slow trial must be pruned behind the running leader"
    told, lower, upper = pruner.final_forecast(study, slow)
    assert told < lead[:epoch].max() and lower <= told <= upper
    study.tell(slow, told)
    for step in range(epoch + 1, 41):
        leader.report(float(lead[step - 1]), step)
    study.tell(leader, float(lead[-1]))
    assert study.best_trial.number == leader.number


def _saturating(x: float, epoch: int, epochs: int = 30) -> float:
    return (0.7 + 0.25 * x) * (1 - np.exp(-5 * epoch / epochs))


def _ask_and_train(study: optuna.Study, dist: dict, x: float) -> None:
    """One trial of the saturating curve x, asked and told: pruned when the pruner says so, else to the end."""
    trial = study.ask(dist)
    for epoch in range(1, 31):
        trial.report(_saturating(x, epoch), epoch)
        if trial.should_prune():
            study.tell(trial, state=TrialState.PRUNED)
            return
    study.tell(trial, _saturating(x, 30))


class Clock:
    """A clock a test moves by hand: what ForecastPruner times a running trial's silence by."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _saturating_objective(clock: Clock, seconds_per_trial: float):
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 0.6)
        clock.now += seconds_per_trial
        for epoch in range(1, 31):
            trial.report(_saturating(x, epoch), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return _saturating(x, 30)
    return objective


def _with_a_running_leader(tmp_path) -> tuple[optuna.Study, ForecastPruner, Clock]:
    """A study whose worker 1 reported 20 epochs of a good config and then died: the trial stays RUNNING in
    a storage without a heartbeat."""
    pruner = ForecastPruner(30, history(tmp_path), fit_cache=False)
    pruner._clock = clock = Clock()
    # a seeded sampler: unseeded, about 1 run in 20 drew x near 0.6 for the first trial, which then completed
    # (0.85 against the dead leader's 0.95, not pruned) before any trial was pruned, and the test failed
    study = optuna.create_study(direction="maximize", pruner=pruner, sampler=optuna.samplers.TPESampler(seed=0))
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    study.add_trial(optuna.trial.create_trial(state=TrialState.RUNNING, params={"x": 1.0}, distributions=dist,
                                              intermediate_values={e: _saturating(1.0, e) for e in range(1, 21)}))
    return study, pruner, clock


def test_a_trial_whose_worker_died_is_no_rival_for_ever(tmp_path):
    """As a rival the dead trial pruned every later trial, 20 of 20, so study.best_value was an error. Once
    this pruner has seen it make no report for STALE_SECONDS (the study's trials take a fraction of a
    second per report), it is no rival and trials complete."""
    study, _, clock = _with_a_running_leader(tmp_path)
    study.optimize(_saturating_objective(clock, seconds_per_trial=30.0), n_trials=20)
    completed = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(completed) >= 4, "".join(t.state.name[0] for t in study.trials)
    pruned_first = [t.number for t in study.get_trials(states=(TrialState.PRUNED,))]
    assert pruned_first and min(pruned_first) < min(t.number for t in completed)  # a rival while it was fresh


@pytest.mark.parametrize("leader_reports", [True, False])
def test_silence_not_age_ends_a_rival(tmp_path, leader_reports):
    """A leader that reports again between the later trials stays a rival however long the study runs (10
    minutes a trial here) and prunes them; the same leader silent for as long is no rival, and the later
    trials complete. A rule timing a trial from its start dropped a live leader; one fed by a warm start's
    added trials, whose time per report is 0, dropped any rival after 2 minutes."""
    pruner = ForecastPruner(30, history(tmp_path), fit_cache=False)
    pruner._clock = clock = Clock()
    study = optuna.create_study(direction="maximize", pruner=pruner)
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    study.add_trial(optuna.trial.create_trial(  # a warm start: a trial added, starting and ending at one instant
        state=TrialState.PRUNED, params={"x": 0.0}, distributions=dist,
        intermediate_values={e: _saturating(0.0, e) + 0.01 for e in range(1, 4)}))
    leader = study.ask(dist)
    for epoch in range(1, 21):
        leader.report(_saturating(1.0, epoch), epoch)
    for i, x in enumerate(np.linspace(0.1, 0.6, 8)):
        clock.now += 600.0
        if leader_reports:
            leader.report(_saturating(1.0, 21 + i), 21 + i)
        _ask_and_train(study, dist, x)
    completed = len(study.get_trials(states=(TrialState.COMPLETE,)))
    assert (completed <= 1) if leader_reports else (completed >= 6), "".join(t.state.name[0] for t in study.trials)
    assert pruner._per_report(study) > 0  # the added trial's zero duration is left out


ADABELIEF = Path(__file__).resolve().parent / "fixtures" / "adabelief-c10-resnet34"  # real curves, its PROVENANCE.md


def test_a_trial_ahead_of_two_finished_ones_at_every_step_is_not_pruned():
    """The pair rule with two finished trials pruned, at epoch 5, a trial that had been ahead of both at
    every step (0.526 against 0.522 and 0.466) and would have ended best (0.938 against 0.928)."""
    def wavy(x: float, epoch: int) -> float:
        return _saturating(x, epoch) + 0.02 * np.sin(epoch * (1 + x))

    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(
        30, ADABELIEF, fit_cache=False))
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    for x in (0.4, 0.9):
        trial = study.ask(dist)
        for epoch in range(1, 31):
            trial.report(wavy(x, epoch), epoch)
        study.tell(trial, wavy(x, 30))
    leader = study.ask(dist)
    for epoch in range(1, 31):
        leader.report(wavy(1.0, epoch), epoch)
        assert not leader.should_prune(), f"the leader was pruned at epoch {epoch}"


def test_the_best_trials_of_a_study_whose_curves_never_cross_are_kept():
    """Ten noise-free trials, each ahead of every earlier one at every step: the study's own errors (their
    mean, from trials all behind) under-corrected the three best, pruned at epoch 3; study.best_value was
    the fourth best."""
    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(
        30, ADABELIEF, fit_cache=False))
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    for x in np.linspace(0.5, 0.95, 10):
        _ask_and_train(study, dist, x)
    assert study.best_value == pytest.approx(_saturating(0.95, 30))


def test_a_negative_log_likelihood_that_goes_below_zero_ends_no_study():
    """A Gaussian's or a flow's NLL in nats falls below 0 as the model gets good: 'val_nll' was read as a loss
    that must be >= 0, and the pruner's error at the best trial's first negative report ended
    study.optimize. An NLL is any finite series to minimise; naming it in a study that maximises still warns."""
    study = optuna.create_study(direction="minimize", pruner=ForecastPruner(epochs=30, metric="val_nll"),
                                sampler=optuna.samplers.RandomSampler(0))

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        for epoch in range(1, 31):
            nll = (0.5 - 30 * lr) + 2.0 * np.exp(-epoch / 5)
            trial.report(nll, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return nll

    study.optimize(objective, n_trials=30)
    assert study.best_value < 0 and not study.get_trials(states=(TrialState.FAIL,))
    other = optuna.create_study(direction="maximize", pruner=ForecastPruner(epochs=30, metric="val_nll"))
    trial = other.ask()
    trial.report(1.0, 1)
    with pytest.warns(UserWarning, match="the name says lower is better"):
        trial.should_prune()


def test_final_forecast_of_a_trial_reported_only_at_step_0_says_so(tmp_path):
    pruner = ForecastPruner(30, history(tmp_path), fit_cache=False)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    trial = study.ask()
    trial.report(0.3, step=0)
    with pytest.raises(LcpipeError, match="reported only up to step 0, short of the first point"):
        pruner.final_forecast(study, trial)


# -- lcpipe.forecast ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("names", [["lr3e-4", "lr3e-4"], [1, "1"]])
def test_a_dataframe_of_runs_with_two_columns_named_alike_is_refused(tmp_path, names):
    """Two DataFrame columns of one name (W&B runs sharing a display name), or 1 and '1', kept the last
    column alone, silently: the better run was gone from the forecast."""
    runs = pd.DataFrame({"a": [0.30, 0.50, 0.60, 0.65, 0.70, 0.72], "b": [0.20, 0.30, 0.35, 0.40, 0.42, 0.43]})
    runs.columns = names
    with pytest.raises(LcpipeError, match="two runs \\(DataFrame columns\\) are named '.*'; rename one"):
        lcpipe.forecast(history=history(tmp_path), runs=runs, epochs=30)


# -- lcpipe forecast: a log with an epoch column and a step column ------------------------------------------

def test_steps_reads_the_step_column_of_a_log_that_counts_epochs_too(tmp_path):
    """Lightning's CSVLogger writes `epoch,step,...` with epoch 0, 1, 2: under --steps 750 the epoch column was
    read and 750 epochs planned (10/750 epochs seen, another forecast); its step column is the axis a length
    in steps is read on, as for the same log without the epoch column."""
    lm = Path(__file__).resolve().parents[1] / "bench" / "lm_table" / "curves"
    rows = (lm / "descr" / "t00.csv").read_text().splitlines()[1:11]
    both, alone = tmp_path / "both", tmp_path / "alone"
    both.mkdir()
    alone.mkdir()
    (both / "r.csv").write_text("epoch,step,val_ce\n" + "".join(
        f"{i},{row.split(',')[0]},{row.split(',')[1]}\n" for i, row in enumerate(rows)))
    (alone / "r.csv").write_text("step,val_ce\n" + "".join(",".join(row.split(",")[:2]) + "\n" for row in rows))
    outs = []
    for runs in (both, alone):
        out = tmp_path / f"{runs.name}.json"
        cli(["forecast", "--history", str(lm / "code"), "--runs", str(runs), "--metric", "val_ce", "--steps", "750",
             "--out", str(out)])
        outs.append(json.loads(out.read_text())["runs"][0])
    assert outs[0]["observed"] == outs[1]["observed"] == 150
    assert outs[0]["final"] == outs[1]["final"]


def test_the_pruner_takes_steps_as_lcpipe_forecast_does():
    """ForecastPruner(steps=750) was a bare TypeError, though lcpipe.forecast takes steps= as --steps' synonym."""
    assert ForecastPruner(steps=750, metric="val_ce").epochs == 750
    with pytest.raises(LcpipeError, match="give the planned length of a trial once"):
        ForecastPruner(epochs=50, steps=750)
    with pytest.raises(LcpipeError, match="give the planned length of a trial once"):
        ForecastPruner()


@pytest.mark.parametrize("name, says", [("notes.txt", "give a file name ending in .json"),
                                        ("other_study.csv", "give a file name ending in .json"),
                                        ("settings.json", "is not a results file lcpipe wrote")])
def test_out_never_replaces_a_file_lcpipe_did_not_write(tmp_path, capsys, name, says):
    """`--out notes.txt`, `--out other_study.csv` (another study's curve) and `--out x.png` were silently
    replaced with JSON. A rerun still replaces the results file lcpipe wrote before."""
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "r.csv").write_text(curve_csv(learning_curve(30, final=0.8)[:10]))
    out = tmp_path / name
    out.write_text('{"precious": true}\n' if name.endswith(".json") else "precious\n")
    before = out.read_text()
    args = ["forecast", "--history", str(history(tmp_path / "h")), "--runs", str(runs), "--epochs", "30"]
    with pytest.raises(SystemExit) as exit_:
        cli([*args, "--out", str(out)])
    assert exit_.value.code == 2 and says in capsys.readouterr().err
    assert out.read_text() == before
    ours = tmp_path / "forecast.json"
    cli([*args, "--out", str(ours)])
    cli([*args, "--out", str(ours)])  # its own results, replaced
    assert json.loads(ours.read_text())["runs"][0]["run"] == "r"


def test_a_report_far_past_epochs_is_ignored_as_the_warning_says(tmp_path):
    """A trial reporting at steps 15-60 and then at 900, with epochs=750: the warning said reports past 750
    are ignored, yet final_forecast returned an 'exact' value, zero-width, read off the line from step 60 to
    step 900. It is a forecast from step 60, with a band."""
    pruner = ForecastPruner(30, history(tmp_path), fit_cache=False)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    trial = study.ask()
    for epoch, acc in zip((1, 2, 3, 4, 45), (0.2, 0.3, 0.38, 0.44, 0.9), strict=True):
        trial.report(acc, epoch)
    with pytest.warns(UserWarning, match="reports past it are ignored"):
        trial.should_prune()
    mean, lower, upper = pruner.final_forecast(study, trial)
    assert lower < mean < upper


def test_evaluate_calls_no_lagging_accuracy_run_a_run_that_blew_up(tmp_path, capsys):
    """The README's `lcpipe evaluate --curves data/curves --history ...` printed, for the plain nets that lag
    the residual ones, `its test_acc is far off the others' scale (a run that blew up?)`: an accuracy is
    never off its scale; the note is for a loss that explodes."""
    curves = tmp_path / "curves"
    curves.mkdir()
    for i, final in enumerate((0.95, 0.94, 0.93)):
        (curves / f"r{i}.csv").write_text(curve_csv(learning_curve(30, final=final, rate=0.6, seed=i)))
    late = np.concatenate([np.full(10, 0.1), learning_curve(20, final=0.9, rate=0.3)])  # at chance, then it climbs
    (curves / "plain.csv").write_text(curve_csv(late))
    cli(["evaluate", "--curves", str(curves), "--cutoffs", "8", "--predictors", "last_value"])
    assert "blew up" not in capsys.readouterr().err


def test_a_cutoff_refused_on_step_curves_counts_evaluations(capsys):
    """`lcpipe evaluate --cutoffs 0` on curves logged every 15 steps said '(50 epochs)'."""
    lm = Path(__file__).resolve().parents[1] / "bench" / "lm_table" / "curves" / "descr"
    with pytest.raises(SystemExit):
        cli(["evaluate", "--curves", str(lm), "--metric", "val_ce", "--mode", "min", "--cutoffs", "0",
             "--predictors", "last_value"])
    assert "(50 evaluations): 0 is not allowed; it must lie in [features.window + 1, evaluations - 1]" in \
        capsys.readouterr().err


# -- check_params: what the sweep's decision would refuse in sweep.history, refused before DVC deletes ---------

def _project_with_history(tmp_path: Path, monkeypatch, curves: dict[str, str]) -> Path:
    """A project folder with the pipeline's own curves in data/curves and a history folder holding `curves`."""
    monkeypatch.chdir(tmp_path)
    own = tmp_path / "data" / "curves"
    own.mkdir(parents=True)
    for i in range(4):
        (own / f"arch{i}.csv").write_text(curve_csv(learning_curve(20, final=0.6 + 0.1 * i, seed=i, noise=0.01)))
    folder = tmp_path / "data" / "history" / "h"
    folder.mkdir(parents=True)
    for name, text in curves.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize("case, says", [
    ("copy", "is a copy of it"),
    ("unfinished", "a history curve must be a finished run"),
    ("one", "give at least 2"),
    ("lr", "has no lr column over its epochs"),
])
def test_check_params_refuses_a_sweep_history_the_sweep_would_refuse(tmp_path, monkeypatch, case, says):
    """A copy of data/curves (the README's stop.history recipe), unfinished runs, a single curve, or curves with
    no lr column under features.inputs [.., lr] passed check_params, and the sweep stage failed only after
    DVC had deleted its figures."""
    from dataclasses import replace

    from lcpipe.config import Params
    from lcpipe.pipeline.params_check import check_paths

    finished = {f"h{i}.csv": curve_csv(learning_curve(30, final=0.5 + 0.1 * i, seed=10 + i)) for i in range(3)}
    curves = {"copy": {**finished, "mine.csv": curve_csv(learning_curve(20, final=0.6, seed=0, noise=0.01))},
              "unfinished": {**finished, "short.csv": curve_csv(learning_curve(30, final=0.9, seed=7)[:12]),
                             "short.json": '{"epochs": 30}'},
              "one": {"h0.csv": finished["h0.csv"]},
              "lr": finished}[case]
    folder = _project_with_history(tmp_path, monkeypatch, curves)
    for name in [n for n in curves if n.endswith(".csv")] if case == "lr" else ():  # no lr column at all
        text = (folder / name).read_text().splitlines()
        header = text[0].split(",")
        keep = [i for i, h in enumerate(header) if h != "lr"]
        (folder / name).write_text("\n".join(",".join(row.split(",")[i] for i in keep) for row in text) + "\n")
    p = Params()
    p = replace(p, sweep=replace(p.sweep, history=str(folder)), stop=replace(p.stop, history=str(folder)))
    if case == "lr":
        p = replace(p, features=replace(p.features, inputs=["epoch", "acc", "delta", "lr"]))
    with pytest.raises(LcpipeError, match=says):
        check_paths(p)


# -- examples and plots_png -----------------------------------------------------------------------------------

def test_the_optuna_example_refuses_a_study_that_minimizes(tmp_path, monkeypatch, capsys):
    """The README has the team create the study with `optuna create-study`; without --direction maximize that
    study minimizes, and the example joined it without a word: TPE and the pruner then sought the worst
    accuracy, and it reported the worst trial as the study's best."""
    storage = f"sqlite:///{tmp_path / 'o.db'}"
    optuna.create_study(study_name="s", storage=storage, direction="minimize")
    example = runpy.run_path(str(Path(__file__).resolve().parents[1] / "examples" / "optuna_digits.py"))
    monkeypatch.setattr(sys, "argv", ["optuna_digits.py", "--storage", storage, "--study", "s", "--trials", "1",
                                      "--epochs", "6"])
    with pytest.raises(SystemExit) as stopped:  # in-process, as `python examples/optuna_digits.py` runs main()
        example["main"]()
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "minimizes; this example maximizes" in err, err
    assert len(err.strip().splitlines()) == 1


def test_plots_png_show_with_a_revision_is_one_line(capsys):
    """`python -m lcpipe.reporting.plots_png show HEAD` was a KeyError traceback."""
    from lcpipe.reporting import plots_png

    with pytest.raises(SystemExit) as exit_:
        plots_png.main(["show", "HEAD"])
    assert exit_.value.code == 2 and "for revisions use diff" in capsys.readouterr().err
