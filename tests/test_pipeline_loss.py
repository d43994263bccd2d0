"""The pipeline's forecasting stages on a loss (features.metric: train_loss or test_loss): forecast in
its internal space, written, scored, drawn and decided in the loss's own units, lower being better.
The stage functions are called in this process on hand-made curves (the DVC wiring is the same for
every metric and is tested on accuracy in test_pipeline_dvc.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lcpipe.config import Params, validate
from lcpipe.curve import COLUMNS
from lcpipe.errors import LcpipeError
from lcpipe.pipeline.evaluate import evaluate
from lcpipe.pipeline.predict import predict
from lcpipe.pipeline.sweep import sweep
from tests.helpers import EXTERNAL_CURVES, with_params

ARCHS = ("resnet34", "resnet50", "plain34", "plain50")
EPOCHS = 30


def write_loss_curves(folder) -> dict[str, np.ndarray]:
    """Falling train losses with floors 0.3, 0.5, 0.7, 0.9 (resnet34 ends lowest), in lcpipe's format."""
    folder.mkdir()
    t = np.arange(1, EPOCHS + 1)
    losses = {}
    for i, arch in enumerate(ARCHS):
        loss = 0.3 + 0.2 * i + 2.0 * np.exp(-0.15 * t) + np.random.default_rng(i).normal(0, 0.005, EPOCHS)
        losses[arch] = loss
        acc = np.clip(1 - loss / 3, 0, 1)
        rows = [dict(zip(COLUMNS, (e, lo, a, lo * 1.1, a * 0.95, 0.1))) for e, lo, a in zip(t, loss, acc)]
        pd.DataFrame(rows, columns=COLUMNS).to_csv(folder / f"{arch}.csv", index=False)
    return losses


def loss_params() -> Params:
    return validate(with_params(Params(), features__metric="train_loss", train__epochs=EPOCHS, predict__cutoff=10,
                                predict__predictors=["auto", "last_value", "parametric"],
                                sweep__cutoffs=[5, 10], sweep__predictors=["auto", "last_value"]))


def test_predict_and_evaluate_write_and_score_a_loss_in_its_own_units(tmp_path):
    losses = write_loss_curves(tmp_path / "curves")
    p = loss_params()
    predict(p, tmp_path / "curves", tmp_path / "fitted", tmp_path / "predictions")
    auto = pd.read_csv(tmp_path / "predictions" / "auto.csv")
    assert np.allclose(auto["actual"], losses["plain50"][10:])  # the loss itself, not its internal space
    assert ((auto["lower"] <= auto["predicted"]) & (auto["predicted"] <= auto["upper"])).all()
    assert (auto["predicted"] > 0).all() and abs(auto["predicted"].iloc[-1] - losses["plain50"][-1]) < 0.5
    result = evaluate(p, tmp_path / "curves", tmp_path / "predictions", tmp_path / "evaluate.json",
                      tmp_path / "plots", tmp_path / "forecast.csv")
    assert result["metric"] == "train_loss"
    rmse = float(np.sqrt(np.mean((auto["actual"] - auto["predicted"]) ** 2)))
    assert result["auto"]["rmse"] == pytest.approx(rmse, abs=1e-6)  # scored in the loss's units
    assert (tmp_path / "plots" / "forecast_all.png").stat().st_size > 10_000


def test_the_sweep_decides_for_the_lowest_loss_and_says_its_units(tmp_path):
    write_loss_curves(tmp_path / "curves")
    outputs = {name: tmp_path / name for name in ("json_out", "results_out", "md_out", "plot_out", "decision_out",
                                                  "rmse_out", "forecasts_dir", "figures_dir")}
    sweep(loss_params(), tmp_path / "curves", EXTERNAL_CURVES, **outputs)  # the history's train_loss column
    decision = json.loads((tmp_path / "results_out").read_text())["decision_results"]
    finals = {r["target"]: r["final_actual"] for r in decision}
    assert min(finals, key=finals.get) == "resnet34"
    md = (tmp_path / "md_out").read_text()
    assert "train_loss units" in md and "accuracy points" not in md
    rows = [line.split("|")[1:-1] for line in md.split("## Decision")[1].splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 2 * 2 and all(r[4].split()[0] == "resnet34" for r in rows), md  # truly best: the lowest
    assert all("resnet34" in r[3] or r[3].strip() == "all (no interval: decides nothing)" for r in rows), md  # kept


def test_features_metric_takes_the_losses_and_names_the_choices():
    validate(with_params(Params(), features__metric="test_loss"))
    with pytest.raises(LcpipeError, match="features.metric: 'val_loss'.*test_acc, train_acc, test_loss, train_loss"):
        validate(with_params(Params(), features__metric="val_loss"))
