"""The learning-curve artifact both halves share: Curve, Series, and lcpipe's own curve file.

lcpipe's file (the contract in the README): `<run>.csv` with columns
`epoch,train_loss,train_acc,test_loss,test_acc,lr`, epoch from 1, accuracies as fractions, floats
written as repr so equal curves are equal bytes; beside it `<run>.json`, the sidecar: the run's
planned length (`epochs`) and the config it was trained with, flat (`arch`, `optimizer`, `lr`,
`schedule`, `milestones`, ...), the same keys as the dev corpus's `<run>.json`.

This module is the leaf of the import graph (it imports only errors, atomic and metric): training writes
curves through it without importing any forecasting code, so no forecasting edit retrains a CNN.
The lenient readers of other people's logs live in forecasting/logs.py.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lcpipe.atomic import write_text
from lcpipe.errors import LcpipeError
from lcpipe.metric import Metric, as_metric

COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr")
MAX_EPOCHS = 1_000_000  # a planned length above this is a typo, not a run: refused before any array is sized
MAX_STEPS = 10**12  # ... in optimizer steps (a step axis is forecast on a grid of at most MAX_POINTS points)
MAX_POINTS = 500  # a step axis logged more densely is resampled to this many points: the forecasters' windows
# (recency, smoothing) count points, and a run logged every step must not forecast otherwise than one logged every 100


@dataclass(frozen=True)
class Curve:
    """One model's learning curve: column name -> per-epoch values (epoch 1..n).

    `planned` is the run's planned length when its own files say so, in the unit of its x axis;
    `config` the flat hyper-parameters they state (empty when unknown); `path` where it was read
    from, for messages. `steps` is None for a curve of consecutive epochs; for a curve on a step
    axis (evaluations every k optimizer steps, at any spacing) the step of each row, and `planned`
    is then in steps (on_grid puts it on a regular grid of points). `diverged` says where the
    metric stopped being finite (a run whose loss went to NaN or inf): the rows from there on are
    not in `columns`. `epoch_axis`: the step axis counts epochs, not optimizer steps (an epoch column at
    fractions of an epoch: validation every half epoch), so its length is planned in epochs. `per_epoch`: the
    optimizer steps in an epoch, where a log on a step axis also states each row's epoch (Hugging Face's trainer
    logs a fractional epoch beside the global step), so that a length in epochs can be placed on its steps.
    `stated_epochs`: the epochs its file plans, on a step axis that cannot place them (no per_epoch).
    `study`: the study folder it was read from (the folder of runs given, or a corpus's study folder, its real
    path), None where unknown (a DataFrame, a dict). `unfinished`: why it is known to be no finished run though it
    may look like one (a Trainer state that ends before its max_steps with no end of training logged): a history
    leaves it out.
    """

    name: str
    columns: dict[str, np.ndarray]
    planned: int | None = None
    path: Path | None = None
    config: dict = field(default_factory=dict)
    steps: np.ndarray | None = None
    diverged: str | None = None
    epoch_axis: bool = False
    per_epoch: float | None = None
    stated_epochs: int | None = None
    study: str | None = None
    unfinished: str | None = None

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
    """What a predictor sees of one curve: the forecast metric's values in lcpipe's internal space
    (higher is better; lcpipe/metric.py), the planned lr schedule if known, the run's config (flat,
    possibly empty), whether the values are bounded to [0, 1] (an accuracy-like metric), and the study it
    belongs to where its files say (the folder it was read from: a corpus's folders are its studies)."""

    name: str
    values: np.ndarray
    lr: np.ndarray | None = None  # one value per epoch of the *whole* run, when known
    config: dict = field(default_factory=dict)
    bounded: bool = True
    study: str | None = None


def series_of(curve: Curve, metric: str | Metric) -> Series:
    """The curve as predictors take it: its `metric` column in the internal space, its lr when known
    throughout, its config. An accuracy is passed as it is."""
    metric = as_metric(metric)
    return Series(curve.name, metric.curve_to_internal(curve.metric(metric.name)), curve.lr, curve.config,
                  metric.bounded, curve.study)


def grid_of(steps: np.ndarray, planned: int | None) -> tuple[float, int]:
    """(spacing, planned points) of the regular grid a step-axis curve is forecast on: its typical
    evaluation interval (the median step between rows), stretched so that the last grid point is the
    planned step (or, for a finished curve, its last step)."""
    diffs = np.diff(steps)
    interval = float(np.median(diffs[diffs > 0])) if np.any(diffs > 0) else max(float(steps[-1]), 1.0)
    end = float(planned) if planned else float(steps[-1])
    points = int(np.clip(round(end / interval), 1, MAX_POINTS))
    return end / points, points


def _resampled(x: np.ndarray, steps: np.ndarray, values: np.ndarray) -> np.ndarray:
    """values (logged at steps) at x: linear between evaluations; before the first, on along the slope of the first
    two, geometrically where every value is positive (a loss, an accuracy: never across zero), so that a log whose
    first evaluation came a few intervals late (Hugging Face's eval_delay; runs evaluated densely later on) is not
    read as flat at its first value there (red team: the worst run of a study, evaluated from step 1500 every 500,
    was forecast 0.19 too low and likeliest to end best)."""
    out = np.interp(x, steps, values)
    early = x < steps[0]
    if not early.any() or len(values) < 2 or not np.isfinite(values[:2]).all() or steps[1] <= steps[0]:
        return out
    t = (x[early] - steps[0]) / (steps[1] - steps[0])  # in intervals of the first two evaluations, < 0
    first, second = float(values[0]), float(values[1])
    if first > 0 and second > 0:
        out[early] = first * (second / first) ** t
    else:
        out[early] = first + (second - first) * t
    return out


def _resampled_column(name: str, x: np.ndarray, steps: np.ndarray, values: np.ndarray) -> np.ndarray:
    """_resampled, a perplexity's through the loss it is the exponential of: between a GPT-2 log's step 0 (8.8e6)
    and step 125 (388) a line in perplexity put the grid point between them at millions, 11 nats above the loss's own
    line, and the perplexity's bands came out a third of the loss's (red team)."""
    if not _perplexity_column(name) or not np.all(values[np.isfinite(values)] > 0):
        return _resampled(x, steps, values)
    with np.errstate(over="ignore"):
        return np.exp(_resampled(x, steps, np.log(values)))


@functools.lru_cache(maxsize=4096)
def _perplexity_column(name: str) -> bool:
    """Whether a column's name reads as a perplexity; once per name (Metric.infer takes 30-70 us, and every column of
    every step-logged curve is put on its grid: a history of thousands of curves read it tens of thousands of times)."""
    return Metric.infer(name).exp_of_loss


def on_grid(curve: Curve, planned: int | None = None) -> tuple[Curve, float]:
    """A step-axis curve resampled (linearly, between its own evaluations) onto a regular grid of
    points 1..k, spacing s steps, whose point n is the planned step (`planned`, else the curve's
    `planned`, else its last step): (that curve with consecutive epochs and its planned length in
    points, s). A curve of consecutive epochs is returned as it is, with s = 1. Forecasters index
    time by point; the user's steps are point x s."""
    if curve.steps is None:
        return curve, 1.0
    planned = planned or curve.planned
    if not len(curve.steps):
        return replace(curve, steps=None, planned=grid_of(np.array([1.0]), planned)[1]), 1.0
    spacing, points = grid_of(curve.steps, planned)
    # the last grid point it reached: the evaluations after it are not forecast from (a point past them, given the
    # last one's value, read the run as slower than it is by half a spacing; review), but live.late_note reads them
    seen = int(np.floor(curve.steps[-1] / spacing + 1e-9))
    if seen < 1:  # fewer steps than one grid interval: its last evaluation is the first point
        seen = 1
    x = spacing * np.arange(1, seen + 1)
    columns = {k: _resampled_column(k, x, curve.steps, v) if np.any(np.isfinite(v)) else np.full(seen, np.nan)
               for k, v in curve.columns.items() if k != "epoch"}
    columns["epoch"] = np.arange(1.0, seen + 1)
    return replace(curve, columns=columns, steps=None, planned=points if planned else None,
                   config=_milestones_in_points(curve, spacing, planned)), spacing


def _milestones_in_points(curve: Curve, spacing: float, planned: float | None) -> dict:
    """The curve's config with its lr `milestones` (epochs, as MultiStepLR stepped once an epoch counts them) counted
    in grid points, as forecasters count time (red team: milestones: [150] of a run validated every half epoch fell
    at epoch 75, before the drop it has not had): on an epoch axis (every half epoch, every 2) by its spacing; on
    an optimizer-step axis by its steps per epoch where it logs its epoch (per_epoch), else as a share of the epochs
    its file plans (stated_epochs); with neither, as they were read before (one evaluation an epoch)."""
    marks = curve.config.get("milestones")
    if not isinstance(marks, list) or not marks or not all(
            isinstance(m, int | float) and not isinstance(m, bool) for m in marks):
        return curve.config
    if curve.epoch_axis:
        points = [float(m) / spacing for m in marks]
    elif curve.per_epoch:
        points = [float(m) * curve.per_epoch / spacing for m in marks]
    elif curve.stated_epochs and planned:
        points = [float(m) / curve.stated_epochs * planned / spacing for m in marks]
    else:
        return curve.config
    return {**curve.config, "milestones": points}


def as_finished(curve: Curve) -> Curve:
    """A finished (history) curve on its grid, ending where it ended: a step-axis run may stop before
    the steps its config planned (AlgoPerf stops a trial at its target) and is still a finished run."""
    if curve.steps is None or not len(curve.steps):
        return curve
    return on_grid(curve, int(np.ceil(curve.steps[-1])))[0]


def check_planned(value, where: str, limit: int = MAX_EPOCHS, unit: str = "epochs") -> int | None:
    """A planned length as a file states it: None, or a whole number in 1..limit (133333.0 is one)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
        raise LcpipeError(f"{where}: {unit} {value!r} is not a whole number of {unit} in 1..{limit}")
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


def read_lcpipe_csv(path: str | Path, metric: str | Metric = "test_acc") -> Curve:
    """Strictly read a curve lcpipe wrote: its exact header, epochs 1..n, `metric` finite values of
    its kind (accuracies fractions, losses >= 0), and the sidecar's planned length and config.
    Anything else is a file lcpipe did not write, and the message says which stage makes it again."""
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
    metric = as_metric(metric)
    values = columns.get(metric.name)
    # a nan or inf written as trained: rerunning the stage changes nothing; a blank cell is damage (review)
    blank = values is not None and any(not row.split(",")[header.index(metric.name)] for row in lines[1:])
    if values is not None and not blank and not np.all(np.isfinite(values)):
        at = int(np.flatnonzero(~np.isfinite(values))[0])
        raise LcpipeError(f"{path}: {metric.name} is {values[at]} at epoch {at + 1}: the run diverged; retrain it with "
                          "a lower train.lr, or set features.metric to a column that stayed finite")
    if values is None or blank or len(metric.wrong(values)):
        raise LcpipeError(f"{path}: {metric.name} must be finite, {metric.expected()}, at every epoch; "
                          "rerun `dvc repro`")
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
