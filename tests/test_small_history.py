"""A history of a few finished curves (a user's own three runs, say): its 80 % intervals are calibrated on what it
has, and where it has too little, the forecast says so. Each test failed on the code before its fix (c2218ec)."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import lcpipe
from tests.helpers import ROOT, cli_in_process

FIXTURES = ROOT / "tests" / "fixtures"


def _cut(source, name: str, dest, metric: str, x: str) -> tuple[int, float]:
    """Run `name` cut at 20 % of its length into `dest` (with its sidecar): (its last epoch or step, its final)."""
    df = pd.read_csv(source / f"{name}.csv").dropna(subset=[metric])
    last = int(df[x].iloc[-1])
    df.iloc[:max(6, int((df[x] <= 0.2 * last).sum()))].to_csv(dest / f"{name}.csv", index=False)
    shutil.copy(source / f"{name}.json", dest / f"{name}.json")
    return last, float(df[metric].iloc[-1])


@pytest.mark.parametrize("study, metric, x, least", [
    ("adabelief-c10-resnet34", "test_acc", "epoch", 5),  # 4 of 6 before
    ("algoperf-ogbg-nadamw", "val_loss", "step", 6),  # 4 of 7 before
])
def test_three_finished_runs_give_intervals_that_hold_the_other_runs_finals(tmp_path, study, metric, x, least):
    """A study's first three finished runs as the history of its others, each seen at 20 % of its length. Three
    curves are too few for 5 held-out errors at any share of a run, so the intervals were the analogs' raw spread,
    which held 39-53 % of dev's finals from 2-4 foreign curves (0.8 claimed). Now they are calibrated on the errors
    the three have, never below a prediction interval from three samples."""
    source = FIXTURES / study
    names = sorted(p.stem for p in source.glob("*.csv"))
    history = tmp_path / "history"
    history.mkdir()
    for name in names[:3]:
        for suffix in (".csv", ".json"):
            shutil.copy(source / f"{name}{suffix}", history / f"{name}{suffix}")
    held = 0
    for name in names[3:]:
        live = tmp_path / name
        live.mkdir()
        last, final = _cut(source, name, live, metric, x)
        length = {"steps": last} if x == "step" else {"epochs": last}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row = lcpipe.forecast(history=history, runs=live, metric=metric, **length).iloc[0]
        assert row.lower < row.final < row.upper and np.isfinite(row.upper)
        held += row.lower <= final <= row.upper
    assert held >= least, f"{held} of {len(names) - 3} finals inside their 80 % intervals"


def _two_curve_history(tmp_path):
    source = FIXTURES / "adabelief-c10-resnet34"
    names = sorted(p.stem for p in source.glob("*.csv"))
    history, runs = tmp_path / "history", tmp_path / "runs"
    history.mkdir()
    runs.mkdir()
    for name in names[:2]:
        for suffix in (".csv", ".json"):
            shutil.copy(source / f"{name}{suffix}", history / f"{name}{suffix}")
    for name in names[2:5]:
        _cut(source, name, runs, "test_acc", "epoch")
    return history, runs


def test_a_history_too_small_to_calibrate_says_its_intervals_are_uncalibrated(tmp_path):
    """Two finished curves leave nothing to hold out: the intervals stay the analogs' own spread, and the CLI and
    the Python API say so in one line (from 2 foreign dev curves such bands held 39 % of the finals), naming the
    remedy. Three runs of one study calibrate, and say nothing."""
    history, runs = _two_curve_history(tmp_path)
    result = cli_in_process("forecast", "--history", str(history), "--runs", str(runs), "--epochs", "200")
    assert result.code == 0, result.err
    said = [line for line in result.err.splitlines() if "too few to calibrate" in line]
    assert len(said) == 1 and said[0].startswith("note: a history of 2 curves") \
        and "it takes 3 runs of one recipe" in said[0] and "add finished curves to the history" in said[0], result.err
    with pytest.warns(UserWarning, match="a history of 2 curves is too few to calibrate the 80 % intervals"):
        lcpipe.forecast(history=history, runs=runs, epochs=200)

    source = FIXTURES / "adabelief-c10-resnet34"
    third = sorted(p.stem for p in source.glob("*.csv"))[5]
    for suffix in (".csv", ".json"):
        shutil.copy(source / f"{third}{suffix}", history / f"{third}{suffix}")
    calibrated = cli_in_process("forecast", "--history", str(history), "--runs", str(runs), "--epochs", "200")
    assert calibrated.code == 0 and "too few to calibrate" not in calibrated.err, calibrated.err


def test_a_direction_two_curves_cannot_tell_is_not_called_no_direction(tmp_path):
    """--mode auto on a name that says no direction takes the history's, from 3 curves that move: two rising curves
    were said to 'not move one way (0 of 2 fall)', which they do. The line now says how many moved and how many
    it takes."""
    history, runs = tmp_path / "history", tmp_path / "runs"
    history.mkdir()
    runs.mkdir()
    steps = np.arange(1, 31) * 100
    for i, tau in enumerate((7.0, 8.0)):
        pd.DataFrame({"Step": steps, "Value": 0.9 - 0.3 * np.exp(-steps / 100 / tau)}).to_csv(
            history / f"run{i}.csv", index=False)
    pd.DataFrame({"Step": steps[:10], "Value": 0.9 - 0.3 * np.exp(-steps[:10] / 500)}).to_csv(
        runs / "live.csv", index=False)
    result = cli_in_process("forecast", "--history", str(history), "--runs", str(runs), "--metric", "Value",
                            "--steps", "3000")
    assert result.code == 0, result.err
    assert "only 2 of its history curves move (2 rise, 0 fall; it takes 3 to tell a direction), so higher is " \
           "better" in result.err
    assert "do not move one way" not in result.err


def test_a_few_curves_calibrate_on_prefixes_of_three_evaluations_as_the_calibration_proper_does():
    """Review: the few-curve calibration took the 1- and 2-point prefixes of 30-epoch history curves too, which
    CALIBRATION_MIN_POINTS keeps out of the calibration proper (such a prefix errs several times more than a 3-point
    one). One 1-point prefix's error set the band of a 200-epoch run seen at epoch 5 to [0.41, 1.00] around a final
    of 0.92. Where 3-point prefixes give errors enough, they alone calibrate."""
    from lcpipe.curve import Series
    from lcpipe.forecasting.predictors.auto import CALIBRATION_MIN_POINTS, Auto

    def curve(lr: float, seed: int, epochs: int = 30) -> np.ndarray:
        final = 0.92 - 0.08 * (np.log10(lr) + 2) ** 2
        tau = (3 + 4 * abs(np.log10(lr) + 2)) * epochs / 30
        t = np.arange(1, epochs + 1)
        noise = np.random.default_rng(seed).normal(0, 0.004, epochs)
        return np.clip(final - (final - 0.1) * np.exp(-t / tau) + noise, 0, 1)

    auto = Auto().fit([Series(f"h{i}", curve(lr, 100 + i)) for i, lr in enumerate([1e-3, 3e-2, 1e-1])])
    shares = np.exp(auto.final_q_[0])
    assert shares.min() * 30 >= CALIBRATION_MIN_POINTS - 1e-9, shares
    live = curve(0.01, 999, 200)
    fc = auto.forecast(Series("run", live[:5]), 200)
    assert fc.lower[-1] <= live[-1] <= fc.upper[-1] and fc.upper[-1] - fc.lower[-1] < 0.25


def test_the_early_stop_recipe_of_four_runs_calibrates_its_checks_and_stops_no_best_run(tmp_path):
    """The README's early-stop recipe keeps the last run's 4 curves as stop.history. At a check the run's own curve
    is left out and the rival (the best) is forecast by a model fitted without it: 2 curves, whose band was the raw
    spread. Such a model is now calibrated by the errors of forecasting each of the 3 from the other two. On the 9
    AdaBelief runs in groups of 4, checked at epochs 20 / 40 / 80 of 200: bands held 17 of 36 finals and 4 of 15 stops
    were of the group's best run; now 30 of 36, and 1 of 10."""
    from lcpipe.config import StopParams
    from lcpipe.forecasting.run_stopper import Stopper

    source = FIXTURES / "adabelief-c10-resnet34"
    names = sorted(p.stem for p in source.glob("*.csv"))
    held = wrong = 0
    for start in (0, 4, 5):
        group = names[start:start + 4]
        history = tmp_path / f"history{start}"
        history.mkdir()
        for name in group:
            for suffix in (".csv", ".json"):
                shutil.copy(source / f"{name}{suffix}", history / f"{name}{suffix}")
        curves = {name: pd.read_csv(source / f"{name}.csv") for name in group}
        best = max(df.test_acc.iloc[-1] for df in curves.values())
        for check in (20, 40, 80):
            for name, df in curves.items():
                rows = [{"epoch": int(r.epoch), "test_acc": float(r.test_acc), "train_acc": float(r.train_acc)}
                        for r in df.iloc[:check].itertuples()]
                verdict = Stopper(StopParams(at=[check], history=str(history)), epochs=len(df)).check(rows)
                assert verdict.left_out == (name,)  # its own curve is no analog
                final = df.test_acc.iloc[-1]
                held += verdict.lower <= final <= verdict.upper
                wrong += verdict.stop and final >= best - 0.002
    assert held >= 27 and wrong <= 1, (held, wrong)
