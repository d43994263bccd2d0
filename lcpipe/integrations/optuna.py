"""ForecastPruner: Optuna pruning by lcpipe's forecast of where each trial ends.

    pruner = ForecastPruner(epochs=50, history="old_runs/")
    study = optuna.create_study(direction="maximize", pruner=pruner, storage="sqlite:///s.db")

    def objective(trial):
        ...
        for epoch in range(1, 51):
            acc = train_one_epoch(...)
            trial.report(acc, step=epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()   # or: return pruner.final_forecast(study, trial)[0]
        return acc

At each check the running trial's final value (its accuracy at step `epochs`) is forecast by
lcpipe's default forecaster, `Auto`, fitted on the history plus the study's own completed trials
(their reported values as curves, `trial.params` as config). It is compared, through the one stop
rule `stop_rule.keep`, with the completed trials' final values (known exactly) and optionally
with the other running trials' forecasts; the trial is pruned when `keep` says stop.

The pruner keeps no state of its own: a decision depends only on the study's storage and the
history, so processes and machines sharing one storage (SQLite, PostgreSQL, MySQL) decide alike.
A fitted forecaster is cached per set of completed trials, which only saves time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from lcpipe.curve import Series, series_of
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.logs import check_finished, read_curves
from lcpipe.forecasting.predictors.auto import Auto, centred_mean, log_error, on_time_axis
from lcpipe.forecasting.stop_rule import STD_FLOOR, keep, std_of

# Defaults chosen leave-one-family-out on the dev corpus (`python bench/pruners.py --tune`: the
# setting with the least compute at <= 0.25 pts regret on the other families, the one most folds pick).
WARMUP = 0.05  # no pruning before 5 % of the planned epochs
STOP_BELOW = 0.03  # prune when P(final >= a rival's final - margin) falls below this
MARGIN = 0.005  # 0.5 accuracy points: ending this close to the best is not losing
MIN_WARMUP = 3  # steps: whatever the fraction, never prune on the first two reports
MIN_CURVES = 3  # no pruning while history + completed trials hold fewer curves (one analog gives no spread)
SHARED = 0.5  # correlation of two trials' forecast errors


class PrunerError(LcpipeError, ValueError):
    """A study or a reported value ForecastPruner cannot work with; one line."""


class ForecastPruner(optuna.pruners.BasePruner):
    """Prune a trial that another trial is likely to end above, by lcpipe's forecast.

    epochs: the planned steps of a trial (trials report step 1..epochs).
    history: a folder, a file, or a list of them, of finished curves (read as `lcpipe forecast
        --history` reads them); None: only the study's completed trials are history, and nothing
        is pruned before MIN_CURVES have completed.
    metric: the column of the history files the trials report (accuracy as a fraction).
    warmup: no pruning before this many steps (at least MIN_WARMUP); a float below 1 is a
        fraction of `epochs`.
    interval_steps: check every this many steps after the warmup (1: every step).
    stop_below, margin, shared: the stop rule's settings (stop_rule.keep).
    compare_running: also compare with the other running trials' forecasts, not only with the
        completed trials' finals.
    """

    def __init__(self, epochs: int, history: str | Path | list[str | Path] | None = None, *,
                 metric: str = "test_acc", warmup: float = WARMUP, interval_steps: int = 1,
                 stop_below: float = STOP_BELOW, margin: float = MARGIN, shared: float = SHARED,
                 compare_running: bool = False, forecaster: Auto | None = None):
        if not isinstance(epochs, int | np.integer) or epochs < 2:
            raise PrunerError(f"epochs={epochs!r}: give the planned number of steps of a trial, at least 2")
        if interval_steps < 1:
            raise PrunerError(f"interval_steps={interval_steps!r}: must be at least 1")
        if not 0 <= stop_below < 1:
            raise PrunerError(f"stop_below={stop_below!r}: a probability in [0, 1) (0: never prune)")
        self.epochs = int(epochs)
        self.warmup_steps = max(MIN_WARMUP, int(round(warmup * epochs)) if warmup < 1 else int(warmup))
        self.interval_steps = int(interval_steps)
        self.stop_below, self.margin, self.shared = stop_below, margin, shared
        self.compare_running = compare_running
        self._template = forecaster or Auto()
        if history is None:
            curves = []
        else:
            paths = [history] if isinstance(history, str | Path) else list(history)
            curves = read_curves(paths, metric)
            check_finished(curves)
        self._history = [series_of(c, metric) for c in curves]
        self._history = [s for s in self._history if len(s.values)]
        self._history_axis: np.ndarray | None = None  # the history's log-error on `epochs`, computed once
        self._cache: tuple[tuple, Auto | None, np.ndarray] = ((), None, np.empty(0))

    # -- what the study holds -------------------------------------------------------------------

    def _check(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if len(study.directions) != 1 or study.directions[0] != StudyDirection.MAXIMIZE:
            raise PrunerError("ForecastPruner needs a single-objective study with direction='maximize' "
                              "(it forecasts an accuracy); create the study with direction='maximize'")
        bad = [(s, v) for s, v in trial.intermediate_values.items() if not (0.0 <= v <= 1.0)]
        if bad:
            step, value = min(bad)
            raise PrunerError(f"trial {trial.number} reported {value!r} at step {step}; ForecastPruner needs an "
                              "accuracy as a fraction in [0, 1] (divide a percentage by 100)")

    def _curve(self, trial: FrozenTrial) -> np.ndarray:
        """The trial's reported values on steps 1..last step (gaps filled linearly)."""
        steps = np.array(sorted(s for s in trial.intermediate_values if s >= 1), dtype=int)
        if not len(steps):
            return np.empty(0)
        values = np.array([trial.intermediate_values[s] for s in steps], dtype=float)
        last = min(int(steps[-1]), self.epochs)
        if len(steps) == steps[-1] and last == steps[-1]:
            return values
        return np.interp(np.arange(1, last + 1), steps, values)

    def _finished(self, study: optuna.Study) -> list[FrozenTrial]:
        """Completed trials that trained all `epochs` steps (one that returned early, e.g. with its
        forecast, is no finished curve)."""
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        return [t for t in done if (t.last_step or 0) >= self.epochs]

    def _forecaster(self, finished: list[FrozenTrial]) -> tuple[Auto | None, np.ndarray]:
        """Auto fitted on the history plus the finished trials, and their final values; cached per
        set of finished trials (a finished trial never changes)."""
        key = tuple(sorted((t.number, t.datetime_start, t.datetime_complete) for t in finished))
        if key == self._cache[0] and self._cache[1] is not None:
            return self._cache[1], self._cache[2]
        own = [Series(f"trial {t.number}", self._curve(t), config=dict(t.params)) for t in finished]
        finals = np.array([s.values[self.epochs - 1] for s in own])
        sources = self._history + own
        if not sources:
            return None, finals
        auto = Auto(self._template.recency, self._template.similarity, self._template.smooth,
                    self._template.interval_scale).fit(sources)
        # the history's part of the time axis is the same for every fit: computed once
        if self._history and self._history_axis is None:
            self._history_axis = Auto(recency=auto.recency, smooth=auto.smooth).fit(self._history)._history_on(
                self.epochs)
        parts = [self._history_axis] if self._history else []
        if own:
            parts.append(np.stack([centred_mean(log_error(on_time_axis(s.values, self.epochs)), auto.smooth)
                                   for s in own]))
        auto._axes[self.epochs] = np.concatenate(parts)
        self._cache = (key, auto, finals)
        return auto, finals

    def _forecast(self, auto: Auto, curves: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, lower, upper) of each curve's value at step `epochs`."""
        fcs = auto.forecast_many([Series("trial", c) for c in curves], [self.epochs] * len(curves))
        mean = np.array([fc.mean[-1] for fc in fcs])
        lower = np.array([fc.lower[-1] for fc in fcs])
        upper = np.array([fc.upper[-1] for fc in fcs])
        return mean, lower, upper

    # -- Optuna's interface ---------------------------------------------------------------------

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        self._check(study, trial)
        step = trial.last_step
        if step is None or step < max(self.warmup_steps, 1) or step >= self.epochs:
            return False
        if (step - self.warmup_steps) % self.interval_steps:
            return False
        finished = self._finished(study)
        if not finished or len(self._history) + len(finished) < MIN_CURVES:
            return False  # nothing to lose to yet, or too few curves to forecast from
        auto, finals = self._forecaster(finished)
        curves = [self._curve(trial)]
        if self.compare_running:
            running = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                       if t.number != trial.number and t.last_step and t.last_step < self.epochs]
            curves += [c for c in map(self._curve, running) if 1 <= len(c) < self.epochs]
        mean, lower, upper = self._forecast(auto, curves)
        std = std_of(lower, upper)
        all_mean = np.concatenate([mean, finals])
        all_std = np.concatenate([std, np.full(len(finals), STD_FLOOR)])
        return not bool(keep(all_mean, all_std, self.stop_below, self.margin, self.shared)[0])

    def final_forecast(self, study: optuna.Study, trial: optuna.trial.BaseTrial) -> tuple[float, float, float]:
        """The trial's forecast value at step `epochs`: (mean, lower, upper) of its 80 % interval;
        exact when it has reported that step. An objective may return the mean instead of raising
        TrialPruned."""
        frozen = trial if isinstance(trial, FrozenTrial) else next(
            t for t in study.get_trials(deepcopy=False) if t.number == trial.number)
        self._check(study, frozen)
        curve = self._curve(frozen)
        if not len(curve):
            raise PrunerError(f"trial {frozen.number} has reported no value yet; nothing to forecast from")
        if len(curve) >= self.epochs:
            v = float(curve[self.epochs - 1])
            return v, v, v
        auto, _ = self._forecaster(self._finished(study))
        if auto is None:
            raise PrunerError("no history and no completed trial yet: nothing to forecast from; give history=")
        mean, lower, upper = self._forecast(auto, [curve])
        return float(mean[0]), float(lower[0]), float(upper[0])
