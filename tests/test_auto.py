"""The default forecaster `auto`: analogs from finished curves, moved to the run in log-error space."""

from __future__ import annotations

import numpy as np
import pytest

from lcpipe.curve import Series
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.predictors.auto import Auto
from tests.helpers import learning_curve


def auto(**overrides) -> Auto:
    settings = {"recency": 5.0, "similarity": 8.0, "smooth": 1, "interval_scale": 1.0, **overrides}
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
    model = auto(smooth=5).fit(history)
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
