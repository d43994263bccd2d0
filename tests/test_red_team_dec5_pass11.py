"""An eleventh hostile-input pass (2026-12-05, evening): scores that go below 0 by their nature, and messages
that name the Python argument where Python was called. Each test failed on the code before its fix."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from lcpipe.cli import main as cli
from lcpipe.errors import LcpipeError
from lcpipe.integrations.optuna import ForecastPruner
from lcpipe.metric import Metric

optuna.logging.set_verbosity(optuna.logging.WARNING)


def loss_curve(seed: int, n: int = 60) -> np.ndarray:
    """A validation loss at full float64 precision, from about 2.6 down to below 1 (so that %.6g writes it with 5
    decimals, then 6)."""
    rng = np.random.default_rng(seed)
    return 0.6 + 0.2 * seed / 10 + 2.0 * np.exp(-np.arange(1, n + 1) / 4) + rng.normal(0, 0.004, n)


def write(path, values, fmt="{!r}") -> None:  # repr: every digit
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = (f"{100 * (i + 1)},{fmt.format(float(v))}\n" for i, v in enumerate(values))
    path.write_text("step,val_loss\n" + "".join(rows))


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


@pytest.mark.parametrize("fmt, says", [("{:.4f}", "rounded to 4 decimals"),
                                       ("{:.6g}", "rounded to 6 significant digits")])
def test_a_history_copy_written_coarser_than_the_run_is_refused(tmp_path, capsys, fmt, says):
    """A live run at full precision, its own finished curve in the history written with to_csv(float_format=
    "%.4f") or "%.6g": before, only a run coarser than the history was caught, and the leak moved the run's
    forecast toward its own true final with a band a third as wide."""
    for seed in range(1, 6):
        write(tmp_path / "history" / f"h{seed}.csv", loss_curve(seed))
    write(tmp_path / "runs" / "live.csv", loss_curve(7)[:14])
    args = ["forecast", "--runs", str(tmp_path / "runs"), "--steps", "6000", "--metric", "val_loss"]
    cli([*args, "--history", str(tmp_path / "history")])  # the clean history: forecast
    write(tmp_path / "leak" / "live_export.csv", loss_curve(7), fmt)
    with pytest.raises(SystemExit):
        cli([*args, "--history", str(tmp_path / "history"), str(tmp_path / "leak")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "live.csv" in err and "live_export.csv" in err and says in err and "own future" in err
    # evaluate --history: the finished run as a target, its coarser copy in the history
    write(tmp_path / "targets" / "live.csv", loss_curve(7))
    with pytest.raises(SystemExit):
        cli(["evaluate", "--curves", str(tmp_path / "targets"), "--history", str(tmp_path / "history"),
             str(tmp_path / "leak"), "--metric", "val_loss", "--cutoffs", "10", "--predictors", "last_value"])
    assert "live_export.csv" in capsys.readouterr().err


def test_runs_that_merely_agree_to_a_coarse_rounding_are_no_copies(tmp_path, capsys):
    """The other side: seed reruns that agree to 2 decimals at some points, and curves at 4 decimals, forecast."""
    for seed in range(1, 6):
        write(tmp_path / "history" / f"h{seed}.csv", loss_curve(seed), "{:.4f}")
    write(tmp_path / "runs" / "live.csv", loss_curve(1)[:14] + 0.003)  # beside h1, 0.003 above it
    cli(["forecast", "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"), "--steps", "6000",
         "--metric", "val_loss"])
    assert "live" in capsys.readouterr().out


@pytest.mark.parametrize("copy", ["exact", "coarser", "prefix"])
def test_leave_one_out_refuses_a_copy_among_the_curves(tmp_path, capsys, copy):
    """`evaluate --curves DIR` with a file downloaded twice ("run (1).csv"), or exported again coarser, or
    its first epochs saved as another run: each target was fitted on its own copy (auto's RMSE 1.61 -> 1.38)."""
    for seed in range(1, 5):
        write(tmp_path / "c" / f"r{seed}.csv", loss_curve(seed))
    twin = {"exact": loss_curve(2), "coarser": np.round(loss_curve(2), 4), "prefix": loss_curve(2)[:30]}[copy]
    write(tmp_path / "c" / "r2 (1).csv", twin)
    with pytest.raises(SystemExit):
        cli(["evaluate", "--curves", str(tmp_path / "c"), "--metric", "val_loss", "--cutoffs", "10",
             "--predictors", "last_value"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "r2.csv" in err and "r2 (1).csv" in err and "remove the copy" in err
    (tmp_path / "c" / "r2 (1).csv").unlink()
    cli(["evaluate", "--curves", str(tmp_path / "c"), "--metric", "val_loss", "--cutoffs", "10",
         "--predictors", "last_value"])  # without it: the backtest runs


@pytest.mark.parametrize("name", ["val_per", "test_far", "der", "val_fmr", "fnmr", "apcer", "bpcer", "acer", "aepe",
                                  "val_crossent"])
def test_error_rates_of_speech_biometrics_and_flow_are_minimised(name):
    """--mode auto kept the run ending at a phone error rate of 1.42 and stopped the one ending at 1.30."""
    assert Metric.infer(name).mode == "min"


@pytest.mark.parametrize("name", ["eval_samples_per_second", "best_acc_so_far", "acc_per_class"])
def test_per_and_far_name_a_rate_only_as_the_last_word(name):
    assert Metric.infer(name).mode == "max"


def test_steps_on_runs_that_count_epochs_is_refused(tmp_path, capsys):
    """--steps 78200 (200 epochs x 391 steps) on runs logged by epoch alone was read as 78,200 epochs: every run
    forecast and decided at epoch 78,200, silently."""
    for i, final in enumerate((0.70, 0.75, 0.80)):
        acc = final * (1 - np.exp(-np.arange(1, 41) / 8))
        (tmp_path / "h" / f"h{i}.csv").parent.mkdir(exist_ok=True)
        (tmp_path / "h" / f"h{i}.csv").write_text("epoch,test_acc\n" + "".join(f"{e},{a:.4f}\n" for e, a in
                                                                            enumerate(acc, 1)))
        (tmp_path / "r" / f"r{i}.csv").parent.mkdir(exist_ok=True)
        (tmp_path / "r" / f"r{i}.csv").write_text("epoch,test_acc\n" + "".join(f"{e},{a - 0.01:.4f}\n" for e, a in
                                                                            enumerate(acc[:10], 1)))
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--steps", "15640"])
    err = capsys.readouterr().err
    assert "--steps 15640" in err and "count epochs" in err and "--epochs N" in err
    cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "40"])
    assert "10/40" in capsys.readouterr().out
