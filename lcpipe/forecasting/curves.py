"""The learning-curve file format: read, validate, write atomically.

lcpipe's format (DESIGN.md): `epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds`, epoch
from 1, accuracies as fractions. The external format of shared/curves
(`epoch,train_loss,train_err,test_err`, epoch from 0) is read too and converted on the way in.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lcpipe.atomic import write_text
from lcpipe.errors import LcpipeError

COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds")
EXTERNAL_COLUMNS = ("epoch", "train_loss", "train_err", "test_err")
ACCURACIES = ("train_acc", "test_acc")


@dataclass(frozen=True)
class Curve:
    """One model's learning curve: column name -> per-epoch values (epoch 1..n)."""

    name: str
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["epoch"])

    def metric(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise LcpipeError(f"curve {self.name!r} has no column {name!r}; it has {', '.join(self.columns)}")
        return self.columns[name]

    @property
    def lr(self) -> np.ndarray | None:
        return self.columns.get("lr")


def format_rows(rows: list[dict]) -> str:
    """CSV text for per-epoch rows; floats as repr, so equal values give identical bytes."""
    out = io.StringIO()
    out.write(",".join(COLUMNS) + "\n")
    for row in rows:
        out.write(",".join(repr(row[c]) if isinstance(row[c], float) else str(row[c]) for c in COLUMNS) + "\n")
    return out.getvalue()


def write_curve(path: str | Path, rows: list[dict]) -> None:
    write_text(path, format_rows(rows))


def _parse(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise LcpipeError(f"{path}: cannot read ({type(exc).__name__}); is it a CSV text file?") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    if not rows:
        raise LcpipeError(f"{path}: empty file; expected a header line {','.join(COLUMNS)}")
    return [h.strip() for h in rows[0]], rows[1:]


def read_curve(path: str | Path) -> Curve:
    """Read and validate a curve file in either format; one clear line for the first problem."""
    path = Path(path)
    header, body = _parse(path)
    external = set(EXTERNAL_COLUMNS) <= set(header) and "test_acc" not in header
    required = EXTERNAL_COLUMNS if external else ("epoch", "test_acc")
    missing = [c for c in required if c not in header]
    if missing:
        raise LcpipeError(
            f"{path}: missing column {missing[0]!r}; expected {','.join(COLUMNS)} "
            f"or {','.join(EXTERNAL_COLUMNS)}")
    if not body:
        raise LcpipeError(f"{path}: no data rows after the header")
    columns = {name: _column(path, header, body, name) for name in header if name}
    if external:
        columns = {"epoch": columns["epoch"] + 1, "train_loss": columns["train_loss"],
                   "train_acc": 1.0 - columns["train_err"], "test_acc": 1.0 - columns["test_err"]}
    _validate(path, columns)
    return Curve(path.stem, columns)


def _column(path: Path, header: list[str], body: list[list[str]], name: str) -> np.ndarray:
    i = header.index(name)
    values = np.empty(len(body))
    for row_no, row in enumerate(body, start=2):
        try:
            values[row_no - 2] = float(row[i])
        except (IndexError, ValueError):
            cell = row[i] if i < len(row) else "<missing>"
            raise LcpipeError(f"{path}: line {row_no}: column {name!r} is {cell!r}, not a number") from None
        if not math.isfinite(values[row_no - 2]):
            raise LcpipeError(f"{path}: line {row_no}: column {name!r} is {row[i]!r}; values must be finite")
    return values


def _validate(path: Path, columns: dict[str, np.ndarray]) -> None:
    epochs = columns["epoch"]
    expected = np.arange(1, len(epochs) + 1)
    bad = np.flatnonzero(epochs != expected)
    if bad.size:
        i = int(bad[0])
        raise LcpipeError(f"{path}: line {i + 2}: epoch {epochs[i]:g} where {expected[i]} was expected; "
                          "epochs must run 1, 2, 3, ... (0, 1, 2, ... in the external format)")
    for name in ACCURACIES:
        if name in columns:
            bad = np.flatnonzero((columns[name] < 0) | (columns[name] > 1))
            if bad.size:
                i = int(bad[0])
                raise LcpipeError(f"{path}: line {i + 2}: {name} {columns[name][i]:g} is outside [0, 1]; "
                                  "accuracies are fractions, not percentages")


def read_curve_dir(directory: str | Path) -> list[Curve]:
    """Every *.csv curve in `directory`, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise LcpipeError(f"{directory}: not a directory of curve CSV files")
    paths = sorted(directory.glob("*.csv"))
    if not paths:
        raise LcpipeError(f"{directory}: no *.csv curve files found")
    return [read_curve(p) for p in paths]
