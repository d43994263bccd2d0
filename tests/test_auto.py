"""The default forecaster `auto`: analogs from finished curves, moved to the run in log-error space."""

from __future__ import annotations

import numpy as np
import pytest

from lcpipe.curve import Series
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.predictors import auto as auto_module
from lcpipe.forecasting.predictors.auto import Auto, milestones_of
from tests.helpers import learning_curve


def auto(**overrides) -> Auto:
    settings = {"recency": 5.0, "similarity": 8.0, "smooth_epochs": 1, "interval_scale": 1.0, **overrides}
    return Auto(**settings)


def test_a_run_keeping_its_error_ratio_to_a_history_curve_is_forecast_exactly():
    history = learning_curve(60, final=0.9, rate=0.1)
    run = 1 - 0.7 * (1 - history)  # 30 % less error than the history curve at every epoch
    fc = auto().fit([Series("h", history)]).forecast(Series("run", run[:15]), 60)
    np.testing.assert_allclose(fc.mean, run[15:], atol=1e-9)


def test_history_of_another_length_is_used_on_normalised_time():
    t = np.arange(1, 201)
    long_history = 0.95 - 0.85 * np.exp(-t / 40)  # 200 epochs
    run = 0.95 - 0.85 * np.exp(-np.arange(1, 101) / 20)  # the same curve run in 100 epochs
    fc = auto().fit([Series("h", long_history)]).forecast(Series("run", run[:20]), 100)
    assert np.max(np.abs(fc.mean - run[20:])) < 0.005


def test_the_analog_that_follows_the_prefix_dominates():
    near = learning_curve(80, final=0.9, rate=0.1)
    far = learning_curve(80, final=0.6, rate=0.4)
    run = 1 - 0.9 * (1 - near)
    fc = auto(similarity=8.0).fit([Series("near", near), Series("far", far)]).forecast(Series("run", run[:20]), 80)
    assert abs(fc.mean[-1] - run[-1]) < 0.01


def test_batched_forecasts_equal_one_run_at_a_time():
    history = [Series(f"h{i}", learning_curve(50, final=0.8 + 0.03 * i, rate=0.1 + 0.02 * i, noise=0.01, seed=i))
               for i in range(5)]
    runs = [Series(f"r{i}", learning_curve(50, final=0.85, rate=0.12, noise=0.01, seed=10 + i)[:k])
            for i, k in enumerate([5, 12, 12, 30])]
    model = auto(smooth_epochs=5).fit(history)
    together = model.forecast_many(runs, [50] * len(runs))
    for run, fc in zip(runs, together, strict=True):
        alone = model.forecast(run, 50)
        np.testing.assert_allclose(fc.mean, alone.mean)
        np.testing.assert_allclose(fc.upper, alone.upper)
        assert np.all(fc.lower <= fc.mean) and np.all(fc.mean <= fc.upper)


def test_interval_scale_widens_the_band_around_the_same_mean():
    history = [Series(f"h{i}", learning_curve(40, final=0.7 + 0.05 * i, noise=0.01, seed=i)) for i in range(4)]
    run = Series("run", learning_curve(40, final=0.78, noise=0.01, seed=9)[:10])
    narrow = auto(interval_scale=1.0).fit(history).forecast(run, 40)
    wide = auto(interval_scale=2.0).fit(history).forecast(run, 40)
    np.testing.assert_allclose(narrow.mean, wide.mean)
    assert np.all(wide.upper - wide.lower >= narrow.upper - narrow.lower)


def test_empty_history_and_a_finished_run_are_clear_errors():
    with pytest.raises(LcpipeError, match="at least one finished history curve"):
        auto().fit([])
    model = auto().fit([Series("h", learning_curve(30))])
    with pytest.raises(LcpipeError, match="30 epochs observed of 30"):
        model.forecast(Series("run", learning_curve(30)), 30)


def test_a_run_stuck_at_zero_far_below_every_analog_keeps_its_own_trend():
    history = [Series(f"h{i}", learning_curve(200, final=0.7 + 0.05 * i, rate=0.05, noise=0.005, seed=i))
               for i in range(4)]
    model = Auto().fit(history)
    stuck = model.forecast(Series("stuck", np.zeros(30)), 200)
    assert stuck.mean[-1] < 0.05  # not the analogs' progress, which a stuck run has not shown
    assert stuck.upper[-1] - stuck.lower[-1] < 0.2  # and not a [0, 1] band
    low = model.forecast(Series("low", np.linspace(0.02, 0.03, 30)), 200)
    assert low.upper[-1] < 0.3


def test_a_loss_falling_slower_than_its_analogs_keeps_falling_and_is_not_held_flat():
    """A loss above every analog that has shed less of its loss so far may be a slow run (a lower lr) or on
    a plateau before an lr drop: its forecast follows the analogs, and its band reaches its own level,
    so a dead run (flat at chance) is not promised a recovery. Only an accuracy-like score is held at
    its own level when it lags so."""
    t = np.arange(1, 101)
    history = [Series(f"h{i}", -np.log(0.5 + 0.1 * i + 2.0 * np.exp(-t / 10)), bounded=False) for i in range(4)]
    slow = -np.log(0.6 + 2.0 * np.exp(-t / 40))  # its truth: above every analog at 20, still falling
    fc = Auto(calibrate=False).fit(history).forecast(Series("slow", slow[:20], bounded=False), 100)
    now, final = np.exp(-slow[19]), np.exp(-fc.mean[-1])
    assert final < now - 0.5 * (now - np.exp(-slow[-1]))  # forecast at least half of the fall still to come
    dead = np.full(20, -np.log(np.log(10)))  # a cross-entropy flat at chance, ln 10: it may stay there
    fc = Auto(calibrate=False).fit(history).forecast(Series("dead", dead, bounded=False), 100)
    assert fc.lower[-1] <= dead[-1] < fc.mean[-1]  # the band reaches its own level; the mean follows the analogs


def test_analogs_with_a_like_config_dominate_and_no_config_still_forecasts():
    t = np.arange(1, 101)
    sgd = 0.9 - 0.8 * np.exp(-t / 10) + 0.05 * (t > 75)  # jumps at its lr drop
    adam = 0.9 - 0.8 * np.exp(-t / 10) - 0.02 * (t > 75)  # loses a little
    history = [Series("sgd", sgd, config={"optimizer": "sgd", "lr": 0.1}),
               Series("adam", adam, config={"optimizer": "adam", "lr": 0.001})]
    model = Auto(config_weight=3.0, similarity=0.0).fit(history)
    prefix = sgd[:30]
    as_sgd = model.forecast(Series("run", prefix, config={"optimizer": "sgd", "lr": 0.1}), 100)
    as_adam = model.forecast(Series("run", prefix, config={"optimizer": "adam", "lr": 0.001}), 100)
    blind = model.forecast(Series("run", prefix), 100)
    assert as_sgd.mean[-1] > blind.mean[-1] > as_adam.mean[-1]
    assert abs(as_sgd.mean[-1] - sgd[-1]) < 0.02


def test_a_known_step_schedule_aligns_the_analogs_drop_with_the_runs():
    t = np.arange(1, 201)
    history = 0.8 - 0.7 * np.exp(-t / 20) + 0.1 * (t > 150)  # drop at 150 of 200 (0.75)
    run = 0.8 - 0.7 * np.exp(-np.arange(1, 201) / 20) + 0.1 * (np.arange(1, 201) > 100)  # drop at 100 (0.5)
    model = Auto(smooth_epochs=1).fit([Series("h", history, config={"milestones": [150], "epochs": 200})])
    fc = model.forecast(Series("run", run[:60], config={"milestones": [100], "epochs": 200}), 200)
    assert fc.mean[110 - 61] > 0.85  # the jump is forecast after epoch 100, not 150


def test_the_final_band_is_calibrated_on_the_historys_clusters():
    history = [Series(f"h{i}", learning_curve(60, final=0.6 + 0.05 * i, rate=0.05 + 0.03 * i, noise=0.01, seed=i),
                      config={"dataset": f"d{i % 3}", "arch": "a"}) for i in range(9)]
    model = Auto().fit(history)
    assert model.final_q_ is not None and np.all(model.final_q_[1] > 0)
    assert Auto(calibrate=False).fit(history).final_q_ is None


def test_a_history_of_siblings_is_calibrated_on_them_at_the_nominal_level(monkeypatch):
    """The paper's in-study protocol: the history is the target's own study, one cluster (one dataset,
    arch and length). It used to go uncalibrated (in-study cov80 0.88 / 0.89 on dev-loss); it is now
    calibrated on its own runs, a fold at a time, at 80 % whatever the foreign-history level, with at
    most SIBLING_FOLDS fits, and a held-out sibling's final lands in its band about 80 % of the time."""

    def siblings(count, offset):
        return [Series(f"s{offset + i}", learning_curve(40, final=0.7 + 0.2 * r, rate=0.06 + 0.1 * q, noise=0.01,
                                                        seed=offset + i), config={"dataset": "d", "arch": "a"})
                for i, (r, q) in enumerate(np.random.default_rng(offset).random((count, 2)))]

    history = siblings(30, 0)
    fits = []
    fit = Auto.fit
    monkeypatch.setattr(Auto, "fit", lambda self, h: fits.append(len(h)) or fit(self, h))
    model = Auto(final_quantile=0.95).fit(history)
    assert model.final_q_ is not None
    assert len(fits) == 1 + auto_module.SIBLING_FOLDS  # the fit itself and one per fold: 27 runs each
    assert set(fits[1:]) == {27}
    monkeypatch.setattr(Auto, "fit", fit)
    np.testing.assert_array_equal(model.final_q_[1], Auto(final_quantile=0.6).fit(history).final_q_[1])
    targets = siblings(60, 100)
    inside = [fc.lower[-1] <= s.values[-1] <= fc.upper[-1]
              for s, fc in zip(targets, model.forecast_many([Series(s.name, s.values[:8], config=s.config)
                                                               for s in targets], [40] * len(targets)))]
    assert 0.65 <= np.mean(inside) <= 0.95


def test_runs_of_one_stated_recipe_and_several_lengths_are_siblings_and_two_recipes_are_not():
    """AlgoPerf's runs of one workload stop at a target, each at its own length: one dataset and arch is
    one study's siblings all the same (the nominal level, whatever final_quantile says); two datasets
    are foreign to each other and keep the foreign level."""
    def runs(dataset, lengths):
        return [Series(f"{dataset}{i}", learning_curve(n, final=0.7 + 0.02 * i, rate=0.1 + 0.01 * i, noise=0.01,
                                                       seed=i), config={"dataset": dataset, "arch": "a"})
                for i, n in enumerate(lengths)]

    def widths(history, level):
        return Auto(final_quantile=level).fit(history).final_q_[1]

    one = runs("d", [40, 44, 48, 52] * 3)
    np.testing.assert_array_equal(widths(one, 0.6), widths(one, 0.95))
    two = runs("d", [40] * 6) + runs("e", [40] * 6)
    assert np.all(widths(two, 0.95) > widths(two, 0.6))


def test_sibling_calibration_survives_a_missing_sidecar_a_list_config_a_nan_curve_and_a_sorted_history():
    """The second review's cases: one run that states no recipe (its sidecar missing) leaves a study's
    runs siblings; a dataset written as a list in a sidecar is no TypeError; a curve holding NaN is no
    history (it made every forecast 0); and a history sorted by length holds out runs of every length,
    not the first (shortest) ones."""
    def runs(count, lengths, config):
        return [Series(f"r{i}", learning_curve(lengths[i % len(lengths)], final=0.7 + 0.01 * (i % 20),
                                               rate=0.05 + 0.005 * (i % 13), noise=0.01, seed=i), config=dict(config))
                for i in range(count)]

    one = runs(12, [40, 44, 48], {"dataset": "d", "arch": "a"})
    missing = [Series(one[0].name, one[0].values, config={}), *one[1:]]
    np.testing.assert_array_equal(Auto(final_quantile=0.6).fit(missing).final_q_[1],
                                  Auto(final_quantile=0.95).fit(missing).final_q_[1])
    assert Auto().fit(runs(6, [30, 31], {"dataset": ["c10"], "arch": "a"})).final_q_ is not None
    broken = np.array(one[0].values, dtype=float)
    broken[20] = np.nan
    with_nan = Auto().fit([*one[1:], Series("nan", broken, config=one[0].config)])
    fc = with_nan.forecast(Series("run", one[1].values[:10], config=one[1].config), 44)
    assert np.all(np.isfinite([fc.mean[-1], fc.lower[-1], fc.upper[-1]])) and fc.mean[-1] > 0.5
    many = runs(400, list(range(20, 120, 5)), {"dataset": "d", "arch": "a"})
    by_length = sorted(many, key=lambda s: len(s.values))
    assert np.array_equal(Auto().fit(by_length).final_q_[0], Auto().fit(many).final_q_[0])


def test_siblings_mostly_flat_at_chance_do_not_shrink_a_learning_runs_band_to_nothing():
    """10 of 12 siblings stuck at chance forecast themselves exactly (errors of 0): the 80 % quantile of
    the held-out errors is 0, and a learning run's band had no width, so the pruner took its forecast
    as certain and pruned the study's best trial. The calibration narrows the model's band by half at
    most."""
    config = {"dataset": "d", "arch": "a"}
    history = [Series(f"s{i}", learning_curve(50, final=0.85 + 0.05 * i, rate=0.1, noise=0.01, seed=i), config=config)
               for i in range(2)]
    history += [Series(f"c{i}", np.r_[0.12, np.full(49, 0.1)], config=config) for i in range(10)]
    model = Auto().fit(history)
    raw = Auto(calibrate=False).fit(history)
    run = Series("run", history[0].values[:10], config=config)
    width = [fc.upper[-1] - fc.lower[-1] for fc in (model.forecast(run, 50), raw.forecast(run, 50))]
    assert width[0] >= 0.45 * width[1] > 0


def test_a_ten_percent_band_is_not_widened_by_two_point_prefixes_of_short_history_curves():
    """At 10 % of a 20-evaluation curve the prefix is 2 points: its errors are no measure of a 10-point
    prefix at 10 % of a 100-evaluation run, and pooled with them they widened every early final band
    (dev-loss covered 91 % at 10 %). Only prefixes of 3 points or more calibrate."""
    def losses(n, count, offset):
        return [Series(f"n{n}_{i}", -np.log(2.5 * (1 - learning_curve(n, final=0.6 + 0.04 * i, rate=0.15 + 0.04 * i,
                                                                      noise=0.01, seed=offset + i)) + 0.1),
                       config={"dataset": f"d{i % 3}", "arch": f"a{n}"}, bounded=False) for i in range(count)]

    long_only = losses(100, 9, 0)
    fractions = np.exp(Auto().fit(losses(20, 9, 50)).final_q_[0])
    assert fractions.min() == pytest.approx(0.2)  # 2.5 %, 5 % and 10 % of 20 points: fewer than 3 points
    at_10 = lambda history: np.interp(np.log(0.1), *Auto().fit(history).final_q_)  # noqa: E731
    mixed = long_only + losses(20, 9, 50)
    assert at_10(mixed) == pytest.approx(at_10(long_only), rel=0.5)
    assert Auto().fit(losses(6, 9, 80)).final_q_ is not None  # curves too short for 3 points: calibrated all the same


def test_a_loss_history_is_calibrated_to_its_own_quantile_and_an_accuracy_history_to_the_other():
    """final_quantile sets an accuracy's final band, final_quantile_series a loss's (unbounded
    internal values): each kind's level is chosen on curves of that kind (bench/forecast_quality.py)."""
    acc = [Series(f"h{i}", learning_curve(60, final=0.6 + 0.05 * i, rate=0.05 + 0.03 * i, noise=0.01, seed=i),
                  config={"dataset": f"d{i % 3}", "arch": "a"}) for i in range(9)]
    loss = [Series(s.name, -np.log(2.5 * (1 - s.values) + 0.1), config=s.config, bounded=False) for s in acc]

    def widths(history, **kw):
        return Auto(**kw).fit(history).final_q_[1]

    assert np.all(widths(loss, final_quantile_series=0.95) > widths(loss, final_quantile_series=0.6))
    np.testing.assert_array_equal(widths(loss, final_quantile=0.6), widths(loss, final_quantile=0.95))
    np.testing.assert_array_equal(widths(acc, final_quantile_series=0.6), widths(acc, final_quantile_series=0.95))
    assert np.all(widths(acc, final_quantile=0.95) > widths(acc, final_quantile=0.6))


def test_extending_a_fitted_auto_forecasts_as_a_refit_on_all_curves_would():
    """The pruner appends completed trials to a forecaster fitted on the history: the result must be
    the forecaster fitted on history + trials (same final-band calibration), only cheaper."""
    history = [Series(f"h{i}", learning_curve(60, final=0.7 + 0.04 * i, rate=0.1 + 0.02 * i, seed=i)) for i in range(5)]
    trials = [Series(f"t{i}", learning_curve(40, final=0.8 + 0.05 * i, rate=0.15, seed=10 + i)) for i in range(2)]
    run = Series("run", learning_curve(40, final=0.82, rate=0.15, seed=20)[:12])
    base = Auto(calibrate=False).fit(history)
    base.forecast(run, 40)  # an axis computed before extending is reused, not stale
    extended = base.extended(trials).forecast(run, 40)
    refit = Auto(calibrate=False).fit(history + trials).forecast(run, 40)
    np.testing.assert_allclose(extended.mean, refit.mean)
    np.testing.assert_allclose(extended.lower, refit.lower)
    assert len(base.history_) == 5  # the base is left as it was


def test_a_run_still_training_places_the_lr_drops_its_lr_column_shows_on_its_planned_length():
    """A run 40 epochs into 100 whose lr fell at epoch 30: the drop is at 0.3 of the run, as the
    history's is, not at 30/40 of what was seen (which put the history's jump 45 epochs late)."""
    t = np.arange(1, 101)
    lr = np.where(t > 30, 0.01, 0.1)

    def curve(final):
        return np.clip(final - 0.3 - 0.4 * np.exp(-t / 8) + 0.3 * (t > 30), 0, 1)

    model = Auto().fit([Series(f"h{i}", curve(0.9 - 0.02 * i), lr) for i in range(5)])
    run = curve(0.88)
    seen = model.forecast(Series("run", run[:40], lr[:40]), 100)
    planned = model.forecast(Series("run", run[:40], lr), 100)
    np.testing.assert_allclose(seen.mean, planned.mean)
    assert abs(seen.mean[-1] - run[-1]) < 0.01
    # drops still to come are the config's milestones past the lr column's end
    assert milestones_of({"milestones": [30, 60], "epochs": 100}, lr[:40], 100) == (0.3, 0.6)
    assert milestones_of({"milestones": [30, 60], "epochs": 100}, None, 100) == (0.3, 0.6)


def test_a_cosine_schedule_has_no_lr_drops_and_a_step_schedule_has_its_steps():
    epochs = np.arange(1, 51)
    cosine = 0.05 * 0.5 * (1 + np.cos(np.pi * (epochs - 1) / 50))  # halves epoch to epoch at the very end
    assert milestones_of({}, cosine, 50) == ()
    warmup_step = np.where(epochs <= 5, 0.02 * epochs, np.where(epochs <= 30, 0.1, np.where(epochs <= 40, 0.01, 0.001)))
    assert milestones_of({}, warmup_step, 50) == (0.6, 0.8)



def test_config_distance_against_many_at_once_is_the_pairwise_distance():
    """The pruner forecasts thousands of times against hundreds of analogs, so Auto compares a config
    with the history's configs as columns (ConfigColumns); it must give config_distance's numbers,
    missing keys, lists, related optimizers, 1 == 1.0 and non-positive lrs included."""
    import random

    from lcpipe.forecasting.predictors.auto import ConfigColumns, config_distance
    choices = {"optimizer": ["sgd", "adam", "momentum", "sgd_nesterov", "adamw", "", None, 1, ["sgd"]],
               "schedule": ["cosine", "step", None, "", 0], "dataset": ["cifar10", "cifar100", None],
               "arch": ["resnet18", "resnet34", None, 1.0, True],
               "lr": [0.1, 1e-3, 0, -1, None, "0.1", True, 3, float("inf"), float("nan")]}
    rng = random.Random(0)

    def config() -> dict:
        return {k: v for k, v in ((k, rng.choice(vs)) for k, vs in choices.items()) if v is not None}

    history = [config() for _ in range(200)]
    columns = ConfigColumns(history)
    for _ in range(200):
        query = config()
        expected = [config_distance(query, other) for other in history]
        assert np.allclose(columns.distance(query), expected, rtol=0, atol=1e-12), query
    # Auto keeps the columns per history: a forecaster with a curve more (or less) builds them anew
    t = np.arange(1, 31)
    series = [Series(f"h{i}", 0.9 - 0.5 * np.exp(-t / (5 + i)), config={"lr": 10.0 ** -i}) for i in range(4)]
    auto = Auto().fit(series[:3])
    assert np.allclose(auto._config_distance({"lr": 1.0}), [0, 1, 2])
    assert np.allclose(auto.extended(series[3:])._config_distance({"lr": 1.0}), [0, 1, 2, 3])
    assert np.allclose(auto.without(0)._config_distance({"lr": 1.0}), [1, 2])


def loss_history(dataset_of_small_batches: str) -> list[Series]:
    """Six runs of one recipe (internal values: -log loss) whose first 20 of 60 evaluations are alike:
    batch 8 keeps falling to a loss of 1.0, batch 256 levels off at 1.5, and nothing in the prefix
    tells them apart. The batch-8 runs are of `dataset_of_small_batches`, the others of "text"."""
    t = np.arange(1, 61)
    out = []
    for i, (batch, floor) in enumerate([(8, 1.0)] * 3 + [(256, 1.5)] * 3):
        late = np.clip(t - 30, 0, None) / 30  # they part from evaluation 30 on
        loss = 3.0 * np.exp(-t / 6) + 1.6 - (1.6 - floor) * late + 0.001 * i
        dataset = dataset_of_small_batches if batch == 8 else "text"
        out.append(Series(f"b{batch}-{i}", -np.log(loss), config={"dataset": dataset, "batch_size": batch,
                                                                   "lr": 1e-3, "seed": i}, bounded=False))
    return out


def test_siblings_alike_in_the_other_hyper_parameters_are_the_nearer_analogs():
    """A study's runs differ in batch size, weight decay, warmup, LoRA rank, ...: keys config_distance
    never read. Among runs of the run's own dataset every such key counts, so a batch-8 run whose prefix
    looks like every sibling's is forecast from its batch-8 siblings, not from their mean."""
    history = loss_history("text")
    run = Series("mine", history[0].values[:20], config={"dataset": "text", "batch_size": 8, "lr": 1e-3},
                 bounded=False)
    final = np.exp(-Auto().fit(history).forecast(run, 60).mean[-1])
    assert final < 1.16  # e^-1 for a batch size a whole range away: 1.13; the mean of the analogs says 1.25
    no_config = Series("mine", run.values, bounded=False)
    assert np.exp(-Auto().fit(history).forecast(no_config, 60).mean[-1]) == pytest.approx(1.25, abs=0.05)


def test_a_run_of_another_dataset_is_no_nearer_for_sharing_the_batch_size(monkeypatch):
    """What a batch size means on another dataset says little about this run: the batch-8 runs of
    another dataset count FOREIGN_DATASET_SERIES whole, so the siblings of the run's own dataset lead,
    however unlike its batch size theirs is; with the setting at 0 the key counts nothing."""

    history = loss_history("images")
    run = Series("mine", history[0].values[:20], config={"dataset": "text", "batch_size": 8, "lr": 1e-3},
                 bounded=False)
    weighed = Auto(config_weight_series=1.0)  # the dataset key at weight 1 (the loss default, 3, counts it 3)
    assert np.exp(-weighed.fit(history).forecast(run, 60).mean[-1]) > 1.4  # the batch-256 siblings
    monkeypatch.setattr(auto_module, "FOREIGN_DATASET_SERIES", 0.0)
    off = np.exp(-Auto(config_weight_series=1.0).fit(history).forecast(run, 60).mean[-1])
    assert 1.25 < off < 1.45  # the dataset alone counts (1 each): nearer the siblings, not all the way


def test_hyper_parameter_columns_grow_and_shrink_with_the_history():
    """A pruner extends its forecaster with each completed trial and leaves a rival out of it: the
    hyper-parameter distances must be those of a forecaster fitted on the same curves afresh, new keys,
    text values and keys some configs lack included."""
    history = loss_history("text")
    history[4] = Series(history[4].name, history[4].values, config={**history[4].config, "rank": 16})
    added = [Series("new", history[1].values, config={"dataset": "text", "batch_size": 64, "warmup": "linear"},
                    bounded=False)]
    query = {"dataset": "text", "batch_size": 8, "rank": 4, "warmup": "none", "lr": 1e-3}
    fresh = Auto().fit(history + added)
    grown = Auto().fit(history).extended(added)
    assert np.allclose(grown._config_discount(query), fresh._config_discount(query))
    assert np.allclose(fresh.without(2)._config_discount(query),
                       Auto().fit(history[:2] + history[3:] + added)._config_discount(query))
    # seeds and other bookkeeping are no hyper-parameters: a run of another seed is no further
    assert fresh._config_discount({**query, "seed": 99})[0] == fresh._config_discount(query)[0]


@pytest.mark.parametrize("share, tolerance", [(0, None), (8, 0.03)])
def test_a_short_runs_fast_early_fall_is_not_averaged_away(monkeypatch, share, tolerance):
    """20 evaluations of a loss that falls fast at first (a Keras run): five-wide smoothing of the
    history would blur the prefix the run is matched on. With the cap (SMOOTH_SHARE: 1/8 of the
    horizon) the final loss of a run at 0.8 x the history curve is forecast within 3 %; without it
    the error is three times that."""


    monkeypatch.setattr(auto_module, "SMOOTH_SHARE", share)
    loss = 0.003 + 0.05 * np.exp(-np.arange(1, 21) / 2.5)
    history, run = -np.log(loss), -np.log(0.8 * loss)  # a loss's internal values: -log(loss)
    # recency 2: leaning on the latest point (a one-curve history is the run's own study: 0.75) hides the blur too
    model = Auto(smooth_epochs=5, calibrate=False, sibling_recency_series=2.0)
    model.fit([Series("h", history, bounded=False)])
    error = abs(model.forecast(Series("run", run[:4], bounded=False), 20).mean[-1] - run[-1])  # log-ratio
    if tolerance is None:
        assert error > 0.05
    else:
        assert error < tolerance


def test_a_loss_weighs_configs_by_its_own_setting_from_params_yaml_to_the_forecast():
    """auto.config_weight_series (3: every leave-one-family-out fold of dev-loss picks it; an accuracy's
    config_weight stays 1) reaches the forecaster the CLI builds, and moves a loss's forecast where configs
    differ; ForecastPruner keeps 1 for a loss (3 cost it 5x the regret on the dev-loss replays)."""
    from lcpipe.config import Params
    from lcpipe.forecasting.registry import build
    from lcpipe.integrations.optuna import ForecastPruner

    history = loss_history("text")  # siblings that part late: batch 8 falls to 1.0, batch 256 levels at 1.5
    run = Series("mine", history[0].values[:20], config={"dataset": "text", "batch_size": 8, "lr": 3e-3},
                 bounded=False)
    history = [Series(s.name, s.values, config={**s.config, "lr": 1e-3 if s.config["batch_size"] == 8 else 1e-2},
                      bounded=False) for s in history]
    built = build("auto", Params()).fit(history)
    accuracies = [Series(name, np.linspace(0.1, top, 60)) for name, top in (("a", 0.5), ("b", 0.6))]
    assert built.weight_of_configs == 3.0 and Auto().fit(accuracies).weight_of_configs == 1.0
    nearer = np.exp(-built.forecast(run, 60).mean[-1])
    at_one = np.exp(-Auto(config_weight_series=1.0).fit(history).forecast(run, 60).mean[-1])
    assert nearer < at_one  # the lr-nearer batch-8 siblings weigh more: a lower final loss
    assert ForecastPruner(epochs=60)._template.config_weight_series == 1.0


def test_the_hyper_parameter_that_decides_the_finals_weighs_more_than_one_that_does_not(monkeypatch):
    """Among 14 runs of one dataset, a LoRA rank decides where the loss ends (1.5 at rank 16, 1.9 at rank 1)
    and weight decay nothing; their first 10 evaluations coincide. A rank-16 run at the weight decay that
    only rank-1 runs have here is forecast nearer its rank's end (each key weighed by its relevance to the
    finals, learned from the history) than with every key alike, where the two mismatches tie."""
    t = np.arange(1, 51)
    history = []
    for i, (rank, wd) in enumerate([(1, 0.0)] * 4 + [(1, 0.1)] * 4 + [(16, 0.0)] * 6):
        final = 1.5 if rank == 16 else 1.9
        loss = 1.9 + 3 * np.exp(-t / 4) - (1.9 - final) * np.clip((t - 10) / 30, 0, 1) + 0.002 * np.sin(t + i)
        history.append(Series(f"h{i}", -np.log(loss), None, {"dataset": "d", "rank": rank, "weight_decay": wd},
                              bounded=False))
    run = Series("run", history[-1].values[:10], None, {"dataset": "d", "rank": 16, "weight_decay": 0.1},
                 bounded=False)

    def final_loss() -> float:
        return float(np.exp(-Auto(calibrate=False).fit(history).forecast(run, 50).mean[-1]))

    assert final_loss() < 1.62  # 1.587 here
    monkeypatch.setattr(auto_module, "RELEVANCE_POWER", 0.0)
    assert final_loss() > 1.64  # 1.670


def _loss_study(dataset: str, n: int = 6, length: int = 60, arch: str = "net") -> list[Series]:
    """A study's loss curves (internal values: minus the log of the loss), each ending at its own floor."""
    t = np.arange(1, length + 1)
    return [Series(f"{dataset}{i}", -np.log(0.5 + 0.1 * i + 2.0 * np.exp(-t / 10)), bounded=False,
                   config={"dataset": dataset, "arch": arch}) for i in range(n)]


def test_a_loss_forecast_from_its_own_study_leans_on_its_latest_level():
    """In-study (the history is the run's own study), a loss's analogs share its recipe, and its latest level
    says most: auto.sibling_recency_series (0.75) is the half-life of the weights that set each analog's shift
    there. On dev-loss's in-study protocol it took auto's final RMSE over the best reference's from 0.71 / 0.78 /
    0.70 to 0.63 / 0.69 / 0.67 at 10 / 20 / 40 %. A foreign history, or an accuracy's, keeps `recency`."""
    siblings = _loss_study("d")
    assert Auto().fit(siblings).shift_recency_ == 0.75
    assert Auto().fit(siblings[:3] + _loss_study("e")[:3]).shift_recency_ == 2.0  # two datasets: foreign analogs
    several_archs = [Series(s.name, s.values, bounded=False, config={"dataset": "d", "arch": f"a{i}"})
                     for i, s in enumerate(siblings)]
    assert Auto().fit(several_archs).shift_recency_ == 0.75  # one task, networks compared: still one study
    accuracy = [Series(f"h{i}", learning_curve(60, final=0.7 + 0.05 * i, rate=0.05, seed=i),
                       config={"dataset": "d", "arch": "net"}) for i in range(4)]
    assert Auto().fit(accuracy).shift_recency_ == 2.0  # an accuracy's jitter needs its points averaged
    # a run of another dataset is met as from any foreign history, however alike the history's runs
    model = Auto(calibrate=False).fit(siblings)
    assert model._shift_recency({"dataset": "d"}) == model._shift_recency({}) == 0.75
    assert model._shift_recency({"dataset": "imagenet"}) == 2.0
    missing = [Series(siblings[0].name, siblings[0].values, bounded=False)] + siblings[1:]  # its sidecar lost
    assert Auto(calibrate=False).fit(missing)._shift_recency({"dataset": "imagenet"}) == 2.0
    foreign = Series("x", siblings[0].values[:20] + 0.01, bounded=False, config={"dataset": "imagenet"})
    np.testing.assert_array_equal(model.forecast(foreign, 60).mean, Auto(calibrate=False, sibling_recency_series=2.0)
                                  .fit(siblings).forecast(foreign, 60).mean)
    # a run that just stepped down (an lr drop between evaluations 18 and 19) goes on from where it is now
    t = np.arange(1, 61)
    run = -np.log(0.65 + 2.0 * np.exp(-t / 10) - 0.08 * (t > 18))
    latest = Auto(calibrate=False).fit(siblings).forecast(Series("run", run[:20], bounded=False), 60)
    lagging = Auto(calibrate=False, sibling_recency_series=2.0).fit(siblings).forecast(
        Series("run", run[:20], bounded=False), 60)
    assert abs(latest.mean[0] - run[20]) < 0.5 * abs(lagging.mean[0] - run[20])


def test_a_forecaster_pickled_before_the_sibling_recency_forecasts_as_it_did():
    import pickle

    fitted = Auto(calibrate=False).fit(_loss_study("d"))
    state = fitted.__dict__.copy()
    del state["shift_recency_"], state["sibling_recency_series"]
    old = Auto.__new__(Auto)
    old.__setstate__(state)
    run = Series("run", _loss_study("d", n=1)[0].values[:20], bounded=False)
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.shift_recency_ == 2.0
    np.testing.assert_allclose(loaded.forecast(run, 60).mean,
                               Auto(calibrate=False, sibling_recency_series=2.0).fit(_loss_study("d")).forecast(
                                   run, 60).mean)


def test_leaning_on_the_latest_level_does_not_narrow_a_noisy_losss_band():
    """Only the shift reads the prefix by its latest points: how each analog fits the prefix and the run's jitter
    are read over `recency`. Read off the last point too, both vanished (a shift fits one point exactly), the
    band narrowed, and the in-study stop rule lost 16 % of the loss in an AlgoPerf study."""
    rng = np.random.default_rng(0)
    t = np.arange(1, 41)
    siblings = [Series(f"s{i}", -np.log(0.3 + 0.05 * i + 3.0 * np.exp(-t / 4)) + rng.normal(0, 0.04, 40),
                       bounded=False, config={"dataset": "d"}) for i in range(8)]
    run = Series("run", (-np.log(0.32 + 3.0 * np.exp(-t / 4)) + rng.normal(0, 0.04, 40))[:6], bounded=False)
    latest = Auto(calibrate=False).fit(siblings).forecast(run, 40)
    averaged = Auto(calibrate=False, sibling_recency_series=2.0).fit(siblings).forecast(run, 40)
    width, width_averaged = latest.upper - latest.lower, averaged.upper - averaged.lower
    assert np.all(width > 0.9 * width_averaged)


def test_a_band_late_in_the_run_is_calibrated_there_not_at_the_widths_of_earlier_forecasts():
    """`lcpipe evaluate --cutoffs 40` on 50-evaluation LoRA runs (the maintainers' check): each run forecast from its
    39 siblings at 80 % of its length. Calibrated up to 40 % of the run only (until 2026-12-07), the final band took
    that width and covered 93 % of the finals; calibrated at 60 and 80 % too, about 80 %. ForecastPruner keeps the
    fractions its rule was tuned with."""
    from lcpipe.config import Params
    from lcpipe.forecasting.backtest import backtest
    from lcpipe.forecasting.logs import read_curve_dir
    from lcpipe.integrations.optuna import ForecastPruner
    from lcpipe.metric import Metric
    from tests.helpers import ROOT

    metric = Metric.infer("val_ce", "min")
    curves = read_curve_dir(ROOT / "bench" / "lm_table" / "curves" / "descr", metric)
    rows = backtest(curves, [40], ["auto"], Params(), metric=metric)
    covered = np.mean([r["final_lower"] <= r["final_actual"] <= r["final_upper"] for r in rows])
    assert len(rows) == 40 and 0.7 <= covered <= 0.85, covered
    assert auto_module.Auto().calibration_fractions[-2:] == (0.6, 0.8)
    assert ForecastPruner(50)._template.calibration_fractions == auto_module.PRUNER_CALIBRATION_FRACTIONS


def test_a_history_of_five_point_curves_is_still_calibrated_early_and_now_late_too():
    """Curves of 4-6 evaluations reach the 3 points a calibrating prefix needs only at 0.6 and 0.8 of their length:
    calibrated there alone, that late width stood for every earlier forecast (review: dev cut to 5 points, cov80 at
    the 2nd point 0.81 -> 0.62). Such a history calibrates on the prefixes it has: its early bands are exactly the
    pruner's (calibrated to 0.4, as before the late fractions), and its late ones are its own."""
    history = [Series(f"h{i}", learning_curve(5, final=0.6 + 0.04 * i, rate=0.3 + 0.1 * (i % 4), noise=0.01, seed=i),
                      config={"dataset": f"d{i % 3}", "arch": "a"}) for i in range(12)]
    late, early_only = Auto().fit(history), Auto(calibration_fractions=auto_module.PRUNER_CALIBRATION_FRACTIONS)
    early_only.fit(history)
    assert np.exp(late.final_q_[0]).min() <= 0.1 and np.exp(late.final_q_[0]).max() == pytest.approx(0.8)
    run = Series("r", learning_curve(5, final=0.7, rate=0.4, noise=0.01, seed=99)[:4], config={"dataset": "d0"})
    for k in (1, 2):
        a, b = late.forecast(run.__class__(run.name, run.values[:k], None, run.config), 5), \
            early_only.forecast(run.__class__(run.name, run.values[:k], None, run.config), 5)
        assert a.lower[-1] == pytest.approx(b.lower[-1]) and a.upper[-1] == pytest.approx(b.upper[-1])


@pytest.mark.parametrize("given", [(0.4, 0.1), (), (0.0, 0.5), (0.5, 1.0), "0.5", 0.4, (0.2, 0.2), (0.999999,)])
def test_calibration_fractions_not_increasing_in_0_1_are_one_line(given):
    with pytest.raises(LcpipeError, match=r"calibration_fractions=.*increasing fractions of the run in \(0, 1\)"):
        Auto(calibration_fractions=given)
    assert Auto(calibration_fractions=np.array([0.1, 0.5], dtype=np.float32)).calibration_fractions == (
        pytest.approx(0.1), 0.5)


def test_a_smooth_losss_late_band_in_study_is_not_held_wider_than_its_errors(tmp_path):
    """The maintainers' check on a language model's sweep: `lcpipe evaluate --curves <sweep> --metric val_ce --mode min
    --cutoffs 10,20,40` on 50 evaluations. At cutoff 40 (80 % of the run) the LoRA `docs` sweep's final bands sat at the
    noise floor, half a percent of the loss, four times its errors there: they held 93 % of the finals. A loss's floor
    is NOISE_FLOOR_SERIES; they hold 75-85 %."""
    import json

    from tests.helpers import ROOT, cli_in_process

    out = cli_in_process("evaluate", "--curves", str(ROOT / "bench" / "lm_table" / "curves" / "docs"), "--metric",
                         "val_ce", "--mode", "min", "--cutoffs", "40", "--predictors", "auto", "--out",
                         str(tmp_path / "e.json"))
    assert out.code == 0, out.err
    rows = json.loads((tmp_path / "e.json").read_text())["results"]
    held = np.mean([r["final_lower"] <= r["final_actual"] <= r["final_upper"] for r in rows])
    assert len(rows) == 40 and 0.75 <= held <= 0.85, held


def test_the_noise_floor_is_the_metric_kinds_own_unless_given_and_the_pruner_keeps_its_own():
    from lcpipe.integrations.optuna import ForecastPruner

    accuracy = [Series(f"a{i}", learning_curve(20, final=0.7 + 0.02 * i, seed=i)) for i in range(4)]
    loss = [Series(f"l{i}", 1.5 + np.exp(-np.arange(20) / (4 + i)), bounded=False) for i in range(4)]
    assert Auto().fit(accuracy).floor_ == auto_module.NOISE_FLOOR
    assert Auto().fit(loss).floor_ == auto_module.NOISE_FLOOR_SERIES < auto_module.NOISE_FLOOR
    assert Auto(noise_floor=0.01).fit(loss).floor_ == 0.01
    assert ForecastPruner(50)._template.floor_ == auto_module.PRUNER_NOISE_FLOOR
    for bad in (0, -0.1, 1.0, float("nan"), "0.01", True, 1e-300):  # 1e-300: a flat loss's band was a point
        with pytest.raises(LcpipeError, match=r"noise_floor=.*a number in \[0.0001, 1\)"):
            Auto(noise_floor=bad)
    assert Auto(noise_floor=np.float32(0.005)).noise_floor == pytest.approx(0.005)  # numpy's floats are numbers


def test_a_forecaster_pickled_before_the_noise_floor_setting_loads_at_the_floor_it_forecast_with():
    """A fitted Auto pickled by the code before `noise_floor` (a pruner's fit in a study's storage) has no such
    attribute: it loads at 0.005, as it forecast then, whatever its metric's kind (review: no test built an old
    state)."""
    import pickle

    loss = [Series(f"l{i}", 1.5 + np.exp(-np.arange(20) / (4 + i)), bounded=False) for i in range(4)]
    fitted = Auto().fit(loss)
    state = dict(fitted.__dict__)
    del state["noise_floor"]
    old = Auto.__new__(Auto)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert old.floor_ == auto_module.PRUNER_NOISE_FLOOR == 0.005 and fitted.floor_ == auto_module.NOISE_FLOOR_SERIES
