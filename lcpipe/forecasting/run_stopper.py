"""Early stopping of one training run (the early_stop stage, `stop:` params): at the epochs in
stop.at the run forecasts its own final test accuracy and ends when it is unlikely to end above the
bar, by stop_rule's rule: P(final >= bar - MARGIN) < STOP_BELOW. The bar is stop.threshold or, by
default, the best final accuracy among the history's finished curves: a finished run is a rival
whose final is known.

The forecaster is lcpipe's default, `Auto()` with its library defaults, so the decision is a
function of the early_stop stage's declared deps alone (stop.*, the history, the code).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lcpipe.config import StopParams
from lcpipe.curve import Series, series_of
from lcpipe.forecasting.logs import learnable_history, read_curve_dir
from lcpipe.forecasting.predictors.auto import Auto  # the class, not the registry: no other predictor is a dep
from lcpipe.forecasting.stop_rule import STOP_BELOW, final_value, p_not_beaten, std_of

METRIC = "test_acc"


@dataclass(frozen=True)
class Verdict:
    """One check: the forecast final accuracy (mean and 80 % interval), the bar, P(final >= bar - margin)."""

    epoch: int
    final: float
    lower: float
    upper: float
    bar: float
    p_reach: float
    stop: bool

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self, arch: str) -> str:
        action = f"stopping (< {STOP_BELOW})" if self.stop else "continuing"
        return (f"{arch} stop check at epoch {self.epoch}: forecast final {METRIC} {self.final:.4f} "
                f"[{self.lower:.4f}, {self.upper:.4f}], P(>= {self.bar:.4f} - margin) = {self.p_reach:.3f}; {action}")


class Stopper:
    """Fitted once on the history; `check(rows)` after every epoch gives a Verdict at stop.at."""

    def __init__(self, stop: StopParams, epochs: int, config: dict | None = None):
        history = learnable_history(read_curve_dir(Path(stop.history), METRIC))  # as `lcpipe forecast` takes it
        self.at, self.epochs, self.config = set(stop.at), epochs, config or {}
        self.bar = stop.threshold or max(float(c.metric(METRIC)[-1]) for c in history)
        self.forecaster = Auto().fit([series_of(c, METRIC) for c in history])

    def check(self, rows: list[dict]) -> Verdict | None:
        epoch = len(rows)
        if epoch not in self.at:
            return None
        # the lr column so far (its drops) and the config (drops still to come) place the run's schedule
        lr = np.array([r["lr"] for r in rows]) if all("lr" in r for r in rows) else None
        prefix = Series("run", np.array([r[METRIC] for r in rows]), lr, self.config)
        fc = self.forecaster.forecast(prefix, self.epochs)
        mean, lower, upper = final_value(prefix.values, fc)
        p_reach = float(p_not_beaten(np.array([mean, self.bar]), np.array([float(std_of(lower, upper)), 0.0]))[0])
        return Verdict(epoch, mean, lower, upper, self.bar, p_reach, p_reach < STOP_BELOW)
