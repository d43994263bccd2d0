"""Defects left open in earlier notes, fixed on 2026-12-06. Each test failed on e5aa4c9, before this work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lcpipe
from lcpipe.cli import main as cli
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.logs import read_curve
from lcpipe.metric import Metric

LOSS = Metric.infer("val_loss", "min")


def wandb_export(steps, losses) -> str:
    """W&B's history export of a loop that logs `wandb.log({"val_loss": v, "step": s})`: W&B's own `_step` counts
    the log calls (0, 1, 2, ...) beside the run's `step`, with W&B's `_runtime` and `_timestamp`."""
    rows = [f"{i},{s},{v:.5f},{3.1 * i:.1f},{1_700_000_000 + 3 * i}" for i, (s, v) in enumerate(zip(steps, losses))]
    return "\n".join(["_step,step,val_loss,_runtime,_timestamp", *rows]) + "\n"


def test_a_wandb_export_with_the_runs_own_step_is_read_on_it(tmp_path):
    """`_step` and `step` fold to one name, and the log was refused as two columns named step; the run's own step
    is the one meant (W&B's counts its log calls)."""
    steps = 15 * np.arange(1, 13)
    losses = 2.01 + 1.52 * np.exp(-steps / 200)
    path = tmp_path / "run.csv"
    path.write_text(wandb_export(steps, losses))
    curve = read_curve(path, LOSS)
    assert list(curve.steps) == list(steps)
    np.testing.assert_allclose(curve.metric("val_loss"), losses, atol=1e-5)
    # the same log as a DataFrame (W&B's run.history() returns one), beside a history exported alike
    history = tmp_path / "history"
    history.mkdir()
    grid = 15 * np.arange(1, 51)
    for i in range(4):
        (history / f"h{i}.csv").write_text(wandb_export(grid, 2 + (1.4 + 0.05 * i) * np.exp(-grid / 200)))
    told = lcpipe.forecast(history=history, runs={"run": pd.read_csv(path)}, metric="val_loss", mode="min",
                           steps=750)
    assert told.loc[0, "observed"] == 180 and told.loc[0, "epochs"] == 750


def test_a_live_log_of_train_rows_alone_is_left_out_until_it_evaluates(tmp_path, capsys):
    """A run whose log holds train rows and a metric column still blank in every row (a W&B export, or an HF
    log_history as a DataFrame, before the first evaluation) stopped the whole forecast as "column 'val_loss' is
    blank"; a file of its header alone was already left out. As a history curve it is one line."""
    history, runs = tmp_path / "history", tmp_path / "runs"
    history.mkdir(), runs.mkdir()
    grid = 15 * np.arange(1, 51)
    for i in range(4):
        (history / f"h{i}.csv").write_text(wandb_export(grid, 2 + (1.4 + 0.05 * i) * np.exp(-grid / 200)))
    for i in range(2):
        (runs / f"r{i}.csv").write_text(wandb_export(grid[:12], 2.01 + (1.42 + 0.05 * i) * np.exp(-grid[:12] / 200)))
    new = "step,loss,learning_rate,val_loss\n5,2.9,0.0001,\n10,2.8,0.0001,\n"
    (runs / "new.csv").write_text(new)
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_loss", "--steps", "750"])
    out, err = capsys.readouterr()
    assert "new.csv: no evaluation logged yet" in err
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["r0", "r1"]
    frame = pd.read_csv(runs / "new.csv")
    with pytest.warns(UserWarning, match="run 'new': no evaluation logged yet"):
        told = lcpipe.forecast(history=history, runs={"r0": pd.read_csv(runs / "r0.csv"), "new": frame},
                               metric="val_loss", mode="min", steps=750)
    assert list(told["run"]) == ["r0"]
    (history / "h4.csv").write_text(new)
    with pytest.raises(LcpipeError, match=r"h4.csv: column 'val_loss' is blank in each of its 2 rows: no evaluation"):
        lcpipe.forecast(history=history, runs=runs, metric="val_loss", mode="min", steps=750)
