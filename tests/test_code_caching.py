"""A code edit reruns only the stages that run that code, measured with the real `dvc status` on a
reproduced tiny project: what DVC would rerun after each edit, and nothing more."""

import json

import pytest

pytestmark = pytest.mark.slow

TRAIN = {"train@resnet34", "train@resnet50", "train@plain34", "train@plain50"}


def stale(project) -> set[str]:
    """Stages `dvc repro` would rerun now."""
    return set(json.loads(project.dvc("status", "--json").stdout or "{}"))


def edit(project, path: str, line: str = "\n# an edit\n") -> None:
    with open(project.root / path, "a") as fh:
        fh.write(line)


def test_a_reproduced_project_is_up_to_date(reproduced):
    assert stale(reproduced) == set()


def test_editing_a_plotting_module_reruns_only_the_stages_that_draw(reproduced):
    edit(reproduced, "lcpipe/reporting/figures.py")
    assert stale(reproduced) == {"curve_figures", "evaluate", "sweep"}


def test_editing_auto_or_any_predictor_but_the_lstm_reruns_neither_windows_nor_fit(reproduced):
    for module in ("auto", "poly", "parametric", "last_value", "source_shift"):
        edit(reproduced, f"lcpipe/forecasting/predictors/{module}.py")
    changed = stale(reproduced)
    assert not changed & {"windows", "fit", "prepare", *TRAIN}, changed
    assert {"predict", "sweep"} <= changed


def test_adding_a_predictor_to_the_registry_retrains_no_cnn(reproduced):
    (reproduced.root / "lcpipe/forecasting/predictors/flat.py").write_text(
        "from lcpipe.forecasting.predictors.last_value import LastValue\n\n\n"
        "class Flat(LastValue):\n    name = 'flat'\n")
    registry = reproduced.root / "lcpipe/forecasting/registry.py"
    registry.write_text(registry.read_text().replace(
        '    "auto": "lcpipe.forecasting.predictors.auto.Auto",\n',
        '    "auto": "lcpipe.forecasting.predictors.auto.Auto",\n'
        '    "flat": "lcpipe.forecasting.predictors.flat.Flat",\n'))
    changed = stale(reproduced)
    assert not changed & {"prepare", "windows", "fit", *TRAIN}, changed


def test_with_stop_at_empty_editing_forecasting_code_retrains_no_cnn(reproduced):
    for module in ("stop_rule", "logs", "run_stopper", "backtest", "features"):
        edit(reproduced, f"lcpipe/forecasting/{module}.py")
    changed = stale(reproduced)
    assert not changed & {"prepare", *TRAIN}, changed
    assert "early_stop" in changed  # it reruns, but trains nothing while stop.at is empty
    reproduced.dvc("repro", "early_stop")
    summary = json.loads((reproduced.root / "metrics" / "early_stop.json").read_text())
    assert summary == {"enabled": False, "at": [], "runs": {}}


def test_editing_training_code_retrains_and_nothing_else_changes_by_itself(reproduced):
    edit(reproduced, "lcpipe/training/loop.py")
    changed = stale(reproduced)
    assert TRAIN <= changed and "early_stop" in changed
    assert not changed & {"prepare", "check_params"}
