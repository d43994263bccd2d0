"""Which step a run's n-th evaluation falls at: for reading a length given as a count of evaluations
(`lcpipe forecast --epochs 50`, ForecastPruner(epochs=50)) where the run reports optimizer steps.
One function, so the CLI's reading and the pruner's advice agree. A leaf: numpy only."""

from __future__ import annotations

import numpy as np


def evaluation_step(steps: np.ndarray, evaluations: int) -> int | None:
    """The step of a run's `evaluations`-th evaluation at its median interval, not counting one at
    step 0 (a loop evaluating at 0, 15, ..., 750 has made 50 after the first); None when it has
    made more than that many, or has one evaluation and no interval."""
    steps = np.asarray(steps, dtype=float)
    if len(steps) < 2:
        return None
    interval = float(np.median(np.diff(steps)))
    made = len(steps) - (1 if steps[0] == 0 else 0)
    if interval <= 0 or made > evaluations:
        return None
    first = float(steps[0]) if steps[0] > interval else interval  # evaluations from step 0 or 1 on: n x interval
    return int(round(first + (evaluations - 1) * interval))
