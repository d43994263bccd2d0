"""Defects found in the eighteenth session (2026-12-07, evening): each test fails on the code before its fix."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("name, mode, kind", [
    # LightGBM's evals_result_ names its metrics by the objective: each was read as a score to maximise
    ("poisson", "min", "any"),  # a negative log-likelihood with its constant dropped: may go below 0
    ("valid_0-gamma", "min", "any"),
    ("tweedie", "min", "any"),
    ("quantile", "min", "positive"),  # the pinball loss
    ("fair", "min", "positive"),
    ("gamma_deviance", "min", "positive"),  # a deviance is >= 0
    ("kullback_leibler", "min", "positive"),
    # ... while these keep their reading
    ("deviance_explained", "max", "any"),
    ("explained_variance", "max", "any"),  # scikit-learn's score
    ("gamma_acc", "max", "fraction"),
    ("fairness", "max", "any"),
])
def test_lightgbm_metric_names(name, mode, kind):
    from lcpipe.metric import Metric
    metric = Metric.infer(name)
    assert (metric.mode, metric.kind) == (mode, kind)
