"""train.stop (the early_stop stage): a run forecasts its own final accuracy against a history of
finished curves and ends early when it is unlikely to reach the best of them (or stop.threshold);
the default pipeline's full curves are untouched."""

import json

import pytest

from lcpipe.config import StopParams
from lcpipe.forecasting.logs import read_curve
from lcpipe.forecasting.run_stopper import Stopper
from lcpipe.forecasting.stop_rule import STOP_BELOW
from tests.helpers import curve_csv, learning_curve, ran_stages

ARCHS = ("resnet34", "resnet50", "plain34", "plain50")


def write_history(directory, finals=(0.97, 0.95), start=0.3, epochs=8):
    directory.mkdir(parents=True, exist_ok=True)
    for i, final in enumerate(finals):
        acc = learning_curve(epochs, final=final, rate=0.6, start=start)
        (directory / f"done{i}.csv").write_text(curve_csv(acc))
    return directory


def rows_of(acc):
    return [{"epoch": e, "test_acc": a} for e, a in enumerate(acc, start=1)]


def test_a_run_far_below_the_best_history_curve_stops_at_the_check_epoch(tmp_path):
    stopper = Stopper(StopParams(at=[7], history=str(write_history(tmp_path))), epochs=8)
    assert stopper.check(rows_of([0.1, 0.12, 0.13])) is None  # not a check epoch
    verdict = stopper.check(rows_of(learning_curve(8, final=0.8, rate=0.6, start=0.3)[:7]))  # the same shape, lower
    assert verdict.stop and verdict.epoch == 7 and verdict.p_reach < STOP_BELOW
    assert verdict.bar == pytest.approx(learning_curve(8, final=0.97, rate=0.6, start=0.3)[-1])  # best final


def test_a_run_that_may_reach_the_bar_continues(tmp_path):
    history = str(write_history(tmp_path))
    leader = [0.5, 0.8, 0.9, 0.95]
    assert not Stopper(StopParams(at=[4], history=history), epochs=8).check(rows_of(leader)).stop
    low_bar = Stopper(StopParams(at=[4], history=history, threshold=0.05), epochs=8)
    assert not low_bar.check(rows_of([0.1, 0.12, 0.13, 0.14])).stop


def test_the_run_is_judged_against_the_best_history_run_as_it_was_at_the_same_epoch(tmp_path):
    """Relative, as ForecastPruner decides: at epoch 5 a run that will end at 0.92 looks like the best
    history run did at epoch 5 (both forecast about 0.93-0.94 by the forecaster fitted without that
    run), so it continues, where the absolute rule against the best final (0.97) stops it; by epoch
    10 it is behind where the best run was, and stops. (A run ending at 0.88, 9 points below, is
    stopped at epoch 5 already since the history's smoothing spans at most 1/8 of a 20-epoch run.)"""
    for i, final in enumerate((0.97, 0.95, 0.93, 0.90)):
        acc = learning_curve(20, final=final, rate=0.3, start=0.3, noise=0.005, seed=i)
        (tmp_path / f"done{i}.csv").write_text(curve_csv(acc))
    run = learning_curve(20, final=0.92, rate=0.3, start=0.3, noise=0.005, seed=9)
    early = Stopper(StopParams(at=[5], history=str(tmp_path)), epochs=20).check(rows_of(run[:5]))
    assert early.rival == "done0" and early.bar == pytest.approx(learning_curve(20, 0.97, 0.3, 0.3, 0.005, 0)[-1])
    assert not early.stop and early.p_reach > 0.3 and abs(early.rival_forecast - early.final) < 0.015
    late = Stopper(StopParams(at=[10], history=str(tmp_path)), epochs=20).check(rows_of(run[:10]))
    assert late.stop and "the best history run done0" in late.line("x")
    # the bar as a number is no run: the absolute rule, which would stop it at epoch 5 already
    fixed = Stopper(StopParams(at=[5], history=str(tmp_path), threshold=float(early.bar)), epochs=20)
    verdict = fixed.check(rows_of(run[:5]))
    assert verdict.rival == "" and verdict.stop and verdict.p_reach < STOP_BELOW


@pytest.mark.slow
def test_early_stop_stage_stops_runs_inside_dvc_repro_and_leaves_the_full_curves_alone(reproduced):
    """On a reproduced project, turning train.stop on reruns check_params and early_stop alone: no
    CNN of the pipeline is retrained and no downstream stage reruns."""
    project = reproduced
    curves_before = {a: (project.root / "data" / "curves" / f"{a}.csv").read_bytes() for a in ARCHS}
    (project.root / "history").mkdir()
    write_history(project.root / "history", finals=(0.995, 0.994), start=0.99)  # far out of reach for tiny nets
    project.set_params(stop__at=[5], stop__history="history")
    project.commit("stop at epoch 5 against a history no tiny net can reach")
    out = project.dvc("repro")
    assert set(ran_stages(out.stdout)) == {"check_params", "early_stop"}
    for arch in ARCHS:
        assert (project.root / "data" / "curves" / f"{arch}.csv").read_bytes() == curves_before[arch]
        assert len(read_curve(project.root / "data" / "early_stop" / f"{arch}.csv")) == 5
        sidecar = json.loads((project.root / "data" / "early_stop" / f"{arch}.json").read_text())
        assert sidecar["epochs"] == 8 and sidecar["stopped_at"] == 5 and sidecar["stop_checks"][0]["stop"]
        assert sidecar["optimizer"] == "sgd" and sidecar["arch"] == arch  # the run's config travels with it
        live = json.loads((project.root / ".lcpipe" / "early_stop_live" / arch / "metrics.json").read_text())
        assert live["stop"]["stopped_at"] == 5 and live["stop"]["p_reach"] < STOP_BELOW
    summary = json.loads((project.root / "metrics" / "early_stop.json").read_text())
    assert summary["enabled"] and summary["epochs_saved_fraction"] == pytest.approx(3 / 8)
    assert f"{ARCHS[0]} stop check at epoch 5" in out.stderr
    assert "early_stop: every arch was stopped" in out.stderr + out.stdout  # all stopped is said, not silent
