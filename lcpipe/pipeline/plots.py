"""The paper's figures with matplotlib (Agg, no screen), each written atomically as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lcpipe.atomic import atomic_path  # noqa: E402
from lcpipe.forecasting.curves import Curve  # noqa: E402
from lcpipe.forecasting.predictors import Forecast  # noqa: E402

LABELS = {"lstm": "LSTM", "poly": "polynomial", "last_value": "last value",
          "source_shift": "mean of sources, shifted", "parametric": "parametric ensemble"}


def _save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def forecast_figure(path: str | Path, target: str, actual: np.ndarray, cutoff: int,
                    forecasts: dict[str, Forecast], metric: str = "test_acc") -> None:
    """Fig. 1-2: observed prefix, actual curve, forecast(s) with their bands, cutoff marked."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    epochs = np.arange(1, len(actual) + 1)
    ax.plot(epochs, actual, color="0.6", lw=1.5, label="actual")
    ax.plot(epochs[:cutoff], actual[:cutoff], color="k", lw=2, label=f"observed (first {cutoff})")
    future = epochs[cutoff:]
    for name, fc in forecasts.items():
        (line,) = ax.plot(future, fc.mean, lw=1.8, ls="--", label=f"{LABELS.get(name, name)} forecast")
        if fc.lower is not None:
            ax.fill_between(future, fc.lower, fc.upper, color=line.get_color(), alpha=0.2,
                            label=f"{LABELS.get(name, name)} 80 % interval")
    ax.axvline(cutoff, color="r", ls=":", lw=1, label="cutoff")
    ax.set(xlabel="epoch", ylabel=metric.replace("_", " "), ylim=(0, 1.02),
           title=f"{target}: forecast from the first {cutoff} epochs")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    _save(fig, path)


def train_vs_test_figure(path: str | Path, curve: Curve) -> None:
    """Fig. 3-6: train and test accuracy of one arch per epoch."""
    fig, ax = plt.subplots(figsize=(6, 3.8))
    epochs = curve.columns["epoch"]
    for col, label in (("train_acc", "train accuracy"), ("test_acc", "test accuracy")):
        if col in curve.columns:
            ax.plot(epochs, curve.columns[col], lw=1.8, label=label)
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=f"{curve.name}: train vs test accuracy")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    _save(fig, path)


def sweep_figure(path: str | Path, means: list[dict], score: str = "rmse") -> None:
    """Mean `score` (accuracy points) against the cutoff, one line per predictor."""
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for name in dict.fromkeys(r["predictor"] for r in means):
        pts = sorted((r["cutoff"], r[score]) for r in means if r["predictor"] == name)
        ax.plot([p[0] for p in pts], [p[1] * 100 for p in pts], marker="o", label=LABELS.get(name, name))
    ax.set(xlabel="cutoff (epochs observed)", ylabel=f"mean {score.upper()} (accuracy points)",
           yscale="log", title="forecast error vs cutoff, each arch held out in turn")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    _save(fig, path)
