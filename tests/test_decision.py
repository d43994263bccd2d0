import numpy as np
from scipy.stats import kendalltau, norm

from lcpipe.forecasting.decision import decisions, keep, kendall_tau, p_best


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


def test_certain_ties_share_the_win_and_the_likeliest_winner_is_always_kept():
    np.testing.assert_allclose(p_best(np.full(3, 0.5), np.zeros(3)), 1 / 3)
    assert keep(np.array([0.01, 0.02, 0.03]), epsilon=0.5).tolist() == [False, False, True]


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
    rows = [row("a", 0.9, 0.80, band=0.2), row("b", 0.7, 0.95, band=0.2), row("c", 0.5, 0.60, band=0.2)]
    (d,) = decisions(rows, {"a": 50, "b": 50, "c": 40}, epsilon=0.05)
    assert d["best_kept"] and d["regret"] == 0.0 and "b" in d["kept"]
