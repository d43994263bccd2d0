"""A hostile-input pass on the loss surfaces (tenth session): what was wrong, each with a test that fails on the code
before its fix (3b5ee3e)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import lcpipe
from lcpipe.metric import Metric
from tests.helpers import cli_in_process


def _error_study(root, column: str, falling: bool = True, mixed: bool = False):
    """8 history curves of an error that falls to 0.10-0.30 (rises, with `falling` False; half of each, `mixed`),
    and two runs at their 10th epoch, `good` on its way to 0.10 and `bad` to 0.30 (a 3-D pose error, a WAPE: a name
    no vocabulary knows)."""
    rng = np.random.default_rng(0)

    def curve(final, n=30, sign=1.0):
        return final + sign * 0.5 * np.exp(-np.arange(1, n + 1) / 6) + rng.normal(0, 0.002, n)

    for folder in ("hist", "runs"):
        (root / folder).mkdir()
    for i, final in enumerate(np.linspace(0.10, 0.30, 8)):
        sign = -1.0 if (not falling or mixed and i % 2) else 1.0
        values = curve(final if sign > 0 else 1 - final, sign=sign)
        (root / "hist" / f"h{i}.csv").write_text(f"epoch,{column}\n" + "".join(
            f"{e},{v:.5f}\n" for e, v in enumerate(values, 1)))
    for name, final in (("good", 0.10), ("bad", 0.30)):
        (root / "runs" / f"{name}.csv").write_text(f"epoch,{column}\n" + "".join(
            f"{e},{v:.5f}\n" for e, v in enumerate(curve(final)[:10], 1)))
    return root / "hist", root / "runs"


@pytest.mark.parametrize("column", ["val_mpjpe", "val_wape"])
def test_an_error_no_vocabulary_names_takes_the_direction_its_history_improves_in(tmp_path, column):
    """Red team: `lcpipe forecast --metric val_mpjpe` said `higher is better (names no loss or error)`, kept the run
    heading for 0.30 and stopped the one heading for 0.10; `lcpipe.forecast` did the same with no warning. A learning
    curve moves from its start toward better: every history curve falls, so lower is better, and stderr says why."""
    hist, runs = _error_study(tmp_path, column)
    result = cli_in_process("forecast", "--history", str(hist), "--runs", str(runs), "--epochs", "30",
                            "--metric", column, "--out", str(tmp_path / "f.json"))
    assert result.code == 0, result.err
    assert f"lower is better (--mode auto: '{column}' names no loss, error or score, and 8 of 8 history curves " \
           "fall" in result.err
    report = json.loads((tmp_path / "f.json").read_text())
    assert report["mode"] == "min"
    assert {r["run"]: r["decision"] for r in report["runs"]} == {"good": "keep", "bad": "stop"}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = lcpipe.forecast(history=hist, runs=runs, epochs=30, metric=column)
    assert dict(zip(table["run"], table["decision"])) == {"good": "keep", "bad": "stop"}
    said = [str(w.message) for w in caught]
    assert any("8 of 8 history curves fall, so lower is better" in m for m in said), said
    assert all(w.filename == __file__ for w in caught)  # at the caller's line

    stated = cli_in_process("forecast", "--history", str(hist), "--runs", str(runs), "--epochs", "30",
                            "--metric", column, "--mode", "min")  # said: the same forecast, no guess
    assert stated.out == result.out and "history curves" not in stated.err


def test_an_unnamed_direction_the_history_does_not_settle_stays_max_and_says_how_to_change_it(tmp_path):
    """Half the history rising and half falling decides nothing: higher is better, as for any name the vocabulary
    does not know, with the flag that says otherwise named on stderr and in Python's warning."""
    hist, runs = _error_study(tmp_path, "val_mpjpe", mixed=True)
    result = cli_in_process("forecast", "--history", str(hist), "--runs", str(runs), "--epochs", "30",
                            "--metric", "val_mpjpe")
    assert result.code == 0, result.err
    assert "higher is better (--mode auto: 'val_mpjpe' names no loss, error or score, and its history curves do " \
           "not move one way (4 of 8 fall)" in result.err
    assert "pass --mode min" in result.err
    with pytest.warns(UserWarning, match=r"do not move one way .* pass --mode min \(mode='min' in Python\)"):
        lcpipe.forecast(history=hist, runs=runs, epochs=30, metric="val_mpjpe")


def test_a_name_whose_direction_the_history_contradicts_is_kept_with_a_warning(tmp_path):
    """A name that says a direction decides it (the user's word), but a history that moves the other way in every
    curve is one warning line naming the flag: `loss_drop` (a gain by its name) whose curves all fall."""
    hist, runs = _error_study(tmp_path, "loss_drop")
    result = cli_in_process("forecast", "--history", str(hist), "--runs", str(runs), "--epochs", "30",
                            "--metric", "loss_drop")
    assert result.code == 0, result.err
    assert "warning: 'loss_drop': higher is better" in result.err
    assert "but 8 of 8 history curves fall: if lower is better, pass --mode min" in result.err
    with pytest.warns(UserWarning, match="8 of 8 history curves fall"):
        lcpipe.forecast(history=hist, runs=runs, epochs=30, metric="loss_drop")


def test_evaluate_takes_the_direction_from_the_curves_it_scores(tmp_path):
    """`lcpipe evaluate` on curves of an unnamed error: the curves themselves are the history."""
    hist, _ = _error_study(tmp_path, "val_mpjpe")
    result = cli_in_process("evaluate", "--curves", str(hist), "--metric", "val_mpjpe", "--cutoffs", "10",
                            "--predictors", "auto,last_value", "--out", str(tmp_path / "e.json"))
    assert result.code == 0, result.err
    assert "8 of 8 history curves fall, so lower is better" in result.err


@pytest.mark.parametrize(("name", "mode"), [
    ("accuracy_drop", "min"), ("val_accuracy_drop", "min"), ("acc_degradation", "min"), ("f1_decline", "min"),
    ("loss_drop", "max"), ("ppl_drop", "max"), ("val_loss_decrease", "max"), ("perplexity_reduction", "max"),
    ("variance_reduction", "max"),  # a fall of nothing named: the gain word alone, as before
])
def test_a_fall_of_a_score_is_a_loss_and_a_fall_of_a_loss_a_gain(name, mode):
    """Red team: `val_accuracy_drop` was read as an accuracy (a fraction to maximise) and `ppl_drop` as a perplexity
    to minimise. A drop may go below 0 (a run that gained): any finite series."""
    metric = Metric.infer(name)
    assert (metric.mode, metric.kind) == (mode, "any")
    assert Metric.infer(name, mode="max").mode == "max"  # a given mode is used as given
    assert Metric.infer("dropout_rate").why.endswith("pass --mode min (mode='min' in Python) if lower is better")
