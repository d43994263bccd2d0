"""Forecast-and-score, the one code path shared by the predict stage, the sweep stage and
`lcpipe evaluate`: fit every predictor on the sources (the other curves, or a history), forecast
each target from each cutoff, score against what really happened."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from lcpipe import config
from lcpipe.config import Params
from lcpipe.curve import Curve, Series, as_finished, series_of
from lcpipe.errors import LcpipeError
from lcpipe.forecasting import scores
from lcpipe.forecasting.logs import check_finished, usable_history, zeros_left_out
from lcpipe.forecasting.predictors.base import Forecast, Predictor
from lcpipe.forecasting.registry import build
from lcpipe.metric import Metric, as_metric


def check_cutoff_fits(target: Series, cutoff: int, window: int, unit: str = "epochs") -> None:
    """config's cutoff rule, against the target's real length rather than train.epochs; `unit` what its
    points count (evaluations, for a curve logged by optimizer step)."""
    config.check_cutoff(f"cutoff for target {target.name!r} ({len(target.values)} {unit})", cutoff, window,
                        len(target.values), length=unit)


def check_apart(history: list[Curve], forecast: list[Curve], what: str, metric: str | None = None) -> None:
    """A history holds none of the curves forecast from it (the same file, however its path is
    written, or a copy of it: the same `metric` values byte for byte): a curve's own future in the
    history would leak into its forecast."""
    past = set(_file_ids(history)) - {None}
    shared = [c.path for c, key in zip(forecast, _file_ids(forecast)) if key in past]
    if shared:
        raise LcpipeError(f"{shared[0]} is both {what} and a history curve; the history must be finished "
                          "runs other than the ones forecast")
    if metric is None:
        return
    copies = {_content_id(c, metric): c for c in history}
    for curve in forecast:
        twin = copies.get(_content_id(curve, metric))
        if twin is not None:
            raise LcpipeError(f"{curve.path or curve.name} is {what}, and the history curve {twin.path or twin.name} "
                              f"is a copy of it (the same {metric} at every "
                              f"{'epoch' if curve.steps is None else 'step'}); remove the copy from the history")
    _check_no_prefix(history, forecast, what, metric)


def check_no_copies(curves: list[Curve], targets: list[Curve], metric: str) -> None:
    """Leave-one-out (no history): no target is a copy of another curve, its first epochs, or holds another
    curve's whole (a file downloaded twice, `run (1).csv`; a run exported again with fewer decimals): it would
    be forecast from its twin, its own future (red team: auto's RMSE 1.61 -> 1.38 with a byte-identical copy
    beside the target). Two runs that state different configs are two runs, however alike (_first_prefix)."""
    found = _first_prefix(targets, curves, metric) or _first_prefix(curves, targets, metric) \
        or _first_prefix(_from_step_1(targets, metric), curves, metric) \
        or _first_prefix(_from_step_1(curves, metric), targets, metric)  # one logged from step 0, its copy not
    if found is not None:
        short, long, how = found
        n = len(short.columns[metric])
        whole = "the same values" if len(long.columns[metric]) == n else f"the first {n} values"
        raise LcpipeError(f"{short.path or short.name} and {long.path or long.name} hold {whole} of {metric}"
                          f"{_shown(how)}: a copy, so leave-one-out would forecast the one from the other; remove "
                          "the copy")


def _shown(how) -> str:
    """How _first_prefix matched, for a message: '' (exactly), ' (as 32-bit floats)', ' (rounded to 4 decimals)'."""
    return "" if how is None else " (as 32-bit floats)" if how == "float32" \
        else f" (rounded to {how[1]} {'significant digits' if how[0] == 'digits' else 'decimals'})" \
        if isinstance(how, tuple) else f" (rounded to {how} decimals)"


def _check_no_prefix(history: list[Curve], forecast: list[Curve], what: str, metric: str) -> None:
    """A run whose values are the first epochs of a history curve is that curve cut short: its own
    future is in the history. So is a history curve whose values are the first epochs of a run (a pilot
    run, or the run itself copied while it trained): it holds the run's future past any cutoff before its
    end (red team: plain50 at cutoff 10, forecast 0.822 with its own first 30 epochs in the history,
    0.929 without, against a true 0.731). Both directions by _first_prefix."""
    found, trimmed = _prefix_or_from_step_1(forecast, history, metric)
    after = " after step 0" if trimmed else ""
    if found is not None:
        curve, twin, how = found
        values = curve.columns[metric]
        shown = _shown(how)
        unit = "epochs" if curve.steps is None else "evaluations"
        raise LcpipeError(f"{curve.path or curve.name} is {what}, and its {len(values)} {unit}{after} are the first "
                          f"{len(values)} of the history curve {twin.path or twin.name}{shown}: the run's own future "
                          "is in the history; remove that curve from the history")
    found, trimmed = _prefix_or_from_step_1(history, forecast, metric)
    after = " after its own step 0" if trimmed else ""
    if found is not None:
        cut, curve, _ = found
        unit = "epochs" if curve.steps is None else "evaluations"
        raise LcpipeError(f"{curve.path or curve.name} is {what}, and the history curve {cut.path or cut.name}{after} "
                          f"is its first {len(cut.columns[metric])} {unit}: part of the run's own future is in the "
                          "history; remove that curve from the history")


def _prefix_or_from_step_1(shorts: list[Curve], longs: list[Curve], metric: str) -> tuple[tuple | None, bool]:
    """(_first_prefix of the shorts as logged, else of those logged from step 0 with that row dropped; whether the
    match needed the drop)."""
    found = _first_prefix(shorts, longs, metric)
    if found is not None:
        return found, False
    found = _first_prefix(_from_step_1(shorts, metric), longs, metric)
    return found, found is not None


def _from_step_1(curves: list[Curve], metric: str) -> list[Curve]:
    """The curves logged from step 0 (an evaluation before training), that row dropped: a run logged with it is
    still a prefix of its copy logged without it (review: a run's own future in the history went unseen, and its
    forecast came out sure of itself). Each keeps its path and name, for the message."""
    return [replace(c, columns={**c.columns, metric: c.columns[metric][1:]}, steps=c.steps[1:]) for c in curves
            if c.steps is not None and len(c.steps) > 1 and c.steps[0] == 0 and metric in c.columns]


def _first_prefix(shorts: list[Curve], longs: list[Curve], metric: str) -> tuple[Curve, Curve, object] | None:
    """(short, long, how) for the first curve of `shorts` whose values are the first epochs of a curve of
    `longs` at least as long (never itself): exactly (how None), rounded to the short one's own decimals (at
    most ROUNDED_DECIMALS: how is that number), as 32-bit floats (TensorBoard's scalars: how "float32"), or
    the short one rounded to the long one's own decimals or significant digits (a copy written coarser:
    `to_csv(float_format="%.4f")`, `%.6g`; how ("decimals", d) or ("digits", s)), preferred in that order;
    None when there is none. Only a prefix that moves says which run it is: at least 3 distinct values,
    since runs stuck at chance share exact values. The longs are first sifted, for all the shorts of one
    length at once, by their values at the prefix's last 3 points (_match_limit), then compared one pair
    at a time."""
    found: dict[int, tuple[int, Curve, object]] = {}  # short -> (rank, long, how) of its best match
    precision: dict[tuple[int, int], tuple] = {}  # (long, length) -> its head's (decimals, digits), once
    by_length: dict[int, list[int]] = {}
    for i, c in enumerate(shorts):
        values = c.columns.get(metric)
        if values is not None and len(values) >= 3 and len(np.unique(values)) >= 3:
            by_length.setdefault(len(values), []).append(i)
    heads = [c.columns.get(metric) for c in longs]
    for n, members in by_length.items():
        reach = [j for j, v in enumerate(heads) if v is not None and len(v) >= n]
        if not reach:
            continue
        tails = np.array([heads[j][n - 3:n] for j in reach], dtype=float)  # (longs, 3)
        for i in members:
            values = np.asarray(shorts[i].columns[metric], dtype=float)
            own = _decimals(values)
            limit = _match_limit(values, own)
            for j in np.flatnonzero(np.all(np.abs(tails - values[-3:]) <= limit, axis=1)):
                long = longs[reach[j]]
                if long is shorts[i] or _same_file(long, shorts[i]) or _two_runs(long, shorts[i]):
                    continue
                head = np.asarray(heads[reach[j]][:n], dtype=float)
                key = (reach[j], n)
                match = _prefix_match(values, head, own, limit, lambda key=key, head=head: precision.get(key)
                                      or precision.setdefault(key, _precision(head)))  # a pair of Nones is truthy
                if match is not None and (i not in found or match[0] < found[i][0]):
                    found[i] = (match[0], long, match[1])
    if not found:
        return None
    i = min(found)
    return shorts[i], found[i][1], found[i][2]


def _same_file(a: Curve, b: Curve) -> bool:
    """One curve, the other its _from_step_1 copy: never its own prefix."""
    return a.path is not None and a.path == b.path and a.name == b.name


def _two_runs(a: Curve, b: Curve) -> bool:
    """Two curves that state different configs are two runs, however alike their values (two configs of a
    deterministic grid on a 36-example test set report the same accuracies; review)."""
    return bool(a.config) and bool(b.config) and a.config != b.config


# the fewest decimals (and 1 + the fewest significant digits) a coarser copy is recognised at: at 2, a run's first 4
# points at full precision met some history curve's written with %.2f by chance, 39 of 200 (review)
COARSEST = 3


def _match_limit(short: np.ndarray, own: int | None) -> float:
    """The largest |difference| from `short` at which a curve may still be it by one of _prefix_match's ways:
    half a unit of its own last decimal, or of a copy's at COARSEST decimals or significant digits."""
    return 1.0001 * max(0.5 * 10.0 ** -own if own is not None else 0.0,
                        0.5 * 10.0 ** -COARSEST * max(1.0, float(np.max(np.abs(short)))))


def _prefix_match(short: np.ndarray, head: np.ndarray, own: int | None, limit: float,
                  precision) -> tuple[int, object] | None:
    """(rank, how) of the first way `short` is `head` (a long curve's first len(short) values), in
    _first_prefix's order of preference; None if none. `own`: the short one's decimals; `limit`: _match_limit;
    `precision()`: the head's (decimals, significant digits), _precision's, computed once per head."""
    gap = np.abs(short - head)
    if not gap.any():
        return 0, None
    if gap.max() > limit:
        return None
    if own is not None and np.array_equal(np.round(head, own), np.round(short, own)):
        return 1, own
    f32 = _as_float32(short)
    if f32 is not None and np.array_equal(f32, head.astype(np.float32)):
        return 2, "float32"
    if len(np.unique(head)) < 3:
        return None
    coarse, digits = precision()
    if coarse is not None and COARSEST <= coarse and (own is None or coarse < own) \
            and coarse + np.floor(np.log10(max(float(np.median(np.abs(head))), 1e-300))) + 1 >= COARSEST \
            and np.array_equal(np.round(short, coarse), head):  # ... and COARSEST significant digits at its median:
        return 3, ("decimals", coarse)  # an MSE near 0.01 at 3 decimals is one digit (red team: 32 of 40 refused)
    if digits is not None and np.allclose(_near_digits(short, digits), head, rtol=1e-9, atol=0) \
            and np.array_equal(_to_digits(short, digits), head):
        return 3, ("digits", digits)
    return None


def _precision(head: np.ndarray) -> tuple[int | None, int | None]:
    """A curve's written precision: its decimals (_decimals) and significant digits (_digits), None for more."""
    return _decimals(head), _digits(head)


def _near_digits(values: np.ndarray, digits: int) -> np.ndarray:
    """_to_digits to within float rounding, vectorised: a sieve before the exact (per-value) one."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore"):
        scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.where(values == 0, 1.0, np.abs(values)))))
    return np.round(values * scale) / scale


SIGNIFICANT_DIGITS = 8  # a copy written with more significant digits than this is compared exactly only


def _to_digits(values: np.ndarray, digits: int) -> np.ndarray:
    """Each value rounded to `digits` significant digits, as `%.{digits}g` writes it."""
    return np.array([float(f"{v:.{digits}g}") for v in np.asarray(values, dtype=float)])


def _digits(values: np.ndarray) -> int | None:
    """The fewest significant digits (COARSEST + 1..SIGNIFICANT_DIGITS) that write every value exactly; None if more.
    Each count is sifted vectorised (_near_digits) before the exact per-value test: a 100k-point curve at full
    precision is refused in milliseconds (review: 0.35 s a call, once per pair)."""
    values = np.asarray(values, dtype=float)
    for s in range(COARSEST + 1, SIGNIFICANT_DIGITS + 1):
        if not np.allclose(_near_digits(values, s), values, rtol=1e-9, atol=0):
            continue
        if np.array_equal(_to_digits(values, s), values):
            return s
    return None


def _as_float32(values: np.ndarray) -> np.ndarray | None:
    """The values as 32-bit floats, if that keeps them finite and still moving (3 distinct values): past
    float32's range (losses scaled by 1e39, or 1e-46) every value casts to inf or 0, and any two runs
    would "match" (red team)."""
    with np.errstate(over="ignore", under="ignore"):
        f32 = np.asarray(values, dtype=float).astype(np.float32)
    return f32 if np.all(np.isfinite(f32)) and len(np.unique(f32)) >= 3 else None


ROUNDED_DECIMALS = 6  # a run written with more decimals than this is compared exactly only


def _decimals(values: np.ndarray) -> int | None:
    """The fewest decimals (0..ROUNDED_DECIMALS) that write every value exactly and keep apart every two
    that differ; None if more. (Values below the tolerance, an MSE of 2e-7, would all "write" as 0 at
    0 decimals and match any history curve starting at 0.)"""
    values = np.asarray(values, dtype=float)
    distinct = len(np.unique(values))
    for d in range(ROUNDED_DECIMALS + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # a loss of 1e308 scaled past float's range: not written so
            scaled = values * 10.0 ** d
            exact = np.all(np.abs(scaled - np.round(scaled)) < 1e-6)
        if exact and len(np.unique(np.round(values, d))) == distinct:
            return d
    return None


def _digest(values) -> bytes:
    """The values' bytes as float64, hashed: equal values, equal digest."""
    return hashlib.sha256(np.ascontiguousarray(values, dtype=np.float64).tobytes()).digest()


def _file_ids(curves: list[Curve]) -> list[tuple[int, int] | None]:
    """(device, inode) of each curve's file: the same file however its path was written."""
    return [(st.st_dev, st.st_ino) if (st := c.path and c.path.stat()) else None for c in curves]


def _content_id(curve: Curve, metric: str) -> tuple[int, bytes] | None:
    values = curve.columns.get(metric)
    if values is None:
        return None
    return len(values), _digest(values)


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
