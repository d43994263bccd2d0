"""Early stopping of one training run (the early_stop stage, `stop:` params): at the epochs in
stop.at the run forecasts its own final test accuracy and ends when it is unlikely to end above the
best finished run, by stop_rule's rule (P(final >= rival's final - MARGIN) < STOP_BELOW, split over
the checks in stop.at: stop_rule.per_check).

Relative, as ForecastPruner decides: the rival is the history's best finished curve of the run's
own planned length, forecast from ITS first k epochs (by Auto fitted without it) when the run is
checked at epoch k. The two forecasts come from the same point of the schedule and share most of
their error (stop_rule.SAME_STEP), so what decides is how far the run is behind where the best run
was at the same epoch, not two absolute forecasts. With stop.threshold set, or no history curve of
the run's length (or too few left to forecast the rival without itself), the bar is a known number
(stop.threshold, else the history's best final) and the run's absolute forecast meets it.

The forecaster is lcpipe's default, `Auto()` with its library defaults, so the decision is a
function of the early_stop stage's declared deps alone (stop.*, the history, the code).

A history curve whose first k epochs are the run's, value for value, is the run itself trained
before (a history copied from data/curves, the same seed): its future is no evidence about the
run's, so at that check it is left out, as analog and as rival, and the verdict names it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lcpipe.config import StopParams
from lcpipe.curve import Series, series_of
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.copies import is_prefix_of
from lcpipe.forecasting.logs import MIN_HISTORY_CURVES, learnable_history, read_curve_dir
from lcpipe.forecasting.predictors.auto import Auto  # the class, not the registry: no other predictor is a dep
from lcpipe.forecasting.stop_rule import STOP_BELOW, final_value, p_not_beaten, per_check, std_of

METRIC = "test_acc"
FINGERPRINT = ("train_loss", "test_loss")  # columns that tell two runs apart where the metric cannot


@dataclass(frozen=True)
class Verdict:
    """One check: the forecast final accuracy (mean and 80 % interval), the bar (the rival's final or
    stop.threshold), P(final >= bar - margin), and for the relative rule the rival and its forecast
    from the same epoch (what the run's forecast is compared with)."""

    epoch: int
    final: float
    lower: float
    upper: float
    bar: float
    p_reach: float
    stop: bool
    rival: str = ""
    rival_forecast: float | None = None
    below: float = STOP_BELOW  # the threshold of this check (stop_rule.per_check)
    left_out: tuple[str, ...] = ()  # history curves that are this run trained before (first epochs equal)

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self, arch: str) -> str:
        action = f"stopping (< {self.below:.3g})" if self.stop else "continuing"
        against = (f"the best history run {self.rival} (final {self.bar:.4f}) forecast from its first {self.epoch} "
                   f"epochs: {self.rival_forecast:.4f}; P(not beaten by more than the margin)"
                   if self.rival else f"P(>= {self.bar:.4f} - margin)")
        own = (f" (left out of the history: {', '.join(self.left_out)}, whose first {self.epoch} epochs are "
               "this run's own)") if self.left_out else ""
        return (f"{arch} stop check at epoch {self.epoch}: forecast final {METRIC} {self.final:.4f} "
                f"[{self.lower:.4f}, {self.upper:.4f}], {against} = {self.p_reach:.3f}; {action}{own}")


class Stopper:
    """Fitted once on the history; `check(rows)` after every epoch gives a Verdict at stop.at."""

    def __init__(self, stop: StopParams, epochs: int, config: dict | None = None):
        self.history = learnable_history(read_curve_dir(Path(stop.history), METRIC))  # one folder of curves
        self.at, self.epochs, self.config = set(stop.at), epochs, config or {}
        self.threshold = stop.threshold
        self.below = per_check(STOP_BELOW, len(self.at))
        self._setups: dict[frozenset, tuple] = {}
        self._setup(frozenset())  # fitted now, before training starts: a history it cannot learn from fails here

    def _setup(self, left_out: frozenset) -> tuple:
        """(forecaster, rival curve or None, bar) from the history less the curves named in `left_out`."""
        if left_out not in self._setups:
            history = [c for c in self.history if c.name not in left_out]
            if not history:
                raise LcpipeError(f"stop.history: every curve in it ({', '.join(sorted(left_out))}) is this run "
                                  "trained before (its first epochs, equal); give finished runs of other trainings")
            bar = self.threshold or max(float(c.metric(METRIC)[-1]) for c in history)
            same_length = [c for c in history if len(c) == self.epochs]
            rival = None  # relative: the best history run of the run's length, forecast alike
            if not self.threshold and same_length and len(history) - 1 >= MIN_HISTORY_CURVES:
                rival = max(same_length, key=lambda c: float(c.metric(METRIC)[-1]))
                bar = float(rival.metric(METRIC)[-1])
            # one forecaster for the run and the rival, fitted without the rival (else a run that is the
            # rival's copy finds it as its perfect analog, and the rival does not)
            forecaster = Auto().fit([series_of(c, METRIC) for c in history if c is not rival])
            if forecaster.final_q_ is None and rival is not None:
                # too few curves left to calibrate its band on (the README's recipe: 4 archs, less the run's own
                # and the rival, leave 2): the errors of forecasting each history curve from the others, the rival
                # among them, are those of a forecast from that many curves
                forecaster.final_q_ = Auto().fit([series_of(c, METRIC) for c in history]).final_q_
            self._setups[left_out] = (forecaster, rival, bar)
        return self._setups[left_out]

    def _own_past(self, values: np.ndarray, rows: list[dict]) -> frozenset:
        """Names of the history curves whose first len(values) epochs are the run's (copies.is_prefix_of: equal,
        or written again rounded). Only a prefix that moves says which run it is: accuracies are counts over
        one test set, so different runs share exact early values (stuck at chance through a warmup); a
        prefix of fewer than 3 distinct values is no fingerprint by itself. Its losses are (FINGERPRINT: means
        over batches, floats that two runs do not share): with them equal too, and moving, the curve is the
        run's own (red team: stuck at chance to epoch 5, a run was forecast from its own future, 0.73 [0.727,
        0.737] against a true 0.96)."""
        k = len(values)  # equal, or written again coarser (a history copied with %.4f: copies.is_prefix_of)
        same = [c for c in self.history if len(c) >= k and is_prefix_of(values, c.metric(METRIC)[:k])]
        if len(np.unique(values)) >= 3:
            return frozenset(c.name for c in same)
        losses = {col: np.array([r[col] for r in rows], dtype=float) for col in FINGERPRINT
                  if all(col in r for r in rows)}
        losses = {col: v for col, v in losses.items() if len(np.unique(v)) >= min(k, 2)}
        return frozenset(c.name for c in same if losses and all(
            col in c.columns and is_prefix_of(v, c.columns[col][:k]) for col, v in losses.items()))

    def check(self, rows: list[dict]) -> Verdict | None:
        epoch = len(rows)
        if epoch not in self.at:
            return None
        # the lr column so far (its drops) and the config (drops still to come) place the run's schedule
        lr = np.array([r["lr"] for r in rows]) if all("lr" in r for r in rows) else None
        prefix = Series("run", np.array([r[METRIC] for r in rows]), lr, self.config)
        left_out = self._own_past(prefix.values, rows)
        forecaster, rival_curve, bar = self._setup(left_out)
        left = tuple(sorted(left_out))
        mean, lower, upper = final_value(prefix.values, forecaster.forecast(prefix, self.epochs))
        if rival_curve is None or epoch >= self.epochs:
            p_reach = float(p_not_beaten(np.array([mean, bar]), np.array([float(std_of(lower, upper)), 0.0]))[0])
            return Verdict(epoch, mean, lower, upper, bar, p_reach, p_reach < self.below, below=self.below,
                           left_out=left)
        # the rival as it was at this epoch, forecast the same way: the two forecasts' difference,
        # corrected by the rival's known final, is this run's final relative to it
        rival = series_of(rival_curve, METRIC)
        cut = Series(rival.name, rival.values[:epoch], None if rival.lr is None else rival.lr[:epoch], rival.config)
        r_mean, r_lower, r_upper = final_value(cut.values, forecaster.forecast(cut, self.epochs))
        mean_vs = np.array([mean, r_mean])
        std_vs = np.array([float(std_of(lower, upper)), float(std_of(r_lower, r_upper))])
        p_reach = float(p_not_beaten(mean_vs, std_vs, seen=np.array([epoch, epoch]))[0])
        return Verdict(epoch, mean, lower, upper, bar, p_reach, p_reach < self.below, rival_curve.name,
                       round(r_mean, 6), self.below, left)
