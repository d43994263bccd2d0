"""dvc.yaml's code deps are each stage's real import closure inside lcpipe: no module a stage runs
is left uncovered (it would not rerun when that code changes), and no listed file or folder holds
none of it (an edit there would rerun the stage for nothing). Folders may stand for their files."""

import re
from pathlib import Path

import pytest
import yaml

from lcpipe.pipeline.code_deps import covered, import_closure

ROOT = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _closure(script: str) -> set[str]:
    return {p.as_posix() for p in import_closure(ROOT / script, ROOT)}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_code_deps_cover_exactly_its_import_closure(name):
    stage = STAGES[name]
    script = re.search(r"python (stages/\S+\.py)", stage["cmd"]).group(1)
    listed = [d for d in stage["deps"] if isinstance(d, str) and d.startswith("lcpipe")]
    missing, unused = covered(_closure(script), listed)
    assert script in stage["deps"], f"{name}: its own script {script} is not a dep"
    assert missing == set(), f"{name}: dvc.yaml misses code the stage runs"
    assert unused == set(), f"{name}: dvc.yaml lists code the stage never imports"


def test_dvc_yaml_fits_on_a_few_screens():
    assert len((ROOT / "dvc.yaml").read_text().splitlines()) <= 250


def test_training_imports_no_forecasting_code():
    """train feeds every stage: a predictor, plot or sweep edit must not retrain a CNN."""
    for script in ("stages/train.py", "stages/prepare.py"):
        runs = _closure(script)
        assert not {p for p in runs if p.startswith(("lcpipe/forecasting/", "lcpipe/reporting/"))}, runs


def test_only_drawing_stages_import_reporting_figures():
    scripts = {name: re.search(r"python (stages/\S+\.py)", stage["cmd"]).group(1) for name, stage in STAGES.items()}
    drawing = {name for name, script in scripts.items() if "lcpipe/reporting/figures.py" in _closure(script)}
    assert drawing == {"curve_figures", "evaluate", "sweep"}


def test_windows_and_fit_run_no_predictor_but_the_lstm():
    assert not {p for p in _closure("stages/windows.py") if "predictors/" in p}
    fit_predictors = {p for p in _closure("stages/fit.py") if "predictors/" in p}
    assert fit_predictors == {"lcpipe/forecasting/predictors/lstm.py", "lcpipe/forecasting/predictors/base.py"}
