"""Early stopping inside the train stage (the `stop:` params): a run forecasts its own final test
accuracy at given epochs and ends early when it cannot win: when P(final >= bar) < EPSILON, the
bar being stop.threshold or by default the best final accuracy among the history's finished
curves. The rule is lcpipe's decision rule
(forecasting/decision.py): the final value is a normal read off the forecast's 80 % interval,
and EPSILON is the same threshold `lcpipe forecast` stops runs at.

The forecaster is lcpipe's default, `auto`, with its built-in settings (config.AutoParams'
defaults): the stop decision is then a function of the train stage's declared deps alone
(stop.*, the history directory, the code), and a change to params.yaml's `auto:` section never
reruns training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import ndtr

from lcpipe.config import Params, StopParams
from lcpipe.forecasting.curves import check_finished, read_curve_dir
from lcpipe.forecasting.decision import EPSILON, STD_FLOOR, final, std_of
from lcpipe.forecasting.features import Series
from lcpipe.forecasting.predictors.auto import Auto  # the class, not the registry: no other predictor is a dep

METRIC = "test_acc"


@dataclass(frozen=True)
class Verdict:
    """One check: the forecast final accuracy (mean and 80 % interval), the bar, P(final >= bar)."""

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
        action = f"stopping (< {EPSILON})" if self.stop else "continuing"
        return (f"{arch} stop check at epoch {self.epoch}: forecast final {METRIC} {self.final:.4f} "
                f"[{self.lower:.4f}, {self.upper:.4f}], P(>= {self.bar:.4f}) = {self.p_reach:.3f}; {action}")


class Stopper:
    """Fitted once on the history; `check(rows)` after every epoch gives a Verdict at stop.at."""

    def __init__(self, stop: StopParams, epochs: int):
        history = read_curve_dir(stop.history, METRIC)
        check_finished(history)
        self.at, self.epochs = set(stop.at), epochs
        self.bar = stop.threshold or max(float(c.metric(METRIC)[-1]) for c in history)
        self.forecaster = Auto.from_params(Params()).fit([Series(c.name, c.metric(METRIC)) for c in history])

    def check(self, rows: list[dict]) -> Verdict | None:
        epoch = len(rows)
        if epoch not in self.at:
            return None
        prefix = Series("run", np.array([r[METRIC] for r in rows]))
        fc = self.forecaster.forecast(prefix, self.epochs)
        mean, lower, upper = final(prefix.acc, fc)
        p_reach = float(ndtr((mean - self.bar) / max(float(std_of(lower, upper)), STD_FLOOR)))
        return Verdict(epoch, mean, lower, upper, self.bar, p_reach, p_reach < EPSILON)
