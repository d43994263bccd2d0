"""dvc.yaml's code deps are each stage's real import closure inside lcpipe: no module a stage runs
is missing (it would not rerun when that code changes), and none it does not run is listed."""

import re
from pathlib import Path

import pytest
import yaml

from lcpipe.pipeline.code_deps import import_closure

ROOT = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_code_deps_equal_its_import_closure(name):
    stage = STAGES[name]
    script = re.search(r"python (stages/\S+\.py)", stage["cmd"]).group(1)
    listed = {d for d in stage["deps"] if isinstance(d, str) and d.startswith("lcpipe/")}
    runs = {p.as_posix() for p in _closure(script)}
    assert script in stage["deps"], f"{name}: its own script {script} is not a dep"
    assert runs - listed == set(), f"{name}: dvc.yaml misses code the stage runs"
    assert listed - runs == set(), f"{name}: dvc.yaml lists code the stage never imports"


def _closure(script: str) -> set[Path]:
    return import_closure(ROOT / script, ROOT)


def test_prepare_runs_no_forecasting_or_downstream_stage_code():
    """prepare feeds every train stage: a predictor, plot or sweep edit must not rerun it."""
    runs = {p.as_posix() for p in _closure("stages/prepare.py")}
    assert not {p for p in runs if p.startswith("lcpipe/forecasting/")}, runs
    assert "lcpipe/pipeline/stages.py" not in runs and "lcpipe/pipeline/plots.py" not in runs
