"""Atomic file writes: readers and DVC see the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lcpipe.errors import LcpipeError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_output(path: str | os.PathLike, inputs: list[str | os.PathLike], flag: str = "--out") -> None:
    """Refuse, before any work, an output that cannot be written or would clobber an input: one of
    the input files, or any file inside an input directory."""
    path = Path(path).resolve()
    for given in map(Path, inputs):
        given = given.resolve()
        if path == given or given in path.parents:
            raise LcpipeError(f"{flag} {path} would overwrite the input {given}; write it elsewhere")
    if path.is_dir():
        raise LcpipeError(f"{flag} {path} is a directory; give a file name")
    existing = next(p for p in path.parents if p.exists())
    if not existing.is_dir():
        raise LcpipeError(f"{flag} {path}: {existing} is a file, not a directory")
    target = path if path.exists() else existing
    if not os.access(target, os.W_OK):
        raise LcpipeError(f"{flag} {path}: no permission to write {target}")
