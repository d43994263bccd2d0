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


@pytest.fixture(scope="session", autouse=True)
def _fit_cache_of_this_run(tmp_path_factory) -> None:
    """ForecastPruner keeps its fits of a history on disk (lcpipe/forecasting/fit_cache.py): in a
    folder of this test run (shared by its xdist workers), not the user's ~/.cache."""
    base = tmp_path_factory.getbasetemp()
    os.environ["LCPIPE_CACHE_DIR"] = str((base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "cache")


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


# The order pytest-xdist's worksteal scheduler starts from: the first half of the list goes to one
# worker, the second half to the other, and an idle worker steals the back half of the other's queue.
# - The README walk-through (minutes, one test) opens the first half: its worker makes the shared
#   repro (its setup) and walks the README; the rest of that half is short tests.
# - The second half opens with the other tests that take seconds to a minute (measured with
#   `pytest --durations`): first those that need no shared repro, longest first, which together take
#   longer than the repro (about 65 s) being made meanwhile, so this worker never waits for it (it
#   waited 65 s when a test copying the repro came first); then those that copy it; then its short
#   tests. One exception: the lr03 training experiment goes third, about when the repro is ready, so
#   that it has trained its two CNNs before the walk-through's lr03 asks for the same two trainings,
#   which then come from the shared run-cache instead of training again on the walk-through's worker.
#   Long tests first and short ones last is what lets the two workers finish together; a long test
#   left for the end would run alone.
README = "test_readme.py::"
LONG = (  # the tests that need no shared repro (it is being made meanwhile), then those that copy it
        "test_distributed.py::", "test_pipeline_dvc.py::test_killed_training",
        "test_train_dvc.py::test_exp_show", "test_bench.py::",
        "test_faults.py::test_a_hundred_thousand", "test_postgres.py::", "test_hpo_bench.py::test_the_generator",
        "test_sweep_decision.py::", "test_hpo_bench.py::test_hpo_quick",
        "test_train_dvc.py::test_rerunning", "test_pipeline_dvc.py::test_train_stages_write_four_curves",
        "test_dvc_workflow.py::", "test_pipeline_dvc.py::", "test_train_dvc.py::", "test_stop.py::",
        "test_stage_outputs_and_interrupts.py::test_an_early_stop",
        "test_code_caching.py::")


def pytest_collection_modifyitems(items):
    def long_rank(item) -> int:
        name = item.nodeid.removeprefix("tests/")
        return next((i for i, prefix in enumerate(LONG) if name.startswith(prefix)), len(LONG))

    readme = [item for item in items if item.nodeid.removeprefix("tests/").startswith(README)]
    long = sorted((item for item in items if long_rank(item) < len(LONG)), key=long_rank)
    short = [item for item in items if item not in readme and long_rank(item) == len(LONG)]
    first_half = len(items) // 2 - len(readme)
    items[:] = readme + short[:first_half] + long + short[first_half:]
