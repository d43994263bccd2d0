"""The plot data behind dvc.yaml's native plots: the tables the templates in .dvc/plots/ read,
and a dvc.yaml that names no arch or predictor (they come from params and file rows)."""

import csv
import io
import json
import re
from pathlib import Path

import numpy as np

from lcpipe.forecasting.predictors.base import Forecast
from lcpipe.forecasting.registry import PREDICTORS
from lcpipe.reporting import figures as plots
from lcpipe.reporting.tables import forecast_frame, small_multiples_frame, sweep_frame, write_csv
from tests.helpers import ROOT

ACTUAL = np.array([0.1, 0.3, 0.5, 0.6, 0.65, 0.7])
WITH_BAND = Forecast(np.array([0.55, 0.6, 0.62]), np.array([0.5, 0.5, 0.5]), np.array([0.7, 0.7, 0.7]))
NO_BAND = Forecast(np.array([0.5, 0.5, 0.5]))


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_forecast_table_holds_prefix_actual_and_each_forecast_with_its_band():
    table = rows(forecast_frame(ACTUAL, 3, {"auto": WITH_BAND, "last_value": NO_BAND}).to_csv(index=False))
    by_kind = {k: [r for r in table if r["kind"] == k] for k in ("observed", "actual", "forecast")}
    assert [float(r["value"]) for r in by_kind["observed"]] == [0.1, 0.3, 0.5]
    assert [float(r["value"]) for r in by_kind["actual"]] == list(ACTUAL)
    auto = [r for r in by_kind["forecast"] if r["series"] == "auto"]
    assert [int(r["epoch"]) for r in auto] == [4, 5, 6] and float(auto[0]["upper"]) == 0.7
    assert all(r["lower"] == "" for r in by_kind["forecast"] if r["series"] == "last_value")


def test_small_multiples_table_has_one_panel_per_predictor_and_cutoff():
    forecasts = {("auto", 3): WITH_BAND, ("auto", 4): Forecast(np.array([0.6, 0.6])), ("poly", 3): NO_BAND}
    table = rows(small_multiples_frame(ACTUAL, forecasts).to_csv(index=False))
    panels = {(r["predictor"], int(r["cutoff"])) for r in table}
    assert panels == set(forecasts) and len(table) == 3 * len(ACTUAL)
    panel = [r for r in table if (r["predictor"], r["cutoff"]) == ("auto", "4")]
    assert [r["predicted"] for r in panel[:4]] == [""] * 4 and float(panel[4]["predicted"]) == 0.6


def test_figures_render_with_the_study_in_every_title(tmp_path):
    plots.forecast_figure(tmp_path / "f.png", "plain50", ACTUAL, 3, {"auto": WITH_BAND}, "test_acc", "digits, width 8")
    plots.small_multiples_figure(tmp_path / "s.png", "plain50", ACTUAL, {("auto", 3): WITH_BAND, ("poly", 3): NO_BAND},
                                 "test_acc", "digits, width 8")
    means = [{"cutoff": 3, "predictor": "auto", "rmse": np.float64(0.1), "mae": 0.05}]
    write_csv(tmp_path / "rmse.csv", sweep_frame(means))
    assert all((tmp_path / f).stat().st_size > 1000 for f in ("f.png", "s.png"))
    assert rows((tmp_path / "rmse.csv").read_text()) == [{"cutoff": "3", "predictor": "auto", "rmse": "0.1",
                                                          "mae": "0.05"}]


def test_dvc_yaml_names_no_arch_or_predictor_and_its_templates_exist():
    text = (ROOT / "dvc.yaml").read_text()
    declared = re.sub(r"lcpipe/[\w/]+(\.py)?", "", text)  # not code deps
    for name in (*PREDICTORS, "resnet34", "resnet50", "plain34", "plain50"):
        assert f"/{name}." not in declared and f" {name}:" not in declared, name
    templates = {line.split("template:")[1].strip() for line in text.splitlines() if "template:" in line}
    assert templates, "no custom plot templates declared"
    for name in templates:
        spec = json.loads(Path(ROOT / ".dvc" / "plots" / f"{name}.json").read_text())
        assert "<DVC_METRIC_DATA>" in json.dumps(spec)


def test_every_registered_predictor_has_a_figure_label_and_no_other_name_does():
    assert set(plots.LABELS) == set(PREDICTORS)


def test_a_predictor_has_one_colour_in_its_own_figure_and_in_the_figure_of_all(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(plots, "save_png", lambda fig, path: drawn.append(fig))
    names = ["auto", "poly", "last_value"]
    forecasts = {"auto": WITH_BAND, "poly": NO_BAND, "last_value": NO_BAND}
    plots.forecast_figure(tmp_path / "poly.png", "plain50", ACTUAL, 3, {"poly": NO_BAND}, "test_acc", "s", names)
    plots.forecast_figure(tmp_path / "all.png", "plain50", ACTUAL, 3, forecasts, "test_acc", "s")

    def colour(fig):
        return next(line.get_color() for line in fig.axes[0].lines if line.get_label() == "polynomial forecast")

    assert colour(drawn[0]) == colour(drawn[1])
