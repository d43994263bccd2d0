"""User-facing errors: one line that says what is wrong and how to fix it, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable


class LcpipeError(Exception):
    """An input problem the user can fix (bad param, bad file); printed as one line."""


def exits_cleanly(main: Callable[..., None]) -> Callable[..., None]:
    """Wrap a command's entry point: an LcpipeError becomes `error: ...` on stderr and exit 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except LcpipeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise SystemExit(130) from None

    return wrapper
