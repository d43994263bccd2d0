"""The training stages under the real dvc CLI: a user's folder linked where DVCLive writes keeps its files, and an
early_stop stage interrupted mid-way does not train again the archs it had finished (pipeline red team, twelfth
session's M1 and M3; each test fails on the code before its fix, 4385204)."""

import os
import signal
import subprocess
import time

import pytest

from tests.helpers import set_params
from tests.test_stop import write_history

pytestmark = pytest.mark.slow


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("linked", [".", "plots"])
def test_a_dvclive_folder_linked_to_the_users_own_keeps_every_file_when_the_train_stage_refuses_it(
        reproduced, tmp_path, linked):
    """DVC removed a train stage's DVCLive outputs (metrics.json, plots/metrics/) before running it, through a link
    the user had put at dvclive/<arch>: the files vanished from the folder outside the project before the stage
    refused the link. They are persist outputs now, and the stage refuses a link at the folder or under it (DVCLive
    clears plots/metrics when it opens) before anything is touched."""
    project = reproduced
    live = project.root / "dvclive" / "plain34"
    mine = tmp_path / "mine"
    source = live if linked == "." else live / linked
    subprocess.run(["cp", "-r", str(source), str(mine)], check=True)
    (mine / "notes.txt").write_text("mine\n")
    before = _files(mine)
    subprocess.run(["rm", "-rf", str(source)], check=True)
    source.symlink_to(mine, target_is_directory=True)

    out = project.dvc("repro", "--force", "--single-item", "train@plain34", check=False)
    assert out.returncode != 0
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: the live folder {source.relative_to(project.root)} is a symbolic link (to {mine}), "
                      "not a folder this stage writes; give the path dvc.yaml names, or remove it first"]
    assert _files(mine) == before  # metrics.json and plots/metrics/*.tsv (or the TSVs themselves) all still there


def _wait_for(path, proc, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "the stage finished before it could be killed"
        if path.exists():
            return
        time.sleep(0.005)
    raise AssertionError(f"{path} never appeared")


def test_an_early_stop_stage_killed_during_its_second_arch_replays_the_first_instead_of_training_it_again(
        reproduced):
    """DVC removes data/early_stop/ before the stage runs, so after a kill every arch the stage had finished was
    trained again from epoch 1 (red team: 50 epochs of resnet34 for nothing). A finished arch now keeps its
    checkpoint until every arch is done: the rerun replays it, and ends with the bytes an uninterrupted run writes."""
    project = reproduced
    write_history(project.root / "history", finals=(0.995, 0.994), start=0.99)  # out of reach: each stops at 5
    set_params(project.root / "params.yaml", {"stop.at": [5], "stop.history": "history"})
    project.commit("early stopping on")
    checkpoints = project.root / ".lcpipe" / "checkpoints" / "early_stop"
    dvc = str(project.env["PATH"].split(os.pathsep)[0] + "/dvc")
    proc = subprocess.Popen([dvc, "repro", "early_stop"], cwd=project.root, env=project.env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(checkpoints / "resnet50.pt", proc)  # resnet34 (the first arch) is done
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (checkpoints / "resnet34.pt").exists()

    rerun = project.dvc("repro", "early_stop")
    said = rerun.stderr + rerun.stdout
    assert "resnet34: resuming after epoch 5" in said
    assert "resnet34 epoch " not in said  # not one epoch of it trained again
    assert not list(checkpoints.glob("*.pt"))  # all done: the next run starts from scratch
    resumed = {p.name: p.read_bytes() for p in (project.root / "data" / "early_stop").iterdir()}
    summary = (project.root / "metrics" / "early_stop.json").read_bytes()

    project.dvc("repro", "--force", "--single-item", "early_stop")
    assert {p.name: p.read_bytes() for p in (project.root / "data" / "early_stop").iterdir()} == resumed
    assert (project.root / "metrics" / "early_stop.json").read_bytes() == summary
