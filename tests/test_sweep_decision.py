"""The sweep's decision report is honest: made from every arch's first `cutoff` epochs and a history
that holds none of them, so what the archs do after the cutoff changes no forecast behind it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from lcpipe.config import Params
from lcpipe.pipeline.sweep import sweep
from tests.helpers import EXTERNAL_CURVES, curve_csv, learning_curve

ARCHS = ["resnet34", "resnet50", "plain34", "plain50"]


def write_archs(folder: Path, late_shift: float) -> None:
    folder.mkdir(parents=True)
    for i, arch in enumerate(ARCHS):
        acc = learning_curve(30, final=0.6 + 0.1 * i, noise=0.005, seed=i)
        acc[10:] += late_shift * (-1) ** i  # what happens after the last cutoff
        (folder / f"{arch}.csv").write_text(curve_csv(acc))


def decision_rows(tmp: Path, late_shift: float) -> list[dict]:
    p = Params()
    p = replace(p, train=replace(p.train, epochs=30),
                sweep=replace(p.sweep, cutoffs=[5, 10], predictors=["auto", "last_value", "parametric"]))
    write_archs(tmp / "curves", late_shift)
    outputs = {name: tmp / name for name in ("json_out", "results_out", "md_out", "plot_out", "decision_out",
                                             "rmse_out", "forecasts_dir", "figures_dir")}
    sweep(p, tmp / "curves", EXTERNAL_CURVES, **outputs)
    return json.loads((tmp / "results_out").read_text())["decision_results"]


@pytest.fixture(scope="module")
def unshifted(tmp_path_factory) -> Path:
    """One sweep of the four archs with nothing after the last cutoff shifted: its outputs' folder."""
    tmp = tmp_path_factory.mktemp("sweep")
    decision_rows(tmp, 0.0)
    return tmp


def test_the_decision_never_sees_a_candidates_future(unshifted, tmp_path):
    before = json.loads((unshifted / "results_out").read_text())["decision_results"]
    after = decision_rows(tmp_path / "b", 0.1)
    assert len(before) == len(after) == 4 * 2 * 3
    for x, y in zip(before, after):
        assert (x["target"], x["cutoff"], x["predictor"]) == (y["target"], y["cutoff"], y["predictor"])
        assert x["final_predicted"] == y["final_predicted"] and x.get("final_upper") == y.get("final_upper")
    assert any(x["final_actual"] != y["final_actual"] for x, y in zip(before, after))


def test_decision_json_says_how_many_runs_each_predictor_stopped_and_whether_it_decides(unshifted):
    """metrics/decision.json, what `dvc metrics show/diff` prints: the runs stopped beside the regret and epochs
    saved, and `decides` false for a predictor with no interval (it keeps every run, by design, not by its rule)."""
    made = json.loads((unshifted / "decision_out").read_text())
    results = json.loads((unshifted / "results_out").read_text())["decision_results"]
    assert set(made) == {"metric", "cutoff_5", "cutoff_10"}
    for cutoff in ("cutoff_5", "cutoff_10"):
        assert made[cutoff]["last_value"]["decides"] is False and made[cutoff]["last_value"]["runs_stopped"] == 0
        assert made[cutoff]["auto"]["decides"] is True
        for scores in made[cutoff].values():
            assert 0 <= scores["runs_stopped"] <= 3  # of 4 archs, the best kept at least
            assert (scores["runs_stopped"] == 0) == (scores["epochs_saved"] == 0)
    assert {r["predictor"] for r in results} == {"auto", "last_value", "parametric"}
