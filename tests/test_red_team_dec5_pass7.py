"""A seventh hostile-input pass (2026-12-05, night): a run flat ahead of its analogs, metric names whose
direction `--mode auto` misread, a wide DataFrame as `pd.read_csv` gives it, and a run that has only just
started among live ones. Each test failed on the code before its fix."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

import lcpipe
from lcpipe.cli import main as cli
from lcpipe.errors import LcpipeError
from lcpipe.integrations.optuna import ForecastPruner
from lcpipe.metric import Metric
from tests.helpers import curve_csv, learning_curve

EPOCHS = np.arange(1, 51)
STEPS = np.arange(15, 751, 15)
optuna.logging.set_verbosity(optuna.logging.WARNING)


def forecast_json(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "f.json"
    cli(["forecast", *args, "--out", str(out)])
    return json.loads(out.read_text())


def accuracy_history(tmp_path: Path) -> None:
    """tmp_path/history: six finished accuracy curves of 50 epochs; tmp_path/runs: an empty folder."""
    (tmp_path / "history").mkdir()
    (tmp_path / "runs").mkdir()
    for i in range(6):
        (tmp_path / "history" / f"h{i}.csv").write_text(curve_csv(learning_curve(50, final=0.8 + 0.02 * i)))


def saturating(final: float) -> np.ndarray:
    return final * (1 - np.exp(-EPOCHS / 10))


def lm_loss(final: float) -> np.ndarray:
    return final + 3 * np.exp(-STEPS / 150)


def test_an_accuracy_flat_ahead_of_its_analogs_is_held_at_its_level_not_promised_their_progress():
    """A run flat at 0.75 from its first epoch (a linear probe, a run converged early) stood above every analog,
    so the stall rule, which looked only at runs behind them all, let it inherit their climb: 0.93, kept, and
    the healthy run that really ends best (0.93) stopped."""
    history = {f"h{i}": list(saturating(0.8 + 0.021 * i)) for i in range(6)}
    runs = {"flat": [0.75 + 0.001 * (-1) ** k for k in range(10)], "healthy": list(saturating(0.93)[:10])}
    got = lcpipe.forecast(history=history, runs=runs, epochs=50).set_index("run")
    assert got.loc["flat", "final"] == pytest.approx(0.75, abs=0.02)
    assert got.loc["flat", "lower"] <= 0.75 <= got.loc["flat", "upper"]
    assert got.loc["healthy", "decision"] == "keep" and got.loc["flat", "decision"] == "stop"


@pytest.mark.parametrize("name, mode, kind", [
    # lower is better, read as higher is better until this pass (a run ending at 0.9 LPIPS kept, 0.3 stopped)
    ("mean_rank", "min", "positive"), ("MedR", "min", "positive"), ("miss_rate", "min", "positive"),
    ("misclassification_rate", "min", "positive"), ("false_positive_rate", "min", "positive"),
    ("fpr", "min", "positive"), ("hter", "min", "positive"), ("val_lpips", "min", "positive"),
    ("kid", "min", "positive"), ("epe", "min", "positive"), ("ade", "min", "positive"),
    ("chamfer", "min", "positive"), ("abs_rel", "min", "positive"), ("sse", "min", "positive"),
    ("bpp", "min", "positive"), ("distortion", "min", "positive"), ("neg_elbo", "min", "any"),
    ("nelbo", "min", "any"),
    # higher is better, read as a loss for the loss word before the name's head
    ("loss_reduction", "max", "any"), ("error_reduction", "max", "any"), ("cost_savings", "max", "any"),
    ("time_saved", "max", "any"), ("timestep_reward", "max", "any"), ("mean_reciprocal_rank", "max", "any"),
    ("mrr", "max", "any"),
    # higher is better, read as a loss by the first version of this pass's fix (review): a rank that is a score,
    # and a rate of mistakes or a rank that only names the operating point after "at" or "@"
    ("Rank-1", "max", "any"), ("cmc_rank1", "max", "any"), ("spearman_rank_corr", "max", "any"),
    ("effective_rank", "max", "any"), ("inverse_harmonic_mean_rank", "max", "any"), ("MR", "max", "any"),
    ("adjusted_arithmetic_mean_rank_index", "max", "any"), ("tpr@fpr=0.01", "max", "any"),
    ("tpr_at_fpr_1e-3", "max", "any"), ("precision_at_rank_10", "max", "fraction"), ("hits_at_rank_1", "max", "any"),
    # minus a gain with no bounds (red team 2026-12-07: neg_reward was read as a gain, and the run going worst was
    # kept), only as the first word: a score of the negative class, or a gain minus a baseline, is a gain (review)
    ("neg_reward", "min", "any"), ("negative_return", "min", "any"), ("val_neg_mean_reward", "min", "any"),
    ("minus_reward", "min", "any"), ("true_negative_rate", "max", "any"), ("val_neg_acc", "max", "fraction"),
    ("acc_neg", "max", "fraction"), ("neg_class_acc", "max", "fraction"), ("negative_recall", "max", "fraction"),
    ("neg_f1", "max", "fraction"), ("reward_minus_baseline", "max", "any"), ("episode_reward_neg_mean", "max", "any"),
    # unchanged
    ("neg_log_loss", "max", "any"), ("neg_log_likelihood", "min", "any"), ("log_likelihood", "max", "any"),
    ("val_loss", "min", "positive"), ("top5err", "min", "positive"), ("lossless_acc", "max", "fraction"),
])
def test_mode_auto_reads_these_names_the_right_way(name, mode, kind):
    metric = Metric.infer(name)
    assert (metric.mode, metric.kind) == (mode, kind)
    assert ("lower is better" if mode == "min" else "higher is better") in metric.why


def test_a_lpips_study_keeps_its_lowest_run(tmp_path, capsys):
    (tmp_path / "history").mkdir()
    (tmp_path / "runs").mkdir()
    for i, final in enumerate((0.2, 0.3, 0.45, 0.6)):
        lpips = final + 0.6 * np.exp(-EPOCHS / 8)
        (tmp_path / "history" / f"h{i}.csv").write_text(
            "epoch,val_lpips\n" + "".join(f"{e},{v:.5f}\n" for e, v in zip(EPOCHS, lpips)))
    for name, final in (("good", 0.25), ("bad", 0.7)):
        lpips = final + 0.6 * np.exp(-EPOCHS[:15] / 8)
        (tmp_path / "runs" / f"{name}.csv").write_text(
            "epoch,val_lpips\n" + "".join(f"{e},{v:.5f}\n" for e, v in zip(EPOCHS, lpips)))
    results = forecast_json(tmp_path, "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"),
                            "--metric", "val_lpips", "--epochs", "50")
    assert {r["run"]: r["decision"] for r in results["runs"]} == {"good": "keep", "bad": "stop"}
    assert "lower is better" in capsys.readouterr().err


def test_a_dataframe_with_a_step_column_reads_it_as_the_axis_not_as_a_run():
    """pd.read_csv of a wide log gives a default index and a `step` column: the step column was forecast as a
    run (final 193.8), and the runs were read one value per epoch (b, really worse, kept)."""
    history = pd.DataFrame({f"h{i}": lm_loss(2.0 + 0.1 * i) + 0.001 * i for i in range(6)}, index=STEPS)
    wide = pd.DataFrame({"step": STEPS[:15], "a": lm_loss(2.03)[:15], "b": lm_loss(2.37)[:15]})
    got = lcpipe.forecast(history=history, runs=wide, steps=750, metric="val_loss")
    indexed = lcpipe.forecast(history=history, runs=wide.set_index("step"), steps=750, metric="val_loss")
    assert list(got["run"]) == ["a", "b"]
    pd.testing.assert_frame_equal(got, indexed)
    assert dict(zip(got["run"], got["decision"])) == {"a": "keep", "b": "stop"}


def test_a_run_just_started_is_left_out_and_named_and_the_others_are_forecast(tmp_path, capsys):
    """A folder of live runs routinely holds one that has logged 2 epochs: the whole command stopped, naming
    `features.window + 1`, which nobody calling lcpipe.forecast has set."""
    accuracy_history(tmp_path)
    (tmp_path / "runs" / "a.csv").write_text(curve_csv(learning_curve(50, final=0.905)[:12]))
    (tmp_path / "runs" / "b.csv").write_text(curve_csv(learning_curve(50, final=0.855)[:12]))
    (tmp_path / "runs" / "new.csv").write_text(curve_csv(learning_curve(50, final=0.85)[:2]))
    results = forecast_json(tmp_path, "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"),
                            "--epochs", "50")
    assert sorted(r["run"] for r in results["runs"]) == ["a", "b"]
    err = capsys.readouterr().err
    assert "new.csv: 2 epochs observed; a forecast needs at least 5 (the forecaster's window + 1): left out" in err
    with pytest.raises(LcpipeError, match=r"^new: 2 epochs observed; a forecast needs at least 5"):
        lcpipe.forecast(history=tmp_path / "history", runs={"new": [0.1, 0.2]}, epochs=50)


def pruned_pattern(unit: float, metric: str, direction: str) -> list[str]:
    """Ten trials of one study, reported in `unit`s, with no history: which were pruned, and where."""
    order = [5, 8, 3, 9, 6, 0, 7, 2, 4, 1]
    sign = -1.0 if direction == "maximize" else 1.0  # a reward is minus a loss
    study = optuna.create_study(direction=direction, pruner=ForecastPruner(steps=750, metric=metric))

    def objective(trial):
        for s in STEPS:
            trial.report(sign * unit * lm_loss(2.0 + 0.1 * order[trial.number])[s // 15 - 1], s)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return sign * unit * lm_loss(2.0 + 0.1 * order[trial.number])[-1]

    study.optimize(objective, n_trials=10)
    return [f"{t.state.name[0]}@{t.last_step}" for t in study.trials]


@pytest.mark.parametrize("metric, direction, units", [
    ("reward", "maximize", (1e-9, 10.0)),  # 0 of 10 pruned in 1e-9 units, 6 in units of 1, some late in tens
    ("val_loss", "minimize", (1e-13, 1.0)),  # nothing pruned below the default floor of 1e-12
])
def test_with_no_history_the_pruners_decisions_do_not_hang_on_the_metrics_units(metric, direction, units):
    """With no history the metric's scale (a reward) or floor (a loss) was never set: the study's finished
    trials set it now."""
    reference = pruned_pattern(1.0, metric, direction)
    assert sum(p.startswith("P") for p in reference) >= 4
    for unit in units:
        assert pruned_pattern(unit, metric, direction) == reference


def test_the_table_keeps_its_columns_in_line_beside_a_diverged_runs_reason(tmp_path, capsys):
    accuracy_history(tmp_path)
    (tmp_path / "runs" / "a.csv").write_text(curve_csv(learning_curve(50, final=0.905)[:12]))
    broken = learning_curve(50, final=0.855)[:12]
    broken[8:] = np.nan
    (tmp_path / "runs" / "diverged.csv").write_text(curve_csv(broken))
    cli(["forecast", "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"), "--epochs", "50"])
    lines = capsys.readouterr().out.splitlines()
    assert "diverged" in lines[2] and lines[3].startswith("diverged: diverged: test_acc is")  # why, below the table
    ends = {len(line) - len(line.split()[-1]) - 2 for line in lines[1:3]}  # where each row's P(ends best) ends
    assert ends == {lines[0].index("P(ends best)") + len("P(ends best)")}


def test_a_dataframe_with_epoch_and_step_columns_takes_the_one_its_length_is_given_in():
    """With both columns, epochs=60 was read against the step column (2 steps an epoch): forecast to epoch 30."""
    rng = np.random.default_rng(0)

    def frame(columns: dict, n: int = 60) -> pd.DataFrame:
        out = pd.DataFrame(columns)
        out.insert(0, "epoch", np.arange(1, n + 1))
        out.insert(1, "step", 2 * np.arange(1, n + 1))
        return out

    acc = {f"h{i}": 0.8 * (1 - np.exp(-np.arange(1, 61) / (5 + i))) + 0.1 + rng.normal(0, 0.003, 60) for i in range(6)}
    runs = frame({"r0": 0.8 * (1 - np.exp(-np.arange(1, 61) / 6)) + 0.1}).iloc[:20]
    by_epoch = lcpipe.forecast(frame(acc), runs, epochs=60).iloc[0]
    assert (by_epoch["observed"], by_epoch["epochs"], len(by_epoch["forecast"])) == (20, 60, 40)
    by_step = lcpipe.forecast(frame(acc), runs, steps=120).iloc[0]
    assert (by_step["observed"], by_step["epochs"]) == (40, 120)


def test_a_filtered_or_step_indexed_dataframe_keeps_its_axis_column_out_of_the_runs():
    """A frame filtered to every second epoch (index 1, 3, 5, ...) forecast its `epoch` column as a run; one
    indexed by step with an `epoch` column kept was refused as a run in its own history."""
    history = pd.DataFrame({f"h{i}": 2.0 * np.exp(-np.arange(1, 61) / (5 + i)) + 0.3 for i in range(6)})
    history.insert(0, "epoch", np.arange(1, 61))
    runs = pd.DataFrame({"r0": 2.1 * np.exp(-np.arange(1, 61) / 6.5) + 0.3, "r1": 1.9 * np.exp(-np.arange(1, 61) / 9.5)
                         + 0.3})
    runs.insert(0, "epoch", np.arange(1, 61))
    every2 = runs[(runs.epoch <= 20) & (runs.epoch % 2 == 0)]
    got = lcpipe.forecast(history, every2, epochs=60, metric="val_loss")
    assert list(got["run"]) == ["r0", "r1"] and set(got["observed"]) == {20}
    stepped = runs.iloc[:20].set_index(runs.epoch[:20] * 390)
    by_step = history.set_index(history.epoch * 390)
    got = lcpipe.forecast(by_step, stepped, steps=60 * 390, metric="val_loss")
    assert list(got["run"]) == ["r0", "r1"] and set(got["observed"]) == {7800}


def test_a_just_started_run_logged_by_step_is_left_out_too_and_listed_in_the_json(tmp_path):
    """Among runs evaluated every 15 steps, one with a single evaluation stopped the whole forecast with a false
    'logged by optimizer step past step 50'; the JSON of a forecast that left runs out did not say so."""
    history = {f"h{i}": dict(zip(STEPS, lm_loss(1.0 + 0.1 * i))) for i in range(6)}
    live = {"a": dict(zip(STEPS[:20], lm_loss(1.05)[:20])), "b": dict(zip(STEPS[:20], lm_loss(1.25)[:20])),
            "new": {15: float(lm_loss(1.1)[0])}}
    with pytest.warns(UserWarning, match="new: 1 point of its grid"):
        got = lcpipe.forecast(history=history, runs=live, epochs=50, metric="val_loss")
    assert list(got["run"]) == ["a", "b"]
    accuracy_history(tmp_path)
    (tmp_path / "runs" / "a.csv").write_text(curve_csv(learning_curve(50, final=0.905)[:12]))
    (tmp_path / "runs" / "new.csv").write_text(curve_csv(learning_curve(50, final=0.855)[:3]))
    results = forecast_json(tmp_path, "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"),
                            "--epochs", "50")
    assert results["left_out"] == [{"run": "new", "reason": "3 epochs observed; a forecast needs at least 5 (the "
                                                            "forecaster's window + 1)"}]


def test_short_runs_beside_a_diverged_one_are_still_one_error(tmp_path):
    """Every run short but one that diverged: the command exited 0 with only the diverged run's 'stop'."""
    accuracy_history(tmp_path)
    (tmp_path / "runs" / "short.csv").write_text(curve_csv(learning_curve(50, final=0.905)[:3]))
    broken = learning_curve(50, final=0.855)[:8]
    broken[6:] = np.nan
    (tmp_path / "runs" / "div.csv").write_text(curve_csv(broken))
    with pytest.raises(SystemExit) as exit_:
        cli(["forecast", "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"), "--epochs", "50"])
    assert exit_.value.code == 2


def test_final_forecast_of_a_trial_at_its_end_is_its_own_report_whatever_its_scale():
    """A loss of 1e-13 at its last step came back as (0.0, 0.0, 0.0): the report went through the internal space
    at the default floor of 1e-12, and a minimize study handed 0.0 would make it its best trial."""
    pruner = ForecastPruner(epochs=20, metric="val_loss")
    study = optuna.create_study(direction="minimize", pruner=pruner)
    trial = study.ask()
    for step in range(1, 21):
        trial.report(1e-13 * (1 + np.exp(-step / 4)), step)
    assert pruner.final_forecast(study, trial) == (1e-13 * (1 + np.exp(-5)),) * 3


def test_a_leader_on_its_plateau_before_a_stated_lr_drop_is_not_held_flat_and_stopped(tmp_path):
    """The first version of the flat-ahead rule read a fast starter on its plateau (epoch 40 of 100, milestones
    [50, 75] in its config) as stalled: forecast 0.83 and stopped, though it ends best at 0.92 (review)."""
    rng = np.random.default_rng(1)
    t = np.arange(1, 101)

    def curve(plateau: float, tau: float, start: float = 0.1) -> np.ndarray:
        acc = start + (plateau - start) * (1 - np.exp(-t / tau))
        acc = acc + np.where(t > 50, 0.10, 0) * (1 - np.exp(-(t - 50) / 2).clip(0, 1)) + np.where(t > 75, 0.02, 0)
        return np.clip(acc + rng.normal(0, 0.003, len(t)), 0, 1)

    config = {"epochs": 100, "schedule": "step", "milestones": [50, 75], "optimizer": "sgd", "lr": 0.1,
              "dataset": "cifar10", "arch": "resnet18"}
    for folder, curves in (("history", {f"h{i}": curve(p, 8) for i, p in enumerate(np.linspace(0.70, 0.78, 6))}),
                           ("runs", {"leader": curve(0.80, 1.5, start=0.5)[:40], "slow": curve(0.77, 8)[:40]})):
        (tmp_path / folder).mkdir()
        for name, acc in curves.items():
            (tmp_path / folder / f"{name}.csv").write_text(
                "epoch,test_acc\n" + "".join(f"{e},{a:.4f}\n" for e, a in enumerate(acc, 1)))
            (tmp_path / folder / f"{name}.json").write_text(json.dumps(config))
    results = forecast_json(tmp_path, "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"),
                            "--epochs", "100")
    leader = next(r for r in results["runs"] if r["run"] == "leader")
    assert leader["decision"] == "keep" and leader["final"]["mean"] > 0.88
