"""Atomic file writes: readers and DVC see the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from lcpipe.errors import LcpipeError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


STALE_TMP_SECONDS = 3600  # a temp file of ours this old, whoever made it, is left by a killed write


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, someone else's
        return True
    return True


def clean_stale_tmps(path: Path) -> list[Path]:
    """Remove the temp files a killed write of `path` left beside it: regular files named exactly
    `.<name>.<pid>-<random>.tmp` (ours) whose process is gone, or `.<name>.<random>.tmp` (older lcpipe)
    an hour old. A live write's temp file is never touched. Returns what was removed."""
    pattern = re.compile(re.escape(f".{path.name}.") + r"(?:(\d+)-)?[A-Za-z0-9_]{8}\.tmp")
    removed = []
    try:
        candidates = [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return removed
    for tmp in candidates:
        try:
            st = tmp.lstat()
            if not stat.S_ISREG(st.st_mode):
                continue
            pid = pattern.fullmatch(tmp.name).group(1)
            stale = (pid is not None and int(pid) != os.getpid() and not _alive(int(pid))) or \
                time.time() - st.st_mtime > STALE_TMP_SECONDS
            if stale:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it into place only if the block succeeds. Temp
    files that killed writes of `path` left behind are removed first, so none accumulate."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_tmps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp directory beside `path`; swap it in for `path` only if the block succeeds.

    A stage that writes several files into one output directory and fails half-way leaves the
    previous directory as it was (or none), never a mix of old and new files.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        _check_replaceable(path, tmp)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


VIEWER_FILES = frozenset({"Thumbs.db", "desktop.ini"})  # a file browser's (as .DS_Store), not data: replaced freely


def _check_replaceable(path: Path, new: Path) -> None:
    """An existing folder atomic_dir may replace: one that holds regular files alone, of the kinds (suffixes) the
    new one holds, as an earlier run of the same writer left it; never a folder of the user's or of other
    outputs (red team: a stage's --plots-dir given `metrics` deleted every other stage's metrics), which is
    left as it was, with one line."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        what = "a symbolic link" if path.is_symlink() else "a file"
        raise LcpipeError(f"{path} is not a folder this stage wrote ({what}), which it would replace whole; give the "
                          "path dvc.yaml names, or remove it first")
    if path.exists():
        _only_its_files(path, {p.suffix.lower() for p in new.iterdir()}, str(path))


def _only_its_files(path: Path, kinds, where: str) -> None:
    """Refuses a folder a stage replaces whole that holds anything but regular files of `kinds` (suffixes, lower
    case), hidden ones and a file browser's aside; a file linked into DVC's cache (cache.type symlink) is one of
    them: replaced, only the link goes. `where` names it in the message."""
    try:
        strange = [p.name for p in path.iterdir() if not p.name.startswith(".") and p.name not in VIEWER_FILES
                   and (not p.is_file() or p.suffix.lower() not in kinds)]
    except OSError as exc:
        raise LcpipeError(f"{where}: cannot look into it ({exc.strerror}); check its permissions") from None
    if strange:
        raise LcpipeError(f"{where} holds {', '.join(sorted(strange)[:3])}{', ...' if len(strange) > 3 else ''}, "
                          "which this stage does not write; it replaces its output folder whole: give the path "
                          "dvc.yaml names, or move those out first")


# a run's config beside its curve, <run>.json or .yaml, in either case (forecasting/logs.py reads them)
SIDECARS = (".json", ".yaml", ".yml", ".JSON", ".YAML", ".YML")
KERNEL_DIRS = (Path("/proc"), Path("/sys"), Path("/dev"))  # not places for result files, whatever access() says


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, words in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return words
    return "not a regular file"


def resolve(path: Path) -> Path:
    """path.resolve(), or its absolute form where resolving fails (a symlink loop raises RuntimeError)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


MAX_DEPTH = 8  # folders below an input folder that are followed: the history reader's corpus depth (logs.py)


def _linked(folder: Path) -> list[Path]:
    """The real paths that symbolic links inside `folder` (up to MAX_DEPTH folders deep, each real
    folder once) lead to: a curve or study folder reached through a link is read, so it is an input."""
    targets, seen, stack = [], {os.path.realpath(folder)}, [(folder, 0)]
    while stack:
        here, depth = stack.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue  # an unlistable folder is not read either
        for entry in entries:
            try:
                linked, is_dir = entry.is_symlink(), entry.is_dir()
            except OSError:
                continue
            if linked:
                targets.append(resolve(Path(entry.path)))
            if is_dir and depth < MAX_DEPTH and (real := os.path.realpath(entry.path)) not in seen:
                seen.add(real)
                stack.append((Path(entry.path), depth + 1))
    return targets


MARK_READ = 50 * 2**20  # bytes: a figure lcpipe drew is far smaller; a bigger file is no figure of ours


def carries_mark(path: Path, mark: bytes) -> bool:
    """Whether the existing file at `path` is one of ours that carries `mark` (a figure lcpipe drew has it in its
    metadata): the test before a figure replaces a file, so that it never replaces a user's figure or note."""
    try:
        return path.stat().st_size <= MARK_READ and mark in path.read_bytes()
    except OSError:
        return False


LIVE_FOLDERS = ("", "plots", "plots/metrics")  # under a DVCLive folder: those DVC or DVCLive clear, never via a link


def not_a_folder(path: Path) -> str | None:
    """What a path a stage writes a folder at is instead, in words ('a symbolic link (to X)', 'a file'), or None."""
    if path.is_symlink():
        return f"a symbolic link (to {os.readlink(path)})"
    return "a file" if path.exists() and not path.is_dir() else None


def check_own_folder(path: Path, flag: str, kinds: tuple[str, ...] | None = None, after: str = "") -> None:
    """An output folder a stage writes into or replaces whole is no link and no file: a link to a folder of the
    user's would have its files deleted (DVCLive clears its folder) or replaced, outside the project (red team:
    dvclive/resnet34 linked to another folder lost its dvc.yaml and report.md; a sweep found its linked forecasts
    folder only after it had rewritten half its outputs). With `kinds` (the suffixes the stage writes there), one it
    replaces whole holds nothing else, as atomic_dir checks again when it replaces it. Checked before any work."""
    if what := not_a_folder(path):
        raise LcpipeError(f"{flag} {path} is {what}, not a folder this stage writes; give the path dvc.yaml names, "
                          f"or remove it first{after}")
    if kinds is not None and path.exists():
        _only_its_files(path, kinds, f"{flag} {path}")


def check_output(path: str | os.PathLike, inputs: list[str | os.PathLike], flag: str = "--out") -> None:
    """Refuse, before any work, an output that cannot be written or would clobber an input: one of
    the input files, any file inside an input directory, or a sidecar (`<run>.json`, `.yaml`, `.yml`)
    of an input curve file. An existing output must be a regular file (not a symlink, FIFO, device, ...):
    lcpipe replaces it with a new file, which would silently replace the link or the pipe."""
    given_path = Path(path)
    if given_path.is_symlink():
        raise LcpipeError(f"{flag} {given_path} is a symbolic link (to {os.readlink(given_path)}); lcpipe would "
                          "replace the link, not write through it: give the real file's path")
    for folder in Path(os.path.abspath(given_path)).parents:
        if folder.is_symlink() and not folder.exists():
            raise LcpipeError(f"{flag} {given_path}: its folder {folder} is a broken symbolic link or a link loop; "
                              "give a folder that exists")
    path = resolve(given_path)
    for kernel in KERNEL_DIRS:
        if path == kernel or kernel in path.parents:
            raise LcpipeError(f"{flag} {given_path} is under {kernel}, a kernel file system, not a place for "
                              "results; write it elsewhere")
    for given in map(Path, inputs):
        if given.is_file() and given.suffix.lower() not in SIDECARS:
            # beside the path as given (where the reader looks, a link's folder) and beside the file it names
            beside = {curve.with_suffix(suffix) for curve in (Path(os.path.abspath(given)), resolve(given))
                      for suffix in SIDECARS}
            for sidecar in sorted(beside):
                if path == sidecar or path == resolve(sidecar) or _same_file(path, sidecar):
                    raise LcpipeError(f"{flag} {given_path} would overwrite {sidecar}, the own file (sidecar) of "
                                      f"the input {given}; write it elsewhere")
        real = resolve(given)
        if real in path.parents and not path.exists():  # nothing overwritten, but read as input next time (review)
            raise LcpipeError(f"{flag} {path} would write into the input folder {real}, whose files are read as "
                              "input; write it elsewhere")
        if path == real or real in path.parents or _same_file(path, real):
            raise LcpipeError(f"{flag} {path} would overwrite the input {real}; write it elsewhere")
        for target in _linked(real) if real.is_dir() else ():
            if path == target or target in path.parents or _same_file(path, target):
                raise LcpipeError(f"{flag} {path} would overwrite the input {target}, linked from {given}; "
                                  "write it elsewhere")
    try:
        mode = path.stat().st_mode if path.exists() else None
    except OSError as exc:
        raise LcpipeError(f"{flag} {given_path}: cannot check it ({exc.strerror}); give another path") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise LcpipeError(f"{flag} {path} is a directory; give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        raise LcpipeError(f"{flag} {given_path} is {kind_of(mode)}, not a regular file; lcpipe would replace it "
                          "with one: give a regular file's path")
    existing = next(p for p in path.parents if p.exists())
    if not existing.is_dir():
        raise LcpipeError(f"{flag} {path}: {existing} is a file, not a directory")
    target = path if path.exists() else existing
    if not os.access(target, os.W_OK):
        raise LcpipeError(f"{flag} {path}: no permission to write {target}")
