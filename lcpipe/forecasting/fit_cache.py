"""The history's fitted forecaster, kept by the history's content: fit once, reuse everywhere.

Fitting `Auto` on a big history is the slow part of a pruner's life: its calibration forecasts every
history curve leave-one-cluster-out, and each horizon needs every curve on its time axis. Teams keep
years of curves, and every new ForecastPruner (each worker process, each study, each rerun) would
pay that again. So the fitted state is cached under a key of everything it depends on:

- the content of the history as the forecaster sees it (each curve's values, lr column, config and
  kind; not file names, dates or order-free metadata), in order;
- the forecaster's settings;
- the forecaster's code (the bytes of auto.py, base.py, curve.py, metric.py): an upgrade of lcpipe never reads a
  stale fit.

Two levels: this process (a dict), and a folder on disk shared by every process of the machine
(or of a team, on a shared file system): `$LCPIPE_CACHE_DIR` itself (as `fit_cache=DIR` is), else
`$XDG_CACHE_HOME/lcpipe/fits`, else `~/.cache/lcpipe/fits`. A file is written atomically (a reader sees a
whole fit or none) as plain arrays and JSON, never pickle, and loaded with pickling refused, so a cache file can hold
nothing but numbers. A file that cannot be read is ignored and rewritten; a folder that cannot be
written costs the speed, not the fit (one warning).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import sys
import tokenize
import warnings
import zipfile
from pathlib import Path

import numpy as np

from lcpipe import curve as curve_module
from lcpipe import metric as metric_module
from lcpipe.atomic import atomic_path
from lcpipe.curve import Series
from lcpipe.forecasting.predictors import auto as auto_module
from lcpipe.forecasting.predictors import base as base_module
from lcpipe.forecasting.predictors.auto import Auto

FORMAT = 2  # bump when the file's layout changes (2: siblings_, which the band's cap reads)
ENV = "LCPIPE_CACHE_DIR"
# every Auto setting a fit depends on (config_weight_series too: a loss's configs weigh by it, and without it a
# pruner's fit at 1 and a forecaster's at 3 on one loss history shared one cache entry and its calibration)
SETTINGS = ("recency", "similarity", "smooth_epochs", "interval_scale", "config_weight", "calibrate",
            "final_quantile", "final_quantile_series", "hyperparameters", "config_weight_series",
            "sibling_recency_series", "calibration_fractions", "noise_floor")
IN_PROCESS = 8  # fits kept in this process, the most recently used (a long-lived process sees many)
_IN_PROCESS: dict[str, Auto] = {}
_ON_DISK: dict[Path, set] = {}  # file -> the axes it holds, as far as this process knows
_CODE: list[bytes] = []  # the digest of the code a fit depends on (the module docstring), read once
_warned: set[str] = set()


def default_dir() -> Path:
    """Where fits are kept unless told otherwise."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])  # as fit_cache=DIR: workers given either share the fits (review)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lcpipe" / "fits"


def content_key(template: Auto, history: list[Series]) -> str:
    """The digest of everything a fit depends on (module docstring)."""
    if not _CODE:  # the forecaster's code and what it builds on (review: a change to base.py reused a stale fit)
        code = hashlib.sha256()
        for module in (auto_module, base_module, curve_module, metric_module):
            code.update(Path(module.__file__).read_bytes())
        _CODE.append(code.digest())
    h = hashlib.sha256()
    h.update(_CODE[0])
    # a bounded (accuracy) history is calibrated at final_quantile, any other at final_quantile_series:
    # the other one is no part of the fit (the CLI's Auto and the pruner's share an accuracy history's fit)
    series_only = ("final_quantile_series", "config_weight_series", "sibling_recency_series")
    unused = series_only if all(s.bounded for s in history if len(s.values)) else ("final_quantile", "config_weight")
    settings = {k: getattr(template, k) for k in SETTINGS if k not in unused}
    h.update(json.dumps({"format": FORMAT, **settings}, sort_keys=True).encode())
    # which runs share a study folder (it clusters runs that state no recipe), not where it is: a history read
    # from another path, or copied, is the same content
    study_of: dict = {None: 2**64 - 1}  # no folder known: apart from every folder (auto clusters it by length)
    for s in history:
        study_of.setdefault(s.study, len(study_of) - 1)
    for s in history:
        values = np.ascontiguousarray(s.values, dtype=float)
        lr = b"-" if s.lr is None else np.ascontiguousarray(s.lr, dtype=float).tobytes()
        config = repr(sorted((s.config or {}).items())).encode()  # repr: a tuple is no list, 1.0 no 1
        for part in (len(values).to_bytes(8, "little"), values.tobytes(), len(lr).to_bytes(8, "little"), lr,
                     len(config).to_bytes(8, "little"), config, b"b" if s.bounded else b"u",
                     study_of[s.study].to_bytes(8, "little")):
            h.update(part)
    return h.hexdigest()


def fitted(template: Auto, history: list[Series], horizons: tuple[int, ...] = (),
           cache_dir: Path | None | bool = None) -> Auto:
    """`template` fitted on `history`, with its time axes for `horizons` (no milestones) computed:
    from this process's cache, else the disk cache, else fitted and stored in both. `cache_dir`:
    a folder, None for default_dir(), False for no disk cache. The returned forecaster is shared
    (only its axis cache grows, with values fixed by its content): extend or copy it, never refit it."""
    key = content_key(template, history)
    folder = None if cache_dir is False else Path(cache_dir) if cache_dir else default_dir()
    path = None if folder is None else folder / f"{key}.npz"
    auto = _IN_PROCESS.get(key)
    if auto is None and path is not None:
        auto = _load(path, template)
        if auto is not None:
            _ON_DISK[path] = set(auto._axes)
    if auto is None:
        auto = copy.copy(template).fit(history)
    for horizon in horizons:
        auto._history_on(int(horizon), ())
    _IN_PROCESS.pop(key, None)
    _IN_PROCESS[key] = auto  # the most recent last
    while len(_IN_PROCESS) > IN_PROCESS:
        _IN_PROCESS.pop(next(iter(_IN_PROCESS)))
    if path is not None and (path not in _ON_DISK or set(auto._axes) - _ON_DISK[path]) and _storable(auto):
        _save(auto, path, "give fit_cache= a writable folder" if cache_dir else
              f"set {ENV} to a writable folder, or give fit_cache= one")
        _ON_DISK[path] = set(auto._axes)
    return auto


def _storable(auto: Auto) -> bool:
    """Whether the configs survive JSON unchanged (a tuple, a numpy number or an object would come
    back as something else and forecast differently): if not, the fit stays in this process."""
    try:
        return json.loads(json.dumps(auto.configs_)) == auto.configs_
    except (TypeError, ValueError):
        return False


def _save(auto: Auto, path: Path, fix: str) -> None:
    """Write the fit as plain arrays and JSON (atomically); a folder that cannot be written warns once."""
    lengths = np.array([len(h) for h in auto.history_], dtype=np.int64)
    keys = sorted(auto._axes, key=repr)
    meta = {"format": FORMAT, "bounded": bool(auto.bounded_), "configs": auto.configs_,
            "milestones": [list(m) for m in auto.milestones_],
            "axes": [[int(h), list(m)] for h, m in keys], "calibrated": auto.final_q_ is not None,
            "shift_recency": float(auto.shift_recency_), "study_dataset": auto.study_dataset_,
            "siblings": bool(auto.siblings_)}
    arrays = {"values": np.concatenate(auto.history_) if auto.history_ else np.empty(0), "lengths": lengths,
              "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    if auto.final_q_ is not None:
        arrays["final_q_x"], arrays["final_q_y"] = auto.final_q_
    for i, k in enumerate(keys):
        arrays[f"axis{i}"] = auto._axes[k]
    try:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        with atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getvalue())
    except OSError as e:
        _warn_once(str(path.parent), f"lcpipe: cannot write the fit cache in {path.parent} ({e.strerror or e}); "
                                     f"fits are not kept between processes ({fix})")


def _load(path: Path, template: Auto) -> Auto | None:
    """The stored fit, or None when there is none or it cannot be read (it will be rewritten)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(f["meta"].tobytes())
            if meta.get("format") != FORMAT:
                return None
            ends = np.cumsum(f["lengths"])
            auto = copy.copy(template)
            auto.history_ = [a.copy() for a in np.split(f["values"], ends[:-1])] if len(ends) else []
            auto.bounded_ = bool(meta["bounded"])
            auto.configs_ = meta["configs"]
            auto.milestones_ = [tuple(m) for m in meta["milestones"]]
            auto.final_q_ = (f["final_q_x"], f["final_q_y"]) if meta["calibrated"] else None
            auto.shift_recency_ = float(meta["shift_recency"])  # as the fit chose it (a loss's own study: its own)
            auto.study_dataset_ = meta["study_dataset"]
            auto.siblings_ = bool(meta["siblings"])  # a fit read back without it skipped the band's cap (review)
            auto._axes = {(int(h), tuple(m)): f[f"axis{i}"] for i, (h, m) in enumerate(meta["axes"])}
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile, NotImplementedError,
            RuntimeError, SyntaxError, tokenize.TokenError, IndexError, AttributeError):  # a damaged file's header or
        return None  # zip fields fail in these too (review: 34 of 4,000 random damages crashed every worker)
    if len(auto.history_) != len(auto.configs_) or not auto.history_:
        return None
    return auto


def _warn_once(where: str, message: str) -> None:
    if where not in _warned:
        _warned.add(where)
        warnings.warn(message, RuntimeWarning, stacklevel=_caller_level())


def _caller_level() -> int:
    """The stacklevel of the first frame outside lcpipe and Optuna: the user's line that led here (review: the
    warning pointed at this module)."""
    package = str(Path(__file__).resolve().parents[1])
    frame, level = sys._getframe(1), 1
    while frame is not None and (frame.f_code.co_filename.startswith(package)
                                 or f"{os.sep}optuna{os.sep}" in frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    return level
