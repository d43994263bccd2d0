"""The DVC workflow of the README beyond what its walk-through (test_readme.py: experiments, queued
sweeps) checks, with the real CLI: metrics diff between commits, and a collaborator who pulls from a
remote instead of retraining."""

import shutil

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

    fresh = Project(tmp_path / "c")
    reproduced.run("git", "clone", "-q", str(reproduced.root), str(fresh.root))
    assert not (fresh.root / ".dvc" / "cache").exists()
    ran = executed_stages(fresh.dvc("repro", "--pull").stdout)  # restored from the remote's run-cache: fine
    assert not [s for s in ran if s.startswith("train@") or s == "prepare"], ran
    assert (fresh.root / "data" / "curves" / "plain50.csv").exists()
    shutil.rmtree(fresh.root)
