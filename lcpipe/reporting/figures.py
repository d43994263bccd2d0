"""The paper's figures with matplotlib (Agg, no screen), each written atomically as PNG (their data
as CSV for dvc.yaml's native plots is in tables.py).

Every title names the study (dataset, width) and the metric, so a figure read alone says what it shows.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lcpipe.atomic import atomic_path  # noqa: E402
from lcpipe.curve import Curve  # noqa: E402
from lcpipe.forecasting.predictors.base import Forecast  # noqa: E402
from lcpipe.metric import as_metric  # noqa: E402

COLORS = plt.get_cmap("tab10").colors
# how figures name each registered predictor. Kept here, not in the registry or on the classes:
# a stage that imports the registry has every predictor module among its code deps (registry.py), which the
# stages that only draw do not need, and a class attribute would make the evaluate stage import torch;
# tests/test_plots.py keeps the keys equal to the registry's.
LABELS = {"auto": "auto (analogs)", "lstm": "LSTM", "poly": "polynomial", "last_value": "last value",
          "source_shift": "mean of sources, shifted", "parametric": "parametric ensemble"}


def save_png(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def color_of(name: str, names) -> tuple:
    """A predictor's colour: its place among the figure's predictors sorted by name, so one set
    of predictors has the same colours in every figure."""
    return COLORS[sorted(names).index(name) % len(COLORS)]


def study_title(dataset: str, width: int) -> str:
    """How titles name the study: 'digits, width 8'."""
    return f"{dataset}, width {width}"


def forecast_figure(path: str | Path, target: str, actual: np.ndarray, cutoff: int,
                    forecasts: dict[str, Forecast], metric: str, study: str, palette=None) -> None:
    """Fig. 1-2: observed prefix, actual curve, forecast(s) with their bands, cutoff marked.
    `palette`: every predictor name the figure's siblings show, so one predictor has one colour
    across them (default: the names drawn here)."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    _draw_forecasts(ax, actual, cutoff, forecasts, palette or list(forecasts))
    _value_axis(ax, metric, actual)
    ax.set(xlabel="epoch", ylabel=metric.replace("_", " "),
           title=f"{target} ({study}): {metric} forecast from the first {cutoff} epochs")
    # beside the axes, not on them: inside, the legend of six predictors hid the curves it explains
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    save_png(fig, path)


def _draw_forecasts(ax, actual: np.ndarray, cutoff: int, forecasts: dict[str, Forecast], palette) -> None:
    epochs = np.arange(1, len(actual) + 1)
    ax.plot(epochs, actual, color="0.6", lw=1.5, label="actual")
    ax.plot(epochs[:cutoff], actual[:cutoff], color="k", lw=2, label=f"observed (first {cutoff})")
    future = epochs[cutoff:]
    for name, fc in forecasts.items():
        color = color_of(name, palette)
        ax.plot(future, fc.mean, lw=1.8, ls="--", color=color, label=f"{LABELS.get(name, name)} forecast")
        if fc.lower is not None:
            ax.fill_between(future, fc.lower, fc.upper, color=color, alpha=0.2,
                            label=f"{LABELS.get(name, name)} 80 % interval")
    ax.axvline(cutoff, color="0.3", ls=":", lw=1, label="cutoff")  # not red: parametric is tab10 red
    ax.grid(alpha=0.3)


def _value_axis(ax, metric: str, actual: np.ndarray) -> None:
    """An accuracy on [0, 1]; a loss that falls by more than a factor of 10 on a log axis; anything
    else on matplotlib's own limits."""
    kind = as_metric(metric).kind
    finite = np.asarray(actual, dtype=float)[np.isfinite(actual)]
    if kind == "fraction":
        ax.set_ylim(0, 1.02)
    elif kind == "positive" and len(finite) and finite.min() > 0 and finite.max() > 10 * finite.min():
        ax.set_yscale("log")


def train_vs_test_figure(path: str | Path, curve: Curve, study: str) -> None:
    """Fig. 3-6: train and test accuracy of one arch per epoch, and the two losses below."""
    fig, (ax, lx) = plt.subplots(2, 1, figsize=(6, 5.2), sharex=True, height_ratios=(3, 2))
    epochs = curve.columns["epoch"]
    for col, label, color in (("train_acc", "train", "C0"), ("test_acc", "test", "C3")):
        if col in curve.columns:
            ax.plot(epochs, curve.columns[col], lw=1.8, color=color, label=f"{label} accuracy")
    losses = [(col, label, color) for col, label, color in (("train_loss", "train", "C0"), ("test_loss", "test", "C3"))
              if col in curve.columns]
    for col, label, color in losses:
        lx.plot(epochs, curve.columns[col], lw=1.4, color=color, label=f"{label} loss")
    ax.set(ylabel="accuracy", ylim=(0, 1.02), title=f"{curve.name} ({study}): train vs test accuracy and loss")
    drawn = np.concatenate([np.asarray(curve.columns[col], dtype=float) for col, _, _ in losses] or [np.zeros(0)])
    if np.any(np.isfinite(drawn) & (drawn > 0)):
        lx.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log")
    else:  # a run that diverged from its first epoch (lr far too high) has no loss to put on a log axis
        lx.set(xlabel="epoch", ylabel="cross-entropy loss")
        lx.text(0.5, 0.5, "no finite loss: the run diverged", transform=lx.transAxes, ha="center", va="center")
    for a in (ax, lx):
        a.legend(loc="best", fontsize=8)
        a.grid(alpha=0.3, which="both")
    save_png(fig, path)


def sweep_figure(path: str | Path, means: list[dict], metric: str, study: str, score: str = "rmse") -> None:
    """Mean `score` against the cutoff, one line per predictor: in accuracy points for an accuracy,
    in the metric's own units otherwise."""
    fig, ax = plt.subplots(figsize=(6, 3.8))
    names = list(dict.fromkeys(r["predictor"] for r in means))
    points = as_metric(metric).kind == "fraction"
    for name in names:
        pts = sorted((r["cutoff"], r[score]) for r in means if r["predictor"] == name)
        ax.plot([p[0] for p in pts], [p[1] * (100 if points else 1) for p in pts], marker="o",
                color=color_of(name, names), label=LABELS.get(name, name))
    unit = "accuracy points" if points else f"{metric} units"
    scores = np.array([r[score] for r in means], dtype=float)
    ax.set(xlabel="cutoff (epochs observed)", ylabel=f"mean {score.upper()} ({unit})",
           yscale="log" if np.any(np.isfinite(scores) & (scores > 0)) else "linear",
           title=f"{study}: {metric} forecast error vs cutoff, each arch held out in turn")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    save_png(fig, path)


def small_multiples_figure(path: str | Path, target: str, actual: np.ndarray,
                           forecasts: dict[tuple[str, int], Forecast], metric: str, study: str) -> None:
    """The paper's Fig. 1-2 for every sweep cutoff: one panel per (predictor row, cutoff column)."""
    names = list(dict.fromkeys(name for name, _ in forecasts))
    cutoffs = sorted({cutoff for _, cutoff in forecasts})
    fig, axes = plt.subplots(len(names), len(cutoffs), figsize=(2.6 * len(cutoffs), 2.0 * len(names)),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")  # no empty bands
    for row, name in enumerate(names):
        for col, cutoff in enumerate(cutoffs):
            ax = axes[row, col]
            fc = forecasts[(name, cutoff)]
            epochs = np.arange(1, len(actual) + 1)
            ax.plot(epochs, actual, color="0.6", lw=1.2)
            ax.plot(epochs[:cutoff], actual[:cutoff], color="k", lw=1.8)
            color = color_of(name, names)
            ax.plot(epochs[cutoff:], fc.mean, color=color, lw=1.5, ls="--")
            if fc.lower is not None:
                ax.fill_between(epochs[cutoff:], fc.lower, fc.upper, color=color, alpha=0.2)
            ax.axvline(cutoff, color="0.3", ls=":", lw=0.8)
            _value_axis(ax, metric, actual)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(f"first {cutoff} epochs", fontsize=9)
            if col == 0:
                ax.set_ylabel(LABELS.get(name, name), fontsize=9)
    fig.supxlabel("epoch", fontsize=9)
    title = (f"{target} ({study}): {metric} forecasts from each sweep cutoff "
             "(black observed, grey actual, dashed forecast and 80 % band)")
    # wrapped to the figure's width: a wider title widens the saved canvas (bbox tight) into blank side bands
    fig.suptitle(textwrap.fill(title, width=max(40, int(2.6 * len(cutoffs) * 12))), fontsize=10)
    save_png(fig, path)
