"""The check_params stage: predictor names against the registry, and an output that never
changes, so a valid param change reruns nothing downstream by itself."""

import subprocess
import sys

import pytest

from lcpipe.config import Params
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
