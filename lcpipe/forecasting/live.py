"""Live runs: where runs that are still training will end, and which of them can be stopped.

One predictor is fitted on a history of finished curves and forecasts every run in one batched
call (Predictor.forecast_many); the keep/stop rule is stop_rule.py's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from lcpipe.config import Params
from lcpipe.curve import Curve, series_of
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.backtest import check_apart
from lcpipe.forecasting.logs import check_finished, check_history
from lcpipe.forecasting.predictors.base import Forecast, Predictor
from lcpipe.forecasting.registry import build
from lcpipe.forecasting.stop_rule import final_value, keep, p_best, std_of

DEFAULT_PREDICTOR = "auto"  # the live forecaster when --predictor is not given


@dataclass(frozen=True)
class RunForecast:
    """One live run: what was seen, where it ends (80 % interval), P(ends best), the decision."""

    run: str
    observed: np.ndarray
    epochs: int
    forecast: Forecast  # epochs len(observed)+1 .. epochs; empty when the run has finished
    p_best: float
    decision: str

    @property
    def final(self) -> tuple[float, float, float]:
        return final_value(self.observed, self.forecast)

    def as_json(self) -> dict:
        mean, lower, upper = (round(v, 6) for v in self.final)
        return {"run": self.run, "observed": len(self.observed), "epochs": self.epochs,
                "final": {"mean": mean, "lower": lower, "upper": upper},
                "p_best": round(self.p_best, 6), "decision": self.decision,
                "forecast": np.round(self.forecast.mean, 6).tolist()}


def planned_epochs(runs: list[Curve], epochs: int, min_observed: int) -> list[int]:
    """Each run's planned length (its own file's, else `epochs`), after checking that it has
    observed at least `min_observed` epochs and no more than planned."""
    names: dict[str, Curve] = {}
    for run in runs:
        if run.name in names:
            raise LcpipeError(f"two runs are named {run.name!r} ({names[run.name].path} and {run.path}); "
                              "rename one")
        names[run.name] = run
    out = []
    for run in runs:
        planned = run.planned or epochs
        source = "its own file" if run.planned else "--epochs"
        if len(run) > planned:
            raise LcpipeError(f"{run.path}: {len(run)} epochs observed, more than the {planned} planned by "
                              f"{source}; give the full planned length")
        if len(run) < min_observed:
            raise LcpipeError(f"{run.path}: {len(run)} epochs observed; a forecast needs at least "
                              f"{min_observed} (features.window + 1)")
        out.append(planned)
    return out


def fit_on_history(name: str, params: Params, history: list[Curve], runs: list[Curve]) -> Predictor:
    """Predictor `name` fitted on the history, which must hold none of the runs themselves."""
    if not history:
        raise LcpipeError("--history holds no curves; give finished curves to forecast from")
    check_finished(history)
    check_history(history)
    check_apart(history, runs, "a live run", params.features.metric)
    return build(name, params).fit([series_of(c, params.features.metric) for c in history])


def config_keys_used(predictor: Predictor, history: list[Curve], runs: list[Curve]) -> str:
    """One line for the user: which config keys the forecast read, from how many runs and history
    curves (a forecaster that reads none, or runs and history without configs, say so)."""
    keys = predictor.config_keys
    if not keys:
        return f"config: {predictor.name} reads no run configs"
    in_runs = sorted({k for r in runs for k in r.config if k in keys})
    in_history = {k for c in history for k in c.config if k in keys}
    used = [k for k in in_runs if k in in_history]
    if not used:
        return ("config: none used (the runs and the history share no config key of "
                f"{', '.join(keys)}); analogs are weighted by prefix fit alone")
    with_config = sum(any(k in r.config for k in used) for r in runs)
    history_with = sum(any(k in c.config for k in used) for c in history)
    return (f"config: used {', '.join(used)} ({with_config} of {len(runs)} runs, {history_with} of "
            f"{len(history)} history curves state them)")


def forecast_runs(predictor: Predictor, runs: list[Curve], epochs: list[int], metric: str) -> list[RunForecast]:
    """Forecast every run with a fitted `predictor` in one batched call, then decide keep/stop."""
    series = [series_of(r, metric) for r in runs]
    live = [i for i, (s, n) in enumerate(zip(series, epochs)) if len(s.values) < n]
    batched = predictor.forecast_many([series[i] for i in live], [epochs[i] for i in live]) if live else []
    forecasts = [Forecast(np.empty(0), np.empty(0), np.empty(0))] * len(runs)
    for i, fc in zip(live, batched, strict=True):
        forecasts[i] = fc
    finals = np.array([final_value(s.values, fc) for s, fc in zip(series, forecasts)])
    mean, std = finals[:, 0], std_of(finals[:, 1], finals[:, 2])
    p = p_best(mean, std)
    return [RunForecast(s.name, s.values, n, fc, float(pi), "keep" if k else "stop")
            for s, n, fc, pi, k in zip(series, epochs, forecasts, p, keep(mean, std))]


def report_json(results: list[RunForecast], metric: str, epochs: int, predictor: str) -> str:
    """The --out JSON (the contract in the README), one run per line: `epochs` at the top is --epochs,
    each run's own `epochs` the length it was forecast to (its own file's when it states one)."""
    head = json.dumps({"metric": metric, "epochs": epochs, "predictor": predictor})
    runs = ",\n  ".join(json.dumps(r.as_json()) for r in results)
    return f'{head[:-1]}, "runs": [\n  {runs}\n]}}\n'


def table(results: list[RunForecast], metric: str) -> str:
    """The stdout table: run, epochs seen, final value with 80 % interval, P(ends best), keep/stop."""
    width = max(3, *(len(r.run) for r in results))
    lines = [f"{'run':<{width}}  {'epochs seen':>11}  {'final ' + metric + ' [80 % interval]':<30}  "
             f"{'P(ends best)':>12}  decision"]
    for r in results:
        mean, lower, upper = r.final
        seen = f"{len(r.observed)}/{r.epochs}"
        lines.append(f"{r.run:<{width}}  {seen:>11}  {f'{mean:.4f} [{lower:.4f}, {upper:.4f}]':<30}  "
                     f"{r.p_best:>12.3f}  {r.decision}")
    return "\n".join(lines) + "\n"
