"""train.devices > 1: the train stage runs through torchrun + DistributedDataParallel (gloo on
the CPU) and still writes one curve of the same shape as a one-process run, from rank 0 alone."""

import json

import pytest

from lcpipe.curve import COLUMNS
from lcpipe.forecasting.logs import read_curve
from tests.helpers import ran_stages

pytestmark = pytest.mark.slow


def test_two_process_training_writes_one_curve_like_a_single_process_run(project):
    project.set_params(train__epochs=3, train__devices=2, features__window=1, predict__cutoff=2, sweep__cutoffs=[2])
    project.commit("2 processes")
    out = project.dvc("repro", "train@plain34")
    assert "train@plain34" in ran_stages(out.stdout)
    curves = project.root / "data" / "curves"
    assert sorted(p.name for p in curves.iterdir() if p.name != ".gitignore") == ["plain34.csv", "plain34.json"]
    two = read_curve(curves / "plain34.csv")
    assert json.loads((project.root / "metrics" / "train" / "plain34.json").read_text())["processes"] == 2
    assert (out.stdout + out.stderr).count("plain34 epoch 3/3") == 1  # rank 0 alone logs

    project.set_params(train__devices=1)
    project.dvc("repro", "train@plain34")
    one = read_curve(curves / "plain34.csv")
    assert set(two.columns) == set(one.columns) == set(COLUMNS)
    assert list(two.columns["epoch"]) == list(one.columns["epoch"]) == [1, 2, 3]


def test_the_early_stop_stage_trains_every_arch_in_two_processes(project):
    """The early_stop stage trains its archs one after another in one torchrun job: rank 1 read a curve that rank 0
    had not written yet (`cannot read (FileNotFoundError)`), and a process group set up again for the second arch
    hung both ranks (review). Each arch now stops where the rule says, in both processes, and rank 0 reports."""
    from tests.test_stop import write_history

    write_history(project.root / "history", finals=(0.995, 0.994), start=0.99, epochs=3)
    project.set_params(train__epochs=3, train__devices=2, train__archs=["plain34", "resnet34"],
                       predict__target="plain34",
                       features__window=1, predict__cutoff=2, sweep__cutoffs=[2],  # params valid for 3 epochs
                       stop__at=[2], stop__history="history", stop__threshold=0.99)
    project.commit("early stopping, 2 processes")
    out = project.dvc("repro", "early_stop")
    assert "early_stop" in ran_stages(out.stdout)
    summary = json.loads((project.root / "metrics" / "early_stop.json").read_text())
    assert summary["runs"] == {arch: {"epochs_trained": 2, "epochs_planned": 3, "stopped": True}
                               for arch in ("plain34", "resnet34")}
    assert (out.stdout + out.stderr).count("resnet34 stop check at epoch 2") == 1  # rank 0 alone says it
    assert not list((project.root / ".lcpipe" / "checkpoints" / "early_stop").glob("*.pt"))


def test_torchrun_workers_end_with_their_launcher_when_it_is_killed(tmp_path):
    """torchrun starts its workers in sessions of their own: a SIGKILL of the stage's process group (`kill -9`, the
    OOM killer, a CI timeout) left both training on, and they finished early_stop's archs, wrote its outputs and
    removed its checkpoints after DVC had died, racing the rerun (review). A worker now dies with its launcher."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.helpers import ROOT

    worker = tmp_path / "worker.py"
    worker.write_text("import os, sys, time\n"
                      "from lcpipe.training.run import _init_dist\n"
                      "_init_dist()\n"
                      "open(os.path.join(sys.argv[1], f'{os.getpid()}.up'), 'w').close()\n"
                      "time.sleep(300)\n")
    up = tmp_path / "up"
    up.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    launcher = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                                 str(worker), str(up)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.time() + 120
        while len(workers) < 2 and time.time() < deadline:
            assert launcher.poll() is None, "torchrun ended before its workers were up"
            workers = [int(p.stem) for p in up.glob("*.up")]
            time.sleep(0.1)
        assert len(workers) == 2, "the workers never came up"
        launcher.send_signal(signal.SIGKILL)
        launcher.wait()
        deadline = time.time() + 20
        while time.time() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)]
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie reaped by init counts as gone once reaped)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
