"""ForecastPruner inside real Optuna studies (no mocks): in memory, SQLite, two processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from lcpipe.integrations.optuna import ForecastPruner, PrunerError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 40
COMPLETE, PRUNED = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED
optuna.logging.set_verbosity(optuna.logging.WARNING)


def curve(top: float, epochs: int = EPOCHS, rate: float = 6.0, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 0.002, epochs)
    return np.clip(top * (1 - np.exp(-np.arange(1, epochs + 1) / (rate * epochs / EPOCHS))) + noise, 0, 1)


def write_history(folder: Path, epochs: int = EPOCHS, n: int = 12) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, top in enumerate(np.linspace(0.4, 0.95, n)):
        rows = "\n".join(f"{e},{float(a)!r}" for e, a in enumerate(curve(top, epochs, seed=i), start=1))
        (folder / f"h{i}.csv").write_text(f"epoch,test_acc\n{rows}\n")
    return folder


TOPS = [0.9, 0.5, 0.55, 0.88, 0.45, 0.6, 0.91, 0.5]


def objective_for(pruner: ForecastPruner, with_params: bool = True):
    def objective(trial):
        top = trial.suggest_float("top", 0.3, 0.95) if with_params else TOPS[trial.number % len(TOPS)]
        acc = curve(top, seed=100 + trial.number)
        for epoch, value in enumerate(acc, start=1):
            trial.report(float(value), step=epoch)
            if trial.should_prune():
                mean, lower, upper = pruner.final_forecast(trial.study, trial)
                assert lower <= mean <= upper
                trial.set_user_attr("forecast", mean)
                raise optuna.TrialPruned()
        return float(acc[-1])
    return objective


def run_study(pruner, storage=None, with_params=True, tops=TOPS):
    study = optuna.create_study(direction="maximize", pruner=pruner, storage=storage)
    for top in tops:
        if with_params:
            study.enqueue_trial({"top": top})
    study.optimize(objective_for(pruner, with_params), n_trials=len(tops))
    return study


def check_pruned_the_losers(study):
    states = {t.number: t.state for t in study.trials}
    assert states[0] == COMPLETE  # nothing to lose to yet
    assert study.best_trial.number == 6  # the best curve (0.91) survived
    pruned = [n for n, s in states.items() if s == PRUNED]
    assert {1, 2, 4, 5, 7} <= set(pruned), states  # clearly worse curves stopped
    for n in pruned:
        t = study.trials[n]
        assert t.last_step < EPOCHS and t.user_attrs["forecast"] < study.best_value  # forecast below the best


def test_in_memory_study_prunes_the_losers_and_keeps_the_best(tmp_path):
    study = run_study(ForecastPruner(EPOCHS, write_history(tmp_path / "h")))
    check_pruned_the_losers(study)


def test_sqlite_study(tmp_path):
    study = run_study(ForecastPruner(EPOCHS, [write_history(tmp_path / "h")]), storage=f"sqlite:///{tmp_path}/s.db")
    check_pruned_the_losers(study)
    again = optuna.load_study(study_name=study.study_name, storage=f"sqlite:///{tmp_path}/s.db")
    assert sum(t.state == PRUNED for t in again.trials) >= 5


def test_without_params_and_without_history():
    """History = the completed trials only: nothing pruned before MIN_CURVES have completed."""
    pruner = ForecastPruner(EPOCHS)
    study = run_study(pruner, with_params=False)
    states = [t.state for t in study.trials]
    assert states[:3] == [COMPLETE] * 3 and states[4] == states[5] == states[7] == PRUNED, states
    assert study.best_trial.number == 6 and not study.trials[0].params
    with pytest.raises(PrunerError, match="nothing to forecast from"):
        lone = optuna.create_study(direction="maximize", pruner=pruner)
        t = lone.ask()
        t.report(0.5, 1)
        pruner.final_forecast(lone, t)


def test_history_of_other_lengths(tmp_path):
    write_history(tmp_path / "h", epochs=15)
    write_history(tmp_path / "h", epochs=120, n=5)  # overwrites h0..h4 with longer curves
    check_pruned_the_losers(run_study(ForecastPruner(EPOCHS, tmp_path / "h")))


def test_warmup_no_pruning_before_it(tmp_path):
    study = run_study(ForecastPruner(EPOCHS, write_history(tmp_path / "h"), warmup=0.25))
    assert all(t.last_step >= 10 for t in study.trials)
    assert ForecastPruner(EPOCHS, warmup=0.0).warmup_steps == 3  # never on the first two reports


@pytest.mark.parametrize("direction, value, metric, message", [
    ("maximize", 87.5, None, r"reported 87.5 at step 1.*fraction in \[0, 1\].*divide a percentage by 100"),
    ("minimize", -0.3, None, r"reported -0.3 at step 1; with no metric=, ForecastPruner reads a study that "
                             r"minimizes as a loss, a value >= 0 \(a loss or error\): name what the trials report"),
    ("minimize", 1.7, "val_acc", r"reported 1.7 at step 1.*fraction in \[0, 1\] for 'val_acc'"),
])
def test_one_clear_error_at_the_first_report(direction, value, metric, message):
    study = optuna.create_study(direction=direction, pruner=ForecastPruner(EPOCHS, metric=metric))

    def objective(trial):
        trial.report(value, step=1)
        trial.should_prune()
        return value

    with pytest.raises(ValueError, match=message) as err:
        study.optimize(objective, n_trials=1)
    assert isinstance(err.value, PrunerError) and "\n" not in str(err.value)


WORKER = textwrap.dedent("""
    import os, sys, time
    import numpy as np, optuna
    from lcpipe.integrations.optuna import ForecastPruner
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage, name, history, epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    pruner = ForecastPruner(epochs, history)
    study = optuna.load_study(study_name=name, storage=storage, pruner=pruner)

    tops = iter(float(v) for v in sys.argv[5].split(","))

    def objective(trial):  # each worker its own curves (enqueued trials can race on SQLite)
        top = next(tops)
        trial.suggest_float("top", top, top)
        trial.set_user_attr("pid", os.getpid())
        t = np.arange(1, epochs + 1)
        for epoch, value in enumerate(top * (1 - np.exp(-t / 6.0)), start=1):
            trial.report(float(value), step=epoch)
            time.sleep(0.002)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(value)

    study.optimize(objective, n_trials=len(sys.argv[5].split(",")))
""")


def test_two_processes_share_one_sqlite_study(tmp_path):
    storage = f"sqlite:///{tmp_path}/shared.db"
    history = write_history(tmp_path / "h")
    study = optuna.create_study(direction="maximize", storage=storage, study_name="shared")
    study.enqueue_trial({"top": 0.92})
    study.optimize(objective_for(ForecastPruner(EPOCHS)), n_trials=1)  # one finished rival before the workers
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, str(script), storage, "shared", str(history), str(EPOCHS), tops],
                              env=env, stderr=subprocess.PIPE, text=True)
             for tops in ("0.5,0.45,0.6,0.55,0.5", "0.4,0.52,0.58,0.47,0.62")]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    trials = optuna.load_study(study_name="shared", storage=storage).trials
    pruned = [t for t in trials if t.state == PRUNED]
    assert len(pruned) == 10, [(t.number, t.state, t.last_step) for t in trials]
    assert len({t.user_attrs["pid"] for t in pruned}) == 2  # both processes pruned trials
    assert all(t.last_step < EPOCHS for t in pruned)


def test_bench_quick():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "pruners.py"), "--quick"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.rstrip().splitlines()[-1]
    assert re.fullmatch(r"ForecastPruner: compute \d+\.\d % regret \d+\.\d{3} pts \| best Optuna pruner at <= "
                        r"\d+\.\d % compute: (none|\S+ \d+\.\d{3} pts)", last), last
    for name in ("NopPruner", "Median(warmup10%)", "Hyperband(rf3)", "SuccessiveHalving()", "ForecastPruner"):
        assert name in proc.stdout
    # the reference row: knowing the finals, it loses nothing and trains less than training everything
    oracle = re.search(r"^Oracle\(step 3\)\s+(\d+\.\d) \[.*\]\s+(\d+\.\d{3}) \[", proc.stdout, re.M)
    assert oracle and float(oracle[2]) == 0 and float(oracle[1]) < 100, proc.stdout
    # where the epochs go: each row's parts add up to its compute, near-ties are part of "without a new best"
    compute = dict(re.findall(r"^(\S.*?)\s{2,}(\d+\.\d) \[", proc.stdout, re.M))
    parts = re.findall(r"^  (\S.*?)\s+(\d+\.\d) /\s+(\d+\.\d) \(\s*(\d+\.\d)\) /\s+(\d+\.\d)$", proc.stdout, re.M)
    assert {p[0] for p in parts} == set(compute) - {"pruner"}, proc.stdout
    for name, new, old, near, pruned in parts:
        assert abs(float(new) + float(old) + float(pruned) - float(compute[name])) <= 0.2 and float(near) <= float(old)
    assert dict((p[0], p[2]) for p in parts)["Oracle(step 3)"] == "0.0"  # it trains no trial that ends behind


def test_a_multi_objective_study_is_one_clear_line():
    """Optuna itself refuses trial.report in a multi-objective study; the pruner's own entry points
    (final_forecast, prune) say why in one line."""
    pruner = ForecastPruner(EPOCHS)
    study = optuna.create_study(directions=["minimize", "maximize"], pruner=pruner)
    trial = study.ask()
    with pytest.raises(PrunerError, match=r"single-objective studies; this one has 2 objectives") as err:
        pruner.final_forecast(study, trial)
    assert "\n" not in str(err.value)


def test_several_workers_compare_running_trials_at_the_same_step_before_any_completes(tmp_path):
    """compare_running: two workers, nothing completed yet. A trial behind where another running trial
    was at the same step is pruned; the one ahead is not; without compare_running nothing is. On an
    accuracy it is on by default (None); a loss study's default is off (test_any_metric)."""
    history = write_history(tmp_path / "history")
    for compare, expected in ((True, {"ahead": False, "behind": True}), (None, {"ahead": False, "behind": True}),
                              (False, {"ahead": False, "behind": False})):
        pruner = ForecastPruner(EPOCHS, history, compare_running=compare, fit_cache=False)
        study = optuna.create_study(direction="maximize", pruner=pruner)
        ahead, behind = study.ask({"top": optuna.distributions.FloatDistribution(0.3, 0.95)}), study.ask()
        for step, value in enumerate(curve(0.92, seed=1)[:20], start=1):  # one worker, further on
            ahead.report(float(value), step)
        pruned_at = None
        for step, value in enumerate(curve(0.45, seed=2)[:20], start=1):  # another worker, far behind
            behind.report(float(value), step)
            if behind.should_prune():
                pruned_at = step
                break
        decided = {"ahead": ahead.should_prune(), "behind": pruned_at is not None}  # none has reached 20 but ahead
        assert decided == expected, (compare, decided)
        assert not [t for t in study.trials if t.state == COMPLETE]




@pytest.mark.parametrize("history_prior, kept", [(4, True), (None, False)])
def test_four_completed_trials_that_agree_do_not_make_an_early_forecast_sharp(tmp_path, history_prior, kept):
    """Four completed trials of one shape give four equal forecast errors, a spread at the floor. A slow
    starter checked at its 3rd epoch is another shape, whose forecast from 3 points the history shows
    can be far off (its slow curves end anywhere from 0.5 to 0.95). With history_prior (a loss's default:
    bench/lm_table's LoRA sweeps lost their best trial so), until STUDY_ERRORS trials have completed
    their spread is shrunk toward the history's, and the slow starter, which ends best, runs on; without
    it (an accuracy's default) it is pruned at epoch 3."""
    def shaped(top: float, rate: float, seed: int) -> np.ndarray:
        noise = np.random.default_rng(seed).normal(0, 0.002, EPOCHS)
        return np.clip(top * (1 - np.exp(-np.arange(1, EPOCHS + 1) / rate)) + noise, 0, 1)
    history = tmp_path / "h"
    history.mkdir()
    shapes = [(top, 12.0) for top in np.linspace(0.5, 0.95, 8)] + [(top, 2.0) for top in np.linspace(0.6, 0.9, 6)]
    for i, (top, rate) in enumerate(shapes):
        rows = "\n".join(f"{e},{float(a)!r}" for e, a in enumerate(shaped(top, rate, i), start=1))
        (history / f"h{i}.csv").write_text(f"epoch,test_acc\n{rows}\n")
    curves = [shaped(0.80, 2.0, 100 + i) for i in range(4)] + [shaped(0.9, 12.0, 200)]
    study = optuna.create_study(direction="maximize",
                                pruner=ForecastPruner(EPOCHS, history, history_prior=history_prior))

    def objective(trial):
        for epoch, value in enumerate(curves[trial.number], start=1):
            trial.report(float(value), step=epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(curves[trial.number][-1])
    study.optimize(objective, n_trials=len(curves))
    assert [t.state for t in study.trials[:4]] == [COMPLETE] * 4
    assert study.trials[4].state == (COMPLETE if kept else PRUNED) and (study.best_trial.number == 4) == kept


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # PartialFixedSampler
@pytest.mark.parametrize("reruns", [True, False])
def test_a_repeat_of_a_finished_trial_is_pruned_at_once_and_told_its_twins_final(tmp_path, reruns):
    """TPE asks for a config of a discrete space again; a seeded objective then reports the same values
    as the first time. The sampler's repeat of the best config is pruned at its third report (the
    forecast rule alone keeps a tie), and final_forecast is the twin's final, exactly. The same params
    trained with another seed report other values, and an enqueued repeat (the best params again, to
    keep the weights) is trained as asked."""
    pruner = ForecastPruner(EPOCHS, write_history(tmp_path / "h"), reruns=reruns)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    told = {}

    def objective(trial):
        top = trial.suggest_categorical("top", [0.5, 0.9, 0.91])
        seed = 100 + int(top * 100) if trial.number != 4 else 4  # trial 4: another seed
        for epoch, value in enumerate(curve(top, seed=seed), start=1):
            trial.report(float(value), step=epoch)
            if trial.should_prune():
                told[trial.number] = pruner.final_forecast(trial.study, trial)
                raise optuna.TrialPruned()
        return float(value)

    for top in (0.9, 0.5, 0.91):
        study.enqueue_trial({"top": top})
    study.optimize(objective, n_trials=3)
    study.sampler = optuna.samplers.PartialFixedSampler({"top": 0.91}, optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=2)  # the sampler asks for the best config twice: trials 3 and 4
    study.enqueue_trial({"top": 0.91})
    study.optimize(objective, n_trials=1)  # trial 5, enqueued
    states = [t.state for t in study.trials]
    assert states[2] == COMPLETE and study.trials[2].last_step == EPOCHS
    if reruns:
        assert states[3] == PRUNED and study.trials[3].last_step == 3
        assert told[3] == (study.trials[2].value,) * 3
    else:
        assert states[3] == COMPLETE and study.trials[3].value == study.trials[2].value
    assert states[4] == COMPLETE  # same params, another seed: its own curve, a tie with the best
    assert states[5] == COMPLETE and study.trials[5].last_step == EPOCHS  # enqueued: trained as asked


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # PartialFixedSampler
def test_runs_that_agree_only_while_the_metric_has_not_moved_are_no_twins():
    """An F1 of 0 for the first epochs, whatever the seed: equal reports, but no repeat."""
    pruner = ForecastPruner(20, None, metric="f1", fit_cache=False)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    study.sampler = optuna.samplers.PartialFixedSampler({"width": 64}, optuna.samplers.RandomSampler(seed=0))
    rises = {0: 0.59, 1: 0.86, 2: 0.60, 3: 0.58}

    def objective(trial):
        trial.suggest_categorical("width", [32, 64])
        f1 = np.r_[np.zeros(4), np.linspace(0.2, rises[trial.number], 16)]
        for epoch, value in enumerate(f1, start=1):
            trial.report(float(value), step=epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(f1[-1])

    study.optimize(objective, n_trials=4)
    assert study.best_trial.number == 1 and study.best_value == 0.86  # the best seed was not taken for a repeat


def test_reruns_must_be_a_bool():
    with pytest.raises(PrunerError, match="reruns='yes'"):
        ForecastPruner(EPOCHS, reruns="yes")


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # PartialFixedSampler
def test_a_twin_that_has_reached_its_last_point_is_no_longer_pruned():
    """Two workers given one config: the first completes while the second is at step 27 of 28, a check
    (3, 5, 8, 12, 18, 27) that a loop counting from 0 also makes at its last report. The second has
    reached its end (within one interval): trained, not pruned as a rerun (red team, 2026-12-04 late)."""
    pruner = ForecastPruner(28, None, fit_cache=False)
    study = optuna.create_study(direction="maximize", pruner=pruner,
                                sampler=optuna.samplers.PartialFixedSampler({"w": 1}, optuna.samplers.RandomSampler()))
    values = curve(0.9, epochs=28)
    a, b = study.ask(), study.ask()
    for t in (a, b):
        t.suggest_categorical("w", [1, 2])
    for step in range(1, 27):
        for t in (a, b):
            t.report(float(values[step - 1]), step)
            assert not t.should_prune()
    a.report(float(values[26]), 27)
    a.report(float(values[27]), 28)
    study.tell(a, float(values[27]))
    b.report(float(values[26]), 27)
    assert not b.should_prune()
    assert pruner.final_forecast(study, b)[0] == pytest.approx(float(values[26]))  # its own, at its end


@pytest.mark.parametrize("length", ["epochs", "steps"])
def test_a_trainer_reporting_global_step_past_a_length_in_epochs_hears_one_line_naming_the_step(length):
    """Red team: a Hugging Face loop reporting step=global_step (500 an epoch, 10 epochs) under epochs=10 (or
    steps=10) heard, at its first report, "give epochs= the last step the trials report", then twice "report more
    often" (it reported 10 times, nowhere near its end). One line now, at its first report, in the keyword the user
    wrote, naming the step of evaluation 10 were it evaluated every 500 steps: 5000."""
    curves = [[1.0 / (1 + 0.3 * e) + 0.02 * k for e in range(1, 11)] for k in range(5)]
    study = optuna.create_study(direction="minimize",
                                pruner=ForecastPruner(**{length: 10}, metric="eval_loss", fit_cache=False))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for curve in curves:
            trial = study.ask()
            for epoch, value in enumerate(curve, 1):
                trial.report(value, step=500 * epoch)
                trial.should_prune()
            study.tell(trial, curve[-1])
    said = [str(w.message) for w in seen if "ForecastPruner" in str(w.message)]
    assert len(said) == 1 and f"if 10 counts evaluations every 500 steps, give {length}=5000;" in said[0], said


def test_a_negated_loss_is_told_to_report_the_loss_in_a_minimized_study():
    """Red team: maximizing -val_loss was advised kind='any', under which the history's falling losses read upside
    down against the trials' rising -loss (forecasts twice as far off). The advice is the study's direction."""
    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(epochs=30, metric="val_loss"))
    trial = study.ask()
    for step, value in enumerate((-2.37, -2.30, -2.26), 1):
        trial.report(value, step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the name against the direction, said as a warning first
        with pytest.raises(PrunerError, match="a negated val_loss\\? report val_loss itself in a study created with "
                                              "direction='minimize'"):
            trial.should_prune()


def test_an_error_rate_reaching_zero_gets_a_band_on_its_own_scale():
    """Red team: a validation error counted on a small set (0.01 steps) that reaches exactly 0 was read at 1e-12 in
    log space, 20 natural logs below its last step: a trial holding 0 got final_forecast 2e-5 [0, 1.6e8]. A 0 is now
    half the least positive value the curves step by, and every band stays within the rates' own range."""
    rng = np.random.default_rng(0)
    curves = [np.maximum(0.0, np.round(40 * np.exp(-(0.15 + 0.05 * k) * np.arange(1, 31)) + rng.normal(0, 0.5, 30))
                         / 100) for k in range(8)]
    pruner = ForecastPruner(epochs=30, metric="val_error", fit_cache=False)
    study = optuna.create_study(direction="minimize", pruner=pruner)
    bands = []
    for curve in curves:
        trial = study.ask()
        for step, value in enumerate(curve, 1):
            trial.report(float(value), step)
            if trial.should_prune():
                bands.append(pruner.final_forecast(study, trial))
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, float(curve[-1]))
    assert bands and all(0 <= low <= mean <= high < 0.1 for mean, low, high in bands), bands


def test_trials_reporting_once_past_the_length_are_told_and_a_reward_is_not_called_a_negated_loss():
    """Review: a version of the past-`epochs` line waited for a trial's second report, so trials reporting once (step
    500 of epochs=10) were told nothing and nothing was pruned; and a reward said to be positive (kind='positive')
    in a maximize study was asked whether it was a negated loss."""
    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(epochs=10, fit_cache=False))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for k in range(3):
            trial = study.ask()
            trial.report(0.5 + 0.01 * k, step=500)
            trial.should_prune()
            study.tell(trial, 0.5 + 0.01 * k)
    said = [str(w.message) for w in seen if "ForecastPruner" in str(w.message)]
    assert len(said) == 1 and "reported step 500, past epochs" in said[0], said
    study = optuna.create_study(direction="maximize",
                                pruner=ForecastPruner(epochs=30, metric="reward", kind="positive"))
    trial = study.ask()
    for step, value in enumerate((-2.37, -2.30, -2.26), 1):
        trial.report(value, step)
    with pytest.raises(PrunerError, match="if it may go negative: ForecastPruner\\(..., kind='any'\\)"):
        trial.should_prune()


def test_a_history_lacking_the_metric_is_a_pruner_error_whatever_the_metric(tmp_path):
    """`except PrunerError` catches every fault of the pruner's inputs: a history without the column named by
    metric= was the library's base LcpipeError (left alone 2026-12-07, fixed after)."""
    history = tmp_path / "hist"
    history.mkdir()
    for i in range(3):
        (history / f"r{i}.csv").write_text("epoch,val_acc\n" + "".join(f"{e},{0.1 * e + 0.01 * i}\n"
                                                                       for e in range(1, 6)))
    with pytest.raises(PrunerError, match=r"missing column 'objective'.*val_acc"):
        ForecastPruner(history=history, metric="objective", epochs=5)
