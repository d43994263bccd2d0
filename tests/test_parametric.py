"""The parametric (Domhan et al. 2015) predictor: each family recovers its own curve, the
ensemble recovers a pow3 curve, and odd prefixes give finite, ordered, in-range forecasts."""

import warnings

import numpy as np
import pytest

from lcpipe.config import Params
from lcpipe.curve import Series
from lcpipe.forecasting.predictors import parametric
from lcpipe.forecasting.predictors.parametric import FAMILIES, Parametric
from lcpipe.forecasting.registry import build
from tests.helpers import with_params

# one curve per family, made by the family itself with parameters inside its bounds
TRUE_PARAMS = {
    "pow3": (0.9, 0.6, 0.5),
    "pow4": (0.9, 0.8, 2.0, 0.7),
    "log_power": (0.9, np.log(5.0), -1.2),
    "exp4": (0.9, 0.3, -0.5, 0.6),
    "mmf": (0.9, 0.1, 0.1, 1.5),
    "janoschek": (0.9, 0.1, 0.1, 0.8),
    "weibull": (0.9, 0.1, 0.08, 0.8),
    "ilog2": (0.95, 0.4),
    "vapor_pressure": (-0.05, -1.0, -0.01),
    "hill": (0.9, 1.2, 5.0),
}


def prefix_only(families=None) -> Parametric:
    """The paper's setting: no prior from the sources (prior_weight 0)."""
    return Parametric(list(FAMILIES) if families is None else families, 0.0).fit([])


def curve_of(name, n):
    return FAMILIES[name][0](np.arange(1.0, n + 1), *TRUE_PARAMS[name])


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def check_shape(fc, k, horizon):
    for a in (fc.mean, fc.lower, fc.upper):
        assert a.shape == (horizon - k,)
        assert np.all(np.isfinite(a)) and a.min() >= 0.0 and a.max() <= 1.0
    assert np.all(fc.lower <= fc.mean + 1e-12) and np.all(fc.mean <= fc.upper + 1e-12)


def test_every_family_is_tested():
    assert set(TRUE_PARAMS) == set(FAMILIES)


def test_formulas_are_the_papers():
    """Each family against the paper's formula, written out independently here."""
    x = np.array([1.0, 2.0, 7.0, 50.0])
    a, b, c, d = 0.9, 0.3, 0.2, 0.7
    paper = {
        "pow3": (c - b * x ** -d, (c, b, d)),
        "log_power": (a / (1 + (x / np.exp(b)) ** -d), (a, b, -d)),
        "exp4": (a - np.exp(-b * x ** d + c), (a, b, c, d)),
        "mmf": (a - (a - c) / (1 + (b * x) ** d), (a, c, b, d)),
        "janoschek": (a - (a - c) * np.exp(-b * x ** d), (a, c, b, d)),
        "weibull": (a - (a - c) * np.exp(-((b * x) ** d)), (a, c, b, d)),
        "ilog2": (a - b / np.log(x + 1), (a, b)),
        "vapor_pressure": (np.exp(-b - c / x + 0.01 * np.log(x)), (-b, -c, 0.01)),
        "hill": (a * x ** d / (b ** d + x ** d), (a, d, b)),
    }
    for name, (expected, params) in paper.items():
        np.testing.assert_allclose(FAMILIES[name][0](x, *params), expected, err_msg=name)
    # pow4 is c - (a'x + b')^-alpha, stored as c - a (x + b)^-alpha with a = a'^-alpha, b = b'/a'
    a1, b1 = 0.5, 1.5
    np.testing.assert_allclose(FAMILIES["pow4"][0](x, a, a1 ** -d, b1 / a1, d),
                               a - (a1 * x + b1) ** -d)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_family_recovers_its_own_curve(name):
    truth = curve_of(name, 150)
    assert truth.min() > 0.05 and truth.max() < 1.0 and truth[-1] - truth[0] > 0.2
    fc = prefix_only([name]).forecast(Series(name, truth[:30]), 150)
    assert rmse(fc.mean, truth[30:]) < 0.01


def test_ensemble_recovers_a_noisy_pow3_curve():
    rng = np.random.default_rng(0)
    truth = curve_of("pow3", 160)
    acc = truth + rng.normal(0, 0.003, 160)
    fc = prefix_only().forecast(Series("pow3", acc[:25]), 160)
    check_shape(fc, 25, 160)
    assert rmse(fc.mean, truth[25:]) < 0.02
    last = np.full(135, acc[24])  # and it beats holding the last value by a wide margin
    assert rmse(fc.mean, truth[25:]) < 0.3 * rmse(last, truth[25:])


ODD = {
    "flat": np.full(30, 0.6),
    "at_one": np.ones(30),
    "stuck_at_chance": np.full(30, 0.1),
    "at_zero": np.zeros(30),
    "collapsing": np.concatenate([np.linspace(0.3, 0.8, 15), np.linspace(0.8, 0.1, 15)]),
    "noisy": np.clip(0.5 + np.random.default_rng(1).normal(0, 0.2, 30), 0, 1),
    "six_points": np.array([0.2, 0.35, 0.45, 0.5, 0.56, 0.58]),
    "four_points": np.array([0.2, 0.35, 0.45, 0.5]),
}


@pytest.mark.parametrize("name", list(ODD))
def test_odd_prefixes_give_finite_ordered_forecasts_without_warnings(name):
    acc = ODD[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fc = prefix_only().forecast(Series(name, acc), 100)
    assert not caught, [str(w.message) for w in caught]
    check_shape(fc, len(acc), 100)


@pytest.mark.parametrize("level", [0.1, 0.6, 1.0])
def test_flat_curve_stays_flat(level):
    fc = prefix_only().forecast(Series("flat", np.full(20, level)), 80)
    assert np.abs(fc.mean - level).max() < 0.02


@pytest.mark.parametrize("name", ["four_points", "six_points"])
def test_short_rising_prefix_keeps_rising(name):
    acc = ODD[name]
    fc = prefix_only().forecast(Series(name, acc), 50)
    assert fc.mean[-1] > acc[-1]
    assert np.all(np.diff(fc.mean) >= -1e-9)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_too_short_prefix_holds_last_value(k):
    acc = np.array([0.2, 0.3, 0.4])[:k]
    fc = prefix_only().forecast(Series("tiny", acc), 10)
    assert np.array_equal(fc.mean, np.full(10 - k, acc[-1]))
    assert np.array_equal(fc.lower, fc.mean) and np.array_equal(fc.upper, fc.mean)


def test_failing_fits_fall_back_to_last_value(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("no convergence")

    monkeypatch.setattr(parametric, "curve_fit", boom)
    acc = curve_of("pow3", 20)
    fc = prefix_only().forecast(Series("x", acc), 50)
    assert np.array_equal(fc.mean, np.full(30, acc[-1]))
    assert np.array_equal(fc.lower, fc.mean) and np.array_equal(fc.upper, fc.mean)


def test_non_finite_fits_are_dropped(monkeypatch):
    nan_fit = lambda f, x, y, p0, **kw: (np.full(len(p0), np.nan), None)
    monkeypatch.setattr(parametric, "curve_fit", nan_fit)
    acc = curve_of("pow3", 20)
    assert parametric.fit_family("pow3", acc, 50) is None
    fc = prefix_only().forecast(Series("x", acc), 50)
    assert np.array_equal(fc.mean, np.full(30, acc[-1]))


def test_no_families_falls_back_to_last_value():
    acc = curve_of("pow3", 20)
    fc = prefix_only([]).forecast(Series("x", acc), 50)
    assert np.array_equal(fc.mean, np.full(30, acc[-1]))


def test_interval_widens_when_families_disagree():
    """A clean pow3 prefix: the families agree; a noisy one: the interval must be wider."""
    truth = curve_of("pow3", 100)
    noisy = truth + np.random.default_rng(2).normal(0, 0.03, 100)
    clean = prefix_only().forecast(Series("clean", truth[:20]), 100)
    rough = prefix_only().forecast(Series("rough", noisy[:20]), 100)
    width = lambda fc: float(np.mean(fc.upper - fc.lower))
    assert width(clean) < 0.05 < width(rough)


def test_sources_are_ignored_by_default_and_anchor_the_end_with_a_prior():
    acc = curve_of("pow3", 120)[:10]
    sources = [Series(f"s{i}", np.full(120, 0.97)) for i in range(3)]
    plain = prefix_only().forecast(Series("t", acc), 120)
    fitted = Parametric(list(FAMILIES), 0.0).fit(sources).forecast(Series("t", acc), 120)
    assert np.array_equal(plain.mean, fitted.mean)
    prior = Parametric(list(FAMILIES), 10.0).fit(sources).forecast(Series("t", acc), 120)
    assert abs(prior.mean[-1] - 0.97) < abs(plain.mean[-1] - 0.97) - 0.02


def test_built_by_name_from_its_params_section():
    p = build("parametric", with_params(Params(), parametric__prior_weight=1.5, parametric__families=["pow3"]))
    assert isinstance(p, Parametric) and p.name == "parametric" and not p.learned
    assert (p.families, p.prior_weight) == (["pow3"], 1.5)
    rng = np.random.default_rng(3)
    acc = np.clip(curve_of("pow3", 164) + rng.normal(0, 0.01, 164), 0, 1)
    acc[82:] += 0.05  # an lr drop
    check_shape(p.fit([]).forecast(Series("long", acc[:163]), 164), 163, 164)


def test_config_lists_exactly_the_implemented_families():
    from lcpipe.config import CURVE_FAMILIES

    assert set(CURVE_FAMILIES) == set(parametric.FAMILIES)


def test_a_long_prefix_is_fitted_on_evenly_spaced_points_to_the_same_forecast(monkeypatch):
    """A run logged every step has tens of thousands of points; fitting on FIT_POINTS of them, each standing
    for its neighbours, must forecast what the fit on every point forecasts."""
    t = np.arange(1, 6_001)
    noisy = 0.9 - 0.8 * t ** -0.4 + np.random.default_rng(0).normal(0, 0.01, len(t))
    prefix, horizon = Series("run", np.clip(noisy, 0, 1)[:3_000]), 6_000
    # a prior worth 300 points on a final 5 points higher: it pulls as much whether the prefix is thinned or not
    predictor = Parametric(prior_weight=300).fit([Series("source", np.clip(noisy + 0.05, 0, 1))])
    thinned = predictor.forecast(prefix, horizon)
    monkeypatch.setattr(parametric, "FIT_POINTS", 10 ** 9)
    full = predictor.forecast(prefix, horizon)
    assert abs(thinned.mean[-1] - full.mean[-1]) < 0.002
    assert abs((thinned.upper[-1] - thinned.lower[-1]) - (full.upper[-1] - full.lower[-1])) < 0.002
