"""The check_params stage: predictor names against the registry, and an output that never
changes, so a valid param change reruns nothing downstream by itself."""

import subprocess
import sys

import pytest

from lcpipe.config import Params, validate
from lcpipe.errors import LcpipeError
from lcpipe.pipeline.code_deps import import_closure
from lcpipe.pipeline.params_check import check_params
from tests.helpers import ROOT, with_params


@pytest.mark.parametrize("key", ["predict__predictors", "sweep__predictors"])
def test_an_unregistered_predictor_is_refused_naming_the_registry(tmp_path, key):
    message = rf"{key.replace('__', '.')}: 'prophet' is not allowed; choose one of poly, "
    with pytest.raises(LcpipeError, match=message) as err:
        check_params(with_params(Params(), **{key: ["poly", "prophet"]}), tmp_path / "ok")
    assert "\n" not in str(err.value) and not (tmp_path / "ok").exists()


def test_output_is_the_same_bytes_for_any_valid_params(tmp_path):
    check_params(Params(), tmp_path / "a")
    check_params(with_params(Params(), predict__cutoff=7, poly__degree=3), tmp_path / "b")
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_training_runs_no_predictor_and_the_registry_loads_no_torch_or_scipy():
    """No predictor edit retrains the CNNs (early stopping, which runs auto, is a stage of its own);
    naming predictors must stay cheap."""
    train = import_closure(ROOT / "stages" / "train.py", ROOT)
    assert not {p.name for p in train if p.as_posix().startswith("lcpipe/forecasting/")}
    code = ("import sys; from lcpipe.forecasting.registry import PREDICTORS; import lcpipe.pipeline.params_check; "
            "print(sorted({'torch', 'scipy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# A red-team pass on the pipeline (2026-12-04 evening): values check_params let through, each failing later, in
# a stage DVC had already emptied (the sweep's plots, the curves), or corrupting a table without a word.
@pytest.mark.parametrize("change, says", [
    # the bundled sweep.history logs train_loss, not test_loss: the sweep failed after five stages had rerun
    ({"features__metric": "test_loss"}, "sweep.history: data/history/cifar10-plain-vs-resnet/plainnet20.csv: "
                                        "missing column 'test_loss'"),
    ({"sweep__history": "data"}, "holds the pipeline's own curves (data/curves)"),
    ({"sweep__history": "data/history/run$HOME"}, "holds '$', which the stage's shell command would expand"),
    ({"sweep__cutoffs": [10, 10]}, "sweep.cutoffs: [10, 10] is not allowed; list each cutoff once"),  # rows doubled
    ({"train__lr": 1e39}, "train.lr: 1e+39 is not allowed; it must be at most 10000"),  # torch: overflow
    ({"train__gamma": 1e300}, "train.gamma: 1e+300 is not allowed; it must lie in (0, 1]"),
    ({"train__milestones": [-1, 2]}, "train.milestones: [-1, 2] is not allowed; give epochs"),
    # the allocator asked for 4 TB, a traceback after DVC removed the curves (red team, 2026-12-05)
    ({"train__width": 1_000_000}, "train.width: 1000000 is not allowed; it must be at most 1,024"),
    # inf RMSEs and a results JSON holding Infinity (red team, 2026-12-05 night)
    ({"lstm__lr": 1000.0}, "lstm.lr: 1000.0 is not allowed; it must be at most 1"),
    ({"auto__interval_scale": 1e300}, "auto.interval_scale: 1e+300 is not allowed; it must be at most 100"),
])
def test_a_value_a_later_stage_would_fail_on_is_refused_here(tmp_path, change, says):
    with pytest.raises(LcpipeError) as err:  # the stage runs both: config.validate (in load_params), check_params
        check_params(validate(with_params(Params(), **change)), tmp_path / "ok")
    assert says in str(err.value) and "\n" not in str(err.value) and not (tmp_path / "ok").exists()


def test_a_loss_the_sweep_history_logs_is_accepted(tmp_path):
    check_params(with_params(Params(), features__metric="train_loss"), tmp_path / "ok")
    assert (tmp_path / "ok").exists()


def test_a_run_that_diverged_from_its_first_epoch_still_gets_its_figure(tmp_path):
    """All-NaN losses (train.lr=1000) made curve_figures raise matplotlib's 'Data cannot be log-scaled'."""
    import numpy as np

    from lcpipe.curve import Curve
    from lcpipe.reporting.figures import train_vs_test_figure

    nan, flat = np.full(3, np.nan), np.full(3, 0.1)
    curve = Curve("resnet34", {"epoch": np.arange(1.0, 4.0), "train_loss": nan, "test_loss": nan, "train_acc": flat,
                               "test_acc": flat})
    train_vs_test_figure(tmp_path / "resnet34.png", curve, "digits")
    assert (tmp_path / "resnet34.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("fraction, ok", [(0.005, False), (0.006, True), (0.994, True), (0.999, False)])
def test_a_digits_split_that_cannot_hold_every_class_on_both_sides_is_refused_before_prepare(fraction, ok):
    """prepare refused it too, but only after DVC had removed data/prepared; the bounds are sklearn's."""
    params = with_params(Params(), data__test_fraction=fraction)
    if ok:
        validate(params)
        from lcpipe.training.data import digits

        digits(0, fraction)  # and prepare agrees
    else:
        with pytest.raises(LcpipeError, match=r"data.test_fraction: .* a split by class needs 10 to 1787"):
            validate(params)


def test_evaluate_lr_drops_are_epochs_from_1():
    out = subprocess.run([sys.executable, "-m", "lcpipe", "evaluate", "--curves", "data/curves", "--lr-drops=-1"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "each at least 1" in out.stderr


def test_cifar_that_prepare_cannot_get_is_refused_before_dvc_removes_the_prepared_data(tmp_path, monkeypatch):
    """Offline, data.dataset=cifar10 used to pass this check; DVC then removed data/prepared/ and prepare
    failed. The host is a local port nobody listens on, so the test never touches the network."""
    from lcpipe.training import sources

    monkeypatch.setattr(sources, "CIFAR_HOST", "127.0.0.1")
    monkeypatch.setattr(sources, "CIFAR_PORT", 9)  # discard: closed here, refused at once
    p = validate(with_params(Params(), data__dataset="cifar10", data__root=str(tmp_path / "raw")))
    with pytest.raises(LcpipeError) as err:
        check_params(p, tmp_path / "ok")
    message = str(err.value)
    assert message.startswith("data.dataset: cifar10 is not in ") and "cannot be reached" in message
    assert "put cifar-10-python.tar.gz (or its extracted cifar-10-batches-py/ folder) into" in message
    assert "\n" not in message and not (tmp_path / "ok").exists()
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "cifar-10-python.tar.gz").write_bytes(b"")  # the archive put there: no network needed
    check_params(p, tmp_path / "ok")
    assert (tmp_path / "ok").exists()
