"""A ninth hostile-input pass (2026-12-05, afternoon): --out over a sidecar, a log line cut mid-value, a pruner
history with a missed evaluation logged as 0, and --epochs over runs logged by step and by epoch. Each test failed
on the code before its fix."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from lcpipe.cli import main as cli
from lcpipe.integrations.optuna import ForecastPruner
from tests.helpers import ROOT

LORA = ROOT / "bench" / "lm_table" / "curves" / "code"
optuna.logging.set_verbosity(optuna.logging.WARNING)


def lora_copy(dest: Path, names: list[str], evaluations: int | None = None, columns: str = "step,val_ce") -> Path:
    """LoRA runs of the bundled table (step, val_ce), each cut to its first `evaluations` rows."""
    dest.mkdir(parents=True)
    width = len(columns.split(","))
    for name in names:  # the lines as the table's writer wrote them (5 decimals each), its first columns
        lines = (LORA / f"{name}.csv").read_text().splitlines()
        lines = lines if evaluations is None else lines[: evaluations + 1]
        (dest / f"{name}.csv").write_text("".join(",".join(line.split(",")[:width]) + "\n" for line in lines))
    return dest


@pytest.fixture
def lora(tmp_path):
    history = lora_copy(tmp_path / "history", [f"t{i:02d}" for i in range(10)])
    runs = lora_copy(tmp_path / "runs", ["t10", "t11", "t12"], evaluations=10)
    return history, runs


@pytest.mark.parametrize("victim", ["sidecar", "dvc_metrics", "sweep_results"])
def test_out_never_replaces_a_json_lcpipe_did_not_write_though_it_names_a_metric(lora, tmp_path, capsys, victim):
    """Any JSON object with a `metric` key passed as lcpipe's own results: a run's config sidecar (its lr, its
    planned steps) and the pipeline's DVC metrics files were replaced by forecast JSON, exit 0."""
    history, runs = lora
    target = tmp_path / "other" / f"{victim}.json"
    target.parent.mkdir()
    source = {"sidecar": LORA / "t20.json", "dvc_metrics": ROOT / "metrics" / "evaluate.json",
              "sweep_results": ROOT / "metrics" / "sweep_results.json"}[victim]
    shutil.copy(source, target)
    before = target.read_bytes()
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--steps", "750",
             "--out", str(target)])
    assert "is not a results file lcpipe wrote" in capsys.readouterr().err
    assert target.read_bytes() == before
    # its own results it replaces, as before
    ours = tmp_path / "ours.json"
    for _ in range(2):
        cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--steps", "750",
             "--out", str(ours)])
    assert len(json.loads(ours.read_text())["runs"]) == 3


@pytest.mark.parametrize("cut", ["1", "", "1.8"])
def test_a_last_line_cut_mid_value_is_not_read_yet(lora, tmp_path, cut):
    """`165,1` of `165,1.87775` (a logger mid-write, no newline after it) was read as a loss of 1.0 and moved the
    run's forecast from 1.86 to 1.52; `165,` stopped the whole command on a blank value."""
    history, runs = lora
    clean = tmp_path / "clean.json"
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--steps", "750",
         "--out", str(clean)])
    path = runs / "t12.csv"
    path.write_text(path.read_text() + f"165,{cut}")
    cut_json = tmp_path / "cut.json"
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--steps", "750",
         "--out", str(cut_json)])
    assert json.loads(cut_json.read_text())["runs"] == json.loads(clean.read_text())["runs"]


def test_a_whole_last_line_without_a_newline_is_still_read(lora, tmp_path):
    history, runs = lora
    path = runs / "t12.csv"
    nxt = pd.read_csv(LORA / "t12.csv").iloc[10]
    path.write_text(path.read_text() + f"{int(nxt['step'])},{nxt['val_ce']}")
    out = tmp_path / "f.json"
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--steps", "750",
         "--out", str(out)])
    assert {r["run"]: r["observed"] for r in json.loads(out.read_text())["runs"]}["t12"] == 165


def test_the_pruner_leaves_out_a_history_loss_with_a_missed_evaluation_logged_as_0(tmp_path):
    """lcpipe forecast left such a curve out; ForecastPruner used it, and a trial's final_forecast band was
    [1e-6, 3e6] (in log space the 0 lies far below every real loss)."""
    clean = lora_copy(tmp_path / "clean", [f"t{i:02d}" for i in range(10)])
    zeroed = lora_copy(tmp_path / "zeroed", [f"t{i:02d}" for i in range(10)])
    frame = pd.read_csv(zeroed / "t03.csv")
    frame.loc[frame["step"] >= 255, "val_ce"] = 0.0
    frame.to_csv(zeroed / "t03.csv", index=False)

    def band(history: Path) -> tuple[float, float, float]:
        pruner = ForecastPruner(steps=750, history=history, metric="val_ce", fit_cache=False)
        study = optuna.create_study(direction="minimize", pruner=pruner)
        for name in ("t20", "t21", "t22"):
            trial, frame = study.ask(), pd.read_csv(LORA / f"{name}.csv")
            for s, v in zip(frame["step"], frame["val_ce"]):
                trial.report(float(v), int(s))
            study.tell(trial, float(frame["val_ce"].iloc[-1]))
        trial, frame = study.ask(), pd.read_csv(LORA / "t10.csv").iloc[:10]
        for s, v in zip(frame["step"], frame["val_ce"]):
            trial.report(float(v), int(s))
        return pruner.final_forecast(study, trial)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zero_band = band(zeroed)
    assert any("t03" in str(w.message) and "left out" in str(w.message) for w in caught)
    assert np.allclose(zero_band, band(clean), rtol=0.05)
    assert 1.5 < zero_band[1] < zero_band[2] < 2.5


def test_epochs_over_runs_logged_by_step_and_by_epoch_is_refused_as_steps_is(lora, tmp_path, capsys):
    """--steps 750 on such a folder was refused (their finals are not comparable); --epochs 750, with no step run
    past step 750, planned the epoch run 750 epochs, kept it at P(best) 0.93 and stopped a step run."""
    history, runs = lora
    frame = pd.read_csv(LORA / "t13.csv").iloc[:10]
    pd.DataFrame({"epoch": np.arange(1, 11), "val_ce": frame["val_ce"]}).to_csv(runs / "t13_epoch.csv", index=False)
    for flag in ("--steps", "--epochs"):
        with pytest.raises(SystemExit):
            cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", flag, "750"])
        err = capsys.readouterr().err
        assert f"{flag} 750: 1 run(s) count epochs" in err and "not comparable" in err


def test_a_loss_of_1e_minus_5_keeps_its_digits_in_the_json(tmp_path):
    """--out rounded to 6 decimals: an MSE near 4e-5 lost its band and a loss near 1e-8 became 0."""
    for folder in ("history", "runs"):
        (tmp_path / folder).mkdir()
    steps = np.arange(15, 751, 15)
    for i in range(6):
        curve = 1e-5 * (4 + 0.2 * i + 3 * np.exp(-steps / 150))
        pd.DataFrame({"step": steps, "val_mse": curve}).to_csv(tmp_path / "history" / f"h{i}.csv", index=False)
    for name, level in (("a", 4.1), ("b", 4.65)):
        curve = 1e-5 * (level + 3 * np.exp(-steps / 150))
        pd.DataFrame({"step": steps[:12], "val_mse": curve[:12]}).to_csv(tmp_path / "runs" / f"{name}.csv",
                                                                          index=False)
    out = tmp_path / "f.json"
    cli(["forecast", "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"), "--metric", "val_mse",
         "--steps", "750", "--out", str(out)])
    runs = {r["run"]: r for r in json.loads(out.read_text())["runs"]}
    a, b = runs["a"]["final"], runs["b"]["final"]
    assert a["lower"] < a["mean"] < a["upper"] and a["mean"] < b["mean"]
    assert 3e-5 < a["mean"] < 6e-5 and len(set(runs["a"]["forecast"])) > 10


@pytest.mark.parametrize("name", ["val_fvd", "mase", "val_crps", "pinball_loss", "hd95", "hausdorff", "ece", "frr",
                                  "levenshtein"])
def test_mode_auto_reads_these_losses_as_lower_is_better(name):
    from lcpipe.metric import Metric
    assert Metric.infer(name).mode == "min"


@pytest.mark.parametrize("content", ["", "step,val_ce\n"])
def test_a_run_whose_logger_wrote_no_evaluation_yet_is_left_out_and_listed(lora, tmp_path, capsys, content):
    """A header alone (a CSV logger writes it first) or an empty file stopped the whole command."""
    history, runs = lora
    (runs / "new.csv").write_text(content)
    out = tmp_path / "f.json"
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--steps", "750",
         "--out", str(out)])
    document = json.loads(out.read_text())
    assert [r["run"] for r in document["runs"]] == ["t10", "t11", "t12"]
    assert [r["run"] for r in document["left_out"]] == ["new"]
    assert "new.csv: no evaluation logged yet" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # all of them so: one line
        cli(["forecast", "--history", str(history), "--runs", str(runs / "new.csv"), "--metric", "val_ce",
             "--steps", "750"])
    assert "no evaluation logged yet" in capsys.readouterr().err


def test_fractional_epochs_are_forecast_at_their_own_epochs(tmp_path):
    (tmp_path / "history").mkdir()
    (tmp_path / "runs").mkdir()
    epochs = np.round(np.arange(1, 201) * 0.05, 2)
    for i in range(5):
        pd.DataFrame({"epoch": epochs, "val_loss": 0.5 + 0.05 * i + np.exp(-epochs)}).to_csv(
            tmp_path / "history" / f"h{i}.csv", index=False)
    pd.DataFrame({"epoch": epochs[:40], "val_loss": 0.52 + np.exp(-epochs[:40])}).to_csv(tmp_path / "runs" / "r.csv",
                                                                                       index=False)
    out = tmp_path / "f.json"
    cli(["forecast", "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"), "--metric", "val_loss",
         "--epochs", "10", "--out", str(out)])
    at = json.loads(out.read_text())["runs"][0]["forecast_at"]
    assert at[:3] == [2.05, 2.1, 2.15] and at[-1] == 10 and len(set(at)) == len(at)


def test_numbers_held_as_objects_are_padded_as_numbers_are():
    """df.astype(object): a shorter run's NaN padding read as a divergence (final NaN, stopped)."""
    import lcpipe
    history = ROOT / "data" / "history" / "cifar10-plain-vs-resnet"
    frame = pd.DataFrame({"a": [0.31, 0.52, 0.60, 0.66, 0.70, 0.72], "b": [0.30, 0.45, 0.50, 0.55, 0.58, np.nan]})
    as_floats = lcpipe.forecast(history=history, runs=frame, epochs=50).set_index("run")
    as_objects = lcpipe.forecast(history=history, runs=frame.astype(object), epochs=50).set_index("run")
    assert as_objects.loc["b", "reason"] == "" and np.isclose(as_objects.loc["b", "final"], as_floats.loc["b", "final"])


@pytest.mark.parametrize("name", ["step", "epoch", "global_step"])
def test_the_x_axis_is_no_metric(lora, capsys, name):
    history, runs = lora
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", name, "--steps", "750"])
    assert "x axis" in capsys.readouterr().err
    with pytest.raises(Exception, match="x axis"):
        ForecastPruner(steps=750, metric=name)


def test_a_trial_reporting_every_step_costs_the_pruner_time_in_proportion():
    """Each report re-read every report: 5,000 reports took 8.6 s against MedianPruner's 0.1, 20,000 took 131 s."""
    from bench.report_cost import seconds  # the bench's own trial, at 4,000 reports

    median = seconds(optuna.pruners.MedianPruner(), 4000)
    assert seconds(ForecastPruner(steps=4000, metric="val_loss", fit_cache=False), 4000) < 15 * median + 1.0


def test_evaluate_says_no_run_blew_up_where_none_did(lora, capsys):
    """A LoRA run only noisier late (its final among the others') was told its values were off their scale."""
    history, _ = lora
    cli(["evaluate", "--curves", str(history), "--metric", "val_ce", "--cutoffs", "45",
         "--predictors", "last_value,auto"])
    assert "blew up" not in capsys.readouterr().err


def test_a_dataframe_history_for_the_pruner_is_one_line_not_its_column_names_read_as_paths():
    with pytest.raises(Exception, match="not a pandas object"):
        ForecastPruner(epochs=10, history=pd.DataFrame({"run_a": [0.1, 0.2], "run_b": [0.2, 0.3]}))
    with pytest.raises(Exception, match="not a pandas object"):
        ForecastPruner(epochs=10, history=pd.Series([0.1, 0.2], name="run_a"))
    assert ForecastPruner(epochs=10, history=[LORA / "t00.csv", LORA / "t01.csv", LORA / "t02.csv"], metric="val_ce")


def test_the_fit_cache_keeps_apart_two_fits_of_one_loss_history_at_different_config_weights(tmp_path):
    """config_weight_series was no part of the cache key: a fit at 1 (the pruner's) was handed to a forecaster at 3."""
    from lcpipe.curve import Series
    from lcpipe.forecasting.fit_cache import content_key
    from lcpipe.forecasting.predictors.auto import Auto
    history = [Series(f"h{i}", -np.log(2 + 0.1 * i + np.exp(-np.arange(1, 30) / 5)), None, {"lr": 0.1 * (i + 1)},
                      bounded=False) for i in range(4)]
    assert content_key(Auto(config_weight_series=1.0), history) != content_key(Auto(config_weight_series=3.0), history)
    accuracy = [Series(s.name, 0.5 + 0.01 * np.arange(1, 30), None, s.config) for s in history]
    same = content_key(Auto(config_weight_series=1.0), accuracy)
    assert same == content_key(Auto(config_weight_series=3.0), accuracy)  # an accuracy's fit is shared


@pytest.mark.parametrize("rows, last", [
    ("".join(f"{e},{0.8 + 0.01 * e!r}\n" for e in range(1, 10)), "10,0.85"),  # repr()'d floats: whole
    ("".join(f"{e},{0.9 + 0.009 * e:.4f}\n" for e in range(1, 10)), "10,1.0000"),
    ("".join(f"{e},0.{9000 + e}\n" for e in range(1, 10)), "10,1.0"),  # 1.0 after 0.9001 ...: 1 decimal of 4
    ("1,0.5,0.1\n2,0.6,\n3,0.7,\n4,0.75,0.01\n5,0.8,\n", "6,0.82,"),  # an lr logged only where it changes
])
def test_a_whole_last_line_without_a_newline_is_read_whatever_its_format(tmp_path, rows, last):
    """Review: the first cut-line rule dropped whole last rows of finished files (repr()'d values ending 0.85
    after 0.8123, a sparse lr column's blank) and moved their forecasts silently."""
    from lcpipe.forecasting.logs import read_curve
    header = "epoch,test_acc,lr\n" if rows.count(",") > rows.count("\n") else "epoch,test_acc\n"
    (tmp_path / "c.csv").write_text(header + rows + last)
    cut = last == "10,1.0"  # the one a fixed-format writer leaves mid-number
    assert len(read_curve(tmp_path / "c.csv", "test_acc").columns["test_acc"]) == rows.count("\n") + (not cut)
