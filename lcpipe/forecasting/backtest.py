"""Forecast-and-score, the one code path shared by the predict stage, the sweep stage and
`lcpipe evaluate`: fit every predictor on the sources (the other curves, or a history), forecast
each target from each cutoff, score against what really happened."""

from __future__ import annotations

from collections.abc import Callable

from lcpipe import config
from lcpipe.config import Params
from lcpipe.curve import Curve, Series, as_finished, series_of
from lcpipe.errors import LcpipeError
from lcpipe.forecasting import scores
from lcpipe.forecasting.copies import check_apart, check_no_copies
from lcpipe.forecasting.logs import check_finished, usable_history, zeros_left_out
from lcpipe.forecasting.predictors.base import Forecast, Predictor
from lcpipe.forecasting.registry import build
from lcpipe.metric import Metric, as_metric


def check_cutoff_fits(target: Series, cutoff: int, window: int, unit: str = "epochs") -> None:
    """config's cutoff rule, against the target's real length rather than train.epochs; `unit` what its
    points count (evaluations, for a curve logged by optimizer step)."""
    config.check_cutoff(f"cutoff for target {target.name!r} ({len(target.values)} {unit})", cutoff, window,
                        len(target.values), length=unit)


def forecast_at(predictor: Predictor, target: Series, cutoff: int) -> Forecast:
    """Forecast the target's epochs cutoff+1..end from its first `cutoff` epochs."""
    prefix = Series(target.name, target.values[:cutoff], target.lr, target.config, target.bounded)
    return predictor.forecast(prefix, len(target.values))


def in_units(fc: Forecast, metric: Metric) -> Forecast:
    """An internal-space forecast in the metric's own units (a minimised metric's band turns over)."""
    if fc.lower is None:
        return Forecast(metric.from_internal(fc.mean))
    return Forecast(*metric.band_from_internal(fc.mean, fc.lower, fc.upper))


def backtest(curves: list[Curve], cutoffs: list[int], predictors: list[str], params: Params,
             history: list[Curve] | None = None, targets: list[str] | None = None,
             progress: Callable[[str], None] = lambda _: None,
             on_forecast: Callable[[str, int, str, Forecast], None] = lambda *_: None,
             metric: Metric | None = None, fitted: dict | None = None, skip_past_end: bool = False) -> list[dict]:
    """Each target (default: every curve) forecast from its first `cutoff` epochs by predictors
    fitted on the other curves (leave-one-out), or on `history` alone when given: a new study
    forecast from an old one, where no target sees another's future.

    Predictors are built from `params` (their sections and features.*) and forecast in the internal
    space of `metric` (default: features.metric, its mode from its name); curves on a step axis are
    put on their grids, cutoffs count grid points, and history runs that diverged are left out.
    Returns one row per (target, cutoff, predictor) with its scores in the metric's own units;
    `on_forecast(target, cutoff, predictor, forecast)` sees each forecast itself (the sweep draws
    them). `fitted`, when given, keeps the predictors fitted on `history` for the next call on the
    same history. A cutoff at or past a target's last point is refused, or with `skip_past_end`
    (curves of many lengths, as `lcpipe evaluate` reads them) skipped for that target, said once.
    """
    metric = metric or as_metric(params.features.metric)
    window = params.features.window
    check_finished(history or [])
    if history is not None:
        check_apart(history, [c for c in curves if c.name in (targets or {c.name for c in curves})], "a target",
                    metric.name)
        history = usable_history(zeros_left_out(history, metric, progress), progress)  # as every forecaster reads one
    else:
        check_no_copies(curves, [c for c in curves if not targets or c.name in targets], metric.name)
    units = {c.name: "epochs" if c.steps is None else "evaluations" for c in curves}  # as logged, before the grid
    logged = {c.name: len(c.steps) for c in curves if c.steps is not None}
    curves = [as_finished(c) for c in curves if not c.diverged]
    for c in curves:  # a grid of other points than the curve's evaluations (capped at 500, or an irregular log)
        if c.name in logged and abs(len(c) - logged[c.name]) > 0.1 * logged[c.name]:
            units[c.name] = "grid points"  # (review: "has 500 evaluations" of a curve of 10,000)
    by_name = {c.name: series_of(c, metric) for c in curves}
    if history is None and len(by_name) < 2:
        raise LcpipeError("leave-one-out needs at least two curves (a target and a source)")
    if history is not None and not history:
        raise LcpipeError("the history holds no curves to fit the predictors on")
    for name in targets or []:
        if name not in by_name:
            raise LcpipeError(f"target {name!r} is not among the curves: {', '.join(by_name)}")
    fits = {name: [c for c in cutoffs if not skip_past_end or c < len(by_name[name].values)]
            for name in targets or by_name}
    if not any(fits.values()):
        longest = max((by_name[name] for name in fits), key=lambda s: len(s.values))
        by_step = {"evaluations", "grid points"} & {units[name] for name in fits}
        counted = ("; a curve logged by step counts its evaluations, not its steps" if by_step else "") + (
            " (its grid's points, where the grid is not its evaluations)" if "grid points" in by_step else "")
        raise LcpipeError(f"every cutoff ({', '.join(map(str, cutoffs))}) is at or past the end of every target (the "
                          f"longest, {longest.name!r}, has {len(longest.values)} {units[longest.name]}){counted}; "
                          "give cutoffs below the curves' lengths")
    for name, fit in fits.items():
        for cutoff in fit:
            check_cutoff_fits(by_name[name], cutoff, window, units[name])
    # said once a cutoff past every curve's end (its row is missing from every table), else a line a curve, at
    # most three (review: a cutoff past the end of a folder's curves printed a line for each, and no word of the row)
    everywhere = [c for c in cutoffs if all(c not in fit for fit in fits.values())]
    longest = max(len(by_name[name].values) for name in fits)
    for cutoff in everywhere:
        progress(f"cutoff {cutoff}: at or past the end of every curve (the longest has {longest} points); no row "
                 "for it")
    short = {name: [c for c in cutoffs if c not in fit and c not in everywhere] for name, fit in fits.items()}
    short = {name: skipped for name, skipped in short.items() if skipped}
    for name, skipped in list(short.items())[:3]:
        progress(f"{name}: {len(by_name[name].values)} points; cutoff {', '.join(map(str, skipped))} at or past "
                 "its end, skipped")
    if len(short) > 3:
        progress(f"... and {len(short) - 3} more curve{'s' if len(short) > 4 else ''} with a cutoff at or past "
                 "its end, skipped there")
    shared = None if history is None else [series_of(c, metric) for c in history]
    fitted = {} if fitted is None or history is None else fitted
    rows = []
    for name in targets or list(by_name):
        if not fits[name]:
            continue  # every cutoff at or past its end: nothing to forecast, nothing to fit for it
        target = by_name[name]
        sources = shared if shared is not None else [s for n, s in by_name.items() if n != name]
        keys = {pname: (pname,) if shared is not None else (pname, name) for pname in predictors}  # one fit serves
        unfitted = [pname for pname, key in keys.items() if key not in fitted]  # every target of a history
        if unfitted:  # one line a target, not one a predictor (108 lines for 18 curves x 6 predictors)
            progress(f"{name}: fitting {', '.join(unfitted)} on {len(sources)} source curves" if shared is None else
                     f"fitting {', '.join(unfitted)} on the {len(sources)} history curves, once for every target")
        for pname in predictors:
            key = keys[pname]
            if key not in fitted:
                fitted[key] = build(pname, params).fit(sources)
            for cutoff in fits[name]:
                fc = in_units(forecast_at(fitted[key], target, cutoff), metric)
                actual = metric.from_internal(target.values)
                on_forecast(name, cutoff, pname, fc)
                rows.append({"target": name, "cutoff": cutoff, "predictor": pname,
                             **scores.score(actual[cutoff:], fc),
                             "final_actual": float(actual[-1]), "final_predicted": float(fc.mean[-1]),
                             **_final_interval(fc)})
    return rows


def _final_interval(fc: Forecast) -> dict[str, float]:
    """The 80 % interval at the final epoch, for forecasts that have one (the stop rule reads it)."""
    return {} if fc.lower is None else {"final_lower": float(fc.lower[-1]), "final_upper": float(fc.upper[-1])}
