"""Hugging Face Trainer runs read as they lie on disk: `output_dir/checkpoint-N/trainer_state.json` (and the state
saved at the end), its log_history the curve, its max_steps the plan, its trial_params the config. The runs are real
LoRA fine-tuning curves (bench/lm_table), written in the Trainer's layout."""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

import lcpipe
from bench.lm_table.trainer_layout import log_history, state_text, trial_params, write_run
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.logs import learnable_history, read_curve, read_curves, trainer_state_of
from lcpipe.integrations.optuna import ForecastPruner
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
    assert report["epochs"] is None and {r["epochs"] for r in report["runs"]} == {750}  # no flag given: each its own


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
    assert f"eval_loss is 'nan' at step 120 (the entry at line {entry_line} of " in out.out, out.out  # the file's
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


def lora_history(folder: Path, per_task: int = 4) -> Path:
    for task in ("docs", "numpy"):
        for csv in sorted((LM / task).glob("*.csv"))[:per_task]:
            write_run(csv, folder / task / csv.stem, save_steps=None)
    return folder


def live_runs(folder: Path, n: int = 3, until: int = 300) -> list[Path]:
    return [write_run(csv, folder / csv.stem, until=until) for csv in sorted((LM / "descr").glob("*.csv"))[:n]]


def test_an_output_dir_is_one_run_whatever_else_it_holds_and_a_csv_study_keeps_its_own(tmp_path):
    """Review: an output dir holding a CSV (a log exported beside its checkpoints, a script's predictions.csv) was
    read as that CSV, or each checkpoint as a run of one name; a folder of CSV runs beside an unrelated output dir
    failed on that dir's missing metric, where it had been passed over. An output dir is its state's run; beside
    curve files it is named as not read."""
    hist = lora_history(tmp_path / "hist")
    runs = live_runs(tmp_path / "live")
    (runs[0] / "predictions.csv").write_text("id,label\n1,0\n")
    pd.DataFrame(log_history(LM / "descr" / f"{runs[1].name}.csv", 300)).to_csv(runs[1] / "log.csv", index=False)
    for given in ([tmp_path / "live"], runs):
        out = cli_in_process("forecast", "--history", str(hist), "--runs", *map(str, given), "--metric", "eval_loss")
        assert out.code == 0, out.err
        assert [r.split()[:2] for r in out.out.splitlines()[1:]] == [[r.name, "300/750"] for r in runs]
    csvs = tmp_path / "csv_runs"
    for csv in sorted((LM / "descr").glob("*.csv"))[:3]:
        write_csv_run(csv, csvs, until=300)
    write_run(LM / "code" / "t00.csv", csvs / "hf_scratch", until=150)
    out = cli_in_process("forecast", "--history", str(hist), "--runs", str(csvs), "--metric", "eval_loss")
    assert out.code == 0, out.err
    assert [r.split()[0] for r in out.out.splitlines()[1:]] == ["t00", "t01", "t02"]
    assert "output folder(s) hf_scratch are not read beside its curve files" in out.err


def test_a_run_mid_save_waits_and_every_run_is_named_after_its_output_dir(tmp_path, monkeypatch):
    """Review: a run whose only save is a tmp-checkpoint-N (the Trainer renames it when written) vanished without a
    word, and one given itself, or `--runs .` from inside an output dir, was named tmp-checkpoint-150, checkpoint-300
    or '' instead of its run."""
    hist = lora_history(tmp_path / "hist")
    runs = live_runs(tmp_path / "live")
    saving = tmp_path / "live" / "t09" / "tmp-checkpoint-150"
    saving.mkdir(parents=True)
    (saving / "model.safetensors").write_bytes(b"\0")
    out = cli_in_process("forecast", "--history", str(hist), "--runs", str(tmp_path / "live"), "--metric", "eval_loss")
    assert out.code == 0 and "t09: no trainer_state.json in its checkpoint yet" in out.err, out.err
    (saving / "trainer_state.json").write_text((runs[0] / "checkpoint-150" / "trainer_state.json").read_text())
    monkeypatch.chdir(runs[1] / "checkpoint-300")
    for given in (saving, Path("."), Path("trainer_state.json")):
        assert [c.name for c in read_curves([given], "eval_loss")] == ["t09" if given == saving else "t01"]
    monkeypatch.chdir(runs[1])
    assert [c.name for c in read_curves([Path(".")], "eval_loss")] == ["t01"]


def test_a_history_of_sweeps_beside_output_dirs_names_the_sweeps_it_does_not_read(tmp_path):
    """Review: sweep folders (of output dirs) beside output dirs in one history folder were passed over without a
    word: the folder is one study of its own runs, as a folder of CSV files is, and its other folders are named."""
    hist = lora_history(tmp_path / "hist")
    write_run(LM / "code" / "t00.csv", hist / "baseline", save_steps=None)
    write_run(LM / "code" / "t01.csv", hist / "baseline2", save_steps=None)
    said: list[str] = []
    curves = read_curves([hist], "eval_loss", studies=True, say=said.append)
    assert sorted(c.name for c in curves) == ["baseline", "baseline2"]
    assert any("its folder(s) docs, numpy hold curves too and are not read" in line for line in said), said


def test_a_trainer_evaluating_each_epoch_is_forecast_on_the_steps_its_state_plans(tmp_path):
    """Review: eval_strategy='epoch' (whole epochs beside the global step, max_steps planned) gave "epochs seen
    1570/3140": steps counted as epochs. Its unit is steps now, in the table and the JSON."""
    def log(shift: float, epochs: int) -> list[dict]:
        rows = []
        for e in range(1, epochs + 1):
            rows.append({"epoch": float(e), "learning_rate": 1e-4, "loss": 2 + 1 / e, "step": 157 * e})
            rows.append({"epoch": float(e), "eval_loss": 1.0 + shift + 1.5 * math.exp(-e / 4), "step": 157 * e})
        return rows

    planned = '"max_steps": 3140'  # 20 epochs of 157 steps
    for i in range(6):
        state_file = tmp_path / "hist" / f"h{i}" / "trainer_state.json"
        state_file.parent.mkdir(parents=True)
        state_file.write_text(state_text(log(0.02 * i, 20), None, 3140).replace('"max_steps": 750', planned))
    for i in range(2):
        state_file = tmp_path / "live" / f"e{i}" / "checkpoint-1570" / "trainer_state.json"
        state_file.parent.mkdir(parents=True)
        state_file.write_text(state_text(log(0.011 + 0.05 * i, 10), None, 1570).replace('"max_steps": 750', planned))
    out = cli_in_process("forecast", "--history", str(tmp_path / "hist"), "--runs", str(tmp_path / "live"),
                         "--metric", "eval_loss", "--out", str(tmp_path / "o.json"))
    assert out.code == 0, out.err
    assert out.out.splitlines()[0].split()[1:3] == ["steps", "seen"], out.out
    report = json.loads((tmp_path / "o.json").read_text())
    assert [(r["unit"], r["observed"], r["epochs"]) for r in report["runs"]] == [("steps", 1570, 3140)] * 2


def test_searched_lengths_and_a_searched_train_are_read_as_the_state_means_them(tmp_path):
    """Review: a trial_params `epochs: 2.5` (a searched setting) made the run an error, though the state's max_steps
    plans it; a searched scalar `train` was dropped by the sidecar rule for DVCLive's `train:` section."""
    run = live_runs(tmp_path / "live", n=1)[0]
    state_file = run / "checkpoint-300" / "trainer_state.json"
    data = json.loads(state_file.read_text())
    data["trial_params"].update({"epochs": 2.5, "num_train_epochs": 0, "train": 0.8})
    state_file.write_text(json.dumps(data))
    curve = read_curve(state_file, "eval_loss")
    assert curve.planned == 750 and curve.config["train"] == 0.8 and "epochs" not in curve.config


def test_runs_planning_different_lengths_need_no_flag_and_none_is_invented(tmp_path):
    """Review: with no --steps, runs planning 750 and 1500 steps were told "--steps 1500: 1 run(s) plan their own
    length", a flag nobody wrote, and the JSON's top `epochs` was 1500. Each run keeps its own plan silently; the
    top `epochs` is null."""
    hist = lora_history(tmp_path / "hist")
    runs = live_runs(tmp_path / "live", n=2)
    state_file = runs[1] / "checkpoint-300" / "trainer_state.json"
    state_file.write_text(state_file.read_text().replace('"max_steps": 750', '"max_steps": 1500'))
    out = cli_in_process("forecast", "--history", str(hist), "--runs", str(tmp_path / "live"), "--metric",
                         "eval_loss", "--out", str(tmp_path / "o.json"))
    assert out.code == 0 and "--steps" not in out.err and "plan their own length" not in out.err, out.err
    report = json.loads((tmp_path / "o.json").read_text())
    assert report["epochs"] is None and [r["epochs"] for r in report["runs"]] == [750, 1500]


def test_a_run_folder_with_its_own_log_beside_checkpoint_folders_of_weights_is_read_not_waited_for(tmp_path):
    """Review: a run folder holding its log (metrics.csv) and a checkpoint-600/ of another tool's weights was "the
    Trainer's first save in progress" and waited forever; in a folder of such runs each was listed as left out too."""
    hist = lora_history(tmp_path / "hist")
    for csv in sorted((LM / "descr").glob("*.csv"))[:3]:
        run = tmp_path / "runs" / csv.stem
        write_csv_run(csv, run, until=300)
        (run / "checkpoint-600").mkdir()
        (run / "checkpoint-600" / "model.safetensors").write_bytes(b"\0")
    for given in (tmp_path / "runs" / "t00", tmp_path / "runs"):
        out = cli_in_process("forecast", "--history", str(hist), "--runs", str(given), "--metric", "eval_loss",
                             "--out", str(tmp_path / "o.json"))
        assert out.code == 0 and "first save in progress" not in out.err, out.err
        assert json.loads((tmp_path / "o.json").read_text())["left_out"] == []


def test_a_history_state_short_of_its_plan_with_no_end_of_training_is_left_out_and_named(tmp_path):
    """Red team: a hyperparameter_search's output dirs given as the next search's history hold its pruned trials,
    whose last checkpoint ends at the prune step: read as finished there, they taught every forecast to end early.
    A state short of its max_steps with no end of training logged is no finished run; one stopped early that logged
    its end (train_runtime) is."""
    hist = lora_history(tmp_path / "hist")
    pruned = [write_run(csv, hist / "code" / csv.stem, until=150) for csv in sorted((LM / "code").glob("*.csv"))[:3]]
    stopped = hist / "code" / "t09"
    log = log_history(LM / "code" / "t09.csv", until=450)
    log.append({"epoch": 3.0, "step": 450, "train_loss": 2.4, "train_runtime": 31.0})  # an early stop's end
    stopped.mkdir(parents=True)
    (stopped / "trainer_state.json").write_text(state_text(log, trial_params(LM / "code" / "t09.csv"), 450))
    write_run(LM / "code" / "t08.csv", hist / "code" / "t08")  # a finished run beside them
    said: list[str] = []
    curves = learnable_history(read_curves([hist], "eval_loss", studies=True), say=said.append)
    assert sorted(c.name for c in curves if c.name.startswith("code/")) == ["code/t08", "code/t09"]
    assert any("and 2 more left out: its Trainer state ends at step 150 of its max_steps 750" in line
               for line in said), said
    out = cli_in_process("evaluate", "--curves", str(hist / "code"), "--metric", "eval_loss", "--cutoffs", "10",
                         "--predictors", "last_value")
    assert out.code == 0 and "curves: " in out.err and "and 2 more left out" in out.err, out.err
    assert "over 2 target(s)" in out.out, out.out
    with pytest.raises(LcpipeError, match="history: no curve is a finished run"):
        learnable_history(read_curves(pruned, "eval_loss"))


def stopped_at(csv: Path, out: Path, step: int, summary: bool) -> Path:
    """A run an early-stopping callback ended at `step` of 750: its checkpoint saved as it stopped, its state's
    TrainerControl told to stop (as real states keep it), and, with `summary`, the end of training logged (the
    state trainer.save_state() writes after train())."""
    log = log_history(csv, until=step)
    if summary:
        log.append({"epoch": step / 150, "step": step, "train_loss": 2.4, "train_runtime": 31.0})
    data = json.loads(state_text(log, None, step))
    data["stateful_callbacks"] = {"TrainerControl": {"args": {"should_training_stop": True, "should_save": True},
                                                     "attributes": {}}}
    folder = out / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "trainer_state.json").write_text(json.dumps(data, indent=2, sort_keys=True))
    return out


def test_a_run_stopped_early_ends_where_it_stopped_in_a_history_and_among_live_runs(tmp_path):
    """Real Trainer output (helper, transformers 5.25): an early-stopped run without save_state() was left out of a
    history as "pruned, crashed or still training", though its checkpoint says training was told to stop; and a
    live run whose train() had returned at step 60 of 150 was forecast to 150 and kept. Both end where they
    stopped."""
    hist = lora_history(tmp_path / "hist")
    stopped_at(LM / "code" / "t00.csv", hist / "code" / "es", 450, summary=False)
    said: list[str] = []
    read = read_curves([hist], "eval_loss", studies=True)
    assert next(c for c in read if c.name == "code/es").planned == 450  # ended there: its plan, as read
    curves = learnable_history(read, say=said.append)
    assert "code/es" in [c.name for c in curves] and not any("left out" in line for line in said), said
    runs = live_runs(tmp_path / "live", n=2)
    stopped_at(LM / "descr" / "t05.csv", tmp_path / "live" / "t05", 300, summary=True)
    out = cli_in_process("forecast", "--history", str(hist), "--runs", str(tmp_path / "live"), "--metric",
                         "eval_loss")
    assert out.code == 0, out.err
    rows = {r.split()[0]: r.split()[1] for r in out.out.splitlines()[1:]}
    assert rows == {runs[0].name: "300/750", runs[1].name: "300/750", "t05": "300/300"}, out.out


def test_messages_about_trainer_folders_name_them_once(tmp_path):
    """Helper: `lcpipe evaluate --curves` on a folder of sweeps was told of CSV and DVCLive folders only, and to
    glob it, which --curves (one path) refuses; the pruner's note on a history curve read "ForecastPruner history:
    history: ...\""""
    hist = lora_history(tmp_path / "hist")
    out = cli_in_process("evaluate", "--curves", str(hist), "--metric", "eval_loss", "--cutoffs", "5")
    assert out.code == 2 and "Trainer output folders" in out.err and "lcpipe forecast --runs takes several" \
        in out.err, out.err
    write_run(LM / "code" / "t00.csv", hist / "code" / "t00", until=150)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ForecastPruner(750, hist, metric="eval_loss", fit_cache=False)
    said = [str(w.message) for w in seen]
    assert any(line.startswith("ForecastPruner history: code/t00") or "ForecastPruner history: " in line and
               "left out" in line for line in said), said
    assert not any("history: history:" in line for line in said), said


def test_a_config_beside_an_output_dir_is_its_runs_and_a_divergence_names_the_state_file(tmp_path):
    """Newcomer's pass: a plain Trainer run states no hyper-parameters (trial_params is null; its lr lives in the
    pickled training_args.bin), and a `<run>.json` beside its output dir, where a CSV's sidecar lies, was ignored
    without a word; a diverged run's line said "(line 229)" of no file. The config is read (trial_params win), and
    the line names its state file. lcpipe.forecast gives each forecast value's step (forecast_at), as the JSON."""
    run = live_runs(tmp_path / "live", n=1)[0]
    state_file = run / "checkpoint-300" / "trainer_state.json"
    data = json.loads(state_file.read_text())
    data["trial_params"] = None
    for entry in data["log_history"]:
        if "eval_loss" in entry and entry["step"] >= 285:
            entry["eval_loss"] = math.nan
    state_file.write_text(json.dumps(data, indent=2, sort_keys=True))
    assert read_curve(state_file, "eval_loss").config == {"max_steps": 750}  # the plan alone
    (tmp_path / "live" / f"{run.name}.json").write_text('{"learning_rate": 3e-4, "optimizer": "adamw", '
                                                        '"max_steps": 10}')
    curve = read_curve(state_file, "eval_loss")
    assert curve.config == {"lr": 3e-4, "optimizer": "adamw", "max_steps": 750} and curve.planned == 750
    assert curve.diverged.endswith(f"of {state_file})") and "(the entry at line " in curve.diverged
    hist = lora_history(tmp_path / "hist")
    healthy = live_runs(tmp_path / "more", n=3)[1:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = lcpipe.forecast(hist, healthy, metric="eval_loss")
    assert list(frame.forecast_at.iloc[0][:2]) == [315, 330] and frame.forecast_at.iloc[0][-1] == 750
    assert len(frame.forecast_at.iloc[0]) == len(frame.forecast.iloc[0])


def _age(folder: Path, seconds: float) -> None:
    """Every state under `folder` as written `seconds` ago."""
    for state in folder.rglob("trainer_state.json"):
        os.utime(state, (time.time() - seconds,) * 2)


def test_an_output_dir_reused_by_a_new_run_is_read_as_the_new_run_and_says_so(tmp_path):
    """A new run writing into an older run's output dir has saved fewer steps than the older run left: the older
    checkpoints' highest step is not the run being watched. A state written later whose log does not continue the
    highest's is read instead, with one line naming the stale states; in a history, where finished runs are wanted,
    an unfinished newer run leaves the finished one read, with its own line."""
    runs = sorted((LM / "descr").glob("*.csv"))
    hist = tmp_path / "hist"
    for csv in sorted((LM / "docs").glob("*.csv"))[:6]:
        write_run(csv, hist / csv.stem, save_steps=None)
    reused = write_run(runs[5], tmp_path / "live" / "t00")  # an older run, finished at 750
    _age(reused, 3600)
    fresh = write_run(runs[0], tmp_path / "fresh" / "t00", until=150)
    shutil.rmtree(reused / "checkpoint-150")
    shutil.move(fresh / "checkpoint-150", reused / "checkpoint-150")  # the new run's first save, over the old one's
    for csv in runs[1:3]:
        write_run(csv, tmp_path / "live" / csv.stem, until=300)
    out = cli_in_process("forecast", "--history", str(hist), "--runs", str(tmp_path / "live"), "--metric",
                         "eval_loss")
    assert out.code == 0, out.err
    assert out.out.splitlines()[1].split()[:2] == ["t00", "150/750"]  # the older run read 750/750, stopped
    said = [line for line in out.err.splitlines() if "does not continue" in line]
    assert said == [f"{reused}: checkpoint-150 was written after checkpoint-300, checkpoint-450, checkpoint-600 ... "
                    "and does not continue it (a run resumed from an earlier checkpoint, or a new run in the same "
                    "output dir); read from checkpoint-150: checkpoint-300, checkpoint-450, checkpoint-600 ... are "
                    "stale, move them out of it"]
    assert read_curve(trainer_state_of(reused), "eval_loss").columns["eval_loss"][0] == \
        pytest.approx(pd.read_csv(runs[0]).val_ce[0])

    shutil.move(reused, hist / "t99")  # the same folder in a history: the finished older run is the one to learn
    out = cli_in_process("evaluate", "--curves", str(hist), "--metric", "eval_loss", "--cutoffs", "10",
                         "--predictors", "last_value")
    assert out.code == 0, out.err
    assert f"{hist / 't99'}: checkpoint-150 was written after" in out.err
    assert "and has not finished; read as the finished run, from its own trainer_state.json" in out.err
    assert "mean RMSE over 7 target(s)" in out.out

    copied = write_run(runs[3], tmp_path / "copied" / "t03", until=450)
    os.utime(copied / "checkpoint-150" / "trainer_state.json", (time.time() + 60,) * 2)  # copied last, one run
    assert trainer_state_of(copied, say=pytest.fail) == copied / "checkpoint-450" / "trainer_state.json"


def _resumed_run(out: Path) -> Path:
    """A run crashed after its checkpoint-600, rolled back to checkpoint-300 and resumed to 450 (its evaluations
    since a little off the first attempt's), its older states written an hour before."""
    csv = sorted((LM / "numpy").glob("*.csv"))[2]
    run = write_run(csv, out, until=600)
    _age(run, 3600)
    resumed = json.loads((run / "checkpoint-300" / "trainer_state.json").read_text())
    resumed["log_history"] += [{**e, "eval_loss": e["eval_loss"] + 0.01} if "eval_loss" in e else e
                               for e in log_history(csv, 450) if 300 < e["step"] <= 450]
    resumed["global_step"] = 450
    (run / "checkpoint-450" / "trainer_state.json").write_text(json.dumps(resumed))
    return run


def test_a_resumed_run_is_read_where_it_is_and_only_the_checkpoints_above_it_are_called_stale(tmp_path):
    """Rolled back to checkpoint-300 after a crash at 600, the resumed run has saved 450: read at 450 (before, at the
    stale 600), and only checkpoint-600 is named stale (150 and 300 are both attempts')."""
    run = _resumed_run(tmp_path / "t02")
    said: list[str] = []
    assert trainer_state_of(run, say=said.append) == run / "checkpoint-450" / "trainer_state.json"
    assert said == [f"{run}: checkpoint-450 was written after checkpoint-600 and does not continue it (a run resumed "
                    "from an earlier checkpoint, or a new run in the same output dir); read from checkpoint-450: "
                    "checkpoint-600 is stale, move it out of it"]


def test_an_evaluation_saved_after_a_finished_run_is_no_new_run(tmp_path):
    """A later evaluate() + save_state() on the same output dir writes a state of global_step 0 and one eval entry:
    the finished run is still read from its checkpoints, and no line calls it two runs (review: a history failed,
    its run read as 1 point)."""
    csv = sorted((LM / "docs").glob("*.csv"))[1]
    run = write_run(csv, tmp_path / "t01", save_steps=150)
    (run / "trainer_state.json").unlink()
    _age(run, 3600)
    (run / "trainer_state.json").write_text(json.dumps({"global_step": 0, "max_steps": 0, "log_history": [
        {"eval_loss": 2.1, "epoch": 0, "step": 0}]}))
    assert trainer_state_of(run, say=pytest.fail) == run / "checkpoint-750" / "trainer_state.json"


def test_an_output_dir_with_no_checkpoint_beside_the_runs_is_named_not_passed_over(tmp_path):
    """run-3 beside run-0 ... run-2 with nothing saved yet (TensorBoard's runs/ alone) is a live run waiting for its
    first save, named, whether the folder of runs or each run is given; in a history it is left out with one line.
    A folder not named like the runs, or one holding folders of runs (a study), is no unsaved run."""
    hist = tmp_path / "hist"
    for csv in sorted((LM / "docs").glob("*.csv"))[:6]:
        write_run(csv, hist / csv.stem, save_steps=None)
    (hist / "t09" / "runs").mkdir(parents=True)
    for i, csv in enumerate(sorted((LM / "descr").glob("*.csv"))[:3]):
        write_run(csv, tmp_path / "live" / f"run-{i}", until=300)
    (tmp_path / "live" / "run-3" / "runs").mkdir(parents=True)
    (tmp_path / "live" / "runs" / "Dec07_10-00-00_host").mkdir(parents=True)  # the Trainer's logging_dir: no run
    for given in ([tmp_path / "live"], sorted((tmp_path / "live").glob("run-*"))):
        out = cli_in_process("forecast", "--history", str(hist), "--runs", *map(str, given), "--metric", "eval_loss")
        assert out.code == 0, out.err
        assert [row.split()[0] for row in out.out.splitlines()[1:]] == ["run-0", "run-1", "run-2"]
        assert f"{tmp_path / 'live' / 'run-3'}: no Trainer checkpoint in it yet" in out.err
        assert "live/runs" not in out.err
    assert f"{hist}: t09 holds no Trainer checkpoint, unlike the runs beside it: left out" in out.err
    # `out/*` from a shell: the logging dir out/runs given too, and a history given run by run (review)
    out = cli_in_process("forecast", "--history", *map(str, sorted(hist.glob("*"))), "--runs",
                         *map(str, sorted((tmp_path / "live").glob("*"))), "--metric", "eval_loss")
    assert out.code == 0, out.err
    assert [row.split()[0] for row in out.out.splitlines()[1:]] == ["run-0", "run-1", "run-2"]
    assert f"{tmp_path / 'live' / 'runs'}: a Trainer's logging dir beside its runs, no run: left out" in out.err
    assert f"{tmp_path / 'live' / 'run-3'}: no Trainer checkpoint in it yet" in out.err
    assert f"{hist / 't09'}: no Trainer checkpoint, unlike the runs given beside it: left out" in out.err

    corpus = tmp_path / "corpus"
    for i, task in enumerate(("docs", "numpy")):
        for csv in sorted((LM / task).glob("*.csv"))[:4]:
            write_run(csv, corpus / f"study-{i}" / "sweep" / csv.stem, save_steps=None)
    write_run(sorted((LM / "code").glob("*.csv"))[0], corpus / "study-9", save_steps=None)  # a stray run at the top
    said: list[str] = []
    read_curves([corpus], "eval_loss", studies=True, say=said.append)
    assert not [line for line in said if "no Trainer checkpoint" in line]


def test_a_history_run_resumed_and_still_unfinished_is_not_called_finished_and_a_folder_not_read_says_nothing(
        tmp_path):
    """Crashed at 600, resumed from 300, now at 450: in a history neither state finished, and the line says so (it
    said "read as the finished run"). An output dir beside curve files is not read, so nothing is said of its
    checkpoints (it was)."""
    run = _resumed_run(tmp_path / "hist" / "t02")
    said: list[str] = []
    assert trainer_state_of(run, say=said.append, live=False) == run / "checkpoint-600" / "trainer_state.json"
    assert len(said) == 1 and said[0].endswith("and has not finished; read as the Trainer's rule picks it (neither "
                                               "has finished), from checkpoint-600")
    for other in sorted((LM / "numpy").glob("*.csv"))[3:6]:
        write_csv_run(other, tmp_path / "hist")
    said.clear()
    read_curves([tmp_path / "hist"], "eval_loss", studies=True, say=said.append)
    assert said == [f"{tmp_path / 'hist'}: its Hugging Face Trainer output folder(s) t02 are not read beside its curve "
                    "files: give them by name to use them"]


def test_a_resumed_run_whose_file_times_a_copy_reset_is_read_at_its_highest_step_and_named(tmp_path):
    """Red team: the resumed run copied so that its stale checkpoint-600 is as new as (or newer than) the resumed
    checkpoint-450: which one is the run now, only the times could tell. The highest step is read, as the Trainer's
    get_last_checkpoint picks it, and one line names the disagreement and its fix (before: read without a word)."""
    run = _resumed_run(tmp_path / "t02")
    for lead in (0, 60):  # equal times, then the stale one written last
        os.utime(run / "checkpoint-450" / "trainer_state.json", (time.time(),) * 2)
        os.utime(run / "checkpoint-600" / "trainer_state.json", (time.time() + lead,) * 2)
        said: list[str] = []
        assert trainer_state_of(run, say=said.append) == run / "checkpoint-600" / "trainer_state.json"
        assert said == [f"{run}: checkpoint-450 is no earlier state of checkpoint-600 (their logs differ): the run was "
                        "resumed from an earlier checkpoint, or its output dir reused, and the file times do not say "
                        "which is newer (a copy resets them); read from checkpoint-600, the highest step. If the run "
                        "went on from checkpoint-450, move checkpoint-600 out of it"]
    one_run = write_run(sorted((LM / "numpy").glob("*.csv"))[3], tmp_path / "t03", until=600)
    assert trainer_state_of(one_run, say=pytest.fail) == one_run / "checkpoint-600" / "trainer_state.json"
    # a finished run (its own state ends in the train_runtime summary) extended later from its last checkpoint, which
    # rotation then removed: no resume from an earlier checkpoint, nothing said (review: a false alarm)
    done = write_run(sorted((LM / "numpy").glob("*.csv"))[4], tmp_path / "t04")
    state = json.loads((done / "checkpoint-750" / "trainer_state.json").read_text())
    own = json.loads((done / "trainer_state.json").read_text())
    assert any("train_runtime" in e for e in own["log_history"])
    state["log_history"] += [{"step": 765, "eval_loss": 1.5}]
    state["global_step"] = 765
    shutil.rmtree(done / "checkpoint-750")
    (done / "checkpoint-765").mkdir()
    (done / "checkpoint-765" / "trainer_state.json").write_text(json.dumps(state))
    assert trainer_state_of(done, say=pytest.fail) == done / "checkpoint-765" / "trainer_state.json"


def test_a_live_runs_state_caught_half_written_is_read_from_the_checkpoint_before_and_a_first_one_waits(tmp_path):
    """Red team: the Trainer writes a state by emptying the file and writing it whole, and one live run caught in
    between (its checkpoint-300 empty) stopped the whole forecast with exit 2. It is read from its checkpoint-150,
    named; a run whose only state is half written waits, named; in a history the file is still one line."""
    hist = lora_history(tmp_path / "hist")
    runs = live_runs(tmp_path / "live", n=4)
    (runs[0] / "checkpoint-300" / "trainer_state.json").write_text("")
    state = runs[1] / "checkpoint-300" / "trainer_state.json"
    state.write_text(state.read_text()[:5000])
    shutil.rmtree(runs[2] / "checkpoint-150")
    (runs[2] / "checkpoint-300" / "trainer_state.json").write_text('{\n  "best_metric": null,\n')
    out = cli_in_process("forecast", "--history", str(hist), "--runs", str(tmp_path / "live"), "--metric", "eval_loss")
    assert out.code == 0, out.err
    assert [r.split()[:2] for r in out.out.splitlines()[1:]] == [
        [runs[0].name, "150/750"], [runs[1].name, "150/750"], [runs[3].name, "300/750"]]
    for run in runs[:2]:
        assert f"{run}: checkpoint-300/trainer_state.json is being written (cut short); read from checkpoint-150 " \
               "until it is" in out.err
    assert f"{runs[2].name}: no trainer_state.json in its checkpoint yet" in out.err
    with pytest.raises(LcpipeError, match="not valid JSON"):
        read_curves([runs[0]], "eval_loss")  # not live: the file is what it is
    _age(runs[0], 3600)  # cut short an hour ago: damaged, not being written (review: it waited for ever, misnamed)
    out = cli_in_process("forecast", "--history", str(hist), "--runs", str(tmp_path / "live"), "--metric", "eval_loss")
    assert out.code == 2 and "checkpoint-300/trainer_state.json: not valid JSON" in out.err, out.err


def test_a_live_run_whose_only_state_is_its_own_half_written_waits_named(tmp_path):
    """Review: a run saving no checkpoints (save_strategy 'no') whose save_state() is caught half-written dropped out
    of the forecast without a word; beside a whole checkpoint it is read from that, said."""
    hist = lora_history(tmp_path / "hist")
    runs = live_runs(tmp_path / "live")
    own = runs[0] / "trainer_state.json"
    own.write_text((runs[0] / "checkpoint-300" / "trainer_state.json").read_text()[:3000])
    out = cli_in_process("forecast", "--history", str(hist), "--runs", str(tmp_path / "live"), "--metric", "eval_loss")
    assert out.code == 0 and out.out.splitlines()[1].split()[:2] == [runs[0].name, "300/750"], out.err
    assert f"{runs[0]}: trainer_state.json is being written (cut short); read from checkpoint-300 until it is" \
        in out.err
    for checkpoint in runs[0].glob("checkpoint-*"):
        shutil.rmtree(checkpoint)
    out = cli_in_process("forecast", "--history", str(hist), "--runs", str(tmp_path / "live"), "--metric", "eval_loss")
    assert out.code == 0 and [r.split()[0] for r in out.out.splitlines()[1:]] == [r.name for r in runs[1:]], out.err
    assert "its only trainer_state.json is being written (cut short)" in out.err


def test_a_sweeps_output_dir_read_as_one_run_names_the_trial_runs_in_it(tmp_path):
    """Red team: hyperparameter_search's run-0 ... run-N trials, then the final train() with the best params saving
    its state at the top of the same output dir: the folder was read as that one run and the trials dropped without
    a word (a history of two sweeps said '13 of 13 history curves' for 9 + 4 trials + 1)."""
    sweep = tmp_path / "sweep"
    for i, csv in enumerate(sorted((LM / "docs").glob("*.csv"))[:4]):
        write_run(csv, sweep / f"run-{i}", save_steps=None)
    shutil.copy(sweep / "run-0" / "trainer_state.json", sweep / "trainer_state.json")
    said: list[str] = []
    assert [c.name for c in read_curves([sweep], "eval_loss", studies=True, say=said.append)] == ["sweep"]
    assert said == [f"{sweep}: read as one Trainer run; its 4 folders run-0, run-1, run-2, ... hold Trainer runs too, "
                    f"not read: give them by name to read them (e.g. {sweep / 'run-0'})"]
    said.clear()
    assert len(read_curves(sorted(sweep.glob("run-*")), "eval_loss", studies=True, say=said.append)) == 4
    assert said == []
    run = write_run(sorted((LM / "docs").glob("*.csv"))[5], tmp_path / "t05")  # a run with a copy of a checkpoint
    for copy in ("best", "final_model"):  # (review: named as runs to read, which would add the run twice)
        shutil.copytree(run / "checkpoint-300", run / copy)
    assert [c.name for c in read_curves([run], "eval_loss", say=pytest.fail)] == ["t05"]


def test_a_state_planning_fewer_steps_than_it_logged_says_the_plan_in_the_file_is_wrong(tmp_path):
    """Red team: the advice 'give the full planned length' was followed with --steps 750 and refused with the same
    line: a file's own plan wins over a flag, so the fix is in the file."""
    hist = lora_history(tmp_path / "hist")
    runs = live_runs(tmp_path / "live")
    state = runs[0] / "checkpoint-300" / "trainer_state.json"
    state.write_text(json.dumps({**json.loads(state.read_text()), "max_steps": 200}))
    out = cli_in_process("forecast", "--history", str(hist), "--runs", str(tmp_path / "live"), "--metric", "eval_loss",
                         "--steps", "750")
    assert out.code == 2 and out.err.strip().endswith(
        "300 steps observed, more than the 200 planned by its own file; the plan in its own file is wrong, and a "
        "flag does not override a file's plan: correct it there"), out.err
