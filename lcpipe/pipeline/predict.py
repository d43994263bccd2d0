"""Stage predict: every predictor in predict.predictors forecasts the target from its first
predict.cutoff epochs -> data/predictions/<predictor>.csv."""

from __future__ import annotations

from pathlib import Path

from lcpipe.atomic import atomic_dir
from lcpipe.config import Params
from lcpipe.curve import Series
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.backtest import check_cutoff_fits, forecast_at, in_units
from lcpipe.forecasting.registry import LEARNED, build
from lcpipe.metric import as_metric
from lcpipe.pipeline.arch_curves import read_arch_curves, sources_of, target_of
from lcpipe.progress import step
from lcpipe.reporting.tables import prediction_frame, write_csv


def load_predictor(p: Params, name: str, predictors_dir: Path, sources: list[Series]):
    """A predictor ready to forecast: learned ones from the fit stage's file, others fitted now."""
    predictor = build(name, p)
    if name not in LEARNED:
        return predictor.fit(sources)
    import torch  # only for learned predictors: the others forecast without it

    path = Path(predictors_dir) / f"{name}.pt"
    try:
        predictor.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as exc:
        raise LcpipeError(f"{path}: cannot load fitted {name} ({type(exc).__name__}); "
                          "rerun `dvc repro fit`") from None
    return predictor


def predict(p: Params, curves_dir: Path, predictors_dir: Path, out_dir: Path) -> None:
    curves = read_arch_curves(p, curves_dir)
    target, sources = target_of(p, curves), sources_of(p, curves)
    cutoff = p.predict.cutoff
    check_cutoff_fits(target, cutoff, p.features.window)
    metric = as_metric(p.features.metric)  # forecast in its internal space, written in its own units
    actual = metric.from_internal(target.values)
    with atomic_dir(out_dir) as tmp:
        for name in p.predict.predictors:
            with step(f"predict: {name}, {target.name} from its first {cutoff} epochs"):
                fc = forecast_at(load_predictor(p, name, predictors_dir, sources), target, cutoff)
            write_csv(tmp / f"{name}.csv", prediction_frame(actual, cutoff, in_units(fc, metric)))


predict.replaces = {"out_dir": (".csv",)}  # its folder, replaced whole (entry.check_stage_paths)
