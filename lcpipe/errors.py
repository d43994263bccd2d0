"""User-facing errors: one line that says what is wrong and how to fix it, never a traceback."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable


class LcpipeError(Exception):
    """An input problem the user can fix (bad param, bad file); printed as one line."""


class WrongKindError(LcpipeError):
    """A value of the wrong kind for the metric (an accuracy in percent, a negative loss): `what` names the file,
    line, column and what was expected; the message adds how to say another kind (--kind, kind=), which the
    pipeline, whose kind follows features.metric, leaves out."""

    def __init__(self, what: str, hint: str):
        super().__init__(what + hint)
        self.what = what


class StdoutError(LcpipeError):
    """stdout could not be written (a full disk, a closed pipe): the rest of the run's output is
    dropped rather than retried at exit."""


def say_out(text: str) -> None:
    """Write `text` to stdout now; a failure (ENOSPC, EPIPE, ...) becomes one StdoutError line."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        raise StdoutError(f"cannot write the results to stdout ({exc.strerror or exc}); files given with --out "
                          "are written: read them, or free space / keep the reader open and rerun") from None


def _drop_stdout() -> None:
    """After stdout failed: point fd 1 at the null device, so the interpreter's flush at exit does
    not print a second error about the same stream (the Python docs' SIGPIPE recipe)."""
    if sys.stdout is sys.__stdout__ and sys.stdout is not None:
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass


def _one_line(message: str) -> None:
    try:
        print(f"error: {message}", file=sys.stderr)
    except OSError:
        pass


def exits_cleanly(main: Callable[..., None]) -> Callable[..., None]:
    """Wrap a command's entry point: an LcpipeError becomes `error: ...` on stderr and exit 2; an
    OSError no reader caught (a disk full while writing, a file that vanished) one line and exit 1."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except StdoutError as exc:
            _drop_stdout()
            _one_line(str(exc))
            raise SystemExit(2) from None
        except LcpipeError as exc:
            _one_line(str(exc))
            raise SystemExit(2) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise SystemExit(130) from None
        except OSError as exc:
            where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            _one_line(f"{exc.strerror or exc}{where}; check the path, its permissions and free space, and rerun")
            raise SystemExit(1) from None

    return wrapper
