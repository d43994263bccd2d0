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
    ("mean_rank", "min", "positive"), ("MR", "min", "positive"), ("miss_rate", "min", "positive"),
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
    (tmp_path / "history").mkdir()
    (tmp_path / "runs").mkdir()
    for i in range(6):
        (tmp_path / "history" / f"h{i}.csv").write_text(curve_csv(learning_curve(50, final=0.8 + 0.02 * i)))
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
    (tmp_path / "history").mkdir()
    (tmp_path / "runs").mkdir()
    for i in range(6):
        (tmp_path / "history" / f"h{i}.csv").write_text(curve_csv(learning_curve(50, final=0.8 + 0.02 * i)))
    (tmp_path / "runs" / "a.csv").write_text(curve_csv(learning_curve(50, final=0.905)[:12]))
    broken = learning_curve(50, final=0.855)[:12]
    broken[8:] = np.nan
    (tmp_path / "runs" / "diverged.csv").write_text(curve_csv(broken))
    cli(["forecast", "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"), "--epochs", "50"])
    lines = capsys.readouterr().out.splitlines()
    assert "diverged" in lines[2]
    ends = {len(line) - len(line.split()[-1]) - 2 for line in lines[1:]}  # where each row's P(ends best) ends
    assert ends == {lines[0].index("P(ends best)") + len("P(ends best)")}
