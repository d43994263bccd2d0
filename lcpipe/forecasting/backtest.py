"""Forecast-and-score, the one code path shared by the predict stage, the sweep stage and
`python -m lcpipe evaluate`: fit every predictor on the sources once per target, forecast the
target from each cutoff, score against what really happened."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from lcpipe.config import Params
from lcpipe.errors import LcpipeError
from lcpipe.forecasting import scores
from lcpipe.forecasting.curves import Curve
from lcpipe.forecasting.features import Series
from lcpipe.forecasting.predictors import Forecast, Predictor, build


def series_of(curve: Curve, metric: str) -> Series:
    return Series(curve.name, curve.metric(metric), curve.lr)


def check_cutoff(target: Series, cutoff: int, window: int) -> None:
    n = len(target.acc)
    if not window + 1 <= cutoff <= n - 1:
        raise LcpipeError(f"cutoff {cutoff} does not fit target {target.name!r} ({n} epochs): "
                          f"it must lie in [features.window + 1, epochs - 1] = [{window + 1}, {n - 1}]")


def forecast_at(predictor: Predictor, target: Series, cutoff: int) -> Forecast:
    """Forecast the target's epochs cutoff+1..end from its first `cutoff` epochs."""
    prefix = Series(target.name, target.acc[:cutoff], target.lr)
    return predictor.forecast(prefix, len(target.acc))


def leave_one_out(curves: list[Curve], cutoffs: list[int], predictors: list[str], params: Params,
                  targets: list[str] | None = None,
                  progress: Callable[[str], None] = lambda _: None) -> list[dict]:
    """Each target in turn (default: every curve) forecast by predictors fitted on all other curves.

    Predictors are built from `params` (their sections and features.*). Returns one row per
    (target, cutoff, predictor) with its scores as fractions.
    """
    metric, window = params.features.metric, params.features.window
    by_name = {c.name: series_of(c, metric) for c in curves}
    if len(by_name) < 2:
        raise LcpipeError("leave-one-out needs at least two curves (a target and a source)")
    for name in targets or []:
        if name not in by_name:
            raise LcpipeError(f"target {name!r} is not among the curves: {', '.join(by_name)}")
    for name in targets or by_name:
        for cutoff in cutoffs:
            check_cutoff(by_name[name], cutoff, window)
    rows = []
    for name in targets or list(by_name):
        target = by_name[name]
        sources = [s for n, s in by_name.items() if n != name]
        for pname in predictors:
            progress(f"{name}: fitting {pname} on {len(sources)} source curves")
            predictor = build(pname, params).fit(sources)
            for cutoff in cutoffs:
                fc = forecast_at(predictor, target, cutoff)
                rows.append({"target": name, "cutoff": cutoff, "predictor": pname,
                             **scores.score(target.acc[cutoff:], fc),
                             "final_actual": float(target.acc[-1]), "final_predicted": float(fc.mean[-1])})
    return rows


def mean_by(rows: list[dict], keys: tuple[str, ...] = ("cutoff", "predictor")) -> list[dict]:
    """Average every score over the rows sharing `keys` (e.g. over targets)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in keys)].append(row)
    out = []
    for key, members in groups.items():
        scores = [k for k in members[0] if k not in ("target", "cutoff", "predictor", *keys)]
        out.append({**dict(zip(keys, key)), "n": len(members),
                    **{s: float(np.mean([m[s] for m in members])) for s in scores}})
    return out


def markdown_table(rows: list[dict], score: str = "rmse") -> str:
    """Mean `score` in accuracy points: one row per cutoff, one column per predictor."""
    means = mean_by(rows)
    cutoffs = sorted({r["cutoff"] for r in means})
    names = list(dict.fromkeys(r["predictor"] for r in means))
    cell = {(r["cutoff"], r["predictor"]): r[score] for r in means}
    lines = [f"| cutoff | {' | '.join(names)} |", "|---" * (len(names) + 1) + "|"]
    for c in cutoffs:
        best = min(cell[(c, n)] for n in names)
        vals = [(f"**{cell[(c, n)] * 100:.2f}**" if cell[(c, n)] == best else f"{cell[(c, n)] * 100:.2f}")
                for n in names]
        lines.append(f"| {c} | {' | '.join(vals)} |")
    return "\n".join(lines) + "\n"
