"""Sixth 2026-12-06 session: each test fails on the code before its fix (dedcfd1)."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest

from lcpipe.curve import Series
from lcpipe.forecasting.predictors import auto as auto_module
from lcpipe.forecasting.predictors.auto import Auto
from lcpipe.integrations.optuna import ForecastPruner
from tests.helpers import ROOT, step_schedule_history

CIFAR = ROOT / "data" / "history" / "cifar10-plain-vs-resnet"
WMT = ROOT / "tests" / "fixtures" / "algoperf-wmt-nadamw"


def _curve(x: float, seed: int) -> np.ndarray:
    """Issue 24's red-team study: flat at chance (0.09) below x = 0.15, else rising to 0.3 + 0.65 x."""
    rng, t = np.random.default_rng(seed), np.arange(1, 51)
    if x < 0.15:
        return 0.09 + rng.normal(0, 0.003, 50)
    return (0.3 + 0.65 * x) * (1 - np.exp(-t / 8)) + rng.normal(0, 0.005, 50)


def test_a_trial_flat_at_chance_pruned_at_its_third_report_is_not_told_it_would_recover():
    """Issue 24 (high): a trial flat at 0.09 for three reports, pruned there, was handed final_forecast 0.73
    [0.63, 0.83] with a healthy history (CIFAR) and healthy completed trials, and TPE learns from that value. The
    stall test compared the prefix's first point with the mean of its last points, which at three points included
    it: the analogs' progress read as half of what it was, below STALL_MIN, so nothing looked stalled."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = ForecastPruner(epochs=50, history=CIFAR, fit_cache=False)
    # the red team's study as written: TPE picks the configs, two of its first ten flat
    study = optuna.create_study(direction="maximize", pruner=pruner, sampler=optuna.samplers.TPESampler(seed=3))
    told = {}

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        curve = _curve(x, trial.number)
        for step, value in enumerate(curve, start=1):
            trial.report(float(value), step)
            if trial.should_prune():
                told[trial.number] = (x, step, curve[-1], pruner.final_forecast(study, trial))
                return told[trial.number][3][0]
        return float(curve[-1])

    study.optimize(objective, n_trials=10)
    flat = {n: t for n, t in told.items() if t[0] < 0.15}
    assert flat, told  # the flat trials are pruned
    for x, step, final, (mean, lower, upper) in flat.values():
        assert lower <= final <= upper and mean < 0.3, (x, step, final, mean, lower, upper)


def test_a_three_point_prefix_lacking_its_analogs_progress_is_held_near_its_own_level():
    """The same at the forecaster: analogs low at first and rising slowly there (log-error falls little near 0),
    a run flat below them; before, its forecast was theirs."""
    t = np.arange(1, 51)  # slow at first, as low accuracies are in log-error: 0.06-0.08 shed over epochs 1-3
    history = [Series(f"h{i}", 0.13 + (0.6 + 0.05 * i) * (1 - np.exp(-t / 8))) for i in range(4)]
    fc = Auto(calibrate=False).fit(history).forecast(Series("flat", np.array([0.093, 0.095, 0.082])), 50)
    assert fc.mean[-1] < 0.2 and fc.lower[-1] <= 0.09 <= fc.upper[-1]


def _wmt_prefix_with_a_spike(folder, factor):
    """A real WMT loss run's first 12 evaluations (AlgoPerf, irregular steps) x 1.01 (not a prefix of a history
    curve), one of them in the middle x factor too."""
    lines = (WMT / "s0_t1.csv").read_text().splitlines()[:13]
    folder.mkdir()
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        step, loss, *rest = line.split(",")
        out.append(",".join([step, repr(float(loss) * 1.01 * (factor if i == 6 else 1)), *rest]))
    (folder / "run.csv").write_text("\n".join(out) + "\n")
    return folder


@pytest.mark.parametrize("factor", [1e6, 1e305])
def test_one_transient_loss_spike_does_not_decide_the_forecast(tmp_path, factor):
    """Red team: one evaluation of 1e6 (or 1e308, and then numpy's overflow warnings on stderr; 1e305 here, which
    x 1.01 stays finite) in the middle of a WMT run's prefix, the run back at its level the evaluation after: the
    forecast went from 1.39 [0.82, 2.33] to 4.54 [0.0009, 22315], and to 0 [0, inf]."""
    import subprocess
    import sys

    finals = {}
    for name, f in (("clean", 1.0), ("spiked", factor)):
        runs = _wmt_prefix_with_a_spike(tmp_path / name, f)
        done = subprocess.run([sys.executable, "-m", "lcpipe", "forecast", "--history",
                               str(WMT),
                               "--runs", str(runs), "--metric", "val_loss", "--steps", "133333",
                               "--out", str(tmp_path / f"{name}.json")], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0 and "Warning" not in done.stderr, done.stderr
        finals[name] = json.loads((tmp_path / f"{name}.json").read_text())["runs"][0]["final"]
    assert finals["spiked"]["mean"] == pytest.approx(finals["clean"]["mean"], rel=0.02)
    assert finals["spiked"]["upper"] < 2 * finals["clean"]["upper"]


def test_a_steep_monotone_prefix_and_its_latest_point_are_never_read_as_spikes():
    """The filter replaces a stretch standing out from both sides only: not a fast early descent, not a last point
    far above the others (a divergence starting)."""
    without_spikes = auto_module.without_spikes
    steep = np.log(np.array([[11.0, 4.1, 2.7, 2.3, 2.1, 2.0]]))
    assert np.array_equal(without_spikes(steep, False), steep)
    rising = np.log(np.array([[2.3, 2.1, 2.0, 1.9, 50.0]]))
    assert np.array_equal(without_spikes(rising, False), rising)
    spiked = np.log(np.array([[2.3, 2.1, 60.0, 1.95, 1.9]]))
    assert without_spikes(spiked, False)[0, 2] == pytest.approx(np.log(2.1 * 1.95) / 2)


def test_spikes_are_bad_side_only_a_point_between_two_is_kept_and_an_accuracy_near_100_flickers_freely():
    """Review of the first filter: a clean evaluation between two spikes was read as a spike (2.77 -> 8.78), and
    1.0 between 0.99s (log-errors 2.3 apart at the 1e-3 floor) was removed, pulling a run near 100 % down."""
    from lcpipe.forecasting.predictors.auto import log_error

    without_spikes = auto_module.without_spikes
    loss = np.log(np.array([[3.15, 3.01, 28.79, 2.77, 26.73, 2.59]]))
    assert np.exp(without_spikes(loss, False))[0] == pytest.approx([3.15, 3.01, np.sqrt(3.01 * 2.77), 2.77,
                                                                     np.sqrt(2.77 * 2.59), 2.59])
    for acc in ([0.98, 0.99, 0.999, 0.99, 0.991, 0.99], [0.97, 1.0, 0.99, 1.0, 0.99, 1.0]):
        flicker = log_error(np.array([acc]))
        assert np.array_equal(without_spikes(flicker, True), flicker)
    glitch = log_error(np.array([[0.95, 0.96, 0.5, 0.96, 0.97]]))  # one bad evaluation of an accuracy
    assert 1 - np.exp(without_spikes(glitch, True)[0, 2]) == pytest.approx(0.96, abs=1e-9)


def test_milestones_beside_a_cosine_schedule_are_no_lr_drops(tmp_path):
    """Red team: {"schedule": "cosine", "milestones": [50, 75]} (a template's leftover) was forecast as a step
    schedule with drops at 50 and 75, and stderr said the milestones were used."""
    import lcpipe

    step_schedule_history(tmp_path)
    run = {"r": list(0.5 - 0.4 * np.exp(-np.arange(1, 21) / 5))}

    def final(config):
        return lcpipe.forecast(tmp_path, run, epochs=100, configs={"r": config})["final"].iloc[0]

    cosine = {"schedule": "cosine", "lr": 0.1, "optimizer": "sgd"}
    assert final({**cosine, "milestones": [50, 75]}) == final(cosine)
    assert final({**cosine, "schedule": "step", "milestones": [50, 75]}) != final(cosine)


def test_the_python_api_warns_of_config_values_it_cannot_read_as_the_cli_says_them():
    """Red team: configs={"r": {"optimizer": ["sgd"]}} was ignored without a word (the CLI names it)."""
    import warnings

    import lcpipe

    t = np.arange(1, 41)
    history = {f"h{i}": list(0.9 - 0.5 * np.exp(-t / (5 + i))) for i in range(4)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lcpipe.forecast(history, {"r": list(0.88 - 0.5 * np.exp(-t[:10] / 6.5))}, epochs=40,
                        configs={"r": {"optimizer": ["sgd"], "lr": 0.1}})
    assert any("optimizer=['sgd']" in str(w.message) for w in caught), [str(w.message) for w in caught]


@pytest.mark.parametrize("as_frame", [False, True])
def test_a_run_named_none_is_one_line_naming_the_problem(as_frame):
    """Red team: runs={None: [...]} was read as a run named "None", its messages saying `None: 6 epochs observed`."""
    import pandas as pd

    import lcpipe
    from lcpipe.errors import LcpipeError

    runs = {None: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}
    with pytest.raises(LcpipeError, match="named None"):
        lcpipe.forecast({"a": [0.1, 0.25, 0.35, 0.45, 0.55, 0.6, 0.7], "b": [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75]},
                        pd.DataFrame(runs) if as_frame else runs, epochs=7)


@pytest.mark.parametrize("schedule", ["CosineAnnealingLR", "cosine_with_min_lr", "constant_with_warmup"])
def test_framework_names_of_smooth_schedules_are_read_as_smooth(schedule):
    """Review: only exact names counted ("cosine"), so PyTorch's and Hugging Face's names kept leftover milestones."""
    assert auto_module.smooth_schedule({"schedule": schedule})
    assert not auto_module.smooth_schedule({"schedule": "MultiStepLR"})
    assert not auto_module.smooth_schedule({"schedule": "PiecewiseConstantDecay(boundaries=[5, 15])"})


def test_a_huge_value_of_any_kind_over_a_tiny_scale_warns_nothing_raw():
    """Review: a reward history of range 0.01 and one run value of 1e308: numpy's overflow warning reached the user."""
    import warnings

    from lcpipe.metric import Metric

    metric = Metric.infer("reward", "max", kind="any").with_scale([np.array([0.0, 0.01, 0.005])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metric.to_internal(np.array([0.003, 1e308]))
