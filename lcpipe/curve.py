"""The learning-curve artifact both halves share: Curve, Series, and lcpipe's own curve file.

lcpipe's file (the contract in the README): `<run>.csv` with columns
`epoch,train_loss,train_acc,test_loss,test_acc,lr`, epoch from 1, accuracies as fractions, floats
written as repr so equal curves are equal bytes; beside it `<run>.json`, the sidecar: the run's
planned length (`epochs`) and the config it was trained with, flat (`arch`, `optimizer`, `lr`,
`schedule`, `milestones`, ...), the same keys as the dev corpus's `<run>.json`.

This module is the leaf of the import graph (it imports only errors and atomic): training writes
curves through it without importing any forecasting code, so no forecasting edit retrains a CNN.
The lenient readers of other people's logs live in forecasting/logs.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lcpipe.atomic import write_text
from lcpipe.errors import LcpipeError

COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr")
MAX_EPOCHS = 1_000_000  # a planned length above this is a typo, not a run: refused before any array is sized


@dataclass(frozen=True)
class Curve:
    """One model's learning curve: column name -> per-epoch values (epoch 1..n).

    `planned` is the run's planned length when its own files say so; `config` the flat
    hyper-parameters they state (empty when unknown); `path` where it was read from, for messages.
    """

    name: str
    columns: dict[str, np.ndarray]
    planned: int | None = None
    path: Path | None = None
    config: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.columns["epoch"])

    def metric(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise LcpipeError(f"curve {self.name!r} has no column {name!r}; it has {', '.join(self.columns)}")
        return self.columns[name]

    @property
    def lr(self) -> np.ndarray | None:
        """The lr schedule, used only when it is known at every epoch."""
        lr = self.columns.get("lr")
        return lr if lr is not None and np.all(np.isfinite(lr)) else None


@dataclass(frozen=True)
class Series:
    """What a predictor sees of one curve: the forecast metric's values, the planned lr schedule
    if known, and the run's config (flat, possibly empty)."""

    name: str
    values: np.ndarray
    lr: np.ndarray | None = None  # one value per epoch of the *whole* run, when known
    config: dict = field(default_factory=dict)


def series_of(curve: Curve, metric: str) -> Series:
    """The curve as predictors take it: its `metric` column, its lr when known throughout, its config."""
    return Series(curve.name, curve.metric(metric), curve.lr, curve.config)


def check_planned(value, where: str) -> int | None:
    """A planned length as a file states it: None, or a whole number in 1..MAX_EPOCHS."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_EPOCHS:
        raise LcpipeError(f"{where}: epochs {value!r} is not a whole number of epochs in 1..{MAX_EPOCHS}")
    return value


def format_rows(rows: list[dict]) -> str:
    """CSV text for per-epoch rows; floats as repr, so equal values give identical bytes."""
    lines = [",".join(COLUMNS)]
    lines += [",".join(repr(row[c]) if isinstance(row[c], float) else str(row[c]) for c in COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"


def write_curve(csv_path: str | Path, rows: list[dict], sidecar: dict) -> None:
    """The curve file and its sidecar (`<run>.json`, which must say the planned `epochs`)."""
    check_planned(sidecar.get("epochs"), f"{csv_path} sidecar")
    write_text(csv_path, format_rows(rows))
    write_text(Path(csv_path).with_suffix(".json"), json.dumps(sidecar, indent=2) + "\n")


def read_lcpipe_csv(path: str | Path, metric: str = "test_acc") -> Curve:
    """Strictly read a curve lcpipe wrote: its exact header, epochs 1..n, `metric` finite fractions,
    and the sidecar's planned length and config. Anything else is a file lcpipe did not write, and
    the message says which stage makes it again."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LcpipeError(f"{path}: cannot read ({type(exc).__name__}); rerun `dvc repro` to make it") from None
    header = lines[0].split(",") if lines else []
    if header[:1] != ["epoch"] or not set(header) <= set(COLUMNS) or len(set(header)) != len(header):
        raise LcpipeError(f"{path}: not a curve lcpipe wrote (its header has columns of {','.join(COLUMNS)}, "
                          "epoch first); rerun `dvc repro` to make it again")
    try:
        table = np.array([[float(v) if v else np.nan for v in line.split(",")] for line in lines[1:]], dtype=float)
    except ValueError as exc:
        raise LcpipeError(f"{path}: {exc}; rerun `dvc repro` to make it again") from None
    epochs_ok = table.ndim == 2 and np.array_equal(table[:, 0], np.arange(1, len(table) + 1))
    if not epochs_ok or table.shape[1] != len(header):
        raise LcpipeError(f"{path}: rows are not epochs 1..n of {len(header)} columns; rerun `dvc repro`")
    columns = dict(zip(header, table.T))
    values = columns.get(metric)
    if values is None or not np.all(np.isfinite(values)) or np.any((values < 0) | (values > 1)):
        raise LcpipeError(f"{path}: {metric} must be finite fractions at every epoch; rerun `dvc repro`")
    sidecar = read_sidecar(path.with_suffix(".json"))
    planned = check_planned(sidecar.pop("epochs", None), str(path.with_suffix(".json")))
    return Curve(path.stem, columns, planned, path, sidecar)


def read_sidecar(path: Path) -> dict:
    """lcpipe's sidecar as a flat dict ({} when there is none)."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LcpipeError(f"{path}: cannot read the sidecar ({type(exc).__name__}); rerun `dvc repro`") from None
    if not isinstance(data, dict):
        raise LcpipeError(f"{path}: the sidecar is not a JSON object; rerun `dvc repro`")
    return data
