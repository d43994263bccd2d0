"""Stage sweep. Forecast quality: every cutoff x every arch held out x every predictor, fitted on
the other archs (leave-one-out, the paper's protocol). The decision, as it would be made live: all
archs seen to each cutoff at once, forecast by predictors fitted on the `history` curves alone
(finished runs of another study), kept or stopped by the stop rule. Figures: RMSE against the
cutoff (PNG + CSV), and per arch the paper's Fig. 1-2 as small multiples, one panel per cutoff and
predictor (PNG + CSV)."""

from __future__ import annotations

import json
from pathlib import Path

from lcpipe.atomic import atomic_dir, write_text
from lcpipe.config import Params
from lcpipe.forecasting.backtest import backtest
from lcpipe.forecasting.copies import check_apart
from lcpipe.forecasting.decision_scores import decisions
from lcpipe.forecasting.logs import learnable_history, read_curve_dir
from lcpipe.forecasting.scores import mean_by
from lcpipe.metric import as_metric
from lcpipe.pipeline.arch_curves import read_arch_curves
from lcpipe.progress import say
from lcpipe.reporting import figures
from lcpipe.reporting.tables import (
    decision_markdown,
    markdown_table,
    small_multiples_frame,
    sweep_frame,
    write_csv,
)


def _by_cutoff(entries: list[dict], keys: tuple[str, ...]) -> dict:
    """[{cutoff, predictor, k: v}] -> {"cutoff_5": {predictor: {k: v}}} for the keys present: nested
    dicts, so `dvc metrics show/diff` and `dvc exp show` flatten them into columns."""
    out: dict = {}
    for e in entries:
        out.setdefault(f"cutoff_{e['cutoff']}", {})[e["predictor"]] = {k: e[k] for k in keys if k in e}
    return out


def sweep(p: Params, curves_dir: Path, history: Path, json_out: Path, results_out: Path, md_out: Path,
          plot_out: Path, decision_out: Path, rmse_out: Path, forecasts_dir: Path, figures_dir: Path) -> list[dict]:
    metric = p.features.metric
    curves = read_arch_curves(p, curves_dir)
    # the history first: one edited in place after check_params ran (a target's copy added) fails here in a second,
    # not after the leave-one-out backtest (red team: minutes of LSTM fits, then the same error)
    past = read_curve_dir(history, metric)
    check_apart(learnable_history(past), curves, "a target", metric)
    forecasts: dict[str, dict] = {c.name: {} for c in curves}
    rows = backtest(curves, p.sweep.cutoffs, p.sweep.predictors, p, progress=lambda line: say(f"sweep: {line}"),
                    on_forecast=lambda target, cutoff, name, fc: forecasts[target].update({(name, cutoff): fc}))
    live = backtest(curves, p.sweep.cutoffs, p.sweep.predictors, p, history=past,
                    progress=lambda line: say(f"sweep, decision from {len(past)} history curves: {line}"))
    means = mean_by(rows)
    choices = decisions(live, {c.name: len(c) for c in curves}, as_metric(metric))  # a loss: lower is better
    # each file names its metric, as evaluate.json does: `dvc metrics diff` of a test_acc run and a train_loss run
    # set one's RMSE beside the other's, a fraction against a cross-entropy, with no word (red team)
    scored = {"metric": metric, **_by_cutoff(means, ("rmse", "mae", "final_abs_err", "coverage80"))}
    write_text(json_out, json.dumps(scored, indent=2) + "\n")
    write_text(results_out, json.dumps({"metric": metric, "results": rows, "decision_results": live}, indent=2) + "\n")
    # how many runs each predictor stopped, and whether it decides at all (no interval: it keeps every run), beside
    # what that cost and saved: `dvc metrics diff` of a stop-rule change shows its decisions, not only their scores
    decided = {"metric": metric, **_by_cutoff(choices, ("decides", "runs_stopped", "kendall_tau", "best_kept",
                                                        "regret", "epochs_saved"))}
    write_text(decision_out, json.dumps(decided, indent=2) + "\n")
    points = as_metric(metric).kind == "fraction"  # an accuracy's scores in points, others in its units
    unit = "accuracy points" if points else f"{metric} units"
    md = (f"# Sweep: each of {len(curves)} archs held out in turn ({metric})\n\n"
          f"## Mean RMSE ({unit}; best in bold)\n\n{markdown_table(rows, 'rmse', points)}\n"
          f"## Mean MAE ({unit})\n\n{markdown_table(rows, 'mae', points)}\n"
          f"## Decision: all {len(curves)} archs seen to the cutoff, forecast from {len(past)} history curves "
          f"({history}); stop a run another is likely to beat\n\n{decision_markdown(choices, points, metric=metric)}")
    write_text(md_out, md)
    study = figures.study_title(p.data.dataset, p.train.width)
    figures.sweep_figure(plot_out, means, metric, study)
    write_csv(rmse_out, sweep_frame(means))
    with atomic_dir(forecasts_dir) as data_tmp, atomic_dir(figures_dir) as fig_tmp:
        for curve in curves:
            say(f"sweep: drawing {curve.name}'s forecasts from every cutoff")
            values = curve.metric(metric)
            write_csv(data_tmp / f"{curve.name}.csv", small_multiples_frame(values, forecasts[curve.name]))
            figures.small_multiples_figure(fig_tmp / f"{curve.name}.png", curve.name, values, forecasts[curve.name],
                                           metric, study)
    return rows
