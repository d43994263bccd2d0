"""Reliability: hostile curve files, failures half-way through a stage, unsafe loading.

Kill-and-resume with real processes lives in test_pipeline_dvc.py and test_train.py."""

import json
import re
import string
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lcpipe.cli import main as cli
from lcpipe.config import Params, PredictParams
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.predictors.poly import Poly
from lcpipe.pipeline.evaluate import evaluate
from lcpipe.pipeline.fit import fit_learned
from lcpipe.pipeline.predict import predict
from tests.helpers import ROOT, curve_csv, learning_curve, with_params

FAST = "last_value,source_shift,poly,parametric"


def run_cli(tmp_path, *args):
    """Run `python -m lcpipe evaluate` in-process; return (exit code, stderr text)."""
    out = tmp_path / "out.json"
    try:
        cli(["evaluate", "--out", str(out), *args])
        return 0, out
    except SystemExit as exc:
        return exc.code, out


GOOD = curve_csv(learning_curve(30, seed=1))
cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                  st.text(string.ascii_letters + string.digits + ".-", max_size=6))


@st.composite
def hostile_files(draw):
    """Curve files that are empty, header-only, one row, NaN/inf, text, duplicated or missing
    epochs, out-of-range values, or plain random bytes."""
    n = draw(st.integers(0, 40))
    acc = draw(st.lists(st.floats(-0.5, 1.5, allow_nan=False), min_size=n, max_size=n))
    kind = draw(st.sampled_from(["values", "epochs", "cell", "bytes", "header"]))
    if kind == "values":
        return curve_csv(acc)
    if kind == "epochs":
        epochs = draw(st.lists(st.integers(0, 45), min_size=n, max_size=n))
        return curve_csv(acc, epochs)
    if kind == "cell":
        lines = curve_csv(acc or [0.5]).splitlines()
        row = draw(st.integers(1, len(lines) - 1))
        cols = lines[row].split(",")
        cols[draw(st.integers(0, len(cols) - 1))] = draw(cells)
        lines[row] = ",".join(cols)
        return "\n".join(lines) + "\n"
    if kind == "header":
        return draw(st.sampled_from(["", "epoch,test_acc\n", "a,b,c\n1,2,3\n", "\n\n"]))
    return draw(st.binary(max_size=200)).decode("latin-1")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile_files(), cutoff=st.integers(-2, 45))
def test_hostile_curve_files_give_a_clear_error_or_a_valid_result(tmp_path, capsys, text, cutoff):
    curves = tmp_path / "curves"
    curves.mkdir(exist_ok=True)
    (curves / "good.csv").write_text(GOOD)
    (curves / "hostile.csv").write_text(text)
    code, out = run_cli(tmp_path, "--curves", str(curves), "--cutoffs", str(cutoff), "--predictors", FAST)
    err = capsys.readouterr().err
    if code == 0:
        rows = json.loads(out.read_text())["results"]
        assert rows and all(np.isfinite(r["rmse"]) and 0 <= r["rmse"] <= 1 for r in rows)
    else:
        assert code == 2 and "Traceback" not in err
        assert re.search(r"^error: .+", err, re.M), err


def test_a_hundred_thousand_epochs_are_forecast(tmp_path, capsys):
    """Its time budget is checked in bench/latency_budgets.py, not here: no wall clock in tests."""
    curves = tmp_path / "curves"
    curves.mkdir()
    for seed in (1, 2):
        (curves / f"long{seed}.csv").write_text(curve_csv(learning_curve(100_000, final=0.8 + seed / 20, rate=1e-4)))
    code, out = run_cli(tmp_path, "--curves", str(curves), "--cutoffs", "1000,50000", "--predictors", FAST)
    assert code == 0
    assert len(json.loads(out.read_text())["results"]) == 2 * 2 * 4


def test_bad_cli_requests_are_one_line_errors(tmp_path, capsys):
    curves = tmp_path / "curves"
    curves.mkdir()
    (curves / "a.csv").write_text(GOOD)
    (curves / "b.csv").write_text(curve_csv(learning_curve(30, final=0.85)))  # another run: a copy is refused
    for args, message in [
        (["--curves", str(tmp_path / "empty_missing"), "--cutoffs", "5"], "not a directory"),
        (["--curves", str(curves), "--cutoffs", "30"], r"^error: every cutoff \(30\) is at or past the end of every "
                                                       r"target \(the longest, 'a', has 30 epochs\); give cutoffs "
                                                       r"below the curves' lengths\n$"),
        (["--curves", str(curves), "--cutoffs", "3"], r"\[5, 29\]"),
        (["--curves", str(curves), "--cutoffs", "5", "--target", "zzz"], "target 'zzz' is not among"),
        (["--curves", str(curves), "--cutoffs", "5", "--predictors", "prophet"], "unknown predictor 'prophet'"),
        (["--curves", str(curves), "--cutoffs", "five"], "not a comma-separated list"),
    ]:
        code, _ = run_cli(tmp_path, *args)
        err = capsys.readouterr().err
        assert code == 2 and re.search(message, err) and "Traceback" not in err, (args, err)


def stage_params() -> Params:
    return Params(predict=PredictParams(target="plain50", cutoff=10, predictors=["last_value", "poly"]))


def write_arch_curves(curves_dir: Path, archs) -> None:
    curves_dir.mkdir(parents=True)
    for i, arch in enumerate(archs):
        (curves_dir / f"{arch}.csv").write_text(curve_csv(learning_curve(50, seed=i)))


def test_stage_failing_half_way_leaves_previous_outputs_intact(tmp_path, monkeypatch):
    p = stage_params()
    write_arch_curves(tmp_path / "curves", p.train.archs)
    out = tmp_path / "predictions"
    predict(p, tmp_path / "curves", tmp_path / "predictors", out)
    before = {f.name: f.read_text() for f in out.iterdir()}
    assert set(before) == {"last_value.csv", "poly.csv"}

    def broken(self, prefix, horizon):
        raise RuntimeError("injected after the first output was written")

    monkeypatch.setattr(Poly, "forecast", broken)
    p2 = Params(predict=PredictParams(target="plain50", cutoff=20, predictors=["last_value", "poly"]))
    with pytest.raises(RuntimeError, match="injected"):
        predict(p2, tmp_path / "curves", tmp_path / "predictors", out)
    assert {f.name: f.read_text() for f in out.iterdir()} == before
    assert sorted(f.name for f in tmp_path.iterdir()) == ["curves", "predictions"]  # no temp dirs left


def test_nothing_unsafe_is_loaded():
    code = "\n".join(p.read_text() for p in [*ROOT.glob("lcpipe/**/*.py"), *ROOT.glob("stages/*.py")])
    assert "import pickle" not in code and not re.search(r"(?<![.\w])eval\(", code)
    assert not re.search(r"yaml\.(load|unsafe_load)\(", code)
    loads = re.findall(r"torch\.load\([^)]*\)", code)
    assert loads and all("weights_only=True" in call for call in loads)
    assert "allow_pickle=True" not in code


def test_outputs_get_the_usual_file_mode_not_mkstemps_0600(tmp_path):
    import os

    from lcpipe.atomic import atomic_dir, write_text

    write_text(tmp_path / "a.txt", "x")
    with atomic_dir(tmp_path / "d") as d:
        (d / "f").write_text("y")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o777 & ~mask


@pytest.mark.parametrize("content", [None, b"not a zip", b"PK\x03\x04 truncated"])
def test_a_missing_or_damaged_windows_file_is_one_clear_error(tmp_path, content):
    windows = tmp_path / "windows.npz"
    if content is not None:
        windows.write_bytes(content)
    with pytest.raises(LcpipeError, match=r"windows.npz: cannot read windows .*rerun `dvc repro windows`"):
        fit_learned(Params(), windows, tmp_path / "predictors")
    assert not (tmp_path / "predictors").exists()


def test_evaluate_reads_the_target_for_the_forecast_metric_not_test_acc(tmp_path):
    """features.metric = train_acc: the target's test_acc column may be missing, as the predict
    stage (which reads curves for the metric alone) already allows."""
    acc = [float(a) for a in learning_curve(30, seed=3)]
    (tmp_path / "curves").mkdir()
    (tmp_path / "curves" / "plain50.csv").write_text(
        "epoch,train_acc\n" + "".join(f"{e},{a!r}\n" for e, a in enumerate(acc, start=1)))
    (tmp_path / "predictions").mkdir()
    (tmp_path / "predictions" / "last_value.csv").write_text(
        "epoch,actual,predicted\n" + "".join(f"{e},{acc[e - 1]!r},{acc[19]!r}\n" for e in range(21, 31)))
    p = with_params(Params(), features__metric="train_acc", predict__cutoff=20, predict__predictors=["last_value"])
    result = evaluate(p, tmp_path / "curves", tmp_path / "predictions", tmp_path / "evaluate.json",
                               tmp_path / "plots", tmp_path / "forecast.csv")
    assert result["metric"] == "train_acc" and result["last_value"]["rmse"] > 0
