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


def test_show_leaves_no_image_of_a_plot_it_no_longer_draws(tmp_path, monkeypatch):
    """Red team (pipeline pass): PNGs of plots that are gone (a dropped arch, a revision not asked for) stayed in
    dvc_plots/png/ beside the fresh ones, as if current. Only the folder's own regular PNGs are removed; a link
    the user put there stays. Real git, DVC and vl-convert on a one-plot project."""
    import shutil
    import sys
    from pathlib import Path

    pytest.importorskip("vl_convert")
    dvc = shutil.which("dvc") or str(Path(sys.executable).parent / "dvc")
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run([dvc, "init", "-q"], check=True)
    Path("acc.csv").write_text("epoch,acc\n1,0.5\n2,0.7\n3,0.8\n")
    Path("dvc.yaml").write_text("plots:\n  - acc.csv:\n      x: epoch\n      y: acc\n")
    monkeypatch.setenv("PATH", f"{Path(dvc).parent}:{subprocess.os.environ['PATH']}")
    png = tmp_path / "dvc_plots" / "png"
    png.mkdir(parents=True)
    (png / "gone_arch_csv.png").write_bytes(b"\x89PNG old")
    (tmp_path / "mine.png").write_bytes(b"\x89PNG mine")
    (png / "linked.png").symlink_to(tmp_path / "mine.png")
    plots_png.main(["show"])
    assert sorted(p.name for p in png.iterdir()) == ["acc.csv.png", "linked.png"]
    assert (png / "acc.csv.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "mine.png").exists()
