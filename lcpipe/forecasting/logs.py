"""Lenient readers of learning curves as people log them, with the config each run states.

Read: lcpipe's own curve file (lcpipe/curve.py) and its sidecar; also
- the external format of shared/curves, `epoch,train_loss,train_err,test_err` (epoch from 0): an
  accuracy is read as 1 - its error column when the file has no accuracy column;
- a DVCLive folder, `<run>/plots/metrics/<metric>.tsv` (`step` from 0), or a folder of such runs
  (`dvclive/<arch>/`); the run is named after its folder.
Dialects: a byte-order mark, `,` `;` or tab separators (with a decimal comma where the separator is
not a comma), any header case, extra columns of any kind. The first row is the first epoch whatever
its number (0 or 1); each later row counts up by one.

Only the forecast metric must be complete, finite and a fraction; other columns may be blank, NaN,
text or missing (kept as NaN where they are not numbers). Every error quotes the file, its line, and
the file's own column names and epoch numbers.
"""

from __future__ import annotations

import csv
import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from lcpipe.atomic import kind_of
from lcpipe.curve import COLUMNS, Curve, check_planned
from lcpipe.errors import LcpipeError

EPOCH_COLUMNS = ("epoch", "step")  # step: DVCLive
SUFFIXES = (".csv", ".tsv")  # any case: *.CSV is a curve file too
MIN_HISTORY_CURVES = 2  # intervals are learnt from how history curves differ: one curve cannot show that
MIN_HISTORY_EPOCHS = 3  # a shorter history curve has no shape to learn from


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
        """Index of the first header matching one of `names`, ignoring case, spaces and underscores."""
        folded = [fold(h) for h in self.header]
        return next((folded.index(fold(n)) for n in names if fold(n) in folded), None)

    def cell(self, row: int, col: int) -> str:
        return self.rows[row][col].strip() if col < len(self.rows[row]) else ""

    def number(self, row: int, col: int) -> float | None:
        return _float(self.cell(row, col), self.decimal_comma)

    def numbers(self, col: int) -> np.ndarray:
        """The column as floats, NaN where a cell is blank or not a number."""
        cells = [r[col] if col < len(r) else "" for r in self.rows]
        if self.decimal_comma:
            cells = [c.replace(",", ".") for c in cells]
        try:
            return np.array(cells, dtype=float)  # every cell a number: one C loop
        except ValueError:
            return np.array([np.nan if (v := _float(c, False)) is None else v for c in cells])


def _float(text: str, decimal_comma: bool) -> float | None:
    try:
        return float(text.replace(",", ".") if decimal_comma else text)
    except ValueError:
        return None


def _table(path: Path) -> _Table:
    try:
        text = path.read_text(encoding="utf-8-sig")  # utf-8-sig: drops Excel's byte-order mark
    except (OSError, UnicodeDecodeError) as exc:
        raise LcpipeError(f"{path}: cannot read ({type(exc).__name__}); is it a CSV text file?") from None
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise LcpipeError(f"{path}: empty file; expected a header line such as {','.join(COLUMNS)}")
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        parsed = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit() (131,072 characters)
        raise LcpipeError(f"{path}: line {reader.line_num}: {exc}; is it a CSV text file of one epoch "
                          "per line?") from None
    (_, header), body = parsed[0], parsed[1:]
    return _Table(path, [h.strip() for h in header], [r for _, r in body], [n for n, _ in body],
                  decimal_comma=delimiter != ",")


def _epochs(t: _Table) -> np.ndarray:
    """1..n, after checking that the file's epochs start at 0 or 1 and count up by one."""
    col = t.column(*EPOCH_COLUMNS)
    if col is None:
        raise LcpipeError(f"{t.path}: missing column 'epoch'; the header is {', '.join(t.header)}")
    name, numbers = t.header[col], t.numbers(col)
    if numbers[0] not in (0, 1):
        raise LcpipeError(f"{t.path}: line {t.lines[0]}: {name} {t.cell(0, col)!r} where 0 or 1 was expected")
    expected = numbers[0] + np.arange(len(numbers))
    wrong = np.flatnonzero(numbers != expected)
    if wrong.size:
        i = int(wrong[0])
        raise LcpipeError(f"{t.path}: line {t.lines[i]}: {name} {t.cell(i, col)!r} where {expected[i]:g} "
                          f"was expected; {name} counts up by one from the first row's {numbers[0]:g}")
    return np.arange(1.0, len(t.rows) + 1)


def _metric(t: _Table, metric: str) -> np.ndarray:
    """The forecast metric as fractions: complete, finite, in [0, 1]; from `X_err` when the file
    has no `X_acc` column (accuracy = 1 - error)."""
    error = metric.removesuffix("_acc") + "_err" if metric.endswith("_acc") else None
    col = t.column(metric)
    from_error = col is None and error is not None and t.column(error) is not None
    col = t.column(error) if from_error else col
    if col is None:
        alt = f" (or {error!r})" if error else ""
        raise LcpipeError(f"{t.path}: missing column {metric!r}{alt}, the metric to forecast; "
                          f"the header is {', '.join(t.header)}")
    values = t.numbers(col)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        cell, where = t.cell(i, col), f"{t.path}: line {t.lines[i]}: column {t.header[col]!r}"
        if not cell:
            raise LcpipeError(f"{where} is blank; the metric to forecast must be there at every epoch")
        if t.number(i, col) is None:
            raise LcpipeError(f"{where} is {cell!r}, not a number")
        raise LcpipeError(f"{where} is {cell!r}; values must be finite")
    _check_fractions(t, col, values)
    return 1.0 - values if from_error else values


def _check_fractions(t: _Table, col: int, values: np.ndarray) -> None:
    name = t.header[col]
    outside = np.flatnonzero((values < 0) | (values > 1))
    if not outside.size:
        return
    if np.all((values >= 0) & (values <= 100)) and np.median(values) > 1:
        raise LcpipeError(f"{t.path}: column {name!r} is in percent (up to {values.max():g}); "
                          "lcpipe reads fractions: divide it by 100")
    i = int(outside[0])
    raise LcpipeError(f"{t.path}: line {t.lines[i]}: {name} {t.cell(i, col)!r} is outside [0, 1]; "
                      "accuracies and errors are fractions")


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


def run_config(meta: Path) -> tuple[int | None, dict]:
    """(planned epochs, flat config) that a run's own file states: lcpipe's sidecar or a `<run>.json`
    in the dev corpus's flat format (`epochs`, `optimizer`, `lr`, ...), or DVCLive's params.yaml
    (a `train:` section is flattened into the top level). (None, {}) when there is no such file."""
    if not meta.is_file():
        return None, {}
    try:
        if meta.stat().st_size > MAX_CONFIG_BYTES:
            raise LcpipeError(f"{meta}: {meta.stat().st_size} bytes is too large for a run's config")
        text = meta.read_text()
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text)):  # linear: refuses alias bombs
            raise LcpipeError(f"{meta}: YAML aliases (*name) are not allowed in a run's config")
        data = yaml.safe_load(text)  # JSON is YAML
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LcpipeError(f"{meta}: cannot read ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        return None, {}
    train = data.get("train")
    flat = {**{k: v for k, v in data.items() if k != "train"}, **(train if isinstance(train, dict) else {})}
    config = {str(k): v for k, v in flat.items() if k != "epochs" and isinstance(v, (int, float, str, bool, list))}
    return check_planned(flat.get("epochs"), str(meta)), config


def _read_table(path: Path, metric: str, name: str, meta: Path) -> Curve:
    t = _table(path)
    if not t.rows:
        raise LcpipeError(f"{path}: no data rows after the header")
    epochs, values = _epochs(t), _metric(t, metric)
    skip = {t.column(*EPOCH_COLUMNS), t.column(metric)}
    columns = _other_columns(t, skip)
    for err in [c for c in columns if c.endswith("_err")]:
        columns.setdefault(err.removesuffix("_err") + "_acc", 1.0 - columns[err])
    planned, config = run_config(meta)
    return Curve(name, {**columns, "epoch": epochs, metric: values}, planned, path, config)


def read_curve(path: str | Path, metric: str = "test_acc") -> Curve:
    """Read one curve file (any format and dialect above), validating the `metric` column."""
    path = Path(path)
    return _read_table(path, metric, path.stem, path.with_suffix(".json"))


def is_dvclive(folder: Path) -> bool:
    return (folder / "plots" / "metrics").is_dir()


def read_dvclive(folder: str | Path, metric: str = "test_acc") -> Curve:
    """One DVCLive run: its `metric` from plots/metrics, its planned length from params.yaml."""
    folder = Path(folder)
    tsv = folder / "plots" / "metrics" / f"{metric}.tsv"
    if not tsv.is_file():
        logged = sorted(p.relative_to(tsv.parent).with_suffix("").as_posix() for p in tsv.parent.rglob("*.tsv"))
        raise LcpipeError(f"{folder}: DVCLive folder without plots/metrics/{metric}.tsv; "
                          f"it logged {', '.join(logged) or 'no metrics'}")
    name = folder.resolve().parent.name if folder.resolve().name == "dvclive" else folder.resolve().name
    return _read_table(tsv, metric, name, folder / "params.yaml")


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


def read_curve_dir(directory: str | Path, metric: str = "test_acc") -> list[Curve]:
    """Every curve in `directory`, sorted by name: its *.csv / *.tsv files (any case) and DVCLive
    run folders, or the directory itself when it is one DVCLive run. Hidden and `._` files are skipped.
    Two curves with one name (`x.csv` and `x.CSV`, `x.csv` and a DVCLive folder `x`) are refused."""
    directory = Path(directory)
    if not directory.is_dir():
        raise LcpipeError(f"{directory}: not a directory of curve files")
    if _is_dvclive(directory):
        return [read_dvclive(directory, metric)]
    try:
        entries = sorted(p for p in directory.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        raise LcpipeError(f"{directory}: cannot list it ({exc.strerror}); check its permissions") from None
    found: list[tuple[Path, Curve]] = []
    folders = []
    for p in entries:
        if p.suffix.lower() in SUFFIXES and _kind(p) == "file":  # a FIFO or a broken link named *.csv: refused
            found.append((p, read_curve(p, metric)))
        elif p.is_dir():
            if _is_dvclive(p):
                found.append((p, read_dvclive(p, metric)))
            else:
                folders.append(p.name)
    if not found:
        hint = f"; its folders ({', '.join(folders[:5])}{', ...' if len(folders) > 5 else ''}) may hold some" \
            if folders else ""
        raise LcpipeError(f"{directory}: no *.csv curve files or DVCLive folders found{hint}")
    by_name: dict[str, Path] = {}
    for p, curve in found:
        if curve.name in by_name:
            raise LcpipeError(f"{directory}: {by_name[curve.name].name} and {p.name} are two curves with one name "
                              f"{curve.name!r}; rename or remove one")
        by_name[curve.name] = p
    return sorted((c for _, c in found), key=lambda c: c.name)


def check_finished(history: list[Curve]) -> None:
    """A history holds finished runs: a curve short of the length its own file plans (a run still
    training, or one stopped early) would teach every forecast to end too soon."""
    for curve in history:
        if curve.planned and len(curve) < curve.planned:
            raise LcpipeError(f"{curve.path}: {len(curve)} of its {curve.planned} planned epochs; a history "
                              "curve must be a finished run")


def check_history(history: list[Curve]) -> None:
    """A history to learn forecasts and their intervals from: at least two curves (intervals come
    from how curves differ), each of at least MIN_HISTORY_EPOCHS epochs."""
    if len(history) < MIN_HISTORY_CURVES:
        where = f" ({history[0].path or history[0].name})" if history else ""
        raise LcpipeError(f"--history holds {len(history)} curve{where}; forecasts and their intervals are learnt "
                          f"from how finished curves differ: give at least {MIN_HISTORY_CURVES}")
    for curve in history:
        if len(curve) < MIN_HISTORY_EPOCHS:
            raise LcpipeError(f"{curve.path or curve.name}: {len(curve)} epoch(s); a history curve needs at least "
                              f"{MIN_HISTORY_EPOCHS} to learn a curve's shape from: remove it or give the finished run")


def _file_id(curve: Curve) -> tuple[int, int] | None:
    try:
        st = curve.path.stat() if curve.path else None
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st else None


def read_curves(paths: list[str | Path], metric: str = "test_acc") -> list[Curve]:
    """Curves from any mix of files, directories of curves and DVCLive folders, in the order given.
    A file reached twice (`h h`, or a folder and a file in it) is refused: it would count twice."""
    out: list[Curve] = []
    for path in map(Path, paths):
        out += read_curve_dir(path, metric) if _kind(path) == "dir" else [read_curve(path, metric)]
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
    return out
