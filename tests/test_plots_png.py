"""`python -m lcpipe.pipeline.plots_png`: a missing or failing dvc is one clear line, no traceback."""

import subprocess

import pytest

from lcpipe.errors import LcpipeError
from lcpipe.reporting import plots_png


def test_dvc_not_on_path_is_one_clear_error(monkeypatch):
    def missing(*args, **kwargs):
        raise FileNotFoundError("dvc")

    monkeypatch.setattr(subprocess, "run", missing)
    with pytest.raises(LcpipeError, match="dvc is not on PATH"):
        plots_png.specs(["show"])


def test_failing_dvc_plots_quotes_its_last_stderr_line(monkeypatch):
    failed = subprocess.CompletedProcess([], 1, stdout="", stderr="ERROR: first\nERROR: unknown revision 'xyz'\n")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(LcpipeError, match=r"failed: ERROR: unknown revision 'xyz'$"):
        plots_png.specs(["diff", "xyz"])
