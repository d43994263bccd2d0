import numpy as np
import pytest

from lcpipe.errors import LcpipeError
from lcpipe.forecasting.curves import COLUMNS, format_rows, read_curve, read_curve_dir, write_curve
from tests.conftest import EXTERNAL_CURVES


def rows(n=3):
    return [{"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.1 * e, "test_loss": 1.1 / e,
             "test_acc": 0.09 * e, "lr": 0.1, "seconds": 0.5} for e in range(1, n + 1)]


def test_write_then_read_roundtrips_exactly(tmp_path):
    write_curve(tmp_path / "a.csv", rows())
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
    (lambda t: t.replace("0.18", "nan"), r"line 3: column 'test_acc' is 'nan'; values must be finite"),
    (lambda t: t.replace("0.18", "inf"), r"line 3: column 'test_acc' is 'inf'"),
    (lambda t: t.replace("0.18", "abc"), r"line 3: column 'test_acc' is 'abc', not a number"),
    (lambda t: t.replace("0.18", "18.0"), r"line 3: test_acc 18 is outside \[0, 1\]"),
    (lambda t: t.replace("\n2,", "\n5,"), r"line 3: epoch 5 where 2 was expected"),
    (lambda t: t.split("\n")[0] + "\n", r"no data rows"),
    (lambda t: "", r"empty file"),
])
def test_bad_file_names_file_line_and_problem(tmp_path, edit, message):
    path = tmp_path / "bad.csv"
    path.write_text(edit(format_rows(rows())))
    with pytest.raises(LcpipeError, match=message) as err:
        read_curve(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_empty_or_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(LcpipeError, match="no \\*.csv curve files"):
        read_curve_dir(tmp_path)
    with pytest.raises(LcpipeError, match="not a directory"):
        read_curve_dir(tmp_path / "nope")
