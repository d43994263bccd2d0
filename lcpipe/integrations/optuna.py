"""ForecastPruner: Optuna pruning by lcpipe's forecast of where each trial ends, relative to the best.

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

Relative, not absolute: trials of one study share their shape, so the forecaster's error on one
is largely its error on another. At a check at step s the running trial is compared with each of
the best RIVALS completed trials j as they were at the SAME step: lcpipe's default forecaster,
`Auto`, fitted on the history plus the study's other completed trials (leave j out: j must not be
its own analog), forecasts both prefixes (the running trial's and j's, each cut at s), and the
difference of the two forecasts, corrected by j's known final, is the running trial's final
relative to j's. The one stop rule `stop_rule.keep` decides on that pair, with `shared` the
correlation of the two forecast errors (high: same forecaster, same step, same study). A trial
behind where the best trial was at the same epoch, by more than the forecast says it can make up,
is pruned; so is one forecast to end at best `margin` above j when margin is negative (a trial
that can only tie the best is not worth finishing: this bounds the regret by -margin).

Checks happen only at a sparse, geometric schedule of steps (the warmup, then each `growth` times
the last): fewer decisions (less false pruning) and few forecasts per trial.

The pruner keeps no state of its own: a decision depends only on the study's storage and the
history, so processes and machines sharing one storage (SQLite, PostgreSQL, MySQL) decide alike.
Fitted forecasters and the rivals' forecasts are cached per set of completed trials, which only
saves time.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from lcpipe.curve import Series, series_of
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.logs import check_finished, read_curves
from lcpipe.forecasting.predictors.auto import Auto
from lcpipe.forecasting.stop_rule import keep, std_of

# Defaults: (stop_below, shared, margin) the setting 9 of 13 leave-one-family-out folds pick on the dev corpus
# (`python bench/pruners.py --tune`); warmup and growth set by hand, not tuned.
WARMUP = 0.05  # no pruning before 5 % of the planned epochs
GROWTH = 1.5  # checks at the warmup step, then each at GROWTH x the last (at least interval_steps later)
STOP_BELOW = 0.1  # prune when P(final >= a rival's final - margin) falls below this
MARGIN = 0.0  # accuracy: < 0 prunes trials forecast to beat the best by less than -margin
SHARED = 0.8  # correlation of the running trial's and a rival's forecast errors from the same step
RIVALS = 3  # the best this many completed trials are compared with
MIN_WARMUP = 3  # steps: whatever the fraction, never prune on the first two reports
MIN_CURVES = 3  # no pruning while history + completed trials hold fewer curves (one analog gives no spread)


class PrunerError(LcpipeError, ValueError):
    """A study or a reported value ForecastPruner cannot work with; one line."""


class ForecastPruner(optuna.pruners.BasePruner):
    """Prune a trial that a completed trial is likely to end above, by lcpipe's forecast of the
    difference of the two from the same step.

    epochs: the planned steps of a trial (trials report step 1..epochs).
    history: a folder, a file, or a list of them, of finished curves (read as `lcpipe forecast
        --history` reads them); None: only the study's completed trials are history, and nothing
        is pruned before MIN_CURVES have completed.
    metric: the column of the history files the trials report (accuracy as a fraction).
    warmup: no pruning before this many steps (at least MIN_WARMUP); a float below 1 is a
        fraction of `epochs`.
    growth, interval_steps: the checks: at the warmup step, then each at max(last + interval_steps,
        ceil(growth x last)) (growth 1: every interval_steps steps). A trial that skips a check's
        step is checked at its first report past it.
    stop_below, margin, shared: the stop rule's settings (stop_rule.keep); margin may be negative.
    rivals: how many of the best completed trials the running trial is compared with.
    compare_running: also compare with the other running trials' forecasts (absolute finals).
    """

    def __init__(self, epochs: int, history: str | Path | list[str | Path] | None = None, *,
                 metric: str = "test_acc", warmup: float = WARMUP, growth: float = GROWTH, interval_steps: int = 1,
                 stop_below: float = STOP_BELOW, margin: float = MARGIN, shared: float = SHARED,
                 rivals: int = RIVALS, compare_running: bool = False, forecaster: Auto | None = None):
        if not isinstance(epochs, int | np.integer) or epochs < 2:
            raise PrunerError(f"epochs={epochs!r}: give the planned number of steps of a trial, at least 2")
        if interval_steps < 1:
            raise PrunerError(f"interval_steps={interval_steps!r}: must be at least 1")
        if growth < 1:
            raise PrunerError(f"growth={growth!r}: must be at least 1 (1: every interval_steps steps)")
        if not 0 <= stop_below < 1:
            raise PrunerError(f"stop_below={stop_below!r}: a probability in [0, 1) (0: never prune)")
        if rivals < 1:
            raise PrunerError(f"rivals={rivals!r}: must be at least 1")
        self.epochs = int(epochs)
        self.warmup_steps = max(MIN_WARMUP, int(round(warmup * epochs)) if warmup < 1 else int(warmup))
        self.interval_steps, self.growth = int(interval_steps), float(growth)
        self.checks = self._schedule()
        self.stop_below, self.margin, self.shared, self.rivals = stop_below, margin, shared, int(rivals)
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
        self._base: Auto | None = None  # the template fitted on the history alone, once; trials extend it
        self._key: tuple = ()  # the set of finished trials the caches below are for
        self._fits: dict = {}  # left-out trial number (None: none) -> Auto
        self._rival_fc: dict = {}  # (rival number, step) -> (mean, std) of its final from its prefix at step

    def _schedule(self) -> np.ndarray:
        steps, s = [], self.warmup_steps
        while s < self.epochs:
            steps.append(s)
            s = max(s + self.interval_steps, int(np.ceil(s * self.growth - 1e-9)))
        return np.array(steps, dtype=int)

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

    def _due(self, trial: FrozenTrial) -> bool:
        """A check falls in (the trial's previous reported step, its last]."""
        step = trial.last_step
        if step is None or step < self.warmup_steps or step >= self.epochs:
            return False
        prev = max((s for s in trial.intermediate_values if s < step), default=0)
        i = np.searchsorted(self.checks, step, side="right")  # checks <= step: [0, i)
        return i > 0 and self.checks[i - 1] > prev

    # -- forecasters ----------------------------------------------------------------------------

    def _own(self, finished: list[FrozenTrial]) -> tuple[list[Series], np.ndarray]:
        own = [Series(f"trial {t.number}", self._curve(t), config=dict(t.params)) for t in finished]
        return own, np.array([s.values[self.epochs - 1] for s in own])

    def _refresh(self, finished: list[FrozenTrial]) -> None:
        """Drop the caches when the set of finished trials changed (a finished trial never changes)."""
        key = tuple(sorted((t.number, t.datetime_start, t.datetime_complete) for t in finished))
        if key != self._key:
            self._key, self._fits, self._rival_fc = key, {}, {}

    def _fit(self, finished: list[FrozenTrial], leave_out: int | None = None) -> Auto | None:
        """Auto fitted on the history plus the finished trials but `leave_out`; the history's part
        of the time axis and its calibration are computed once."""
        self._refresh(finished)
        if leave_out in self._fits:
            return self._fits[leave_out]
        own, _ = self._own([t for t in finished if t.number != leave_out])
        if self._base is None and self._history:  # fitted (and calibrated) on the history once
            self._base = copy.copy(self._template).fit(self._history)
            self._base._history_on(self.epochs, ())  # the history's time axis, computed once
        if self._base is not None:
            auto = self._base.extended(own)
        elif own:
            auto = copy.copy(self._template)
            auto.calibrate = False  # no history to calibrate the final band on: its own band
            auto = auto.fit(own)
        else:
            auto = None
        self._fits[leave_out] = auto
        return auto

    def _forecast(self, auto: Auto, curves: list[np.ndarray],
                  configs: list[dict] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, lower, upper) of each curve's value at step `epochs`."""
        configs = configs or [{}] * len(curves)
        fcs = auto.forecast_many([Series("trial", c, config=cf) for c, cf in zip(curves, configs, strict=True)],
                                 [self.epochs] * len(curves))
        mean = np.array([fc.mean[-1] for fc in fcs])
        lower = np.array([fc.lower[-1] for fc in fcs])
        upper = np.array([fc.upper[-1] for fc in fcs])
        return mean, lower, upper

    # -- Optuna's interface ---------------------------------------------------------------------

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        self._check(study, trial)
        if not self._due(trial):
            return False
        finished = self._finished(study)
        if not finished or len(self._history) + len(finished) < MIN_CURVES:
            return False  # nothing to lose to yet, or too few curves to forecast from
        self._refresh(finished)
        curve = self._curve(trial)
        step = len(curve)
        own, finals = self._own(finished)
        for j in np.argsort(-finals, kind="stable")[:self.rivals]:
            rival = finished[j]
            auto = self._fit(finished, leave_out=rival.number)
            if auto is None:
                continue
            if (rival.number, step) not in self._rival_fc:
                m, lo, hi = self._forecast(auto, [own[j].values[:step]], [own[j].config])
                self._rival_fc[(rival.number, step)] = (m[0], std_of(lo, hi)[0])
            r_mean, r_std = self._rival_fc[(rival.number, step)]
            m, lo, hi = self._forecast(auto, [curve], [dict(trial.params)])
            # the running trial's final relative to the rival's: the two forecasts' difference
            mean = np.array([m[0], r_mean])
            std = np.array([std_of(lo, hi)[0], r_std])
            if not keep(mean, std, self.stop_below, self.margin, self.shared)[0]:
                return True
        if self.compare_running:
            running = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                       if t.number != trial.number and t.last_step and t.last_step < self.epochs]
            curves = [curve] + [c for c in map(self._curve, running) if 1 <= len(c) < self.epochs]
            if len(curves) > 1:
                mean, lower, upper = self._forecast(self._fit(finished), curves)
                return not bool(keep(mean, std_of(lower, upper), self.stop_below, self.margin, self.shared)[0])
        return False

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
        auto = self._fit(self._finished(study))
        if auto is None:
            raise PrunerError("no history and no completed trial yet: nothing to forecast from; give history=")
        mean, lower, upper = self._forecast(auto, [curve], [dict(frozen.params)])
        return float(mean[0]), float(lower[0]), float(upper[0])
