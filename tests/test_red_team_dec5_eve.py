"""A fifth hostile-input pass (2026-12-05, evening): logs as real loggers write them, flags given the way shells
and scripts give them, and an Optuna objective that stops early. Each test failed on the code before its fix."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest

from lcpipe.cli import main as cli
from lcpipe.forecasting.logs import read_curve, read_curves
from lcpipe.integrations.optuna import ForecastPruner
from tests.helpers import curve_csv, learning_curve

ROOT = Path(__file__).resolve().parents[1]
LM = ROOT / "examples" / "lm-losses"
ADABELIEF = ROOT / "tests" / "fixtures" / "adabelief-c10-resnet34"
optuna.logging.set_verbosity(optuna.logging.WARNING)


def forecast_json(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "f.json"
    cli(["forecast", *args, "--out", str(out)])
    return json.loads(out.read_text())


def test_a_repeated_history_or_runs_flag_adds_its_folders(tmp_path):
    """`--history A --history B` fitted on B alone (argparse keeps the last), and `--runs A --runs B` forecast B's
    runs alone, one of them 'keep' with P(ends best) 1.000, without a word."""
    histories = sorted(p for p in ADABELIEF.glob("*.csv"))
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, files in ((a, histories[:4]), (b, histories[4:8])):
        folder.mkdir()
        for f in files:
            shutil.copy(f, folder)
    runs_a, runs_b = tmp_path / "ra", tmp_path / "rb"
    for folder, n in ((runs_a, 1), (runs_b, 2)):
        folder.mkdir()
        (folder / f"run{n}.csv").write_text(curve_csv(learning_curve(20, final=0.8 + 0.05 * n, seed=n)))
    once = forecast_json(tmp_path, "--history", str(a), str(b), "--runs", str(runs_a), str(runs_b), "--epochs", "100")
    twice = forecast_json(tmp_path, "--history", str(a), "--history", str(b), "--runs", str(runs_a), "--runs",
                          str(runs_b), "--epochs", "100")
    assert [r["run"] for r in twice["runs"]] == ["run1", "run2"]
    assert twice["runs"] == once["runs"]


def test_evaluate_adds_repeated_history_folders_too(tmp_path, capsys):
    histories = sorted(ADABELIEF.glob("*.csv"))
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, files in ((a, histories[:4]), (b, histories[4:8])):
        folder.mkdir()
        for f in files:
            shutil.copy(f, folder)
    target = tmp_path / "t"
    target.mkdir()
    shutil.copy(histories[8], target)
    cli(["evaluate", "--curves", str(target), "--cutoffs", "20", "--predictors", "last_value", "--history", str(a),
         "--history", str(b), "--out", str(tmp_path / "e.json")])
    assert "fitting last_value on the 8 history curves, once for every target" in capsys.readouterr().err


def test_forecast_out_does_not_replace_an_evaluate_results_file_nor_the_reverse(tmp_path, capsys):
    """`--out` accepted any JSON object with a `metric` key: a backtest of minutes was replaced by a forecast."""
    results = tmp_path / "results.json"
    cli(["evaluate", "--curves", str(LM / "history"), "--metric", "val_loss", "--cutoffs", "5", "--predictors",
         "last_value", "--out", str(results)])
    backtest = results.read_bytes()
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(LM / "history"), "--runs", str(LM / "runs"), "--metric", "val_loss",
             "--steps", "133333", "--out", str(results)])
    assert "holds `lcpipe evaluate`'s results, which `lcpipe forecast` would replace" in capsys.readouterr().err
    assert results.read_bytes() == backtest
    forecast = tmp_path / "forecast.json"
    cli(["forecast", "--history", str(LM / "history"), "--runs", str(LM / "runs"), "--metric", "val_loss",
         "--steps", "133333", "--out", str(forecast)])
    cli(["forecast", "--history", str(LM / "history"), "--runs", str(LM / "runs"), "--metric", "val_loss",
         "--steps", "133333", "--out", str(forecast)])  # a rerun replaces its own
    with pytest.raises(SystemExit):
        cli(["evaluate", "--curves", str(LM / "history"), "--metric", "val_loss", "--cutoffs", "5", "--predictors",
             "last_value", "--out", str(forecast)])
    assert "holds `lcpipe forecast`'s results" in capsys.readouterr().err


def test_a_half_written_last_line_of_a_run_still_training_is_not_read(tmp_path):
    """The logger mid-write: the file ends '11,0.3' of '11,0.3312,0.3120\\n', read as 0.3 at epoch 11."""
    rows = "epoch,val_loss,train_loss\n" + "".join(f"{e},{1 / e:.4f},{1.1 / e:.4f}\n" for e in range(1, 11))
    (tmp_path / "whole.csv").write_text(rows)
    (tmp_path / "partial.csv").write_text(rows + "11,0.3")
    whole, partial = (read_curve(tmp_path / f"{n}.csv", "val_loss") for n in ("whole", "partial"))
    assert list(partial.columns["val_loss"]) == list(whole.columns["val_loss"])
    # a last line without its newline, but whole (as wide as the rows above it: one cut inside its last value,
    # "11,0.0909,0.1" of "11,0.0909,0.1000", is not read yet, test_red_team_dec5_pass9.py)
    (tmp_path / "complete.csv").write_text(rows + "11,0.0909,0.1000")
    assert len(read_curve(tmp_path / "complete.csv", "val_loss").columns["val_loss"]) == 11


LIGHTNING = """epoch,step,train_loss_epoch,train_loss_step,val_loss
0,49,,0.7327,
0,99,,0.7284,
0,99,,,0.4814
0,99,0.6905,,
1,149,,0.4928,
1,199,,0.4874,
1,199,,,0.4488
1,199,0.4701,,
2,249,,0.4311,
2,299,,0.4290,
2,299,,,0.4216
2,299,0.4255,,
3,349,,0.4101,
3,399,,0.4050,
3,399,,,0.3954
3,399,0.4025,,
"""

HF_TRAINER = """loss,learning_rate,epoch,step,eval_loss,eval_runtime
0.60,4.9e-05,0.5,500,,
,,0.5,500,0.5014,12.3
0.55,4.8e-05,1.0,1000,,
,,1.0,1000,0.4530,12.1
0.50,4.7e-05,1.5,1500,,
,,1.5,1500,0.4210,12.2
0.47,4.6e-05,2.0,2000,,
,,2.0,2000,0.4007,12.0
"""


def test_lightning_and_hf_trainer_logs_are_read_on_their_eval_rows(tmp_path):
    """Both write a train row and an eval row at one step, each blank where the other logs; they were refused
    as "a log holding several runs"."""
    run = tmp_path / "lightning_logs" / "version_3"
    run.mkdir(parents=True)
    (run / "metrics.csv").write_text(LIGHTNING)
    (run / "hparams.yaml").write_text("lr: 0.01\n")
    pl = read_curve(run / "metrics.csv", "val_loss")
    assert pl.name == "version_3"  # Lightning names every run's file metrics.csv: the run is its folder
    assert list(pl.columns["val_loss"]) == [0.4814, 0.4488, 0.4216, 0.3954]
    (tmp_path / "hf.csv").write_text(HF_TRAINER)
    hf = read_curve(tmp_path / "hf.csv", "eval_loss")
    assert list(hf.columns["eval_loss"]) == [0.5014, 0.4530, 0.4210, 0.4007]
    assert list(hf.steps) == [500, 1000, 1500, 2000]


def test_two_lightning_runs_given_by_folder_are_two_runs(tmp_path):
    for n in (0, 1):
        run = tmp_path / f"version_{n}"
        run.mkdir()
        (run / "metrics.csv").write_text(LIGHTNING)
        (run / "hparams.yaml").write_text("{}\n")
    assert [c.name for c in read_curves([tmp_path / "version_0", tmp_path / "version_1"], "val_loss")] == \
        ["version_0", "version_1"]


def test_a_missed_evaluation_in_an_ordinary_log_is_still_one_line(tmp_path):
    """The eval-row reading must not hide a blank metric in a log whose rows are all alike."""
    (tmp_path / "run.csv").write_text("epoch,val_loss,train_loss\n1,0.9,1\n2,,0.9\n3,0.7,0.8\n4,0.6,0.7\n")
    with pytest.raises(Exception, match="line 3: column 'val_loss' is blank"):
        read_curve(tmp_path / "run.csv", "val_loss")


def test_a_dvclive_metric_file_given_by_path_is_its_run_with_its_params(tmp_path):
    """`--runs dvclive/*/plots/metrics/test_acc.tsv` named every run 'test_acc' ("two runs are named") and
    ignored each run's params.yaml, so a run planned for 50 epochs was forecast to --epochs."""
    for arch, final in (("resnet34", 0.9), ("plain50", 0.8)):
        metrics = tmp_path / "dvclive" / arch / "plots" / "metrics"
        metrics.mkdir(parents=True)
        acc = learning_curve(12, final=final)
        (metrics / "test_acc.tsv").write_text("step\ttest_acc\n" + "".join(f"{i}\t{a}\n" for i, a in enumerate(acc)))
        (tmp_path / "dvclive" / arch / "params.yaml").write_text("epochs: 50\nlr: 0.1\n")
    by_file = read_curves(sorted(tmp_path.glob("dvclive/*/plots/metrics/test_acc.tsv")), "test_acc")
    by_folder = read_curves(sorted((tmp_path / "dvclive").iterdir()), "test_acc")
    assert [c.name for c in by_file] == [c.name for c in by_folder] == ["plain50", "resnet34"]
    assert [c.planned for c in by_file] == [c.planned for c in by_folder] == [50, 50]


def test_a_resumed_log_that_repeats_epochs_is_told_to_keep_the_later_rows(tmp_path):
    rows = "epoch,val_loss\n" + "".join(f"{e},{1 / e:.4f}\n" for e in (1, 2, 3, 4, 5, 3, 4, 5, 6, 7))
    (tmp_path / "run.csv").write_text(rows)
    with pytest.raises(Exception, match="a run resumed from a checkpoint that logged some epochs again: keep the "
                                        "later rows of each"):
        read_curve(tmp_path / "run.csv", "val_loss")


def test_trials_that_stop_early_themselves_are_finished_at_their_best_and_the_losers_are_pruned():
    """An objective with EarlyStopping(patience=20), as with Keras', LightGBM's or XGBoost's callbacks: every
    trial ended before `epochs`, none counted as finished, nothing was pruned (9 AdaBelief ResNet-34 runs of 200
    epochs: 0 pruned), and the warning's advice (epochs= the furthest step reached) changed nothing. A trial that
    ended itself is now finished at its best, which is what the objective returns."""
    curves = {c.name: c.metric("test_acc") for c in read_curves([ADABELIEF], "test_acc")}
    names = sorted(curves)
    order = list(np.random.default_rng(0).permutation(names))
    pruner = ForecastPruner(epochs=200, history=ROOT / "tests" / "fixtures" / "cifar10-plain-vs-resnet",
                            fit_cache=False)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    for name in order:
        study.enqueue_trial({"run": name})

    def early_stopping(curve, patience=20):  # -> (epochs trained, the best value, which it returns)
        best, at = -1.0, 0
        for epoch, acc in enumerate(curve, 1):
            if acc > best:
                best, at = float(acc), epoch
            elif epoch - at >= patience:
                return epoch, best
        return len(curve), best

    def objective(trial):
        curve = curves[trial.suggest_categorical("run", names)]
        stop, best = early_stopping(curve)
        for epoch, acc in enumerate(curve[:stop], 1):
            trial.report(float(acc), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return best

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(objective, n_trials=len(names))
    assert not [str(w.message) for w in caught if "ForecastPruner" in str(w.message)]
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert len(pruned) >= 3  # measured: 5 of 9 (3 to 5 over three orders), 57.5 % of early stopping's epochs
    assert study.best_value == max(early_stopping(c)[1] for c in curves.values())  # the best one kept


def test_trials_that_all_end_at_one_step_short_of_epochs_still_say_epochs_is_wrong():
    """The other cause of completed trials short of `epochs`, and the one the warning is for: every trial
    trains 40 epochs of a planned 50. Those are not early-stopped trials, and none is finished."""
    pruner = ForecastPruner(epochs=50, history=ADABELIEF, fit_cache=False)
    study = optuna.create_study(direction="maximize", pruner=pruner)

    def objective(trial):
        for epoch, acc in enumerate(learning_curve(40, final=0.5 + 0.04 * trial.number), 1):
            trial.report(float(acc), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(acc)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(objective, n_trials=4)
    said = [str(w.message) for w in caught if "ForecastPruner" in str(w.message)]
    assert len(said) == 1 and "give epochs= the last step the trials report" in said[0], said
    assert not [t for t in study.trials if t.state.name == "PRUNED"]


def test_the_pruner_bench_stops_an_objective_after_its_patience_and_returns_its_best():
    """bench/pruners.py --patience: the replayed objective early-stops as Keras' EarlyStopping with
    restore_best_weights does, the figures above rest on it."""
    from bench import pruners

    curve = np.array([0.1, 0.3, 0.5, 0.4, 0.45, 0.49, 0.6, 0.7])
    assert pruners.early_stopped(curve, 3) == (6, 0.5)  # no new best for 3 reports after epoch 3
    assert pruners.early_stopped(curve, 4) == (8, 0.7)
    assert pruners.early_stopped(curve, None) == (8, 0.7)  # no patience: the whole curve, its last value


# -- a second read of the fixes above (helper review), each failing on the first version of them -------------

def test_a_trial_that_stopped_itself_before_the_first_grid_point_does_not_crash_the_check():
    """steps=5000 reported every step puts a grid point every 10 steps; a trial its objective stopped at step 8
    (a bad learning rate) reached none, and np.max of its empty curve raised out of should_prune()."""
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    def loss(step, final):
        return float(final + (3.0 - final) * np.exp(-0.002 * step))

    dist = {"lr": FloatDistribution(1e-5, 1.0)}
    study = optuna.create_study(direction="minimize", pruner=ForecastPruner(steps=5000, metric="val_loss",
                                                                          fit_cache=False))
    for lr, last, final in ((1e-3, 5000, 0.5), (3e-3, 5000, 0.6), (0.9, 8, 2.9)):
        reports = {s: loss(s, final) for s in range(1, last + 1)}
        study.add_trial(create_trial(params={"lr": lr}, distributions=dist, value=min(reports.values()),
                                     intermediate_values=reports, state=TrialState.COMPLETE))
    trial = study.ask(dist)
    for step in range(1, 60):
        trial.report(loss(step, 0.7), step)
        trial.should_prune()  # raised ValueError at step 30


def test_a_pruned_trial_that_returns_a_value_is_no_early_stopped_rival():
    """Optuna's WilcoxonPruner tutorial returns the current value when pruned; such trials ended short and at
    different steps, so they were counted as early-stopped finished trials, padded at their best."""
    history = ROOT / "tests" / "fixtures" / "cifar10-plain-vs-resnet"
    finals = [0.90, 0.70, 0.72, 0.92, 0.65, 0.68, 0.91, 0.60]
    counted = {}
    for returns in (False, True):
        pruner = ForecastPruner(epochs=60, history=history, fit_cache=False)
        study = optuna.create_study(direction="maximize", pruner=pruner)
        for final in finals:
            trial = study.ask()
            for epoch, acc in enumerate(final - (final - 0.1) * np.exp(-0.08 * np.arange(1, 61)), 1):
                trial.report(float(acc), epoch)
                if trial.should_prune():
                    if returns:
                        study.tell(trial, float(acc))
                    else:
                        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                    break
            else:
                study.tell(trial, float(acc))
        counted[returns] = [t.number for t in pruner._finished(study)]  # noqa: SLF001
    assert counted[True] == counted[False]


def test_a_complete_file_without_a_last_newline_keeps_its_last_row(tmp_path):
    """The half-written-line rule took the last row of a finished log whose writer leaves out blank trailing
    fields (lr only where it changes), or whose header quotes a comma."""
    sparse = "epoch,test_acc,lr\n1,0.5,0.1\n" + "".join(f"{e},{0.5 + 0.04 * e:.2f}\n" for e in range(2, 10)) + "10,0.9"
    (tmp_path / "sparse.csv").write_text(sparse)
    quoted = '"epoch","test_acc","lr (start, end)"\n' + "".join(f"{e},{0.5 + 0.04 * e:.2f},0.1\n"
                                                                 for e in range(1, 10)) + "10,0.9,0.1"
    (tmp_path / "quoted.csv").write_text(quoted)
    for name in ("sparse", "quoted"):
        values = read_curve(tmp_path / f"{name}.csv").columns["test_acc"]
        assert len(values) == 10 and values[-1] == 0.9, name


def test_a_missed_evaluation_that_says_why_in_a_text_column_is_still_one_line(tmp_path):
    rows = "".join(f"{e},{0.5 + 0.04 * e:.2f},\n" for e in range(1, 7)) + "7,,eval OOM\n" + \
        "".join(f"{e},{0.5 + 0.04 * e:.2f},\n" for e in range(8, 11))
    (tmp_path / "run.csv").write_text("epoch,test_acc,error\n" + rows)
    with pytest.raises(Exception, match="line 8: column 'test_acc' is blank"):
        read_curve(tmp_path / "run.csv")


def test_a_curve_kept_in_a_plots_metrics_folder_with_its_own_sidecar_is_itself(tmp_path):
    """The DVCLive rule named any file under plots/metrics after the project, with the project's params.yaml."""
    folder = tmp_path / "proj" / "plots" / "metrics"
    folder.mkdir(parents=True)
    (tmp_path / "proj" / "params.yaml").write_text("epochs: 30\nlr: 0.5\n")
    for name, lr in (("run_a", 0.1), ("run_b", 0.01)):
        (folder / f"{name}.csv").write_text(curve_csv(learning_curve(10)))
        (folder / f"{name}.json").write_text(json.dumps({"epochs": 10, "lr": lr}))
    curves = read_curves([folder], "test_acc")
    assert [(c.name, c.planned, c.config.get("lr")) for c in curves] == [("run_a", 10, 0.1), ("run_b", 10, 0.01)]


# -- a sixth pass (helper): logger exports and early stopping, each failing before its fix ---------------------

def test_a_lightning_log_validated_every_two_epochs_is_read_on_its_epochs(tmp_path):
    """check_val_every_n_epoch=2: the epoch column (1, 3, 5, ...) does not count by one, so the step column was
    the axis and `--epochs 200` was read as 200 evaluations, 400 epochs."""
    rows = ["epoch,step,train_loss_step,val_acc"]
    for epoch in range(1, 40, 2):
        step = 200 * (epoch + 1) - 1
        rows += [f"{epoch},{step - 100},0.5,", f"{epoch},{step},,{0.9 - 0.5 * np.exp(-epoch / 10):.4f}"]
    run = tmp_path / "version_9"
    run.mkdir()
    (run / "metrics.csv").write_text("\n".join(rows) + "\n")
    (run / "hparams.yaml").write_text("lr: 0.01\n")
    curve = read_curve(run / "metrics.csv", "val_acc")
    assert list(curve.steps[:3]) == [1, 3, 5] and curve.steps[-1] == 39  # the epochs, not steps 399, 799, ...
    assert len(curve.columns["val_acc"]) == 20


def test_epochs_set_past_where_every_trial_ends_prunes_nothing_even_behind_a_running_trial():
    """Its warning says nothing is pruned; with a history and two running trials (compare_running, on for an
    accuracy) one of them was pruned on a horizon the trials never reach."""
    def acc(q, e):
        return float(0.6 + 0.3 * q - 0.35 * np.exp(-e / 6))

    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(epochs=60, history=ADABELIEF,
                                                                            fit_cache=False))
    for q in (0.5, 0.6, 0.7):  # three trials that ran their real 30 steps
        trial = study.ask()
        for e in range(1, 31):
            trial.report(acc(q, e), e)
        study.tell(trial, acc(q, 30))
    a, b = study.ask(), study.ask()
    for e in range(1, 4):
        a.report(acc(0.9, e), e)
        b.report(acc(0.05, e), e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (a.should_prune(), b.should_prune()) == (False, False)


def test_an_mlflow_long_format_history_is_refused_with_how_to_pivot_it(tmp_path):
    """It was refused as "step '1' after '1' ... a log holding several runs"."""
    rows = ["key,value,step,timestamp"] + [f"{k},{v:.4f},{s},{1700000000 + s}" for s in range(1, 11)
                                           for k, v in (("val_loss", 1 / s), ("train_loss", 1.1 / s))]
    (tmp_path / "run.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(Exception, match="a long-format log .* pivot it"):
        read_curve(tmp_path / "run.csv", "val_loss")


def test_a_folder_of_run_folders_with_one_log_each_is_read_as_its_runs(tmp_path):
    """`--runs lightning_logs/` was refused ("its folders may hold some"): each version_N holds one log."""
    for n, name in enumerate(("version_0", "version_1", "tuned")):
        run = tmp_path / "lightning_logs" / name
        run.mkdir(parents=True)
        (run / "metrics.csv").write_text("epoch,val_loss\n" + "".join(f"{e},{1 / e + 0.01 * n:.4f}\n"
                                                                       for e in range(1, 9)))
        if n < 2:
            (run / "hparams.yaml").write_text("lr: 0.1\n")
    curves = read_curves([tmp_path / "lightning_logs"], "val_loss")
    assert [c.name for c in curves] == ["tuned", "version_0", "version_1"]
    (tmp_path / "lightning_logs" / "tuned" / "other.csv").write_text("epoch,val_loss\n1,0.5\n")
    with pytest.raises(Exception, match=r"tuned holds several \*\.csv, so which is the run.s log is unknown"):
        read_curves([tmp_path / "lightning_logs"], "val_loss")
