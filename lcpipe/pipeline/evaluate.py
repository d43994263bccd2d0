"""Stage evaluate: scores of every prediction -> metrics/evaluate.json; the paper's Fig. 1-2 as PNGs
and as a table for the native plot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from lcpipe.atomic import atomic_dir, write_text
from lcpipe.config import Params
from lcpipe.curve import read_lcpipe_csv
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.predictors.base import Forecast
from lcpipe.forecasting.scores import score
from lcpipe.progress import say
from lcpipe.reporting import figures
from lcpipe.reporting.tables import forecast_frame, write_csv


def read_prediction(path: Path) -> tuple[np.ndarray, Forecast]:
    """The predict stage's file: the actual values and the forecast (with its band when it has one)."""
    try:
        data = pd.read_csv(path)
        bands = (data["lower"].to_numpy(), data["upper"].to_numpy()) if "lower" in data else (None, None)
        return data["actual"].to_numpy(), Forecast(data["predicted"].to_numpy(), *bands)
    except (OSError, ValueError, KeyError, pd.errors.ParserError) as exc:
        raise LcpipeError(f"{path}: cannot read predictions ({type(exc).__name__}); "
                          "rerun `dvc repro predict`") from None


def evaluate(p: Params, curves_dir: Path, predictions_dir: Path, metrics_out: Path, plots_dir: Path,
             table_out: Path) -> dict:
    metric = p.features.metric
    target = read_lcpipe_csv(Path(curves_dir) / f"{p.predict.target}.csv", metric).metric(metric)
    result = {"target": p.predict.target, "cutoff": p.predict.cutoff, "metric": metric}
    forecasts = {}
    study = figures.study_title(p.data.dataset, p.train.width)
    with atomic_dir(plots_dir) as tmp:
        for name in p.predict.predictors:
            actual, fc = read_prediction(Path(predictions_dir) / f"{name}.csv")
            if len(actual) != len(target) - p.predict.cutoff:
                raise LcpipeError(f"{predictions_dir}/{name}.csv does not start after cutoff {p.predict.cutoff}; "
                                  "rerun `dvc repro predict`")
            result[name] = {k: round(v, 6) for k, v in score(actual, fc).items()}
            say(f"evaluate: {name} on {p.predict.target}: rmse {result[name]['rmse']:.4f}, "
                f"mae {result[name]['mae']:.4f}; drawing its figure")
            forecasts[name] = fc
            figures.forecast_figure(tmp / f"forecast_{name}.png", p.predict.target, target,
                                    p.predict.cutoff, {name: fc}, metric, study, p.predict.predictors)
        figures.forecast_figure(tmp / "forecast_all.png", p.predict.target, target,
                                p.predict.cutoff, forecasts, metric, study)
    write_csv(table_out, forecast_frame(target, p.predict.cutoff, forecasts))
    write_text(metrics_out, json.dumps(result, indent=2) + "\n")  # last: only after every figure
    return result
