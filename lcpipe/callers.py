"""Where a warning points: at the user's line, not at lcpipe's. A leaf, outside every stage's code deps, so that
editing it reruns no stage."""

from __future__ import annotations

import sys


def user_stacklevel() -> int:
    """warnings.warn's stacklevel that points at the first caller outside lcpipe and Optuna (the user's line), however
    deep in lcpipe the warning is raised: a fixed level pointed into lcpipe whenever a call was split in two."""
    frame, level = sys._getframe(1), 1  # noqa: SLF001
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in ("lcpipe", "optuna"):
        frame, level = frame.f_back, level + 1
    return level
