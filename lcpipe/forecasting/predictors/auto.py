"""`auto`, lcpipe's default forecaster: analogs from a history of finished curves.

Each history curve is put on the target's time axis (normalised time, epoch / planned length, so
a 200-epoch history serves a 100-epoch run) and moved to meet the target's observed prefix in
log-error space, log(1 - acc), with recent epochs weighted most. Its remaining epochs, moved the
same way, are one analog forecast: the history curve brings the shape (plateaus, the jump after an
lr drop, late overfitting), the target its own level. The forecast is the mean of the analogs,
weighted by how closely each followed the prefix; the 80 % band is their spread plus the target's
own jitter around them, times a scale calibrated to cover 80 % of the actual points. History
curves are smoothed first (a centred moving average: they are finished, so the future may be
used), so that their epoch-to-epoch jitter does not pass into the forecast.

Why log-error: two runs of one recipe tend to keep the *ratio* of their errors, not their
difference, so a run at 20 % error where its analog was at 25 % ends near 0.8 x the analog's
final error. The settings (recency, similarity, smooth_epochs, interval_scale, ...) are chosen by leave-one-group-out
on the development corpus: `python bench/forecast_quality.py`.

Config-aware (when runs state their config, lcpipe's sidecar or a `<run>.json`): an analog's weight is
also multiplied by exp(-config_weight * d), d counting how its config differs from the run's
(optimizer, schedule, log10 lr, dataset, arch; a key either side lacks counts nothing), and a known
step schedule (`milestones` of `epochs`, or the drops of an `lr` column) warps the analog's time
axis so that its lr drops fall where the run's will. A run with no config is forecast as before.
Every other hyper-parameter the run states (batch size, weight decay, warmup, width, LoRA rank, ...)
counts too, among history runs of the run's own dataset (both stating the same one, or neither: a
study's own trials): each adds its difference as a share of that dataset's range of it (in decades
where it spans more than one), a text value 1 where it differs, the sum at most FOREIGN_DATASET, off
the analog's log-weight (not scaled by config_weight, so that choosing that leaves the cap alone). A
run of another dataset counts FOREIGN_DATASET whole: what its batch size or rank means there says
little about this run, and it is never nearer than a sibling for differing less in such keys. A loss
has its own FOREIGN_DATASET_SERIES. Both are chosen leave-one-family-out (bench/forecast_quality.py's
constants sections); 0, or `hyperparameters=False`, turns them off, and a run that states none is
compared as before. Each key's difference is weighed by its relevance (ConfigColumns.relevance): how
strongly the finals of the history runs of the run's dataset follow it, over the keys' mean (a LoRA
rank that decides where the loss ends counts more than a weight decay that decides nothing). On the
LoRA sweeps in-study (bench/lm_table, `lcpipe evaluate`) auto's RMSE over the best simple reference's
went from a mean of 0.78 to 0.75 over 4 tasks x 3 cutoffs (descr 0.54 / 0.59 / 0.73 -> 0.52 / 0.58 /
0.70, docs 0.77 / 0.68 / 0.80 -> 0.70 / 0.58 / 0.76, numpy 0.91 / 0.88 / 0.76 -> 0.82 / 0.79 / 0.71),
but not on code (0.97 / 0.91 / 0.86 -> 0.94 / 0.99 / 0.96, its high-lr trials' jitter); the dev
corpora's headlines, whose studies state few such keys, were unchanged to two decimals. RELEVANCE_POWER
is chosen among 0, 0.5, 1, 2, 3 with each LoRA task held out in turn (the lowest mean log ratio on the other
three): 3 of 4 folds pick 1, docs picks 0.5; each task at its fold's pick, the mean ratio is 0.76 (0.78 at 0).

A loss forecast from its own study (`_one_study`: a history of siblings, or of runs that all state the run's
one dataset, as the paper's in-study protocol and `lcpipe evaluate --curves` without --history have it) is met
by its analogs at its latest level: the shift that moves each analog onto it weighs the prefix with a half-life
of `sibling_recency_series` (0.75) points instead of `recency` (2). Analogs of its own recipe have its shape,
and a loss is smooth enough that where it stands now says most. How well each analog fits the prefix, and the
run's jitter, are still read over `recency`: read off the last point alone they vanish for every analog, the
analogs weigh alike and the band narrows (so measured first: the in-study stop rule then lost 16 % of the loss
in one AlgoPerf study at 10 %). Measured on dev-loss's in-study protocol, each family held out in turn (0.5,
0.75, 1, 1.5, 2 tried): final RMSE over the best simple reference's 0.71 / 0.78 / 0.70 at 10 / 20 / 40 % at 2,
0.63 / 0.69 / 0.67 at 0.75 (cov80 0.82 / 0.85 / 0.83, kept-set regret unchanged), 0.58 / 0.66 / 0.68 at 0.5,
which every family picks by RMSE but whose band covers 88 % at 10 %, outside 75-85 %; so 0.75, the lowest
that keeps the band inside. On the LoRA sweeps (`lcpipe evaluate --curves bench/lm_table/curves/<task>
--metric val_ce --mode min --cutoffs 10,20,40`) 0.75 and 0.5 alike: 6 of 12 cells at 0.7x of the best
reference, against 4 at 2. A foreign history keeps `recency` (leave-one-family-out on dev-loss, a half-life of
0.5 everywhere lost at 20 and 40 % and its band covered 74 % at 40 %), and so does an accuracy, whose
evaluation jitter needs a few points averaged (in-study at 1 everywhere: 0.59 -> 0.72 at cutoff 20).

Far from every analog, or stalled: when the run's log-error at the end of its prefix lies above (worse
than) every analog's at the same time (a run stuck at chance, a run far below the history), moving the
analogs onto it extrapolates progress it has not shown; the forecast then leans, by how far out it
is, or (an accuracy-like score) by how much less it progressed over its prefix than its analogs did
(counting only the part of their progress it lacks beyond STALL_SHARE, a half), on the run's own
recent level (flat) with a band of its own jitter. An accuracy flat so ahead of its analogs too, over
its whole prefix and its second half, is held so as well (one flat at a level it reached early), unless
its config states an lr drop still to come. A loss lagging so behind every analog keeps the analogs'
mean (it may be a slower run, or on a plateau before an lr drop), and its band reaches down to its own
level instead.

Calibrated finals (`calibrate`): at fit, the history forecasts itself leave-one-cluster-out (a
cluster: the runs of one dataset and arch and length by their configs, or of one length without
them, so no near-copy of a run is its analog) from several fractions of its length; the
`final_quantile` (85 %) quantile of |final - forecast| / std at each fraction is the width the final
band must have, and the band widens linearly over the forecast epochs to reach it at the end
(split-conformal). 85 %, not 80 %: a live run's family is foreign to the whole history, and its
errors run larger than those of the history's own held-out clusters (chosen leave-one-family-out:
`python bench/forecast_quality.py`). A loss or any other unbounded series has its own level,
`final_quantile_series`, chosen the same way on the dev-loss corpus: 85 % as well (12 of 16 families).
Only prefixes of at least CALIBRATION_MIN_POINTS points calibrate: at 10 % of a 20-evaluation
history curve the prefix is 2 points, whose errors are several times those of a 10-point prefix at
10 % of a 100-evaluation one, and pooled at one fraction they widened every 10 % band (a loss's
final band covered 91 % at 10 %, against 79 % at 20 %). A history that is one study's runs (one
cluster, or one stated dataset and arch at several lengths), as in the paper's in-study protocol, is
calibrated on those runs, a fold at a time, at the nominal 80 %: its target is a sibling, not a
foreign family; it narrows the model's own band by half at most (SIBLING_FOLDS).
"""

from __future__ import annotations

import copy
import functools
import re
from collections import defaultdict
from dataclasses import replace
from numbers import Real

import numpy as np

from lcpipe.curve import Series
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.predictors.base import Z80, Forecast, Predictor

ERROR_FLOOR = 1e-3  # log(1 - acc) needs 1 - acc > 0; a curve at 100 % is treated as 99.9 %
# the band's std floor in the forecast's own space (log error for an accuracy, log loss for a loss), x interval_scale.
# For a loss 0.005 (half a percent of it) held the late bands of smooth losses wider than their errors: in the paper's
# in-study protocol on the LoRA sweeps (`lcpipe evaluate --cutoffs 10,20,40`) `docs` covered 0.93 at cutoff 40; at
# 0.002 every task and cutoff covers 0.78-0.82, dev-loss in-study 0.84 / 0.84 / 0.82 (from 0.84 / 0.86 / 0.83), the
# loss headlines move by at most 0.02 (2026-12-07). An accuracy keeps 0.005: at 0.002 its bands from a history of 3
# curves narrowed (cov80 0.70 -> 0.69, one test's final left its band) and its headline moved within its CIs
# (cov80 0.77 / 0.81 -> 0.80 / 0.82 at cutoffs 20 / 40). ForecastPruner keeps 0.005 for both (PRUNER_NOISE_FLOOR):
# its rule was tuned with it, and at 0.002 its dev and LoRA replays trained more (58.8 -> 59.2 %, 33.3 -> 33.7 %)
# for no less regret.
# The floor enters the calibration too (the held-out forecasts' spreads), so the calibrated band is not monotone in it:
# a higher floor can give a narrower final band (red team). LEAST_NOISE_FLOOR: below it an exactly flat loss's band
# collapsed to a point (1e-300 gave [2.0, 2.0000000000000075]).
NOISE_FLOOR = 0.005
NOISE_FLOOR_SERIES = 0.002
PRUNER_NOISE_FLOOR = 0.005
LEAST_NOISE_FLOOR = 1e-4
# the history's moving average spans at most 1/8 of the run's horizon (smoothing_width): chosen leave-one-
# family-out among no cap, 1/4, 1/6, 1/8 and 1/12 by bench/forecast_quality.py (its constants sections)
SMOOTH_SHARE = 8
CHUNK = 2_000_000  # runs x history x epochs per vectorised block: bounds memory at ~16 MB a block


def on_time_axis(acc: np.ndarray, horizon: int, marks: tuple = (), own: tuple = ()) -> np.ndarray:
    """A finished curve of any length resampled to epochs 1..horizon on normalised time; where the
    run's milestones `marks` and the curve's `own` (fractions) are as many, time is warped piecewise
    linearly so that the curve's lr drops land on the run's."""
    n = len(acc)
    u = np.arange(1, horizon + 1) / horizon
    if marks and len(marks) == len(own) and marks != own:
        u = np.interp(u, [0.0, *marks, 1.0], [0.0, *own, 1.0])
    elif n == horizon:
        return acc
    return np.interp(u * n, np.arange(1, n + 1), acc)


def log_error(acc: np.ndarray) -> np.ndarray:
    return np.log(np.clip(1.0 - acc, ERROR_FLOOR, 1.0))


def badness(values: np.ndarray, bounded: bool) -> np.ndarray:
    """The space analogs are moved in, lower is better: log-error for a bounded (accuracy-like)
    metric; for an unbounded one the internal value is already minus a log (of a loss) or a scaled
    value (lcpipe/metric.py), so its negative."""
    return log_error(values) if bounded else -np.asarray(values, dtype=float)


def from_badness(z: np.ndarray, bounded: bool) -> np.ndarray:
    return 1.0 - np.exp(z) if bounded else -z


def smoothing_width(smooth_epochs: int, horizon: int) -> int:
    """The history's moving-average width on a run's time axis: `smooth_epochs`, but at most
    1 / SMOOTH_SHARE of the horizon (SMOOTH_SHARE 0: no cap). Five epochs of a 200-epoch run
    average out its evaluation noise; five of a 20-evaluation Keras run are a quarter of it, and
    averaging them flattens the fast early fall that a short run's forecast lives on. On the dev-loss
    corpus (runs of 10 to 185 evaluations) the cap took auto's final RMSE over the best reference's
    from 0.65 / 0.76 / 0.69 to 0.64 / 0.64 / 0.70 at 10 / 20 / 40 % of each run, held out; accuracy
    runs of 50 epochs and more are untouched, and the accuracy headline stayed as it was."""
    return min(smooth_epochs, max(1, horizon // SMOOTH_SHARE)) if SMOOTH_SHARE else smooth_epochs


def centred_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Moving average over `width` epochs centred on each one (narrower at the ends)."""
    half = width // 2
    total = np.concatenate([[0.0], np.cumsum(values)])
    i = np.arange(len(values))
    lo, hi = np.maximum(0, i - half), np.minimum(len(values), i + half + 1)
    return (total[hi] - total[lo]) / (hi - lo)


class Auto(Predictor):
    """Analog forecaster: `recency` is the half-life (epochs) of the prefix weights, `similarity`
    how sharply the analogs that fit the prefix best dominate (0: plain mean), `smooth_epochs` the width
    (epochs) of the history curves' moving average (1: raw), `interval_scale` the calibration of
    the 80 % band, `config_weight` how strongly analogs with an unlike config are discounted
    (0: configs ignored; `config_weight_series` for a loss or any other series), `calibrate` whether
    the final band is calibrated on the history, and
    `final_quantile` the quantile of the history's held-out |final error| / std it is calibrated to
    for an accuracy-like (bounded) history, `final_quantile_series` for a loss or any other series, and
    `hyperparameters` whether the run's other hyper-parameters count among runs of its dataset, and
    `sibling_recency_series` the half-life that replaces `recency` in each analog's shift for a loss whose
    history is one study's runs, `calibration_fractions` the fractions of the run the final band is
    calibrated from (CALIBRATION_FRACTIONS; ForecastPruner's default stops at 0.4), and `noise_floor` the band's least
    std in the forecast's space (None: NOISE_FLOOR for an accuracy, NOISE_FLOOR_SERIES for any other metric;
    ForecastPruner's default PRUNER_NOISE_FLOOR)."""

    name = "auto"
    config_keys = ("optimizer", "lr", "schedule", "milestones", "epochs", "dataset", "arch")
    reads_hyperparameters = True

    def __init__(self, recency: float = 2.0, similarity: float = 2.0, smooth_epochs: int = 5,
                 interval_scale: float = 0.75, config_weight: float = 1.0, calibrate: bool = True,
                 final_quantile: float = 0.85, final_quantile_series: float = 0.85, hyperparameters: bool = True,
                 config_weight_series: float = 3.0, sibling_recency_series: float = 0.75,
                 calibration_fractions: tuple[float, ...] | None = None, noise_floor: float | None = None):
        self.recency = recency
        self.similarity = similarity
        self.smooth_epochs = smooth_epochs
        self.interval_scale = interval_scale
        self.config_weight = config_weight
        self.calibrate = calibrate
        self.final_quantile = final_quantile
        self.final_quantile_series = final_quantile_series
        self.hyperparameters = hyperparameters
        self.config_weight_series = config_weight_series
        self.sibling_recency_series = sibling_recency_series
        self.calibration_fractions = _fractions(CALIBRATION_FRACTIONS if calibration_fractions is None
                                                else calibration_fractions)
        if noise_floor is not None and (isinstance(noise_floor, bool) or not isinstance(noise_floor, Real)
                                        or not LEAST_NOISE_FLOOR <= noise_floor < 1):
            raise LcpipeError(f"noise_floor={noise_floor!r:.40}: the band's least std in the forecast's own space, a "
                              f"number in [{LEAST_NOISE_FLOOR:g}, 1), e.g. {NOISE_FLOOR}, or None for the metric "
                              "kind's own")
        self.noise_floor = None if noise_floor is None else float(noise_floor)

    def __setstate__(self, state: dict) -> None:
        """A forecaster pickled before sibling_recency_series existed (a pruner's fit in a study's storage,
        a saved state) loads as it forecast then: with its recency."""
        state.setdefault("sibling_recency_series", 0.75)
        state.setdefault("calibration_fractions", PRUNER_CALIBRATION_FRACTIONS)  # as fitted then (to 0.4)
        state.setdefault("noise_floor", PRUNER_NOISE_FLOOR)  # and at the floor of then
        if "history_" in state:
            state.setdefault("shift_recency_", state["recency"])
            state.setdefault("study_dataset_", None)
        self.__dict__.update(state)

    @property
    def floor_(self) -> float:
        """The band's least std in the forecast's space: as given, or the fitted metric kind's own."""
        if self.noise_floor is not None:
            return self.noise_floor
        return NOISE_FLOOR if getattr(self, "bounded_", True) else NOISE_FLOOR_SERIES

    def fit(self, sources: list[Series]) -> Auto:
        """Keep the history curves and their configs; with `calibrate`, learn the final band's width. A
        curve holding NaN or inf diverged: it has no final to learn from (as the curve readers and the
        pruner leave it out), and one would make every forecast NaN."""
        kept = [s for s in sources if _learnable(s)]
        if not kept:
            raise LcpipeError("auto needs at least one finished history curve to forecast from")
        self.bounded_ = all(s.bounded for s in kept)
        kept = [settled_final(s, self.bounded_) for s in kept]
        self.history_ = [np.asarray(s.values, dtype=float) for s in kept]
        self.configs_ = [dict(s.config or {}) for s in kept]
        self.milestones_ = [milestones_of(s.config or {}, s.lr, len(s.values)) for s in kept]
        self._axes: dict[tuple, np.ndarray] = {}
        clusters, siblings = _clusters(kept)
        # the half-life of the prefix weights that set each analog's shift: a loss among its own study's runs is met
        # at its latest level
        one_study = _one_study(kept, siblings) and not self.bounded_
        self.shift_recency_ = self.sibling_recency_series if one_study else self.recency
        # the one dataset such a history states (None: it states none); a run of another dataset keeps `recency`
        stated = {_recipe(s)[0] for s in kept} - {None}
        self.study_dataset_ = next(iter(stated)) if one_study and len(stated) == 1 else None
        self.final_q_ = self._calibrated(kept, clusters, siblings) if self.calibrate else None
        self.siblings_ = siblings  # calibrated on its own runs' folds, not cluster by cluster
        return self

    def _calibrated(self, kept: list[Series], clusters: dict[tuple, list[int]],
                    siblings: bool) -> tuple[np.ndarray, np.ndarray] | None:
        """(log fraction, `final_quantile` (a bounded history) or `final_quantile_series` quantile of
        |final error| / std) from leave-one-cluster-out on the history (`_clusters`); a history of one
        cluster (siblings) held out SIBLING_FOLDS folds at a time, at SIBLING_QUANTILE, never below half the
        model's own band; None while no fraction has 5 held-out errors (a history of 1-4 siblings)."""
        if siblings:
            # a fold of them held out at a time: SIBLING_FOLDS x SIBLING_HELD_OUT runs at most, spread over
            # the history whatever its order (the rest always fit)
            held = np.unique(np.linspace(0, len(kept) - 1, min(len(kept), SIBLING_FOLDS * SIBLING_HELD_OUT))
                             .round().astype(int))
            clusters = {("fold", f): [int(i) for i in held[f::SIBLING_FOLDS]]
                        for f in range(min(SIBLING_FOLDS, len(held)))}
        if len(clusters) < 2:
            return None  # one curve: nothing to hold out and fit on the rest
        few = None  # the held-out errors a history too small for 5 at any fraction calibrates on (_few_calibrated)
        # 3-point prefixes where they calibrate an early fraction: curves of 4-6 evaluations reach 3 points only at
        # 0.6 and 0.8, whose width then stood for every earlier forecast (review: dev cut to 5 points, final cov80 at
        # its 2nd point 0.81 -> 0.62); such a history calibrates on the prefixes it has, as before the late fractions
        early = {f for f in self.calibration_fractions if f <= EARLY_FRACTION} or set(self.calibration_fractions)
        for least in (CALIBRATION_MIN_POINTS, 1):  # curves too short for 3-point prefixes: what they have
            ratios = self._held_out_ratios(kept, clusters, least)
            fracs = [f for f in self.calibration_fractions if len(ratios[f]) >= 5]
            if early & set(fracs):
                break
            if few is None and any(len(ratios[f]) >= FEW_MIN_ERRORS for f in early):
                few = ratios  # 3-point prefixes first, as the calibration proper (review: one 1-point prefix's
                # error set a band of [0.41, 1.00] for a final of 0.92)
        else:
            return self._few_calibrated(few or ratios, len(kept), siblings, len(clusters))
        if siblings:  # narrowed by at most half: 10 flat siblings of 12 have errors of 0, the band none
            return np.log(fracs), np.array([max(float(np.quantile(ratios[f], SIBLING_QUANTILE)), Z80 / 2)
                                            for f in fracs])
        q = self.final_quantile if self.bounded_ else self.final_quantile_series
        return np.log(fracs), np.array([np.quantile(ratios[f], q) for f in fracs])

    def _few_calibrated(self, ratios: dict[float, list[float]], n: int,
                        siblings: bool, folds: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The calibration of a history too small for 5 held-out errors at any fraction (3-4 curves, or a few
        more too short to be seen at every fraction), from FEW_MIN_FOLDS folds: the quantile of the errors at each
        fraction that has FEW_MIN_ERRORS, never below the band of a prediction from n samples (few_curves_factor).
        Two folds are left uncalibrated: each held-out forecast then comes from one curve, whose raw band has no
        spread, and their ratios blow up a band that must stay narrow (tests/test_stop.py). Uncalibrated, the raw
        band of 3 / 4 foreign curves held 43 / 51 % of dev's finals at 20 % of the run and 44 / 41 % of dev-loss's;
        calibrated so, 70 / 79 % and 74 / 78 % (python bench/small_history.py)."""
        fracs = [f for f in self.calibration_fractions if len(ratios[f]) >= FEW_MIN_ERRORS]
        if not fracs or folds < FEW_MIN_FOLDS:
            return None
        q = SIBLING_QUANTILE if siblings else self.final_quantile if self.bounded_ else self.final_quantile_series
        floor = Z80 * few_curves_factor(n)
        return np.log(fracs), np.array([max(float(np.quantile(ratios[f], q)), floor) for f in fracs])

    def _held_out_ratios(self, kept: list[Series], clusters: dict[tuple, list[int]],
                         least: int) -> dict[float, list[float]]:
        """|final error| / std of each history curve forecast without its cluster from each calibration
        fraction of its length, where that prefix holds at least `least` points."""
        ratios: dict[float, list[float]] = defaultdict(list)
        for members in clusters.values():
            inside = set(members)
            model = Auto(self.recency, self.similarity, self.smooth_epochs, self.interval_scale, self.config_weight,
                         calibrate=False, hyperparameters=self.hyperparameters,
                         config_weight_series=self.config_weight_series, noise_floor=self.noise_floor)
            model.fit([s for i, s in enumerate(kept) if i not in inside])
            model.shift_recency_ = self.shift_recency_  # held out, each run is met as this model will meet one
            # the cluster's prefixes at every fraction in one call, as forecast_many batches them (a call each cost
            # the fit a third of its time; the ratios are the same to the bit)
            cut = [(frac, i, max(1, round(frac * len(kept[i].values))))
                   for frac in self.calibration_fractions for i in members]
            cut = [(frac, i, k) for frac, i, k in cut if least <= k < len(kept[i].values)]
            prefixes = [Series(kept[i].name, kept[i].values[:k], kept[i].lr, kept[i].config) for _, i, k in cut]
            means, stds = model._many(prefixes, [len(kept[i].values) for _, i, _ in cut])
            for (frac, i, _), mean, std in zip(cut, means, stds):
                ratios[frac].append(abs(kept[i].values[-1] - mean[-1]) / std[-1])
        return ratios

    def forecast(self, prefix: Series, horizon: int) -> Forecast:
        return self.forecast_many([prefix], [horizon])[0]

    def forecast_many(self, prefixes: list[Series], horizons: list[int]) -> list[Forecast]:
        """Band clipped to [0, 1]; with a calibration, widened to the calibrated final width."""
        out = []
        capped = self.final_q_ is not None and not getattr(self, "siblings_", True)
        spread = float(np.ptp([h[-1] for h in self.history_])) if capped else np.inf
        recipes = self._one_dataset_recipes() if self.final_q_ is not None else set()
        for prefix, horizon, mean, std in zip(prefixes, horizons, *self._many(prefixes, horizons), strict=True):
            k = len(prefix.values)
            if self.final_q_ is not None:
                q, cap = np.interp(np.log(k / horizon), *self.final_q_), spread
                if recipes and _stranger(_plain_recipe(prefix.config or {}), recipes):
                    # nor is the spread of the history's finals a bound on where a foreign run ends
                    q, cap = q * (FOREIGN_RECIPE if self.bounded_ else FOREIGN_RECIPE_SERIES), np.inf
                ramp = np.arange(1, horizon - k + 1) / (horizon - k)
                # a calibration cluster by cluster widens the band to at most the spread of the history's finals (or
                # the model's own band, if wider): a history of two families scaled every band by the errors of
                # forecasting one family from the other (red team: a mean width of 14.2 for finals in [1.9, 2.7]);
                # siblings' folds are left as they are (capped, the in-study bands narrowed and the kept set lost 1.30
                # points at cutoff 10, not 0.90); never below the jitter floor every raw band has (errors of flat
                # siblings are 0)
                widened = np.minimum(std * (1 + (q / Z80 - 1) * ramp), np.maximum(std, cap / Z80))
                std = np.maximum(widened, self.interval_scale * self.floor_)
            out.append(Forecast.clipped(mean, mean - Z80 * std, mean + Z80 * std, self.bounded_))
        return out

    def _one_dataset_recipes(self) -> set[tuple]:
        """one_dataset_recipes of the history, kept while its configs are the same list (a pruner's check forecasts
        with one fitted history many times; 3,000 configs cost 5 ms a call)."""
        key = (id(self.configs_), len(self.configs_))
        kept = getattr(self, "_recipes_of_configs", None)
        if kept is None or kept[0] != key:
            kept = self._recipes_of_configs = (key, one_dataset_recipes(self.configs_))
        return kept[1]

    def _mean_std(self, prefixes: list[Series], horizon: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return self._many(prefixes, [horizon] * len(prefixes))

    def _many(self, prefixes: list[Series], horizons: list[int]) -> tuple[list, list]:
        """All runs that share a prefix length, horizon and config are forecast as one array operation. A prefix
        whose latest point is unconfirmed (unconfirmed_latest: a spike, or a divergence starting) is forecast
        from the points before it, as if the next evaluation were still to come, and its forecast from the
        latest point on is that one's (red team: one loss evaluation of 1e38 after 14 near 2.2 gave a band of
        [0, 1e295] and P(ends best) 0.64 against a healthy run's 0.36; at 1e300, 1.00). Not the line through the
        points before: a loss flattens, and a glitch then made its run the likeliest best (review)."""
        prefixes, dropped = list(prefixes), set()
        by_length: dict[int, list[int]] = defaultdict(list)
        for i, prefix in enumerate(prefixes):
            by_length[len(prefix.values)].append(i)
        for k, members in by_length.items():  # one array test per length: a pruner forecasts thousands at a time
            if k >= 2:
                y = np.stack([np.asarray(prefixes[i].values, dtype=float) for i in members])
                for j in np.flatnonzero(unconfirmed_latest(badness(y, self.bounded_), self.bounded_)):
                    i = members[j]
                    prefixes[i] = replace(prefixes[i], values=y[j, :-1])  # its lr is the whole run's: kept
                    dropped.add(i)
        batches: dict[tuple, list[int]] = defaultdict(list)
        for i, (prefix, horizon) in enumerate(zip(prefixes, horizons, strict=True)):
            if not 1 <= len(prefix.values) < horizon:
                raise LcpipeError(f"{prefix.name}: {len(prefix.values)} epochs observed of {horizon}; "
                                  "a forecast needs at least one observed and one unobserved epoch")
            config = dict(prefix.config or {})
            key = (len(prefix.values), horizon, repr(sorted(config.items())),
                   milestones_of(config, prefix.lr, horizon))
            batches[key].append(i)
        means: list = [None] * len(prefixes)
        stds: list = [None] * len(prefixes)
        for (_, horizon, _, marks), members in batches.items():
            config = dict(prefixes[members[0]].config or {})
            step = max(1, CHUNK // (len(self.history_) * horizon))
            for start in range(0, len(members), step):
                idx = members[start:start + step]
                y = np.stack([np.asarray(prefixes[i].values, dtype=float) for i in idx])
                mean, std = self._forecast_block(y, horizon, config, marks)
                for j, i in enumerate(idx):
                    cut = int(i in dropped)  # the held-back point's own forecast: the run has reported it
                    means[i], stds[i] = mean[j, cut:], std[j, cut:]
        return means, stds

    def _history_on(self, horizon: int, marks: tuple) -> np.ndarray:
        """Log-error of every history curve on this horizon's time axis, (curves, horizon), its
        step schedule aligned to `marks` (the run's milestones as fractions) where both have as
        many milestones; cached."""
        key = (horizon, marks)
        if key not in self._axes:
            self._axes[key] = self._axis_of(self.history_, self.milestones_, key)
        return self._axes[key]

    def _axis_of(self, curves: list[np.ndarray], milestones: list[tuple], key: tuple) -> np.ndarray:
        horizon, marks = key
        width = smoothing_width(self.smooth_epochs, horizon)
        return np.stack([centred_mean(badness(on_time_axis(h, horizon, marks, m), self.bounded_), width)
                         for h, m in zip(curves, milestones, strict=True)])

    def extended(self, sources: list[Series]) -> Auto:
        """This fitted forecaster with more finished curves appended (a study's completed trials):
        the time axes already computed for its curves are kept and only the new curves' are added,
        so a pruner refits after every completed trial at the cost of that trial alone. The final
        band's calibration stays the one learned at fit time."""
        kept = [settled_final(s, self.bounded_) for s in sources if _learnable(s)]
        new = copy.copy(self)
        new.history_ = self.history_ + [np.asarray(s.values, dtype=float) for s in kept]
        new.configs_ = self.configs_ + [dict(s.config or {}) for s in kept]
        added = [milestones_of(s.config or {}, s.lr, len(s.values)) for s in kept]
        new.milestones_ = self.milestones_ + added
        new._axes = {key: np.concatenate([axis, self._axis_of(new.history_[len(self.history_):], added, key)])
                     if kept else axis for key, axis in self._axes.items()}
        if self.weight_of_configs:  # the history's configs encoded once (on self), the new ones alone
            new._config_columns = self._columns().extended(new.configs_, new.configs_[len(self.configs_):])
        return new

    def without(self, index: int) -> Auto:
        """This fitted forecaster without history curve `index` (a pruner leaving a rival out of its own
        analogs): the time axes computed for the others are kept, so it costs a row deletion."""
        new = copy.copy(self)
        new.history_ = self.history_[:index] + self.history_[index + 1:]
        new.configs_ = self.configs_[:index] + self.configs_[index + 1:]
        new.milestones_ = self.milestones_[:index] + self.milestones_[index + 1:]
        new._axes = {key: np.delete(axis, index, axis=0) for key, axis in self._axes.items()}
        if self.weight_of_configs:
            new._config_columns = self._columns().without(new.configs_, index)
        return new

    @property
    def weight_of_configs(self) -> float:
        """config_weight for an accuracy-like history, config_weight_series for a loss or any series: every
        leave-one-family-out fold of dev-loss picks 3 (bench/forecast_quality.py's loss run), every fold of
        the accuracy corpus 1."""
        return self.config_weight if self.bounded_ else self.config_weight_series

    def _config_distance(self, config: dict) -> np.ndarray:
        """How unlike each history curve's config is the run's (config_distance, against all at once):
        0 where nothing is known. The history's configs are put in columns once per history."""
        if not config or not self.weight_of_configs:
            return np.zeros(len(self.history_))
        return self._columns().distance(config)

    def _config_discount(self, config: dict) -> np.ndarray:
        """The log-weight each analog loses for its config: config_weight x config_distance, plus the
        other hyper-parameters' distance (ConfigColumns.hyper_distance) at weight 1, so that choosing
        config_weight does not rescale the hyper-parameters' cap; nothing where configs are ignored."""
        if not config or not self.weight_of_configs:
            return np.zeros(len(self.history_))
        if not self.hyperparameters:
            return self.weight_of_configs * self._config_distance(config)
        cap = FOREIGN_DATASET if self.bounded_ else FOREIGN_DATASET_SERIES
        finals = np.array([h[-1] for h in self.history_]) if RELEVANCE_POWER else None
        return self.weight_of_configs * self._config_distance(config) + self._columns().hyper_distance(
            config, cap, finals)

    def _columns(self) -> ConfigColumns:
        """The history's configs as columns, built once per configs list (extended / without derive
        theirs from this one's)."""
        columns = getattr(self, "_config_columns", None)
        if columns is None or columns.configs is not self.configs_:
            columns = self._config_columns = ConfigColumns(self.configs_)
        return columns

    def _shift_recency(self, config: dict) -> float:
        """The half-life of the weights that set each analog's shift for a run of this config: the fitted one
        (sibling_recency_series for a loss among its own study's runs), but `recency` for a run that states a
        dataset other than the one the history's study states (a foreign history, however alike its runs)."""
        own, known = _recipe_of(config)[0], self.study_dataset_
        return self.recency if own is not None and known is not None and own != known else self.shift_recency_

    def _forecast_block(self, y: np.ndarray, horizon: int, config: dict, marks: tuple) -> tuple[np.ndarray, np.ndarray]:
        """y: (runs, k) prefixes of equal length -> (mean, std), each (runs, horizon - k)."""
        k = y.shape[1]
        hist = self._history_on(horizon, marks)  # (J, H)
        w = prefix_weights(k, self.recency)  # how the prefix is read: its level, its fit to each analog, its jitter
        ly = badness(y, self.bounded_)
        if (despiked := without_spikes(ly, self.bounded_)) is not ly:
            ly, y = despiked, from_badness(despiked, self.bounded_)
        resid = ly[:, None, :] - hist[None, :, :k]  # (R, J, k)
        # where each analog must move to meet the run: by its latest level, for a loss among its own study's runs
        half_life = self._shift_recency(config)
        shift = resid @ (w if half_life == self.recency else prefix_weights(k, half_life))
        distance = np.sqrt(((resid - shift[..., None]) ** 2) @ w)
        logw = -self.similarity * (distance / (distance.min(axis=1, keepdims=True) + 1e-4) - 1)
        logw = logw - self._config_discount(config)[None, :]
        weight = np.exp(logw - logw.max(axis=1, keepdims=True))
        weight /= weight.sum(axis=1, keepdims=True)
        analogs = from_badness(hist[None, :, k:] + shift[..., None], self.bounded_)  # (R, J, H - k)
        mean = np.einsum("rj,rjt->rt", weight, analogs)
        spread = np.einsum("rj,rjt->rt", weight, (analogs - mean[:, None, :]) ** 2)
        fitted = from_badness(hist[None, :, :k] + shift[..., None], self.bounded_)
        jitter = np.einsum("rj,rj->r", weight, ((y[:, None, :] - fitted) ** 2) @ w)
        std = self.interval_scale * np.sqrt(spread + jitter[:, None] + self.floor_**2)
        # far from every analog: lean on the run's own level (flat), with its own jitter as the band
        level = ly @ w  # (R,)
        envelope = hist[:, :k] @ w  # (J,)
        gap = level - envelope.max()  # > 0: more error than every analog had at this time
        lean = np.clip((gap - FAR_FROM) / FAR_SPAN, 0.0, 1.0)
        # not progressing as the analogs did over the same epochs, and behind every analog: its own level
        def lacking(head: slice, tail: slice) -> np.ndarray:  # the share of the analogs' progress it lacks
            own = ly[:, head].mean(axis=1) - ly[:, tail].mean(axis=1)  # log-error shed, (R,)
            analog = np.einsum("rj,j->r", weight, hist[:, head].mean(axis=1) - hist[:, tail].mean(axis=1))
            share = np.clip((1 - own / np.maximum(analog, 1e-6) - STALL_SHARE) / (1 - STALL_SHARE), 0.0, 1.0)
            return np.where(analog > STALL_MIN, share, 0.0)

        # its first quarter against its last points, never the same points: at three points the tail held the head, the
        # analogs' progress read as half of it, under STALL_MIN, and a trial flat at chance for three reports, pruned
        # there, was told it would end at 0.73 [0.63, 0.83] (issue 24; tests/test_red_team_dec6f.py)
        head = max(1, k // 4)
        whole = lacking(slice(0, head), slice(max(head, k - 5), k)) if k > head else np.zeros(len(y))
        stalled = whole * np.clip(gap / STALL_GAP, 0.0, 1.0)
        if self.bounded_ and k >= FLAT_MIN_POINTS and not any(m > k / horizon for m in marks):
            # ahead of them too, an accuracy flat since its prefix's first quarter and over its second half while
            # its analogs still climbed, with no lr drop to come that its config states: a run flat at 0.75 ahead
            # of its analogs was promised their climb, kept, and the best run stopped (red team). A loss keeps
            # its gate: its band would widen both ways, and on dev-loss a run flat so, its band reaching below
            # the best run's, stopped it (kept-set regret at 20 %: 0.00 -> 0.34 %). Counted anywhere on the first
            # test alone (whole), the accuracy headline's rmse/ref went 0.49 / 0.47 -> 0.41 / 0.27 at cutoffs
            # 20 / 40, all of it one LeNet study whose lr drops bring nothing, and a healthy leader on its plateau
            # before a stated lr drop was stopped (review); with both tests and the drop gate, the headline is
            # unchanged to two decimals
            recent = lacking(slice(k // 2 - 2, k // 2), slice(k - 3, k))
            stalled = np.maximum(stalled, np.minimum(whole, recent))
        # An accuracy lagging its analogs so is held near its own level (stuck at chance). A loss is not moved:
        # one that lags may be a slow run or sit on a plateau before an lr drop, and held flat it was forecast
        # worse (in-study on dev-loss, 20 %: 1.02 -> 0.93x of source_shift's RMSE; leave-one-family-out
        # unchanged); its band reaches down to its own level instead, as far as it looks stalled, so a dead run
        # (flat at ln C) is not forecast to recover with confidence.
        hedge = np.zeros_like(stalled) if self.bounded_ else np.where(stalled > lean, stalled, 0.0)
        if self.bounded_:
            lean = np.maximum(lean, stalled)
        lean, hedge = lean[:, None], hedge[:, None]
        if np.any(lean > 0) or np.any(hedge > 0):
            own = own_level(y, trend=not self.bounded_)
            own_jitter = np.sqrt(((y - own[:, None]) ** 2) @ w)
            frac = np.arange(1, horizon - k + 1)[None, :] / horizon
            own_std = np.sqrt(own_jitter[:, None] ** 2 + (OWN_DRIFT * np.sqrt(frac)) ** 2 + self.floor_**2)
            # measured, not kept: the spread of a mixture of the two (its variance holding their distance, so that a
            # run flat at chance for four points, which may be warming up, is not told 0.21 [0.18, 0.25]): a run of the
            # history's shape far below it was no longer stopped (tests/test_stop.py), a bad trial was pruned at step
            # 270 instead of 45 (tests/test_red_team_dec5_pass14.py), and the dev replay trained 59.4 % against 58.8
            mean = (1 - lean) * mean + lean * own[:, None]
            std = (1 - lean) * std + lean * own_std
            std = np.maximum(std, hedge * np.abs(mean - own[:, None]) / Z80)
        return mean, std


def prefix_weights(k: int, half_life: float) -> np.ndarray:
    """Weights of a k-point prefix's points, the latest 1 and halving every `half_life` points back, summing to 1."""
    w = 0.5 ** ((k - np.arange(1, k + 1)) / half_life)
    return w / w.sum()


def without_spikes(ly: np.ndarray, bounded: bool) -> np.ndarray:
    """(runs, k) prefixes in the forecast's space (lower is better) with each interior stretch of one or two points
    that stands out from both points around it, on the same side, by more than SPIKE replaced by the line between
    them: a transient loss spike (an eval on a bad batch, a recovered instability) says nothing about where the run
    ends, and one 1e6 evaluation mid-prefix moved a WMT run's forecast from 1.39 [0.82, 2.33] to 4.54 [0.0009,
    22315] (red team). Two points: on a step axis one spike is read onto the grid's two nearest points. The bad side
    first, then the good side of what is left: a clean evaluation between two spikes is below both until they are
    gone (review), and a glitch on the good side decides a forecast as much (red team: one 1e-6 evaluation of a loss
    near 2.1 took the worst run's forecast to 0.065 and kept it; a 0.99 of a run at 0.90 moved it from stop to
    keep). An accuracy's test treats errors under 1 % as 1 %: a run near 100 % flickers to 1.0 between 0.99s, which
    is no spike on either side (review). A monotone stretch never stands out from both sides; the latest point is
    never replaced here (unconfirmed_latest)."""
    out = ly
    for side in (1.0, -1.0):
        for width in (1, 2):
            k = out.shape[1]
            if k < width + 2:
                break
            test = side * (np.maximum(out, SPIKE_ERROR_FLOOR) if bounded else out)
            left, right = test[:, : k - width - 1], test[:, width + 1:]
            inner = np.stack([test[:, 1 + i: k - width + i] for i in range(width)])  # (width, runs, k - width - 1)
            spike = np.minimum(inner - left, inner - right).min(axis=0) > SPIKE
            if not spike.any():
                continue
            out = out.copy()
            for r, start in zip(*np.nonzero(spike), strict=True):
                a, b = out[r, start], out[r, start + width + 1]
                out[r, start + 1: start + width + 1] = a + (b - a) * np.arange(1, width + 1) / (width + 1)
    return out


def unconfirmed_latest(ly: np.ndarray, bounded: bool) -> np.ndarray:
    """(runs,) whether each prefix's latest point (the forecast's space, lower is better) stands out on the bad side
    of every one of the LATEST_BEFORE points before it by more than SPIKE (an accuracy's errors read as at least 1 %,
    as without_spikes reads them): a spike, or a divergence starting, which one more evaluation tells apart. Auto
    forecasts such a run from the points before it (_many); ForecastPruner puts a check on it off a report."""
    k = ly.shape[1]
    if k < 2:
        return np.zeros(ly.shape[0], dtype=bool)
    test = np.maximum(ly, SPIKE_ERROR_FLOOR) if bounded else ly
    return test[:, -1] - test[:, max(0, k - 1 - LATEST_BEFORE): k - 1].max(axis=1) > SPIKE


def settled_final(s: Series, bounded: bool) -> Series:
    """The finished curve with a final evaluation that stands out on the bad side of each of the LATEST_BEFORE ones
    before it by more than SPIKE, and turns from the change before it by as much, read as the one before it: nothing
    after it confirms it, and the final is what every forecast learns from the curve, as an analog's end and as the
    truth its band is calibrated on (red team: one of 120 LoRA history curves with its last loss x5 widened every
    run's band 2-4x and reordered P(ends best), silently). The turn keeps a loss rising x4 an evaluation, which ends
    so on its own trend. Not the good side: a last lr drop, a grokking jump, a reward solved at the end and a 2-point
    curve's gain are real finals there (review; a loss's missed last evaluation logged as 0 is logs.missed_zero's).
    No final of the dev, dev-loss, LoRA or HPO-table corpora is read so (bench/RESULTS.md)."""
    values = np.asarray(s.values, dtype=float)
    if len(values) < 2:
        return s
    test = badness(values, bounded)
    test = np.maximum(test, SPIKE_ERROR_FLOOR) if bounded else test
    before = test[max(0, len(test) - 1 - LATEST_BEFORE): -1]
    turn = test[-1] - test[-2] - (test[-2] - test[-3] if len(test) >= 3 else 0.0)
    if test[-1] - before.max() <= SPIKE or turn <= SPIKE:
        return s
    return replace(s, values=np.append(values[:-1], values[-2]))


def own_level(y: np.ndarray, trend: bool, tail: int = 5) -> np.ndarray:
    """Each run's level now (internal values, higher is better; y: (runs, k)): the mean of its last
    `tail` points; with `trend`, where it is still improving, the end of the straight line through
    them. The mean alone lags an improving loss: one falling 30, 20, 15, 12, 10 was held at 16 (red
    team). An accuracy keeps the mean: far below its analogs it is held near where it stands, and the
    line's end, above a saturating curve's last point, pushed a run one epoch from its end at 0.79 to a
    forecast of 0.85 and kept it against a best of 0.96 (tests/test_stop.py)."""
    t = min(y.shape[1], tail)
    last = y[:, -t:]
    if not trend or t < 3:
        return last.mean(axis=1)
    x = np.arange(t) - (t - 1) / 2
    slope = (last - last.mean(axis=1, keepdims=True)) @ x / (x @ x)
    return np.maximum(last.mean(axis=1), last.mean(axis=1) + slope * x[-1])


def _learnable(s: Series) -> bool:
    """A history curve to learn from: it has points, and none is NaN or inf (a run that diverged)."""
    return len(s.values) > 0 and bool(np.all(np.isfinite(np.asarray(s.values, dtype=float))))


def _clusters(kept: list[Series]) -> tuple[dict[tuple, list[int]], bool]:
    """The history's clusters (the runs of one stated dataset and arch and length; where a run states
    neither, of its study folder and length, or of one length where that is unknown: no near-copy of a run
    is its analog when the calibration holds a cluster out), and whether the history is siblings: one
    study's runs, exchangeable with a run of their kind (one cluster, or runs that state one dataset and
    arch, or sit in one study folder, whatever their lengths (AlgoPerf's runs stop at a target) and beside
    runs that state none (a sidecar missing)). A run that states no recipe takes the one its study folder's other
    runs state, or else its folder (Series.study; unknown for a DataFrame or a dict: its length alone): a corpus
    of studies whose sidecars name no dataset (a LoRA sweep's config is its lr, rank, ...) is several studies,
    not one, and calibrated as one its bands were too narrow for another study's runs (the LoRA sweeps with the
    dataset taken out of their sidecars, `lcpipe forecast --history <the other three tasks>`: final cov80 0.56)."""
    recipes = [_recipe(s) for s in kept]
    stated_in: dict[str, set] = defaultdict(set)  # study folder -> the recipes its runs state
    for s, r in zip(kept, recipes):
        if any(r) and s.study is not None:
            stated_in[s.study].add(r)
    # a run that states none takes the one recipe its folder's runs state (a sidecar missing), else its folder
    recipes = [r if any(r) or s.study is None else
               next(iter(stated_in[s.study])) if len(stated_in[s.study]) == 1 else (("study", s.study), None)
               for s, r in zip(kept, recipes)]
    clusters: dict[tuple, list[int]] = defaultdict(list)
    for i, (s, recipe) in enumerate(zip(kept, recipes)):
        clusters[(*recipe, len(s.values)) if any(recipe) else (len(s.values),)].append(i)
    stated = {r for r in recipes if any(r)}
    return clusters, len(clusters) < 2 or len(stated) == 1


def _one_study(kept: list[Series], siblings: bool) -> bool:
    """Whether the history is one study's runs: siblings, or runs that all state one and the same dataset,
    whatever their archs (a study comparing networks on one task)."""
    datasets = {_recipe(s)[0] for s in kept}
    return siblings or (len(datasets) == 1 and None not in datasets)


def _recipe(s: Series) -> tuple:
    """(dataset, arch) as the run states them, each hashable (a sidecar may hold a list)."""
    return _recipe_of(s.config or {})


def one_dataset_recipes(configs: list[dict]) -> set[tuple]:
    """The (dataset, arch) pairs of a history whose every run states one and the same dataset (_plain_recipe), else
    none: a history where some run states no dataset is calibrated folder by folder, against errors that may be a
    foreign dataset's already (review: one folder stating cifar10 beside others stating nothing widened every band to
    2.4 times the width of the same history stating nothing)."""
    recipes = {_plain_recipe(c) for c in configs}
    datasets = {d for d, _ in recipes}
    return recipes if len(datasets) == 1 and None not in datasets else set()


def _stranger(run: tuple, recipes: set[tuple]) -> bool:
    """Whether a run is foreign to a history of one dataset (its (dataset, arch) `recipes`), whose calibration never
    saw a foreign run's errors: the run states another dataset, or that dataset and another arch beside a history of
    one recipe. A run that states no dataset is taken for one of the history's (a pruner's trial whose params name
    an arch too); names are compared as _plain_recipe spells them."""
    dataset, arch = run
    (own_dataset,) = {d for d, _ in recipes}
    if dataset is None:
        return False
    if dataset != own_dataset:
        return True
    if len(recipes) != 1:
        return False
    ((_, own_arch),) = recipes
    return arch is not None and own_arch is not None and arch != own_arch


def _plain_recipe(config: dict) -> tuple:
    """(dataset, arch) as a config states them, lower-case letters and digits only, an empty one as none: `CIFAR-10`,
    `cifar10 `, `["cifar10"]` and `cifar10` are one dataset, `ResNet34` and `resnet34` one arch (review: each was read
    as a stranger, its band widened threefold)."""
    return tuple(re.sub(r"[^a-z0-9]", "", str(v).lower()) or None if v is not None else None
                 for v in _recipe_of(config))


def _recipe_of(config: dict) -> tuple:
    """(dataset, arch) as a config states them, each hashable (a sidecar may hold a list)."""
    return tuple(v if v is None or isinstance(v, str | int | float | bool) else repr(v)
                 for v in (config.get("dataset"), config.get("arch")))


# the fractions of a history curve's length its held-out forecasts calibrate from. Until 2026-12-07 they stopped
# at 0.4, and a forecast from later (`lcpipe evaluate --cutoffs 40` on 50-evaluation runs) took 0.4's width, which
# its smaller errors did not need: final cov80 at 80 % of the run 0.94 on the accuracy corpus (foreign history) and
# in-study, 0.93-0.95 on the LoRA sweeps in-study; at 60 and 80 % a loss's foreign band was too narrow (0.75, 0.68).
# With 0.6 and 0.8: 0.87, 0.86, 0.78-0.93 (3 of 4 tasks in 0.75-0.85), and 0.77 / 0.79 (bench/RESULTS.md, "Bands
# late in a run"). ForecastPruner keeps PRUNER_CALIBRATION_FRACTIONS, with which its rule was tuned: with the late
# ones its replays trained more for no less regret (dev 58.8 -> 59.5 %, LoRA 33.3 / 0.222 -> 34.4 / 0.243), and a
# LoRA study's would-be best trial was pruned at 76 % of its run.
CALIBRATION_FRACTIONS = (0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8)
PRUNER_CALIBRATION_FRACTIONS = (0.025, 0.05, 0.1, 0.2, 0.4)
EARLY_FRACTION = 0.4  # a calibration must hold one fraction up to this (see _calibrated)
# a history prefix calibrates only from this many points: as few as the pruner's first check (MIN_WARMUP)
# and lcpipe's cutoffs (window + 1) ever see. With 1 and 2 allowed, dev-loss's final cov80 was
# 0.91 / 0.79 / 0.76 at 10 / 20 / 40 %; with 3, and final_quantile_series chosen anew (0.85, 12 of 16
# families), 0.79 / 0.77 / 0.81 held out; accuracy 0.82 / 0.79 / 0.78 / 0.80 -> 0.78 / 0.79 / 0.79 / 0.84
# (python bench/forecast_quality.py [--corpus ../shared/curves/dev-loss --metric val_loss --percent])
CALIBRATION_MIN_POINTS = 3
# A history of one cluster, or of one stated dataset and arch in runs of several lengths (the paper's
# in-study protocol: a study's other runs), calibrates on its own runs, SIBLING_FOLDS folds held out in
# turn (every run its own fold up to 10 runs; 10 fits at most; at most SIBLING_HELD_OUT runs a fold are
# held out, so a history of thousands costs no more than 200 forecasts), at the nominal 80 %: a target
# among its siblings is no foreign family. It may narrow the model's own band by half at most: a few
# siblings that agree by chance (or sit flat at chance, errors of 0) would otherwise shrink it to
# nothing, and the pruner would trust it. Before, such a history had no calibration (or, at several
# lengths, a foreign one), and the in-study final cov80 was 0.88 / 0.89 / 0.83 on dev-loss at 10 / 20 /
# 40 % and 0.87 / 0.83 / 0.78 / 0.73 on the accuracy corpus at cutoffs 5 / 10 / 20 / 40; now 0.82 / 0.85 /
# 0.82 and 0.84 / 0.79 / 0.82 / 0.82 (python bench/forecast_quality.py [--corpus ...], the in-study
# table). Measured, not kept: no bound, 0.85 / 0.81 / 0.81 and 0.77 / 0.74 / 0.82 / 0.82 on dev-loss
# with its lengths still apart (and a best trial pruned among flat siblings); the split-conformal
# (n + 1) correction, about 0.03-0.05 wider (a scratch harness over the bench's backtest: a study holds
# 5-40 held-out errors a fraction)
SIBLING_FOLDS, SIBLING_HELD_OUT, SIBLING_QUANTILE = 10, 20, 0.8
# A history of one dataset is calibrated on errors within that dataset (its own runs' folds, or its archs held out in
# turn). A run of another dataset (or of another arch, beside a history of one recipe) errs as a foreign family's
# does, several times more: forecast from one other family of the dev corpora, the final band held 41-50 % of such
# runs' finals (accuracy) and 27-36 % (loss), and the stop rule's kept set lost 0.45-0.56 points (0.8-1.6 % of the
# loss). Its calibrated band is widened by this factor (_stranger), for an accuracy-like metric and for a loss or any
# series, each chosen leave-one-family-out on those forecasts (the factor closest to 80 % on the pairs without the
# family): 3 by 8 of 13 dev families (each at the factor chosen without it: cov80 0.75 / 0.83 / 0.82 / 0.81 at
# cutoffs 5 / 10 / 20 / 40), 7 by 12 of 16 dev-loss families (0.81 / 0.77 / 0.82 at 10 / 20 / 40 %); the kept set
# then loses 0.12-0.16 points (0.00-0.19 % of the loss), stopping 13-27 % of the runs (3-8 %) where it stopped 35-61 %
# (30-44 %). python bench/one_family_history.py; bench/RESULTS.md, "A history of one dataset".
FOREIGN_RECIPE = 3.0
FOREIGN_RECIPE_SERIES = 7.0


# A history of a few curves shows little of how far a new run can land: its analogs' spread is a sample of 3-4.
# Such a band is drawn at least as wide as a prediction interval from n samples, (t / Z80) x sqrt(1 + 1/n) with
# Student's t at 90 % and n - 1 degrees of freedom (T90: 1-30; beyond, the normal's); its held-out errors count from
# FEW_MIN_ERRORS a fraction, from FEW_MIN_FOLDS folds (clusters, or sibling folds) held out in turn
T90 = (3.078, 1.886, 1.638, 1.533, 1.476, 1.440, 1.415, 1.397, 1.383, 1.372, 1.363, 1.356, 1.350, 1.345, 1.341,
       1.337, 1.333, 1.330, 1.328, 1.325, 1.323, 1.321, 1.319, 1.318, 1.316, 1.315, 1.314, 1.313, 1.311, 1.310)
FEW_MIN_ERRORS = 2
FEW_MIN_FOLDS = 3


LAST_FRACTION = 0.9  # the latest calibration fraction: a history curve of 10 points keeps its last one held out


def _fractions(given) -> tuple[float, ...]:
    """calibration_fractions as a tuple of floats, or one line naming what is wrong: an unsorted set made the
    band's width curve run backwards, a 0 put -inf in it, and 1 or more calibrated nothing (review); so did 0.999999,
    whose prefix of any history curve shorter than half a million points is the whole curve (red team): at most
    LAST_FRACTION, which holds out the last point of a curve of 10."""
    try:
        values = tuple(float(f) for f in given)
        ok = bool(values) and all(0 < f <= LAST_FRACTION for f in values) and all(
            a < b for a, b in zip(values, values[1:]))
    except (TypeError, ValueError):
        ok = False
    if not ok or isinstance(given, str | bytes):
        raise LcpipeError(f"calibration_fractions={given!r:.60}: give increasing fractions of the run in (0, 1), "
                          f"at most {LAST_FRACTION}, e.g. {CALIBRATION_FRACTIONS}")
    return values


def few_curves_factor(n: int) -> float:
    """The least quantile of |final error| / std a history of `n` curves is calibrated at, over Z80: the
    small-sample prediction interval's factor over the normal's (one curve is read as two)."""
    n = max(int(n), 2)
    t = T90[n - 2] if n - 1 <= len(T90) else Z80
    return float(t / Z80 * np.sqrt(1 + 1 / n))


def history_resolution(lengths: list[int]) -> tuple[float, float]:
    """(the median length of a history's curves, the share of a run at which curves of that length hold
    CALIBRATION_MIN_POINTS evaluations). Before that share nothing checked a forecast from the history: its analogs'
    prefixes there are interpolated between their first evaluations (live.early_note names runs seen before it;
    ForecastPruner makes no check before it until the study's own errors decide)."""
    median = float(np.median(lengths))
    return median, CALIBRATION_MIN_POINTS / median
SPIKE = 1.0  # how far (log units: a loss x e, an accuracy's error x e) a prefix point stands out from both neighbours
SPIKE_ERROR_FLOOR = float(np.log(0.01))  # ... an accuracy's error read as at least 1 % there
LATEST_BEFORE = 3  # the points before a prefix's latest that it must stand out from, to wait for the next
FAR_FROM = 0.5  # log-error beyond the analogs' envelope where the run's own level starts to count
FAR_SPAN = 1.0  # ... and by how much further it counts alone
STALL_GAP = 0.1  # log-error below the worst analog from which a stalled run counts as stalled
FLAT_MIN_POINTS = 6  # an accuracy's prefix needs this many points to read it as flat ahead of its analogs
# a run counts as stalled by the share of its analogs' progress it lacks beyond
# STALL_SHARE (0: any lack; 0.5: from half), chosen leave-one-family-out by bench/forecast_quality.py
STALL_SHARE = 0.5
STALL_MIN = 0.05  # analogs shedding less log-error than this over the prefix say nothing about stalling
OWN_DRIFT = 0.03  # std of a far run's own final around its current level, per sqrt(fraction of the run)
OPTIMIZER_GROUPS = {"sgd": "sgd", "sgd_nesterov": "sgd", "momentum": "sgd"}
# what the other hyper-parameters of a run of another dataset count (and the most those of a sibling
# count), in log-weight, for an accuracy-like metric and for a loss or any series; chosen leave-one-family-
# out by bench/forecast_quality.py's constants sections: 1 by 12 of 13 dev families (0 is the forecaster
# before them: final RMSE / best reference 0.62 0.60 0.51 0.49 -> 0.59 0.59 0.49 0.47 at 5/10/20/40
# epochs), 4 by 15 of 16 dev-loss families (--corpus ../shared/curves/dev-loss --metric val_loss --percent:
# 0.63 0.64 0.70 -> 0.61 0.51 0.61 at 10/20/40 %)
FOREIGN_DATASET = 1.0
FOREIGN_DATASET_SERIES = 4.0
RELEVANCE_POWER = 1.0  # hyper_distance weighs each hyper-parameter by its relevance to the finals (0: all alike)
RELEVANCE_MIN = 5  # ... learned from at least this many history runs of the run's dataset that state it
# config keys that are no hyper-parameter: ids, seeds, bookkeeping, and what other code reads (lr,
# optimizer, schedule, dataset, arch: config_distance; milestones, epochs, steps: time axes)
NOT_HYPER = frozenset({"lr", "optimizer", "schedule", "dataset", "arch", "milestones", "epochs", "steps",
                       "max_steps", "max_epochs", "eval_every", "eval_schedule", "eval_interval", "metric",
                       "seed", "rng_seed", "trial", "study", "run", "name", "id", "number", "path", "seconds",
                       "time", "duration", "host", "device", "git", "commit", "workload"})


def milestones_of(config: dict, lr: np.ndarray | None, n: int) -> tuple:
    """The run's lr drops as fractions of its planned length `n`: those its lr column shows and,
    after the last epoch that column covers (a run still training), those its config's `milestones`
    (epochs) of `epochs` (or n) plan. Fractions of `n`, not of the column's length: for a run 40
    epochs into 100, a drop at epoch 30 is at 0.3. A drop is a step: lr falls below half its previous
    value after holding (or rising) the epoch before, so the last epochs of a cosine schedule, whose
    lr halves from one tiny value to the next, are no drop."""
    seen, drops = 0, ()
    if lr is not None and len(lr) >= 2:
        lr = np.asarray(lr, dtype=float)
        seen = len(lr)
        held = np.concatenate([[True], lr[1:-1] >= 0.9 * lr[:-2]])  # epoch i-1 held the lr of epoch i-2
        index = np.flatnonzero((lr[1:] < 0.5 * lr[:-1]) & held) + 1  # 0-based index of the first epoch at the lower lr
        drops = tuple(round(float(d) / n, 4) for d in index)
    marks = config.get("milestones")
    planned: tuple = ()
    if usable_milestones(marks) and not smooth_schedule(config):
        epochs = config.get("epochs")
        epochs = epochs if _is_number(epochs) and epochs > 0 else n
        # sorted and once each, as MultiStepLR treats them: [75, 50] is [50, 75]
        planned = tuple(sorted({round(float(m) / epochs, 4) for m in marks
                                if 0 < m < epochs and (not drops or m > seen)}))
    return drops + planned


def _is_number(value) -> bool:
    """A real number, not a bool (True is an int to Python, not an epoch to a user)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


# schedules with no lr steps: a config naming one (its name, lower case and letters and digits only, holds one of
# these and no STEPPED word) and `milestones` too (a template's leftover) has no drops there (red team:
# {"schedule": "cosine", "milestones": [50, 75]} was forecast as a step schedule; PyTorch's CosineAnnealingLR, HF's
# constant_with_warmup, cosine_with_min_lr likewise)
SMOOTH_SCHEDULES = ("cos", "linear", "constant", "exponential", "onecycle", "1cycle", "polynomial", "inversesqrt",
                    "rsqrt")
STEPPED = ("piecewise", "multi", "plateau", "staircase")  # and "step" (smooth_schedule)
# words before "step(s)" that make it a unit of time, not a step schedule (and a number: "500 steps")
UNIT_WORDS = ("per", "each", "every", "by", "warmup", "over", "for", "of", "in", "after")
STEP_WORDS = ("step", "steps", "steplr", "multistep", "multisteplr", "stepwise", "stepdecay")  # "stepped per
# iteration" says how often, as "per step" does (review)


def smooth_schedule(config: dict) -> bool:
    """Whether the config names a schedule without lr steps (SMOOTH_SCHEDULES), so its milestones are not read. Its
    words (split at separators and case: MultiStepLR is multi, step, lr) name steps by STEPPED, or by "step" itself
    unless it counts steps or says how often the lr is set ("per step", "500 warmup_steps", "over 100k steps";
    UNIT_WORDS; red team: "linear warmup then cosine, per step" read as a step schedule)."""
    schedule = config.get("schedule")
    return isinstance(schedule, str) and _smooth_name(schedule)


@functools.lru_cache(maxsize=1024)
def _smooth_name(schedule: str) -> bool:
    """smooth_schedule of one name, once: every forecast of a run asks it again (batched by config)."""
    words = [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", schedule)]
    name = "".join(words)
    stepped = any(w in name for w in STEPPED) or any(
        w in STEP_WORDS and not (w in ("step", "steps") and i and (words[i - 1] in UNIT_WORDS or words[i - 1].isdigit()
                                                                  or words[i - 1] in ("k", "m") and i > 1
                                                                  and words[i - 2].isdigit()))
        for i, w in enumerate(words))
    return any(w in name for w in SMOOTH_SCHEDULES) and not stepped


def usable_milestones(marks) -> bool:
    """Whether a config's `milestones` is read (milestones_of): a non-empty list of whole numbers of epochs, as
    MultiStepLR takes them (red team: [0.5, 0.75], fractions of the run, were read as drops at epochs 0.5 and 0.75).
    The CLI names the config keys it ignores by the same test (live.usable_value)."""
    return isinstance(marks, list) and bool(marks) and all(_is_number(m) and m >= 1 and float(m).is_integer()
                                                           for m in marks)


class ConfigColumns:
    """Many configs as columns of codes, so that config_distance of one config against all of them is a
    few array operations (a pruner's study forecasts thousands of times against hundreds of analogs)."""

    KEYS = ("schedule", "dataset", "arch")

    def __init__(self, configs: list[dict]):
        self.configs = configs
        self.codes: dict[str, dict] = {}
        self.columns, self.log_lr = self._rows(configs)
        self.hyper = self._hyper_rows(configs)
        self._relevances: dict[int, dict[str, float]] = {}  # dataset code -> relevance(), for this history

    def _rows(self, configs: list[dict]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        rows = [_scalars(c) for c in configs]
        columns = {key: self._encode(key, [r.get(key) or None for r in rows]) for key in ("optimizer", *self.KEYS)}
        groups = [OPTIMIZER_GROUPS.get(r["optimizer"]) if r.get("optimizer") else None for r in rows]
        columns["group"] = self._encode("group", groups)
        return columns, np.array([_log_lr(r.get("lr")) for r in rows], dtype=float)

    def extended(self, configs: list[dict], added: list[dict]) -> ConfigColumns:
        """These columns for `configs`, which are this one's configs followed by `added`: only the added
        rows are encoded (Auto.extended: a pruner's completed trials on a big history)."""
        new = copy.copy(self)  # the codes are shared: they only grow, and a code means one value
        new.configs, new._relevances = configs, {}
        columns, log_lr = self._rows(added)
        new.columns = {k: np.concatenate([v, columns[k]]) for k, v in self.columns.items()}
        new.log_lr = np.concatenate([self.log_lr, log_lr])
        added_hyper = self._hyper_rows(added)
        old_n, new_n = len(self.log_lr), len(added)
        new.hyper = {key: tuple(np.concatenate([a, b]) for a, b in zip(
            self.hyper.get(key, self._no_hyper(old_n)), added_hyper.get(key, self._no_hyper(new_n)), strict=True))
            for key in {**self.hyper, **added_hyper}}
        return new

    def without(self, configs: list[dict], index: int) -> ConfigColumns:
        """These columns for `configs`, which are this one's without row `index` (Auto.without)."""
        new = copy.copy(self)
        new.configs, new._relevances = configs, {}
        new.columns = {k: np.delete(v, index) for k, v in self.columns.items()}
        new.log_lr = np.delete(self.log_lr, index)
        new.hyper = {key: tuple(np.delete(a, index) for a in arrays) for key, arrays in self.hyper.items()}
        return new

    @staticmethod
    def _no_hyper(n: int) -> tuple[np.ndarray, np.ndarray]:
        return np.full(n, np.nan), np.full(n, -1)

    def _hyper_rows(self, configs: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """key -> (number or NaN, text code or -1) per config, for every hyper-parameter (hyper_values)
        any of them states."""
        rows = [hyper_values(c) for c in configs]
        out = {}
        for key in dict.fromkeys(k for r in rows for k in r):
            values = [r.get(key) for r in rows]
            numbers = np.array([v if isinstance(v, float) else np.nan for v in values], dtype=float)
            out[key] = numbers, self._encode(f"hyper:{key}", [v if isinstance(v, str) else None for v in values])
        return out

    def relevance(self, finals: np.ndarray, same: np.ndarray) -> dict[str, float]:
        """Each hyper-parameter's weight in hyper_distance, learned from the history runs of the run's dataset
        (`same`) and their `finals`: how much of the finals' spread it explains (Spearman's rho squared for a
        number, in decades where it spans more than one; the correlation ratio squared for text), corrected
        for chance as an adjusted R^2, its square root over the keys' mean, to the power RELEVANCE_POWER. A
        key stated by fewer than RELEVANCE_MIN of those runs, with one value among them, or (text) nearly one
        a run, keeps weight 1; where no key explains anything beyond chance, all keep 1."""
        raw: dict[str, float] = {}
        for key, (numbers, codes) in self.hyper.items():
            known = same & (np.isfinite(numbers) | (codes >= 0))
            if known.sum() < RELEVANCE_MIN:
                continue
            y = finals[known]
            if np.isfinite(numbers[known]).all():
                x = numbers[known]
                if x.min() > 0 and x.max() > 10 * x.min():
                    x = np.log10(x)
                if np.ptp(x) == 0 or np.ptp(y) == 0:
                    continue
                share, levels = float(np.corrcoef(_ranks(x), _ranks(y))[0, 1]) ** 2, 2
            else:
                groups = codes[known]
                levels = len(np.unique(groups))
                if levels < 2 or levels >= len(y) - 1 or np.ptp(y) == 0:
                    continue  # one value, or about one a run (a run name, an output folder): nothing to learn
                between = sum((groups == g).sum() * (y[groups == g].mean() - y.mean()) ** 2 for g in np.unique(groups))
                share = float(between / (len(y) * y.var()))
            # the share of the finals' spread it explains, corrected for chance (adjusted R^2 with levels - 1
            # terms): raw, a text key of 4 values beside pure-noise finals weighed 1.5, a number 0.75 (review)
            n = len(y)
            adjusted = 1 - (1 - share) * (n - 1) / (n - levels) if n > levels else 0.0
            raw[key] = float(np.sqrt(max(adjusted, 0.0))) if np.isfinite(adjusted) else 0.0
        mean = float(np.mean(list(raw.values()))) if raw else 0.0
        return {k: (r / mean) ** RELEVANCE_POWER for k, r in raw.items()} if mean > 0 else {}

    def hyper_distance(self, config: dict, cap: float, finals: np.ndarray | None = None) -> np.ndarray:
        """How unlike each history config's other hyper-parameters are the run's (the module doc): among
        configs of the run's dataset, the sum over the run's hyper-parameters of their difference as a
        share of that dataset's range (decades where it spans more than one), at most `cap`; `cap` for
        a config of another dataset; 0 everywhere when `cap` is 0 or the run states none."""
        n = len(self.log_lr)
        stated = hyper_values(config)
        if not cap or not stated:  # none to compare: a run of another dataset is no further than before
            return np.zeros(n)
        dataset = self._code("dataset", _scalars(config).get("dataset") or None)
        # -1 (the run states none) matches the configs that state none; -2 (a dataset no config names) none
        same = self.columns["dataset"] == dataset if dataset != -2 else np.zeros(n, dtype=bool)
        total = np.zeros(n)
        weights = {} if finals is None else self._relevance_for(dataset, finals, same)
        for key, value in stated.items():
            numbers, codes = self.hyper.get(key, self._no_hyper(n))
            weight = weights.get(key, 1.0)
            if isinstance(value, str):
                code = self._code(f"hyper:{key}", value) if f"hyper:{key}" in self.codes else -2
                total += weight * ((codes >= 0) & (codes != code))
                continue
            known = np.isfinite(numbers) & same
            if not known.any():
                continue
            pool = numbers[known]  # the history's range of it, on the run's dataset
            if pool.min() > 0 and pool.max() > 10 * pool.min():  # spans more than a decade: compare in decades
                if value <= 0:  # no decade holds it: unlike every one
                    total += known
                    continue
                pool, there, here = np.log10(pool), np.log10(np.where(known, numbers, 1.0)), np.log10(value)
            else:
                there, here = np.where(known, numbers, 0.0), value
            span = pool.max() - pool.min()
            if span > 0:
                total += weight * np.where(known, np.minimum(1.0, np.abs(there - here) / span), 0.0)
        return np.where(same, np.minimum(total, cap), cap)

    def _relevance_for(self, dataset: int, finals: np.ndarray, same: np.ndarray) -> dict[str, float]:
        """relevance() of the runs of one dataset, once per dataset (these columns are for one history)."""
        cache = self._relevances
        if dataset not in cache:
            cache[dataset] = self.relevance(finals, same)
        return cache[dataset]

    def _encode(self, key: str, values: list) -> np.ndarray:
        """Codes of equal values (== as config_distance compares them: 1 == 1.0), -1 where missing."""
        codes = self.codes.setdefault(key, {})
        return np.array([-1 if v is None else codes.setdefault(v, len(codes)) for v in values], dtype=int)

    def _code(self, key: str, value) -> int:
        return -1 if value is None else self.codes[key].get(value, -2)  # -2: a value no column holds

    def distance(self, config: dict) -> np.ndarray:
        """config_distance(config, c) for each c, as an array."""
        q = _scalars(config)
        d = np.zeros(len(self.configs))
        opt = self._code("optimizer", q.get("optimizer") or None)
        if opt != -1:
            column = self.columns["optimizer"]
            differ = (column >= 0) & (column != opt)
            group = self._code("group", OPTIMIZER_GROUPS.get(q["optimizer"]))
            related = (group >= 0) & (self.columns["group"] == group)
            d += np.where(differ, np.where(related, 0.5, 1.0), 0.0)
        for key in self.KEYS:
            code = self._code(key, q.get(key) or None)
            if code != -1:
                column = self.columns[key]
                d += (column >= 0) & (column != code)
        lr = _log_lr(q.get("lr"))
        if np.isfinite(lr):
            known = np.isfinite(self.log_lr)
            d[known] += np.abs(self.log_lr[known] - lr)
        return d


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their mean rank (Spearman's rho with tied values: a LoRA rank of 1, 2, 4, ...)."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return (first + (counts - 1) / 2)[inverse]


def hyper_values(config: dict) -> dict[str, float | str]:
    """A config's other hyper-parameters (NOT_HYPER left out, and keys naming a seed): finite numbers as
    floats, text and booleans as text; lists, maps and non-finite numbers are unknown."""
    out: dict[str, float | str] = {}
    for key, value in config.items():
        if key in NOT_HYPER or "seed" in key or _bookkeeping(key):
            continue
        if isinstance(value, bool):
            out[key] = str(value)
        elif isinstance(value, int | float) and np.isfinite(value):
            out[key] = float(value)
        elif isinstance(value, str) and value:
            out[key] = value
    return out


# config keys that are bookkeeping, not hyper-parameters: where a run writes, logs and reports, and under what name
# (Hugging Face's TrainingArguments, Lightning, nanoGPT, W&B), compared with case, '_' and '-' ignored
BOOKKEEPING = frozenset(k.replace("_", "") for k in (
    "output_dir", "overwrite_output_dir", "logging_dir", "log_dir", "out_dir", "save_dir", "checkpoint_dir",
    "cache_dir", "run_name", "experiment_name", "wandb_project", "wandb_run_name", "wandb_entity", "wandb_log",
    "report_to", "hub_model_id", "hub_token", "hub_strategy", "push_to_hub", "resume_from_checkpoint",
    "logging_steps", "logging_strategy", "logging_first_step", "log_interval", "save_steps", "save_strategy",
    "save_total_limit", "save_interval", "start_time", "timestamp", "date",
    # scikit-learn's, XGBoost's and LightGBM's seed and chatter (a red team: get_params() sidecars that differed in
    # random_state alone moved a forecast by 26 % and flipped two decisions)
    "random_state", "verbose", "verbosity", "n_jobs", "nthread", "num_threads", "warm_start", "silent"))


def _bookkeeping(key: str) -> bool:
    """A key no run's final depends on: one of BOOKKEEPING, or inside a private section (W&B's `_wandb.start_time`;
    a section's own private key such as Hydra's `optimizer._target_` counts). Red team: W&B's start time and HF's
    output_dir moved forecasts; review: a rule by words (dir, path, name, time) dropped drop_path_rate."""
    parts = key.split(".")
    return parts[0].startswith("_") and len(parts) > 1 or \
        parts[-1].lower().replace("_", "").replace("-", "") in BOOKKEEPING


def _scalars(config: dict) -> dict:
    return {k: v for k, v in config.items() if isinstance(v, str | int | float | bool)}  # a list: unknown


def _log_lr(lr) -> float:
    """log10 of a learning rate; NaN for what is none (a bool, text, 0, a negative or non-finite number)."""
    ok = isinstance(lr, int | float) and not isinstance(lr, bool) and 0 < lr < np.inf
    return float(np.log10(lr)) if ok else np.nan


def config_distance(a: dict, b: dict) -> float:
    """How unlike two runs' configs are: optimizer (a related one half), schedule, dataset, arch
    differing count 1 each, the initial lr 1 per decade; a key either lacks counts nothing."""
    d = 0.0
    a, b = _scalars(a), _scalars(b)  # a list: unknown
    if a.get("optimizer") and b.get("optimizer") and a["optimizer"] != b["optimizer"]:
        d += 0.5 if OPTIMIZER_GROUPS.get(a["optimizer"]) == OPTIMIZER_GROUPS.get(b["optimizer"], "?") else 1.0
    for key in ConfigColumns.KEYS:
        if a.get(key) and b.get(key) and a[key] != b[key]:
            d += 1.0
    la, lb = _log_lr(a.get("lr")), _log_lr(b.get("lr"))
    if np.isfinite(la) and np.isfinite(lb):
        d += abs(la - lb)
    return d
