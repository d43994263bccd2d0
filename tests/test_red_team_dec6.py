"""Defects left open in earlier notes, fixed on 2026-12-06. Each test failed on e5aa4c9, before this work."""

from __future__ import annotations

import numpy as np
import pandas as pd

import lcpipe
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
