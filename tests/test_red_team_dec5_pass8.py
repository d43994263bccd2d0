"""An eighth hostile-input pass (2026-12-05, night): `lcpipe evaluate` and the pipeline's params. Each test failed on
the code before its fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from lcpipe.cli import main as cli
from lcpipe.config import Params, validate
from lcpipe.errors import LcpipeError
from lcpipe.pipeline.params_check import check_params
from tests.helpers import ROOT, curve_csv, learning_curve, with_params

BUNDLED = ROOT / "data" / "history" / "cifar10-plain-vs-resnet"


def cut_copies(source: Path, dest: Path, rows: int) -> Path:
    """Each CSV of `source` cut to its first `rows` epochs, with a sidecar planning that many."""
    dest.mkdir()
    for path in sorted(source.glob("*.csv")):
        lines = path.read_text().splitlines(keepends=True)
        (dest / f"{path.stem}_short.csv").write_text("".join(lines[: rows + 1]))
        (dest / f"{path.stem}_short.json").write_text(f'{{"epochs": {rows}}}')
    return dest


def test_a_sweep_history_too_short_for_the_lstm_is_refused_before_dvc_removes_the_sweeps_figures(tmp_path):
    """4-epoch curves passed check_params (2 curves of 3 points are learnable); DVC then removed the sweep's
    figures and the sweep failed on 'too short for features.window=4'."""
    short = cut_copies(BUNDLED, tmp_path / "short4", 4)
    with pytest.raises(LcpipeError) as err:
        check_params(validate(with_params(Params(), sweep__history=str(short))), tmp_path / "ok")
    message = str(err.value)
    assert message.startswith("sweep.history: its longest curve has 4 epochs") and "drop lstm" in message
    assert "\n" not in message and not (tmp_path / "ok").exists()
    check_params(validate(with_params(Params(), sweep__history=str(short),  # no LSTM: nothing needs a window
                                      sweep__predictors=["auto", "last_value"])), tmp_path / "ok")


def test_a_history_curve_that_is_a_targets_first_epochs_is_refused(tmp_path):
    """A history curve holding a target's first 30 of 50 epochs leaks its future past any cutoff before 30:
    plain50 forecast 0.822 from cutoff 10 with it, 0.929 without, against a true 0.731."""
    curves = tmp_path / "curves"
    curves.mkdir()
    for i, final in enumerate((0.7, 0.8, 0.9)):
        (curves / f"r{i}.csv").write_text(curve_csv(learning_curve(50, final=final, rate=0.1 + 0.02 * i)))
    history = cut_copies(curves, tmp_path / "history", 30)
    for name in ("h0", "h1"):  # two unrelated finished curves, so the history alone would be accepted
        (history / f"{name}.csv").write_text(curve_csv(learning_curve(50, final=0.85, rate=0.12 + 0.01 * len(name))))
    with pytest.raises(SystemExit) as exit_:
        cli(["evaluate", "--curves", str(curves), "--history", str(history), "--cutoffs", "10"])
    assert exit_.value.code == 2


def test_evaluate_refuses_a_history_that_is_one_curve_once_the_diverged_are_left_out(tmp_path, capsys):
    """Two of three history curves diverged: evaluate said 'left out' twice, then forecast from one curve (the
    pipeline refuses that history)."""
    history = tmp_path / "history"
    history.mkdir()
    for i in range(3):
        acc = learning_curve(50, final=0.8 + 0.05 * i)
        if i:
            acc = acc.copy()
            acc[30:] = np.nan
        (history / f"h{i}.csv").write_text(curve_csv(acc))
    curves = tmp_path / "curves"
    curves.mkdir()
    for i in range(2):
        (curves / f"r{i}.csv").write_text(curve_csv(learning_curve(50, final=0.75 + 0.1 * i, rate=0.2)))
    with pytest.raises(SystemExit) as exit_:
        cli(["evaluate", "--curves", str(curves), "--history", str(history), "--cutoffs", "10",
             "--predictors", "auto"])
    assert exit_.value.code == 2
    assert "the history holds 1 curve" in capsys.readouterr().err


def test_one_short_curve_among_a_studys_does_not_stop_the_lstms_leave_one_out(tmp_path):
    """A folder of the bundled curves with one cut to 3 epochs: `--predictors lstm,auto` stopped on
    'plain50: 3 epochs is too short for features.window=4' though a short curve is only skipped as a target."""
    folder = tmp_path / "curves"
    shutil.copytree(BUNDLED, folder)
    first = sorted(folder.glob("*.csv"))[0]
    first.write_text("".join(first.read_text().splitlines(keepends=True)[:4]))
    (folder / f"{first.stem}.json").write_text('{"epochs": 3}')
    out, params = tmp_path / "results.json", tmp_path / "params.yaml"
    params.write_text("lstm:\n  steps: 20\n")  # what is tested is which targets it trains for, not how well
    cli(["evaluate", "--curves", str(folder), "--cutoffs", "10", "--predictors", "lstm,last_value", "--out", str(out),
         "--params", str(params)])
    assert out.exists()


def test_the_stopper_leaves_a_runs_own_curve_out_while_its_accuracy_is_still_at_chance(tmp_path):
    """The README's early_stop recipe copies data/curves into stop.history; a run stuck at chance until its check
    at epoch 5 has no moving accuracy to be recognised by, so its own future stayed an analog. Its train loss
    tells it apart."""
    from lcpipe.config import StopParams
    from lcpipe.curve import format_rows
    from lcpipe.forecasting.run_stopper import Stopper

    rows = {}
    for i in range(4):
        acc = np.concatenate([np.full(5, 0.1), learning_curve(45, final=0.8 + 0.05 * i, start=0.2)])
        loss = 2.3 * np.exp(-np.arange(50) / (10 + 3 * i)) + 0.01 * i
        rows[f"h{i}"] = [{"epoch": e + 1, "train_loss": float(loss[e]), "train_acc": float(acc[e]), "test_loss": 1.0,
                          "test_acc": float(acc[e]), "lr": 0.1} for e in range(50)]
        (tmp_path / f"h{i}.csv").write_text(format_rows(rows[f"h{i}"]))
    stopper = Stopper(StopParams(at=[5], history=str(tmp_path)), 50)
    verdict = None
    for epoch in range(1, 6):
        verdict = stopper.check(rows["h2"][:epoch]) or verdict
    assert verdict is not None and verdict.left_out == ("h2",)


def test_repeated_cutoffs_and_predictors_add_up_as_repeated_folders_do(tmp_path):
    """`--cutoffs 10 --cutoffs 20` and `--predictors auto --predictors last_value` used the last flag alone."""
    import json

    out = tmp_path / "results.json"
    cli(["evaluate", "--curves", str(BUNDLED), "--cutoffs", "10,20", "--cutoffs", "20", "--predictors",
         "source_shift,last_value", "--predictors", "last_value", "--out", str(out)])
    rows = json.loads(out.read_text())["results"]
    assert {(r["cutoff"], r["predictor"]) for r in rows} == {(c, p) for c in (10, 20)
                                                             for p in ("last_value", "source_shift")}
    assert len(rows) == len({(r["target"], r["cutoff"], r["predictor"]) for r in rows})  # each once
