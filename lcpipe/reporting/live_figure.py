"""`lcpipe forecast --plot`: every live run's observed prefix, forecast and 80 % band in one figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lcpipe.atomic import atomic_path  # noqa: E402
from lcpipe.forecasting.live import RunForecast, without_interval  # noqa: E402
from lcpipe.metric import Metric, as_metric  # noqa: E402

LEGEND_MAX = 12  # more runs than this: the legend names the kept runs alone (at most this many), stopped ones are grey
DRAW_MAX = 50  # more runs than this: only the likeliest to end best are drawn (5,000 runs took over a minute)


def live_figure(path: str | Path, results: list[RunForecast], metric: str | Metric, predictor: str) -> None:
    """The figure, written atomically to `path` (format from its suffix)."""
    with atomic_path(path) as tmp:
        draw_live_figure(tmp, Path(path).suffix.lstrip(".").lower(), results, as_metric(metric), predictor)


FIGURE_MARK = "lcpipe forecast --plot"  # in every figure's metadata: PNG Software, PDF and SVG Creator


def draw_live_figure(path: str | Path, fmt: str, results: list[RunForecast], metric: Metric, predictor: str) -> None:
    """Solid: what each run has shown; dashed: its forecast; shaded: the 80 % band, on the runs' own
    x axis (epochs, or optimizer steps). Runs the rule stops are drawn faint, so the ones worth
    training stand out; a run that diverged shows what it reported before. At most DRAW_MAX runs are
    drawn, those with the highest P(ends best); the title says how many of how many. Past LEGEND_MAX runs
    ten colours repeat and a legend of all would hide the curves: the stopped runs are grey, and the
    legend names the kept ones, likeliest to end best first (a LoRA sweep of 40 trials had no legend,
    and its 7 kept runs shared colours with 33 stopped ones)."""
    shown = results
    banded = not without_interval(results)
    if len(results) > DRAW_MAX:
        # without an interval there is no P(ends best): the runs forecast to end best instead (review: by name)
        final = np.array([metric.sign * r.final[0] for r in results])
        rank = np.array([r.p_best for r in results]) if banded else np.where(np.isfinite(final), final, -np.inf)
        top = sorted(range(len(results)), key=lambda i: -np.nan_to_num(rank[i], nan=-np.inf))[:DRAW_MAX]
        shown = [results[i] for i in sorted(top)]
    fig, ax = plt.subplots(figsize=(8, 4.8))
    many = len(shown) > LEGEND_MAX
    kept = [r for r in shown if r.decision == "keep"]
    hues = [0, 1, 2, 3, 4, 5, 6, 8, 9] if many else list(range(10))  # tab10 less its grey, which marks stopped runs
    palette = plt.cm.tab10([hues[i % len(hues)] for i in range(len(kept if many else shown))])
    colors = iter(palette)
    labels = {}
    for r in shown:
        alpha = 1.0 if r.decision == "keep" else 0.35
        color = next(colors) if r.decision == "keep" or not many else (0.55, 0.55, 0.55, 1.0)
        k = len(r.observed)
        if not k:
            continue
        seen = r.spacing * np.arange(1, k + 1)
        chance = f"P best {r.p_best:.2f}" if np.isfinite(r.p_best) else "no interval"
        label = f"{r.run} ({r.reason or r.decision}, {chance})"
        ax.plot(seen, r.observed, color=color, alpha=alpha, lw=1.4, label=label)
        labels[r.run] = label
        if not len(r.forecast.mean):
            continue
        future = np.r_[seen[-1], r.forecast_at()]  # from the last observed point, so the lines join
        ax.plot(future, np.r_[r.observed[-1], r.forecast.mean], color=color, alpha=alpha, lw=1.2, ls="--")
        if r.forecast.lower is not None:
            ax.fill_between(future[1:], r.forecast.lower, r.forecast.upper, color=color, alpha=0.15 * alpha,
                            lw=0)
    ax.set_xlabel("step" if any(r.unit == "steps" for r in results) else "epoch")
    ax.set_ylabel(f"{metric.name} (fraction)" if metric.kind == "fraction" else
                  f"{metric.name} ({'lower' if metric.mode == 'min' else 'higher'} is better)")
    title = f"Live runs: observed (solid), {predictor} forecast (dashed), {'80 % band' if banded else 'no band'}"
    if len(shown) < len(results):
        which = "most likely to end best" if banded else "forecast to end best"
        title += f"\nthe {len(shown)} of {len(results)} runs {which} (all are in --out)"
    if many:
        title += f"\n{len(kept)} kept in colour, {len(shown) - len(kept)} stopped in grey"
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if not many:
        ax.legend(fontsize=7, loc="best")
    elif kept:
        named = sorted((r for r in kept if r.run in labels), key=lambda r: -np.nan_to_num(r.p_best, nan=-1.0))
        more = f" (the {LEGEND_MAX} likeliest to end best of {len(named)})" if len(named) > LEGEND_MAX else ""
        line_of = {line.get_label(): line for line in ax.lines}
        ax.legend(handles=[line_of[labels[r.run]] for r in named[:LEGEND_MAX] if labels[r.run] in line_of],
                  fontsize=7, loc="best", title=f"kept{more}", title_fontsize=7)
    try:
        # the mark a later --plot looks for before it replaces a file (cli._check_figure_file)
        fig.savefig(path, format=fmt, dpi=110, bbox_inches="tight",
                    metadata={"Software" if fmt == "png" else "Creator": FIGURE_MARK})
    finally:
        plt.close(fig)
