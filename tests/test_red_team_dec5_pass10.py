"""A tenth hostile-input pass (2026-12-05, afternoon): a study resumed after a crash, runs with no evaluation yet in
the Python API, a first row cut mid-write, and the lows. Each test failed on the code before its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

import lcpipe
from lcpipe.cli import main as cli
from lcpipe.config import Params, validate
from lcpipe.errors import LcpipeError
from tests.helpers import ROOT, with_params

optuna.logging.set_verbosity(optuna.logging.WARNING)
BUNDLED = ROOT / "data" / "history" / "cifar10-plain-vs-resnet"
LORA = ROOT / "bench" / "lm_table" / "curves" / "code"
E = 40

SESSION = """
import os, sys, numpy as np, optuna
sys.path.insert(0, {root!r})
from lcpipe.integrations.optuna import ForecastPruner
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(direction="maximize", pruner=ForecastPruner(epochs={e}, fit_cache=False),
                            storage={storage!r}, study_name="s", load_if_exists=True,
                            sampler=optuna.samplers.RandomSampler(0))
finals = {finals!r}
def objective(trial):
    c = finals[(trial.number - {first}) % len(finals)] * (1 - np.exp(-np.arange(1, {e} + 1) / 6))
    for e in range(1, {e} + 1):
        trial.report(float(c[e - 1]), e)
        if {dies} and trial.number == 2 and e == 30:
            os._exit(0)  # the machine dies mid-trial: the trial stays RUNNING in the storage
        if trial.should_prune():
            raise optuna.TrialPruned()
    return float(c[-1])
study.optimize(objective, n_trials=len(finals))
"""


def test_a_trial_left_running_by_a_crashed_session_prunes_nothing_in_the_next(tmp_path):
    """The README's SQLite recipe rerun after a crash: the crashed session's best trial (0.944 at step 30) stays
    RUNNING for ever; the new process took it for a live rival and pruned every new trial behind it, those
    ending at 0.91-0.94 included."""
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    for finals, first, dies in (([0.80, 0.78, 0.95], 0, True), ([0.90, 0.91, 0.92, 0.93, 0.89, 0.94], 3, False)):
        code = SESSION.format(root=str(ROOT), e=E, storage=storage, finals=finals, first=first, dies=dies)
        subprocess.run([sys.executable, "-c", code], check=True, timeout=300,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    trials = optuna.load_study(study_name="s", storage=storage).trials
    assert trials[2].state.name == "RUNNING"
    finished = {t.number: t.state.name for t in trials[3:]}
    assert [finished[n] for n in (3, 4, 5, 6, 8)] == ["COMPLETE"] * 5  # each a new best when it ran


def write_runs(folder: Path) -> Path:
    """Two live runs, 15 epochs in (the bundled history's first two curves a point lower: no copy of them)."""
    folder.mkdir()
    for path in sorted(BUNDLED.glob("*.csv"))[:2]:
        frame = pd.read_csv(path).iloc[:15]  # test_err, epochs from 0
        pd.DataFrame({"epoch": frame["epoch"] + 1, "test_acc": 0.99 - frame["test_err"]}).to_csv(folder / path.name,
                                                                                               index=False)
    return folder


@pytest.mark.parametrize("form", ["header_only_file", "nan_column", "nan_column_by_step"])
def test_the_python_api_leaves_out_a_run_with_no_evaluation_yet_as_the_cli_does(tmp_path, form):
    """A header-only CSV raised NotStarted; an all-NaN DataFrame column was 'give a list of numbers'."""
    if form == "header_only_file":
        runs = write_runs(tmp_path / "runs")
        (runs / "new.csv").write_text("epoch,test_acc\n")
    else:
        frame = pd.DataFrame({"a": np.linspace(0.3, 0.7, 15), "b": np.linspace(0.2, 0.6, 15), "new": np.nan})
        runs = frame if form == "nan_column" else frame.set_index(pd.Index(np.arange(15, 226, 15), name="step"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kw = {"epochs": 50} if form != "nan_column_by_step" else {"steps": 750}
        table = lcpipe.forecast(history=BUNDLED, runs=runs, **kw)
    assert "new" not in set(table["run"]) and len(table) == 2
    said = "new.csv: no evaluation logged yet" if form == "header_only_file" else "'new': no evaluation logged yet"
    assert any(said in str(w.message) for w in caught)  # a file by its path, as the CLI names it
    with pytest.raises(LcpipeError, match="no evaluation logged yet"):
        lcpipe.forecast(history=BUNDLED, runs={"new": []}, epochs=50)


@pytest.mark.parametrize("partial", ["1,,0.45", "1,", "1"])
def test_a_first_row_cut_mid_write_leaves_the_run_out_and_the_others_forecast(tmp_path, capsys, partial):
    runs = write_runs(tmp_path / "runs")
    (runs / "new.csv").write_text(f"epoch,train_loss,train_acc,test_acc\n{partial}")
    out = tmp_path / "f.json"
    cli(["forecast", "--history", str(BUNDLED), "--runs", str(runs), "--epochs", "50", "--out", str(out)])
    document = json.loads(out.read_text())
    assert len(document["runs"]) == 2 and [r["run"] for r in document["left_out"]] == ["new"]


def test_a_bad_arch_list_says_how_to_get_the_removed_curves_back():
    """The line said `dvc checkout data/curves`, which DVC refuses (data/curves is no output of its own)."""
    with pytest.raises(LcpipeError) as err:
        validate(with_params(Params(), train__archs=["resnet34", "resnet34"]))
    message = str(err.value)
    assert "`dvc checkout`" in message and "dvc checkout data/curves" not in message and "params.yaml" in message


def test_kind_fraction_on_a_loss_above_1_names_the_kind_not_the_metrics_name(tmp_path, capsys):
    (tmp_path / "h").mkdir()
    pd.DataFrame({"epoch": np.arange(1, 21), "val_loss": 3 + np.exp(-np.arange(1, 21) / 5)}).to_csv(
        tmp_path / "h" / "a.csv", index=False)
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "h"), "--metric", "val_loss",
             "--kind", "fraction", "--epochs", "20"])
    err = capsys.readouterr().err
    assert "--kind positive or any" in err and "not an accuracy's" not in err


def test_a_results_file_written_before_the_mode_key_existed_is_replaced(tmp_path):
    """Before 2026-12-03 the JSON had no `mode`: a scheduled re-forecast after an upgrade was refused."""
    runs = write_runs(tmp_path / "runs")
    out = tmp_path / "forecast.json"
    out.write_text('{"metric": "test_acc", "epochs": 50, "predictor": "auto", "runs": [{"run": "a"}]}\n')
    cli(["forecast", "--history", str(BUNDLED), "--runs", str(runs), "--epochs", "50", "--out", str(out)])
    assert json.loads(out.read_text())["mode"] == "max"


def test_lr_drops_past_every_curve_are_refused_and_count_steps_on_a_step_axis(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli(["evaluate", "--curves", str(BUNDLED), "--cutoffs", "20", "--predictors", "last_value",
             "--lr-drops", "8200,12300"])
    assert "--lr-drops 8200: at or past the end of every curve" in capsys.readouterr().err
    from lcpipe.cli import with_step_lr
    from lcpipe.forecasting.logs import read_curve
    curve = read_curve(LORA / "t00.csv", "val_ce")
    lr = with_step_lr(curve, [300]).columns["lr"]
    assert lr[19] == 1.0 and lr[20] == pytest.approx(0.1)  # evaluation 20 is step 300, evaluation 21 step 315


def test_evaluate_of_one_target_prints_no_numpy_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cli(["evaluate", "--curves", str(LORA), "--metric", "val_ce", "--cutoffs", "10", "--predictors",
             "last_value", "--target", "t00"])
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_a_run_that_diverged_at_its_first_evaluation_is_stopped_not_left_out():
    """Review: the first not-started rule read a list of NaN as a run with no evaluation yet and dropped it."""
    table = lcpipe.forecast(history=BUNDLED, runs={"a": list(np.linspace(0.3, 0.7, 15)),
                                                   "nan": [np.nan, np.nan], "inf": [np.inf]}, epochs=50)
    rows = table.set_index("run")
    assert rows.loc["nan", "decision"] == "stop" and rows.loc["inf", "decision"] == "stop"
    assert "diverged" in rows.loc["nan", "reason"] or "nan" in rows.loc["nan", "reason"]


def test_relevance_gives_a_text_key_no_edge_over_a_number_by_chance():
    """Review: beside pure-noise finals a 4-valued text key weighed 1.5 and numbers 0.75, and a key with one
    value a run (a run name) always weighed most."""
    from lcpipe.forecasting.predictors.auto import ConfigColumns
    rng = np.random.default_rng(0)
    text, numbers = [], []
    for _ in range(400):
        configs = [{"dataset": "d", "opt": f"o{rng.integers(4)}", "wd": float(rng.uniform(0, 0.1)),
                    "name": f"run{i}"} for i in range(8)]
        weights = ConfigColumns(configs).relevance(rng.normal(size=8), np.ones(8, dtype=bool))
        assert "name" not in weights  # one value a run: nothing to learn
        text.append(weights.get("opt", 1.0))
        numbers.append(weights.get("wd", 1.0))
    assert abs(np.mean(text) - np.mean(numbers)) < 0.35  # 1.10 against 0.90 here; 1.5 against 0.75 before


def test_evaluate_params_are_not_checked_against_the_pipelines_own_run_length(tmp_path, capsys):
    """`evaluate --params` with `features: {window: 60}` on 200-point curves at cutoff 100 was refused: the
    pipeline's 50-epoch run (train.epochs) has no cutoff for that window, though evaluate never runs it."""
    (tmp_path / "curves").mkdir()
    t = np.arange(1, 201)
    for i in range(3):
        pd.DataFrame({"epoch": t, "val_loss": 0.5 + 0.1 * i + np.exp(-t / 40)}).to_csv(
            tmp_path / "curves" / f"c{i}.csv", index=False)
    (tmp_path / "p.yaml").write_text("features: {window: 60}\n")
    cli(["evaluate", "--curves", str(tmp_path / "curves"), "--metric", "val_loss", "--cutoffs", "100",
         "--predictors", "last_value", "--params", str(tmp_path / "p.yaml")])
    assert "| 100 |" in capsys.readouterr().out
    (tmp_path / "p.yaml").write_text("features: {window: 0}\n")  # its own section is still checked
    with pytest.raises(SystemExit):
        cli(["evaluate", "--curves", str(tmp_path / "curves"), "--metric", "val_loss", "--cutoffs", "100",
             "--params", str(tmp_path / "p.yaml")])
    assert "features.window" in capsys.readouterr().err
