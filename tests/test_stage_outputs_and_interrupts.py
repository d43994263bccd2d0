"""The training stages under the real dvc CLI: a user's folder linked where DVCLive writes keeps its files, a training
is restored from DVC's run-cache, and an early_stop stage interrupted mid-way does not train again the archs it had
finished (pipeline red team, twelfth session's M1 and M3, and the review of their first fix; the link and interrupt
tests fail on the code before the fix, 4385204, the run-cache one on d223248)."""

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


@pytest.mark.parametrize("linked", ["dvclive/plain34", "dvclive/plain34/plots", "dvclive"])
def test_a_dvclive_folder_linked_to_the_users_own_is_refused_before_dvc_deletes_a_file_through_it(
        reproduced, tmp_path, linked):
    """DVC removes a train stage's DVCLive outputs (metrics.json, plots/metrics/) before running it, through a link
    the user had put at dvclive/<arch>: the files vanished from the folder outside the project before the stage
    refused the link. check_params, which runs first whenever params.yaml changes, refuses a link at the folder, at
    dvclive itself or under it (DVCLive clears plots/metrics when it opens) in one line, and nothing is touched."""
    project = reproduced
    mine = tmp_path / "mine"
    source = project.root / linked
    subprocess.run(["cp", "-r", str(source), str(mine)], check=True)
    (mine / "notes.txt").write_text("mine\n")
    before = _files(mine)
    subprocess.run(["rm", "-rf", str(source)], check=True)
    source.symlink_to(mine, target_is_directory=True)
    project.set_params(train__lr=0.03)

    out = project.dvc("repro", check=False)
    assert out.returncode != 0
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: {linked} is a symbolic link (to {mine}): DVC deletes the train stages' DVCLive files "
                      "there, through it, the next time it trains an arch; move what is yours out of it and remove it "
                      "(`git checkout dvclive` restores the logs)"]
    assert _files(mine) == before  # metrics.json and plots/metrics/*.tsv (or the TSVs themselves) all still there


def test_a_training_run_once_is_restored_from_dvcs_run_cache_not_trained_again(reproduced):
    """The train stages keep DVC's run-cache, which restores a training of params already run instead of running it
    (a GPU-day at paper scale; `dvc push --run-cache` shares it). DVC saves no run-cache entry for a stage with a
    persist output (review: making the DVCLive logs persist, to spare a linked folder, turned it off silently)."""
    project = reproduced
    project.set_params(train__lr=0.03)
    assert "Running stage 'train@plain34'" in project.dvc("repro", "train@plain34").stdout
    project.set_params(train__lr=0.02)  # back to the reproduced project's
    again = project.dvc("repro", "train@plain34").stdout
    assert "Stage 'train@plain34' is cached - skipping run" in again and "Running stage 'train@plain34'" not in again


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
    # two archs of the four, the target among them: what is tested is the first finished before the second was killed
    set_params(project.root / "params.yaml", {"stop.at": [5], "stop.history": "history",
                                              "train.archs": ["resnet34", "plain50"]})
    project.commit("early stopping on")
    checkpoints = project.root / ".lcpipe" / "checkpoints" / "early_stop"
    dvc = str(project.env["PATH"].split(os.pathsep)[0] + "/dvc")
    proc = subprocess.Popen([dvc, "repro", "early_stop"], cwd=project.root, env=project.env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(checkpoints / "plain50.pt", proc)  # resnet34 (the first arch) is done
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


def test_checkpoints_kept_for_a_rerun_go_once_the_stage_completes_even_turned_off(tmp_path):
    """Review: a finished arch's kept checkpoint stayed for good when the rerun that followed the interruption had
    turned early stopping off (stop.at: []) or dropped that arch from train.archs; at full scale each holds a
    model and its optimizer state. The stage's own checkpoint folder is emptied of its *.pt files whenever the
    stage completes; a link there is not followed."""
    from lcpipe.config import Params
    from lcpipe.pipeline.early_stop import early_stop

    ck = tmp_path / "ck"
    ck.mkdir()
    for arch in ("resnet34", "dropped_arch"):
        (ck / f"{arch}.pt").write_bytes(b"state")
    elsewhere = tmp_path / "theirs.pt"
    elsewhere.write_bytes(b"not ours")
    (ck / "linked.pt").symlink_to(elsewhere)
    summary = early_stop(Params(), tmp_path, tmp_path / "out", ck, tmp_path / "live", tmp_path / "t",
                         tmp_path / "s.json")
    assert summary["enabled"] is False
    assert sorted(p.name for p in ck.iterdir()) == ["linked.pt"] and elsewhere.read_bytes() == b"not ours"
