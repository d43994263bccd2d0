"""Fixtures: a throwaway git+DVC copy of the project, fresh or reproduced once per test run and
shared by the pytest-xdist workers (the helpers they use live in tests/helpers.py)."""

from __future__ import annotations

import os

import pytest
from filelock import FileLock

from tests.helpers import Project, copy_project, make_project

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one worker per core: torch (here and in the dvc stages the tests start,
    # which inherit this) with one thread each, or two workers' threads preempt each other
    os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def project(tmp_path) -> Project:
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def _reproduced_once(tmp_path_factory) -> tuple[Project, str]:
    """One full `dvc repro` of the tiny project per test run (the slow part), committed. Under
    xdist the first worker to ask makes it and the others wait for it and share it (read only:
    tests work on copies)."""
    xdist = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    shared = tmp_path_factory.getbasetemp().parent if xdist else tmp_path_factory.mktemp("shared")
    with FileLock(str(shared / "reproduced.lock")):
        root, printed = shared / "reproduced" / "project", shared / "reproduced.out"
        if not printed.exists():
            project = make_project(root)
            output = project.dvc("repro").stdout
            project.commit("reproduced")
            printed.write_text(output)
    return Project(root), printed.read_text()


@pytest.fixture
def reproduced(_reproduced_once, tmp_path) -> Project:
    """A fresh copy of the reproduced tiny project; `first_repro` holds what that repro printed."""
    project = copy_project(_reproduced_once[0], tmp_path / "reproduced")
    project.first_repro = _reproduced_once[1]
    return project


# the longest tests first: with one xdist worker per core the suite lasts as long as its longest
# chain, so the README walk-through (minutes, one test) must not start last
FIRST = ("test_readme.py", "test_train_dvc.py", "test_dvc_workflow.py", "test_pipeline_dvc.py", "test_stop.py")


def pytest_collection_modifyitems(items):
    def rank(item) -> tuple[int, int]:
        name = item.path.name
        return (FIRST.index(name) if name in FIRST else len(FIRST), 0 if item.get_closest_marker("slow") else 1)

    items.sort(key=rank)
