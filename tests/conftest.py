"""Fixtures: a throwaway git+DVC copy of the project, fresh or reproduced once per session
(the helpers they use live in tests/helpers.py)."""

from __future__ import annotations

import pytest

from tests.helpers import Project, copy_project, make_project


@pytest.fixture
def project(tmp_path) -> Project:
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def _reproduced_once(tmp_path_factory) -> tuple[Project, str]:
    """One full `dvc repro` of the tiny project per test session (the slow part), committed."""
    project = make_project(tmp_path_factory.mktemp("reproduced") / "project")
    output = project.dvc("repro").stdout
    project.commit("reproduced")
    return project, output


@pytest.fixture
def reproduced(_reproduced_once, tmp_path) -> Project:
    """A fresh copy of the reproduced tiny project; `first_repro` holds what that repro printed."""
    project = copy_project(_reproduced_once[0], tmp_path / "reproduced")
    project.first_repro = _reproduced_once[1]
    return project
