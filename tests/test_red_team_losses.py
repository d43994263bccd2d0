"""A hostile-input pass on losses (2026-12-04 evening), each defect as its reporter wrote it; every test
here failed on the code before its fix (a wrong decision, a wrong forecast, or a refusal)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lcpipe
from tests.helpers import lcpipe_here

T = np.arange(1, 31)
HISTORY = {f"h{i}": list(0.5 + 0.1 * i + 2 * np.exp(-T / (5 + i))) for i in range(4)}  # four falling losses


def cli(*args: str) -> subprocess.CompletedProcess:
    """`lcpipe ARGS` in this process (the console script is run by test_cli_forecast and test_any_metric)."""
    return lcpipe_here(*args)


def test_a_cross_entropy_named_in_several_words_is_a_loss_and_its_lowest_run_is_kept():
    """`val_cross_entropy` (AlgoPerf's name) was read as a score: the run with the lowest loss was stopped."""
    table = lcpipe.forecast(history=HISTORY, runs={"good": [3, 2.2, 1.7, 1.4, 1.2, 1.05, 0.95, 0.9],
                                                   "bad": [3, 2.5, 2.2, 2.0, 1.9, 1.8, 1.75, 1.7]},
                            epochs=30, metric="val_cross_entropy").set_index("run")
    assert table.loc["good", "final"] < table.loc["bad", "final"]
    assert table.loc["good", "decision"] == "keep" and table.loc["bad", "decision"] == "stop"


def test_a_loss_still_falling_far_above_every_analog_is_not_forecast_above_where_it_is():
    """Far from every analog, auto holds a run at its own level; that level was the mean of its last five
    points, so a loss at 10 and falling (30, 20, 15, 12, 10) was forecast to end at 16."""
    row = lcpipe.forecast(history=HISTORY, runs={"a": [30, 20, 15, 12, 10.0]}, epochs=30, metric="val_loss").iloc[0]
    assert row["final"] <= 10.0


def test_milestones_reported_as_ignored_are_ignored(tmp_path: Path):
    """`"milestones": [true]` was said to be ignored, yet read as an lr drop at epoch 1, which moved r0's
    forecast from 0.44 to 0.77 and flipped r1 from stop to keep."""
    for name in ("h", "r"):
        (tmp_path / name).mkdir()
    for i in range(4):
        rows = "".join(f"{a},{0.5 + 0.1 * i + 2 * np.exp(-a / (5 + i)):.5f}\n" for a in T)
        (tmp_path / "h" / f"h{i}.csv").write_text("epoch,val_loss\n" + rows)
        (tmp_path / "h" / f"h{i}.json").write_text('{"milestones": [20]}')
    for i in range(2):
        rows = "".join(f"{a},{0.45 + 0.15 * i + 2 * np.exp(-a / (4.5 + i)):.5f}\n" for a in T[:10])
        (tmp_path / "r" / f"r{i}.csv").write_text("epoch,val_loss\n" + rows)
    args = ("forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "30",
            "--metric", "val_loss")
    plain = cli(*args)
    (tmp_path / "r" / "r0.json").write_text('{"milestones": [true]}')
    flagged = cli(*args)
    assert plain.returncode == flagged.returncode == 0, flagged.stderr
    assert "ignored (not a value lcpipe reads there): milestones=[True]" in flagged.stderr
    assert flagged.stdout == plain.stdout


def test_a_run_of_tiny_losses_is_no_copy_of_a_history_curve(tmp_path: Path):
    """Every value under 1e-6 "wrote" as 0 at 0 decimals, so a run of MSEs near 2e-7 matched a history
    curve that rounds to 0 and was refused as the run's own future."""
    for name in ("h", "r"):
        (tmp_path / name).mkdir()
    for i in range(3):
        rows = "".join(f"{a},{0.1 + 0.05 * i + 0.3 * np.exp(-a / 5):.4f}\n" for a in T)
        (tmp_path / "h" / f"h{i}.csv").write_text("epoch,val_mse\n" + rows)
    rows = "".join(f"{a},{2e-7 * (1 + 3 * np.exp(-a / 4)):.6e}\n" for a in T[:8])
    (tmp_path / "r" / "r.csv").write_text("epoch,val_mse\n" + rows)
    out = cli("forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "30",
              "--metric", "val_mse")
    assert out.returncode == 0, out.stderr
    assert "8/30" in out.stdout


def _one_run_folders(tmp_path: Path, cells: list[str], sidecar: str | None = None) -> tuple[Path, Path]:
    """History: four falling losses of 30 epochs; runs: one run of the given val_loss cells."""
    (tmp_path / "h").mkdir()
    (tmp_path / "r").mkdir()
    for i in range(4):
        rows = "".join(f"{a},{0.5 + 0.1 * i + 2 * np.exp(-a / (5 + i)):.5f}\n" for a in T)
        (tmp_path / "h" / f"h{i}.csv").write_text("epoch,val_loss\n" + rows)
    (tmp_path / "r" / "r.csv").write_text("epoch,val_loss\n" + "".join(f"{e},{c}\n" for e, c in enumerate(cells, 1)))
    if sidecar is not None:
        (tmp_path / "r" / "r.json").write_text(sidecar)
    return tmp_path / "h", tmp_path / "r"


def _forecast(history: Path, runs: Path) -> subprocess.CompletedProcess:
    return cli("forecast", "--history", str(history), "--runs", str(runs), "--epochs", "30", "--metric", "val_loss")


@pytest.mark.parametrize("sidecar, says", [
    ("epochs: 1:30\n", "epochs '1:30' is not a whole number"),  # YAML 1.1 read 90, DVC's YAML 1.2 a string
    ("epochs: 30\nepochs: 40\n", "the key 'epochs' is written twice"),  # the last one was taken, silently
])
def test_a_run_config_is_read_as_dvc_reads_yaml(tmp_path: Path, sidecar: str, says: str):
    out = _forecast(*_one_run_folders(tmp_path, ["2.0", "1.5", "1.2", "1.1", "1.0"], sidecar))
    assert out.returncode != 0 and says in out.stderr and "Traceback" not in out.stderr


def test_yaml_1_2_numbers_in_a_run_config():
    from lcpipe.forecasting.logs import _safe_yaml

    assert _safe_yaml("lr: 1e-05\na: 010\nb: yes\nc: 0x1F\nd: .inf\ne: true") == \
        {"lr": 1e-05, "a": 10, "b": "yes", "c": 31, "d": float("inf"), "e": True}


@pytest.mark.parametrize("cell", ["1_0", "\u0661"])  # an underscore, an Arabic-Indic digit one: float() takes both
def test_a_cell_python_reads_but_no_log_writes_is_not_a_number(tmp_path: Path, cell: str):
    out = _forecast(*_one_run_folders(tmp_path, ["2.0", "1.5", "1.2", "1.1", cell, "0.9", "0.85"]))
    assert out.returncode != 0 and f"is '{cell}', not a number" in out.stderr


def test_a_dataframe_of_runs_is_one_run_per_column_padding_is_no_divergence():
    runs = pd.DataFrame({"a": [3, 2.2, 1.7, 1.4, 1.2, 1.05, 0.95, 0.9],
                         "b": [3, 2.5, 2.2, 2.0, 1.9, np.nan, np.nan, np.nan]})
    table = lcpipe.forecast(history=pd.DataFrame(HISTORY), runs=runs, epochs=30, metric="val_loss").set_index("run")
    assert table.loc["a", "observed"] == 8 and table.loc["b", "observed"] == 5
    assert not table["reason"].any() and table.loc["a", "decision"] == "keep"  # no run read as diverged


def test_a_pruner_serving_two_studies_marks_only_the_trial_it_pruned(tmp_path: Path):
    """Two in-memory storages both number their trials from 0: a pruner that had pruned trial id 1 of
    one study marked trial id 1 of the other as 'returned its forecast' in final_forecast."""
    optuna = pytest.importorskip("optuna")
    from lcpipe.integrations.optuna import FORECAST_ATTR, ForecastPruner
    from tests.helpers import curve_csv, learning_curve

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    (tmp_path / "h").mkdir()
    for i in range(6):
        (tmp_path / "h" / f"h{i}.csv").write_text(curve_csv(learning_curve(40, final=0.5 + 0.07 * i, seed=i,
                                                                           noise=0.003)))
    pruner = ForecastPruner(40, tmp_path / "h")
    good, poor = learning_curve(40, final=0.9, seed=1), np.full(40, 0.1)

    def run(study, curve):
        trial = study.ask()
        for step, value in enumerate(curve, 1):
            trial.report(float(value), step)
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                return step
        study.tell(trial, float(curve[-1]))
        return None

    first = optuna.create_study(direction="maximize", pruner=pruner)
    assert run(first, good) is None
    pruned_at = run(first, poor)
    assert pruned_at is not None
    second = optuna.create_study(direction="maximize", pruner=pruner)
    run(second, good)
    trial = second.ask()  # the same trial id as the one pruned in the first study
    for step in range(1, pruned_at + 1):
        trial.report(float(good[step - 1]), step)
    pruner.final_forecast(second, trial)
    assert FORECAST_ATTR not in second.trials[-1].user_attrs


def test_a_log_resumed_from_a_checkpoint_is_one_line_not_a_run_held_flat_at_its_start(tmp_path: Path):
    """Epochs 5..12 (the log of a resumed run) became a step axis whose points 1-4 were its first value."""
    history, runs = _one_run_folders(tmp_path, [])
    (runs / "r.csv").write_text("epoch,val_loss\n" + "".join(f"{e},{2 - 0.1 * e}\n" for e in range(5, 13)))
    out = _forecast(history, runs)
    assert out.returncode != 0 and "so the log misses epochs 1..4" in out.stderr


def test_steps_given_for_runs_of_both_kinds_is_one_line_before_anything_is_decided(tmp_path: Path):
    """An epoch run planned 450 epochs was compared with runs ending at step 450, and an identical run logged
    by step was stopped (red team): runs counted in two units are forecast apart."""
    history, runs = _one_run_folders(tmp_path, ["2.0", "1.5", "1.2", "1.1", "1.0", "0.9"])
    (runs / "s.csv").write_text("step,val_loss\n" + "".join(f"{15 * i},{2 - 0.1 * i}\n" for i in range(1, 7)))
    out = cli("forecast", "--history", str(history), "--runs", str(runs), "--steps", "450", "--metric", "val_loss",
              "--out", str(tmp_path / "d.json"))
    assert out.returncode != 0 and not (tmp_path / "d.json").exists()
    assert "--steps 450: 1 run(s) count epochs, not steps" in out.stderr and "forecast them apart" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_a_run_too_short_for_the_capped_grid_of_a_long_plan_says_how_far_it_must_reach(tmp_path: Path):
    """10 evaluations every 15 steps of a 20,000-step plan are 3 points of a 500-point grid: the error says so."""
    history = tmp_path / "history"
    history.mkdir()
    for i in range(3):
        (history / f"h{i}.csv").write_text("step,val_loss\n" + "".join(
            f"{40 * k},{2 + i / 10 + 1 / k}\n" for k in range(1, 501)))
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "r.csv").write_text("step,val_loss\n" + "".join(f"{15 * k},{3 - 0.01 * k}\n" for k in range(1, 11)))
    out = cli("forecast", "--history", str(history), "--runs", str(runs), "--steps", "20000", "--metric", "val_loss")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "at most 500 points, so it must reach step 200" in out.stderr, out.stderr


def test_a_loss_of_exactly_zero_is_forecast_as_zero_not_the_internal_floor():
    row = lcpipe.forecast(history=HISTORY, runs={"z": [0.0] * 8}, epochs=30, metric="val_loss").iloc[0]
    assert row["final"] == row["lower"] == row["upper"] == 0.0


def test_a_config_sidecar_given_as_a_run_says_so(tmp_path: Path):
    history, runs = _one_run_folders(tmp_path, ["2.0", "1.5", "1.2", "1.1", "1.0"], '{"lr": 0.1}')
    out = cli("forecast", "--history", str(history), "--runs", str(runs / "r.json"), "--epochs", "30",
              "--metric", "val_loss")
    assert out.returncode != 0 and "a run's config (the sidecar beside its curve), not a curve" in out.stderr
