"""Fifth 2026-12-06 session: each test fails on the code before its fix (35ed85c)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lcpipe.config import Params
from lcpipe.errors import LcpipeError
from lcpipe.pipeline.params_check import check_paths


def _percent_history(folder):
    folder.mkdir()
    for i in range(3):
        rows = "".join(f"{e},{40 + e + i}\n" for e in range(1, 51))
        (folder / f"r{i}.csv").write_text("epoch,test_acc\n" + rows)
    return folder


@pytest.mark.parametrize("section", ["stop", "sweep"])
def test_a_pipeline_history_in_percent_is_told_to_divide_not_to_give_a_kind_it_has_no_key_for(tmp_path, section):
    """A history logged in percent: the CLI's advice names --kind (and kind= in Python), which params.yaml has no
    key for; in the pipeline the kind follows features.metric (early_stop reads test_acc), so the line says what
    to do there: divide the column by 100."""
    history = str(_percent_history(tmp_path / "pct"))
    p = Params()
    p = replace(p, stop=replace(p.stop, at=[5], history=history)) if section == "stop" else \
        replace(p, sweep=replace(p.sweep, history=history))
    with pytest.raises(LcpipeError) as caught:
        check_paths(p)
    message = str(caught.value)
    assert message.startswith(f"{section}.history: ") and "r0.csv" in message and "divide it by 100" in message
    assert "--kind" not in message and "kind=" not in message and "\n" not in message
