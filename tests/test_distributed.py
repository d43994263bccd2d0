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
