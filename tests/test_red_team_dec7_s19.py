"""Defects found in the nineteenth session (2026-12-07, night): each test fails on the code before its fix."""

from __future__ import annotations

import numpy as np
import pytest

import lcpipe
from lcpipe.errors import LcpipeError


def _curve(n: int, final: float) -> list[float]:
    t = np.arange(1, n + 1)
    return list(final - 0.6 * np.exp(-t / 8))


HISTORY = {f"h{i}": _curve(30, 0.8 + 0.01 * i) for i in range(8)}


@pytest.mark.parametrize("arg, given, says", [
    # history keys 1 and "1": two curves the results, messages and configs= all name alike (was accepted)
    ("history", {**HISTORY, 1: _curve(30, 0.9), "1": _curve(30, 0.85)}, "two history curves are named '1'"),
    # a run with a blank name: a row of results nobody can point at (was forecast, its name empty)
    ("runs", {"": _curve(10, 0.9)}, "a run is named '', a blank name"),
    ("runs", {"  ": _curve(10, 0.9)}, "a run is named '  ', a blank name"),
    ("history", {**HISTORY, "": _curve(30, 0.9)}, "a history curve is named '', a blank name"),
])
def test_names_that_read_alike_or_blank_are_one_line(arg, given, says):
    kwargs = {"history": HISTORY, "runs": {"r": _curve(10, 0.85)}, "epochs": 30, arg: given}
    with pytest.raises(LcpipeError, match=says):
        lcpipe.forecast(**kwargs)
