import json

import numpy as np
import pytest

from lcpipe.curve import COLUMNS, format_rows, write_curve
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.logs import read_curve, read_curve_dir, read_curves
from tests.helpers import EXTERNAL_CURVES


def rows(n=3):
    return [{"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.1 * e, "test_loss": 1.1 / e,
             "test_acc": 0.09 * e, "lr": 0.1} for e in range(1, n + 1)]


def test_write_then_read_roundtrips_exactly(tmp_path):
    write_curve(tmp_path / "a.csv", rows(), {"epochs": len(rows())})
    curve = read_curve(tmp_path / "a.csv")
    assert curve.name == "a" and len(curve) == 3
    np.testing.assert_array_equal(curve.metric("test_acc"), [0.09, 0.18, 0.27])
    assert (tmp_path / "a.csv").read_text().splitlines()[0] == ",".join(COLUMNS)
    assert not list(tmp_path.glob(".*tmp"))


def test_external_format_is_converted_to_accuracy_and_one_based_epochs():
    curve = read_curve(EXTERNAL_CURVES / "resnet20.csv")
    assert len(curve) == 164 and curve.columns["epoch"][0] == 1
    assert curve.metric("test_acc")[0] == pytest.approx(1 - 0.6367)
    assert curve.metric("test_acc").max() == pytest.approx(1 - 0.08, abs=1e-3)


def test_reads_every_curve_of_a_directory_sorted():
    names = [c.name for c in read_curve_dir(EXTERNAL_CURVES)]
    assert names == sorted(names) and len(names) == 8


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("test_acc", "tst_acc"), r"missing column 'test_acc'"),
    (lambda t: t.replace("0.18", "abc"), r"line 3: column 'test_acc' is 'abc', not a number"),
    (lambda t: t.replace("0.18", "18.0"), r"line 3: column 'test_acc' is '18.0' where a fraction in \[0, 1\] was "),
    (lambda t: t.replace("0.18,", ","), r"line 3: column 'test_acc' is blank"),
    (lambda t: t.replace("\n2,", "\n5,"), r"line 4: epoch '3' after '5'; epoch must increase"),
    (lambda t: t.replace("\n1,", "\n2,"), r"line 3: epoch '2' after '2'"),
    (lambda t: t.replace("\n1,", "\n-1,"), r"line 2: epoch '-1' where a step >= 0 was expected"),
    (lambda t: t.split("\n")[0] + "\n", r"no data rows"),
    (lambda t: "", r"empty file"),
    (lambda t: ";\n", r"no values, only separators"),  # found by test_faults' hypothesis run
])
def test_bad_file_names_file_line_and_problem(tmp_path, edit, message):
    path = tmp_path / "bad.csv"
    path.write_text(edit(format_rows(rows())))
    with pytest.raises(LcpipeError, match=message) as err:
        read_curve(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_empty_or_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(LcpipeError, match="no \\*.csv curve files, DVCLive folders or Trainer output folders"):
        read_curve_dir(tmp_path)
    with pytest.raises(LcpipeError, match="not a directory"):
        read_curve_dir(tmp_path / "nope")


GOOD = "epoch,train_loss,train_acc,test_loss,test_acc,lr\n1,2.0,0.2,2.1,0.25,0.1\n2,1.0,0.5,1.1,0.55,0.1\n"


@pytest.mark.parametrize("text", [
    "\ufeff" + GOOD,  # Excel's byte-order mark
    GOOD.replace(",", ";"),
    GOOD.replace(",", ";").replace("0.", "0,"),  # semicolons with a decimal comma
    GOOD.replace(",", "\t"),
    GOOD.replace("epoch", "Epoch").replace("test_acc", " Test_Acc "),
    "Epoch,time,test_acc\n1,2024-01-01T10:00,0.25\n2,2024-01-01T10:05,0.55\n",  # a text column
    "epoch,train_loss,test_acc\n1,nan,0.25\n2,,0.55\n",  # a diverged / unlogged loss
    "epoch,test_acc\n0,0.25\n1,0.55\n",  # epochs from 0
    "epoch,test_acc\r\n\r\n1,0.25\r\n2,0.55\r\n\r\n",  # CRLF, blank lines
])
def test_real_world_dialects_read_the_same_metric(tmp_path, text):
    path = tmp_path / "run.csv"
    path.write_text(text, newline="")
    curve = read_curve(path)
    np.testing.assert_array_equal(curve.metric("test_acc"), [0.25, 0.55])
    np.testing.assert_array_equal(curve.columns["epoch"], [1, 2])


def test_only_the_forecast_metric_is_validated(tmp_path):
    path = tmp_path / "run.csv"
    path.write_text("epoch,train_acc,test_acc,lr\n1,,0.25,0.1\n2,oops,0.55,\n")
    curve = read_curve(path)
    assert "train_acc" not in curve.columns and curve.lr is None  # no numbers in it: dropped
    with pytest.raises(LcpipeError, match="line 2: column 'train_acc' is blank"):
        read_curve(path, metric="train_acc")


def test_write_curve_with_a_diverged_loss_reads_back(tmp_path):
    bad = rows()
    bad[1]["train_loss"] = float("nan")
    write_curve(tmp_path / "a.csv", bad, {"epochs": len(bad)})
    assert np.isnan(read_curve(tmp_path / "a.csv").columns["train_loss"][1])


def test_percent_curves_are_named_as_percent(tmp_path):
    path = tmp_path / "run.csv"
    path.write_text("epoch,test_acc\n1,25.0\n2,55.5\n")
    with pytest.raises(LcpipeError, match=r"column 'test_acc' is in percent \(up to 55.5\).*divide it by 100"):
        read_curve(path)


def test_external_format_errors_quote_the_files_own_columns_and_epochs(tmp_path):
    text = (EXTERNAL_CURVES / "resnet20.csv").read_text().splitlines()
    path = tmp_path / "ext.csv"
    path.write_text("\n".join([*text[:4], text[4].replace("3,", "7,", 1), *text[5:]]) + "\n")
    with pytest.raises(LcpipeError, match=r"line 6: epoch '4' after '7'"):
        read_curve(path)
    path.write_text("\n".join([*text[:3], text[3].rsplit(",", 1)[0] + ",", *text[4:]]) + "\n")
    with pytest.raises(LcpipeError, match=r"line 4: column 'test_err' is blank"):
        read_curve(path)


def test_directories_read_upper_case_csv_and_dvclive_and_skip_hidden_files(tmp_path):
    (tmp_path / "a.CSV").write_text(GOOD)
    (tmp_path / "._a.csv").write_bytes(b"\x00\x05\x16\x07 mac resource fork")
    (tmp_path / ".hidden.csv").write_text("junk")
    metrics = tmp_path / "b" / "plots" / "metrics"
    metrics.mkdir(parents=True)
    (metrics / "test_acc.tsv").write_text("timestamp\tstep\ttest_acc\n1700000000\t0\t0.3\n1700000060\t1\t0.6\n")
    (tmp_path / "b" / "params.yaml").write_text("train:\n  epochs: 40\n")
    curves = read_curve_dir(tmp_path)
    assert [c.name for c in curves] == ["a", "b"]
    np.testing.assert_array_equal(curves[1].metric("test_acc"), [0.3, 0.6])
    assert curves[1].planned == 40 and curves[0].planned is None


def test_a_dvclive_parent_gives_one_run_per_arch_and_a_missing_metric_says_what_was_logged(tmp_path):
    for arch in ("resnet34", "plain34"):
        metrics = tmp_path / "dvclive" / arch / "plots" / "metrics"
        metrics.mkdir(parents=True)
        (metrics / "test_acc.tsv").write_text("timestamp\tstep\ttest_acc\n1\t0\t0.3\n")
        (metrics / "train_loss.tsv").write_text("timestamp\tstep\ttrain_loss\n1\t0\t2.0\n")
    assert [c.name for c in read_curves([tmp_path / "dvclive"])] == ["plain34", "resnet34"]
    with pytest.raises(LcpipeError, match=r"without plots/metrics/train_acc.tsv; it logged test_acc, train_loss"):
        read_curves([tmp_path / "dvclive" / "plain34"], metric="train_acc")


def test_a_runs_config_is_read_from_each_source_it_can_come_from(tmp_path):
    """lcpipe's sidecar, a dev-corpus style `<run>.json`, DVCLive's params.yaml (a `train:` section
    flattened); a curve with none has an empty config and still reads."""
    from lcpipe.curve import read_lcpipe_csv
    from lcpipe.forecasting.logs import read_dvclive

    rows_ = rows()
    write_curve(tmp_path / "own.csv", rows_, {"epochs": 9, "arch": "plain50", "optimizer": "sgd", "lr": 0.05})
    for reader in (read_lcpipe_csv, read_curve):
        curve = reader(tmp_path / "own.csv")
        assert curve.planned == 9 and curve.config == {"arch": "plain50", "optimizer": "sgd", "lr": 0.05}
    (tmp_path / "corpus.csv").write_text(format_rows(rows_))
    (tmp_path / "corpus.json").write_text('{"epochs": 200, "optimizer": "adam", "milestones": [150], "lr": 0.001}')
    assert read_curve(tmp_path / "corpus.csv").config == {"optimizer": "adam", "milestones": [150], "lr": 0.001}
    live = tmp_path / "live"
    (live / "plots" / "metrics").mkdir(parents=True)
    (live / "plots" / "metrics" / "test_acc.tsv").write_text("step\ttest_acc\n0\t0.5\n1\t0.6\n")
    (live / "params.yaml").write_text("train:\n  epochs: 30\n  lr: 0.1\n  schedule: cosine\n")
    curve = read_dvclive(live)
    assert curve.planned == 30 and curve.config == {"lr": 0.1, "schedule": "cosine"}
    (tmp_path / "bare.csv").write_text(format_rows(rows_))
    assert read_curve(tmp_path / "bare.csv").config == {}


def test_an_alias_bomb_as_a_sidecar_is_one_line(tmp_path):
    (tmp_path / "a.csv").write_text(format_rows(rows()))
    (tmp_path / "a.json").write_text('a: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b]\n')
    with pytest.raises(LcpipeError, match="aliases"):
        read_curve(tmp_path / "a.csv")


def test_a_number_with_an_exponent_in_a_runs_config_is_a_number(tmp_path):
    """json.dumps(1e-5) writes `1e-05` and DVCLive's params.yaml may hold `lr: 1e-3`: YAML 1.1 reads
    both as strings, which silently dropped the lr from the config. A quoted '1e-3' is a number too (MLflow
    writes every param as text; tests/test_red_team_dec6g.py); text that is no number stays text."""
    from lcpipe.forecasting.logs import run_config
    from lcpipe.forecasting.predictors.auto import config_distance

    (tmp_path / "a.json").write_text(json.dumps({"epochs": 10, "lr": 1e-05, "optimizer": ["sgd"]}))
    (tmp_path / "params.yaml").write_text("train:\n  lr: 1e-3\n  note: '1e-3'\n  tag: '1e-3 run'\n")
    assert run_config(tmp_path / "a.json") == (10, {"lr": 1e-05, "optimizer": ["sgd"]})
    assert run_config(tmp_path / "params.yaml") == (None, {"lr": 0.001, "note": 0.001, "tag": "1e-3 run"})
    # a list-valued key (an Optuna categorical list) is unknown to the distance, not a TypeError
    assert config_distance({"optimizer": ["sgd"], "lr": 1e-3}, {"optimizer": "adam", "lr": 1e-2}) == 1.0
