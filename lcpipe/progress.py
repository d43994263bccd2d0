"""Progress of long work: plain lines on stderr, flushed at once, so they read the same in a
terminal, in `dvc repro` output and in `dvc queue logs` (no carriage-return bars). Results go to
files, never here."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """`what ...` before the work, `what: done in 1.2s` after it."""
    say(f"{what} ...")
    start = time.perf_counter()
    yield
    say(f"{what}: done in {time.perf_counter() - start:.1f}s")
