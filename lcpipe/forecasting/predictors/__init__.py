"""The predictor registry: name -> class, each imported on first use (so naming or validating
predictors loads no torch or scipy).

A predictor is built from its own params section, the one named after it (`poly:`, `lstm:`, ...),
plus the `features` keys its class lists in `uses_features`; one without a section takes no
arguments. Adding a predictor: its module here, one line in REGISTRY, and when it has
hyperparameters a params section of the same name (params.yaml and config.py).
"""

from __future__ import annotations

from importlib import import_module

from lcpipe.errors import LcpipeError
from lcpipe.forecasting.predictors.base import Forecast, Predictor

# name -> "module.Class" (the class's `name` is its key); code_deps reads these strings as the
# imports of any stage that imports this package by name
REGISTRY = {
    "poly": "lcpipe.forecasting.predictors.poly.Poly",
    "lstm": "lcpipe.forecasting.predictors.lstm.LSTM",
    "last_value": "lcpipe.forecasting.predictors.last_value.LastValue",
    "source_shift": "lcpipe.forecasting.predictors.source_shift.SourceShift",
    "parametric": "lcpipe.forecasting.predictors.parametric.Parametric",
    "auto": "lcpipe.forecasting.predictors.auto.Auto",
}
PREDICTORS = tuple(REGISTRY)


def predictor_class(name: str) -> type[Predictor]:
    """The class registered as `name`, imported now."""
    if name not in REGISTRY:
        raise LcpipeError(f"unknown predictor {name!r}; choose from {', '.join(PREDICTORS)}")
    module, cls = REGISTRY[name].rsplit(".", 1)
    return getattr(import_module(module), cls)


def build(name: str, params) -> Predictor:
    """A fresh, unfitted predictor `name` with its hyperparameters from `params` (a config.Params)."""
    return predictor_class(name).from_params(params)


def learned() -> tuple[str, ...]:
    """The predictors whose fitting is costly: the fit stage fits and saves them once."""
    return tuple(name for name in REGISTRY if predictor_class(name).learned)


__all__ = ["PREDICTORS", "REGISTRY", "Forecast", "Predictor", "build", "learned", "predictor_class"]
