"""Predictors, selected by name. Each module holds one; `make` builds one from settings."""

from __future__ import annotations

from lcpipe.forecasting.predictors.base import Forecast, Predictor

PREDICTORS = ("poly", "lstm", "last_value", "source_shift", "parametric")


def make(name: str, *, poly=None, lstm=None, features=None, parametric=None) -> Predictor:
    """A fresh predictor `name`, configured from the params sections it reads."""
    if name == "poly":
        from lcpipe.forecasting.predictors.poly import Poly

        return Poly(poly.degree, poly.fit_on) if poly else Poly()
    if name == "lstm":
        from lcpipe.forecasting.predictors.lstm import LSTM

        kw = {}
        if features:
            kw.update(window=features.window, inputs=features.inputs, smooth=features.smooth)
        if lstm:
            kw.update(hidden=lstm.hidden, layers=lstm.layers, steps=lstm.steps, lr=lstm.lr,
                      seed=lstm.seed, ensemble=lstm.ensemble)
        return LSTM(**kw)
    if name == "last_value":
        from lcpipe.forecasting.predictors.last_value import LastValue

        return LastValue()
    if name == "source_shift":
        from lcpipe.forecasting.predictors.source_shift import SourceShift

        return SourceShift()
    if name == "parametric":
        from lcpipe.forecasting.predictors.parametric import Parametric

        return Parametric(parametric.families, parametric.prior_weight) if parametric else Parametric()
    from lcpipe.errors import LcpipeError

    raise LcpipeError(f"unknown predictor {name!r}; choose from {', '.join(PREDICTORS)}")


__all__ = ["PREDICTORS", "Forecast", "Predictor", "make"]
