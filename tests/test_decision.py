import numpy as np
from scipy.stats import kendalltau

from lcpipe.forecasting.decision import decisions, kendall_tau


def test_kendall_tau_b_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(100):
        a, b = rng.integers(0, 4, 6).astype(float), rng.integers(0, 4, 6).astype(float)
        ours, ref = kendall_tau(a, b), kendalltau(a, b).statistic
        assert (np.isnan(ours) and np.isnan(ref)) or abs(ours - ref) < 1e-12


def row(target, predicted, actual, cutoff=10, predictor="p"):
    return {"target": target, "cutoff": cutoff, "predictor": predictor,
            "final_predicted": predicted, "final_actual": actual}


def test_decision_picks_the_highest_forecast_and_counts_epochs_saved():
    rows = [row("a", 0.9, 0.80), row("b", 0.7, 0.95), row("c", 0.5, 0.60)]
    (d,) = decisions(rows, {"a": 50, "b": 50, "c": 40})
    assert d["picked"] == "a" and d["best"] == "b" and not d["picked_best"]
    assert d["regret"] == 0.95 - 0.80
    assert d["epochs_saved"] == (50 - 10) + (40 - 10) and d["epochs_total"] == 140
    assert d["kendall_tau"] == 0.3333  # pairs (a,b) discordant, (a,c) and (b,c) concordant: (2 - 1) / 3
