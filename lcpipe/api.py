"""lcpipe from Python, for notebooks: `lcpipe.forecast(...)` gives what `lcpipe forecast` prints
and writes, as a pandas DataFrame (one row per run), through the same code path."""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from lcpipe.callers import user_stacklevel
from lcpipe.config import Params
from lcpipe.curve import MAX_STEPS, Curve
from lcpipe.errors import LcpipeError
from lcpipe.forecasting import live
from lcpipe.forecasting.logs import (
    BOOKKEEPING,
    NOT_EVALUATED,
    RUN_ID_COLUMNS,
    NotStarted,
    check_history_copies,
    column_words,
    counts_by_one,
    fold,
    given_config,
    missed_start,
    read_curves,
    read_log_rows,
    whole_steps,
)
from lcpipe.forecasting.logs import EPOCH_COLUMNS as AXES_READ
from lcpipe.metric import Metric, axis_named

CurvesLike = str | Path | Sequence[str | Path] | Mapping[str, Sequence[float]] | pd.DataFrame


def _default_index(index: pd.Index) -> bool:
    """pandas' default 0..n-1 index: rows in order, no steps of their own."""
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _numbers(values) -> np.ndarray | None:
    """A run's values as floats (a list, a tuple, an array, a pandas Series), or None when they are not
    numbers: text, None, booleans, nested lists."""
    if isinstance(values, str | bytes | Mapping):
        return None
    if isinstance(values, list | tuple) and any(isinstance(v, bool | np.bool_) for v in values):
        return None
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        return None
    return array.astype(float) if array.ndim == 1 and array.dtype.kind in "iuf" else None


def _unpadded(column: pd.Series):
    """A DataFrame column as a run's values: the NaN rows after its last number are padding, not a
    divergence (a column of text is left as it is, for _numbers to refuse)."""
    if column.dtype.kind == "O" and all(v is None or isinstance(v, int | float | np.number) and not isinstance(
            v, bool | np.bool_) for v in column):  # numbers held as objects (df.astype(object)): padded alike
        column = column.astype(float)
    if column.dtype.kind not in "iuf":
        return column.to_list()
    values = column.to_numpy(dtype=float)
    numbers = np.flatnonzero(~np.isnan(values))
    return values[:numbers[-1] + 1] if numbers.size else values[:0]


def _by_step(column: pd.Series, what: str, evaluated: bool = False) -> dict:
    """A Series indexed by step as {step: value}. `evaluated` (a DataFrame's column: runs evaluated at
    different steps share one index): its NaN rows are steps this run was not evaluated at, left out;
    a Series of its own keeps them (NaN from where the run diverged, as in a mapping)."""
    if column.index.has_duplicates:
        twice = column.index[column.index.duplicated()][0]
        raise LcpipeError(f"{what} {column.name!r}: step {twice.item() if hasattr(twice, 'item') else twice!r} is in "
                          "its index twice; give each step once")
    kept = column[column.notna()] if evaluated else column
    return dict(zip(kept.index.to_list(), kept.to_list(), strict=True))


def _axis_of(values, name: str, what: str) -> tuple[object, np.ndarray | None]:
    """(the values, their steps or None): a mapping step -> value, or a pandas Series indexed by anything
    but the default 0..n-1, brings its steps; a list, an array or a default-indexed Series is one
    value per epoch."""
    if isinstance(values, pd.Series):
        if _default_index(values.index):
            # its NaN is a divergence, as a list's (README): a loss that went NaN stays NaN to the end, which looks
            # like a frame's padding, and read as padding, a diverged run was forecast from before it. So {k: df[k]}
            # of a padded frame stops the shorter run, saying "diverged" in its reason (a red team's trap, kept)
            return values.to_list(), None
        values = _by_step(values.rename(name), what)
    if not isinstance(values, Mapping):
        return values, None
    steps = list(values)
    if not steps:
        raise LcpipeError(f"{what} {name!r}: no values (a DataFrame column that is NaN at every step?)")
    bad = [x for x in steps if not (isinstance(x, int | float | np.integer | np.floating)
                                    and not isinstance(x, bool | np.bool_) and np.isfinite(x) and x >= 0)]
    if bad:
        raise LcpipeError(f"{what} {name!r}: a mapping of step -> value needs steps that are numbers >= 0; "
                          f"{' '.join(repr(bad[0]).split()):.40} is not")
    order = np.argsort(np.asarray(steps, dtype=float), kind="stable")
    axis = np.asarray(steps, dtype=float)[order]
    if missed_start(axis):
        raise LcpipeError(f"{what} {name!r}: its first value is at step {_at(0, axis)}, then {_at(1, axis)}: it misses "
                          "the run's start (a run resumed from a checkpoint; Hugging Face's eval_delay), more of it "
                          "than its first values tell; give the whole run, or add the initial model's evaluation at "
                          "step 0")
    return [values[steps[i]] for i in order], axis


# a DataFrame column of these names (read from a wide CSV) is its rows' axis, never a run
AXIS_COLUMNS = ("step", "global_step", "trainer/global_step", "_step", "steps", "iteration", "iter", "epoch", "epochs")
EPOCH_COLUMNS = ("epoch", "epochs")


def _with_axis(frame: pd.DataFrame, in_steps: bool) -> pd.DataFrame:
    """A DataFrame whose axis columns (AXIS_COLUMNS: pd.read_csv of a wide log, or a frame filtered by
    epoch) are dropped from its runs, one of them made its index: under steps= a step column (or the
    frame's own numeric index, when it is not the default 0..n-1: steps already), else an epoch column
    (or a step column where it has none), whatever the frame's index was."""
    axes = [c for c in frame.columns if str(c).lower() in AXIS_COLUMNS]
    if not axes:
        return frame
    default = _default_index(frame.index)
    epochs = [c for c in axes if str(c).lower() in EPOCH_COLUMNS]
    steps = sorted((c for c in axes if c not in epochs), key=lambda c: AXIS_COLUMNS.index(str(c).lower()))
    out = frame.drop(columns=axes)
    if in_steps and not default and frame.index.dtype.kind in "iuf":
        return out  # indexed by step already; its epoch column is no run
    pick = (steps or epochs)[0] if in_steps else (epochs or steps)[0]
    out.index = pd.Index(frame[pick].to_numpy(), name=str(pick))
    return out


def _not_started(values) -> bool:
    """A live run with no evaluation yet: an empty list, mapping or Series (a DataFrame's column of a run just
    started, its NaN padding or its steps not evaluated taken off). A list of NaN is a run that diverged at its
    first evaluation, stopped as the CLI stops it (review)."""
    try:
        return len(values) == 0
    except TypeError:
        return False


def _curves(given: CurvesLike, metric: Metric, what: str, arg: str, in_steps: bool = False,
            started: list[tuple[str, str, str]] | None = None) -> list[Curve]:
    """Curves from paths (files, folders, DVCLive runs, as the CLI reads them) or from a mapping of
    run name -> its values: a list of the metric's values per epoch (epoch 1 first), or a mapping step
    -> value (or a pandas Series indexed by step) for a run evaluated at steps; values of the metric's
    kind, NaN or inf from where a run diverged. Or a pandas DataFrame of one column per run: one row
    per epoch (the default index; a shorter run padded with NaN at its end), or indexed by step (NaN
    where a run was not evaluated), or with a `step` or `epoch` column (AXIS_COLUMNS) that is that
    index (_with_axis). `in_steps` (steps= was given): steps that count 1, 2, 3, ... stay steps (with
    epochs=, they are read as epochs, as the CLI reads such a column). `started` (live runs): a run with no
    evaluation yet (an empty one, a column of NaN alone, a file of its header alone) is named in it and left
    out, as the CLI leaves it out."""
    by_epoch: set[str] = set()  # runs whose axis is an epoch column or index (epoch 2, 4, ...: epochs, as the CLI
    # reads an `epoch` column, not optimizer steps; review)
    if isinstance(given, pd.DataFrame):
        columns = [str(c) for c in given.columns]
        axes = [c for c in columns if c.lower() in AXIS_COLUMNS]
        run_id = next((c for c in columns if fold(c) in RUN_ID_COLUMNS and given[c].duplicated().any()), None)
        if run_id is not None:  # a long frame (a row per run and step): was read as runs named 'run', 'step', ...
            x = next(iter(axes), "step")  # (red team: "run 'run': step 1 is in its index twice")
            raise LcpipeError(f"{arg}: a long DataFrame, a row per {what} and {x} ({run_id!r} repeats), where {arg}= "
                              f"takes one column per {what}: pivot it, df.pivot(index={x!r}, columns={run_id!r}, "
                              f"values={metric.name!r})")
        if metric.name in columns and set(columns) - {metric.name, *axes}:
            # pd.read_csv of one run's log (step, val_ce, train_loss): its columns were read as runs, and the train
            # loss "run" stopped the only real one (red team)
            raise LcpipeError(f"{arg}: the DataFrame has a column {metric.name!r}, the metric itself, beside others: "
                              f"one run's log, where {arg}= takes one column per {what}; give {{'name': df}}, which "
                              "reads it as the CLI reads the log written as CSV (train and eval rows apart, "
                              f"evaluations after training left out); if its columns are {what}s, rename the one "
                              f"named {metric.name!r}")
        stray = next((c for c in columns if c not in axes and _no_run(c)), None)
        if stray is not None:  # (red team: `lr` was forecast as a run and kept, every real run stopped)
            raise LcpipeError(f"{arg}: the DataFrame's column {stray!r} is no {what}: {_no_run(stray)}; where {arg}= "
                              f"takes one column per {what}, drop it (df.drop(columns=[{stray!r}]))")
        given = _with_axis(given, in_steps)
        default = _default_index(given.index)
        if not default and given.index.dtype.kind not in "iuf":
            raise LcpipeError(f"{arg}: a DataFrame's index must be the rows' steps (numbers) or the default 0..n-1 "
                              f"(a row per epoch); this one holds {given.index.dtype}")
        if any(name is None or isinstance(name, float) and name != name for name in given.columns):
            raise LcpipeError(f"{arg}: a DataFrame column is named None (or NaN); name each {what}'s column")
        names = [str(name) for name in given.columns]
        twice = next((name for name, n in Counter(names).items() if n > 1), None)
        if twice is not None:  # a dict of the columns would keep the last one alone, silently
            raise LcpipeError(f"{arg}: two {what}s (DataFrame columns) are named {twice!r}; rename one")
        if not default and str(given.index.name).lower() in EPOCH_COLUMNS:
            by_epoch.update(names)
        given = {name: _unpadded(column) if default else _by_step(column, what, evaluated=True)
                 for name, (_, column) in zip(names, given.items(), strict=True)}
    if isinstance(given, Mapping):
        if not given:
            raise LcpipeError(f"no {what}s given: the mapping is empty")
        if None in given or any(isinstance(name, float) and name != name for name in given):  # a name, read as "None"
            raise LcpipeError(f"{arg}: a {what} is named None (or NaN); name each {what}, as messages and results "
                              "name it")
        twice = next((name for name, n in Counter(str(name) for name in given).items() if n > 1), None)
        if twice is not None:  # 1 and "1": results, messages and configs= name both alike (red team)
            raise LcpipeError(f"{arg}: two {what}s are named {twice!r} (keys that read alike, e.g. 1 and '1'); "
                              "rename one")
        blank = next((name for name in given if not str(name).strip()), None)
        if blank is not None:  # a row of results with no name, which no message or configs= can point at
            raise LcpipeError(f"{arg}: a {what} is named {str(blank)!r}, a blank name; name each {what}, as "
                              "messages and results name it")
        if _row_labels(given):  # (red team: {k: g['val_loss'] for k, g in df.groupby('run')}: 27/30 seen at epoch 10)
            raise LcpipeError(f"{arg}: the {what}s' Series are indexed by row labels of one frame (unnamed, none "
                              "shared, together its rows 0..n-1: a groupby or a split), not by steps; index each by "
                              "its step or epoch (g.set_index('epoch')['val_loss']), or reset_index(drop=True) for a "
                              "value an epoch")
        if _history_of_metrics(given, metric):
            # Keras' History.history ({'loss': [...], 'val_loss': [...]}) given as runs=: each metric was forecast as a
            # run of val_loss, an accuracy among them, with no word (red team)
            shown = ", ".join(map(repr, list(map(str, given))[:4]))
            raise LcpipeError(f"{arg}: its keys ({shown}) name metrics, a loss beside a score or the metric itself: "
                              f"one run's log by metric (Keras' History.history?), where {arg}= takes one entry per "
                              f"{what}; give {{'name': history.history}}, one entry a {what}")
        out = []
        for name, values in given.items():
            if started is not None and _not_started(values):
                started.append((str(name), f"run {str(name)!r}", NOT_EVALUATED))
                continue
            if _metrics_by_name(values):  # {'loss': [...], 'val_loss': [...]}: one run's log, a column a metric
                values = _epochs_framed(values, str(name), what)
            if isinstance(values, pd.DataFrame):  # one run's log: read as its CSV file is (train and eval rows)
                try:
                    out.append(_log_of(values, metric, str(name), what))
                except NotStarted as exc:  # no evaluation in it yet: left out of live runs, as the CLI leaves its file
                    if started is None:
                        raise
                    started.append((str(name), f"run {str(name)!r}", exc.reason))
                continue
            if isinstance(values, pd.Series) and str(values.index.name).lower() in EPOCH_COLUMNS:
                by_epoch.add(str(name))
            if isinstance(values, np.ma.MaskedArray) and np.ma.getmaskarray(values).any():  # its mask was ignored,
                # the masked values forecast from (red team)
                raise LcpipeError(f"{what} {name!r}: a masked array with masked values, whose mask lcpipe does not "
                                  "read; give the values evaluated, with their steps ({step: value}) where some are "
                                  "missing")
            values, steps = _axis_of(values, name, what)
            values = _numbers(values)
            if values is None:
                raise LcpipeError(f"{what} {name!r}: give a list of numbers, one per epoch, or a mapping step -> "
                                  "number (NaN or inf from where a run diverged; no None, booleans or text)")
            if values.ndim != 1 or not len(values):
                raise LcpipeError(f"{what} {name!r}: give a list of numbers, one per epoch")
            unit = "epoch" if steps is None else "step"
            broken = np.flatnonzero(~np.isfinite(values))
            end = int(broken[0]) if broken.size else len(values)
            wrong = metric.wrong(values[:end])
            if wrong.size:
                finite = values[:end]
                if metric.kind == "fraction" and np.all((finite >= 0) & (finite <= 100)) and np.median(finite) > 1:
                    # an accuracy in percent: kind='any' forecast it against fractions, silently (red team)
                    raise LcpipeError(f"{what} {name!r}: {metric.name!r} is in percent (up to {finite.max():g}); "
                                      "lcpipe reads it as a fraction: divide it by 100, as the CLI says")
                raise LcpipeError(f"{what} {name!r}: value {float(values[wrong[0]])} at {unit} "
                                  f"{_at(wrong[0], steps)} where {metric.expected()} was expected for {metric.name!r} "
                                  f"(if it may {metric.admits()}: kind='any')")
            diverged = None if end == len(values) else \
                f"{metric.name} is {float(values[end])} at {unit} {_at(end, steps)}"
            axis = None if steps is None else steps[:end]
            if axis is not None and not in_steps and counts_by_one(axis):
                axis = None  # steps 0, 1, 2, ... or 1, 2, 3, ...: one value per epoch, as the CLI reads such a column
            out.append(Curve(str(name), {"epoch": np.arange(1.0, end + 1), metric.name: values[:end]},
                             steps=axis, diverged=diverged,
                             epoch_axis=axis is not None and (not whole_steps(axis) or str(name) in by_epoch)))
        if arg == "history":
            check_history_copies(out, metric.name,  # as a history read from files is checked (red team)
                                 two_runs="give them as files, each with its config (<run>.json beside it)")
        return out
    paths = [given] if isinstance(given, str | Path) else list(given) if isinstance(given, Iterable) else None
    if paths is None or not all(isinstance(p, str | Path) for p in paths):
        shown = " ".join(repr(given).split())  # one line: a Series' or an array's repr spans several
        raise LcpipeError(f"{arg}={shown:.60}: give paths (files, folders) or a mapping of run name -> values "
                          "per epoch")
    if not paths:
        raise LcpipeError(f"{arg}=[]: no {what}s given; give paths (files, folders) or a mapping of run name -> values")
    found: list[tuple[str, str, str]] | None = None if started is None else []
    curves = read_curves(paths, metric, studies=arg == "history", started=found,  # a history may be a corpus
                         say=lambda line: warnings.warn(line, stacklevel=user_stacklevel()))
    if started is not None:
        started.extend(found or [])
    return curves


def _logs_in(given: CurvesLike) -> frozenset[str]:
    """The names of the runs a mapping gives as their logs' DataFrames."""
    if not isinstance(given, Mapping):
        return frozenset()
    return frozenset(str(name) for name, value in given.items() if isinstance(value, pd.DataFrame))


def _row_labels(given: Mapping) -> bool:
    """Whether the runs are Series cut from one frame, each keeping the frame's row labels as its index: two or more,
    each index unnamed and of integers, none sharing a label, and together a block of consecutive rows. Steps of
    several runs are shared (each evaluated at step 100, 200, ...); rows of one frame never are."""
    series = [v for v in given.values() if isinstance(v, pd.Series)]
    if len(series) < 2 or len(series) != len(given) or any(
            s.index.name is not None or s.index.dtype.kind not in "iu" for s in series):
        return False
    labels = np.concatenate([s.index.to_numpy() for s in series])
    return len(np.unique(labels)) == len(labels) and labels.max() - labels.min() + 1 == len(labels)


def _history_of_metrics(given: Mapping, metric: Metric) -> bool:
    """Whether a mapping of runs is one run's metrics instead (Keras' History.history given as runs=): two keys or more,
    each a list of values, each a metric's name (Metric.infer reads its direction from it), and among them the metric
    itself, or Keras' `loss` beside a score (`loss` and `accuracy`: a fit without validation, or Keras 2's `val_acc`
    for `val_accuracy`; review)."""
    names = [str(k) for k in given]
    if len(names) < 2 or not all(isinstance(v, list | tuple | np.ndarray) for v in given.values()):
        return False
    read = [Metric.infer(n) for n in names]
    if not all(m.says_mode for m in read):
        return False
    # Keras logs `loss` in every History; runs named ce, dice and iou are runs (red team)
    return metric.name in names or "loss" in names and len({m.mode for m in read}) > 1


def _metrics_by_name(values) -> bool:
    """A run given as a mapping of metric name -> its values per epoch (Keras' History.history, a dict of lists; or of
    Series, their index its axis)."""
    return isinstance(values, Mapping) and bool(values) and all(
        isinstance(k, str) and not _numeric_text(k) and isinstance(v, list | tuple | np.ndarray | pd.Series)
        for k, v in values.items())


def _numeric_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _epochs_framed(values: Mapping, name: str, what: str) -> pd.DataFrame:
    """A mapping of metric name -> values as its log's DataFrame; with no axis of its own, a row per epoch from 1
    (Keras' History.history holds the epochs' values alone; its History.epoch counts them from 0)."""
    if all(isinstance(v, pd.Series) for v in values.values()):  # df.to_dict('series'): their index is the axis
        frame = pd.DataFrame(dict(values))  # (review: read as one value an epoch, 12/3000 for steps 100..1200)
        index = frame.index
        if _default_index(index):
            return _epochs_framed({k: v.to_list() for k, v in values.items()}, name, what)  # a value an epoch
        if index.name is None:  # as a Series indexed by anything but 0..n-1 brings its steps (_axis_of); a new
            # index, not the user's Series' own renamed in place (red team: its name was 'step' after the call)
            frame = frame.set_axis(index.rename("step"), axis=0)
        return frame
    lengths = {len(v) for v in values.values()}
    if len(lengths) > 1:
        shorter = [k for k, v in values.items() if len(v) < max(lengths)]
        raise LcpipeError(f"{what} {name!r}: a mapping of metric name -> values per epoch whose lists differ in length "
                          f"({', '.join(f'{k}: {len(v)}' for k, v in list(values.items())[:4])}); where "
                          f"{shorter[0]!r} is evaluated every few epochs (Keras' validation_freq), give the metric "
                          f"alone with its epochs, {{'epoch': [2, 4, ...], {shorter[0]!r}: history.history"
                          f"[{shorter[0]!r}]}}")
    frame = pd.DataFrame({k: list(v) for k, v in values.items()})
    if not any(fold(str(k)) in AXES_READ for k in values):  # the log reader's axis names (not `epochs`; review)
        frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    return frame


def _no_run(column: str) -> str:
    """Why a wide DataFrame's column is no run, or "": an index `to_csv` wrote and `read_csv` read back, W&B's panel
    bounds, a bookkeeping column (an lr, a clock, TensorBoard's `Wall time` and `Value`)."""
    if re.fullmatch(r"Unnamed: \d+", column):
        return "an index to_csv wrote, read back as a column: read the CSV with index_col=0"
    if column.endswith(("__MIN", "__MAX")):
        return "a W&B panel export's bound of a run: keep the '<run> - <metric>' columns, renamed to the runs"
    words = column_words(column)
    if words and (set(words) <= BOOKKEEPING or words == ["value"]):
        return "a log's bookkeeping (an lr, a clock, a step) or TensorBoard's Value; one run's log goes as {'name': df}"
    return ""


def _log_of(frame: pd.DataFrame, metric: Metric, name: str, what: str) -> Curve:
    """A run given as its log's DataFrame (`pd.DataFrame(trainer.state.log_history)`, `pd.read_csv(log)`): read as
    the CLI reads that log written as CSV (`to_csv`: a named index, `set_index('step')`, is a column, unless a
    column holds it already). A NaN is a blank cell, as `to_csv` writes it: missing where a row records other
    columns (a train row's eval_loss), refused in an evaluation row. Not a divergence: a live run's frame filled
    as it goes holds NaN where it has not evaluated yet (review), and a run that diverged is told by inf, or by
    its values as a list with NaN. Rows of nothing are left out, as a CSV's empty lines are."""
    default = _default_index(frame.index)
    if default and not any(fold(str(c)) in AXES_READ for c in frame.columns):
        # pd.DataFrame(history.history): a row an epoch, as the same values as lists are read (red team: "missing
        # column 'epoch'")
        frame = frame.assign(epoch=np.arange(1, len(frame) + 1))
    levels = [n for n in frame.index.names if n is not None and str(n) not in {str(c) for c in frame.columns}]
    if levels:
        try:
            frame = frame.reset_index(level=levels)
        except (ValueError, KeyError) as exc:  # level names twice over (a MultiIndex of one name)
            raise LcpipeError(f"{what} {name!r}: its index cannot be made columns ({exc}); reset_index() it") from None
    cells = [_column_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    rows = [list(row) for row in zip(*cells, strict=True)] if cells else []
    at = [i + 1 for i, row in enumerate(rows) if any(row)]
    return read_log_rows(f"{what} {name!r} (a DataFrame, its rows from 1)", [str(c) for c in frame.columns],
                         [rows[i - 1] for i in at], metric, name, lines=at)


def _column_cells(column: pd.Series) -> list[str]:
    """A DataFrame column as a log's text cells: blank where missing (NaN, None, pd.NA), numbers as `to_csv`
    writes them (float64 exactly; a float32 as its own digits, 1.8405 not 1.840499997138977)."""
    values = column.to_numpy()
    if values.dtype.kind in "fiu":
        text = values.astype(str) if values.dtype != np.float64 else np.array([repr(v) for v in values.tolist()])
        return np.where(pd.isna(values), "", text).tolist() if values.dtype.kind == "f" else text.tolist()
    return ["" if _missing(v) else str(bool(v)) if isinstance(v, bool | np.bool_) else str(v) for v in values]


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array in a cell: no missing value
        return False


def _at(i: int, steps: np.ndarray | None) -> str:
    """Where value i of a run is, as the user counts: its epoch (from 1), or its step as written (15, not 15.0)."""
    x = i + 1 if steps is None else steps[i]
    return f"{int(x)}" if float(x).is_integer() else f"{x:g}"


def _with_configs(configs, past: list[Curve], now: list[Curve], waiting: set[str]) -> tuple[list[Curve], list[Curve]]:
    """The curves with configs= laid over their own configs, by name (a history curve and a run of one name get
    it both). A name that is no run or history curve is refused: a typo would otherwise forecast without the
    config, silently; a run not evaluated yet (`waiting`, left out with a warning) is known."""
    if not isinstance(configs, Mapping):
        raise LcpipeError(f"configs= takes a mapping run name -> its hyper-parameters ({{'run1': {{'lr': 0.1}}}}); "
                          f"got {type(configs).__name__}")
    names = {c.name for c in past} | {c.name for c in now} | waiting
    read = {}
    for name, config in configs.items():
        if str(name) not in names:
            near = sorted(n for n in names if str(name).lower() in n.lower() or n.lower() in str(name).lower())
            runs, curves = sorted(c.name for c in now), sorted(c.name for c in past)
            some = ", ".join(map(repr, runs[:2])) + (" ..." if len(runs) > 2 else "")
            some += "; history curves " + ", ".join(map(repr, curves[:2])) + (" ..." if len(curves) > 2 else "")
            raise LcpipeError(f"configs= names {str(name)!r:.60}, which is no run or history curve"
                              + (f" (did you mean {near[0]!r}?)" if near else f"; runs are named {some}"))
        if not isinstance(config, Mapping):
            raise LcpipeError(f"configs[{str(name)!r:.60}]: give the run's hyper-parameters as a mapping "
                              f"({{'lr': 0.1, 'optimizer': 'sgd'}}); got {type(config).__name__}")
        read[str(name)] = given_config(config, f"configs[{str(name)!r:.60}]")

    def laid(curves: list[Curve]) -> list[Curve]:
        return [replace(c, config={**c.config, **read[c.name]}) if c.name in read else c for c in curves]
    return laid(past), laid(now)


def forecast(history: CurvesLike, runs: CurvesLike, epochs: int | None = None, metric: str = "test_acc",
             predictor: str = live.DEFAULT_PREDICTOR, mode: str = "auto", *, steps: int | None = None,
             kind: str | None = None, configs: Mapping[str, Mapping] | None = None) -> pd.DataFrame:
    """Forecast runs still training from finished `history` curves: one row per run with `run`, `unit`
    ("epochs" or "steps": what `observed` and `epochs` count), `observed` (its last epoch or step),
    `epochs` (its planned length), `final`, `lower`, `upper` (80 % interval of the final value, in the
    metric's units), `p_best`, `decision` ("keep" / "stop"), `reason` (why a diverged run was stopped),
    `forecast` (the mean per future point) and `forecast_at` (the step, or epoch, of each). The runs left out (too
    short to forecast yet, no evaluation yet) are in `.attrs["left_out"]`, each `{"run", "reason"}`, as the CLI's JSON
    lists them.

    `metric` may be an accuracy, a loss or any other series; `mode` "min" | "max" | "auto" (min for
    names like loss, ce, err, mse, perplexity). `epochs` is in the runs' own unit: steps for runs
    logged by optimizer step; where such runs are already past step `epochs`, it counts their
    evaluations instead (every 15 steps, epochs=50 plans step 750), with a warning. `steps` instead of
    `epochs` (as the CLI's --steps): the planned length in the runs' own unit, never a count of
    evaluations (the last optimizer step for runs logged by step, the last epoch for the others). A `mode`
    that contradicts the name (mode="max" for a val_loss) is used, with a warning. `kind`: what the values
    are, "fraction" (in [0, 1]), "positive" (>= 0, a loss) or "any" (any finite series: a critic's loss
    that goes negative); None (default) reads it from the name.

    `history` and `runs`: paths (files, folders, DVCLive runs, as the CLI reads them), a mapping of run
    name -> values per epoch (a list) or -> {step: value} (or a pandas Series indexed by step) for runs
    evaluated every k steps, or a DataFrame of one column per run: one row per epoch (the default index;
    shorter runs NaN-padded at the end), or indexed by step (NaN where a run was not evaluated). A mapping's
    value may be a run's own log as a DataFrame (`pd.DataFrame(trainer.state.log_history)`), read as the CLI
    reads that log written as CSV. With steps=, a list is still read one value per epoch, with a warning.

    Neither `epochs` nor `steps`: each run's own file plans its length (a sidecar's `epochs` or `max_steps`, a
    Hugging Face Trainer state's `max_steps`); a run whose file plans none is one error.

    `configs`: run name -> its hyper-parameters ({"lr": 1e-3, "optimizer": "adam", "lora": {"r": 8}}), for runs
    and history curves given in memory, which carry none (or to add to what a run's files state; these win). Read
    as a `<run>.json` sidecar of that content is: `auto` weighs analogs by them (README: "Run configs travel with
    their curves"). The planned length is `epochs=` / `steps=`, never a config's `epochs`.

    >>> lcpipe.forecast(history="data/history/cifar10-plain-vs-resnet", runs="runs/", epochs=164)
    >>> lcpipe.forecast(history="lm_runs/", runs="live/", epochs=750, metric="val_ce", mode="min")
    """
    if epochs is not None and steps is not None:
        raise LcpipeError("give the planned length once: epochs= (epochs, or evaluations of runs logged by step) "
                          f"or steps= (the planned optimizer step); got epochs={epochs!r:.40}, steps={steps!r:.40}")
    flag, length = ("epochs=", epochs) if steps is None else ("steps=", steps)
    if isinstance(length, float | np.floating) and float(length).is_integer():
        length = int(length)  # 50.0 is 50, as a sidecar's 133333.0 is (helper: "give ... a whole number" read odd)
    if length is not None and (not isinstance(length, int | np.integer) or isinstance(length, bool)
                               or not 1 <= length <= MAX_STEPS):
        raise LcpipeError(f"{flag}{length!r:.40}: give the planned length as a whole number in 1..{MAX_STEPS}")
    if not isinstance(metric, str) or not metric.strip():
        raise LcpipeError(f"metric={metric!r}: give the name of the column to forecast, e.g. 'test_acc' or 'val_loss'")
    if why := axis_named(metric):
        raise LcpipeError(f"metric={metric!r}: {why}")
    try:
        kind = Metric.infer(str(metric), mode, kind)
    except (ValueError, TypeError) as exc:
        raise LcpipeError(str(exc)) from None
    against = live.mode_against_name(str(metric), mode)
    if against:  # as ForecastPruner and the CLI warn
        warnings.warn(f"mode={mode!r} with metric={metric!r}: {against}", stacklevel=2)
    params = replace(Params(), features=replace(Params().features, metric=kind.name))
    past = _curves(history, kind, "history curve", "history")
    started: list[tuple[str, str, str]] = []  # runs with no evaluation yet: left out with a warning, as in the CLI
    now = _curves(runs, kind, "run", "runs", in_steps=steps is not None, started=started)
    logs = _logs_in(runs)  # runs given as their logs' DataFrames: read as files are, no list of values
    listed = [c.name for c in now if c.steps is None and c.path is None and c.name not in logs]
    if steps is not None and listed:  # the CLI's --steps synonym, but a list may well be evaluations every k steps
        warnings.warn(f"steps={steps}: run {listed[0]!r}{f' and {len(listed) - 1} more' if len(listed) > 1 else ''} "
                      f"gave a list, one value per epoch, so {steps} is read as epochs; for a run evaluated every k "
                      "steps give a mapping step -> value (or a pandas Series or DataFrame indexed by step)",
                      stacklevel=2)
    if configs is not None:
        past, now = _with_configs(configs, past, now, {name for name, _, _ in started})
    kind, direction = live.with_history_direction(kind, past)
    if direction:  # the CLI says it in its metric line: the direction taken from the history, or none clear
        warnings.warn(direction, stacklevel=2)
    kind = live.with_history_scale(kind, past)
    given = length is not None
    if not given:  # neither given: each run's own file plans it (a sidecar's, a Trainer state's max_steps)
        length, flag = live.own_length(now, started, "epochs= (epochs) or steps= (optimizer steps)"), "steps="
    grid = live.planned_epochs(now, int(length), min_observed=params.features.window + 1, length_given=given,
                               by_evaluations=flag == "epochs=",
                               say=lambda line: warnings.warn(line, stacklevel=user_stacklevel()),
                               flag=flag, started=tuple(started), logs=logs, metric=kind)
    fitted = live.fit_on_history(predictor, params, past, now, kind,
                                 say=lambda line: warnings.warn(line, stacklevel=user_stacklevel()))
    if ignored := live.config_values_ignored(fitted, now):  # the CLI prints it in its config line
        warnings.warn(f"config: {ignored}", stacklevel=2)
    if note := live.unconfirmed_note(fitted, grid, kind):
        warnings.warn(note, stacklevel=2)
    if note := live.uncalibrated_note(fitted):
        warnings.warn(note.removeprefix("note: "), stacklevel=2)
    if note := live.early_note(fitted, grid, kind):
        warnings.warn(note.removeprefix("note: "), stacklevel=2)
    if note := live.late_note(now, grid, kind):
        warnings.warn(note.removeprefix("note: "), stacklevel=2)
    results = live.forecast_runs(fitted, grid, kind)
    if note := live.no_interval_note(predictor, results):
        warnings.warn(note.removeprefix("note: "), stacklevel=2)
    rows = []
    for r in results:
        mean, lower, upper = r.final
        rows.append({"run": r.run, "unit": r.unit, "observed": r.seen, "epochs": r.epochs, "final": mean,
                     "lower": lower, "upper": upper, "p_best": r.p_best, "decision": r.decision, "reason": r.reason,
                     "forecast": r.forecast.mean, "forecast_at": np.asarray(r.forecast_at())})
    frame = pd.DataFrame(rows)
    # the runs left out (too short yet, no evaluation yet), each with its reason, as the CLI's JSON lists them under
    # `left_out`: a notebook that filters warnings still finds why a run has no row (red team)
    frame.attrs["left_out"] = [dict(entry) for entry in grid.left_out]
    return frame
