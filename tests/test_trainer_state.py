"""Hugging Face Trainer runs read as they lie on disk: `output_dir/checkpoint-N/trainer_state.json` (and the state
saved at the end), its log_history the curve, its max_steps the plan, its trial_params the config. The runs are real
LoRA fine-tuning curves (bench/lm_table), written in the Trainer's layout."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import lcpipe
from bench.lm_table.trainer_layout import log_history, state_text, trial_params, write_run
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.logs import read_curve, read_curves, trainer_state_of
from tests.helpers import ROOT, cli_in_process

LM = ROOT / "bench" / "lm_table" / "curves"


def write_csv_run(csv: Path, out: Path, until: int | None = None) -> None:
    """The same run as the CSV a user would export from its log_history, its plan and config in a sidecar."""
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(log_history(csv, until)).to_csv(out / csv.name, index=False)
    (out / csv.with_suffix(".json").name).write_text(json.dumps({**trial_params(csv), "max_steps": 750}))


def test_a_trainer_state_reads_as_its_log_history_written_as_a_csv_does(tmp_path):
    """The state's log_history is the curve (eval rows apart from train rows, the summary after training left out),
    its max_steps the plan and its trial_params the config: exactly what the same log exported as a CSV beside a
    sidecar gives."""
    csv = LM / "descr" / "t03.csv"
    from_state = read_curve(write_run(csv, tmp_path / "hf" / "t03") / "trainer_state.json", "eval_loss")
    write_csv_run(csv, tmp_path / "csv")
    from_csv = read_curve(tmp_path / "csv" / "t03.csv", "eval_loss")
    assert from_state.name == "t03" and from_state.planned == from_csv.planned == 750
    assert from_state.config == from_csv.config and from_state.config["lr"] == pytest.approx(0.0198)
    assert from_state.config["schedule"] == "constant"  # lr_scheduler_type, the Trainer's name, read as schedule
    assert list(from_state.steps) == list(from_csv.steps) == list(range(15, 751, 15))
    assert list(from_state.columns["eval_loss"]) == list(pd.read_csv(csv).val_ce)


def test_trainer_runs_are_forecast_as_their_csv_logs_are_without_a_length_given(tmp_path):
    """`lcpipe forecast --history <Trainer sweeps> --runs <live output dirs>`: each run's plan is its state's
    max_steps (no --steps), a live run is read to its latest checkpoint, and the forecasts equal those of the same
    logs exported as CSV (forecast with --steps 750)."""
    for task in ("docs", "numpy"):
        for csv in sorted((LM / task).glob("*.csv"))[:8]:
            write_run(csv, tmp_path / "hf_hist" / task / csv.stem)
            write_csv_run(csv, tmp_path / "csv_hist" / task)
    for csv in sorted((LM / "descr").glob("*.csv"))[:6]:
        write_run(csv, tmp_path / "hf_live" / csv.stem, until=300)  # checkpoints 150 and 300: the later is read
        write_csv_run(csv, tmp_path / "csv_live", until=300)
    hf = cli_in_process("forecast", "--history", str(tmp_path / "hf_hist"), "--runs", str(tmp_path / "hf_live"),
                        "--metric", "eval_loss", "--out", str(tmp_path / "hf.json"))
    assert hf.code == 0, hf.err
    exported = cli_in_process("forecast", "--history", str(tmp_path / "csv_hist"), "--runs",
                              str(tmp_path / "csv_live"), "--metric", "eval_loss", "--steps", "750")
    assert exported.code == 0, exported.err
    assert hf.out == exported.out
    rows = hf.out.splitlines()[1:]
    assert [r.split()[:2] for r in rows] == [[f"t0{i}", "300/750"] for i in range(6)]
    assert {r.split()[-1] for r in rows} == {"keep", "stop"}  # it decides
    report = json.loads((tmp_path / "hf.json").read_text())
    assert report["epochs"] == 750 and {r["epochs"] for r in report["runs"]} == {750}


def test_a_run_folder_is_read_at_its_latest_state(tmp_path):
    """The latest of the run's checkpoints, or the state saved at the end where it is later; a checkpoint given
    itself is read there, named after its run."""
    csv = LM / "code" / "t05.csv"
    run = write_run(csv, tmp_path / "t05", until=450)
    assert trainer_state_of(run) == run / "checkpoint-450" / "trainer_state.json"
    assert read_curve(trainer_state_of(run), "eval_loss").steps[-1] == 450
    (run / "trainer_state.json").write_text((run / "checkpoint-150" / "trainer_state.json").read_text())
    assert trainer_state_of(run) == run / "checkpoint-450" / "trainer_state.json"  # an older state copied up
    finished = write_run(csv, tmp_path / "done" / "t05")
    assert trainer_state_of(finished) == finished / "trainer_state.json"
    checkpoint = run / "checkpoint-300"
    curves = read_curves([checkpoint], "eval_loss")
    assert [(c.name, c.steps[-1]) for c in curves] == [("t05", 300)]


def test_a_live_trainer_run_before_its_first_evaluation_is_left_out_and_a_diverged_one_stopped(tmp_path):
    """A checkpoint saved before the first evaluation (train rows alone) waits, named, while the others are
    forecast; an eval_loss the Trainer wrote as NaN stops that run as diverged."""
    for task in ("docs", "numpy"):
        for csv in sorted((LM / task).glob("*.csv"))[:5]:
            write_run(csv, tmp_path / "hist" / task / csv.stem)
    runs = sorted((LM / "descr").glob("*.csv"))[:4]
    for csv in runs[:3]:
        write_run(csv, tmp_path / "live" / csv.stem, until=150)
    early = tmp_path / "live" / "t03" / "checkpoint-10"
    early.mkdir(parents=True)
    early_log = [{"epoch": 0.03, "learning_rate": 1e-3, "loss": 2.9, "step": 5},
                 {"epoch": 0.07, "learning_rate": 1e-3, "loss": 2.8, "step": 10}]
    (early / "trainer_state.json").write_text(state_text(early_log, trial_params(runs[3]), 10))
    diverged = tmp_path / "live" / "t02" / "checkpoint-150" / "trainer_state.json"
    data = json.loads(diverged.read_text())
    for entry in data["log_history"]:
        if "eval_loss" in entry and entry["step"] >= 120:
            entry["eval_loss"] = math.nan
    diverged.write_text(json.dumps(data, indent=2, sort_keys=True))  # NaN written so, as the Trainer writes it
    lines = diverged.read_text().splitlines()
    nan_at = next(i for i, line in enumerate(lines) if "NaN" in line)
    entry_line = max(i for i in range(nan_at) if lines[i].strip() == "{") + 1  # where its entry opens, from 1
    out = cli_in_process("forecast", "--history", str(tmp_path / "hist"), "--runs", str(tmp_path / "live"),
                         "--metric", "eval_loss")
    assert out.code == 0, out.err
    rows = {r.split()[0]: r for r in out.out.splitlines()[1:] if r.split() and r.split()[0] in ("t00", "t01", "t02",
                                                                                                "t03")}
    assert set(rows) == {"t00", "t01", "t02"}
    assert "diverged" in rows["t02"] and rows["t02"].split()[-1] == "stop"
    assert f"eval_loss is 'nan' at step 120 (line {entry_line})" in out.out, out.out  # the file's own line
    assert "t03" in out.err and "left out" in out.err, out.err


@pytest.mark.parametrize("content, says", [
    ('{"log_history": [{"step": 15, "eval_loss": 2.1}', "not valid JSON"),
    ("[1, 2]", "a JSON object with a log_history list"),
    ('{"global_step": 15}', "no log_history list"),
    ('{"log_history": [{"step": 15, "eval_acc": 0.5}, {"step": 30, "eval_acc": 0.6}], "max_steps": 60}',
     "eval_loss"),
])
def test_a_state_that_cannot_be_read_is_one_line(tmp_path, content, says):
    (tmp_path / "hist").mkdir()
    for csv in sorted((LM / "docs").glob("*.csv"))[:3]:
        write_csv_run(csv, tmp_path / "hist")
    state_file = tmp_path / "run" / "checkpoint-15" / "trainer_state.json"
    state_file.parent.mkdir(parents=True)
    state_file.write_text(content)
    out = cli_in_process("forecast", "--history", str(tmp_path / "hist"), "--runs", str(tmp_path / "run"),
                         "--metric", "eval_loss", "--steps", "60")
    assert out.code == 2 and says in out.err and "Traceback" not in out.err, out.err
    assert len(out.err.strip().splitlines()) <= 2, out.err


def test_without_a_length_every_run_must_plan_its_own(tmp_path):
    """No --epochs/--steps (epochs=/steps=): a run whose own file plans nothing is one line saying to give one,
    from the CLI and from Python."""
    for csv in sorted((LM / "docs").glob("*.csv"))[:3]:
        write_csv_run(csv, tmp_path / "hist")
    bare = tmp_path / "live" / "r.csv"
    bare.parent.mkdir()
    bare.write_text("step,eval_loss\n15,2.9\n30,2.8\n45,2.7\n60,2.65\n75,2.6\n")
    out = cli_in_process("forecast", "--history", str(tmp_path / "hist"), "--runs", str(bare), "--metric",
                         "eval_loss")
    assert out.code == 2 and "r.csv plans no length in its own file" in out.err and "--steps N" in out.err, out.err
    with pytest.raises(LcpipeError, match="plans no length in its own file: give the planned length, epochs="):
        lcpipe.forecast(tmp_path / "hist", bare, metric="eval_loss")
    planned = lcpipe.forecast(tmp_path / "hist", bare, metric="eval_loss", steps=750)
    assert planned.epochs.tolist() == [750]
