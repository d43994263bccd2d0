"""The DVC workflow of the README beyond what its walk-through checks, with the real CLI: a
collaborator with an empty cache who runs `dvc repro --pull` instead of retraining. The walk-through
(test_readme.py) runs the README's commands and checks their claims: `dvc metrics diff HEAD~1`,
`dvc push --run-cache`, and in the collaborator's clone `dvc pull`, a `dvc repro` that runs nothing
and a cutoff experiment that reruns only predict + evaluate; its `dvc repro --pull` runs after the
pull, so the empty-cache case is here."""

import shutil

import pytest

from tests.helpers import Project, copy_project, executed_stages

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reproduced(_reproduced_once, tmp_path_factory) -> Project:
    """A reproduced project (shared by this module's tests) with a local-directory remote."""
    root = tmp_path_factory.mktemp("workflow")
    project = copy_project(_reproduced_once[0], root / "a")
    project.dvc("remote", "add", "-d", "shared", str(root / "remote"))
    project.commit("remote")
    return project


def test_collaborator_pulls_instead_of_retraining(reproduced, tmp_path):
    reproduced.dvc("push", "--run-cache")
    fresh = Project(tmp_path / "c")
    reproduced.run("git", "clone", "-q", str(reproduced.root), str(fresh.root))
    assert not (fresh.root / ".dvc" / "cache").exists()
    ran = executed_stages(fresh.dvc("repro", "--pull").stdout)  # restored from the remote's run-cache: fine
    assert not [s for s in ran if s.startswith("train@") or s == "prepare"], ran
    assert (fresh.root / "data" / "curves" / "plain50.csv").exists()
    assert "up to date" in fresh.dvc("status").stdout
    shutil.rmtree(fresh.root)
