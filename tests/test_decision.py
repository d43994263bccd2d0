import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau, norm

from lcpipe.forecasting.decision_scores import decisions, kendall_tau
from lcpipe.forecasting.stop_rule import STOP_BELOW, keep, p_best, p_not_beaten


def test_kendall_tau_b_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(100):
        a, b = rng.integers(0, 4, 6).astype(float), rng.integers(0, 4, 6).astype(float)
        ours, ref = kendall_tau(a, b), kendalltau(a, b).statistic
        assert (np.isnan(ours) and np.isnan(ref)) or abs(ours - ref) < 1e-12


def test_p_best_of_two_runs_is_the_normal_difference():
    p = p_best(np.array([0.90, 0.88]), np.array([0.01, 0.02]))
    assert abs(p[0] - norm.cdf(0.02 / np.hypot(0.01, 0.02))) < 1e-6 and abs(p.sum() - 1) < 1e-12


def test_p_best_matches_monte_carlo_for_many_runs():
    rng = np.random.default_rng(1)
    mean, std = rng.uniform(0.80, 0.85, 6), rng.uniform(0.005, 0.03, 6)
    draws = rng.normal(mean, std, (400_000, 6))
    counts = np.bincount(draws.argmax(axis=1), minlength=6) / len(draws)
    np.testing.assert_allclose(p_best(mean, std), counts, atol=3e-3)


def test_certain_ties_share_the_win():
    np.testing.assert_allclose(p_best(np.full(3, 0.5), np.zeros(3)), 1 / 3)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 400), level=st.floats(0.1, 0.95), width=st.floats(0.005, 0.2),
       jitter=st.floats(0, 1e-4), seed=st.integers(0, 2**16))
def test_near_identical_runs_with_wide_bands_are_never_stopped_for_any_n(n, level, width, jitter, seed):
    """Many runs that look alike share the chance of being best; none of them loses, so none stops."""
    mean = level + np.random.default_rng(seed).uniform(-jitter, jitter, n)
    assert keep(mean, np.full(n, width)).all()


def test_one_clearly_dominated_run_is_stopped_and_only_it():
    mean = np.array([0.90, 0.91, 0.905, 0.60])
    assert keep(mean, np.full(4, 0.01)).tolist() == [True, True, True, False]


@settings(max_examples=80, deadline=None)
@given(n=st.integers(2, 12), seed=st.integers(0, 2**16), copy=st.integers(0, 11))
def test_adding_a_copy_of_a_run_never_changes_another_runs_decision(n, seed, copy):
    rng = np.random.default_rng(seed)
    mean, std = rng.uniform(0.5, 0.95, n), rng.uniform(0.001, 0.08, n)
    copy %= n
    before = keep(mean, std)
    after = keep(np.r_[mean, mean[copy]], np.r_[std, std[copy]])
    others = [i for i in range(n) if i != copy]
    assert (after[others] == before[others]).all()
    assert after[copy] >= before[copy] and after[-1] == after[copy]  # a copy is never beaten by its twin


def test_runs_seen_at_one_step_are_compared_relative_to_each_other():
    """Two runs seen at the same step share most of their forecast error (SAME_STEP), so a gap the
    absolute rule calls a toss-up stops the lower run; seen at different steps it does not."""
    mean, std = np.array([0.80, 0.77]), np.array([0.04, 0.04])
    assert keep(mean, std, seen=[10, 10]).tolist() == [True, False]
    assert keep(mean, std, seen=[10, 20]).tolist() == [True, True]
    assert keep(mean, std).tolist() == [True, True]  # no steps given: the cross-step correlation
    p_same = p_not_beaten(mean, std, seen=np.array([10, 10]))[1]
    p_apart = p_not_beaten(mean, std, seen=np.array([10, 20]))[1]
    assert p_same < STOP_BELOW <= p_apart


def test_a_run_with_no_rival_is_kept():
    assert keep(np.array([0.1]), np.array([0.01])).tolist() == [True]


def test_stop_rule_is_fast_for_a_thousand_runs():
    rng = np.random.default_rng(0)
    mean, std = rng.uniform(0.5, 0.95, 1000), rng.uniform(0.001, 0.08, 1000)
    assert p_not_beaten(mean, std).shape == (1000,)


def row(target, predicted, actual, cutoff=10, predictor="p", band=0.0):
    return {"target": target, "cutoff": cutoff, "predictor": predictor, "final_predicted": predicted,
            "final_actual": actual, "final_lower": predicted - band, "final_upper": predicted + band}


def test_decision_stops_the_unlikely_runs_and_scores_what_was_kept():
    rows = [row("a", 0.9, 0.80), row("b", 0.7, 0.95), row("c", 0.5, 0.60)]
    (d,) = decisions(rows, {"a": 50, "b": 50, "c": 40})
    assert d["kept"] == ["a"] and d["best"] == "b" and not d["best_kept"]
    assert d["regret"] == 0.95 - 0.80
    assert d["epochs_saved"] == (50 - 10) + (40 - 10) and d["epochs_total"] == 140
    assert d["kendall_tau"] == 0.3333  # pairs (a,b) discordant, (a,c) and (b,c) concordant: (2 - 1) / 3


def test_wide_intervals_keep_more_runs_and_lose_nothing():
    # runs seen at one cutoff share most of their forecast error: only bands wide against the gap keep b
    rows = [row("a", 0.9, 0.80, band=0.5), row("b", 0.7, 0.95, band=0.5), row("c", 0.5, 0.60, band=0.5)]
    (d,) = decisions(rows, {"a": 50, "b": 50, "c": 40})
    assert d["best_kept"] and d["regret"] == 0.0 and "b" in d["kept"]


def test_a_loss_is_decided_by_the_loss_rule_which_stops_less_on_the_same_forecasts():
    """Two runs seen at one step, the second forecast 1.2 % behind: an accuracy's rule (same_step 0.8,
    stop_below 0.2) stops it, a loss's (0.8, 0.05; each chosen leave-one-family-out on curves of its
    kind) keeps it, and the sweep's decision report applies the loss's rule to a loss."""
    from lcpipe.forecasting.stop_rule import rule_for
    from lcpipe.metric import Metric

    mean, std = np.array([0.0, -0.012]), np.array([0.01, 0.01])
    assert keep(mean, std, seen=0, **rule_for("fraction")).tolist() == [True, False]
    assert keep(mean, std, seen=0, **rule_for("positive")).tolist() == [True, True]

    loss = Metric.infer("test_loss")
    user = loss.from_internal(mean)  # the same two forecasts as losses, bands of the same width
    lower, upper = loss.from_internal(mean + 1.2816 * std), loss.from_internal(mean - 1.2816 * std)
    rows = [{"cutoff": 5, "predictor": "auto", "target": t, "final_actual": float(u), "final_predicted": float(u),
             "final_lower": float(lo), "final_upper": float(hi)}
            for t, u, lo, hi in zip(("a", "b"), user, lower, upper)]
    assert decisions(rows, {"a": 20, "b": 20}, loss)[0]["kept"] == ["a", "b"]
    accuracy_rows = [{**r, "final_actual": float(m + 0.5), "final_predicted": float(m + 0.5),
                      "final_lower": float(m + 0.5 - 1.2816 * s), "final_upper": float(m + 0.5 + 1.2816 * s)}
                     for r, m, s in zip(rows, mean, std)]
    assert decisions(accuracy_rows, {"a": 20, "b": 20})[0]["kept"] == ["a"]
