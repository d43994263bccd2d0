"""Gradient-feature windows (the paper's §2.2): per step (epoch / total, acc, Δacc).

Optional extra inputs make the LSTM learning-rate aware: `lr` (the step's learning rate over
the curve's largest) and `to_drop` (epochs until the next lr drop, over the total; 1 when no
drop follows). Both describe the planned schedule, known before training, so a forecast may
use their future values.
"""

from __future__ import annotations

import numpy as np

from lcpipe.curve import Series
from lcpipe.errors import LcpipeError

DELTA_SCALE = 10.0  # Δacc is ~0.01 per epoch; scaled so all inputs share one order of magnitude


def smooth(acc: np.ndarray, alpha: float) -> np.ndarray:
    """Causal exponential moving average (alpha = 1: unchanged).

    Test accuracy jitters by a point or two from epoch to epoch. Unsmoothed, the LSTM learns
    that a high value is followed by a fall (the jitter's mean reversion) and, fed its own
    forecasts, compounds that into a curve that sinks; on the trend it learns the trend.
    """
    acc = np.asarray(acc, dtype=float)
    out = np.empty_like(acc)
    level = acc[0]
    for i, a in enumerate(acc):
        level = alpha * a + (1 - alpha) * level
        out[i] = level
    return out


def needs_lr(inputs: list[str]) -> bool:
    return "lr" in inputs or "to_drop" in inputs


def schedule_columns(lr: np.ndarray, total: int) -> dict[str, np.ndarray]:
    """The schedule inputs for epochs 1..total: scaled lr and epochs-to-next-drop."""
    lr = np.asarray(lr, dtype=float)[:total]
    drops = np.flatnonzero(lr[1:] < lr[:-1] * 0.9) + 2  # 1-based first epoch after each drop
    epochs = np.arange(1, total + 1)
    to_drop = np.ones(total)
    for i, e in enumerate(epochs):
        later = drops[drops > e]
        if later.size:
            to_drop[i] = (later[0] - e) / total
    return {"lr": lr / max(lr.max(), 1e-12), "to_drop": to_drop}


def step_features(acc: np.ndarray, total: int, inputs: list[str], lr: np.ndarray | None,
                  name: str = "curve", start: int = 0, before: float | None = None,
                  schedule: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """(len(acc), len(inputs)) features of steps start+1 .. start+len(acc) of a run of `total`
    epochs; `before` is the value at epoch `start` (default: no change into the first step), and
    `schedule` the run's schedule_columns when the caller has them already (the LSTM's recursion
    asks for one window at a time)."""
    acc = np.asarray(acc, dtype=float)
    n = len(acc)
    cols = {
        "epoch": np.arange(start + 1, start + n + 1) / total,
        "acc": acc,
        "delta": np.diff(acc, prepend=acc[0] if before is None else before) * DELTA_SCALE,
    }
    if needs_lr(inputs):
        if schedule is None:
            if lr is None or len(lr) < total:
                raise LcpipeError(f"{name}: features.inputs {inputs} need an lr column covering all "
                                  f"{total} epochs; drop 'lr'/'to_drop' or give curves with an lr column")
            schedule = schedule_columns(lr, total)
        cols.update({k: v[start:start + n] for k, v in schedule.items()})
    return np.stack([cols[k] for k in inputs], axis=1)


def make_windows(sources: list[Series], window: int, inputs: list[str],
                 alpha: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Sliding windows over every (smoothed) source: X (N, window, F) -> y (N,) the next step's
    scaled Δacc. A source no longer than `window` has no window and is passed over (one short curve
    among a study's stopped every leave-one-out fit; red team); none longer is an error."""
    xs, ys = [], []
    usable = [s for s in sources if len(s.values) > window]
    if sources and not usable:
        s = sources[0]
        raise LcpipeError(f"{s.name}: {len(s.values)} epochs is too short for features.window={window} (the LSTM "
                          f"learns from windows of {window} epochs and the one after); give longer curves")
    for s in usable:
        acc = smooth(s.values, alpha)
        feats = step_features(acc, len(acc), inputs, s.lr, s.name)
        target = np.diff(acc) * DELTA_SCALE
        for end in range(window, len(acc)):
            xs.append(feats[end - window:end])
            ys.append(target[end - 1])
    return np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)
