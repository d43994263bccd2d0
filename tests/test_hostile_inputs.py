"""Hostile inputs to `lcpipe forecast` / `lcpipe evaluate`: outputs that are not regular files or are
inputs, leftovers of killed writes, quiet wrong answers, misleading messages, sizes without bounds and
a figure of thousands of runs. Each gives one line `error: ...`, a non-zero exit and loses nothing.

Only paths under tmp_path are created; /proc and /sys are passed as arguments the CLI must refuse
before writing anything."""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lcpipe import cli as cli_module
from lcpipe.atomic import atomic_path, kind_of
from lcpipe.cli import main as cli
from lcpipe.curve import MAX_EPOCHS
from lcpipe.forecasting.live import RunForecast
from lcpipe.forecasting.predictors.base import Forecast
from tests.helpers import ROOT, curve_csv, learning_curve

PREDICTOR = "last_value"  # the fastest: these tests are about inputs and outputs, not forecasts


def run(capsys, *args) -> tuple[int, str, str]:
    """The real CLI in-process: (exit code, stdout, stderr)."""
    try:
        cli([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *args, match: str) -> str:
    """Run the CLI, assert one `error:` line containing `match`, exit 2 and nothing on stdout."""
    code, out, err = run(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(("error: ", "lcpipe")), (code, err)
    assert "Traceback" not in err and match in lines[0], lines
    assert not out
    return lines[0]


def snapshot(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under root with its type and (for regular files) bytes: to prove nothing changed."""
    snap = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        snap[str(p.relative_to(root))] = (stat.S_IFMT(st.st_mode), p.read_bytes() if stat.S_ISREG(st.st_mode) else None)
    return snap


@pytest.fixture
def study(tmp_path, monkeypatch) -> Path:
    """history/: 3 finished 30-epoch curves; runs/: 2 runs at epoch 10 of 30."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "history").mkdir()
    for i in range(3):
        (tmp_path / "history" / f"old{i}.csv").write_text(curve_csv(learning_curve(30, final=0.8 + 0.05 * i, seed=i)))
    (tmp_path / "runs").mkdir()
    for i, final in enumerate((0.9, 0.6)):
        (tmp_path / "runs" / f"r{i}.csv").write_text(
            curve_csv(learning_curve(30, final=final, noise=0.002, seed=10 + i)[:10]))
    return tmp_path


def forecast(*extra) -> list[str]:
    return ["forecast", "--history", "history", "--runs", "runs", "--epochs", 30, "--predictor", PREDICTOR, *extra]


def test_the_study_forecasts(study, capsys):
    code, out, err = run(capsys, *forecast("--out", "f.json"))
    assert code == 0, err
    assert {r["run"] for r in json.loads((study / "f.json").read_text())["runs"]} == {"r0", "r1"}


# 1. outputs that are not regular files, kernel file systems, no partial writes -----------------------------

def _fifo(p: Path) -> None:
    os.mkfifo(p)


def _socket(p: Path) -> None:  # a non-regular file like a device node, which needs no privilege to make
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(p))
    s.close()


def _symlink(p: Path) -> None:
    (p.parent / "real.json").write_text("{}\n")
    p.symlink_to(p.parent / "real.json")


def _dangling(p: Path) -> None:
    p.symlink_to(p.parent / "nowhere.json")


@pytest.mark.parametrize("make, words", [(_fifo, "is a FIFO (named pipe), not a regular file"),
                                         (_socket, "is a socket, not a regular file"),
                                         (_symlink, "is a symbolic link"), (_dangling, "is a symbolic link")])
@pytest.mark.parametrize("flag, name", [("--out", "o.json"), ("--plot", "o.png")])
def test_an_output_that_is_not_a_regular_file_is_refused_and_kept(study, capsys, make, words, flag, name):
    out = Path("o")  # a short folder: a socket's path must fit in 108 bytes
    out.mkdir()
    make(out / name)
    before = snapshot(study)
    refused(capsys, *forecast(flag, out / name), match=f"{flag} o/{name} {words}")
    assert snapshot(study) == before  # the FIFO is still a FIFO, the link still a link, nothing new


def test_an_output_in_a_looping_folder_is_refused(study, capsys):
    Path("loop").symlink_to("loop")
    refused(capsys, *forecast("--out", "loop/f.json", "--plot", "loop/f.png"),
            match="--out loop/f.json: its folder")


def test_a_character_device_is_named_as_one():
    assert kind_of(stat.S_IFCHR | 0o666) == "a character device"
    assert kind_of(stat.S_IFBLK | 0o666) == "a block device"


@pytest.mark.parametrize("args, match", [
    (["--out", "/proc/nope/x.json"], "--out /proc/nope/x.json is under /proc"),
    (["--out", "ok.json", "--plot", "/sys/kernel/x.png"], "--plot /sys/kernel/x.png is under /sys"),
    (["--plot", "/proc/self/x.png"], "--plot /proc/self/x.png is under /proc"),
])
def test_kernel_file_systems_are_refused_before_any_work_and_nothing_is_written(study, capsys, monkeypatch,
                                                                                args, match):
    def no_work(*_a, **_k):
        raise AssertionError("read curves before checking the outputs")

    monkeypatch.setattr(cli_module, "read_curves", no_work)
    before = snapshot(study)
    refused(capsys, *forecast(*args), match=match)
    assert snapshot(study) == before  # ok.json was not written either


def test_an_unwritable_out_is_one_line_from_the_real_command(study):
    proc = subprocess.run([sys.executable, "-m", "lcpipe", *map(str, forecast("--out", "/proc/nope/x.json"))],
                          cwd=study, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and not proc.stdout, proc.stderr
    assert proc.stderr.splitlines() == ["error: --out /proc/nope/x.json is under /proc, a kernel file system, not a "
                                        "place for results; write it elsewhere"]


def test_evaluate_refuses_a_kernel_file_system_before_any_work(study, capsys, monkeypatch):
    monkeypatch.setattr(cli_module, "read_curve_dir", lambda *_: (_ for _ in ()).throw(AssertionError("work")))
    refused(capsys, "evaluate", "--curves", "history", "--cutoffs", "5", "--out", "/sys/x.json",
            match="--out /sys/x.json is under /sys")


def test_a_failed_figure_leaves_no_new_json(study, capsys, monkeypatch):
    import lcpipe.reporting.live_figure as fig

    def broken(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fig, "draw_live_figure", broken)
    code, _, err = run(capsys, *forecast("--out", "f.json", "--plot", "f.png"))
    errors = [line for line in err.splitlines() if not line.startswith(("config: ", "metric: ", "note: "))]  # info
    assert code == 1 and len(errors) == 1 and "No space left on device" in err
    assert not (study / "f.json").exists() and not list(study.glob(".f.*"))


# 2. outputs that are inputs ------------------------------------------------------------------------------

def test_evaluate_refuses_to_overwrite_its_params(study, capsys):
    (study / "p.yaml").write_text("features:\n  window: 2\n")
    before = snapshot(study)
    refused(capsys, "evaluate", "--curves", "history", "--cutoffs", "5", "--params", "p.yaml", "--out", "p.yaml",
            match="would overwrite the input")
    assert snapshot(study) == before


@pytest.mark.parametrize("with_sidecar", [False, True])
def test_forecast_refuses_to_overwrite_a_runs_or_a_history_curves_sidecar(study, capsys, with_sidecar):
    if with_sidecar:
        (study / "runs" / "r0.json").write_text('{"epochs": 30}')
        (study / "history" / "old0.json").write_text('{"epochs": 30}')
    before = snapshot(study)
    refused(capsys, "forecast", "--history", "history", "--runs", "runs/r0.csv", "--epochs", 30,
            "--out", "runs/r0.json", match="the own file (sidecar) of the input runs/r0.csv")
    refused(capsys, "forecast", "--history", "history/old0.csv", "history/old1.csv", "--runs", "runs",
            "--epochs", 30, "--out", "history/old1.json", match="sidecar) of the input history/old1.csv")
    assert snapshot(study) == before


# 3. temp files of killed writes --------------------------------------------------------------------------

def test_temp_files_of_a_killed_write_are_cleaned_by_the_next_write(study, capsys):
    killed = ("import os, signal, sys\nfrom lcpipe.atomic import atomic_path\n"
              "with atomic_path(sys.argv[1]) as tmp:\n    tmp.write_text('half')\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n")
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", killed, str(study / "f.json")],
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
        assert proc.returncode == -9
        assert len(list(study.glob(".f.json.*.tmp"))) == 1  # what a kill leaves; the next kill's write cleaned it
    old = study / ".f.json.abcdefgh.tmp"  # an older lcpipe's name: no pid, removed once an hour old
    old.write_text("x")
    os.utime(old, (time.time() - 7200,) * 2)
    keep = [study / ".f.json.zzzzzzzz.tmp",  # fresh, no pid: may be a live write
            study / f".f.json.{os.getppid()}-abcdefgh.tmp",  # a live process's
            study / ".g.json.99999999-abcdefgh.tmp",  # another target's
            study / ".f.json.99999999-abcdefgh.tmp.bak"]  # not our pattern
    for p in keep:
        p.write_text("x")
    (study / ".f.json.99999998-abcdefgh.tmp").mkdir()  # not a regular file
    code, _, err = run(capsys, *forecast("--out", "f.json"))
    assert code == 0, err
    left = sorted(p.name for p in study.glob(".*.tmp*"))
    assert left == sorted([p.name for p in keep] + [".f.json.99999998-abcdefgh.tmp"])
    assert json.loads((study / "f.json").read_text())["runs"]


def test_a_write_leaves_no_temp_file(tmp_path):
    with atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("a")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("b")
        raise RuntimeError
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"] and (tmp_path / "a.txt").read_text() == "a"


# 4. quiet wrong answers ----------------------------------------------------------------------------------

def test_two_curves_with_one_name_in_a_folder_are_refused(study, capsys):
    (study / "runs" / "r0.CSV").write_text((study / "runs" / "r1.csv").read_text())
    refused(capsys, *forecast(), match="runs: r0.CSV and r0.csv are two curves with one name 'r0'")


@pytest.mark.parametrize("history", [["history", "history"], ["history", "history/old1.csv"],
                                     ["history/old0.csv", "./history/../history/old0.csv", "history/old1.csv"]])
def test_a_history_curve_given_twice_is_refused(study, capsys, history):
    refused(capsys, "forecast", "--history", *history, "--runs", "runs", "--epochs", 30, match="is given twice")


def test_a_copy_of_a_run_in_the_history_is_refused(study, capsys):
    (study / "history" / "copy.csv").write_bytes((study / "runs" / "r1.csv").read_bytes())
    refused(capsys, *forecast(), match="history curve history/copy.csv is a copy of it")
    (study / "history" / "copy.csv").unlink()
    (study / "curves").mkdir()
    (study / "curves" / "c.csv").write_text(curve_csv(learning_curve(30, final=0.7, seed=5)))
    (study / "history" / "c_again.csv").write_bytes((study / "curves" / "c.csv").read_bytes())
    refused(capsys, "evaluate", "--curves", "curves", "--history", "history", "--cutoffs", "5",
            "--predictors", PREDICTOR, "--out", "e.json", match="is a copy of it")


def test_a_history_too_small_to_learn_intervals_from_is_refused(study, capsys):
    refused(capsys, "forecast", "--history", "history/old0.csv", "--runs", "runs", "--epochs", 30,
            match="the history holds 1 curve (history/old0.csv)")
    (study / "short").mkdir()
    (study / "short" / "a.csv").write_text(curve_csv(learning_curve(30)))
    (study / "short" / "b.csv").write_text(curve_csv(learning_curve(2)))
    refused(capsys, "forecast", "--history", "short", "--runs", "runs", "--epochs", 30,
            match="short/b.csv: 2 epoch(s); a history curve needs at least 3")
    (study / "curves").mkdir()
    (study / "curves" / "c.csv").write_text(curve_csv(learning_curve(30, final=0.7, seed=5)))
    refused(capsys, "evaluate", "--curves", "curves", "--history", "history/old0.csv", "--cutoffs", "5",
            "--out", "e.json", match="the history holds 1 curve")


def test_the_json_gives_each_runs_own_planned_length(study, capsys):
    (study / "runs" / "r0.json").write_text('{"epochs": 20}')
    code, _, err = run(capsys, *forecast("--out", "f.json"))
    assert code == 0, err
    report = json.loads((study / "f.json").read_text())
    assert report["epochs"] == 30
    assert {r["run"]: (r["epochs"], len(r["forecast"])) for r in report["runs"]} == {"r0": (20, 10), "r1": (30, 20)}


# 5. messages ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("epochs", ["²", "٣", "0", "-3", "1e3", "x", str(MAX_EPOCHS + 1), "1000000000"])
def test_epochs_must_be_a_positive_whole_number_in_range(study, capsys, epochs):
    line = refused(capsys, "forecast", "--history", "history", "--runs", "runs", "--epochs", epochs,
                   match="--epochs must be a positive whole number")
    assert "_positive" not in line


def test_a_fifo_or_a_symlink_loop_as_a_curve_path_says_what_it_is(study, capsys):
    os.mkfifo(study / "pipe.csv")
    refused(capsys, "forecast", "--history", "history", "--runs", "pipe.csv", "--epochs", 30,
            match="pipe.csv is a FIFO (named pipe), not a curve file")
    (study / "loop.csv").symlink_to(study / "loop.csv")
    refused(capsys, "forecast", "--history", "history", "--runs", "loop.csv", "--epochs", 30, "--out", "f.json",
            match="loop.csv: a symbolic link loop")
    (study / "gone.csv").symlink_to(study / "nowhere.csv")
    refused(capsys, "forecast", "--history", "history", "--runs", "gone.csv", "--epochs", 30,
            match="gone.csv: a broken symbolic link")
    os.rename(study / "pipe.csv", study / "runs" / "pipe.csv")  # inside a folder: refused, not skipped
    refused(capsys, *forecast(), match="pipe.csv is a FIFO (named pipe)")


@pytest.mark.parametrize("header", ["Test Acc", "TEST_ACC", "test acc", "Test_Acc", "TestAcc"])
def test_a_metric_header_matches_whatever_its_case_spaces_and_underscores(study, capsys, header):
    acc = learning_curve(30, final=0.75, seed=7)[:10]
    (study / "runs" / "ext.csv").write_text(f"Epoch,Train Err,{header}\n" +
                                            "".join(f"{e},0.5,{a}\n" for e, a in enumerate(acc, 1)))
    code, _, err = run(capsys, *forecast("--out", "f.json"))
    assert code == 0, err
    assert "ext" in {r["run"] for r in json.loads((study / "f.json").read_text())["runs"]}


def test_an_unterminated_quote_is_reported_where_it_starts(study, capsys):
    (study / "p.yaml").write_text('features:\n  window: 2\npoly:\n  degree: "2\n  x: 1\n  y: 2\n')
    line = refused(capsys, "evaluate", "--curves", "history", "--cutoffs", "5", "--params", "p.yaml",
                   "--out", "e.json", match="p.yaml: line 4: not valid YAML")
    assert "quoted scalar" in line


# 6. sizes without bounds, unreadable things, a full stdout -----------------------------------------------

def test_a_huge_planned_length_in_a_sidecar_is_refused(study, capsys):
    (study / "runs" / "r0.json").write_text('{"epochs": 100000000000}')
    refused(capsys, *forecast(), match=f"epochs 100000000000 is not a whole number of epochs in 1..{MAX_EPOCHS}")


def test_a_csv_field_over_the_csv_modules_limit_is_one_line(study, capsys):
    (study / "runs" / "r0.csv").write_text("epoch,test_acc,note\n1,0.5,\"" + "x" * 140_000 + "\"\n2,0.6,a\n")
    refused(capsys, *forecast(), match="runs/r0.csv: line 2: field larger than field limit")


def test_an_unreadable_folder_is_one_line(study, capsys, monkeypatch):
    real = Path.iterdir

    def denied(self):
        if self.name == "history":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", denied)  # what chmod 000 does, also where root could read it
    refused(capsys, *forecast(), match="history: cannot list it (Permission denied)")


def test_an_unreadable_subfolder_is_one_line(study, capsys, monkeypatch):
    import lcpipe.forecasting.logs as logs

    real = logs.is_dvclive

    def denied(folder):
        if folder.name == "sub":
            raise PermissionError(errno.EACCES, "Permission denied", str(folder / "plots"))
        return real(folder)

    (study / "history" / "sub").mkdir()
    monkeypatch.setattr(logs, "is_dvclive", denied)  # what stat() of sub/plots does when sub is chmod 000
    refused(capsys, *forecast(), match="history/sub: cannot look into it (Permission denied)")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 folder")
@pytest.mark.parametrize("which", ["history", "history/sub"])
def test_a_chmod_000_folder_is_one_line(study, capsys, which):
    folder = study / which
    folder.mkdir(exist_ok=True)
    folder.chmod(0)
    try:
        refused(capsys, *forecast(), match="Permission denied")
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("make, match", [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(bytes(range(256)) * 4), "cannot read it as YAML text (UnicodeDecodeError)"),
    (lambda p: p.write_bytes(b"features:\n  window: 2\x00\x01\n"), "not valid YAML"),
    (lambda p: os.mkfifo(p), "is not a regular file"),
])
def test_params_that_are_not_a_yaml_file_are_one_line(study, capsys, make, match):
    make(study / "p.yaml")
    refused(capsys, "evaluate", "--curves", "history", "--cutoffs", "5", "--params", "p.yaml", "--out", "e.json",
            match=match)


class FullDevice:
    """A stdout on a full disk: every write fails with ENOSPC."""

    def write(self, _text):
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_stdout_is_one_line_and_the_json_is_kept(study, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdout", FullDevice())
    try:
        cli([str(a) for a in forecast("--out", "f.json")])
        code = 0
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if not line.startswith(("config: ", "metric: ", "note: "))]  # info
    assert code == 2 and len(errors) == 1, err
    assert "cannot write the results to stdout (No space left on device)" in err
    assert json.loads((study / "f.json").read_text())["runs"]  # lost nothing


# 7. a figure of thousands of runs ------------------------------------------------------------------------

def _runs(n: int) -> list[RunForecast]:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(n))
    out = []
    for i in range(n):
        obs = learning_curve(30, final=0.5 + 0.4 * rng.random(), seed=i)[:10]
        mean = np.full(20, obs[-1])
        out.append(RunForecast(f"r{i}", obs, 30, Forecast(mean, mean - 0.05, mean + 0.05), float(p[i]),
                               "keep" if p[i] > 1 / n else "stop"))
    return out


def test_the_live_figure_draws_a_bounded_number_of_runs(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    import lcpipe.reporting.live_figure as fig

    drawn = {}
    monkeypatch.setattr(fig.plt, "close", lambda f: drawn.setdefault("fig", f))
    results = _runs(400)
    start = time.perf_counter()
    fig.live_figure(tmp_path / "f.png", results, "test_acc", "auto")
    elapsed = time.perf_counter() - start
    ax = drawn["fig"].axes[0]
    labels = {line.get_label().split()[0] for line in ax.lines if not line.get_label().startswith("_")}
    top = {r.run for r in sorted(results, key=lambda r: -r.p_best)[:fig.DRAW_MAX]}
    assert labels == top and len(ax.lines) == 2 * fig.DRAW_MAX
    assert f"the {fig.DRAW_MAX} of 400 runs most likely to end best" in ax.get_title()
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert elapsed < 30  # drawing all 400 took about 6 s, 5,000 over a minute
    plt.close(drawn["fig"])
