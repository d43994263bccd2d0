"""The predictor registry: name -> class, each imported on first use (so naming or validating
predictors loads no torch or scipy). A stage that imports this module may build any predictor, so
every predictor module is among its code deps (lcpipe/pipeline/code_deps.py reads the strings).

A predictor is built from its own params section, the one named after it (`poly:`, `lstm:`, ...),
plus the `features` keys its class lists in `uses_features`; one without a section takes no
arguments. Adding a predictor: its module here, one line in REGISTRY, and when it has
hyperparameters a params section of the same name (params.yaml and config.py).
"""

from __future__ import annotations

from importlib import import_module

from lcpipe.errors import LcpipeError

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
# the predictors whose fitting is costly, fitted once by the fit stage; stated here as data so that
# naming them imports none (tests/test_predictors.py keeps it equal to the classes' `learned` flag)
LEARNED = ("lstm",)


def predictor_class(name: str) -> type:
    """The class registered as `name`, imported now."""
    if name not in REGISTRY:
        raise LcpipeError(f"unknown predictor {name!r}; choose from {', '.join(PREDICTORS)}")
    module, cls = REGISTRY[name].rsplit(".", 1)
    return getattr(import_module(module), cls)


def build(name: str, params):
    """A fresh, unfitted predictor `name` with its hyperparameters from `params` (a config.Params)."""
    return predictor_class(name).from_params(params)
