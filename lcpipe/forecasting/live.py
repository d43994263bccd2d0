"""Live runs: where runs that are still training will end, and which of them can be stopped.

One predictor is fitted on a history of finished curves and forecasts every run in one batched
call (Predictor.forecast_many); the keep/stop rule is stop_rule.py's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lcpipe.config import Params
from lcpipe.curve import MAX_EPOCHS, MAX_POINTS, MAX_STEPS, Curve, on_grid, series_of
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.backtest import in_units
from lcpipe.forecasting.copies import check_apart
from lcpipe.forecasting.evaluations import evaluation_step
from lcpipe.forecasting.logs import TRAINER_STATE, learnable_history, missed_zero, zeros_left_out
from lcpipe.forecasting.predictors.auto import (
    CALIBRATION_MIN_POINTS,
    LATEST_BEFORE,
    SPIKE,
    SPIKE_ERROR_FLOOR,
    badness,
    history_resolution,
    hyper_values,
    settled_final,
    smooth_schedule,
    unconfirmed_latest,
    usable_milestones,
)
from lcpipe.forecasting.predictors.base import Forecast, Predictor
from lcpipe.forecasting.registry import build
from lcpipe.forecasting.stop_rule import STD_FLOOR, final_value, keep, p_best, rule_for, std_of
from lcpipe.metric import Metric, as_metric

DEFAULT_PREDICTOR = "auto"  # the live forecaster when --predictor is not given


@dataclass(frozen=True)
class RunForecast:
    """One live run, in the metric's own units: what was seen, where it ends (80 % interval), P(ends
    best), the decision and, for a stop that is no forecast's (a run that diverged), the reason.
    `spacing` is the steps per point of the run's grid (1 for epochs)."""

    run: str
    observed: np.ndarray
    epochs: int
    forecast: Forecast  # points len(observed)+1 .. planned points; empty when the run has finished
    p_best: float
    decision: str
    spacing: float = 1.0
    reason: str = ""
    last_seen: float | None = None  # the last epoch or step reported (default: the number of points)
    unit: str = "epochs"  # what `epochs`, `seen` and forecast_at count: "epochs", or "steps" for a run logged by step

    @property
    def final(self) -> tuple[float, float, float]:
        if self.reason:
            return (float("nan"),) * 3
        if len(self.forecast.mean) and self.forecast.lower is None:  # a predictor that gives no interval
            return float(self.forecast.mean[-1]), float("nan"), float("nan")
        return final_value(self.observed, self.forecast)

    @property
    def seen(self) -> float:
        """The last step (or epoch) observed."""
        return self.last_seen if self.last_seen is not None else _whole(len(self.observed) * self.spacing)

    def forecast_at(self) -> list[float]:
        """The step (or epoch) of each forecast value."""
        at = (len(self.observed) + np.arange(1, len(self.forecast.mean) + 1)) * self.spacing
        whole = np.round(at)
        # fractional epochs (0.05, 0.1, ...) to 6 significant digits: one decimal read 3.25 as 3.2 (red team)
        return whole.astype(int).tolist() if np.allclose(at, whole, atol=1e-6) else [_number(a) for a in at]

    def as_json(self) -> dict:
        """The run's --out record; a value past float range (a loss of 1e306 forecast in log space) is null:
        strict JSON has no Infinity or NaN."""
        final = {k: _number(v) for k, v in zip(("mean", "lower", "upper"), self.final)}
        out = {"run": self.run, "unit": self.unit, "observed": self.seen, "epochs": self.epochs, "final": final,
               "p_best": round(self.p_best, 6) if np.isfinite(self.p_best) else None, "decision": self.decision,
               "forecast": [_number(v) for v in self.forecast.mean], "forecast_at": self.forecast_at()}
        return {**out, "reason": self.reason} if self.reason else out


def _number(x: float) -> float | None:
    """A value as the JSON holds it: to 6 significant digits (6 decimals made an MSE of 4e-5 one value for
    every run and a loss of 1e-8 a 0; red team), None where not finite."""
    return float(f"{float(x):.6g}") if np.isfinite(x) else None


def _whole(x: float) -> float | int:
    return int(round(x)) if abs(x - round(x)) < 1e-6 else round(float(x), 3)


@dataclass(frozen=True)
class OnGrid:
    """Live runs ready to forecast: each run on its grid (consecutive points), its planned length in
    points, the grid's spacing (steps per point; 1 for epochs), and, in the run's own unit, its
    planned length and the last epoch or step it has reported."""

    runs: list[Curve]
    points: list[int]
    spacings: list[float]
    planned: list[int]
    seen: list[float]
    left_out: list[dict] = field(default_factory=list)  # runs too short to forecast yet: {"run", "reason"}
    units: list[str] = field(default_factory=list)  # each run's unit as logged: "epochs", or "steps" (by step)


def own_length(runs: list[Curve], started: list[tuple[str, str, str]] | tuple = (), flags: str = "epochs=") -> int:
    """The planned length where none is given (--epochs/--steps, epochs=/steps=): every run's own file must plan one
    (a sidecar's epochs or max_steps, a Hugging Face Trainer state's max_steps). It stands where the flag would (the
    length most runs plan); each run is forecast to its own. `flags`: how the user gives one."""
    bare = [r for r in runs if not r.planned]
    if not runs:
        where = f" ({started[0][1]}: {started[0][2]})" if started else ""
        raise LcpipeError(f"no run has evaluated yet{where}: nothing to forecast")
    if bare:
        r = bare[0]
        if r.stated_epochs and r.steps is not None:  # its epochs have no place on its steps (red team: "plans no
            # length" sent the user to --epochs, which then failed as neither its steps nor its evaluations)
            steps_flag = "steps=" if flags.endswith("=") else "--steps"
            raise LcpipeError(f"{r.path or repr(r.name)}: its file plans {r.stated_epochs} epochs, but it is logged by "
                              "optimizer step with no epoch column to place them on: give the planned optimizer step, "
                              f"{steps_flag} N")
        which = f"{r.path} plans no length in its own file" if r.path else \
            f"run {r.name!r} (given in Python) carries no planned length"
        raise LcpipeError(f"{which}: give the planned length, {flags}")
    lengths = [r.planned for r in runs]
    return max(set(lengths), key=lambda n: (lengths.count(n), n))


def planned_epochs(runs: list[Curve], epochs: int, min_observed: int, by_evaluations: bool = False,
                   say=lambda _: None, flag: str = "--epochs", started: tuple[tuple[str, str, str], ...] = (),
                   logs: frozenset[str] = frozenset(), metric: Metric | None = None,
                   length_given: bool = True) -> OnGrid:
    """The runs on their grids (OnGrid), after checking that each has observed no more than planned; a run
    with fewer than `min_observed` points (one just started, beside the others), or one of `started` ((run
    name, where, why), runs whose logger has written no evaluation yet), is left out (OnGrid's left_out) and
    named through `say`, and is one error only when every run is (a diverged one aside). The
    planned length is the run's own file's, else `epochs` (in the run's own unit: epochs, or steps for a
    run logged by optimizer step). A run that diverged is kept as it is: it is stopped, not forecast.

    `by_evaluations` (the length came as --epochs, not --steps): when a run logged by optimizer step is
    already past step `epochs`, `epochs` cannot mean steps, so it counts evaluations for every run
    logged by step (a fine-tuning loop evaluating every 15 steps, 50 times: step 750), one planned step
    for all of them (runs that would end at different steps are one error asking for --steps); said
    once through `say`. `logs`: the names of runs given in Python as their logs (DataFrames), checked as files are.
    `metric`: a loss run holding a missed evaluation logged as 0 (logs.missed_zero) is left out too, named with
    where: in log space it would be forecast from a value far below any real one (red team: bands of [0, 2e15],
    the healthy runs' P(ends best) cut fivefold). `length_given`: False where no length was given and every run plans
    its own (own_length): no run is then said to keep its own over a flag nobody wrote (review)."""
    if not by_evaluations:  # a length in steps: a step column that counts 1, 2, 3 (or from 0) counts steps, unless
        # the run's own file plans it in epochs (lcpipe's DVCLive runs: step = epoch, epochs in params.yaml)
        runs = [replace(r, steps=r.columns["step"]) if r.steps is None and not r.planned and "step" in r.columns
                else r for r in runs]
    placed = []  # runs logged by step that state their epoch too: where --epochs cannot mean steps (a run is past
    # step N), it counts their epochs, not their evaluations (red team: every half epoch, 200 was read as 100 epochs)
    stepped = [r for r in runs if r.steps is not None and len(r.steps) and not r.planned and not r.epoch_axis]
    if by_evaluations and epochs <= MAX_EPOCHS and any(r.per_epoch for r in stepped) \
            and any(r.steps[-1] > epochs for r in stepped):
        if not all(r.per_epoch for r in stepped):  # the others would count evaluations: finals at other lengths
            bare = next(r for r in stepped if not r.per_epoch)
            raise LcpipeError(f"{as_written(flag, epochs)}: some runs logged by optimizer step log their epoch too, "
                              f"so it counts their epochs, but {bare.path or bare.name} logs no epoch, so it cannot "
                              "be placed there; give --steps (steps=) the planned step, or forecast them apart")
        placed = [r.name for r in stepped]
        runs = [replace(r, planned=max(1, round(epochs * r.per_epoch))) if r.name in placed else r for r in runs]
        r = next(r for r in runs if r.name == placed[0])
        # red team: a Hugging Face log's fractional epoch beside its step, and --epochs 50 meant as 50 evaluations
        # (every 15 steps: step 750) planned step 7,500, with no word of the way out
        steps_flag = "steps=" if flag.endswith("=") else "--steps"
        last = evaluation_step(r.steps, epochs)  # as the pruner and a log without epochs read it (review: this hint
        # counted a step-0 evaluation where they do not, and named 735 where they named 750)
        other = "" if last is None else f"; if {epochs} counts their evaluations instead, give " \
                                        f"{as_written(steps_flag, last)}"
        say(f"{as_written(flag, epochs)}: {len(placed)} run(s) logged by optimizer step are past step {epochs} and "
            f"log their epoch, so it counts epochs on them (e.g. {r.path or r.name}: {_whole(r.per_epoch)} steps an "
            f"epoch, step {r.planned}){other}")
    unplaced = [r for r in runs if r.stated_epochs and not r.planned]
    if unplaced:  # its file's epochs cannot be placed on its steps: the given length is used, and said (review)
        r = unplaced[0]
        say(f"{r.path or r.name}{f' and {len(unplaced) - 1} more' if len(unplaced) > 1 else ''}: its file plans "
            f"{r.stated_epochs} epochs, but it is logged by optimizer step with no epoch column to place them on; "
            f"{as_written(_written(flag, by_evaluations), epochs)} is used instead")
    names: dict[str, Curve] = {}
    for run in runs:
        if run.name in names:
            where = f"{names[run.name].path} and {run.path}" if run.path else "keys that read alike, e.g. 1 and '1'"
            raise LcpipeError(f"two runs are named {run.name!r} ({where}); rename one")
        names[run.name] = run
    by_step = [r for r in runs if r.steps is not None and len(r.steps) and not r.planned]
    by_optimizer = [r for r in by_step if not r.epoch_axis]  # of those, the runs that count optimizer steps
    as_steps = None
    if by_evaluations and any(r.steps[-1] > epochs for r in by_step):
        as_steps = common_step_of(by_step, epochs, flag)
        past = [r for r in by_step if r.steps[-1] > epochs]
        given = as_written(flag, epochs)
        say(f"{given}: {len(past)} run(s) logged by optimizer step are past step {epochs} (e.g. "
            f"{past[0].path or past[0].name} at step {_whole(past[0].steps[-1])}), so it counts evaluations: "
            f"{epochs} evaluations end at step {as_steps} for every run logged by step"
            + ("; give --steps for a length in steps" if flag == "--epochs" else
               "; give steps= for a length in steps" if flag == "epochs=" else ""))
    elif by_evaluations and by_optimizer and all(r.steps[-1] >= epochs for r in by_optimizer):
        # none past step `epochs`, every one at it: read as steps, every run has finished, which a user forecasting
        # live runs rarely means (red team: 8 runs evaluated every 10 steps, 5 evaluations each, under --epochs 50
        # were all "finished" and 7 stopped, silently)
        say(f"{as_written(flag, epochs)}: every run logged by optimizer step has reached step {epochs}, so each is "
            f"read as finished; if {epochs} counts evaluations, give "
            f"{'steps=' if flag.endswith('=') else '--steps'} the planned step")
    # runs that count epochs: by row, or on an epoch axis at fractions of an epoch (validation every half epoch)
    by_epoch = [r for r in runs if (r.steps is None or r.epoch_axis) and not r.planned]
    if as_steps is None and by_optimizer and by_epoch:  # a length in steps (--steps, or --epochs no step run is past)
        # decided together, an epoch run planned `epochs` epochs would be compared with runs ending at step `epochs`
        # (with --epochs 750 an epoch run 10 epochs in was kept at P(best) 0.93 and a step run stopped; red team)
        written = ("--epochs " if by_evaluations else "--steps ") if flag == "--epochs" else flag
        raise LcpipeError(f"{written}{epochs}: {len(by_epoch)} run(s) count epochs, not steps (e.g. "
                          f"{by_epoch[0].path or by_epoch[0].name}), and {len(by_optimizer)} are logged by optimizer "
                          f"step (e.g. {by_optimizer[0].path or by_optimizer[0].name}); their finals are not "
                          "comparable: forecast them apart, the epoch runs with --epochs (epochs=) and the others "
                          "with --steps (steps=)")
    if not by_evaluations and by_epoch and not by_optimizer and all(r.path is not None or r.name in logs
                                                                      for r in by_epoch):
        # --steps on runs that log epochs only: read as epochs, the runs were decided at epoch 78,200 (red team)
        written = "--steps " if flag == "--epochs" else flag
        example = by_epoch[0]
        fractions = [] if example.steps is None else [float(v) for v in example.steps if v != round(v)]
        # red team: a step column written 2.401 (a thousands separator) was said to be no step column at all
        counted = f"their x column holds fractions of an epoch ({fractions[0]:g} in " if fractions \
            else "the runs count epochs, with no step column (e.g. "
        raise LcpipeError(f"{written}{epochs}: {counted}{example.path or example.name}), so a length in optimizer "
                          "steps cannot be placed on them; give the planned number of epochs, "
                          f"{'--epochs N' if flag == '--epochs' else 'epochs=N'}")
    out, short = OnGrid([], [], [], [], []), []
    for name, where, reason in started:
        out.left_out.append({"run": name, "reason": reason})
        short.append((f"{where}: {reason}", "left out until it evaluates"))
    own = []  # runs whose own file plans a length other than the one given (which it overrides)
    for run in runs:
        if metric is not None and (why := missed_zero(run, metric)):
            out.left_out.append({"run": run.name, "reason": why})
            short.append((f"{run.path or run.name}: {why}", "left out; log that evaluation again or drop its row"))
            continue
        given = as_steps if as_steps is not None and run.steps is not None else epochs
        total = run.planned or given
        if run.planned and run.planned != given and run.name not in placed and not (
                by_evaluations and run.per_epoch and round(epochs * run.per_epoch) == run.planned) and not (
                by_evaluations and run.steps is not None and evaluation_step(run.steps, epochs) == run.planned):
            own.append(run)  # (50 evaluations every 15 steps beside a file planning step 750 agree: no word)
        source = f"{flag} ({epochs} epochs)" if run.name in placed else "its own file" if run.planned else \
            ("--epochs" if by_evaluations else "--steps") if flag == "--epochs" else flag  # the flag written
        unit = unit_of(run)
        if run.steps is None and total > MAX_EPOCHS:
            raise LcpipeError(f"{run.path or run.name}: {flag.rstrip('=')} must be a positive whole number of at most "
                              f"{MAX_EPOCHS} for a run logged by epoch ({total} planned); a run logged by optimizer "
                              "step needs a step column")
        last = float(run.steps[-1]) if run.steps is not None and len(run.steps) else float(len(run))
        if last > total:
            zero = " (if its epochs count from 0 and epoch 0 is the model before training, drop that row)" \
                if run.steps is None and last == total + 1 else ""
            fix = f"give the full planned length{zero}" if source != "its own file" else \
                "the plan in its own file is wrong, and a flag does not override a file's plan: correct it there" + \
                (", or, if its epochs count from 0 and epoch 0 is the model before training, drop that row" if zero
                 else "")
            raise LcpipeError(f"{run.path or run.name}: {_whole(last)} {unit} observed, more than the {total} planned "
                              f"by {source}; {fix}")
        on, spacing = on_grid(run, total)
        if len(on) < min_observed and not run.diverged:
            one = len(on) == 1
            what = ("epoch" if one else "epochs") if run.steps is None else \
                f"{'point' if one else 'points'} of its grid (one each {_whole(spacing)} steps)"
            capped = run.steps is not None and round(total / spacing) >= MAX_POINTS
            fix = (f": {total} planned steps are forecast on at most {MAX_POINTS} points, so it must reach step "
                   f"{_whole(min_observed * spacing)}; give more of the run, or forecast it later" if capped else "")
            out.left_out.append({"run": run.name, "reason": f"{len(on)} {what} observed; a forecast needs at least "
                                                           f"{min_observed} (the forecaster's window + 1){fix}"})
            short.append((f"{run.path or run.name}: {out.left_out[-1]['reason']}",  # (review: a search's pruned
                          "left out until it has them (for good, if it was pruned or crashed)"))  # trials read so
            continue
        out.runs.append(on)
        out.points.append(on.planned if run.steps is not None else total)
        out.spacings.append(spacing)
        out.planned.append(total)
        out.seen.append(_whole(last))
        out.units.append(unit)
    if short and all(r.diverged for r in out.runs):  # nothing to forecast: every run that did not diverge is short
        more = len(short) - 1
        raise LcpipeError(short[0][0] + (f" (and {more} more run{'s' if more > 1 else ''} left out)" if more else ""))
    for line, until in short:  # a run just started, in a folder of live runs: the others are forecast
        say(f"{line}: {until}")
    if own and length_given:  # said, as a length read otherwise is (review: --steps 600 on runs planning 750 was
        # dropped silently)
        r = own[0]
        written = _written(flag, by_evaluations)
        say(f"{as_written(written, epochs)}: {len(own)} run(s) plan their own length in their files, which is used "
            f"instead (e.g. {r.path or r.name}: {r.planned} {unit_of(r)})")
    return out


def unit_of(run: Curve) -> str:
    """What a run's steps count: "steps" when logged by optimizer step, "epochs" otherwise (by row, or on an epoch
    axis at fractions of an epoch: validation every half epoch)."""
    return "steps" if run.steps is not None and not run.epoch_axis else "epochs"


def _written(flag: str, by_evaluations: bool) -> str:
    """The length flag as the user wrote it: --epochs or --steps on the CLI (one dest; by_evaluations says which), the
    Python keyword as given."""
    return ("--epochs" if by_evaluations else "--steps") if flag == "--epochs" else flag


def as_written(flag: str, n: int) -> str:
    """A length as its caller wrote it: `--epochs 50` on the CLI, `epochs=50` in Python (flag "epochs=")."""
    return f"{flag}{n}" if flag.endswith("=") else f"{flag} {n}"


def common_step_of(runs: list[Curve], evaluations: int, flag: str) -> int:
    """The one step at which `evaluations` evaluations end for every run (logged by step), or one error
    naming the runs that disagree (more than half an interval apart) and asking for --steps (steps= in Python,
    where `flag` is "epochs=")."""
    given = as_written(flag, evaluations)
    fix = "give steps= (the planned step)" if flag.endswith("=") else "give --steps (the planned step)"
    # a run with one evaluation has no interval to count by: it is too short to forecast anyway (left out later)
    runs = [r for r in runs if len(r.steps) >= 2] or runs
    planned = {r.path or r.name: evaluation_step(r.steps, evaluations) for r in runs}
    bad = [name for name, step in planned.items() if step is None]
    if bad:
        raise LcpipeError(f"{bad[0]}: logged by optimizer step past step {evaluations}, with more than {evaluations} "
                          f"evaluations or too few to read an interval, so {given} is neither its steps nor its "
                          f"evaluations; {fix}")
    steps = sorted(planned.values())
    interval = float(np.median([np.median(np.diff(r.steps)) for r in runs]))
    if steps[-1] - steps[0] > interval / 2:
        low, high = (min(planned, key=planned.get), max(planned, key=planned.get))
        raise LcpipeError(f"{given} counts evaluations here, and they end at different steps ({low}: "
                          f"step {planned[low]}, {high}: step {planned[high]}); {fix}")
    if steps[-1] > MAX_STEPS:
        raise LcpipeError(f"{given} evaluations end at step {steps[-1]}, past the {MAX_STEPS} steps "
                          f"lcpipe forecasts; {fix}")
    return steps[-1]


def with_history_direction(metric: Metric, history: list[Curve]) -> tuple[Metric, str | None]:
    """Metric.with_history_direction on the history's curves of the metric: a name that says no direction (mode
    auto) takes the one its curves improve in."""
    return metric.with_history_direction([c.columns[metric.name] for c in history if metric.name in c.columns])


def with_history_scale(metric: Metric, history: list[Curve]) -> Metric:
    """The metric with its scale (kind "any") or floor (kind "positive") set from the history
    (Metric.with_scale)."""
    return metric.with_scale([c.columns[metric.name] for c in history if metric.name in c.columns])


def fit_on_history(name: str, params: Params, history: list[Curve], runs: list[Curve],
                   metric: Metric | None = None, say=lambda _: None) -> Predictor:
    """Predictor `name` fitted on the history, which must hold none of the runs themselves (history_read)."""
    metric = metric or as_metric(params.features.metric)
    return fit_read(name, params, history_read(history, runs, metric, say), metric, say)


def history_read(history: list[Curve], runs: list[Curve], metric: Metric, say=lambda _: None) -> list[Curve]:
    """The history curves a forecast learns from: none of them a run's own (check_apart), those that diverged or hold
    a missed evaluation left out and named through `say`, and enough left to learn from."""
    if not history:
        raise LcpipeError("the history holds no curves; give finished curves to forecast from")
    if metric.name == "loss" and any(c.path is not None and Path(c.path).name == TRAINER_STATE
                                     for c in [*runs, *history]):
        # the Trainer logs its training loss as `loss` and its evaluation's as `eval_loss`: a newcomer's --metric loss
        # forecast the training loss without a word (red team)
        say(f"--metric loss: in a Hugging Face Trainer's {TRAINER_STATE}, 'loss' is the training loss (logged every "
            "logging_steps); its evaluation loss is 'eval_loss' (--metric eval_loss)")
    check_apart(history, runs, "a live run", metric.name)
    return learnable_history(zeros_left_out(history, metric, say), say)


def fit_read(name: str, params: Params, history: list[Curve], metric: Metric, say=lambda _: None) -> Predictor:
    """Predictor `name` fitted on curves history_read kept, each put on its grid."""
    sources = [series_of(c, metric) for c in history]
    if name == "auto" and (note := spiked_finals_note(history, sources, metric)):
        say(note)
    return build(name, params).fit(sources)


def spiked_finals_note(history: list[Curve], sources: list, metric: Metric) -> str:
    """The line naming the history curves whose final evaluation `auto` reads as the one before it
    (auto.settled_final: it stands far out on the bad side of the ones before), or ""."""
    named = [c.path or c.name for c, s in zip(history, sources, strict=True)
             if settled_final(s, metric.bounded) is not s]
    if not named:
        return ""
    more = f" and {len(named) - 3} more" if len(named) > 3 else ""
    return (f"note: history: the final evaluation of {', '.join(map(str, named[:3]))}{more} stands far out from the "
            "ones before it (a spike nothing after it confirms): read as the one before it")


def config_keys_used(predictor: Predictor, history: list[Curve], runs: list[Curve]) -> str:
    """One line for the user: which config keys the forecast read, from how many runs and history
    curves (a forecaster that reads none, or runs and history without configs, say so)."""
    keys = predictor.config_keys
    if not keys:
        return f"config: {predictor.name} reads no run configs"
    used, unread = _core_keys_used(keys, history, runs)
    hyper = _hyperparameters_used(predictor, history, runs)
    if not used and not hyper:
        return (f"config: none used (the runs and the history share no config key of {', '.join(keys)}); "
                f"analogs are weighted by prefix fit alone{unread}")
    return "config: " + "; ".join(part for part in (used, hyper) if part) + unread


def unstated_dataset_note(predictor: Predictor, runs: list[Curve]) -> str:
    """A note where no run states its dataset, for a forecaster that reads one: a history of another dataset then goes
    unnoticed, and its bands keep the narrow width of forecasts within one dataset (red team: tracker exports state
    none; a CIFAR-100 history forecast CIFAR-10 runs 2-5 points low, 0 of 8 finals inside, the best run stopped).
    Else ""."""
    if "dataset" not in predictor.config_keys or any(usable_value("dataset", r.config["dataset"], r.config)
                                                      for r in runs if "dataset" in r.config):
        return ""
    return ("note: no run states its dataset, so a history of another dataset goes unnoticed and keeps its narrow "
            "bands; where it may be, state the dataset of every run and history curve (`dataset` in its sidecar, "
            "<run>.json; configs= in Python) to have such bands widened")


def config_values_ignored(predictor: Predictor, runs: list[Curve]) -> str:
    """The runs' config values of keys the forecaster reads that it cannot read ("optimizer=['sgd']"), as the CLI's
    config line names them, or "" (the Python API warns with it)."""
    return _core_keys_used(predictor.config_keys, [], runs)[1].removeprefix("; ") if predictor.config_keys else ""


def _hyperparameters_used(predictor: Predictor, history: list[Curve], runs: list[Curve]) -> str:
    """The clause naming the other hyper-parameters the forecaster compared (auto.hyper_values), if any."""
    if not predictor.reads_hyperparameters:
        return ""
    in_runs = {k for r in runs for k in hyper_values(r.config)}
    shared = sorted(in_runs & {k for c in history for k in hyper_values(c.config)})
    if not shared:
        return ""
    named = ", ".join(shared[:8]) + (f" and {len(shared) - 8} more" if len(shared) > 8 else "")
    return f"hyper-parameters compared among runs of one dataset: {named}"


def _core_keys_used(keys: tuple[str, ...], history: list[Curve], runs: list[Curve]) -> tuple[str, str]:
    """("used K, ... (counts)" or "" when runs and history share none of `keys`, "; ignored ..." or "")."""
    in_runs = sorted({k for r in runs for k, v in r.config.items() if k in keys and usable_value(k, v, r.config)})
    in_history = {k for c in history for k, v in c.config.items() if k in keys and usable_value(k, v, c.config)}
    used = [k for k in in_runs if k in in_history]
    ignored = sorted({f"{k}={v!r}"[:40] + (f" (beside schedule {_cut(r.config['schedule'])})"
                                           if k == "milestones" and usable_value(k, v) else "")
                      for r in runs for k, v in r.config.items() if k in keys and not usable_value(k, v, r.config)})
    more = f" and {len(ignored) - 3} more" if len(ignored) > 3 else ""
    unread = f"; ignored (not a value lcpipe reads there): {', '.join(ignored[:3])}{more}" if ignored else ""
    if not used:
        return "", unread
    with_config = sum(any(usable_value(k, r.config.get(k), r.config) for k in used) for r in runs)
    history_with = sum(any(usable_value(k, c.config.get(k), c.config) for k in used) for c in history)
    # a run stating one of them counts above; a key fewer of them state is named with its own count (review: 40 of
    # 40 runs "stated" lr where 16 gave it as text or inside a nested map, which nothing read)
    fewer = [f"{k} by {n}" for k in used
             if (n := sum(usable_value(k, r.config.get(k), r.config) for r in runs)) < with_config]
    return (f"used {', '.join(used)} ({with_config} of {len(runs)} runs, {history_with} of {len(history)} history "
            f"curves state them{'; of those runs, only ' + ', '.join(fewer) if fewer else ''})"), unread


def _cut(text: str, most: int = 24) -> str:
    """A config's text quoted, cut short where long (review: the cut fell on the closing parenthesis)."""
    return repr(text if len(text) <= most else text[:most - 3] + "...")


def usable_value(key: str, value, config: dict | None = None) -> bool:
    """Whether the forecaster reads this config value (auto.config_distance, auto.milestones_of): a
    positive number for lr, numbers for milestones (unless the `config` they come from names a schedule with no lr
    steps), a plain scalar for the rest; a list, a map or the text "1e-3" for lr is not read."""
    if value is None:
        return False
    if key == "lr":
        return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf")
    if key == "milestones":
        return usable_milestones(value) and not smooth_schedule(config or {})
    return isinstance(value, str | int | float | bool) and bool(value)  # config_distance: a falsy value is none


def unconfirmed_note(predictor: Predictor, grid: OnGrid, metric: str | Metric) -> str:
    """The line naming the live runs that `auto` forecast without their latest evaluation (auto.unconfirmed_latest:
    it stands far out on the bad side of the ones before, a spike or a divergence starting), or ""."""
    if predictor.name != "auto":
        return ""
    metric = as_metric(metric)
    named = [run.name for run, points in zip(grid.runs, grid.points, strict=True)
             if not run.diverged and 2 <= len(values := series_of(run, metric).values) < points
             and unconfirmed_latest(badness(values[None, :], metric.bounded), metric.bounded)[0]]
    if not named:
        return ""
    more = f" and {len(named) - 3} more" if len(named) > 3 else ""
    return (f"note: the latest evaluation of {', '.join(named[:3])}{more} stands far out from the ones before it (a "
            "spike, or a divergence starting): forecast from the ones before until its next evaluation confirms it")


def uncalibrated_note(predictor: Predictor) -> str:
    """The line saying `auto`'s 80 % intervals are its analogs' own spread, uncalibrated, or "": a history of two
    curves, or of two recipes' few, leaves too little to hold out and forecast from the rest (auto.Auto's
    calibration needs FEW_MIN_FOLDS folds). Measured: from 2 foreign dev curves such bands held 40 % of the finals at
    20 % of the run, and the stop rule lost 0.57 accuracy points where 5 calibrated curves lose 0.22
    (python bench/small_history.py)."""
    history = getattr(predictor, "history_", None)
    if predictor.name != "auto" or not history or not getattr(predictor, "calibrate", False) \
            or getattr(predictor, "final_q_", None) is not None:
        return ""
    return (f"note: a history of {len(history)} curve{'s' if len(history) != 1 else ''} is too few to calibrate the "
            "80 % intervals (it takes 3 runs of one recipe, the dataset and arch their configs state or one study's "
            "folder where they state none, or curves of 3 recipes): they are its analogs' own spread and hold less "
            "than 80 % of finals, so a run may be stopped that would not lose; add finished curves to the history")


def early_note(predictor: Predictor, grid: OnGrid, metric: str | Metric) -> str:
    """The line naming the live runs `auto` sees at a share of their length where the history's curves (of median
    length) hold fewer than 3 evaluations, or "". No band was ever checked there: the analogs' prefixes are
    interpolated between their first evaluations, and the calibration's earliest share's band is carried back. Runs
    reporting every 10 of 5,000 steps, seen at step 60 against 164-epoch history curves, were told 0.846 [0.838,
    0.855], and 7 of 8 ended outside (red team). The same share guards ForecastPruner's first checks
    (_history_resolution)."""
    history = getattr(predictor, "history_", None)
    if predictor.name != "auto" or not history:
        return ""
    metric, (length, share) = as_metric(metric), history_resolution([len(h) for h in history])
    early = [run.name for run, points in zip(grid.runs, grid.points, strict=True)
             if not run.diverged and 0 < len(values := series_of(run, metric).values) < points
             and len(values) / points < share * (1 - 1e-9)]
    if not early:
        return ""
    one = len(early) == 1
    named = ", ".join(early[:3]) + (f" and {len(early) - 3} more" if len(early) > 3 else "")
    return (f"note: {named} {'is' if one else 'are'} seen before {100 * share:.2g} % of {'its' if one else 'their'} "
            f"length, where the history's curves ({length:g} evaluations at the median) hold fewer than "
            f"{CALIBRATION_MIN_POINTS}: {'its 80 % interval' if one else 'their 80 % intervals'} there may be too "
            "narrow; forecast again later in the run")


def late_note(raw: list[Curve], grid: OnGrid, metric: str | Metric) -> str:
    """The line naming the live runs whose evaluations after their grid's last point stand out on the bad side of the
    LATEST_BEFORE evaluations at or before it (their median, by more than SPIKE, as unconfirmed_latest reads one
    point; an accuracy-like metric also where it has fallen below half), or "". A run is forecast from its grid,
    whose last point is the last it reached: a loss x20 over the 19 evaluations after it (every 10 steps, a point each
    200) was forecast from before them, kept and named likeliest to end best, and nothing said so (red team). Like a
    spike at a grid point, they are forecast from the points before until the next grid point confirms them, and
    named. Raw evaluations on both sides (review: the grid point, interpolated toward the first bad one, hid a x4
    loss; an accuracy at 0.57 falling to 0, never e-fold in log-error, went unnamed; a log of every step, read with
    no step column, was skipped)."""
    metric = as_metric(metric)
    by_name = {r.name: r for r in raw if not r.diverged}
    named = []
    for on, spacing, unit in zip(grid.runs, grid.spacings, grid.units, strict=True):
        run = by_name.get(on.name)
        if run is None or len(on) < 2 or spacing <= 1 + 1e-9 and run.steps is None:
            continue  # one point an epoch: nothing lies between its points
        steps = run.steps if run.steps is not None else np.arange(1.0, len(run) + 1)
        values = series_of(run, metric).values
        last = len(on) * spacing
        after, before = values[steps > last * (1 + 1e-9)], values[steps <= last * (1 + 1e-9)][-LATEST_BEFORE:]
        if len(after) < 2 or not len(before):
            continue  # one evaluation past the point is the latest's spike question, which the next grid point
            # settles (review: one noisy accuracy past a grid point named 8 of 200 healthy runs at 0.99)
        late, was = badness(after, metric.bounded), badness(before, metric.bounded)
        if metric.bounded:
            late, was = np.maximum(late, SPIKE_ERROR_FLOOR), np.maximum(was, SPIKE_ERROR_FLOOR)
        halved = metric.bounded and float(np.median(after)) < 0.5 * float(before.min())
        if halved or float(np.median(late)) - float(was.max()) > SPIKE:
            named.append(f"{on.name} (its {len(after)} after {unit.rstrip('s')} {_whole(last)})")
    if not named:
        return ""
    more = f" and {len(named) - 3} more" if len(named) > 3 else ""
    return (f"note: the latest evaluations of {', '.join(named[:3])}{more} stand far out from the ones before them (a "
            "spike, or a divergence starting): forecast from the points of its grid before them until its next grid "
            "point confirms them")


def forecast_runs(predictor: Predictor, grid: OnGrid, metric: str | Metric) -> list[RunForecast]:
    """Forecast every run (on its grid: planned_epochs) with a fitted `predictor` in one batched call,
    then decide keep/stop in the internal space (higher is better), and give the results in the
    metric's own units. A run that diverged is stopped with its reason and takes no part in the rule."""
    metric = as_metric(metric)
    runs, points = grid.runs, grid.points
    series = [series_of(r, metric) for r in runs]
    ok = [i for i, r in enumerate(runs) if not r.diverged]
    live = [i for i in ok if len(series[i].values) < points[i]]
    batched = predictor.forecast_many([series[i] for i in live], [points[i] for i in live]) if live else []
    empty = Forecast(np.empty(0), np.empty(0), np.empty(0))
    forecasts = [empty] * len(runs)
    for i, fc in zip(live, batched, strict=True):
        forecasts[i] = fc
    p_all, keep_all = np.zeros(len(runs)), np.zeros(len(runs), dtype=bool)
    if any(forecasts[i].lower is None for i in live):  # no interval (poly, lstm, ...): nothing to decide by; read
        # as certain to within the 0.2-point floor, every run but the lead was stopped at P(ends best) 0.000 (newcomer)
        p_all[:], keep_all[ok] = np.nan, True  # a diverged run's too (review: its 0 sorted it above every other)
    elif ok:
        finals = np.array([final_value(series[i].values, forecasts[i]) for i in ok])
        mean, std = finals[:, 0], std_of(finals[:, 1], finals[:, 2])
        unit = metric.unit([series[i].values for i in ok])  # the study's own noise: margins for a loss
        # runs seen at one step (in one unit) are compared relative to each other: rule_for's same_step
        seen = {key: n for n, key in enumerate(dict.fromkeys((grid.seen[i], runs[i].steps is None) for i in ok))}
        at = np.array([seen[(grid.seen[i], runs[i].steps is None)] for i in ok])
        p_all[ok], keep_all[ok] = p_best(mean, std, STD_FLOOR * unit), keep(mean, std, unit=unit, seen=at,
                                                                       **rule_for(metric.kind))
    out = []
    for i, (run, s) in enumerate(zip(runs, series)):
        fc = in_units(forecasts[i], metric)
        reason = f"diverged: {run.diverged}" if run.diverged else ""
        out.append(RunForecast(s.name, run.metric(metric.name), grid.planned[i], fc, float(p_all[i]),
                               "keep" if keep_all[i] else "stop", grid.spacings[i], reason, grid.seen[i],
                               grid.units[i]))
    return out


def without_interval(results: list[RunForecast]) -> bool:
    """Whether the predictor gave the live runs no interval (poly, lstm, last_value, source_shift)."""
    return any(len(r.forecast.mean) and r.forecast.lower is None for r in results)


def no_interval_note(predictor: str, results: list[RunForecast]) -> str | None:
    """One line where the predictor gave no interval: its forecasts stand alone and decide nothing, or None."""
    if not without_interval(results):
        return None
    return (f"note: {predictor} gives no 80 % interval, so there is no P(ends best) and no run is stopped by it "
            "(every run kept); auto, the default predictor, and parametric give intervals and decide")


def report_json(results: list[RunForecast], metric: str | Metric, epochs: int | None, predictor: str,
                left_out: list[dict] | None = None) -> str:
    """The --out JSON (the contract in the README), one run per line: `epochs` at the top is --epochs (None where
    none was given: each run's own file planned it),
    each run's own `epochs` the length it was forecast to (its own file's when it states one), in
    its own `unit` ("epochs", or "steps" for a run logged by step); `observed` its last epoch or step seen;
    `mode` the metric's direction; `left_out` the runs too short to forecast yet, each with its reason."""
    metric = as_metric(metric)
    head = json.dumps({"metric": metric.name, "mode": metric.mode, "epochs": epochs, "predictor": predictor,
                       "left_out": left_out or []})
    runs = ",\n  ".join(json.dumps(r.as_json(), allow_nan=False) for r in results)
    return f'{head[:-1]}, "runs": [\n  {runs}\n]}}\n'


def table(results: list[RunForecast], metric: str | Metric) -> str:
    """The stdout table: run, epochs (or steps) seen, final value with 80 % interval, P(ends best),
    keep/stop; the runs that diverged are marked so, and why each did follows the table, one line each (red team:
    a reason of 150 characters in the final column pushed every row's P(ends best) and decision off screen)."""
    metric = as_metric(metric)
    common = _decimals([r.final[0] for r in results])

    def fmt(r: RunForecast) -> str:  # a row's own value never rounds to 0 (review: a reward of 0.004 among 480s)
        if metric.kind == "fraction":
            return ".4f"
        own = max(common, _decimals([r.final[0]]))
        return f".{own}f" if own <= MAX_DECIMALS else ".5g"  # below 1e-8: significant digits, not a row of zeros

    width = max(3, *(len(r.run) for r in results))
    units = {r.unit for r in results}  # runs logged by epoch beside runs logged by step: each row says its own
    mixed = len(units) > 1  # (red team: every row was headed "steps seen"; review: "seen (epochs/steps)" read as
    seen = "seen" if mixed else f"{units.pop() if units else 'epochs'} seen"  # epochs seen / steps planned)
    cells = [f"{r.seen}/{r.epochs}" + (f" {r.unit}" if mixed else "") for r in results]
    wide = max(11, len(seen), *map(len, cells))
    finals = ["diverged (below)" if r.reason else f"{r.final[0]:{fmt(r)}} (no interval)" if np.isnan(r.final[1])
              else f"{r.final[0]:{fmt(r)}} [{r.final[1]:{fmt(r)}}, {r.final[2]:{fmt(r)}}]" for r in results]
    header = "final " + metric.name + " [80 % interval]"
    column = max(30, len(header), *map(len, finals))
    lines = [f"{'run':<{width}}  {seen:>{wide}}  {header:<{column}}  {'P(ends best)':>12}  decision"]
    for r, cell, final in zip(results, cells, finals, strict=True):
        p = f"{r.p_best:.3f}" if np.isfinite(r.p_best) else "n/a"
        lines.append(f"{r.run:<{width}}  {cell:>{wide}}  {final:<{column}}  {p:>12}  {r.decision}")
    lines += [f"{r.run}: {r.reason}" for r in results if r.reason]
    return "\n".join(lines) + "\n"


MAX_DECIMALS = 12  # a final below 1e-8 is shown to 5 significant digits instead


def _decimals(values: list[float]) -> int:
    """Decimals that give the table's typical final 5 significant digits, the same in every row and bracket
    (with 5 significant digits each, a cross-entropy read `2.362 [2.2737, 2.4538]`, its columns unaligned); past
    MAX_DECIMALS for values below 1e-8."""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if not finite.size:
        return 4
    return int(max(0, 4 - np.floor(np.log10(np.median(finite)))))


def mode_against_name(name: str, mode: str) -> str | None:
    """What to warn when a given mode contradicts the metric's name (mode "max" for a val_loss), else
    None: the mode is used, but the runs kept are then the worst ones if the name is right."""
    named = Metric.infer(name)
    if mode == "auto" or not named.says_mode or named.mode == mode:
        return None
    says, kept = ("lower", "highest") if named.mode == "min" else ("higher", "lowest")
    return f"the name says {says} is better; mode {mode} is used, so the runs {kept} in {name!r} are kept"
