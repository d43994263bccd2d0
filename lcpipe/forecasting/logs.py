"""Lenient readers of learning curves as people log them, with the config each run states.

Read: lcpipe's own curve file (lcpipe/curve.py) and its sidecar; also
- the external format of shared/curves, `epoch,train_loss,train_err,test_err` (epoch from 0): an
  accuracy is read as 1 - its error column when the file has no accuracy column;
- a DVCLive folder, `<run>/plots/metrics/<metric>.tsv` (`step` from 0), or a folder of such runs
  (`dvclive/<arch>/`); the run is named after its folder.
Dialects: a byte-order mark, `,` `;` or tab separators (with a decimal comma where the separator is
not a comma), any header case, extra columns of any kind. The x column is `epoch` or `step` (also
`global_step`, `iteration`): rows counting up by one from 0 or 1 are epochs; any other increasing
x (evaluations every k optimizer steps, at regular or irregular intervals) is a step axis, kept as
Curve.steps and put on a regular grid where it is forecast (curve.on_grid).

The metric may be of any kind (lcpipe/metric.py): an accuracy must be a fraction, a loss >= 0,
anything else finite. It must be there at every row until it turns NaN or inf, where the run
diverged: the curve ends there and says so (Curve.diverged). Other columns may be blank, NaN, text
or missing (kept as NaN where they are not numbers). Every error quotes the file, its line, and the
file's own column names and steps.
"""

from __future__ import annotations

import csv
import errno
import functools
import json
import math
import os
import re
import stat
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml

from lcpipe.atomic import MAX_DEPTH, SIDECARS, kind_of  # MAX_DEPTH: the --out guard follows links as deep
from lcpipe.curve import COLUMNS, MAX_EPOCHS, MAX_STEPS, Curve, as_finished, check_planned
from lcpipe.errors import LcpipeError, WrongKindError
from lcpipe.metric import EVAL_WORDS, TRAIN_WORDS, Metric, as_metric

# step: DVCLive, logs of optimizer steps; training_iteration: Ray Tune's count of a trial's reports (progress.csv)
EPOCH_COLUMNS = ("epoch", "step", "global_step", "iteration", "iter", "training_iteration")
SUFFIXES = (".csv", ".tsv")  # any case: *.CSV is a curve file too
MIN_HISTORY_CURVES = 2  # intervals are learnt from how history curves differ: one curve cannot show that
MIN_HISTORY_EPOCHS = 3  # a shorter history curve has no shape to learn from


@functools.lru_cache(maxsize=4096)
def fold(name: str) -> str:
    """A column name as matched: case, spaces and underscores ignored (`Test Acc` is `test_acc`)."""
    return re.sub(r"[\s_]+", "", name).lower()


@dataclass(frozen=True)
class _Table:
    """A delimited text file as written: header names, data rows, and each row's file line."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    decimal_comma: bool

    def column(self, *names: str) -> int | None:
        """Index of the header matching one of `names` (the first name found), ignoring case, spaces and
        underscores; two columns that match one name are refused: which one was meant is not known. A name
        with a leading underscore yields to one without: W&B's export holds its own `_step` (a count of log
        calls) beside a run's `wandb.log({..., "step": s})`, and the run's is the one meant."""
        folded = _folded(tuple(self.header))
        for n in names:
            at = [i for i, h in enumerate(folded) if h == fold(n)]
            at = [i for i in at if not self.header[i].strip().startswith("_")] or at
            if len(at) > 1:
                raise LcpipeError(f"{self.path}: columns {at[0] + 1} and {at[1] + 1} are both {self.header[at[0]]!r}; "
                                  "remove or rename one")
            if at:
                return at[0]
        return None

    def cell(self, row: int, col: int) -> str:
        return self.rows[row][col].strip() if col < len(self.rows[row]) else ""

    def number(self, row: int, col: int) -> float | None:
        return _float(self.cell(row, col), self.decimal_comma)

    def numbers(self, col: int) -> np.ndarray:
        """The column as floats, NaN where a cell is blank or not a number."""
        cells = [r[col] if col < len(r) else "" for r in self.rows]
        if self.decimal_comma:
            cells = [c.replace(",", ".") for c in cells]
        joined = "".join(cells)
        if "_" not in joined and joined.isascii():  # float() alone takes 1_0 as 10 and Arabic-Indic digits
            try:
                return np.array(cells, dtype=float)  # every cell a number: one C loop
            except ValueError:
                pass
        return np.array([np.nan if (v := _float(c, False)) is None else v for c in cells])


@functools.lru_cache(maxsize=256)
def _folded(header: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fold(h) for h in header)


def counts_by_one(numbers: np.ndarray) -> bool:
    """Rows that count epochs: from 0 or 1, up by one each row."""
    return bool(len(numbers)) and numbers[0] in (0, 1) and np.array_equal(numbers, numbers[0] + np.arange(len(numbers)))


def _float(text: str, decimal_comma: bool) -> float | None:
    """The cell as a number written in ASCII (1e-3, -0.5, nan, inf); None otherwise: float() alone also
    reads 1_0 as 10 and Arabic-Indic digits, which a log never writes but a corrupted cell may hold."""
    if "_" in text or not text.isascii():
        return None
    try:
        return float(text.replace(",", ".") if decimal_comma else text)
    except ValueError:
        return None


def decoded(data: bytes) -> str:
    """A text file's bytes as text: UTF-8, or the UTF-16 or UTF-32 its byte-order mark names (PowerShell's Out-File,
    Excel's "Unicode text"); utf-8-sig drops Excel's UTF-8 mark."""
    for mark, codec in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                        (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(mark):
            return data.decode(codec)
    return data.decode("utf-8-sig")


def _table(path: Path) -> _Table:
    try:
        text = decoded(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise LcpipeError(f"{path}: cannot read ({type(exc).__name__}); is it a CSV text file (UTF-8)?") from None
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        if "*" in path.name:  # `head -16 data/curves/*.csv > runs/${f##*/}` before the curves exist
            raise LcpipeError(f"{path}: an empty file named by a shell pattern: the pattern matched no file, and a "
                              "redirect made this one? remove it, and make the files the pattern names first")
        raise NotStarted(f"{path}: empty file; expected a header line such as {','.join(COLUMNS)}")
    delimiter = max(",;\t", key=first.count)
    if not text.endswith(("\n", "\r")) and _cut_short(lines, delimiter):
        lines = lines[:-1]  # a run still training, its logger mid-write: "11,0.3" of "11,0.3312,0.3120\n"
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        parsed = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit() (131,072 characters)
        raise LcpipeError(f"{path}: line {reader.line_num}: {exc}; is it a CSV text file of one epoch "
                          "per line?") from None
    if not parsed:  # separators and blanks alone, e.g. ";"
        raise LcpipeError(f"{path}: no values, only separators; expected a header line such as {','.join(COLUMNS)}")
    (_, header), body = parsed[0], parsed[1:]
    rows = [[c if c.strip() not in MISSING_MARKS else "" for c in r] for _, r in body]
    return _Table(path, [h.strip() for h in header], rows, [n for n, _ in body], decimal_comma=delimiter != ",")


# cells that mark a value not logged, read as a blank cell: Keras' CSVLogger writes NA in the validation columns of an
# epoch it did not validate (fit(validation_freq=2)), R and pandas write NA, <NA> or N/A (red team: "column
# 'val_accuracy' is 'NA', not a number", where pd.read_csv and lcpipe.forecast() read the same file). A NaN stays a
# number, and a loss that turned NaN a divergence.
MISSING_MARKS = frozenset({"NA", "N/A", "n/a", "<NA>", "#N/A", "null", "NULL", "None"})


def _cut_short(lines: list[str], delimiter: str) -> bool:
    """Whether the last line (of a file with no newline after it) is a writer mid-line: it has fewer fields
    than every other line, or as many with its last one blank, or with fewer decimals than that column has in
    every other row, all of one count ("165,1" of "165,1.87775": read as a loss of 1.0, the run was forecast
    1.52 instead of 1.86; red team). A file whose rows leave out blank trailing fields (`lr` only where it
    changes) has such rows before its last too, and keeps it; so does a log of repr()'d floats, whose last
    value (1.0 after 0.9123) is whole (review)."""
    try:
        rows = [row for row in csv.reader(lines, delimiter=delimiter) if row]
    except csv.Error:
        return False
    if len(rows) < 2:
        return False
    widths = [len(row) for row in rows]
    if widths[-1] < min(widths[:-1]):
        return True  # the header and a first row cut short too (a run just started): "1,,0.45" of 4 columns
    col = len(rows[-1]) - 1
    last = rows[-1][col].strip()
    above = [row[col].strip() for row in rows[1:-1] if len(row) > col]
    if not last:  # blank: cut, unless the column has blanks above too (an lr logged only where it changes)
        return bool(above) and all(above)
    # a value with fewer decimals than every value above, all written with one number of them: a fixed-format
    # writer cut inside the number. A log of repr()'d floats (0.8123, 0.85, 1.0) has no one count, and keeps it
    places, own = {_decimals_of(v) for v in above}, _decimals_of(last)
    return len(above) >= 2 and len(places) == 1 and None not in places and own is not None and own < places.pop()


def _decimals_of(text: str) -> int | None:
    """Digits after the decimal point of a plain number as written (0 for "165"); None for an exponent or text."""
    body = text.lstrip("+-")
    whole, _, frac = body.partition(".") if "." in body else body.partition(",")  # a decimal comma (;-separated)
    return len(frac) if (whole + frac).isdigit() else None


THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(\.[0-9]{3})+")
COMMA_DECIMAL = re.compile(r"[-+]?[0-9]+,[0-9]+([eE][-+]?[0-9]+)?")
DOT_DECIMAL = re.compile(r"[-+]?[0-9]*\.[0-9]+([eE][-+]?[0-9]+)?")


def _no_thousands_separator(t: _Table, col: int) -> None:
    """Refuses a step column of a file written with decimal commas whose steps above 999 hold a '.' before every
    three digits (2.401 for 2401, as a spreadsheet in a European locale writes them): read as they are, 2.401 is a
    fraction and the steps an epoch axis (red team: a run at step 24,047 was forecast at epoch 24.047)."""
    cells = [t.cell(i, col) for i in range(len(t.rows))]
    dotted = [i for i, c in enumerate(cells) if "." in c]
    if not dotted or not all(THOUSANDS.fullmatch(cells[i]) for i in dotted):
        return
    others = [c.strip() for row in t.rows for j, c in enumerate(row) if j != col]
    # numbers written with a decimal comma, and none with a decimal point (review: a TSV of dot decimals, a comma
    # in a note column, its steps 0.250, 0.500 (fractions of an epoch) was refused)
    if any(COMMA_DECIMAL.fullmatch(c) for c in others) and not any(DOT_DECIMAL.fullmatch(c) for c in others):
        i = dotted[0]
        raise LcpipeError(f"{t.path}: line {t.lines[i]}: {t.header[col]} {cells[i]!r} in a file whose numbers use a "
                          f"decimal comma: is the '.' a thousands separator? Write the steps as whole numbers "
                          f"({cells[i].replace('.', '')})")


def _axis(t: _Table) -> tuple[np.ndarray, np.ndarray | None]:
    """(1..n, None) for rows that count epochs up by one from 0 or 1 (each row one epoch); else a
    step axis, (1..n, the file's steps), for a step column (step, global_step, iteration) or an
    epoch column at any regular or irregular interval. Either must increase at every row. (A step
    column that counts by one is kept as the column "step", for a length in steps: planned_epochs.)"""
    col = _x_column(t)
    if col is None:
        # pandas' to_csv() writes its index as a first column with no name (a DataFrame of an XGBoost evals_result,
        # say): name it (red team: the header ", logloss, error, auc" was read back to the user without a word more)
        index = " (its first column has no name: pandas' to_csv() writes the index so; write it with " \
            "index_label='step', or index_label='epoch' for one row an epoch)" if t.header and not t.header[0].strip() \
            else ""
        raise LcpipeError(f"{t.path}: missing column 'epoch' (or 'step'); the header is {', '.join(t.header)}{index}")
    name, numbers = t.header[col], t.numbers(col)
    bad = np.flatnonzero(~np.isfinite(numbers) | (numbers < 0))
    if bad.size:
        i = int(bad[0])
        raise LcpipeError(f"{t.path}: line {t.lines[i]}: {name} {t.cell(i, col)!r} where a step >= 0 was expected")
    if t.decimal_comma and fold(name) != "epoch":
        _no_thousands_separator(t, col)
    index = np.arange(1.0, len(t.rows) + 1)
    if counts_by_one(numbers):
        return index, None
    if name.strip() == "_step" and len(numbers) >= 3 and len(np.unique(np.diff(numbers))) > 1:
        # W&B's count of wandb.log() calls, moved by other calls between two evaluations at no steady stride (a train
        # log every 50 batches of 97): no training axis (red team: read as optimizer steps, "87/100" seen after 30
        # epochs). At a steady stride it may be the global step (wandb.log(..., step=global_step)): read as steps
        shown = ", ".join(t.cell(i, col) for i in range(min(4, len(t.rows))))
        raise LcpipeError(f"{t.path}: its step column is W&B's _step, which counts wandb.log() calls (the metric's "
                          f"rows are at _step {shown}, ...: other calls in between), not epochs or optimizer steps: "
                          "log the epoch or the global step with the metric (wandb.log({..., 'epoch': epoch})) and "
                          "export it, or, if _step is the global step (wandb.log(..., step=global_step)), rename the "
                          "column to step")
    if fold(name) == "epoch" and len(numbers) >= 2 and np.all(np.diff(numbers) == 1):
        raise LcpipeError(f"{t.path}: epochs run from {t.cell(0, col)} to {t.cell(len(t.rows) - 1, col)}, one a row, "
                          f"so the log misses epochs 1..{int(numbers[0]) - 1} (a run resumed from a checkpoint "
                          "logs from there on); give the whole log, from epoch 0 or 1")
    down = np.flatnonzero(np.diff(numbers) <= 0)
    gaps = np.diff(np.sort(numbers))
    if down.size and len(numbers) >= 5 and np.all(gaps > 0) and np.allclose(gaps, gaps[0]):
        # every step once, on a grid, out of order (of 5 rows at least: in 1, 5, 3 the 5 is likelier a typo)
        i = int(down[0]) + 1  # (review: it was blamed on a resumed run)
        raise LcpipeError(f"{t.path}: line {t.lines[i]}: {name} {t.cell(i, col)!r} after {t.cell(i - 1, col)!r}: its "
                          f"rows hold every {name} once, out of order; sort the file by {name}")
    if down.size:
        i = int(down[0]) + 1
        final = " (an evaluation after training, e.g. Hugging Face's trainer.evaluate() or Lightning's " \
            "trainer.validate(), logs the final step again: leave that row out)" \
            if i == len(numbers) - 1 and numbers[i] == numbers[i - 1] else ""
        raise LcpipeError(f"{t.path}: line {t.lines[i]}: {name} {t.cell(i, col)!r} after {t.cell(i - 1, col)!r}; "
                          f"{name} must increase from row to row (a run resumed from a checkpoint that logged "
                          f"some {name}s again: keep the later rows of each; a log holding several runs: split it "
                          f"where {name} restarts){final}")
    if missed_start(numbers):
        raise LcpipeError(f"{t.path}: its first row is at {name} {t.cell(0, col)}, then {t.cell(1, col)}: the log "
                          "misses the run's start (a run resumed from a checkpoint logs from there on; Hugging Face's "
                          "eval_delay skips the first evaluations), more of it than its first evaluations tell; give "
                          f"the whole log, or add the initial model's evaluation as a row at {name} 0")
    return index, numbers


LATE_START = 3  # a step log whose first evaluation is past this many of its intervals misses the run's start


def missed_start(steps: np.ndarray) -> bool:
    """A step axis that starts late: its first step is past LATE_START times its evaluation interval
    (the larger of its first gap and its median one). Every curve of the dev corpora starts within one
    interval (step 0, or the first evaluation at the interval); one resumed from a checkpoint starts
    thousands of steps in, and a grid from step 1 would hold its first value flat until then."""
    if len(steps) < 2:
        return False
    interval = max(float(steps[1] - steps[0]), float(np.median(np.diff(steps))))
    return bool(steps[0] > LATE_START * interval)


def _x_column(t: _Table) -> int | None:
    """The x column: `epoch` when it counts whole epochs up at every row (one a row, or every k: Lightning
    validating every 2 epochs, where `--epochs 200` was read as 200 evaluations, 400 epochs); otherwise,
    where the log has one, its step column (Hugging Face's trainer logs a fractional epoch beside the
    global step)."""
    epoch, step = t.column("epoch"), _step_column(t)
    if epoch is None or step is None:
        return epoch if step is None else step
    numbers = t.numbers(epoch)
    whole = len(numbers) >= 2 and bool(np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers))
                                       and np.all(np.diff(numbers) > 0))
    return epoch if counts_by_one(numbers) or whole else step


def _step_column(t: _Table) -> int | None:
    """The log's step column: `step` (or global_step, iteration, ...), but where that is W&B's `_step`, which counts
    its log calls, not training steps, the run's own `train/global_step` (`trainer/global_step`) when it has one."""
    step = t.column(*EPOCH_COLUMNS[1:])
    if step is not None and t.header[step].strip().startswith("_"):
        named = _named_last(t, "global_step")
        step = step if named is None else named
    return step


def _named_last(t: _Table, name: str) -> int | None:
    """The one column whose name's last part after a '/' is `name` (W&B's export: `train/global_step`,
    `train/train_runtime`), or None (none, or several)."""
    at = [i for i, h in enumerate(t.header) if fold(h).rsplit("/", 1)[-1] == fold(name)]
    return at[0] if len(at) == 1 else None


def _metric_column(t: _Table, metric: Metric) -> tuple[int | None, str | None]:
    """(the metric's column, or its `X_err` column for an accuracy `X_acc` the file logs as an error; the
    error's name where one could stand in)."""
    name = metric.name
    error = name.removesuffix("_acc") + "_err" if name.endswith("_acc") and metric.kind == "fraction" else None
    col = t.column(name)
    if col is None and "/" in name and (plots := _dvclive_plots(t.path)) is not None \
            and t.path.relative_to(plots).with_suffix("").as_posix() == name:
        col = t.column(name.rsplit("/", 1)[1])  # DVCLive heads val/acc.tsv with the name's last part: step, acc
    return (t.column(error) if col is None and error is not None else col), error


def _metric(t: _Table, metric: Metric) -> tuple[np.ndarray, int | None, int]:
    """(the metric's values, the row where it stopped being finite or None, its column): values of its kind (an
    accuracy a fraction, a loss >= 0), complete up to that row; from `X_err` when the file has no
    `X_acc` column (accuracy = 1 - error). A NaN or inf is a run that diverged, not a parse error:
    the values end before it."""
    name = metric.name
    col, error = _metric_column(t, metric)
    from_error = col is not None and error is not None and col == t.column(error) and t.column(name) is None
    # ... it stands in for the accuracy (not DVCLive's val/acc.tsv headed `acc`: _metric_column)
    if col is None:
        # a live run's logger adds the column at its first evaluation (an HF log_history as a DataFrame, Lightning's
        # CSVLogger, W&B): left out among live runs, refused when every run lacks it (a name mistyped:
        # live.planned_epochs), and where the log shows an evaluation or its end (_evaluated_otherwise; review)
        alt = f" (or {error!r})" if error else ""
        message = f"{t.path}: missing column {name!r}{alt}, the metric to forecast; the header is {', '.join(t.header)}"
        if _tensorboard(t):
            # TensorBoard's scalars export names its metric `Value`: no run that has yet to evaluate (red team: left
            # out of live runs as one)
            raise LcpipeError(f"{t.path}: a TensorBoard scalars export (Wall time, Step, Value): its {name!r} is the "
                              f"column 'Value'; rename that column to {name!r}")
        panel = [h for h in t.header if h.endswith(f" - {name}")]
        if panel:  # W&B's "Export panel data" CSV: one column per run (red team: told the metric was missing)
            # its Step is W&B's _step unless the panel's x-axis was set otherwise: split, it keeps that name, so a
            # _step at an unsteady stride is still refused (review: renamed `step`, it was read as optimizer steps)
            raise LcpipeError(f"{t.path}: a W&B panel export, a column per run ({', '.join(map(repr, panel[:2]))}"
                              f"{', ...' if len(panel) > 2 else ''}); lcpipe reads one run per file: set the panel's "
                              "x-axis to the epoch or the global step and export again, then split it, e.g. with "
                              f"pandas, for c in [c for c in df if c.endswith(' - {name}')]: df[['Step', c]].dropna()"
                              f".set_axis(['epoch', '{name}'], axis=1).to_csv(c.split(' - ')[0] + '.csv', "
                              "index=False) (axis 'step' for the global step; left at W&B's _step, name it '_step')")
        other = _evaluated_otherwise(t, name)
        if other is not None:
            alike = _loosely(t.header[other]) == _loosely(name)
            raise LcpipeError(message + (f" (if {t.header[other]!r} is the metric, give that name)" if alike else ""))
        raise NotStarted(message, reason=f"no column {name!r}{alt} yet, the metric to forecast (its header: "
                                         f"{_shown_header(t.header)})")
    if fold(t.header[col]) == "value" and _tensorboard(t) and metric.why.startswith("--mode auto"):
        # `--metric Value` names no kind or direction: an accuracy was forecast as any series, above 1 (red team)
        raise LcpipeError(f"{t.path}: a TensorBoard scalars export (Wall time, Step, Value): 'Value' says not what "
                          "it is; rename that column to the metric's name (val_accuracy, val_loss) so its kind and "
                          "direction are read, or give --mode (mode= in Python; and --kind fraction for an accuracy)")
    values = t.numbers(col)
    for i in np.flatnonzero(np.isnan(values)):  # blank or text: missing, not diverged (a NaN cell parses)
        cell, where = t.cell(int(i), col), f"{t.path}: line {t.lines[int(i)]}: column {t.header[col]!r}"
        if not cell:
            raise LcpipeError(f"{where} is blank; the metric to forecast must be there at every evaluation")
        if t.number(int(i), col) is None:
            raise LcpipeError(f"{where} is {cell!r}, not a number")
    broken = np.flatnonzero(~np.isfinite(values))
    end = int(broken[0]) if broken.size else None
    values = values[:end]
    _check_kind(t, col, values, metric if not from_error else Metric(error, "min", "fraction"))
    return (1.0 - values if from_error else values), end, col


def _tensorboard(t: _Table) -> bool:
    """Whether the table is TensorBoard's scalars export: Wall time, Step, Value."""
    return sorted(_loosely(h) for h in t.header if h.strip()) == ["step", "value", "walltime"]


def _check_kind(t: _Table, col: int, values: np.ndarray, metric: Metric) -> None:
    """One line naming the file, line, column and what was expected for a value of the wrong kind."""
    name = t.header[col]
    wrong = metric.wrong(values)
    if not wrong.size:
        return
    if metric.kind == "fraction" and np.all((values >= 0) & (values <= 100)) and np.median(values) > 1 \
            and Metric.infer(str(name)).kind != "positive":  # a loss's 2.38 is no percent (red team: train_loss)
        # a fraction by its name, or by the kind the user gave (--kind fraction on a val_loss: no accuracy's name)
        raise WrongKindError(f"{t.path}: column {name!r} is in percent (up to {values.max():g}); "
                             f"lcpipe reads {metric.name} as a fraction: divide it by 100",
                             ", or, if it is no fraction, give --kind positive or any (kind= in Python)")
    i = int(wrong[0])
    kinds = "--kind positive or any, or kind= in Python" if metric.kind == "fraction" and \
        Metric.infer(str(name)).kind == "positive" else "--kind any, or kind='any' in Python"  # a loss by its name
    raise WrongKindError(f"{t.path}: line {t.lines[i]}: column {name!r} is {t.cell(i, col)!r} where "
                         f"{metric.expected()} was expected for {metric.name!r}",
                         f" (if it may {metric.admits()}: {kinds})")


def _check_lr(t: _Table, lr: np.ndarray | None) -> None:
    """An lr column is a schedule lcpipe reads drops from: a negative value is a broken log, not a drop."""
    if lr is None:
        return
    negative = np.flatnonzero(lr < 0)
    if negative.size:
        i, col = int(negative[0]), next(c for c, n in enumerate(t.header) if n.strip().lower() == "lr")
        raise LcpipeError(f"{t.path}: line {t.lines[i]}: column 'lr' is {t.cell(i, col)!r}; a learning rate is 0 or "
                          "more: fix the column, or rename it if it is not the lr schedule")


def _other_columns(t: _Table, skip: set[int]) -> dict[str, np.ndarray]:
    """Every other column that holds numbers, lower-cased, NaN where a cell is not one."""
    out = {}
    for col, name in enumerate(t.header):
        if col in skip or not name:
            continue
        values = t.numbers(col)
        if not np.all(np.isnan(values)):  # a text column such as a timestamp
            out[re.sub(r"\s+", "_", name.strip().lower())] = values  # `Train Err` -> train_err
    return out


MAX_CONFIG_BYTES = 1_000_000  # a run's config file is a few hundred bytes; anything huge is not one


STEP_KEYS = ("max_steps", "steps", "num_iterations")  # a config key that plans a run in optimizer steps


def run_config(meta: Path) -> tuple[int | None, dict]:
    """(planned length, flat config) that a run's own file states: lcpipe's sidecar or a `<run>.json`
    in the dev corpus's flat format (`epochs` or, for a run logged by optimizer step, `max_steps`;
    `optimizer`, `lr`, ...), or DVCLive's params.yaml (a `train:` section is flattened into the top
    level). (None, {}) when there is no such file."""
    return _planned_and_config(_config_file(meta), meta)


def _planned_and_config(flat: dict, meta: Path) -> tuple[int | None, dict]:
    """run_config of a config already read. Its `epochs` is the planned length, unless the run is
    planned in steps (a STEP_KEYS key)."""
    config = _settings(flat)
    in_steps = any(_stated(flat, k) for k in STEP_KEYS)
    return None if in_steps else planned_in_epochs(flat, meta), config


EPOCH_KEYS = ("epochs", "max_epochs", "num_train_epochs")  # planned epochs: lcpipe's, Lightning's, Hugging Face's


def planned_in_epochs(flat: dict, meta: Path | str) -> int | None:
    """The planned epochs a config states: `epochs`, else Lightning's `max_epochs` or Hugging Face's
    `num_train_epochs` as a whole number (red team: a sidecar's max_epochs: 200 was no length, and --epochs 100
    planned the run silently). Lightning's -1 (no limit) is none."""
    if "epochs" in flat:
        return check_planned(flat["epochs"], str(meta))
    for key in EPOCH_KEYS[1:]:  # a fractional one (Hugging Face allows 2.5) plans no whole run: none, not an error
        value = flat.get(key)
        if _stated(flat, key) and isinstance(value, int | float) and not isinstance(value, bool) \
                and float(value).is_integer() and 1 <= value <= MAX_EPOCHS:
            return int(value)
    return None


def _settings(flat: dict) -> dict:
    """A flat config's hyper-parameters: its values of a plain kind, `learning_rate` read as `lr`, without `epochs`
    (the planned length, not a setting to compare runs by)."""
    plain = int | float | str | bool | list
    return config_named({str(k): v for k, v in flat.items() if k not in EPOCH_KEYS and isinstance(v, plain)})


# other names of the key `schedule` (what lcpipe reads to know whether milestones beside it are lr drops, and compares
# runs by): PyTorch's and Lightning's usual `scheduler`, timm's `sched`, Hugging Face's `lr_scheduler_type`, and a
# section naming one (Hydra's scheduler: {name: cosine} or {_target_: ...CosineAnnealingLR}, LightningCLI's
# lr_scheduler: {class_path: ...}); red team: "scheduler": "cosine" beside milestones: [60] was forecast with a drop
# at 60
SCHEDULE_KEYS = ("scheduler", "sched", "lr_scheduler", "lr_scheduler_type", "lr_schedule", "scheduler_type",
                 "schedule_type", "scheduler_name")
SCHEDULE_FIELDS = ("name", "type", "_target_", "class_path")
OPTIMIZER_SECTIONS = ("optimizer", "optim")  # a section naming the optimizer in one of SCHEDULE_FIELDS
OPTIMIZER_PREFIXES = tuple(f"{section}.{inner}" for section in OPTIMIZER_SECTIONS for inner in ("init_args.", ""))
NOT_OPTIMIZERS = frozenset({"partial", "instantiate", "call"})  # a dotted path's last name that wraps one
FACTORY_PREFIXES = ("create_", "build_", "get_", "make_")  # ... or builds one
# never lifted from an optimizer section: a length (a warmup's epochs is no run's; review), what names the section
NOT_LIFTED = frozenset({*EPOCH_KEYS, "max_steps", "num_iterations", "steps", "total_steps", *SCHEDULE_FIELDS})


def config_named(config: dict) -> dict:
    """The config with the other names of what lcpipe reads under its own: `learning_rate` (Hugging Face's
    TrainingArguments, Lightning's usual hparam) as `lr` (an optimizer section's lr is _lifted), a schedule's
    name (SCHEDULE_KEYS, a section's SCHEDULE_FIELDS) as `schedule`, and an optimizer section's class
    (OPTIMIZER_SECTIONS: torch.optim.SGD) as `optimizer`, in lower case as torch's names are written elsewhere (sgd),
    each where the config states none under lcpipe's name; names that disagree (two schedules) are left as they are."""
    out = _optimizer_named(config)
    if "lr" not in out and isinstance(out.get("learning_rate"), str) and "learning_rate_init" in out:
        # scikit-learn's MLP and SGD estimators: `learning_rate` names the schedule ('constant', 'invscaling',
        # 'adaptive') and `learning_rate_init` holds the rate (red team: 'constant' was read as the lr and said to be
        # ignored, and the rate itself was compared as any other hyper-parameter)
        out = dict(out)
        out["lr"] = out.pop("learning_rate_init")
        if "schedule" not in out:
            out["schedule"] = out.pop("learning_rate")
    if "lr" not in out and "learning_rate" in out:
        out = dict(out)
        out["lr"] = out.pop("learning_rate")
    if "schedule" not in out:
        keys = [k for k in out if k in SCHEDULE_KEYS] + _naming_fields(out, ("schedule", *SCHEDULE_KEYS))
        names = {out[k] for k in keys if isinstance(out[k], str) and out[k].strip()}
        if len(names) == 1:
            out = {k: v for k, v in out.items() if k not in keys}
            out["schedule"] = names.pop()
    return out


def _optimizer_named(config: dict) -> dict:
    """The config with an optimizer section read as the plain form states it: its name (a section's SCHEDULE_FIELDS:
    Hydra's optimizer: {_target_: torch.optim.SGD}, LightningCLI's {class_path: ...}, {name: sgd}; helper: each was
    dropped with no word) as `optimizer`, and its direct settings (momentum, weight_decay) as top-level keys where
    the config states them nowhere else (review: kept dotted, they were compared with nothing); a plain name as the
    history writes it (optimizer_name)."""
    out = config
    if "optimizer" not in out:
        keys = [k for k in _naming_fields(out, OPTIMIZER_SECTIONS) if isinstance(out[k], str)]
        names = {optimizer_name(out[k]) for k in keys} - {None}
        if len(names) == 1:
            out = {k: v for k, v in out.items() if k not in keys} | {"optimizer": names.pop()}
            settings: dict[str, list[str]] = {}  # a direct child of a section, never a length nor a private key
            for k in out:  # (review: optimizer.warmup.epochs became the run's epochs, _partial_ a hyper-parameter)
                rest = next((k[len(prefix):] for prefix in OPTIMIZER_PREFIXES if k.startswith(prefix)), "")
                if rest and "." not in rest and not rest.startswith("_") and rest not in NOT_LIFTED:
                    settings.setdefault(rest, []).append(k)
            for key, found in settings.items():
                if key not in out and len(found) == 1:  # stated in two sections (optimizer.lr, optim.lr): neither
                    out[key] = out.pop(found[0])
    if isinstance(out.get("optimizer"), str) and (name := optimizer_name(out["optimizer"])) \
            and name != out["optimizer"]:  # torch's SGD or torch.optim.SGD: the history's sgd
        out = {**out, "optimizer": name}
    return out


def _naming_fields(config: dict, sections: tuple[str, ...]) -> list[str]:
    """The keys of `config` that name one of `sections` (SCHEDULE_FIELDS: scheduler.name, optimizer._target_)."""
    return [k for k in config if "." in k and k.rsplit(".", 1)[0] in sections
            and k.rsplit(".", 1)[1] in SCHEDULE_FIELDS]


def optimizer_name(value: str) -> str | None:
    """An optimizer as the history names it: lower case, a dotted path cut to its last name (torch.optim.SGD: sgd,
    optax.adamw: adamw); None for what names no optimizer: a factory or wrapper (timm.optim.create_optimizer_v2,
    functools.partial: review)."""
    text = value.strip()
    parts = text.split(".")
    if len(parts) > 1 and all(part.isidentifier() for part in parts):
        last = parts[-1].lower()
        return None if last in NOT_OPTIMIZERS or last.startswith(FACTORY_PREFIXES) else last
    return text.lower() or None


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number_of(text: str):
    """A number written as text (MLflow logs every param as a string: "0.001", "200"), else the text: an int where it
    is one; inf, nan and what overflows to them ("1e400") stay text, as does a digit string longer than any setting
    (a hash, an id: Python refuses ints of over 4,300 digits; review)."""
    t = text.strip()
    if len(t) > 40 or not _NUMBER.fullmatch(t):
        return text
    value = float(t)
    if not np.isfinite(value):
        return text
    return int(t) if re.fullmatch(r"[+-]?\d+", t) else value


def numbers_read(config: dict) -> dict:
    """The flat config with numbers given as text read as numbers, in lists too ("[60, 80]", MLflow's text of a list
    of milestones), as a user who wrote them means them (red team: "lr": "0.001" was ignored, "epochs": "200"
    refused the whole forecast)."""
    def read(value):
        if isinstance(value, str):
            t = value.strip()
            if t.startswith("[") and t.endswith("]") and t[1:-1].strip():
                items = [_number_of(x) for x in t[1:-1].split(",")]
                return items if all(isinstance(x, int | float) for x in items) else value
            return _number_of(value)
        if isinstance(value, list):
            return [_number_of(x) if isinstance(x, str) else x for x in value]
        return value
    return {k: read(v) for k, v in config.items()}


def _stated(flat: dict, key: str) -> bool:
    """The config states `key`: present, and not Hugging Face's "unset" -1 (TrainingArguments writes
    max_steps: -1 when the run is planned in epochs)."""
    value = flat.get(key)
    return key in flat and not (isinstance(value, int | float) and not isinstance(value, bool) and value == -1)


class _ConfigLoader(yaml.SafeLoader):
    """A run's config as DVC (ruamel, YAML 1.2) and JSON read it, through PyYAML's safe loader (plain
    data only): YAML 1.2's core schema for numbers and booleans, so `1e-05` (json.dumps(1e-5), DVCLive's
    `lr: 1e-3`) is a number, while 1.1's sexagesimal `1:30` (90), octal `010` (8) and `yes`/`on` (True)
    stay text; a key written twice is refused, as ruamel refuses it."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is written twice (line {key_node.start_mark.line + 1})",
                    key_node.start_mark)
            if isinstance(key, str | int | float | bool):
                seen.add(key)
        return super().construct_mapping(node, deep)


_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag.rsplit(":", 1)[-1] not in ("bool", "int", "float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
for _tag, _rx, _first in (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("int", r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
        ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                  r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789.")):
    _ConfigLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_rx), list(_first))


def _yaml12_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """YAML 1.2 ints are decimal (or 0x hex): 010 is ten, not PyYAML's octal eight. One of thousands of
    digits (past Python's int-conversion limit) is a YAML error: no run's config holds one."""
    v = loader.construct_scalar(node)
    try:
        return int(v, 16) if v.startswith("0x") else int(v, 10)
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, f"an integer of {len(v)} digits (line "
                                                f"{node.start_mark.line + 1}) is too long", node.start_mark) from None


_ConfigLoader.add_constructor("tag:yaml.org,2002:int", _yaml12_int)


def _safe_yaml(text: str, kind: type[yaml.SafeLoader] | None = None):
    """One YAML document through _ConfigLoader (or `kind`, a subclass), a SafeLoader: plain data only, no
    Python objects."""
    loader = (kind or _ConfigLoader)(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


_KINDS_OF_YAML = {list: "a list", str: "text", int: "a number", float: "a number", bool: "true or false"}


class _HparamsLoader(_ConfigLoader):
    """Lightning's hparams.yaml, which it writes with yaml.dump: a tuple (betas) as !!python/tuple, a Namespace or
    a dtype as a Python object; a tuple is read as its list, any other Python object as nothing (review)."""


_HparamsLoader.add_multi_constructor(
    "tag:yaml.org,2002:python/",
    lambda loader, suffix, node: loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else None)


MAX_HPARAMS = 10_000  # keys of a Lightning hparams.yaml, flattened; beyond, it is no config (review: an alias bomb)


def _hparams(path: Path) -> dict:
    """A Lightning run's hyper-parameters as its config: nested maps flattened to dotted keys (optimizer.lr), the
    scalars kept. Only a config, never the run's planned length (a free-form `steps: [30, 60]` or `epochs` of
    Lightning's is not lcpipe's sidecar key); a file that cannot be read is no config, as before it was read."""
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            return {}
        data = _safe_yaml(path.read_text(), _HparamsLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError, LcpipeError):
        return {}

    if not isinstance(data, dict):
        return {}
    config = _dotted(data)  # aliases (yaml.dump's &id001) can nest a small file into millions of keys
    return {} if config is None else _lifted(numbers_read(config), CONFIG_KEYS)


def _dotted(data: dict, lists: bool = True) -> dict | None:
    """Nested maps flattened to dotted keys (optimizer.lr), scalars (and, with `lists`, lists of them) kept, W&B's
    {"value": v, "desc": ...} read as v; None past MAX_HPARAMS keys."""
    def flat(value, prefix=""):
        if isinstance(value, dict) and value and set(value) <= {"value", "desc"} and "value" in value:
            yield from flat(value["value"], prefix)  # W&B's config.yaml: lr: {desc: null, value: 0.001}
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from flat(v, f"{prefix}{k}.")
        elif isinstance(value, int | float | str | bool) or lists and isinstance(value, list) \
                and all(isinstance(x, int | float | str | bool) for x in value):
            yield prefix.rstrip("."), value

    config = {}
    for key, value in flat(data):
        config[key] = value
        if len(config) > MAX_HPARAMS:
            return None
    return config


# the keys lcpipe reads from a run's config (Auto's config keys, lr's other name) and its planned length: one a
# config states only inside a section (Hydra's optimizer.lr, trainer.max_steps) is read from there
CONFIG_KEYS = ("optimizer", "lr", "learning_rate", "schedule", "milestones", "dataset", "arch")


def _unserialized(key: str, value) -> dict:
    """{key: value}, but a Keras object as keras.optimizers.serialize() writes it ({"class_name": "SGD", "config":
    {"learning_rate": 0.1, "momentum": 0.9}, "module": ...}) as its class's name, lowercase, and its settings as a
    section of their own, `key.learning_rate` (helper: a sidecar's serialized optimizer was dropped silently, its run
    compared as one stating no optimizer)."""
    if not (isinstance(value, dict) and isinstance(value.get("class_name"), str) and value["class_name"].strip()
            and isinstance(value.get("config"), dict)):
        return {key: value}
    name = value["class_name"].strip().lower()
    if key in ("learning_rate", "lr"):  # a schedule (ExponentialDecay): its name, and its first rate as the lr
        start = value["config"].get("initial_learning_rate")
        number = isinstance(start, int | float) and not isinstance(start, bool)
        return {"schedule": name, **({key: start} if number else {})}
    settings = _unserialized_all({k: v for k, v in value["config"].items() if k != "name"})
    return {key: name, f"{key}_config": settings} if settings else {key: name}


def _unserialized_all(config: dict) -> dict:
    """Each entry of `config` through _unserialized; a key the config states itself is never replaced by one a
    serialized object implies (review: a schedule 'cosine' beside a serialized lr schedule depended on key order)."""
    read = {key: _unserialized(key, value) for key, value in config.items()}  # once each: nested, it recurses
    implied = {k: v for key, entries in read.items() for k, v in entries.items() if k != key and k not in config}
    return {**implied, **{key: entries.get(key, config[key]) for key, entries in read.items()}}


def _lifted(config: dict, keys: tuple[str, ...], accept=lambda _: True) -> dict:
    """The config with each of `keys` it states only nested, in one section (optimizer.lr), moved to the top (lr)
    where `accept` takes its value; one stated in two sections (model.lr, head.lr) is left where it is."""
    out = dict(config)
    for key in keys:
        if key in out:
            continue
        nested = [k for k in out if "." in k and k.rsplit(".", 1)[1] == key]
        if len(nested) == 1 and accept(out[nested[0]]):
            out[key] = out.pop(nested[0])
    return out


def _config_file(meta: Path | None) -> dict:
    if meta is None or not meta.is_file():
        return {}
    try:
        if meta.stat().st_size > MAX_CONFIG_BYTES:
            raise LcpipeError(f"{meta}: {meta.stat().st_size} bytes is too large for a run's config")
        text = decoded(meta.read_bytes())
        data = _plain_json(text) if meta.suffix.lower() == ".json" else None
        if data is None:
            if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text)):  # linear: refuses alias bombs
                raise LcpipeError(f"{meta}: YAML aliases (*name) are not allowed in a run's config")
            data = _safe_yaml(text)  # JSON is YAML
    except yaml.YAMLError as exc:
        data = _json_or_refused(text, meta, exc)
    except (OSError, UnicodeDecodeError) as exc:
        raise LcpipeError(f"{meta}: cannot read ({type(exc).__name__})") from None
    except RecursionError:
        raise LcpipeError(f"{meta}: nested too deeply for a run's config (lists or maps inside each other "
                          "hundreds of levels down); write its settings as plain keys") from None
    if data is None:
        return {}  # an empty file: no config
    if not isinstance(data, dict):
        held = _KINDS_OF_YAML.get(type(data), "something else")
        raise LcpipeError(f"{meta}: a run's config is a map of settings ({{\"lr\": 0.1, ...}}); this file holds "
                          f"{held}: write its settings as keys, or remove the file")
    return _flat_config(data, str(meta))


def _refuse_constant(name: str):
    raise ValueError(name)  # NaN, Infinity: no JSON; YAML reads them as it reads them in any other config


def _plain_json(text: str) -> dict | None:
    """A .json config's object, read by the JSON parser where it is plain JSON (no NaN or Infinity, each key once);
    None for anything else, which the YAML reading below reads or refuses with its one line. The same data as
    the YAML reading of JSON gives, 20 to 50 times faster: PyYAML's pure-Python parser, run twice over each sidecar
    (once for aliases), took 3.4 ms a file, 4.5 s of a 1,320-curve history's read, 20 s of the test suite."""
    if text.lstrip()[:1] != "{":
        return None
    try:
        data = json.loads(text, object_pairs_hook=_once_each, parse_constant=_refuse_constant)
    except (ValueError, RecursionError, _TwiceError):  # JSONDecodeError is a ValueError
        return None
    return data if isinstance(data, dict) else None


def _json_or_refused(text: str, meta: Path, exc: yaml.YAMLError):
    """A config YAML cannot parse: a .json file that is valid JSON (a tab YAML refuses) as JSON reads it, else one
    line saying where and why, as JSON says it for a .json file holding JSON (red team: a JSON sidecar cut short was
    told YAML's "expected the node content, but found '<stream end>'", with no line) and as YAML does for any
    other (YAML written in a .json file too)."""
    refused = isinstance(exc, yaml.constructor.ConstructorError)  # parsed, and refused (a key written twice)
    if meta.suffix.lower() == ".json" and text.lstrip()[:1] in ("{", "[") and not refused:  # not YAML in a .json
        try:
            return json.loads(text, object_pairs_hook=_once_each)
        except json.JSONDecodeError as bad:
            raise LcpipeError(f"{meta}: cannot read (not valid JSON: {bad.msg} at line {bad.lineno}, column "
                              f"{bad.colno})") from None
        except _TwiceError as twice:
            raise LcpipeError(f"{meta}: cannot read ({twice})") from None
        except (ValueError, RecursionError):
            pass  # an integer of thousands of digits, a nesting past Python's limit: YAML's reason
    problem = getattr(exc, "problem", None) or type(exc).__name__
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None and "(line" not in problem else ""
    raise LcpipeError(f"{meta}: cannot read ({problem}{where})") from None


class _TwiceError(Exception):
    """A JSON object with a key written twice (json.loads lets only its hook refuse it)."""


def _once_each(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are each written once, as a YAML config must be (review: the JSON reading took the
    last of `{"epochs": 30, "epochs": 40}`, silently)."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise _TwiceError(f"the key {key!r} is written twice")
        out[key] = value
    return out


def given_config(data: Mapping, where: str) -> dict:
    """A config handed over in memory (lcpipe.forecast's configs=) read as a run's config file with that content is:
    sections flattened, the keys lcpipe reads lifted, `learning_rate` as `lr`, `epochs` left out (the planned length
    is the caller's)."""
    def plain(value):  # as a file would hold it: nested Mappings of any kind (an OmegaConf DictConfig) as dicts,
        # numpy's scalars (np.float32(0.1)) as numbers, tuples of milestones as lists (review: they were dropped)
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, np.ndarray):  # np.array([150, 225]) as milestones: dropped, unsaid (red team)
            return value.item() if value.ndim == 0 else [plain(v) for v in value.tolist()]
        return value.item() if isinstance(value, np.generic) else value

    try:
        return _settings(_flat_config(plain(data), where))
    except RecursionError:  # a map inside itself, or nested hundreds deep
        raise LcpipeError(f"{where}: nested too deeply for a run's config (or a map holding itself); give its "
                          "settings as plain keys") from None


def _flat_config(data: dict, meta: str) -> dict:
    """A config's settings as flat keys: DVCLive's `train:` section into the top level, other sections dotted."""
    train = data.get("train")
    flat = {**{k: v for k, v in data.items() if k != "train"}, **(train if isinstance(train, dict) else {})}
    flat = _unserialized_all(flat)
    if not any(isinstance(v, dict) for v in flat.values()):
        return numbers_read(flat)
    # sections of their own (Hydra's optimizer: {lr: ...}, a sidecar's training_args: {...}): flattened to dotted
    # keys, those lcpipe reads moved to the top (review: a nested sidecar's lr and max_steps were dropped silently)
    dotted = _dotted(flat)
    if dotted is None:
        raise LcpipeError(f"{meta}: more than {MAX_HPARAMS} settings; a run's config holds its hyper-parameters")
    dotted = numbers_read(dotted)
    # a planned length by its unambiguous names only, as a whole number: a nested `steps: [30, 60]` is a scheduler's
    # milestones, `warmup: {epochs: 5}` no run's length
    return _lifted(_lifted(dotted, CONFIG_KEYS), ("max_steps", "num_iterations", *EPOCH_KEYS[1:]),
                   accept=lambda v: isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer())


def _records_of(t: _Table, metric: Metric, once: bool = True) -> _Table:
    """The rows that record `metric`, in a log where each row records some columns only: Lightning's CSVLogger
    and an HF Trainer's log history write a train row and an eval row at one step, each blank where the other
    logs. A row is another record when its metric cell is blank and it holds a number in a column that is
    blank in every row holding the metric (train_loss_step, learning_rate), with at least two rows of each
    kind. So is a row blank in the metric where the metric is on every k-th row (_strided: train columns logged
    at every row, the metric at some, as a W&B history export has it); a blank metric in a row like the others
    (a missed evaluation) is left for _metric to refuse. `once`: a lone record beside an evaluation is taken
    out on the first pass only."""
    col = _metric_column(t, metric)[0]
    if col is None:
        return t
    blank = [not t.cell(i, col) for i in range(len(t.rows))]
    if not any(blank) or all(blank):
        return t
    width = max(len(t.header), *(len(r) for r in t.rows))
    with_metric = [i for i, b in enumerate(blank) if not b]
    elsewhere = {c for c in range(width) if c != col and not any(t.cell(i, c) for i in with_metric)}
    if len(with_metric) < 2:  # one row of the metric says little of which columns its records leave blank ...
        only = with_metric[0]
        if len(t.rows) > 1 and t.number(only, col) is not None and all(
                any(t.number(i, c) is not None for c in elsewhere) for i in range(len(t.rows)) if i != only):
            # ... but where every other row holds a number there, they are train rows beside a live run's first
            # evaluation (Lightning: steps 49, 99, 99, 149), which was refused as a resumed run (review)
            return _Table(t.path, t.header, [t.rows[only]], [t.lines[only]], t.decimal_comma)
        return t
    # a record holds numbers there (a train loss, a learning rate); text such as "eval OOM" marks a missed
    # evaluation, which _metric refuses in one line; and one such row is no second logger, unless it is the last
    # (a test accuracy logged once after fit, as W&B's export has it: a summary record; red team)
    other = {i for i, b in enumerate(blank) if b and any(t.number(i, c) is not None for c in elsewhere)}
    last = len(blank) - 1  # ... a summary row, the last and after every evaluation, counts as a record beside one
    summary = {last} if last in other and last > with_metric[-1] else set()  # train row (a short HF fine-tune)
    if len(other) == 1 and not summary and once and _beside_an_evaluation(t, next(iter(other)), blank):
        # one train row at the step of an evaluation (a short run's first train log: Lightning logs every 50 steps;
        # an lr logged once): another record; the rest are read as any log is (a stride: review)
        row = next(iter(other))
        rest = _Table(t.path, t.header, t.rows[:row] + t.rows[row + 1:], t.lines[:row] + t.lines[row + 1:],
                      t.decimal_comma)
        return _records_of(rest, metric, once=False)
    if len(other) < 2:
        # no column of their own, but the metric at a steady stride of the rows before any summary (_strided): a
        # logger writing its train columns at every row and the metric at some (a W&B history export; Lightning
        # merging an epoch's last train log into its validation row; red team); missed evaluations break the
        # stride, or leave more than a stride of rows after the last evaluation, and are left for _metric (review)
        rows = len(blank) - len(summary)
        if _strided(with_metric, rows):
            other = summary | {i for i in range(rows) if blank[i] and any(t.number(i, c) is not None
                                                                         for c in range(width))}
        elif 2 * len(with_metric) <= rows and len(with_metric) >= 3:  # mostly blank, but not at a stride
            gaps = np.diff(with_metric)
            raise LcpipeError(f"{t.path}: column {t.header[col]!r} is on {len(with_metric)} of {rows} rows, "
                              f"every {gaps.min()} to {gaps.max()} rows: evaluations missed or stopped, or logged "
                              "beside other rows at no steady stride; keep the rows that hold it (pandas: "
                              f"df.dropna(subset=[{t.header[col]!r}])) and give that")
        elif not summary:
            return t
    kept = [i for i in range(len(t.rows)) if i not in other]
    return _Table(t.path, t.header, [t.rows[i] for i in kept], [t.lines[i] for i in kept], t.decimal_comma)


def _after_training_dropped(t: _Table) -> _Table:
    """The table without the rows after Hugging Face's train summary (the last row holding `train_runtime`, which
    `trainer.train()` logs when it ends), where every one of them is at the summary's own step: those are
    `trainer.evaluate()` calls made after training (at state.global_step), where the last in-loop evaluation may
    already stand, or of the best checkpoint (load_best_model_at_end), or of another set. None is a point of the
    curve. Rows at later steps are more training (a run resumed from its saved state, whose log keeps the first
    summary; review), read as any log is."""
    try:
        col, x = t.column("train_runtime"), _x_column(t)
    except LcpipeError:  # two columns of one name: no HF log to take apart here; _axis or _metric says what is wrong
        return t
    col = _named_last(t, "train_runtime") if col is None else col  # W&B's export of it: train/train_runtime
    if col is None or x is None:
        return t
    rows = [i for i in range(len(t.rows)) if t.number(i, col) is not None]
    if not rows or rows[-1] == len(t.rows) - 1:
        return t
    end, at = rows[-1] + 1, t.numbers(x)
    if not np.isfinite(at[end - 1]) or np.any(at[end:] != at[end - 1]):
        return t
    return _Table(t.path, t.header, t.rows[:end], t.lines[:end], t.decimal_comma)


def _validated_after_fit_dropped(t: _Table) -> _Table:
    """The table without a last evaluation at the optimizer step of the one before it but a later epoch: Lightning's
    `trainer.validate()` after `trainer.fit()` logs epoch = max_epochs at the final global step, with no training
    between, which an epoch axis read as one epoch more than the run trained."""
    epoch, step = t.column("epoch"), _step_column(t)
    if epoch is None or step is None or len(t.rows) < 3:
        return t
    epochs, steps = t.numbers(epoch)[-2:], t.numbers(step)
    # ... where the steps rose at every row before: a column of steps per epoch (mmdetection's iter, 7330 at every
    # row) is no global step, and its last row no repeat (review)
    if not (np.all(np.isfinite(epochs)) and np.all(np.isfinite(steps[-2:])) and steps[-1] == steps[-2]
            and epochs[1] > epochs[0] and np.all(np.diff(steps[:-1]) > 0)):
        return t
    return _Table(t.path, t.header, t.rows[:-1], t.lines[:-1], t.decimal_comma)


def _beside_an_evaluation(t: _Table, row: int, blank: list[bool]) -> bool:
    """Whether `row` is logged at the step (or epoch) of an evaluation row next to it: a record of another kind at
    one step, as Lightning's CSVLogger and HF's log history write them, not a missed evaluation (which has a
    step of its own)."""
    x = _x_column(t)
    if x is None:
        return False
    at = t.numbers(x)
    return any(0 <= j < len(at) and not blank[j] and np.isfinite(at[row]) and at[j] == at[row]
               for j in (row - 1, row + 1))


def whole_steps(steps: np.ndarray) -> bool:
    """Whether a step axis holds whole numbers, as optimizer steps do; fractions count epochs (0.5, 1.0, ...)."""
    return bool(np.all(np.asarray(steps, dtype=float) == np.round(steps)))


def _strided(rows: list[int], total: int) -> bool:
    """Whether `rows` (of `total`) fall at a stride of 2 rows or more whose widest is at most 1.5 x its narrowest
    but the last (evaluations on a wall clock, a last one off the stride; red team), with no more rows than the
    widest stride before the first and after the last (a run still training has logged part of its next).
    A missed evaluation doubles a stride; evaluations that stop leave many rows after the last (review)."""
    if len(rows) < 2:
        return False
    gaps = np.diff(rows)
    widest = int(gaps.max())
    if len(rows) == 2:  # a run two evaluations in: a stride of 2 rows or more, each ending its stride (train rows
        # before the first), and less than one after; [eval, blank, eval] is a missed evaluation (test_curves)
        return widest >= 2 and 1 <= rows[0] < widest and total - 1 - rows[-1] < widest
    # the last evaluation may fall off the stride (at the end of training); a missed one doubles a stride; the rows
    # up to the first evaluation are a stride too, when train rows come before it
    steady = int(min(gaps[:-1].min(), rows[0] + 1 if rows[0] >= 1 else np.inf))
    return int(gaps.min()) >= 2 and widest <= 1.5 * steady and rows[0] <= widest and total - 1 - rows[-1] < widest


def _read_table(path: Path, metric: str | Metric, name: str, meta: Path | None) -> Curve:
    """One curve file; `meta` its config file (None: it has none)."""
    return _curve_of(_table(path), as_metric(metric), name, meta, path)


def read_log_rows(where: str, header: list[str], rows: list[list[str]], metric: Metric, name: str,
                  lines: list[int]) -> Curve:
    """One run's log given as rows of text cells (a pandas DataFrame of a trainer's log: lcpipe.forecast's
    `runs={'name': pd.DataFrame(trainer.state.log_history)}`), read as its CSV file would be: train and eval rows
    told apart, evaluations after training left out; a NaN is a blank cell, as `to_csv` writes it. `where` names
    it in messages, `lines` number its rows."""
    if not rows:
        raise NotStarted(f"{where}: no rows")
    table = _Table(Path(where), [str(h) for h in header], rows, lines, False)
    return _curve_of(table, metric, name, None, None)


# a long-format log's column naming the run a row belongs to (MLflow's run_id, run_uuid; W&B's and others' run names)
RUN_ID_COLUMNS = ("run_id", "run_uuid", "run", "run_name", "trial_id")


def _curve_of(t: _Table, metric: Metric, name: str, meta: Path | None, path: Path | None,
              flat: dict | None = None) -> Curve:
    """The curve of a table read from `path` (None: given in Python), as _read_table reads it; `flat` its config
    where it was read already (a Trainer state's), else `meta`'s."""
    if t.column(metric.name) is None and all(t.column(c) is not None for c in ("key", "value")):
        run = next((t.header[c] for c in (t.column(n) for n in RUN_ID_COLUMNS) if c is not None), None)
        # several runs in one file: a pivot alone would merge them into one zig-zag curve, silently (red team)
        how = (f"one file per run, each pivoted: for run, df in frame.groupby({run!r}): df.pivot_table(index='step', "
               "columns='key', values='value').reset_index().to_csv(f'{run}.csv', index=False)") if run else \
            "pivot it, e.g. with pandas, df.pivot_table(index='step', columns='key', values='value').reset_index()"
        raise LcpipeError(f"{t.path}: a long-format log (one row per metric and step: {', '.join(t.header)}, as MLflow "
                          f"exports a metric's history); lcpipe reads one column per metric and one run per file: "
                          f"{how}")
    during = _after_training_dropped(t)
    col = _metric_column(t, metric)[0]
    if during is not t and col is not None and not any(during.cell(i, col) for i in range(len(during.rows))):
        raise LcpipeError(f"{t.path}: column {t.header[col]!r} is logged only after training (trainer.evaluate() rows "
                          "after the train summary), which gives no curve; evaluate during training (Hugging Face: "
                          "eval_strategy='steps' or 'epoch')")
    if col is not None and t.rows and not any(t.cell(i, col) for i in range(len(t.rows))) and _one_record(t) \
            and _evaluated_otherwise(t, t.header[col]) is None:
        # train rows alone so far (a W&B export, a logger of a fixed header, before the first evaluation): a live run
        # that has not evaluated yet, left out as one whose logger has written its header alone (it was refused).
        # Not where some row fills other columns than the rest (an evaluation row whose metric is blank: pandas
        # writes a NaN blank, a run that diverged at once; a train summary, a run that never evaluated), nor where
        # another column of the metric's evaluation is filled (eval_acc beside eval_loss; review)
        raise NotStarted(f"{t.path}: column {t.header[col]!r} is blank in each of its {len(t.rows)} rows: no "
                         "evaluation logged in it", reason=f"column {t.header[col]!r} blank in each of its "
                                                            f"{len(t.rows)} rows: no evaluation logged yet")
    t = _validated_after_fit_dropped(_records_of(during, metric))
    if not t.rows:
        raise NotStarted(f"{t.path}: no data rows after the header")
    if _x_column(t) is not None and _metric_column(t, metric)[0] is None:
        # named before the rows' steps are checked: a trainer's log keeps its train and eval rows at one step apart only
        # by the metric's column (red team: `--metric val_ce` on a log of eval_loss was told its step 15 came after 15,
        # a resumed run). A file with no step column at all is no curve, and says that first (review)
        _metric(t, metric)
    (epochs, steps), (values, end, col) = _axis(t), _metric(t, metric)
    x = _x_column(t)
    if steps is not None and fold(t.header[x]) == "epoch" and _counts_from_zero(during, t.header[x], metric):
        steps = steps + 1.0  # the end of epoch e of a counter from 0 is e + 1 epochs in
    skip = {x, col, *(c for c in (t.column(n) for n in EPOCH_COLUMNS) if c is not None)}
    columns = _other_columns(t, skip)
    if steps is None and fold(t.header[x]) != "epoch":  # a step column counting by one: epochs (DVCLive's
        columns["step"] = t.numbers(x)  # per-epoch step, Keras'), or every optimizer step under a length in steps
    elif steps is None and (at := t.column(*EPOCH_COLUMNS[1:])) is not None:  # epochs 0, 1, 2 beside the global
        numbers = t.numbers(at)  # step (Lightning's CSVLogger): the steps, for a length in steps (--steps)
        if np.all(np.isfinite(numbers)) and np.all(np.diff(numbers) > 0):
            columns["step"] = numbers
    _check_lr(t, columns.get("lr"))
    for err in [c for c in columns if c.endswith("_err")]:
        columns.setdefault(err.removesuffix("_err") + "_acc", 1.0 - columns[err])
    flat = _config_file(meta) if flat is None else flat
    planned, config = _planned_and_config(flat, meta)
    by_step_column = None  # the step column beside an epoch x column, where the run is planned in steps
    if "step" in columns and any(_stated(flat, k) for k in STEP_KEYS):  # its own file plans optimizer steps:
        steps = columns["step"]  # a step column counting 1, 2, 3 is then a log of every step, planned in steps
        if fold(t.header[x]) == "epoch":  # whole epochs beside the global step (a Trainer evaluating each epoch):
            by_step_column = t.column(*EPOCH_COLUMNS[1:])  # on the steps its plan counts (review: "epochs seen
            # 1570/3140" for steps 1570 of 3140, epoch 10 of 20)
    diverged = None
    if end is not None:
        diverged = f"{t.header[col]} is {t.cell(end, col)!r} at {t.header[x]} {t.cell(end, x)} (line {t.lines[end]})"
        later = int(np.isfinite(t.numbers(col)[end + 1:]).sum())  # a run that recovered: a glitch, not a divergence?
        if later:
            diverged += (f"; {later} finite value(s) follow it, read no further: if that row is no divergence (a "
                         "missed evaluation), drop it")
        columns = {k: v[:end] for k, v in columns.items()}
        epochs, steps = epochs[:end], (steps[:end] if steps is not None else None)
    per_epoch = _steps_per_epoch(t, x if by_step_column is None else by_step_column) if steps is not None else None
    stated = None
    if steps is not None:  # its config's `epochs` counts epochs, not the steps its rows are logged at ...
        in_epochs = planned_in_epochs(flat, meta)
        # ... unless the log says how many steps an epoch takes (red team: a Hugging Face log's sidecar planning 200
        # epochs was read as planning nothing, and --epochs 200 as 200 evaluations, every half epoch: 100 epochs)
        placed = None if in_epochs is None or per_epoch is None else round(in_epochs * per_epoch)
        planned = _planned_steps(flat, meta) or placed
        stated = in_epochs if placed is None else None
    epoch_axis = steps is not None and by_step_column is None and (fold(t.header[x]) == "epoch"
                                                                   or not whole_steps(steps))
    return Curve(name, {**columns, "epoch": epochs, metric.name: values}, planned, path, config, steps, diverged,
                 epoch_axis=epoch_axis, per_epoch=per_epoch, stated_epochs=None if epoch_axis else stated)


def _counts_from_zero(t: _Table, name: str, metric: Metric) -> bool:
    """Whether the log's whole-number epoch column `name` counts training epochs from 0, so that a row at epoch e
    ends e + 1 epochs: Lightning's CSVLogger and Keras' write train rows during epoch 0 and evaluate later (validating
    every 2 epochs, at epochs 1, 3, 5: read as they stood, "19/40 epochs seen" after 20; red team). Only on that
    evidence: a row at epoch 0 that is no evaluation, none that is (an evaluation at epoch 0 is the initial model's,
    before training, as lcpipe's own advice for a log missing its start puts it; review), and, where a step column
    stands beside, no evaluation at its epoch times a common number of steps (Hugging Face's epoch is progress: an
    evaluation at epoch 2.0 is at step 2P, its first-step row rounded to epoch 0.0). Fractional epochs are progress,
    and a bare column of evaluations (0, 2, 4, ...) says neither: both read as they stand."""
    at, col = t.column(name), _metric_column(t, metric)[0]
    if at is None or col is None:
        return False
    epochs = t.numbers(at)
    finite = np.isfinite(epochs)
    if not finite.any() or np.any(epochs[finite] != np.round(epochs[finite])):
        return False
    evaluated = np.array([bool(t.cell(i, col)) for i in range(len(t.rows))])
    zero = finite & (epochs == 0)
    if not zero.any() or (zero & evaluated).any():
        return False
    step = t.column(*EPOCH_COLUMNS[1:])
    if step is not None and step != at:
        steps, rows = t.numbers(step), evaluated & finite & (epochs > 0)
        rows &= np.isfinite(steps)
        if rows.sum() >= 2 and np.allclose(steps[rows] / epochs[rows], steps[rows][0] / epochs[rows][0], rtol=1e-6):
            return False  # an evaluation at step e x P: e epochs done (progress, as Hugging Face logs it)
    return True


def _steps_per_epoch(t: _Table, x: int) -> float | None:
    """The optimizer steps of an epoch, where a log on a step axis states each row's epoch beside its step (Hugging
    Face's trainer: epoch 0.5 at step 196): their ratio at the last row, where every row keeps to it within 2 % or
    the rounding of an epoch written to 2 decimals (as that trainer writes it); else None."""
    at = t.column("epoch")
    if at is None or at == x:
        return None
    epochs, steps = t.numbers(at), t.numbers(x)
    useful = np.isfinite(epochs) & np.isfinite(steps) & (epochs > 0) & (steps > 0)
    if useful.sum() < 2:
        return None
    epochs, steps = epochs[useful], steps[useful]
    ratio = float(steps[-1] / epochs[-1])
    if np.all(np.abs(epochs * ratio - steps) <= 0.0051 * ratio + 0.02 * steps):
        return ratio
    return _whole_epochs_steps(t.numbers(at), t.numbers(x))


def _whole_epochs_steps(epochs: np.ndarray, steps: np.ndarray) -> float | None:
    """The steps of an epoch where each row states the whole epoch it falls in (Lightning's CSVLogger: epoch 0 at
    steps 47 and 96, epoch 1 at 144 and 193, validating twice an epoch; red team: `--epochs 100` was read as 100
    evaluations, 50 epochs): P, where the rows that end two epochs or more say it exactly, (e + 1) * P at the step
    of the last row of epoch e (counted from 0 or 1), and every row keeps to e * P <= step <= (e + 1) * P; else
    None (validation every 100 steps of 997 ends no epoch: a window of P's would be a guess; review)."""
    ok = np.isfinite(epochs) & np.isfinite(steps)
    epochs, steps = epochs[ok], steps[ok]
    if len(epochs) < 4 or np.any(epochs != np.round(epochs)) or np.any(np.diff(epochs) < 0) \
            or np.all(np.diff(epochs) > 0):
        return None
    last = np.append(np.diff(epochs) > 0, False)  # the last row of each epoch but the (maybe unfinished) last
    for counted in (1.0, 0.0):  # steps counted from 0 (Lightning's: the row of epoch 0's end is at P - 1), or 1
        per = (steps[last] + counted) / (epochs[last] + 1)
        if len(per) >= 2 and np.all(per == per[0]) and per[0] == round(per[0]) and per[0] >= 1 \
                and np.all((epochs * per[0] <= steps + counted) & (steps + counted <= (epochs + 1) * per[0])):
            return float(per[0])
    return None


def column_words(name: str) -> list[str]:
    """A column name's words: `eval/loss`, `eval_loss`, `Eval Loss` and `evalLoss` are eval, loss."""
    return [w for w in re.split(r"[\s_/.\-]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.strip()).lower()) if w]


def _loosely(name: str) -> str:
    """A column name with every separator ignored, '/' and '.' too: `eval/loss` is `eval_loss` loosely."""
    return "".join(column_words(name))


# columns a logger fills on train rows, before any evaluation: an axis, an lr, a clock, W&B's own (_step, _runtime)
BOOKKEEPING = frozenset({"epoch", "step", "global", "iter", "iteration", "lr", "learning", "rate", "timestamp", "time",
                         "wall", "runtime", "grad", "norm", "flos", "total"})


def _evaluated_in(name: str, filled: list[str]) -> str | None:
    """Of the names of what a run has logged (`filled`), one that shows it evaluated, or ended, though the metric
    `name` is missing or blank, or None for a run that has logged train records alone: a train summary's
    train_runtime (HF: the run ended); for a metric of an evaluation split (eval_loss, loss/val), a name of any
    evaluation split (eval_acc, eval/loss, valid_loss; loss/train is not); for any other metric (loss, perplexity,
    train_loss), which says no split, anything logged but bookkeeping (an axis, an lr, a clock). Reviews: `loss/val`
    waits while loss/train is logged; `--metric loss` beside a filled val_loss, and `--metric val_loss` beside a
    filled valid_loss or eval_loss, are refused."""
    words = column_words(name)
    split = bool(set(words) & EVAL_WORDS) and not set(words) & TRAIN_WORDS
    for other in filled:
        said = column_words(other)
        if not said or fold(other) == fold(name):
            continue
        if said[-2:] == ["train", "runtime"]:
            return other
        if split and len(said) > 1 and set(said) & EVAL_WORDS:
            return other
        if not split and not other.strip().startswith("_") and not set(said) <= BOOKKEEPING:
            return other
    return None


def _evaluated_otherwise(t: _Table, name: str) -> int | None:
    """The column of _evaluated_in among the table's filled columns."""
    filled = [h for c, h in enumerate(t.header) if any(t.cell(i, c) for i in range(len(t.rows)))]
    other = _evaluated_in(name, filled)
    return None if other is None else t.header.index(other)


def _shown_header(header: list[str], most: int = 8) -> str:
    """A header for a message: its first `most` names (a W&B export has dozens)."""
    return ", ".join(header[:most]) + (f", ... ({len(header)} columns)" if len(header) > most else "")


def _one_record(t: _Table) -> bool:
    """Every row fills the same columns: one kind of record (train rows alone), no evaluation or summary row."""
    return len({tuple(bool(t.cell(i, c)) for c in range(len(t.header))) for i in range(len(t.rows))}) == 1


def _planned_steps(flat: dict, meta: Path) -> int | None:
    """A step-axis run's planned length in steps: its config's `max_steps` (or `steps`, `num_iterations`)."""
    for key in STEP_KEYS:
        if _stated(flat, key):
            return check_planned(flat[key], f"{meta} ({key})", MAX_STEPS, "steps")
    return None


class NotStarted(LcpipeError):
    """A curve file with no evaluation in it yet: empty, its header alone (a CSV logger writes the header
    first), train rows alone. A run just started among live ones is left out (read_curves' `started`), not an
    error; `reason` says why, for the line that names it."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or NOT_EVALUATED


NOT_EVALUATED = "no evaluation logged yet (an empty file, its header alone, or train rows alone)"


def waiting(path: Path, exc: NotStarted, name: str | None = None) -> tuple[str, str, str]:
    """(run name, where, reason) of a live run left out for now (read_curves' `started`): named as read_curve
    names its curve (a Lightning version by its folder), or `name`."""
    if name is None:
        name = path.parent.name if _named_by_folder(path) else path.stem
    return name, str(path), exc.reason


def _named_by_folder(path: Path) -> bool:
    """A log whose run is its folder: Lightning's <run>/metrics.csv, Ray Tune's <trial>/progress.csv."""
    return _lightning_log(path) or _ray_log(path)


def _ray_log(path: Path) -> bool:
    """Ray Tune's trial log: <trial>/progress.csv beside <trial>/params.json, its config (the run is its folder; red
    team: every trial was named 'progress', refused as two runs of one name, and its params.json went unread)."""
    return path.name == RAY_LOG and (path.parent / RAY_PARAMS).is_file()


RAY_LOG, RAY_PARAMS = "progress.csv", "params.json"


def _lightning_log(path: Path) -> bool:
    """Lightning's CSVLogger file: <run>/metrics.csv beside <run>/hparams.yaml (the run is its folder)."""
    return path.name == LIGHTNING_LOG and (path.parent / "hparams.yaml").is_file()


TRAINER_SAVING = "no trainer_state.json in its checkpoint yet (the Trainer's first save in progress)"
TRAINER_WRITING = "its only trainer_state.json is being written (cut short): read when it is"
TRAINER_UNSAVED = "no Trainer checkpoint in it yet (a run before its first save, or one stopped before it)"
TRAINER_STATE = "trainer_state.json"  # a Hugging Face Trainer's state: <run>/checkpoint-N/, or <run>/ at the end
CHECKPOINT = re.compile(r"checkpoint-(\d+)")  # the Trainer's checkpoint folders, named by their global step
SAVING = re.compile(r"(tmp-)?checkpoint-\d+")  # ... and one being saved (newer Trainers write tmp-checkpoint-N first)
MAX_STATE_BYTES = 512_000_000  # a state logged every step of a long run is tens of MB; beyond, it is no state


def trainer_state_of(folder: Path, say=None, live: bool = True) -> Path | None:
    """A Hugging Face Trainer run folder's latest state (its own trainer_state.json, or its checkpoint-N folders'
    of the highest N; of the two, the later by global step), or None where the folder is none. A checkpoint folder
    given itself is its own state. The Trainer writes the state at each save, so a live run is read as far as its
    latest checkpoint. A run resumed from an earlier checkpoint, or a new run in the same output dir, is read where
    it is now, not at the stale checkpoints above it (_newer_run; `say` tells; `live`: among live runs)."""
    own = folder / TRAINER_STATE
    saved = _checkpoint_states(folder)
    has_own = own.is_file()
    if live and CHECKPOINT.fullmatch(folder.name) is None:  # a checkpoint given itself is read as it is
        saved, has_own = _whole_states(folder, saved, own if has_own else None, say)
    latest = max(saved, default=None)
    if not has_own:
        return None if latest is None else _newer_run(folder, latest, saved, say, live)
    if latest is None or CHECKPOINT.fullmatch(folder.name):
        return own
    step = _global_step(own)  # the state saved at the end (save_state), or one copied up
    step = step if isinstance(step, int | float) and not isinstance(step, bool) else -1
    mine = (step, own)
    return _newer_run(folder, mine if step >= latest[0] else latest, [*saved, mine], say, live)


WRITING_SECONDS = 60  # a state written longer ago than this is not being written: cut short, it is damaged


def _being_written(path: Path) -> bool:
    """A state the Trainer is writing now: it opens the file for writing (which empties it) and writes
    `json.dumps(state) + "\n"` in one call, so until that call returns the file is empty or ends before its closing
    brace, and it was written moments ago. Read from its ends alone (a long run's state is megabytes). A file that is
    no JSON object at all, or one cut short long ago (a crash that left it so, NULs after it), is no state being
    written: its read says what is wrong with it (review: such a file waited as 'being written' for ever)."""
    try:
        with path.open("rb") as f:
            if time.time() - os.fstat(f.fileno()).st_mtime > WRITING_SECONDS:
                return False
            head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 256))
            tail = f.read().rstrip()
    except OSError:
        return False
    return not head or (head.startswith(b"{") and not tail.endswith(b"}"))


def _whole_states(folder: Path, saved: list[tuple[int, Path]], own: Path | None,
                  say) -> tuple[list[tuple[int, Path]], bool]:
    """A live run's checkpoint states less those being written, and whether its own state is there and whole: a
    state being written is passed over, the run read from the state before until it is (red team: one live run's
    checkpoint-300 caught half-written stopped the whole forecast, though its checkpoint-225 was whole), and said;
    with none left the run waits, named (_trainer_run)."""
    writing = [s for s in saved if _being_written(s[1])]
    own_writing = own is not None and _being_written(own)
    whole = [s for s in saved if s not in writing]
    if say and (writing or own_writing) and (whole or (own is not None and not own_writing)):
        names = [f"{s[1].parent.name}/{TRAINER_STATE}" for s in sorted(writing)] + ([TRAINER_STATE] if own_writing
                                                                                     else [])
        own_step = _global_step(own) if own is not None and not own_writing else None
        candidates = whole + ([(own_step, own)] if isinstance(own_step, int | float) else [])
        latest = max(candidates, key=lambda s: s[0])[1] if candidates else own
        say(f"{folder}: {', '.join(names)} {'is' if len(names) == 1 else 'are'} being written (cut short); read from "
            f"{_state_name(folder, latest)} until {'it is' if len(names) == 1 else 'they are'}")
    return whole, own is not None and not own_writing


def _state_name(folder: Path, state: Path) -> str:
    """A state as messages name it: its checkpoint folder, or the run folder's own state."""
    return state.parent.name if state.parent != folder else f"its own {TRAINER_STATE}"


def _trained(state: dict) -> bool:
    """A state of a run that trained (global_step above 0): an evaluation's save_state() alone is no run."""
    step = state.get("global_step")
    return isinstance(step, int | float) and not isinstance(step, bool) and step > 0


def _state_ended(state: dict) -> bool:
    """A Trainer state of a run that ended: its end of training logged, told to stop, or at its max_steps."""
    log, step, plan = state.get("log_history"), state.get("global_step"), state.get("max_steps")
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (step, plan))
    return (isinstance(log, list) and any(isinstance(e, dict) and "train_runtime" in e for e in log)) or \
        _told_to_stop(state) or (numbers and step >= plan > 0)


def _checkpoint_states(folder: Path) -> list[tuple[int, Path]]:
    """(N, state) of a run folder's checkpoint-N folders that hold their state."""
    try:
        return [(int(m.group(1)), p / TRAINER_STATE) for p in folder.iterdir()
                if (m := CHECKPOINT.fullmatch(p.name)) and (p / TRAINER_STATE).is_file()]
    except OSError:
        return []


def _has_trainer_state(folder: Path) -> bool:
    """Whether a folder holds a Trainer state (its own, or a checkpoint's): a yes or no, without choosing one."""
    return (folder / TRAINER_STATE).is_file() or bool(_checkpoint_states(folder))


def _written(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def _newer_run(folder: Path, chosen: tuple[int, Path], states: list[tuple[int, Path]], say=None,
               live: bool = True) -> Path:
    """The state of the highest step (`chosen`: the Trainer's own get_last_checkpoint rule), unless a state written
    after it, of a run that trained, holds a log that does not continue chosen's: a run resumed from an earlier
    checkpoint (after a crash, or rolled back), or a new run in the same output dir (transformers 5 has no
    overwrite_output_dir). That newest state is the run as it is now, and the checkpoints above its step are
    stale; until 2026-12-07 the stale one was read. In a history (not `live`), an unfinished newest state (an
    aborted rerun) leaves the finished run read (review). A log that is a prefix of chosen's is one run whose
    files were copied out of order (cp without -p); a state with no step trained (an evaluation's save_state()) is
    no run. Equal times tell no order: chosen is read."""
    newest = max(states, key=lambda s: _written(s[1]))
    if newest[1] == chosen[1] or _written(newest[1]) <= _written(chosen[1]):
        _untold_resume(folder, chosen, states, say)
        return chosen[1]
    return _compare_states(folder, chosen, newest, states, say, live)


def _continues(lower: list, higher: list) -> bool:
    """Whether a log is the start of another: an earlier state of the same run."""
    return len(lower) <= len(higher) and all(
        a == b or (isinstance(a, dict) and isinstance(b, dict) and _same_with_nan(a, b)) for a, b in zip(lower, higher))


def _untold_resume(folder: Path, chosen: tuple[int, Path], states: list[tuple[int, Path]], say) -> None:
    """Says so where the state below the highest is no earlier state of its run, though the file times put the highest
    last: a run resumed from an earlier checkpoint (or a new run in the output dir) whose times a copy reset (cp -r,
    scp, rsync without -t, a cloud sync), or a save grid changed on resuming. Which one is the run as it is now, only
    the times could tell: the highest is read, as the Trainer's own get_last_checkpoint picks it (red team: a stale
    checkpoint-300 copied after the resumed checkpoint-225 flipped the decision without a word). One more state
    parsed, the one below."""
    if say is None:
        return
    below = max((s for s in states if s[0] < chosen[0] and s[1] != chosen[1]), default=None, key=lambda s: s[0])
    if below is None:
        return
    try:
        lower, higher = _state(below[1]), _state(chosen[1])
    except LcpipeError:
        return  # the read of the chosen one says what is wrong with it
    lower_log, higher_log = lower.get("log_history"), higher.get("log_history")
    if isinstance(lower_log, list):  # a run's end summary (train_runtime) is where a run extended later went on
        lower_log = [e for e in lower_log if not (isinstance(e, dict) and "train_runtime" in e)]
    if not _trained(lower) or not isinstance(lower_log, list) or not isinstance(higher_log, list) or _continues(
            lower_log, higher_log):
        return
    low, high = _state_name(folder, below[1]), _state_name(folder, chosen[1])
    say(f"{folder}: {low} is no earlier state of {high} (their logs differ): the run was resumed from an earlier "
        f"checkpoint, or its output dir reused, and the file times do not say which is newer (a copy resets them); "
        f"read from {high}, the highest step. If the run went on from {low}, move {high} out of it")


def _compare_states(folder: Path, chosen: tuple[int, Path], newest: tuple[int, Path],
                    states: list[tuple[int, Path]], say, live: bool) -> Path:
    """_newer_run's choice, where the newest state is not the highest: both are read and their logs compared."""
    try:
        new, old = _state(newest[1]), _state(chosen[1])
    except LcpipeError:
        return chosen[1]  # one being written: read as before, and again at the next look
    new_log, old_log = new.get("log_history"), old.get("log_history")
    if not isinstance(new_log, list) or not isinstance(old_log, list) or not _trained(new) or _continues(new_log,
                                                                                                        old_log):
        return chosen[1]
    say = say or (lambda _: None)
    step, named = new["global_step"], functools.partial(_state_name, folder)
    stale = sorted((s for s in states if s[0] > step and _written(s[1]) < _written(newest[1])), key=lambda s: s[0])
    shown = ", ".join(named(p) for _, p in stale[:3]) + (" ..." if len(stale) > 3 else "") or named(chosen[1])
    why = f"{named(newest[1])} was written after {shown} and does not continue it (a run resumed from an earlier " \
          "checkpoint, or a new run in the same output dir)"
    if not live and not _state_ended(new):
        read = "as the finished run" if _state_ended(old) else "as the Trainer's rule picks it (neither has finished)"
        say(f"{folder}: {why} and has not finished; read {read}, from {named(chosen[1])}")
        return chosen[1]
    say(f"{folder}: {why}; read from {named(newest[1])}: {shown} {'is' if len(stale) < 2 else 'are'} stale, move "
        f"{'it' if len(stale) < 2 else 'them'} out of it")
    return newest[1]


GLOBAL_STEP = re.compile(r'"global_step"\s*:\s*([0-9]+)\s*[,}]')
HEAD_BYTES = 8192  # the Trainer writes its keys sorted: global_step comes long before log_history


def _global_step(path: Path):
    """A state's global_step, from the head of the file where the Trainer writes it (its keys sorted), so that a
    finished run's state is not parsed whole twice (here and when read); the whole file where it is not there."""
    try:
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES).decode("utf-8", "ignore")
    except OSError:
        head = ""
    key = head.find('"log_history"')
    found = GLOBAL_STEP.search(head if key < 0 else head[:key])
    return int(found.group(1)) if found else _state(path).get("global_step")


def _trainer_saving(folder: Path) -> bool:
    """A Trainer run folder whose first save is in progress: a (tmp-)checkpoint-N folder with no state in it yet,
    no state anywhere else (trainer_state_of None), and no log of its own (review: a run folder holding its
    metrics.csv beside a checkpoint-600/ of weights, another tool's, waited forever as a Trainer's first save)."""
    try:
        return not _curve_files(folder) and not _is_dvclive(folder) and any(
            SAVING.fullmatch(p.name) and p.is_dir() for p in folder.iterdir())
    except OSError:
        return False


def _state(path: Path, text: str | None = None) -> dict:
    """A Trainer state file as JSON reads it (NaN and Infinity included: the Trainer writes a diverged loss so)."""
    try:
        if text is None:
            text = _state_text(path)
        data = json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise LcpipeError(f"{path}: cannot read ({type(exc).__name__})") from None
    except json.JSONDecodeError as bad:  # a checkpoint being written: the Trainer writes the state last
        raise LcpipeError(f"{path}: not valid JSON ({bad.msg} at line {bad.lineno}, column {bad.colno}); if its "
                          "checkpoint is being saved, try again when it is written") from None
    except RecursionError:
        raise LcpipeError(f"{path}: nested too deeply for a Trainer's state") from None
    if not isinstance(data, dict):
        raise LcpipeError(f"{path}: a Trainer's state is a JSON object with a log_history list; this file holds "
                          f"{_KINDS_OF_YAML.get(type(data), 'something else')}")
    return data


def _state_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_STATE_BYTES:
            raise LcpipeError(f"{path}: {path.stat().st_size} bytes is too large for a Trainer's state")
        return decoded(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise LcpipeError(f"{path}: cannot read ({type(exc).__name__})") from None


def _entry_lines(text: str, log: list[dict]) -> list[int]:
    """The file line each log_history entry starts on, for messages that quote a line; the entries' numbers from 1
    where the text does not hold the list where it is looked for (its key written twice, or inside a string)."""
    decoder, lines = json.JSONDecoder(), []
    key = text.find('"log_history"')
    at = text.find("[", key) + 1 if key >= 0 else 0
    line, counted = 1, 0
    try:
        for entry in log:
            while text[at] in " \t\r\n,":
                at += 1
            decoded_entry, end = decoder.raw_decode(text, at)
            if decoded_entry != entry and not _same_with_nan(decoded_entry, entry):
                raise ValueError
            line += text.count("\n", counted, at)
            lines.append(line)
            counted, at = at, end
    except (ValueError, IndexError):
        return list(range(1, len(log) + 1))
    return lines


def _same_with_nan(a: dict, b: dict) -> bool:
    """Two entries equal but for NaN values (NaN != NaN)."""
    return a.keys() == b.keys() and all(x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x)
                                                    and math.isnan(y)) for x, y in ((a[k], b[k]) for k in a))


def _state_cell(value) -> str:
    """A log_history value as its CSV cell would be written (pandas' to_csv): numbers exactly, NaN and inf spelt
    so (a diverged evaluation, not a missing one), missing and nested values blank."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | str):
        return str(value)
    return ""


def _trial_config(params: dict, path: Path) -> dict:
    """A hyperparameter_search trial's params as a config: its settings flattened, without any length (the state's
    own max_steps plans the run: a searched `num_train_epochs` is part of it), a searched `train` kept as a setting
    (a sidecar's `train:` section is DVCLive's params, not one)."""
    lengths = {*EPOCH_KEYS, *STEP_KEYS}
    kept = {str(k): v for k, v in params.items() if str(k) not in lengths}
    train = kept.pop("train", None)
    flat = _flat_config(kept, f"{path} (trial_params)")
    if train is not None and not isinstance(train, dict):
        flat["train"] = train
    return flat


def _told_to_stop(state: dict) -> bool:
    """The state says training was told to stop (its TrainerControl's should_training_stop, which an early-stopping
    callback sets and a checkpoint saved at that step keeps); never in a crashed, pruned or running run's state."""
    control = state.get("stateful_callbacks")
    control = control.get("TrainerControl") if isinstance(control, dict) else None
    args = control.get("args") if isinstance(control, dict) else None
    return isinstance(args, dict) and args.get("should_training_stop") is True


def _beside_run(folder: Path) -> dict:
    """The config a user wrote beside a Trainer output dir, `<run>.json` (`.yaml`, `.yml`) beside `<run>/`, as a CSV's
    sidecar lies beside it: a plain Trainer run states no hyper-parameters in its state (its learning_rate is in the
    pickled training_args.bin, which is not unpickled; helper). Its lengths are the state's to plan."""
    found = _one_config([folder.parent / (folder.name + suffix) for suffix in SIDECARS], folder)
    flat = _config_file(found) if found is not None else {}
    return {k: v for k, v in flat.items() if k not in {*EPOCH_KEYS, *STEP_KEYS}}


def trainer_run_folder(path: Path) -> Path:
    """A Trainer state's run folder: the one above its (tmp-)checkpoint-N folder, else the one it is in (as an
    absolute path: `--runs .` from inside the run names it by its folder)."""
    folder = Path(os.path.abspath(path)).parent
    return folder.parent if SAVING.fullmatch(folder.name) else folder


def trainer_run_name(path: Path) -> str:
    """A Trainer state's run: its run folder's name."""
    return trainer_run_folder(path).name


def read_trainer_state(path: str | Path, metric: str | Metric = "test_acc", name: str | None = None) -> Curve:
    """One Hugging Face Trainer run from its trainer_state.json: its log_history read as that list written as a CSV
    is (`pd.DataFrame(log_history).to_csv`: train and eval rows told apart, the summary after training left out),
    planned by the state's `max_steps` (the steps the Trainer computed, whether `max_steps` or epochs were given),
    and configured by its `trial_params` (a hyperparameter_search trial's)."""
    path = Path(path)
    text = _state_text(path)
    state = _state(path, text)
    log = state.get("log_history")
    if not isinstance(log, list) or not all(isinstance(entry, dict) for entry in log):
        raise LcpipeError(f"{path}: no log_history list of entries; is it a Hugging Face Trainer's "
                          "trainer_state.json?")
    header: dict[str, None] = {}
    for entry in log:
        header.update(dict.fromkeys(str(k) for k in entry))
    keys = list(header)
    rows = [[_state_cell(entry.get(k)) for k in keys] for entry in log]
    kept = [i for i, row in enumerate(rows) if any(row)]
    if not kept:
        raise NotStarted(f"{path}: its log_history is empty", reason="an empty log_history: no evaluation logged yet")
    lines = _entry_lines(text, log)
    table = _Table(path, keys, [rows[i] for i in kept], [lines[i] for i in kept], False)
    params = state.get("trial_params")
    flat = {**_beside_run(trainer_run_folder(path)), **(_trial_config(params, path) if isinstance(params, dict)
                                                        else {})}
    for key in ("max_steps", "num_train_epochs"):
        value = state.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            flat[key] = value  # the Trainer's own plan, over a searched one of the same name
    curve = _curve_of(table, as_metric(metric), name or trainer_run_name(path), path, path, flat=flat)
    if curve.diverged:  # the line is where its entry opens, in this file (helper: "line 229" named no file)
        curve = replace(curve, diverged=re.sub(r"\(line (\d+)\)", lambda m: f"(the entry at line {m.group(1)} of "
                                                                        f"{path})", curve.diverged, count=1))
    step, plan = state.get("global_step"), flat.get("max_steps")
    if not (isinstance(step, int | float) and plan and step < plan):
        return curve
    if ("train_runtime" in keys or _told_to_stop(state)) and curve.steps is not None and len(curve.steps) \
            and not curve.diverged:
        # it ended before its plan (an early-stopping callback): its plan is where it ended, so a live run that
        # has returned is no run still training (review: one stopped at 60 of 150 was forecast to 150 and kept),
        # and a history's is a finished curve, read from its last checkpoint too (review: dropped as unfinished)
        return replace(curve, planned=max(1, int(np.ceil(curve.steps[-1]))))
    if "train_runtime" not in keys:
        # no end of training logged (the Trainer logs train_runtime when train() returns, an early stop included):
        # a run pruned, crashed or still training, which a history must not read as ending there (red team: a
        # hyperparameter_search's pruned runs, given as the next search's history, taught every forecast to end
        # at the prune step)
        at = int(step) if float(step).is_integer() else step  # 1500000, not 1.5e+06
        curve = replace(curve, unfinished=f"its Trainer state ends at step {at} of its max_steps {plan} with no "
                                          "end of training logged: a run pruned, crashed or still training (a run "
                                          "stopped early ends at the checkpoint saved as it stopped, or in the "
                                          "state save_state() writes)")
    return curve


def _tensorboard_json(path: Path) -> bool:
    """Whether a .json file is TensorBoard's download of a scalar: a list of [wall time, step, value] triples."""
    if path.suffix.lower() != ".json" or not path.is_file() or path.stat().st_size > MAX_CONFIG_BYTES:
        return False
    try:
        data = json.loads(path.read_text(errors="replace"))
    except (ValueError, RecursionError):
        return False
    return isinstance(data, list) and bool(data) and all(
        isinstance(row, list) and len(row) == 3 and all(isinstance(x, int | float) for x in row) for row in data)


def read_curve(path: str | Path, metric: str | Metric = "test_acc") -> Curve:
    """Read one curve file (any format and dialect above), validating the `metric` column."""
    path = Path(path)
    if path.name == TRAINER_STATE:  # not a sidecar: no trainer_state.csv lies beside it
        return read_trainer_state(path, metric)
    if path.suffix.lower() in SIDECARS:
        if _tensorboard_json(path):  # (red team: told it was a run's config)
            raise LcpipeError(f"{path}: TensorBoard's JSON download of one scalar ([[wall time, step, value], ...]), "
                              "which names no metric; download its CSV instead (Wall time,Step,Value) and rename "
                              "its column Value to the metric's name")
        raise LcpipeError(f"{path}: a run's config (the sidecar beside its curve), not a curve; give the curve's "
                          f"CSV ({path.with_suffix('.csv').name}) or its folder")
    plots = _dvclive_plots(path)
    if plots is not None and not sidecar_of(path).is_file():  # DVCLive's own file of the metric: the run is its
        run = plots.parent.parent  # folder's (plots/metrics/val/acc.tsv for a metric logged as val/acc)
        return _read_table(path, metric, _dvclive_name(run), run / "params.yaml")
    if _lightning_log(path):  # <run>/metrics.csv: the run's
        # name is its folder (version_0), its config its hparams.yaml (red team: two versions of equal values and
        # different lr were refused as copies stating no config). Its sidecar (metrics.json, by the <run>.json
        # rule) is where final metrics are often dumped (best_val_loss, test_acc): it gives the planned length and
        # the keys every run's config is compared by (Auto.config_keys: lr, optimizer, ...) that hparams.yaml lacks,
        # no hyper-parameters (read as such, its val_loss and epoch were compared; review)
        curve = _read_table(path, metric, path.parent.name, sidecar_of(path))
        # a learning_rate dumped with the final metrics is the decayed one, never the run's lr (review)
        dumped = "lr" in curve.config and "lr" not in _config_file(sidecar_of(path))
        named = {k: v for k, v in curve.config.items() if k in SIDECAR_KEYS and not (k == "lr" and dumped)}
        hparams = _hparams(path.parent / "hparams.yaml")
        # its epochs are no planned length (free-form), but say what its milestones count on a step axis (review)
        whole = {k: v for k, v in hparams.items() if k in EPOCH_KEYS and isinstance(v, int) and not isinstance(
            v, bool) and 1 <= v <= MAX_EPOCHS}
        stated = curve.stated_epochs or (planned_in_epochs(whole, path) if curve.steps is not None
                                         and not curve.epoch_axis and not curve.per_epoch else None)
        return replace(curve, config={**named, **_settings(hparams)}, stated_epochs=stated)  # hparams.yaml's
        # lr, not a decayed lr dumped with the final metrics (review)
    if _ray_log(path):  # <trial>/progress.csv: the trial's name is its folder, its config its params.json
        return _read_table(path, metric, path.parent.name, path.parent / RAY_PARAMS)
    return _read_table(path, metric, path.stem, sidecar_of(path))


LIGHTNING_LOG = "metrics.csv"  # Lightning's CSVLogger: lightning_logs/version_N/{metrics.csv,hparams.yaml}
# what a sidecar beside Lightning's log may state (besides its planned length): the keys Auto compares every run's
# config by (Auto.config_keys, which this module does not import: a reader needs no forecaster)
SIDECAR_KEYS = frozenset({"optimizer", "lr", "schedule", "milestones", "dataset", "arch"})


def _dvclive_plots(path: Path) -> Path | None:
    """The `plots/metrics` folder a DVCLive metric file lies in (its metric's name may hold '/': a metric
    logged as val/acc is plots/metrics/val/acc.tsv), else None."""
    if path.suffix.lower() != ".tsv":
        return None
    return next((p for p in list(path.parents)[:MAX_DEPTH] if p.name == "metrics" and p.parent.name == "plots"), None)


def _dvclive_name(folder: Path) -> str:
    """A DVCLive run's name: its folder's, or its project's for the default `dvclive/` folder."""
    return folder.resolve().parent.name if folder.resolve().name == "dvclive" else folder.resolve().name


def sidecar_of(path: Path) -> Path:
    """The run's config file beside its curve: `<run>.json`, `<run>.yaml` or `<run>.yml` (or in capitals;
    the .json path, absent, when there is none); two of them are one error, not a silent choice."""
    return _one_config([path.with_suffix(suffix) for suffix in SIDECARS], path) or path.with_suffix(".json")


def _one_config(candidates: list[Path], owner: Path) -> Path | None:
    """The one of `candidates` (a run's config file under each name it may have) that exists, None if none does;
    two of them are one error, not a silent choice."""
    found = [f for f in candidates if f.is_file()]
    found = list({f.resolve(): f for f in found}.values())  # a case-insensitive file system finds one file twice
    if len(found) > 1:
        raise LcpipeError(f"{owner}: two configs beside it ({', '.join(f.name for f in found)}); keep one")
    return found[0] if found else None


def is_dvclive(folder: Path) -> bool:
    return (folder / "plots" / "metrics").is_dir()


def read_dvclive(folder: str | Path, metric: str | Metric = "test_acc") -> Curve:
    """One DVCLive run: its `metric` from plots/metrics, its planned length from params.yaml."""
    folder, name = Path(folder), as_metric(metric).name
    tsv = folder / "plots" / "metrics" / f"{name}.tsv"
    if not tsv.is_file():
        base = folder / "plots" / "metrics"
        logged = sorted(p.relative_to(base).with_suffix("").as_posix() for p in base.rglob("*.tsv"))
        said = ", ".join(logged) or "no metrics"
        message = f"{folder}: DVCLive folder without plots/metrics/{name}.tsv; it logged {said}"
        other = _evaluated_in(name, logged)
        if other is not None:  # it evaluated (eval/acc beside eval/loss), or under another name
            alike = _loosely(other) == _loosely(name)
            raise LcpipeError(message + (f" (if {other!r} is the metric, give that name)" if alike else ""))
        # a live run's first evaluation not logged yet (train/loss alone): left out among live runs, as a CSV log is
        raise NotStarted(message, reason=f"no plots/metrics/{name}.tsv yet (it logged {said})")
    return _read_table(tsv, metric, _dvclive_name(folder), folder / "params.yaml")


def _dvclive_runs(folders: list[Path], metric: str | Metric, started: list | None) -> list[Curve]:
    """read_dvclive of each folder; with `started` (live runs), one whose metric is not logged yet is left out."""
    out = []
    for folder in folders:
        try:
            out.append(read_dvclive(folder, metric))
        except NotStarted as exc:
            if started is None:
                raise
            started.append((_dvclive_name(folder), str(folder), exc.reason))
    return out


def _kind(path: Path) -> str:
    """'dir' or 'file' (following symlinks); anything else refused in one line that says what it is."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LcpipeError(f"{path}: a symbolic link loop (it points at {os.readlink(path)}, which leads back "
                              "to itself); point it at a curve file or folder") from None
        if exc.errno == errno.ENOENT and path.is_symlink():
            raise LcpipeError(f"{path}: a broken symbolic link (to {os.readlink(path)}, which does not exist)") \
                from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise LcpipeError(f"{path}: no such file or directory") from None
        raise LcpipeError(f"{path}: cannot look at it ({exc.strerror}); check its permissions") from None
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    raise LcpipeError(f"{path} is {kind_of(mode)}, not a curve file; give CSV/TSV files, folders of them or "
                      "DVCLive folders")


def _is_dvclive(folder: Path) -> bool:
    try:
        return is_dvclive(folder)
    except OSError as exc:
        raise LcpipeError(f"{folder}: cannot look into it ({exc.strerror}); check its permissions") from None


MANIFEST = "manifest.csv"  # (any case) a corpus's index of its study folders, never a curve
# MAX_DEPTH (lcpipe.atomic): folders below a history corpus that are read (a symbolic link loop ends there)


UNFLUSHED = "no metrics.csv yet (Lightning's CSVLogger writes hparams.yaml at the start, its log at its first flush)"


UNSTARTED_DVCLIVE = "no metrics yet (DVCLive writes params.yaml at the start, plots/metrics at its first step)"


def _config_alone(folder: Path, config: str, nor: frozenset = frozenset()) -> bool:
    """A run folder its logger has written its config to and no curve file yet (nor any of `nor`)."""
    try:
        names = {p.name for p in folder.iterdir()}
    except OSError:
        return False
    return config in names and not names & nor and not any(Path(n).suffix.lower() in SUFFIXES for n in names)


def _unstarted_dvclive(folder: Path) -> Path | None:
    """A DVCLive run before its first step (the folder, or its dvclive/ folder): params.yaml and no plots/ or
    metrics.json yet; else None."""
    return next((run for run in (folder, folder / "dvclive")
                 if _config_alone(run, "params.yaml", frozenset({"plots", "metrics.json"}))), None)


def _unflushed(folder: Path) -> bool:
    """A Lightning run folder before its logger's first flush: hparams.yaml and no curve file yet."""
    return _config_alone(folder, "hparams.yaml")


def _waiting_folder(folder: Path) -> tuple[str, str, str] | None:
    """(run name, where, reason) of a run folder whose logger has written its config alone so far, else None."""
    if _unflushed(folder):
        return folder.name, str(folder), UNFLUSHED
    run = _unstarted_dvclive(folder)
    return None if run is None else (_dvclive_name(run), str(run), UNSTARTED_DVCLIVE)


def _kin(folder: str) -> str:
    """A run folder's name without its number: Lightning's version_3 is a version_."""
    return re.sub(r"\d+$", "", folder)


def _trainer_folder(folder: Path) -> bool:
    """A folder read as one Hugging Face Trainer run (see _trainer_run): one holding a Trainer state, whatever else
    it holds (a script's predictions.csv, a log exported beside the checkpoints: the state is the run's log)."""
    return _has_trainer_state(folder)


def _trainer_run(folder: Path, state: Path | None, metric: str | Metric, started: list | None,
                 say=lambda _: None) -> list[Curve] | None:
    """A folder that is a Hugging Face Trainer run (`state`: its trainer_state_of, looked up once by the caller): its
    curve, or none where it has not evaluated yet, or has no state yet (its first checkpoint being saved), among live
    runs (`started`); None where the folder is no such run."""
    if state is None:
        if started is not None and _trainer_saving(folder):
            started.append((trainer_run_name(folder / "x"), str(folder), TRAINER_SAVING))
            return []
        if started is not None and (folder / TRAINER_STATE).is_file():  # its only state, being written (review:
            started.append((trainer_run_name(folder / "x"), str(folder / TRAINER_STATE), TRAINER_WRITING))
            return []  # the run dropped out of the forecast without a word)
        return None
    _runs_inside(folder, say)
    try:
        return [read_trainer_state(state, metric)]
    except NotStarted as exc:
        if started is None:
            raise
        started.append(waiting(state, exc, trainer_run_name(state)))
        return []


def _runs_inside(folder: Path, say) -> None:
    """Names the Trainer runs in the folders of one read as one run: hyperparameter_search's run-N trials beside the
    state the final train() with the best params saved at the top of the same output dir (red team: a history's 9
    trials were dropped without a word, and --runs read the sweep as one run)."""
    if CHECKPOINT.fullmatch(folder.name):
        return
    try:
        inner = sorted(p.name for p in folder.iterdir()
                       if not SAVING.fullmatch(p.name) and not p.name.startswith(".") and p.is_dir()
                       and _has_trainer_state(p))
    except OSError:
        return
    kin = Counter(_kin(name) for name in inner)  # runs come several of one kind (run-0, run-1); a lone best/ or
    inner = [name for name in inner if kin[_kin(name)] > 1]  # final_model/ is a copy of a checkpoint (review)
    if inner:
        shown = ", ".join(inner[:3]) + (", ..." if len(inner) > 3 else "")
        say(f"{folder}: read as one Trainer run; its {len(inner)} folders {shown} hold Trainer runs too, not read: "
            f"give them by name to read them (e.g. {folder / inner[0]})")


def _curve_files(folder: Path) -> list[Path]:
    """The curve files of a run folder (hidden ones and a manifest aside); none where it cannot be listed. A run
    folder holds one (Lightning's version_N: metrics.csv beside hparams.yaml)."""
    try:
        return [p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
                and p.name.lower() != MANIFEST and p.is_file()]
    except OSError:
        return []


def read_curve_dir(directory: str | Path, metric: str | Metric = "test_acc", studies: bool = False,
                   started: list[tuple[str, str, str]] | None = None, say=lambda _: None) -> list[Curve]:
    """`_read_curve_dir`, each curve with its study: the folder given (its real path), or, for a curve of a
    corpus (named `folder/run`), that study folder; a DVCLive run folder given itself belongs to the folder it
    sits in. It groups runs that state no recipe (auto's calibration: a corpus is several studies)."""
    directory = Path(directory)
    if directory.is_dir() and _trainer_folder(directory):  # a Trainer run (or one of its checkpoints) given itself
        root = os.path.realpath(trainer_run_folder(directory / "x").parent)
    else:
        root = os.path.realpath(directory.parent if directory.is_dir() and _is_dvclive(directory) else directory)
    return [replace(c, study=os.path.join(root, c.name.rpartition("/")[0]) if "/" in c.name else root)
            for c in _read_curve_dir(directory, metric, studies, started, say)]


def _read_curve_dir(directory: str | Path, metric: str | Metric = "test_acc", studies: bool = False,
                    started: list[tuple[str, str, str]] | None = None, say=lambda _: None) -> list[Curve]:
    """Every curve in `directory`, sorted by name: its *.csv / *.tsv files (any case) and DVCLive
    run folders, or the directory itself when it is one DVCLive run. Hidden and `._` files are skipped.
    Two curves with one name (`x.csv` and `x.CSV`, `x.csv` and a DVCLive folder `x`) are refused.

    studies: the directory may be a corpus of studies (a history of finished runs, never the runs of
    one study). A folder is a corpus when it holds a MANIFEST.csv (this project's layout, as
    ../shared/curves/ has it; the manifest is skipped) or no curve of its own: its folders are then
    read the same way, up to MAX_DEPTH deep, each curve named `folder/run`, and a folder that cannot be
    listed is passed over. A folder with curves of its own and no manifest is one study, read as
    always: its subfolders (notes, backups, runs set aside) are not, and those that hold curves are
    named through `say`. Without `studies`, a directory holding a MANIFEST.csv is refused in one line:
    it is a corpus, not one study."""
    directory = Path(directory)
    if not directory.is_dir():
        raise LcpipeError(f"{directory}: not a directory of curve files")
    if _is_dvclive(directory):
        return _dvclive_runs([directory], metric, started)
    state = trainer_state_of(directory, say, live=started is not None)
    if (run := _trainer_run(directory, state, metric, started, say)) is not None:
        return run  # a Hugging Face Trainer run given itself (its folder, or one of its checkpoints)
    before = len(started or [])
    found = _curves_in(directory, metric, studies, "", set(), started, say)
    if not found and started is not None and (waits := _waiting_folder(directory)) is not None:
        started.append(waits)  # a run folder given itself, before its logger's first metrics
        return []
    if not found:
        try:
            folders = sorted(p.name for p in directory.iterdir() if not p.name.startswith(".") and p.is_dir())
        except OSError:
            folders = []
        held = {f: _curve_files(directory / f) for f in folders} if not studies else {}
        logs = {f: files[0] if len(files) == 1 else None for f, files in held.items()}  # a run folder: one log
        waits = {f for f, log in logs.items() if log is None and started is not None and _unflushed(directory / f)}
        kins = {_kin(f) for f, log in logs.items() if log}  # version_ of version_0: a folder named like the runs' ...
        logs = {f: log for f, log in logs.items()  # ... is one; one that is not and holds no curve file (checkpoints/,
                if log or f in waits or _kin(f) in kins or held[f]}  # wandb/) is none (review)
        if logs and all(log or f in waits for f, log in logs.items()):
            # a folder of runs, one log each (Lightning's lightning_logs/version_N/metrics.csv): each run named after
            # its folder; one not evaluated yet, or with no log yet (hparams.yaml alone), waits
            runs = []
            for f, log in logs.items():
                if f in waits:
                    started.append((f, str(directory / f), UNFLUSHED))
                    continue
                try:
                    runs.append(replace(read_curve(log, metric), name=f))
                except NotStarted as exc:
                    if started is None:
                        raise
                    started.append(waiting(log, exc, f))
            return runs
        if len(started or []) > before:
            return []  # live runs, every one just started (files beside no folder of runs): the caller says so
        bare = [f for f, log in logs.items() if log is None and f not in waits]
        if logs and len(bare) < len(logs) and len(bare) <= max(2, len(logs) // 4):
            # a folder of runs in which a few hold no log (a Lightning version that crashed before it logged; red
            # team: the whole folder was refused with advice that `evaluate --curves` refuses too) or several
            several = [f for f in bare if len(held[f]) > 1]
            shown = several or bare
            named = ", ".join(shown[:3]) + (" ..." if len(shown) > 3 else "")
            verb = "holds" if len(shown) == 1 else "hold"
            raise LcpipeError(f"{directory}: {len(logs) - len(bare)} of its folders hold one run's log each, but "
                              + (f"{named} {verb} several *.csv, so which is the run's log is unknown: leave one"
                                 if several else f"{named} {verb} none: a run that stopped before it logged? "
                                 "move it out of the folder"))
        hint = "" if not folders else f" (nor in its folders, up to {MAX_DEPTH} deep)" if studies else \
            f"; its folders ({', '.join(folders[:5])}{', ...' if len(folders) > 5 else ''}) may hold some: give " \
            f"one (e.g. {directory / folders[0]}; lcpipe forecast --runs takes several: {directory}/* gives them " \
            "all)"
        boards = [p for p in sorted(directory.glob("*.json"))[:20] if _tensorboard_json(p)]
        if boards:  # TensorBoard's JSON downloads alone: read as sidecars, and the folder as empty (red team)
            hint += (f"; {boards[0].name} is TensorBoard's JSON download of one scalar, which names no metric: "
                     "download its CSV instead (Wall time,Step,Value) and rename its column Value to the metric's name")
        raise LcpipeError(f"{directory}: no *.csv curve files, DVCLive folders or Trainer output folders found{hint}")
    by_name: dict[str, Path] = {}
    for p, curve in found:
        if curve.name in by_name:
            first, again = (str(q.relative_to(directory)) for q in (by_name[curve.name], p))
            raise LcpipeError(f"{directory}: {first} and {again} are two curves with one name {curve.name!r}; "
                              "rename or remove one")
        by_name[curve.name] = p
    return sorted((c for _, c in found), key=lambda c: c.name)


def _curves_in(directory: Path, metric: str | Metric, studies: bool, prefix: str,
               seen: set, started: list[tuple[str, str, str]] | None = None,
               say=lambda _: None) -> list[tuple[Path, Curve]]:
    """(path, curve) of the curves in `directory` (named prefix + run); with `studies`, of a corpus's
    folders too (read_curve_dir), each file and folder once however linked (`seen`: real paths)."""
    try:
        entries = sorted(p for p in directory.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        if prefix:  # a folder inside a corpus that cannot be listed (lost+found): passed over
            return []
        raise LcpipeError(f"{directory}: cannot list it ({exc.strerror}); check its permissions") from None
    seen.add(os.path.realpath(directory))
    found: list[tuple[Path, Curve]] = []
    folders, manifest, trainers, files = [], False, [], False
    for p in entries:
        if prefix and os.path.realpath(p) in seen:
            continue  # reached again through a link inside the corpus
        if p.suffix.lower() in SUFFIXES and _kind(p) == "file":  # a FIFO or a broken link named *.csv: refused
            if p.name.lower() == MANIFEST:
                if not studies:
                    raise LcpipeError(f"{directory} holds {p.name}: it is a corpus of studies, one folder each, "
                                      "not one study's runs; give one study's folder here (`lcpipe forecast "
                                      "--history` and ForecastPruner take a whole corpus)")
                manifest = True
                continue
            files = True
            try:
                found.append((p, read_curve(p, metric)))
            except NotStarted as exc:
                if started is None:
                    raise
                started.append(waiting(p, exc))  # a live run whose logger has written no evaluation yet
        elif p.is_dir():
            if _is_dvclive(p):
                found += [(p, c) for c in _dvclive_runs([p], metric, started)]
            elif _has_trainer_state(p) or (started is not None and _trainer_saving(p)):
                trainers.append(p)  # its state chosen below, where it is read (review: a folder not read beside curve
                continue  # files had its stale checkpoints named)
            elif started is not None and (run := _unstarted_dvclive(p)) is not None:
                started.append((_dvclive_name(run), str(run), UNSTARTED_DVCLIVE))  # a live run before its first step
            else:
                folders.append(p)
        else:
            continue
        seen.add(os.path.realpath(p))
    if trainers and not files:  # Hugging Face Trainer output folders: runs, as DVCLive folders are
        for p in trainers:
            state = trainer_state_of(p, say, live=started is not None)
            found += [(p, c) for c in _trainer_run(p, state, metric, started, say) or []]
            seen.add(os.path.realpath(p))
        kins = {_kin(p.name) for p in trainers}  # run-7 beside run-0 ... run-6: a run of theirs, not yet saved
        unsaved = [f for f in folders if _kin(f.name) in kins and _unsaved_output_dir(f)]
        folders = [f for f in folders if f not in unsaved]
        if started is not None:
            started += [(f.name, str(f), TRAINER_UNSAVED) for f in unsaved]
        elif unsaved:  # review 2026-12-07: passed over without a word
            say(f"{directory}: {', '.join(f.name for f in unsaved[:4])}{', ...' if len(unsaved) > 4 else ''} "
                f"{'holds' if len(unsaved) == 1 else 'hold'} no Trainer checkpoint, unlike the runs beside "
                f"{'it' if len(unsaved) == 1 else 'them'}: left out")
    elif trainers:  # beside curve files, a Trainer output folder is no run of theirs (review: an unrelated one
        # failed the whole folder on its missing metric, where it had been passed over)
        say(f"{directory}: its Hugging Face Trainer output folder(s) {', '.join(p.name for p in trainers[:4])}"
            f"{', ...' if len(trainers) > 4 else ''} are not read beside its curve files: give them by name to use "
            "them")
    found = [(p, replace(c, name=prefix + c.name)) for p, c in found] if prefix else found
    if studies and (manifest or not found) and prefix.count("/") < MAX_DEPTH:
        for folder in folders:
            found += _curves_in(folder, metric, studies, f"{prefix}{folder.name}/", seen, say=say)
    elif studies and found and (passed := [f.name for f in folders if _holds_curves(f)]):
        # one study's folder: its folders are not read, by design; but a results folder with a few runs copied
        # to its top and its studies below lost those studies without a word (red team)
        say(f"{directory}: read as one study's folder ({len(found)} curves of its own); its folder(s) "
            f"{', '.join(passed[:4])}{', ...' if len(passed) > 4 else ''} hold curves too and are not read: give "
            f"them by name (e.g. {directory / passed[0]}) to use them, or move the loose curves into a folder")
    elif found and not prefix and (passed := [f.name for f in folders if _holds_curves(f)]):
        # one study: its curves are its folder's files; curves in a folder below were left out without a word, and
        # a study with x/run.csv and y/run.csv beside run.csv "needed two curves" (review)
        say(f"{directory}: {len(found)} curve(s) of its own read as the study; its folder(s) "
            f"{', '.join(passed[:4])}{', ...' if len(passed) > 4 else ''} hold curves too and are not read: move "
            "those curves beside the others to use them")
    return found


TRAINER_SIDE_FOLDERS = frozenset({"runs", "logs", "wandb", "tensorboard", "tb_logs"})  # logging dirs in output_dir


def _unsaved_output_dir(folder: Path) -> bool:
    """A folder as a Trainer run leaves its output dir before its first save: no curve file, no state, and no folder
    but its logging dir (TensorBoard's runs/, the default) and hidden ones (.hydra); one holding folders of runs is
    a study (review: a corpus's study folders, named like a stray run beside them, were called unsaved runs)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return False
    return not _curve_files(folder) and not _is_dvclive(folder) and not _has_trainer_state(folder) and all(
        not p.is_dir() or p.name.startswith(".") or p.name in TRAINER_SIDE_FOLDERS for p in entries)


def _holds_curves(folder: Path) -> bool:
    """Whether a folder holds a curve file, or is or holds a DVCLive or Trainer run (one level: a quick look)."""
    try:
        return _is_dvclive(folder) or _trainer_folder(folder) or any(
            (p.suffix.lower() in SUFFIXES and p.name.lower() != MANIFEST and not p.name.startswith(".")) or
            (p.is_dir() and not p.name.startswith(".") and _trainer_folder(p)) for p in folder.iterdir())
    except OSError:
        return False


def finished_only(history: list[Curve], say=lambda _: None, role: str = "history") -> list[Curve]:
    """The finished curves (a history, or `lcpipe evaluate --curves`: `role`) without those known to be no finished
    run (Curve.unfinished), one line through `say` for them; refused where none is left."""
    unfinished = [c for c in history if c.unfinished]
    if unfinished:
        c = unfinished[0]
        more = f" and {len(unfinished) - 1} more" if len(unfinished) > 1 else ""
        if len(unfinished) == len(history):
            raise LcpipeError(f"{role}: no curve is a finished run ({c.path or c.name}{more}: {c.unfinished}); give "
                              "finished runs")
        say(f"{role}: {c.path or c.name}{more} left out: {c.unfinished}")
    return [c for c in history if not c.unfinished]


def check_finished(history: list[Curve], what: str = "a history curve") -> None:
    """A history holds finished runs: a curve short of the epochs its own file plans (a run still
    training, or one stopped early) would teach every forecast to end too soon. A curve on a step
    axis ends where it ended (as_finished): benchmarks such as AlgoPerf stop a run at its target
    before the steps it planned, by design. A run that diverged ends early too, and says so: it is
    left out (usable_history), not refused."""
    for curve in history:
        if curve.steps is None and curve.planned and len(curve) < curve.planned and not curve.diverged:
            raise LcpipeError(f"{curve.path}: {len(curve)} of its {curve.planned} planned epochs; {what} must be "
                              "a finished run: if it stopped early on purpose (an early-stopping callback), give its "
                              f"file the epochs it ran ({len(curve)}), or leave it out")


ZERO_DROP = 0.1  # a 0 after a value above this share of the curve's peak is a logging artefact, not a fall to 0
# ... and as a curve's last value, after one above this share: a missed last evaluation of a trained cross-entropy
# (0 after 0.11, 5 % of its peak) had been kept, and its analog forecast the worst run 2e-7 and kept it (red team); a
# training error's last 0 after 0.004 (0.4 %) is a fall to 0
ZERO_DROP_FINAL = 0.01


def zeros_left_out(history: list[Curve], metric: Metric, say=lambda _: None, role: str = "history") -> list[Curve]:
    """A loss is forecast in log space, where a value logged as exactly 0 straight after real ones (a
    missed evaluation written as 0) lies many natural logs below every real value: one such history
    curve, an analog and a calibration error of that size, made every run's 80 % band [0, 1e10] (red
    team). Such curves are left out and named through `say` (`role`: what they were, "history" or an
    evaluation's "curves"), as diverged ones are. A curve that falls to 0 is kept (missed_zero)."""
    kept = []
    for curve in history:
        why = missed_zero(curve, metric)
        if why:
            say(f"{role}: {curve.path or curve.name} left out: {why}")
            continue
        kept.append(curve)
    return kept


def missed_zero(curve: Curve, metric: Metric) -> str | None:
    """Why a loss curve's 0 reads as a missed evaluation logged as 0 (see zeros_left_out), or None. A curve that
    falls to 0 (a training error or a hinge loss reaching 0) is none: the value before its first 0 is already below
    ZERO_DROP of the curve's peak (ZERO_DROP_FINAL where that 0 is the curve's last value)."""
    if metric.kind != "positive":
        return None
    values = np.asarray(curve.columns.get(metric.name, []), dtype=float)
    finite = np.where(np.isfinite(values), values, 0.0)
    zeros = np.flatnonzero((values == 0) & (np.maximum.accumulate(finite) > 0))  # 0s after a positive value
    if not zeros.size:
        return None
    before = finite[:zeros[0]]
    last = before[before > 0][-1]  # the value logged before the first such 0
    final = zeros[0] == len(values) - 1  # ... its last value: no evaluation after it shows the run stayed at 0
    if last <= (ZERO_DROP_FINAL if final else ZERO_DROP) * before.max():
        return None
    at = f"epoch {zeros[0] + 1}" if curve.steps is None else f"step {curve.steps[zeros[0]]:g}"
    return (f"{metric.name} reads 0 at {at} straight after {last:.6g} (a missed evaluation logged as 0?); a loss is "
            "forecast in log space, where that 0 is far below any real value")


def learnable_history(history: list[Curve], say=lambda _: None) -> list[Curve]:
    """A history as every forecaster (CLI, API, pruner, stopper) takes it: finished runs only
    (check_finished; those known unfinished, a Trainer state short of its plan, left out and named), the diverged
    left out and named (usable_history), and enough to learn from (check_history)."""
    history = finished_only(history, say)
    check_finished(history)
    note_ended_early(history, "the history", say)
    history = usable_history(history, say)
    check_history(history)
    return history


ENDED_EARLY = 0.95  # a curve ending past this share of its planned steps ended there (AlgoPerf evaluates by the clock)


def note_ended_early(curves: list[Curve], role: str, say=lambda _: None) -> None:
    """One line through `say` when curves logged by step end more than an interval before the steps their own files
    plan: each is read as finished where it stopped (check_finished: a benchmark such as AlgoPerf stops a run at its
    target), which a trial pruned or crashed is not (red team: a sweep's pruned trials, cut at 20 of 50 evaluations
    beside `max_steps: 750`, were scored against their step-300 value as a final and taught every forecast to end
    there, silently)."""
    early = [c for c in curves if c.steps is not None and len(c.steps) >= 2 and c.planned and not c.diverged
             and c.steps[-1] < min(c.planned - float(np.median(np.diff(c.steps))), ENDED_EARLY * c.planned)]
    if early:
        c = early[0]
        say(f"note: {len(early)} curve(s) of {role} logged by step end before the steps their files plan (e.g. "
            f"{c.path or c.name} at step {c.steps[-1]:g} of {c.planned}); each is read as finished where it stopped, "
            "as a benchmark that stops a run at its target (AlgoPerf) means; if some were pruned or crashed, leave "
            "those out")


def usable_history(history: list[Curve], say=lambda _: None) -> list[Curve]:
    """The history's finished curves on their grids, without the runs that diverged (a NaN or inf
    loss: their curve ends at a failure, not at the end of training), which are named on stderr."""
    out = [as_finished(c) for c in history if not c.diverged]
    if history and not out:
        raise LcpipeError(f"every history curve diverged ({len(history)}, e.g. {history[0].path or history[0].name}: "
                          f"{history[0].diverged}); give finished runs that did not")
    for curve in history:
        if curve.diverged:
            say(f"history: {curve.path or curve.name} left out: it diverged ({curve.diverged})")
    return out


def check_history(history: list[Curve]) -> None:
    """A history to learn forecasts and their intervals from: at least two curves (intervals come
    from how curves differ), each of at least MIN_HISTORY_EPOCHS epochs."""
    if len(history) < MIN_HISTORY_CURVES:
        where = f" ({history[0].path or history[0].name})" if history else ""
        raise LcpipeError(f"the history holds {len(history)} curve{where}; forecasts and their intervals are learnt "
                          f"from how finished curves differ: give at least {MIN_HISTORY_CURVES}")
    for curve in history:
        if len(curve) < MIN_HISTORY_EPOCHS:
            raise LcpipeError(f"{curve.path or curve.name}: {len(curve)} epoch(s); a history curve needs at least "
                              f"{MIN_HISTORY_EPOCHS} to learn a curve's shape from: remove it or give the finished run")


def _file_id(curve: Curve) -> tuple[int, int] | None:
    return _path_id(curve.path) if curve.path else None


def _path_id(path: Path) -> tuple[int, int] | None:
    """The file's (device, inode), however its path is written; None where it cannot be looked at."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def read_curves(paths: list[str | Path], metric: str | Metric = "test_acc", studies: bool = False,
                started: list[tuple[str, str, str]] | None = None, say=lambda _: None) -> list[Curve]:
    """Curves from any mix of files, directories of curves and DVCLive folders, in the order given.
    A file reached twice (`h h`, or a folder and a file in it) is refused: it would count twice.
    studies: a directory may be a corpus of study folders (read_curve_dir); for a history.
    started: where given (live runs), a file with no evaluation yet (NotStarted) is left out, not an error, and
    appended to it as (run name, where, reason) (`waiting`)."""
    out: list[Curve] = []
    before = len(started or [])
    paths = [Path(p).expanduser() for p in paths]  # "~/runs" from Python, as a shell would read it
    # `--runs out/*` (or `--history out/*`) as `--runs out` reads it (review): beside Trainer runs, a run-N that has
    # saved nothing yet waits (or, in a history, is left out), and the Trainer's logging dir out/runs is no run
    kins = {_kin(p.name) for p in paths if _kind(p) == "dir" and (_has_trainer_state(p) or _trainer_saving(p))}
    for path in paths:
        beside = bool(kins) and _kind(path) == "dir"  # a folder given beside Trainer runs
        side = beside and path.name in TRAINER_SIDE_FOLDERS and _kin(path.name) not in kins and not _holds_curves(path)
        if side or (beside and _kin(path.name) in kins and _unsaved_output_dir(path)):
            if side:
                say(f"{path}: a Trainer's logging dir beside its runs, no run: left out")
            elif started is not None:
                started.append((path.name, str(path), TRAINER_UNSAVED))
            else:
                say(f"{path}: no Trainer checkpoint, unlike the runs given beside it: left out")
            continue
        if _kind(path) == "dir":
            out += read_curve_dir(path, metric, studies, started, say)
            continue
        try:
            folder = trainer_run_folder(path).parent if path.name == TRAINER_STATE else path.parent
            out.append(replace(read_curve(path, metric), study=os.path.realpath(folder)))
        except NotStarted as exc:
            if started is None:
                raise
            started.append(waiting(path, exc))
    seen: dict[tuple[int, int], Curve] = {}
    for curve in out:
        key = _file_id(curve)
        if key is not None and key in seen:
            first = seen[key]
            same = "" if first.path == curve.path else f" (as {first.path} and {curve.path})"
            raise LcpipeError(f"{curve.path} is given twice{same}; every curve in it would count twice: give each "
                              "file or folder once")
        if key is not None:
            seen[key] = curve
    waits: dict[tuple[int, int], str] = {}
    for _, where, _ in (started or [])[before:]:  # a run left out for now, given twice, is refused as a curve is
        key = _path_id(Path(where))
        if key is None:
            continue
        if key in waits or key in seen:
            first = waits.get(key) or str(seen[key].path)
            same = "" if first == where else f" (as {first} and {where})"
            raise LcpipeError(f"{where} is given twice{same}; give each file or folder once")
        waits[key] = where
    if studies:
        check_history_copies(out, as_metric(metric).name, say)
    return out


def check_history_copies(history: list[Curve], metric: str, say=lambda _: None,
                         two_runs: str = "give each its config (<run>.json beside it)") -> None:
    """No history curve is a copy of another under another name: the same values of the metric (3 distinct at
    least: runs stuck at chance share values) where one of the two states no config (a CSV copied without its
    sidecar, or runs that state none). It would count twice, as the same file given twice is refused for (red
    team: a best run copied to a results folder's top, given beside its study). Two that state configs are
    two runs, whether the configs differ (a deterministic grid's configs on a small test set) or not (two
    studies that each trained one baseline, deterministically: bench/hpo_table/studies.py; review)."""
    seen: dict[bytes, list[Curve]] = {}
    repeats: list[tuple[Curve, Curve]] = []
    for curve in history:
        values = curve.columns.get(metric)
        if values is None or len(np.unique(values)) < 3:
            continue
        same = seen.setdefault(np.asarray(values, dtype=float).tobytes(), [])
        for first in same:
            if not first.config or not curve.config:
                bare = curve if not curve.config else first
                raise LcpipeError(f"{curve.path or curve.name} is a copy of {first.path or first.name} (the same "
                                  f"{metric} at every point, and {bare.path or bare.name} states no config of its "
                                  f"own); each would count twice: remove the copy, or, if they are two runs, "
                                  f"{two_runs}")
            if first.config == curve.config:
                repeats.append((curve, first))
        same.append(curve)
    if repeats:  # two studies of one deterministic config, or a study folder copied whole: each counts (red team)
        curve, first = repeats[0]
        say(f"{len(repeats)} history curve(s) repeat another's {metric} and config exactly (e.g. "
            f"{curve.path or curve.name} and {first.path or first.name}): each counts as a run; if a folder was "
            "copied, give it once")
