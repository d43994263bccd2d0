"""The DVC workflow of the README, with the real CLI: experiments, queued sweeps, metrics diff,
and a collaborator who pulls from a remote instead of retraining."""

import json
import shutil
import time

import pytest

from tests.helpers import Project, copy_project, executed_stages, ran_stages

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reproduced(_reproduced_once, tmp_path_factory) -> Project:
    """A reproduced project (shared by this module's tests) with a local-directory remote."""
    root = tmp_path_factory.mktemp("workflow")
    project = copy_project(_reproduced_once[0], root / "a")
    project.dvc("remote", "add", "-d", "shared", str(root / "remote"))
    project.commit("remote")
    return project


def test_exp_run_with_a_new_cutoff_reruns_only_predict_and_evaluate(reproduced):
    out = reproduced.dvc("exp", "run", "-n", "cut5", "-S", "predict.cutoff=5").stdout
    assert ran_stages(out) == ["check_params", "predict", "evaluate"]
    table = reproduced.dvc("exp", "show", "--only-changed", "--csv").stdout
    assert "cut5" in table and "lstm.rmse" in table and "predict.cutoff" in table
    diff = reproduced.dvc("exp", "diff", "HEAD", "cut5").stdout
    assert "lstm.rmse" in diff and "predict.cutoff" in diff


def test_queued_cutoff_sweep_runs_every_experiment(reproduced):
    reproduced.dvc("exp", "run", "--queue", "-S", "predict.cutoff=3,6")
    reproduced.dvc("queue", "start", "-j", "2")
    deadline = time.time() + 600
    while time.time() < deadline:
        status = reproduced.dvc("queue", "status").stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(2)
    assert status.count("Success") >= 2, status
    shown = json.loads(reproduced.dvc("exp", "show", "--json").stdout)
    cutoffs = {
        exp_run["data"]["params"]["params.yaml"]["data"]["predict"]["cutoff"]
        for commit in shown for exp in (commit.get("experiments") or []) for exp_run in exp["revs"]
        if exp_run.get("data")
    }
    assert {3, 6} <= cutoffs


def test_metrics_diff_between_commits(reproduced):
    reproduced.set_params(predict__cutoff=6)
    reproduced.dvc("repro")
    diff = reproduced.dvc("metrics", "diff", "HEAD").stdout
    assert "metrics/evaluate.json" in diff and "cutoff" in diff and "lstm.rmse" in diff
    reproduced.git("checkout", "params.yaml", "metrics", "dvc.lock")
    reproduced.dvc("checkout")


def test_collaborator_pulls_instead_of_retraining(reproduced, tmp_path):
    reproduced.dvc("push", "--run-cache")
    clone = Project(tmp_path / "b")
    reproduced.run("git", "clone", "-q", str(reproduced.root), str(clone.root))
    clone.dvc("pull")
    assert "up to date" in clone.dvc("status").stdout
    assert ran_stages(clone.dvc("repro").stdout) == []
    clone.set_params(predict__cutoff=5)
    assert ran_stages(clone.dvc("repro").stdout) == ["check_params", "predict", "evaluate"]

    fresh = Project(tmp_path / "c")
    reproduced.run("git", "clone", "-q", str(reproduced.root), str(fresh.root))
    assert not (fresh.root / ".dvc" / "cache").exists()
    ran = executed_stages(fresh.dvc("repro", "--pull").stdout)  # restored from the remote's run-cache: fine
    assert not [s for s in ran if s.startswith("train@") or s == "prepare"], ran
    assert (fresh.root / "data" / "curves" / "plain50.csv").exists()
    shutil.rmtree(fresh.root)
