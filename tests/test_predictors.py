import numpy as np
import pytest
import torch

from lcpipe.config import FeatureParams, LstmParams
from lcpipe.forecasting.backtest import Settings
from lcpipe.forecasting.features import Series
from lcpipe.forecasting.predictors import PREDICTORS, make
from lcpipe.forecasting.predictors.lstm import LSTM
from tests.conftest import learning_curve

SOURCES = [Series(f"s{i}", learning_curve(40, final=f, rate=r, noise=0.01, seed=i))
           for i, (f, r) in enumerate([(0.9, 0.2), (0.8, 0.1), (0.95, 0.15)])]
TARGET = Series("t", learning_curve(40, final=0.85, rate=0.12, noise=0.01, seed=9))
FAST = Settings(lstm=LstmParams(steps=60, hidden=16))


def prefix(series, k):
    return Series(series.name, series.acc[:k], series.lr)


@pytest.mark.parametrize("name", PREDICTORS)
@pytest.mark.parametrize("acc", [
    TARGET.acc,
    np.full(40, 0.37),                                          # flat
    np.ones(40),                                                # at 100 %
    np.concatenate([np.linspace(0.1, 0.8, 20), np.full(20, 0.1)]),  # collapses
    np.full(40, 0.1),                                           # never learns (chance)
])
def test_forecasts_are_finite_in_range_and_cover_the_horizon(name, acc):
    predictor = FAST.predictor(name).fit(SOURCES)
    fc = predictor.forecast(prefix(Series("t", acc), 10), 40)
    assert fc.mean.shape == (30,)
    assert np.isfinite(fc.mean).all() and (fc.mean >= 0).all() and (fc.mean <= 1).all()


def test_last_value_holds_flat_and_source_shift_meets_the_target_at_the_cutoff():
    k = 10
    flat = make("last_value").forecast(prefix(TARGET, k), 40).mean
    np.testing.assert_array_equal(flat, TARGET.acc[k - 1])
    shifted = make("source_shift").fit(SOURCES).forecast(prefix(TARGET, k), 40).mean
    mean = np.mean([s.acc for s in SOURCES], axis=0)
    np.testing.assert_allclose(shifted, np.clip(mean[k:] - mean[k - 1] + TARGET.acc[k - 1], 0, 1))


def test_poly_fits_the_prefix_or_pools_the_sources():
    x = np.arange(1, 41)
    quad = Series("q", 0.1 + 0.02 * x - 0.0003 * x**2)
    from lcpipe.config import PolyParams
    exact = make("poly", poly=PolyParams(2, "prefix")).forecast(prefix(quad, 10), 40).mean
    np.testing.assert_allclose(exact, quad.acc[10:], atol=1e-9)
    pooled = make("poly", poly=PolyParams(2, "pooled")).fit(SOURCES).forecast(prefix(quad, 10), 40).mean
    assert np.abs(pooled - quad.acc[10:]).max() > 0.01


def test_lstm_is_deterministic_and_learns_better_than_holding_flat():
    a = FAST.predictor("lstm").fit(SOURCES).forecast(prefix(TARGET, 8), 40).mean
    b = FAST.predictor("lstm").fit(SOURCES).forecast(prefix(TARGET, 8), 40).mean
    np.testing.assert_array_equal(a, b)
    flat = np.full(32, TARGET.acc[7])
    assert np.sqrt(np.mean((a - TARGET.acc[8:]) ** 2)) < np.sqrt(np.mean((flat - TARGET.acc[8:]) ** 2))


def test_lstm_state_roundtrips_through_weights_only_load(tmp_path):
    fitted = FAST.predictor("lstm").fit(SOURCES)
    torch.save(fitted.state_dict(), tmp_path / "lstm.pt")
    fresh = FAST.predictor("lstm")
    fresh.load_state_dict(torch.load(tmp_path / "lstm.pt", weights_only=True))
    np.testing.assert_array_equal(fresh.forecast(prefix(TARGET, 8), 40).mean,
                                  fitted.forecast(prefix(TARGET, 8), 40).mean)


def test_lstm_ensemble_gives_an_interval_around_its_mean():
    lstm = LSTM(window=4, hidden=8, steps=30, ensemble=3).fit(SOURCES)
    fc = lstm.forecast(prefix(TARGET, 8), 40)
    assert fc.lower is not None and (fc.lower <= fc.mean + 1e-12).all() and (fc.mean <= fc.upper + 1e-12).all()


def test_lr_inputs_need_an_lr_column():
    from lcpipe.errors import LcpipeError
    lstm = Settings(FeatureParams(inputs=["epoch", "acc", "delta", "lr"])).predictor("lstm")
    with pytest.raises(LcpipeError, match="need an lr column"):
        lstm.fit(SOURCES)


def test_lr_inputs_with_a_target_lacking_lr_is_a_clear_error():
    from lcpipe.errors import LcpipeError
    with_lr = [Series(s.name, s.acc, np.full(40, 0.1)) for s in SOURCES]
    lstm = LSTM(window=4, inputs=["epoch", "acc", "delta", "to_drop"], hidden=8, steps=5).fit(with_lr)
    with pytest.raises(LcpipeError, match="need an lr column covering all 40 epochs of the target"):
        lstm.forecast(prefix(TARGET, 8), 40)
