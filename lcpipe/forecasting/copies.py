"""Whether a run's own future is among the curves it is forecast from: the same file, a byte-for-byte copy, or its
first epochs written again (rounded to fewer decimals or significant digits, as 32-bit floats, logged from step 0).
Shared by the backtests, `lcpipe forecast` and the early-stop stage, which reads no forecaster but auto: a small
module of its own keeps each one's imports (a stage's code deps) to what it uses."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np

from lcpipe.curve import Curve
from lcpipe.errors import LcpipeError


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
    # ... or to its own significant digits: `%.6g` writes 11.0366 and 4.09365, decimals that vary with the value
    # (helper: a run copied so from a history curve was forecast from its own future)
    if (own_digits := _digits(short)) is not None and np.array_equal(_to_digits(head, own_digits), short):
        return 1, ("digits", own_digits)
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


def is_prefix_of(short, head) -> bool:
    """Whether the values `short` are the first len(short) of `head`, as logged or written again in any of
    _prefix_match's ways (a history copied with `to_csv(float_format="%.4f")` or `%.6g`: helper, the early-stop
    stage used such a copy of a run as its analog, its own future)."""
    short, head = np.asarray(short, dtype=float), np.asarray(head, dtype=float)
    if len(head) < len(short):
        return False
    head = head[:len(short)]
    own = _decimals(short)
    return _prefix_match(short, head, own, _match_limit(short, own), lambda: _precision(head)) is not None
