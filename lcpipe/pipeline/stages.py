"""What each downstream DVC stage does, as plain functions of params and paths (stages/ only
parses arguments and calls these): windows, fit, predict, evaluate, figures, sweep. The upstream
ones live apart, so that no edit here reruns them: prepare.py, and training/run.py for train."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from lcpipe.atomic import atomic_dir, atomic_path, write_text
from lcpipe.config import Params
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.backtest import (
    backtest,
    check_cutoff,
    forecast_at,
    markdown_table,
    mean_by,
    series_of,
)
from lcpipe.forecasting.curves import Curve, read_curve, read_curve_dir
from lcpipe.forecasting.decision import EPSILON, decisions
from lcpipe.forecasting.decision import markdown as decision_markdown
from lcpipe.forecasting.features import make_windows
from lcpipe.forecasting.predictors import Forecast, build, learned, predictor_class
from lcpipe.forecasting.scores import score
from lcpipe.pipeline import plots
from lcpipe.progress import say, step


def read_arch_curves(p: Params, curves_dir: Path) -> list[Curve]:
    """The curve of every arch in train.archs, in that order."""
    return [read_curve(Path(curves_dir) / f"{arch}.csv", p.features.metric) for arch in p.train.archs]


def sources_of(p: Params, curves: list[Curve]):
    return [series_of(c, p.features.metric) for c in curves if c.name != p.predict.target]


def target_of(p: Params, curves: list[Curve]):
    return next(series_of(c, p.features.metric) for c in curves if c.name == p.predict.target)


def build_windows(p: Params, curves_dir: Path, out: Path) -> None:
    """Stage windows: gradient-feature windows of every source curve -> one .npz."""
    x, y = make_windows(sources_of(p, read_arch_curves(p, curves_dir)), p.features.window,
                        p.features.inputs, p.features.smooth)
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, x=x, y=y, inputs=np.array(p.features.inputs), window=np.array(p.features.window))


def fit_learned(p: Params, windows: Path, out_dir: Path) -> None:
    """Stage fit: fit the learned predictors on the windows; save plain state dicts."""
    try:
        with np.load(windows, allow_pickle=False) as z:
            x, y, inputs, window = z["x"], z["y"], list(z["inputs"]), int(z["window"])
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise LcpipeError(f"{windows}: cannot read windows ({type(exc).__name__}); rerun `dvc repro windows`") from None
    if inputs != p.features.inputs or window != p.features.window:
        raise LcpipeError(f"{windows} was built with inputs {inputs}, window {window}; params say "
                          f"{p.features.inputs}, {p.features.window}; rerun `dvc repro windows`")
    import torch  # here, not at the top: stages that need no torch start seconds faster

    with atomic_dir(out_dir) as tmp:
        for name in learned():
            with step(f"fit: {name} on {len(x)} windows"):
                predictor = build(name, p).fit_windows(x, y)
            torch.save(predictor.state_dict(), tmp / f"{name}.pt")


def load_predictor(p: Params, name: str, predictors_dir: Path, sources):
    """A predictor ready to forecast: learned ones from the fit stage's file, others fitted now."""
    predictor = build(name, p)
    if not predictor_class(name).learned:
        return predictor.fit(sources)
    import torch

    path = Path(predictors_dir) / f"{name}.pt"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        predictor.load_state_dict(state)
    except Exception as exc:
        raise LcpipeError(f"{path}: cannot load fitted {name} ({type(exc).__name__}); "
                          "rerun `dvc repro fit`") from None
    return predictor


def predict(p: Params, curves_dir: Path, predictors_dir: Path, out_dir: Path) -> None:
    """Stage predict: every predictor forecasts the target from its first predict.cutoff epochs."""
    curves = read_arch_curves(p, curves_dir)
    target, sources = target_of(p, curves), sources_of(p, curves)
    cutoff = p.predict.cutoff
    check_cutoff(target, cutoff, p.features.window)
    with atomic_dir(out_dir) as tmp:
        for name in p.predict.predictors:
            with step(f"predict: {name}, {target.name} from its first {cutoff} epochs"):
                fc = forecast_at(load_predictor(p, name, predictors_dir, sources), target, cutoff)
            table = {"epoch": np.arange(cutoff + 1, len(target.acc) + 1), "actual": target.acc[cutoff:],
                     "predicted": fc.mean}
            if fc.lower is not None:
                table.update(lower=fc.lower, upper=fc.upper)
            (tmp / f"{name}.csv").write_text(_csv(table))


def _csv(table: dict[str, np.ndarray]) -> str:
    out = io.StringIO()
    out.write(",".join(table) + "\n")
    for row in zip(*table.values()):
        out.write(",".join(str(int(v)) if i == 0 else repr(float(v)) for i, v in enumerate(row)) + "\n")
    return out.getvalue()


def read_prediction(path: Path) -> tuple[np.ndarray, Forecast]:
    try:
        data = np.atleast_1d(np.genfromtxt(path, delimiter=",", names=True))
        cols = data.dtype.names
        bands = (data["lower"], data["upper"]) if "lower" in cols else (None, None)
        return data["actual"], Forecast(data["predicted"], *bands)
    except (OSError, ValueError, TypeError) as exc:
        raise LcpipeError(f"{path}: cannot read predictions ({exc}); rerun `dvc repro predict`") from None


def evaluate(p: Params, curves_dir: Path, predictions_dir: Path, metrics_out: Path, plots_dir: Path,
             table_out: Path) -> dict:
    """Stage evaluate: scores of every prediction -> metrics JSON; the paper's Fig. 1-2 as PNGs
    and as a table for the native plot."""
    target = series_of(read_curve(Path(curves_dir) / f"{p.predict.target}.csv", p.features.metric),
                       p.features.metric)
    result = {"target": p.predict.target, "cutoff": p.predict.cutoff, "metric": p.features.metric}
    forecasts = {}
    study = plots.study_title(p.data.dataset, p.train.width)
    with atomic_dir(plots_dir) as tmp:
        for name in p.predict.predictors:
            actual, fc = read_prediction(Path(predictions_dir) / f"{name}.csv")
            if len(actual) != len(target.acc) - p.predict.cutoff:
                raise LcpipeError(f"{predictions_dir}/{name}.csv does not start after cutoff {p.predict.cutoff}; "
                                  "rerun `dvc repro predict`")
            result[name] = {k: round(v, 6) for k, v in score(actual, fc).items()}
            say(f"evaluate: {name} on {p.predict.target}: rmse {result[name]['rmse']:.4f}, "
                f"mae {result[name]['mae']:.4f}; drawing its figure")
            forecasts[name] = fc
            plots.forecast_figure(tmp / f"forecast_{name}.png", p.predict.target, target.acc,
                                  p.predict.cutoff, {name: fc}, p.features.metric, study, p.predict.predictors)
        plots.forecast_figure(tmp / "forecast_all.png", p.predict.target, target.acc,
                              p.predict.cutoff, forecasts, p.features.metric, study)
    write_text(table_out, plots.forecast_table(target.acc, p.predict.cutoff, forecasts))
    write_text(metrics_out, json.dumps(result, indent=2) + "\n")  # last: only after every figure
    return result


def curve_figures(p: Params, curves_dir: Path, plots_dir: Path) -> None:
    """Stage curve_figures: the paper's Fig. 3-6, train vs test accuracy per arch."""
    with atomic_dir(plots_dir) as tmp:
        for curve in read_arch_curves(p, curves_dir):
            plots.train_vs_test_figure(tmp / f"{curve.name}.png", curve,
                                       plots.study_title(p.data.dataset, p.train.width))


def _by_cutoff(entries: list[dict], keys: tuple[str, ...]) -> dict:
    """[{cutoff, predictor, k: v}] -> {"cutoff_5": {predictor: {k: v}}} for the keys present."""
    out: dict = {}
    for e in entries:
        out.setdefault(f"cutoff_{e['cutoff']}", {})[e["predictor"]] = {k: e[k] for k in keys if k in e}
    return out


def sweep(p: Params, curves_dir: Path, history: Path, json_out: Path, results_out: Path, md_out: Path,
          plot_out: Path, decision_out: Path, rmse_out: Path, forecasts_dir: Path, figures_dir: Path) -> list[dict]:
    """Stage sweep. Forecast quality: every cutoff x every arch held out x every predictor, fitted
    on the other archs (leave-one-out, the paper's protocol). The decision, as it would be made
    live: all archs seen to each cutoff at once, forecast by predictors fitted on the `history`
    curves alone (finished runs of another study), kept or stopped by P(ends best). Figures: RMSE
    against the cutoff (PNG + CSV), and per arch the paper's Fig. 1-2 as small multiples, one
    panel per cutoff and predictor (PNG + CSV)."""
    metric = p.features.metric
    curves = read_arch_curves(p, curves_dir)
    forecasts: dict[str, dict] = {c.name: {} for c in curves}
    rows = backtest(curves, p.sweep.cutoffs, p.sweep.predictors, p, progress=lambda line: say(f"sweep: {line}"),
                    on_forecast=lambda target, cutoff, name, fc: forecasts[target].update({(name, cutoff): fc}))
    past = read_curve_dir(history, metric)
    live = backtest(curves, p.sweep.cutoffs, p.sweep.predictors, p, history=past,
                    progress=lambda line: say(f"sweep, decision from {len(past)} history curves: {line}"))
    means = mean_by(rows)
    choices = decisions(live, {c.name: len(c) for c in curves})
    # metrics files are nested dicts (cutoff -> predictor -> score) so `dvc metrics show/diff`
    # and `dvc exp show` can flatten them into columns; per-target rows go to a plain file
    write_text(json_out, json.dumps(_by_cutoff(means, ("rmse", "mae", "final_abs_err", "coverage80")), indent=2) + "\n")
    write_text(results_out, json.dumps({"metric": metric, "results": rows, "decision_results": live}, indent=2) + "\n")
    write_text(decision_out, json.dumps(_by_cutoff(choices, ("kendall_tau", "best_kept", "regret", "epochs_saved")),
                                        indent=2) + "\n")
    md = (f"# Sweep: each of {len(curves)} archs held out in turn ({metric})\n\n"
          f"## Mean RMSE (accuracy points; best in bold)\n\n{markdown_table(rows, 'rmse')}\n"
          f"## Mean MAE (accuracy points)\n\n{markdown_table(rows, 'mae')}\n"
          f"## Decision: all {len(curves)} archs seen to the cutoff, forecast from {len(past)} history curves "
          f"({history}); stop where P(ends best) < {EPSILON}\n\n{decision_markdown(choices)}")
    write_text(md_out, md)
    study = plots.study_title(p.data.dataset, p.train.width)
    plots.sweep_figure(plot_out, means, metric, study)
    plots.sweep_table(rmse_out, means)
    with atomic_dir(forecasts_dir) as data_tmp, atomic_dir(figures_dir) as fig_tmp:
        for curve in curves:
            say(f"sweep: drawing {curve.name}'s forecasts from every cutoff")
            acc = curve.metric(metric)
            (data_tmp / f"{curve.name}.csv").write_text(plots.small_multiples_table(acc, forecasts[curve.name]))
            plots.small_multiples_figure(fig_tmp / f"{curve.name}.png", curve.name, acc, forecasts[curve.name],
                                         metric, study)
    return rows
