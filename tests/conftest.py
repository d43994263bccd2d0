"""Fixtures: a throwaway git+DVC copy of the project, fresh or reproduced once per test run and
shared by the pytest-xdist workers (the helpers they use live in tests/helpers.py)."""

from __future__ import annotations

import os
from pathlib import Path

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
def _reproduced_once(tmp_path_factory) -> tuple[Project, str, Path]:
    """One full `dvc repro` of the tiny project per test run (the slow part), committed, with the DVC
    cache it wrote. Under xdist the first worker to ask makes it and the others wait for it and share
    it (read only: tests work on copies).

    The cache is shared, as a team's is: the copies and the README walk-through's clone use it
    too, so a stage one test has run with the same code, data and params is restored from the
    run-cache in another instead of run again (`helpers.ran_stages` counts both). Tests that must see
    a stage execute use `--force`, or the `project` fixture, whose cache is its own. DVC writes cache
    objects and run-cache entries to a temporary name and renames them, so projects sharing the cache
    concurrently is safe but for a window of about a millisecond when two of them save the same
    run-cache entry at once (dvc/stage/cache.py lists the entry's folder while the other renames)."""
    xdist = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    shared = tmp_path_factory.getbasetemp().parent if xdist else tmp_path_factory.mktemp("shared")
    cache = shared / "dvc-cache"
    with FileLock(str(shared / "reproduced.lock")):
        root, printed = shared / "reproduced" / "project", shared / "reproduced.out"
        if not printed.exists():
            project = make_project(root, cache=cache)
            output = project.dvc("repro").stdout
            project.commit("reproduced")
            printed.write_text(output)
    return Project(root), printed.read_text(), cache


@pytest.fixture
def reproduced(_reproduced_once, tmp_path) -> Project:
    """A fresh copy of the reproduced tiny project; `first_repro` holds what that repro printed."""
    project = copy_project(_reproduced_once[0], tmp_path / "reproduced")
    project.first_repro = _reproduced_once[1]
    return project


# the longest tests first: with one xdist worker per core the suite lasts as long as its longest
# chain, so the README walk-through (minutes, one test) must not start last. It is first of all,
# and asks for the shared repro first: its worker makes it while the other runs the second half of
# the list (unit tests, which need none), and its `make repro` then restores from the run-cache.
FIRST = ("test_readme.py", "test_train_dvc.py", "test_dvc_workflow.py", "test_pipeline_dvc.py", "test_stop.py")


def pytest_collection_modifyitems(items):
    def rank(item) -> tuple[int, int]:
        name = item.path.name
        return (FIRST.index(name) if name in FIRST else len(FIRST), 0 if item.get_closest_marker("slow") else 1)

    items.sort(key=rank)
