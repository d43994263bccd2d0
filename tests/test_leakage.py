"""No forecast may see the future it forecasts: changing a target's epochs after the cutoff in
its curve file leaves every registered predictor's forecast bit-identical (the predict stage,
from the curve files through windows and fit)."""

import csv

import numpy as np
import pytest

from lcpipe.config import Params
from lcpipe.forecasting.registry import PREDICTORS
from lcpipe.pipeline.fit import fit_learned
from lcpipe.pipeline.predict import predict
from lcpipe.pipeline.windows import build_windows
from tests.helpers import curve_csv, learning_curve, with_params

CUTOFF = 12
FORECAST_COLUMNS = ("epoch", "predicted", "lower", "upper")


def write_curve(path, acc):
    path.write_text(curve_csv(acc))


def forecast_of(p, curves, work):
    """The predict stage's forecast columns, after the windows and fit stages."""
    build_windows(p, curves, work / "windows.npz")
    fit_learned(p, work / "windows.npz", work / "predictors")
    predict(p, curves, work / "predictors", work / "predictions")
    (name,) = p.predict.predictors
    with open(work / "predictions" / f"{name}.csv") as fh:
        return [{k: v for k, v in row.items() if k in FORECAST_COLUMNS} for row in csv.DictReader(fh)]


@pytest.mark.parametrize("name", PREDICTORS)
def test_a_targets_epochs_after_the_cutoff_do_not_change_any_forecast(tmp_path, name):
    p = with_params(Params(), predict__predictors=[name], predict__cutoff=CUTOFF,
                    lstm__steps=20, lstm__hidden=8, lstm__ensemble=2)
    target = learning_curve(40, final=0.85, noise=0.01, seed=9)
    other_future = target.copy()
    other_future[CUTOFF:] = np.random.default_rng(1).uniform(0, 1, 40 - CUTOFF)
    forecasts = []
    for run, acc in enumerate((target, other_future)):
        curves = tmp_path / f"curves{run}"
        curves.mkdir()
        for i, arch in enumerate(a for a in p.train.archs if a != p.predict.target):
            write_curve(curves / f"{arch}.csv", learning_curve(40, final=0.8 + 0.05 * i, noise=0.01, seed=i))
        write_curve(curves / f"{p.predict.target}.csv", acc)
        forecasts.append(forecast_of(p, curves, tmp_path / f"work{run}"))
    assert forecasts[0] == forecasts[1] and len(forecasts[0]) == 40 - CUTOFF


def test_a_history_holding_a_target_is_refused_not_scored_on_its_own_future(tmp_path, capsys):
    """`lcpipe evaluate --history` (and the sweep's decision) forecasts each target from the history
    alone: a history that holds a target, however its path is spelled, would hand it its future."""
    from lcpipe.cli import main as cli

    curves = tmp_path / "curves"
    curves.mkdir()
    for i in range(3):
        write_curve(curves / f"run{i}.csv", learning_curve(30, final=0.7 + 0.05 * i, noise=0.01, seed=i))
    (tmp_path / "alias").symlink_to(curves)
    for history in (curves, tmp_path / "alias", curves / "run1.csv"):
        with pytest.raises(SystemExit) as exit_:
            cli(["evaluate", "--curves", str(curves), "--history", str(history), "--cutoffs", "10",
                 "--predictors", "last_value", "--out", str(tmp_path / "out.json")])
        assert exit_.value.code == 2
        assert "is both a target and a history curve" in capsys.readouterr().err
    # a history of two curves (one alone cannot teach intervals) that holds other curves than the target
    cli(["evaluate", "--curves", str(curves), "--history", str(curves / "run1.csv"), str(curves / "run2.csv"),
         "--target", "run0",
         "--cutoffs", "10", "--predictors", "last_value", "--out", str(tmp_path / "out.json")])
