"""Any metric, either direction: losses on a step axis, NaN/inf divergence and wrong-kind values,
through the CLI (its first test through the installed console script, the rest in this process),
the Python API and ForecastPruner (real Optuna studies, in memory and SQLite)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import lcpipe
from lcpipe.curve import on_grid
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.logs import read_curve
from lcpipe.metric import Metric
from tests.helpers import VENV_BIN, lcpipe_here

optuna = pytest.importorskip("optuna")
from lcpipe.integrations.optuna import ForecastPruner, PrunerError  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
COMPLETE, PRUNED = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED
STEPS = 750  # planned optimizer steps; evaluations every 15 steps, as a fine-tuning loop reports them
EVERY = 15


def lm_loss(floor: float, steps: np.ndarray, seed: int = 0, horizon: int = STEPS) -> np.ndarray:
    """A cross-entropy falling from ~2.4 towards `floor` (a power law in the step), with jitter."""
    noise = np.random.default_rng(seed).normal(0, 0.002, len(steps))
    return floor + (2.4 - floor) * (1 + steps / (0.05 * horizon)) ** -0.7 + noise


def write_loss_curve(path: Path, steps: np.ndarray, values: np.ndarray, **config) -> None:
    rows = "\n".join(f"{int(s)},{float(v)!r}" for s, v in zip(steps, values))
    path.write_text(f"step,val_ce\n{rows}\n")
    if config:
        path.with_suffix(".json").write_text(json.dumps(config))


def cli_script(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "lcpipe"), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return lcpipe_here(*args, cwd=cwd)


@pytest.fixture
def loss_study(tmp_path) -> Path:
    """A history of 8 finished loss curves evaluated at IRREGULAR steps (dense late, as logs often
    are), 1,000 steps long; runs at step 300 of 750, evaluated every 15 steps: a good one, a bad
    one, and one that diverged to NaN at step 240."""
    (tmp_path / "history").mkdir()
    (tmp_path / "runs").mkdir()
    irregular = np.unique(np.concatenate([np.arange(0, 800, 40), np.arange(800, 1001, 10)]))
    for i, floor in enumerate(np.linspace(1.6, 2.1, 8)):
        write_loss_curve(tmp_path / "history" / f"old{i}.csv", irregular, lm_loss(floor, irregular, i, 1000))
    seen = np.arange(EVERY, 301, EVERY)
    write_loss_curve(tmp_path / "runs" / "good.csv", seen, lm_loss(1.6, seen, 10))
    write_loss_curve(tmp_path / "runs" / "bad.csv", seen, lm_loss(2.1, seen, 11))
    broken = lm_loss(1.7, seen, 12)
    broken[15:] = np.nan
    write_loss_curve(tmp_path / "runs" / "diverged.csv", seen, broken)
    return tmp_path


@pytest.mark.parametrize("name, mode", [
    ("val_loss", "min"), ("val_ce", "min"), ("eval/perplexity", "min"), ("valPpl", "min"), ("train_mse", "min"),
    ("test_err", "min"), ("val_acc", "max"), ("f1", "max"), ("episode_reward", "max"), ("step_time", "min"),
    # names of several words (AlgoPerf logs val_cross_entropy)
    ("val_cross_entropy", "min"), ("CrossEntropy", "min"), ("cross-entropy", "min"), ("neg_log_likelihood", "min"),
    ("negative_log_likelihood", "min"), ("bits_per_byte", "min"), ("brier_score", "min"), ("val_rmsle", "min"),
    ("val_log_likelihood", "max"), ("cross_val_accuracy", "max"), ("val_xe", "min"),  # xe: cross-entropy (review)
])
def test_mode_auto_reads_the_direction_from_the_name(name, mode):
    metric = Metric.infer(name)
    assert metric.mode == mode and "--mode auto" in metric.describe()
    assert Metric.infer(name, "max").mode == "max"  # an explicit mode wins


def test_each_kind_maps_to_an_internal_space_where_higher_is_better_and_back():
    for metric, worse, better in ((Metric.infer("val_acc"), 0.6, 0.9), (Metric.infer("val_loss"), 2.3, 1.9),
                                  (Metric.infer("reward").with_scale([np.array([0.0, 50.0])]), 10.0, 40.0),
                                  (Metric.infer("test_err", kind="fraction"), 0.4, 0.1)):
        low, high = metric.to_internal([worse, better])
        assert high > low, metric
        np.testing.assert_allclose(metric.from_internal([low, high]), [worse, better])
        m, lo, hi = metric.band_from_internal(low, low - 0.1, low + 0.1)
        assert lo < m < hi  # a minimised metric's band turns over


def test_forecast_cli_forecasts_losses_on_an_irregular_step_axis_and_stops_a_diverged_run(loss_study):
    proc = cli_script("forecast", "--history", "history", "--runs", "runs", "--metric", "val_ce", "--steps", STEPS,
               "--out", "f.json", cwd=loss_study)
    assert proc.returncode == 0, proc.stderr
    assert "metric: val_ce: lower is better (--mode auto: 'val_ce' names a ce" in proc.stderr
    report = json.loads((loss_study / "f.json").read_text())
    assert (report["metric"], report["mode"], report["epochs"]) == ("val_ce", "min", STEPS)
    runs = {r["run"]: r for r in report["runs"]}
    for name in ("good", "bad"):
        r = runs[name]
        assert r["observed"] == 300 and r["epochs"] == STEPS and r["forecast_at"][-1] == STEPS
        assert 1.2 < r["final"]["lower"] <= r["final"]["mean"] <= r["final"]["upper"] < 2.4
        assert r["final"]["mean"] < float(r["forecast"][0])  # a loss still falling
    assert runs["good"]["final"]["mean"] < runs["bad"]["final"]["mean"]
    assert runs["good"]["decision"] == "keep" and runs["bad"]["decision"] == "stop"
    diverged = runs["diverged"]
    assert diverged["decision"] == "stop" and diverged["final"]["mean"] is None
    assert diverged["reason"].startswith("diverged: val_ce is 'nan' at step 240")
    assert "diverged: val_ce is 'nan' at step 240" in proc.stdout


def test_epochs_on_runs_logged_by_step_past_it_counts_their_evaluations(loss_study):
    """A fine-tuning loop evaluating every 15 steps, 50 times: `--epochs 50` on runs already at step
    300 cannot mean step 50, so it plans their 50th evaluation, step 750, says so, and forecasts as
    `--steps 750` does; `--steps 50` stays an error, and so does an --epochs a run has outgrown."""
    by_steps = cli("forecast", "--history", "history", "--runs", "runs", "--metric", "val_ce", "--steps", STEPS,
                   "--out", "s.json", cwd=loss_study)
    by_evaluations = cli("forecast", "--history", "history", "--runs", "runs", "--metric", "val_ce", "--epochs",
                         STEPS // EVERY, "--out", "e.json", cwd=loss_study)
    assert by_steps.returncode == 0 and by_evaluations.returncode == 0, by_evaluations.stderr
    assert "--epochs 50: 3 run(s) logged by optimizer step are past step 50" in by_evaluations.stderr
    assert "50 evaluations end at step 750" in by_evaluations.stderr
    steps, evaluations = (json.loads((loss_study / f).read_text())["runs"] for f in ("s.json", "e.json"))
    assert [r["epochs"] for r in evaluations] == [STEPS] * 3
    assert [r["final"] for r in evaluations] == [r["final"] for r in steps]
    for args, says in ((("--steps", 50), "300 steps observed, more than the 50 planned"),
                       (("--epochs", 19), "--epochs 19 is neither its steps nor its evaluations")):  # 20 made
        proc = cli("forecast", "--history", "history", "--runs", "runs", "--metric", "val_ce", *args, cwd=loss_study)
        assert proc.returncode == 2 and says in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    # a run evaluated every 5 steps would end its 50 at step 250, the others at 750: one plan or an error
    steps = np.arange(5, 61, 5)
    write_loss_curve(loss_study / "runs" / "dense.csv", steps, lm_loss(1.7, steps, 3))
    proc = cli("forecast", "--history", "history", "--runs", "runs", "--metric", "val_ce", "--epochs", 50,
               cwd=loss_study)
    assert proc.returncode == 2 and "they end at different steps" in proc.stderr and "give --steps" in proc.stderr


def test_mode_max_on_a_loss_column_ranks_the_other_way(loss_study):
    (loss_study / "runs" / "diverged.csv").unlink()
    proc = cli("forecast", "--history", "history", "--runs", "runs", "--metric", "val_ce", "--mode", "max",
               "--epochs", STEPS, "--out", "f.json", cwd=loss_study)
    assert proc.returncode == 0, proc.stderr
    runs = {r["run"]: r for r in json.loads((loss_study / "f.json").read_text())["runs"]}
    assert "higher is better (--mode max)" in proc.stderr
    assert runs["bad"]["p_best"] > runs["good"]["p_best"] and runs["bad"]["decision"] == "keep"


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("\n300,", "\n300,-", 1), r"runs/bad.csv: line 21: column 'val_ce' is '-[0-9.]+' where a "
                                                   r"value >= 0 \(a loss or error\) was expected for 'val_ce'"),
    (lambda t: re.sub(r"\n300,[^\n]*", "\n300,abc", t), r"line 21: column 'val_ce' is 'abc', not a number"),
    (lambda t: t.replace("\n300,", "\n30,", 1), r"line 21: step '30' after '285'; step must increase"),
])
def test_a_value_of_the_wrong_kind_is_one_line_naming_file_column_and_row(loss_study, edit, message):
    bad = loss_study / "runs" / "bad.csv"
    bad.write_text(edit(bad.read_text()))
    proc = cli("forecast", "--history", "history", "--runs", "runs", "--metric", "val_ce", "--steps", STEPS,
               "--out", "f.json", cwd=loss_study)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert re.search(message, proc.stderr), proc.stderr
    assert not (loss_study / "f.json").exists()


def test_an_accuracy_above_one_is_refused_by_name(tmp_path):
    (tmp_path / "a.csv").write_text("epoch,val_acc\n1,0.5\n2,1.7\n3,0.6\n")
    proc = cli("forecast", "--history", "a.csv", "--runs", "a.csv", "--metric", "val_acc", "--epochs", 5,
               cwd=tmp_path)
    assert proc.returncode == 2 and "a.csv: line 3: column 'val_acc' is '1.7' where a fraction in [0, 1]" \
        in proc.stderr


def test_evaluate_backtests_losses_in_their_own_units(loss_study):
    proc = cli("evaluate", "--curves", "history", "--metric", "val_ce", "--mode", "min", "--cutoffs", "10,20",
               "--predictors", "auto,last_value", "--out", "e.json", cwd=loss_study)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((loss_study / "e.json").read_text())
    assert (report["metric"], report["mode"]) == ("val_ce", "min")
    auto = [r for r in report["results"] if r["predictor"] == "auto"]
    last = [r for r in report["results"] if r["predictor"] == "last_value"]
    assert all(1.4 < r["final_predicted"] < 2.4 and r["final_lower"] <= r["final_upper"] for r in auto)
    # the loss keeps falling after the cutoff: the analogs see it, holding the last value does not
    assert np.mean([r["rmse"] for r in auto]) < np.mean([r["rmse"] for r in last])
    assert "in its own units (val_ce)" in proc.stdout


def test_evaluate_as_the_issue_calls_it_prints_its_tables_and_skips_a_cutoff_past_a_short_curve(loss_study):
    """`lcpipe evaluate --curves DIR --metric val_ce --mode min --cutoffs 10,20,40`: no --out needed, and a
    curve shorter than a cutoff is skipped at that cutoff with one line, not the whole evaluation refused."""
    steps = np.arange(0, 500, 20)  # 25 points, the others 40: cutoff 30 is past its end
    write_loss_curve(loss_study / "history" / "short.csv", steps, lm_loss(1.8, steps, 20, 500))
    proc = cli("evaluate", "--curves", "history", "--metric", "val_ce", "--mode", "min", "--cutoffs", "10,20,30",
               "--predictors", "auto,last_value", cwd=loss_study)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"short: \d+ points; cutoff 30 at or past its end, skipped", proc.stderr), proc.stderr
    assert proc.stderr.count("at or past its end") == 1
    assert "over 9 target(s) (fewer at a cutoff past a curve's end)" in proc.stdout
    table = proc.stdout.split("mean MAE")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "cutoff" not in line]
    assert [row.split("|")[1].strip() for row in rows] == ["10", "20", "30"]
    assert not list(loss_study.glob("*.json"))
    proc = cli("evaluate", "--curves", "history", "--metric", "val_ce", "--cutoffs", "60", "--predictors", "auto",
               cwd=loss_study)
    assert proc.returncode == 2 and "every cutoff (60) is at or past the end of every target" in proc.stderr


def test_python_api_takes_a_mode_and_losses_in_memory():
    t = np.arange(1, 41)
    history = {f"h{i}": list(0.3 + (1.5 + 0.2 * i) * np.exp(-t / 8)) for i in range(6)}
    runs = {"low": list(0.3 + 1.45 * np.exp(-t[:12] / 8)), "high": list(0.6 + 1.9 * np.exp(-t[:12] / 8)),
            "inf": [2.0, 1.8, float("inf"), 1.0, 0.9, 0.8]}
    frame = lcpipe.forecast(history, runs, epochs=40, metric="mse", mode="min").set_index("run")
    assert frame.loc["low", "final"] < frame.loc["high", "final"] and frame.loc["low", "decision"] == "keep"
    assert frame.loc["inf", "decision"] == "stop" and frame.loc["inf", "reason"] == "diverged: mse is inf at epoch 3"
    assert np.isfinite(frame.loc[["low", "high"], "final"]).all()
    with pytest.raises(LcpipeError, match=r"run 'neg': value -0.5 at epoch 2 where a value >= 0"):
        lcpipe.forecast(history, {"neg": [1.0, -0.5, 0.4, 0.3, 0.3, 0.2]}, epochs=40, metric="mse")
    with pytest.raises(LcpipeError, match="mode 'down': choose min, max or auto"):
        lcpipe.forecast(history, runs, epochs=40, metric="mse", mode="down")


def test_python_api_forecasts_a_reward_of_any_sign():
    t = np.arange(1, 31)
    history = {f"h{i}": list(-200 + (150 + 20 * i) * (1 - np.exp(-t / 6))) for i in range(6)}
    runs = {"good": list(-200 + 255 * (1 - np.exp(-t[:8] / 6))), "poor": list(-200 + 60 * (1 - np.exp(-t[:8] / 6)))}
    frame = lcpipe.forecast(history, runs, epochs=30, metric="reward").set_index("run")
    assert frame.loc["good", "final"] > frame.loc["poor", "final"] and frame.loc["good", "final"] > 0
    assert frame.loc["good", "decision"] == "keep" and frame.loc["poor", "decision"] == "stop"


# -- ForecastPruner: minimize studies, step=global_step, divergence ----------------------------------

FLOORS = [1.6, 2.05, 2.0, 1.62, 2.1, 1.95, 1.58, 2.05]  # trial 6 ends best


def loss_objective(pruner, diverge: int | None = None, zero_based: bool = False):
    steps = np.arange(EVERY, STEPS + 1, EVERY)

    def objective(trial):
        floor = trial.suggest_float("floor", 1.5, 2.2)
        loss = lm_loss(floor, steps, 100 + trial.number)
        for i, (step, value) in enumerate(zip(steps, loss)):
            if diverge is not None and trial.number == diverge and i >= 12:
                value = float("nan")
            trial.report(float(value), step=int(step) - (EVERY if zero_based else 0))
            if trial.should_prune():
                mean, lower, upper = pruner.final_forecast(trial.study, trial)
                trial.set_user_attr("forecast", mean)
                assert np.isnan(mean) or lower <= mean <= upper
                raise optuna.TrialPruned()
        return float(loss[-1])
    return objective


def loss_study_run(pruner, storage=None, **kw):
    study = optuna.create_study(direction="minimize", pruner=pruner, storage=storage)
    for floor in FLOORS:
        study.enqueue_trial({"floor": floor})
    study.optimize(loss_objective(pruner, **kw), n_trials=len(FLOORS))
    return study


@pytest.mark.parametrize("storage, study_calibration", [(None, 4), ("sqlite", 4), (None, 0)])
def test_pruner_minimizes_a_loss_reported_at_global_steps(tmp_path, storage, study_calibration):
    """With its default, the pruner decides from the study's own forecast errors once 4 trials have
    completed; with study_calibration=0 from the pairwise rule throughout: both prune the losers."""
    (tmp_path / "h").mkdir()
    for i, floor in enumerate(np.linspace(1.55, 2.15, 8)):
        steps = np.arange(0, 1201, 40)
        write_loss_curve(tmp_path / "h" / f"h{i}.csv", steps, lm_loss(floor, steps, i, 1200))
    pruner = ForecastPruner(STEPS, tmp_path / "h", metric="val_ce", study_calibration=study_calibration)
    study = loss_study_run(pruner, f"sqlite:///{tmp_path}/s.db" if storage else None)
    states = {t.number: t.state for t in study.trials}
    assert study.best_trial.number == 6 and states[0] == COMPLETE
    pruned = {n for n, s in states.items() if s == PRUNED}
    assert {1, 2, 4, 7} <= pruned, states  # clearly worse losses stopped
    for n in pruned:
        t = study.trials[n]
        assert t.last_step < STEPS and t.user_attrs["forecast"] > study.best_value  # forecast above the best loss


def test_a_diverged_trial_is_pruned_at_once_and_spoils_no_other_forecast(tmp_path):
    pruner = ForecastPruner(STEPS)
    study = loss_study_run(pruner, diverge=3)
    diverged = study.trials[3]
    assert diverged.state == PRUNED and diverged.last_step == 13 * EVERY  # the first NaN report
    assert np.isnan(diverged.user_attrs["forecast"])
    others = [t for t in study.trials if t.state == PRUNED and t.number != 3]
    assert others and all(np.isfinite(t.user_attrs["forecast"]) for t in others)
    assert study.best_trial.number == 6


def test_steps_counted_from_zero_prune_like_steps_counted_from_one():
    one = loss_study_run(ForecastPruner(STEPS))
    zero = loss_study_run(ForecastPruner(STEPS), zero_based=True)
    pruned = [{t.number for t in s.trials if t.state == PRUNED} for s in (one, zero)]
    assert pruned[0] and pruned[0] == pruned[1]


def test_epochs_given_as_a_count_of_evaluations_is_one_warning_naming_the_step_to_give():
    """Trials report step=global_step every 15 steps up to 750; epochs=50 (the number of evaluations)
    would forecast to step 50: one warning line says so and names epochs=750."""
    pruner = ForecastPruner(STEPS // EVERY)
    with pytest.warns(UserWarning) as caught:
        loss_study_run(pruner)
    said = [str(w.message) for w in caught if "past epochs" in str(w.message)]
    assert said == ["ForecastPruner(epochs=50): trial 0 reported step 75, past epochs; reports past it are ignored: "
                    "if 50 counts evaluations, give epochs=750 (the step of evaluation 50 at this trial's interval "
                    "of 15 steps)"]
    assert next(w for w in caught if "past epochs" in str(w.message)).filename == __file__  # the user's loop


def test_a_loss_study_decides_with_the_loss_defaults_and_an_accuracy_study_with_the_accuracy_ones():
    """The pruner's growth, stop_below and shared are each chosen on curves of the metric's kind
    (bench/pruners.py --tune): a minimized loss gets SERIES_DEFAULTS (more, closer checks, a lower
    correlation between two trials' forecast errors), a maximized accuracy FRACTION_DEFAULTS, and a
    value the user gives wins over either."""
    from lcpipe.integrations.optuna import FRACTION_DEFAULTS, SERIES_DEFAULTS

    assert SERIES_DEFAULTS != FRACTION_DEFAULTS
    loss, given = ForecastPruner(STEPS, metric="val_ce"), ForecastPruner(STEPS, metric="val_ce", shared=0.9)
    loss_study_run(loss)
    loss_study_run(given)
    assert (loss.growth, loss.stop_below, loss.shared) == tuple(SERIES_DEFAULTS[k] for k in
                                                                 ("growth", "stop_below", "shared"))
    assert given.shared == 0.9 and given.growth == SERIES_DEFAULTS["growth"]
    # running trials are rivals by default on an accuracy, not on a loss (measured on each: bench/hpo.py)
    assert loss.compare_running is False and ForecastPruner(STEPS).compare_running is True
    assert ForecastPruner(STEPS, metric="val_ce", compare_running=True).compare_running is True
    # the history's errors temper the first completed trials' on a loss (LoRA sweeps: bench/lm_table), not on
    # an accuracy (bench/hpo.py under TPE)
    assert loss.history_prior == 4.0 and ForecastPruner(STEPS).history_prior == 0.0
    assert ForecastPruner(STEPS, metric="val_ce", history_prior=0).history_prior == 0
    assert len(loss._schedule(50, 1.0)) > len(ForecastPruner(50)._schedule(50, 1.0))  # growth 1.25 < 1.5

    def settled_in(pruner, direction, value):
        study = optuna.create_study(direction=direction, pruner=pruner)
        trial = study.ask()
        for step in range(1, 6):
            trial.report(value(step), step)
            trial.should_prune()
        return pruner.growth, pruner.stop_below, pruner.shared

    def defaults(d):
        return tuple(d[k] for k in ("growth", "stop_below", "shared"))

    # no metric named: the study's direction says which (a minimized one reports a loss), at each study
    unnamed = ForecastPruner(50)
    assert settled_in(unnamed, "minimize", lambda s: 2.0 / s) == defaults(SERIES_DEFAULTS)
    assert settled_in(unnamed, "maximize", lambda s: 0.1 * s) == defaults(FRACTION_DEFAULTS)
    set_later = ForecastPruner(50)
    set_later.stop_below, set_later.growth = 0.3, 2.0  # set on the object: kept, as a constructor argument is
    assert settled_in(set_later, "minimize", lambda s: 2.0 / s) == (2.0, 0.3, SERIES_DEFAULTS["shared"])


@pytest.mark.parametrize("kw, message", [
    ({"shared": float("nan")}, r"shared=nan: give a number in \[0, 1\)"),
    ({"shared": 1.5}, r"shared=1.5"), ({"warmup": float("nan")}, r"warmup=nan"),
    ({"growth": float("inf")}, r"growth=inf"), ({"warmup": STEPS}, r"warmup=750"),
    ({"compare_running": "yes"}, r"compare_running='yes': True, False, or None"),
])
def test_pruner_settings_are_checked_in_one_line(kw, message):
    with pytest.raises(PrunerError, match=message) as err:
        ForecastPruner(STEPS, **kw)
    assert "\n" not in str(err.value)


def test_the_plot_draws_runs_logged_by_step_on_their_steps(loss_study):
    proc = cli("forecast", "--history", "history", "--runs", "runs", "--metric", "val_ce", "--steps", STEPS,
               "--plot", "f.png", cwd=loss_study)
    assert proc.returncode == 0, proc.stderr
    assert (loss_study / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_log_with_a_fractional_epoch_and_a_step_is_read_by_its_step(tmp_path):
    """Hugging Face's trainer logs `epoch` (0.04, 0.08, ...) beside `global_step`; a run planned in
    steps (`max_steps` in its config) is not planned in epochs, whatever `epochs` it also states."""
    steps = np.arange(20, 401, 20)
    rows = "\n".join(f"{s / 500:.2f},{s},{float(v)!r}" for s, v in zip(steps, lm_loss(1.8, steps, 0, 1000)))
    (tmp_path / "run.csv").write_text(f"epoch,global_step,eval_loss\n{rows}\n")
    (tmp_path / "run.json").write_text(json.dumps({"epochs": 2, "max_steps": 1000}))
    curve = read_curve(tmp_path / "run.csv", "eval_loss")
    assert curve.planned == 1000 and curve.steps[0] == 20 and curve.steps[-1] == 400
    gridded, spacing = on_grid(curve)
    assert spacing == 20 and len(gridded) == 20 and gridded.planned == 50


def test_the_stop_rule_reads_small_differences_against_the_studys_own_noise():
    """An accuracy's margins are in accuracy points (unit 1); a language model's loss, logged to a few
    parts in 10^5, gets a unit well below 1, a jittery 10-epoch loss one above (within UNIT_RANGE)."""
    steps = np.arange(100, 5001, 100)
    loss = Metric.infer("val_loss")
    smooth = [loss.to_internal(3 + 2 * (1 + steps / 500) ** -0.5 + np.random.default_rng(i).normal(0, 3e-5, 50))
              for i in range(3)]
    jitter = [np.log(0.4 + np.random.default_rng(i).normal(0, 0.02, 20)) for i in range(3)]
    assert loss.unit(smooth) < 0.1 < 1 < loss.unit(jitter) <= 10
    assert Metric.infer("test_acc").unit(jitter) == 1.0


def test_two_columns_of_the_metric_name_are_refused_in_one_line(tmp_path):
    (tmp_path / "a.csv").write_text("step,val_loss,Val Loss\n15,2.0,2.1\n30,1.9,2.0\n")
    with pytest.raises(LcpipeError, match=r"a.csv: columns 2 and 3 are both 'val_loss'; remove or rename one"):
        read_curve(tmp_path / "a.csv", "val_loss")


def test_a_cutoff_past_every_curves_end_is_said_once_and_many_short_curves_in_a_few_lines(tmp_path):
    """Review (a newcomer's pass): `lcpipe evaluate --cutoffs 10,60` on four 50-epoch curves printed the same skip
    line for each curve and nothing about cutoff 60's row, missing from every table. One line says the cutoff
    has no row; curves short of another cutoff are named, three at most, and the rest counted."""
    import subprocess
    import sys

    from tests.helpers import ROOT, curve_csv, learning_curve

    for i in range(6):
        (tmp_path / f"r{i}.csv").write_text(curve_csv(learning_curve(20 if i < 5 else 40, final=0.8 + 0.02 * i)))
    proc = subprocess.run([sys.executable, "-m", "lcpipe", "evaluate", "--curves", str(tmp_path), "--cutoffs",
                           "10,30,60", "--predictors", "last_value"], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert [line for line in lines if "cutoff 60" in line] == [
        "cutoff 60: at or past the end of every curve (the longest has 40 points); no row for it"]
    assert [line for line in lines if "cutoff 30 at or past its end" in line] == [
        f"r{i}: 20 points; cutoff 30 at or past its end, skipped" for i in range(3)]
    assert "... and 2 more curves with a cutoff at or past its end, skipped there" in lines


def test_an_error_rate_that_reaches_zero_is_read_per_curve_at_its_resolution():
    """Red team: an error counted on a small set (steps of 0.01) that reaches exactly 0 lay at 1e-12 in log space, 20
    natural logs below its last step (bands to 1.6e8). A curve's 0 is now half its own least positive value. A review
    of a first fix (one floor for all, raised by any 0 in the history) saw every forecast shown as 0 after one stray
    0, and runs on a finer scale than the history clipped flat: neither happens."""
    import warnings

    rng = np.random.default_rng(0)
    epochs = np.arange(1, 41)
    history = {f"h{i}": list(np.round(0.002 + (0.3 + 0.02 * i) * np.exp(-epochs / (6 + i % 4))
                                      + rng.normal(0, 0.003, epochs.size), 2).clip(0, 1)) for i in range(12)}
    assert any(0 in v for v in history.values())
    finer = {f"r{j}": list(np.round(a + 0.3 * np.exp(-epochs[:25] / 5), 4))
             for j, a in enumerate([0.0010, 0.0020, 0.0030, 0.0045])}  # a 10,000-example set: 1e-4 steps
    at_zero = {"z0": list(np.round(0.3 * np.exp(-epochs[:25] / 4), 2)),  # 0.02, 0.01, then 0 from epoch 16
               "z1": list(np.round(0.03 + 0.3 * np.exp(-epochs[:25] / 5), 2))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fine = lcpipe.forecast(history=history, runs=finer, epochs=40, metric="test_err", mode="min")
        zero = lcpipe.forecast(history=history, runs=at_zero, epochs=40, metric="test_err", mode="min")
    assert (fine.final > 0).all() and (fine.lower > 0).all()
    assert fine.final.is_monotonic_increasing and fine.p_best.idxmax() == 0  # r0, the lowest, ranked first
    z0 = zero.set_index("run").loc["z0"]
    assert 0 < z0.lower <= z0.final <= z0.upper < 0.01 and z0.decision == "keep"
