import numpy as np
import pytest
import torch

from lcpipe.config import Params
from lcpipe.curve import Series
from lcpipe.forecasting.registry import PREDICTORS, build, predictor_class
from tests.helpers import ROOT, learning_curve, with_params

SOURCES = [Series(f"s{i}", learning_curve(40, final=f, rate=r, noise=0.01, seed=i))
           for i, (f, r) in enumerate([(0.9, 0.2), (0.8, 0.1), (0.95, 0.15)])]
TARGET = Series("t", learning_curve(40, final=0.85, rate=0.12, noise=0.01, seed=9))
FAST = with_params(Params(), lstm__steps=60, lstm__hidden=16)


def prefix(series, k):
    return Series(series.name, series.values[:k], series.lr)


@pytest.mark.parametrize("name", PREDICTORS)
@pytest.mark.parametrize("acc", [
    TARGET.values,
    np.full(40, 0.37),                                          # flat
    np.ones(40),                                                # at 100 %
    np.concatenate([np.linspace(0.1, 0.8, 20), np.full(20, 0.1)]),  # collapses
    np.full(40, 0.1),                                           # never learns (chance)
])
def test_forecasts_are_finite_in_range_and_cover_the_horizon(name, acc):
    predictor = build(name, FAST).fit(SOURCES)
    fc = predictor.forecast(prefix(Series("t", acc), 10), 40)
    assert fc.mean.shape == (30,)
    assert np.isfinite(fc.mean).all() and (fc.mean >= 0).all() and (fc.mean <= 1).all()


def test_last_value_holds_flat_and_source_shift_meets_the_target_at_the_cutoff():
    k = 10
    flat = build("last_value", FAST).fit(SOURCES).forecast(prefix(TARGET, k), 40).mean
    np.testing.assert_array_equal(flat, TARGET.values[k - 1])
    shifted = build("source_shift", FAST).fit(SOURCES).forecast(prefix(TARGET, k), 40).mean
    mean = np.mean([s.values for s in SOURCES], axis=0)
    np.testing.assert_allclose(shifted, np.clip(mean[k:] - mean[k - 1] + TARGET.values[k - 1], 0, 1))


def test_poly_fits_the_prefix_or_pools_the_sources():
    x = np.arange(1, 41)
    quad = Series("q", 0.1 + 0.02 * x - 0.0003 * x**2)
    poly = {fit_on: build("poly", with_params(FAST, poly__degree=2, poly__fit_on=fit_on)).fit(SOURCES)
            for fit_on in ("prefix", "pooled")}
    exact = poly["prefix"].forecast(prefix(quad, 10), 40).mean
    np.testing.assert_allclose(exact, quad.values[10:], atol=1e-9)
    pooled = poly["pooled"].forecast(prefix(quad, 10), 40).mean
    assert np.abs(pooled - quad.values[10:]).max() > 0.01


def test_lstm_is_deterministic_and_learns_better_than_holding_flat():
    a = build("lstm", FAST).fit(SOURCES).forecast(prefix(TARGET, 8), 40).mean
    b = build("lstm", FAST).fit(SOURCES).forecast(prefix(TARGET, 8), 40).mean
    np.testing.assert_array_equal(a, b)
    flat = np.full(32, TARGET.values[7])
    assert np.sqrt(np.mean((a - TARGET.values[8:]) ** 2)) < np.sqrt(np.mean((flat - TARGET.values[8:]) ** 2))


def test_lstm_state_roundtrips_through_weights_only_load(tmp_path):
    fitted = build("lstm", FAST).fit(SOURCES)
    torch.save(fitted.state_dict(), tmp_path / "lstm.pt")
    fresh = build("lstm", FAST)
    fresh.load_state_dict(torch.load(tmp_path / "lstm.pt", weights_only=True))
    np.testing.assert_array_equal(fresh.forecast(prefix(TARGET, 8), 40).mean,
                                  fitted.forecast(prefix(TARGET, 8), 40).mean)


def test_lstm_ensemble_gives_an_interval_around_its_mean():
    ensemble = with_params(FAST, features__window=4, lstm__hidden=8, lstm__steps=30, lstm__ensemble=3)
    lstm = build("lstm", ensemble).fit(SOURCES)
    fc = lstm.forecast(prefix(TARGET, 8), 40)
    assert fc.lower is not None and (fc.lower <= fc.mean + 1e-12).all() and (fc.mean <= fc.upper + 1e-12).all()


def test_lr_inputs_need_an_lr_column():
    from lcpipe.errors import LcpipeError
    lstm = build("lstm", with_params(FAST, features__inputs=["epoch", "acc", "delta", "lr"]))
    with pytest.raises(LcpipeError, match="need an lr column"):
        lstm.fit(SOURCES)


def test_lr_inputs_with_a_target_lacking_lr_is_a_clear_error():
    from lcpipe.errors import LcpipeError
    with_lr = [Series(s.name, s.values, np.full(40, 0.1)) for s in SOURCES]
    lstm = build("lstm", with_params(FAST, features__window=4, features__inputs=["epoch", "acc", "delta", "to_drop"],
                                    lstm__hidden=8, lstm__steps=5)).fit(with_lr)
    with pytest.raises(LcpipeError, match="need an lr column covering all 40 epochs of the target"):
        lstm.forecast(prefix(TARGET, 8), 40)


@pytest.mark.parametrize("name", PREDICTORS)
def test_each_registered_class_is_named_by_its_registry_key(name):
    """from_params reads the params section named by the class's `name`: a class registered under
    another key would be built without its own hyperparameters."""
    assert predictor_class(name).name == name


@pytest.mark.parametrize("name", PREDICTORS)
def test_every_predictor_builds_with_no_arguments_and_gets_the_params_yaml_values(name):
    """The scikit-learn convention: `Auto()` is the tuned forecaster; params.yaml states the same values."""
    from lcpipe.config import load_params

    bare, configured = predictor_class(name)(), build(name, load_params(ROOT / "params.yaml"))
    assert vars(bare) == vars(configured)


def test_the_registrys_learned_list_is_the_classes_flag_and_what_the_fit_stage_fits():
    from lcpipe.forecasting.registry import LEARNED
    from lcpipe.pipeline.fit import LEARNED as FITTED

    assert set(LEARNED) == {n for n in PREDICTORS if predictor_class(n).learned} == set(FITTED)
