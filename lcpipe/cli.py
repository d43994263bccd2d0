"""`lcpipe` (also `python -m lcpipe`): lcpipe's forecasts on curves that did not come from the pipeline.

    lcpipe forecast --history DIR --runs PATH [PATH ...] [--epochs N | --steps N] [--metric test_acc]
        [--mode min|max|auto] [--kind auto|fraction|positive|any] [--predictor NAME] [--out FILE.json]
        [--plot FILE.png]

Forecasts runs that are still training from a history of finished curves: where each run ends
(80 % interval), P(it ends best), and keep or stop. Runs and history are curve files (lcpipe's
CSV, the external epoch,train_loss,train_err,test_err one, any CSV with an epoch or step column),
directories of them, DVCLive folders, or Hugging Face Trainer output folders (their trainer_state.json).
The metric may be an accuracy, a loss (val_loss, val_ce, perplexity: --mode auto reads min from such
names) or any other series (--kind any: a loss that may go negative, as a WGAN critic's, which the name
alone would read as a loss >= 0); a run whose metric turned NaN or inf is stopped as diverged. The
table goes to stdout, the same as JSON to FILE.json (in the metric's own units).

    lcpipe evaluate --curves DIR --cutoffs 5,10,20,40 [--history DIR] [--target NAME]
        [--metric test_acc] [--mode min|max|auto] [--kind ...] [--predictors poly,lstm,...] [--out FILE.json]

Backtests the predictors on finished curves: each target is forecast from its first `cutoff`
epochs (points of its grid, for curves logged by step) by predictors fitted on the other curves
(leave-one-out) or, with --history, on the history alone, and scored; tables of mean RMSE/MAE
go to stdout. With --history it also reports the decision at each cutoff, made as it would be
made live: all curves seen to the cutoff at once, ranked by forecast final value against the true
ranking.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from lcpipe.atomic import atomic_path, carries_mark, check_output, resolve, write_text
from lcpipe.config import FeatureParams, Params, PredictParams, load_params
from lcpipe.curve import MAX_POINTS, MAX_STEPS, Curve, as_finished, grid_of
from lcpipe.errors import LcpipeError, exits_cleanly, say_out
from lcpipe.forecasting import live
from lcpipe.forecasting.backtest import backtest
from lcpipe.forecasting.copies import check_apart
from lcpipe.forecasting.decision_scores import decisions
from lcpipe.forecasting.logs import (
    check_finished,
    check_history,
    finished_only,
    note_ended_early,
    read_curve_dir,
    read_curves,
    usable_history,
    zeros_left_out,
)
from lcpipe.forecasting.registry import PREDICTORS
from lcpipe.metric import KINDS, MODES, Metric, axis_named
from lcpipe.progress import say

PLOT_FORMATS = (".png", ".svg", ".pdf")
KIND_HELP = ("what the values are: fraction (a score in [0, 1], as an accuracy), positive (>= 0, as a loss), any "
             "(any finite series, as a critic's loss that goes negative); auto (default): from the metric's name")


class Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other lcpipe error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _ints(text: str, what: str) -> list[int]:
    """A comma-separated list of whole numbers, once each in the order given."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {what}") from None
    return list(dict.fromkeys(values))


def _int_list(text: str) -> list[int]:
    values = _ints(text, "integers")
    if not values:
        raise argparse.ArgumentTypeError("give at least one cutoff")
    return values  # once each: a repeated cutoff would count its rows (and epochs saved) twice


def _epoch_list(text: str) -> list[int]:
    """--lr-drops: epochs, each at least 1, once each (a drop listed twice is one drop)."""
    values = _ints(text, "epochs")
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give the epochs after which the lr dropped, each at least 1")
    return sorted(values)


def _name(text: str) -> str:
    if text not in PREDICTORS:
        raise argparse.ArgumentTypeError(f"unknown predictor {text!r}; choose from {', '.join(PREDICTORS)}")
    return text


def _names(text: str) -> list[str]:
    names = [_name(v.strip()) for v in text.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"no predictor in {text!r}; choose from {', '.join(PREDICTORS)}")
    return list(dict.fromkeys(names))


def _positive(text: str) -> int:
    # ASCII digits only: '²'.isdigit() is True, and int() would then fail with argparse's "invalid _positive value";
    # 200.0 is 200, as lcpipe.forecast(epochs=200.0) and a sidecar's 200.0 are (review)
    whole = re.fullmatch(r"([0-9]+)(\.0*)?", text)
    if not whole or not 1 <= int(whole.group(1)) <= MAX_STEPS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number of epochs or steps; --epochs must "
                                         f"be a positive whole number (1..{MAX_STEPS}), as must --steps")
    return int(whole.group(1))


def _column(text: str) -> str:
    if not text.strip() or any(c in text for c in "\n\r,;\t"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a column name")
    if why := axis_named(text):
        raise argparse.ArgumentTypeError(why)
    return text.strip()


def _parser() -> argparse.ArgumentParser:
    ap = Parser(prog="lcpipe", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    fc = sub.add_parser("forecast", help="forecast runs still training, and say which to keep or stop",
                        description="Forecast where each run still training ends (80 % interval), P(it ends best) "
                                    "and keep or stop, from a history of finished curves of other runs. The table "
                                    "goes to stdout; what was read and decided, and why, to stderr.")
    fc.add_argument("--history", type=Path, nargs="+", required=True, action="extend",
                    help="finished curves of any length: files, directories of them, DVCLive folders, Hugging Face "
                         "Trainer output folders, or a corpus of study folders (one holding a MANIFEST.csv or only "
                         "folders)")
    fc.add_argument("--runs", type=Path, nargs="+", required=True, action="extend",
                    help="the partial curves of the runs still training (files, directories, DVCLive folders, "
                         "Hugging Face Trainer output folders)")
    fc.add_argument("--epochs", "--steps", dest="epochs", metavar="N", type=_positive, action=_Length,
                    help="planned length of the runs, in the unit of their x column: epochs, or optimizer steps "
                         "for runs logged by step (a run whose own file says otherwise keeps its own); --epochs "
                         "on a run logged by step that is already past it counts its evaluations. Needed unless "
                         "every run's own file plans its length (a sidecar's epochs or max_steps, a Hugging Face "
                         "Trainer state's max_steps)")
    fc.add_argument("--metric", default=FeatureParams().metric, type=_column,
                    help="the column to forecast: an accuracy, a loss, any metric (default test_acc)")
    fc.add_argument("--mode", default="auto", choices=MODES,
                    help="min: lower is better (a loss); max: higher is better; auto (default): min for names "
                         "like loss, ce, err, mse, perplexity, max otherwise")
    fc.add_argument("--kind", default="auto", choices=("auto", *KINDS), help=KIND_HELP)
    fc.add_argument("--predictor", type=_name, default=live.DEFAULT_PREDICTOR,
                    help=f"from {', '.join(PREDICTORS)} (default {live.DEFAULT_PREDICTOR}); only auto and "
                         "parametric give an 80 %% interval, and so decide keep or stop")
    fc.add_argument("--out", type=Path, help="results JSON")
    fc.add_argument("--plot", type=Path,
                    help="figure of every run's prefix, forecast and 80 %% band (.png, .svg or .pdf)")

    ev = sub.add_parser("evaluate", help="backtest forecasts of finished curves (leave-one-out or from a history)",
                        description="Backtest predictors on finished curves: each is cut at each cutoff, forecast "
                                    "by predictors fitted on the other curves (or on --history alone) and scored "
                                    "against its real end (RMSE, MAE, final error, interval coverage).")
    ev.add_argument("--curves", type=Path, required=True,
                    help="one study's folder of curve files (or of DVCLive or Hugging Face Trainer output folders)")
    ev.add_argument("--cutoffs", type=_int_list, required=True, action="extend",  # repeated, they add up
                    help="e.g. 5,10,20,40: the first points of each curve that are seen (epochs, or its evaluations "
                         "for a curve logged by step; points of its regular grid where those differ, which stderr "
                         "names)")
    ev.add_argument("--history", type=Path, nargs="+", action="extend",
                    help="fit on these finished curves alone (files, folders, DVCLive folders or a corpus of study "
                         "folders); every curve in --curves is then a target")
    ev.add_argument("--target", help="forecast only this curve (file name without .csv)")
    ev.add_argument("--metric", default=None, type=_column, help="the column to forecast (default test_acc)")
    ev.add_argument("--mode", default="auto", choices=MODES, help="min, max or auto (as for forecast)")
    ev.add_argument("--kind", default="auto", choices=("auto", *KINDS), help=KIND_HELP)
    ev.add_argument("--predictors", type=_names, default=None, action="extend",
                    help=f"comma-separated, from {', '.join(PREDICTORS)} (default: all; lstm is refitted for "
                         "every target and takes most of the time)")
    ev.add_argument("--params", type=Path, default=None,
                    help="take the features section and every predictor's (auto, poly, lstm, parametric) from this "
                         "params.yaml (default: built-in defaults)")
    ev.add_argument("--lr-drops", type=_epoch_list, default=None,
                    help="for curves without an lr column: epochs (steps, for curves logged by step) after which "
                         "the lr was divided by 10 (e.g. 82,123), so lr-aware inputs (features.inputs lr / to_drop) "
                         "can be used")
    ev.add_argument("--out", type=Path, help="results JSON (the tables go to stdout either way)")
    return ap


def with_step_lr(curve: Curve, drops: list[int]) -> Curve:
    """`curve` with an lr column of a step schedule (1, then /10 after each drop epoch), unless it has one."""
    if curve.lr is not None:
        return curve
    at = curve.steps if curve.steps is not None else curve.columns["epoch"]  # a drop is in the curve's own unit
    lr = 0.1 ** np.array([sum(e > d for d in drops) for e in at], dtype=float)
    return replace(curve, columns={**curve.columns, "lr": lr})


FAR_OFF = 10.0  # a target's RMSE this many times the others' median is off their scale


def dominated_means(rows: list[dict], metric: Metric, share: float = 0.5) -> list[str]:
    """A line for each target that alone makes up more than `share` of some predictor's summed RMSE at
    a cutoff, and FAR_OFF times the others' median: a loss that explodes (10^15 and still finite) makes
    a mean in the loss's own units that run alone, and the reader should know before comparing predictors
    by it. Not for a bounded metric (an
    accuracy): no run is off its scale, and one that lags the rest (a plain net among residual ones) is no
    run that blew up."""
    if metric.bounded:
        return []
    out = {}
    for (cutoff, predictor) in {(r["cutoff"], r["predictor"]) for r in rows}:
        group = [r for r in rows if r["cutoff"] == cutoff and r["predictor"] == predictor]
        total = sum(r["rmse"] for r in group)
        worst = max(group, key=lambda r: r["rmse"])
        rest = [r["rmse"] for r in group if r is not worst]
        if len(group) < 3:  # too few to tell one apart (and a median of none warns)
            continue
        # far off: ten times the others' median too (of three runs, one simply outside the history's range
        # is often half the sum, and was told it had blown up; red team)
        far = worst["rmse"] > FAR_OFF * np.median(rest)
        # and its final beyond the others' finals by more than their span: a run that is only noisier late (a LoRA
        # run at cutoff 45 of 50, its final beside the others') was told its values were off their scale (red team)
        finals = [r["final_actual"] for r in group if r is not worst]
        low, high = min(finals, default=np.nan), max(finals, default=np.nan)
        outside = max(low - worst["final_actual"], worst["final_actual"] - high) > high - low  # by their own span
        if total > 0 and worst["rmse"] > share * total and far and outside:
            out.setdefault(worst["target"], set()).add(cutoff)
    return [f"note: target {t!r} alone is more than half of the summed RMSE at cutoff "
            f"{', '.join(map(str, sorted(c)))}: its {metric.name} is far off the others' scale (a run that blew "
            "up?); move it out of --curves to compare the predictors on the rest" for t, c in sorted(out.items())]


# the key only each command's results file holds, and every key it may hold
RESULTS_KEY = {"forecast": "runs", "evaluate": "results"}
RESULTS_KEYS = {"forecast": {"metric", "mode", "epochs", "predictor", "left_out", "runs"},
                "evaluate": {"metric", "mode", "results", "decisions", "points"}}


def _written_by(document) -> str | None:
    """The command whose --out JSON this is ("forecast" / "evaluate"), or None: its keys are that file's and
    no others, with the metric, the mode and the list of results. A `metric` key alone is no proof: every
    run's sidecar and the pipeline's DVC metrics files have one (red team: `--out` on a sidecar replaced it)."""
    if not isinstance(document, dict) or not isinstance(document.get("metric"), str) \
            or document.get("mode", "max") not in ("min", "max"):  # no mode: written before 2026-12-03
        return None
    return next((c for c, keys in RESULTS_KEYS.items()
                 if isinstance(document.get(RESULTS_KEY[c]), list) and set(document) <= keys), None)


def _check_results_file(path: Path, command: str) -> None:
    """An --out lcpipe may write its results JSON to: a name ending in .json and, where the file exists, one
    this command wrote before (_written_by): a rerun replaces its own results, never a note,
    a curve or a figure that sits there (red team: `--out notes.txt` and `--out other_study.csv` were
    silently replaced with JSON)."""
    if path.suffix.lower() != ".json":
        raise LcpipeError(f"--out {path}: lcpipe writes its results as JSON; give a file name ending in .json")
    if not path.is_file():
        return
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        document = None
    other = _written_by(document)
    if other is None:
        raise LcpipeError(f"--out {path} exists and is not a results file lcpipe wrote, which lcpipe would replace; "
                          "give a new file name, or remove it first")
    if other != command:  # e.g. a backtest of minutes, LSTM included
        raise LcpipeError(f"--out {path} holds `lcpipe {other}`'s results, which `lcpipe {command}` would replace; "
                          "give a new file name, or remove it first")


FIGURE_MARK = b"lcpipe forecast --plot"  # as reporting.live_figure writes it into each figure's metadata


def _check_figure_file(path: Path) -> None:
    """A --plot lcpipe may write its figure to: a new file, or one an earlier --plot drew (its metadata carries
    FIGURE_MARK), never a figure or document of the user's (red team: `--plot paper/figure3.pdf` replaced a
    hand-made PDF without a word, where --out refuses a file it did not write)."""
    if path.is_file() and not carries_mark(path, FIGURE_MARK):
        raise LcpipeError(f"--plot {path} exists and is not marked as a figure `lcpipe forecast --plot` drew (those "
                          "drawn before 2026-12-05 carry no mark), which lcpipe would replace; give a new file name, "
                          "or remove it first")


def _note_mixed_intervals(curves: list[Curve], cutoffs: list[int]) -> None:
    """One stderr line when a study's curves are logged by step at intervals that differ by half or more: a cutoff
    counts each curve's own evaluations, so at one cutoff they are seen to very different steps, and the scores
    and the decision at that cutoff mix early and late prefixes (red team: every 100 and every 1,000 steps, seen to
    steps 500 and 5,000 at cutoff 5, under a header saying all were seen to the cutoff)."""
    logged = [c for c in curves if c.steps is not None and len(c.steps) > 1]
    # each grid as the backtest puts the curve on it, to its last step (or capped): its sidecar's plan is not that
    # (red team: steps logged in tokens beside a max_steps of 5,100 gave "a point each 3200 to 5100 steps")
    spacing = [_finished_spacing(c) for c in logged]
    # every 10 and every 15 steps: seen to steps 100 and 150 at cutoff 10 (1.5x exactly counts)
    if len(spacing) > 1 and max(spacing) >= 1.5 * min(spacing) * (1 - 1e-9):
        c = min(cutoffs)
        every = [float(np.median(np.diff(curve.steps))) for curve in logged]  # as each log counts (125, not 123.077)
        why = (f"logged at different intervals (every {min(every):g} to {max(every):g} steps)"
               if max(every) >= 1.5 * min(every) else  # one interval, but long runs' grids capped (review)
               f"put on grids of different spacing (a point each {min(spacing):.0f} to {max(spacing):.0f} steps: a "
               f"grid holds at most {MAX_POINTS} points)")
        say(f"note: the curves are {why}; a cutoff counts each curve's own grid points, so at cutoff {c} they are "
            f"seen to about step {c * min(spacing):.0f} to {c * max(spacing):.0f}; compare curves logged at one "
            "interval and of one length")


def evaluate_command(args: argparse.Namespace) -> list[dict]:
    if args.out is not None:
        check_output(args.out, [args.curves, *(args.history or []), *([args.params] if args.params else [])])
        _check_results_file(args.out, "evaluate")
    params = load_params(args.params, pipeline=False) if args.params else Params()
    params = replace(params, features=replace(params.features, metric=args.metric or params.features.metric))
    metric = Metric.infer(params.features.metric, args.mode, _kind(args.kind))
    _warn_mode_against_name(params.features.metric, args.mode)
    # once each, as each flag's own list is: `--cutoffs 10 --cutoffs 10` would count a cutoff's rows twice
    args.cutoffs = list(dict.fromkeys(args.cutoffs))
    predictors = list(dict.fromkeys(args.predictors or PredictParams().predictors))
    # a loss curve holding a missed evaluation logged as 0 is no target, source or analog: in log space that 0 lies
    # far below any real value (red team: one such row made source_shift forecast 43 for finals near 1.9)
    curves = finished_only(zeros_left_out(read_curve_dir(args.curves, metric, say=say), metric, say, role="curves"),
                           say, role="curves")
    history = finished_only(zeros_left_out(read_curves(args.history, metric, studies=True, say=say), metric, say),
                            say) if args.history else None
    metric = _with_history_direction(metric, history or curves)
    metric = live.with_history_scale(metric, history or curves)
    check_finished(curves, "a target")  # one scored against a last epoch that is not its final flatters every forecast
    note_ended_early(curves, "--curves", say)
    for curve in curves:
        if curve.diverged:
            say(f"{curve.path}: not a target: it diverged ({curve.diverged})")
    if history is not None:  # the more specific refusals first: unfinished, a target in the history, then size
        check_finished(history)
        note_ended_early(history, "the history", say)
        check_apart(history, [c for c in curves if not args.target or c.name == args.target], "a target", metric.name)
        check_history(usable_history(history))  # what is learnt from: the diverged ones are left out
    if args.lr_drops:
        end = max(float(c.steps[-1]) if c.steps is not None else float(len(c.columns["epoch"]))
                  for c in [*curves, *(history or [])])
        past = [d for d in args.lr_drops if d >= end]
        if past:  # a drop no curve reaches: every lr column would stay flat, silently
            raise LcpipeError(f"--lr-drops {past[0]}: at or past the end of every curve (the longest ends at "
                              f"{end:g}); give the epochs after which the lr was divided by 10 (steps, for curves "
                              "logged by step)")
        curves = [with_step_lr(c, args.lr_drops) for c in curves]
        if history is not None:
            history = [with_step_lr(c, args.lr_drops) for c in history]
    _note_mixed_intervals(curves, args.cutoffs)
    aimed = [c for c in curves if not args.target or c.name == args.target]  # the targets, as curves
    _note_uncounted(aimed, args.cutoffs)
    rows = backtest(curves, args.cutoffs, predictors, params, history=history,
                    targets=[args.target] if args.target else None, progress=say, metric=metric,
                    skip_past_end=True)
    # a decision is honest only when no candidate's future shaped another's forecast
    lengths = {c.name: len(as_finished(c)) for c in curves}
    seen = {c: {r["target"] for r in rows if r["cutoff"] == c} for c in args.cutoffs}
    candidates = {c.name for c in curves if not c.diverged}  # a diverged curve is no target, so no candidate
    whole = [c for c in args.cutoffs if seen[c] == candidates]  # a decision among some runs is no decision
    if history and not args.target and len(whole) < len(args.cutoffs):
        say(f"decision: not made at cutoff {', '.join(str(c) for c in args.cutoffs if c not in whole)}, "
            "where some curves end before it")
    choices = decisions([r for r in rows if r["cutoff"] in whole], lengths, metric) \
        if history and not args.target else []
    say(metric.describe())
    for line in dominated_means(rows, metric):
        say(line)
    if args.out is not None:
        write_text(args.out, json.dumps({"metric": metric.name, "mode": metric.mode, "results": rows,
                                         "decisions": choices, "points": _points_are(aimed, args.cutoffs)},
                                        indent=2) + "\n")
    from lcpipe.reporting.tables import decision_markdown, markdown_table  # pandas: only for the tables

    text = ""
    points = metric.kind == "fraction"
    unit = "accuracy points" if points else "in its own units"
    targets = {r["target"] for r in rows}
    fewer = " (fewer at a cutoff past a curve's end)" if any(len(seen[c]) < len(targets) for c in seen) else ""
    for score in ("rmse", "mae"):
        text += f"mean {score.upper()} over {len(targets)} target(s){fewer}, {unit} ({metric.name}):\n"
        text += markdown_table(rows, score, percent=points) + "\n"
    if choices:
        text += "decision: all curves seen to the cutoff, ranked by forecast final value (history fitted only)\n"
        text += decision_markdown(choices, percent=points, saved=_points_are(aimed, args.cutoffs),
                                  metric=metric.name) + "\n"
    say_out(text)
    return rows


def _points_are(curves: list, cutoffs: list[int]) -> str:
    """What the curves' points count: epochs, or evaluations where any is on a step axis (every k optimizer steps,
    every half epoch), so that a decision table's savings are not read as epochs; "grid points" where a target's grid
    points are not its evaluations (_uncounted; red team: 10,000 evaluations each, savings of 800 / 2000 read as
    evaluations)."""
    if _uncounted(curves, cutoffs):
        return "grid points"
    return "evaluations" if any(c.steps is not None for c in curves) else "epochs"


def _finished_spacing(curve: Curve) -> float:
    """The spacing of the grid a finished step-axis curve is backtested on (curve.as_finished: to its last step)."""
    return grid_of(curve.steps, int(np.ceil(curve.steps[-1])))[0]


def _evaluation_at(curve: Curve, point: int) -> int:
    """How many of a step-axis curve's evaluations (step 0, the model before training, not counted) lie at or before
    grid point `point` of its backtest grid."""
    return int(np.sum((curve.steps > 0) & (curve.steps <= point * _finished_spacing(curve) + 1e-9)))


def _uncounted(curves: list, cutoffs: list[int]) -> list:
    """The step-axis targets (not diverged) whose grid points are not their evaluations at some cutoff they reach, by
    more than a tenth: a grid capped at MAX_POINTS (red team: 10,000 evaluations), or one at the median interval of
    an irregular log (review: every 10 steps, then every 40: cutoff 100 was evaluation 205)."""
    out = []
    for c in curves:
        if c.steps is None or len(c.steps) < 2 or c.diverged:
            continue
        points = int(round(np.ceil(c.steps[-1]) / _finished_spacing(c)))
        if any(abs(_evaluation_at(c, k) - k) > 0.1 * k for k in cutoffs if k < points):
            out.append(c)
    return out


def _note_uncounted(curves: list, cutoffs: list[int]) -> None:
    """One stderr line where a target's cutoffs count grid points that are not its evaluations (_uncounted), saying
    which step and evaluation the smallest cutoff it reaches stands for (red team: cutoff 100 of curves evaluated
    every 10 of 100,000 steps was scored at step 20,000, not 1,000, with nothing said)."""
    named = _uncounted(curves, cutoffs)
    if not named:
        return
    curve, more = named[0], f" and {len(named) - 1} more" if len(named) > 1 else ""
    points = int(round(np.ceil(curve.steps[-1]) / _finished_spacing(curve)))
    c = min(k for k in cutoffs if k < points)
    say(f"note: {curve.name}{more} {'is' if not more else 'are'} forecast on a regular grid ({points} points in "
        f"{curve.name}, which logged {len(curve.steps)} evaluations), so there a cutoff counts grid points, not "
        f"evaluations: cutoff {c} of {curve.name} is step {c * _finished_spacing(curve):.0f}, its evaluation "
        f"{_evaluation_at(curve, c)}")


def _check_forecast_outputs(args: argparse.Namespace) -> None:
    """--out and --plot refused before any work (every one checked before anything is written):
    unwritable, not a regular file, an input or an input's sidecar, the same file, a format
    matplotlib would not write."""
    if args.plot is not None and args.plot.suffix.lower() not in PLOT_FORMATS:
        raise LcpipeError(f"--plot {args.plot}: give a file name ending in {', '.join(PLOT_FORMATS)}")
    for flag, path in (("--out", args.out), ("--plot", args.plot)):
        if path is not None:
            check_output(path, [*args.history, *args.runs], flag)
    if args.out is not None:
        _check_results_file(args.out, "forecast")
    if args.plot is not None:
        _check_figure_file(args.plot)
    if args.out is not None and args.plot is not None and resolve(args.out) == resolve(args.plot):
        raise LcpipeError(f"--out and --plot both name {args.out}; give two files")


def forecast_command(args: argparse.Namespace) -> list[live.RunForecast]:
    _check_forecast_outputs(args)
    params = replace(Params(), features=replace(Params().features, metric=args.metric))
    metric = Metric.infer(args.metric, args.mode, _kind(args.kind))
    _warn_mode_against_name(args.metric, args.mode)
    history = read_curves(args.history, metric, studies=True, say=say)
    started: list[tuple[str, str, str]] = []  # runs with no evaluation logged yet: left out, as a run too short is
    raw = read_curves(args.runs, metric, started=started, say=say)
    metric = _with_history_direction(metric, history)
    metric = live.with_history_scale(metric, history)
    given = args.epochs is not None
    length, by_evaluations = (args.epochs, args.by_evaluations) if given else \
        (live.own_length(raw, started, "--epochs N (epochs) or --steps N (optimizer steps)"), False)
    grid = live.planned_epochs(raw, length, min_observed=params.features.window + 1, by_evaluations=by_evaluations,
                               say=say, started=tuple(started), metric=metric, length_given=given)
    history = live.history_read(history, raw, metric, say)  # what the config line counts too (review)
    predictor = live.fit_read(args.predictor, params, history, metric, say)
    results = live.forecast_runs(predictor, grid, metric)
    say(metric.describe())
    say(live.config_keys_used(predictor, history, raw))
    if note := live.unstated_dataset_note(predictor, raw):
        say(note)
    if note := live.unconfirmed_note(predictor, grid, metric):
        say(note)
    if note := live.uncalibrated_note(predictor):
        say(note)
    if note := live.early_note(predictor, grid, metric):
        say(note)
    if note := live.late_note(raw, grid, metric):
        say(note)
    if note := live.no_interval_note(args.predictor, results):
        say(note)
    # both outputs made as temp files first, then renamed into place: a failed figure leaves no new JSON
    with contextlib.ExitStack() as outputs:
        if args.out is not None:
            outputs.enter_context(atomic_path(args.out)).write_text(
                live.report_json(results, metric, args.epochs, args.predictor, grid.left_out))
        if args.plot is not None:
            from lcpipe.reporting.live_figure import draw_live_figure  # matplotlib: only when a figure is asked for

            draw_live_figure(outputs.enter_context(atomic_path(args.plot)), args.plot.suffix.lstrip(".").lower(),
                             results, metric, args.predictor)
    say_out(live.table(results, metric))
    return results


def _kind(flag: str) -> str | None:
    """--kind auto: from the metric's name (None); otherwise as given."""
    return None if flag == "auto" else flag


def _with_history_direction(metric: Metric, history: list[Curve]) -> Metric:
    """live.with_history_direction, its warning on stderr where the history moves against the name (the direction
    the name or the history gave is in the metric line, as every other)."""
    metric, note = live.with_history_direction(metric, history)
    if note and metric.says_mode:
        say(f"warning: {note}")
    return metric


def _warn_mode_against_name(name: str, mode: str) -> None:
    """One line on stderr when --mode contradicts the metric's name, as lcpipe.forecast and the pruner warn."""
    against = live.mode_against_name(name, mode)
    if against:
        say(f"warning: --mode {mode} with --metric {name}: {against}")


class _Length(argparse.Action):
    """--epochs N or --steps N, once: the length, and which of the two was written (by_evaluations)."""

    def __call__(self, parser, namespace, values, option_string=None):
        first = getattr(namespace, "length_flag", None)
        if first is not None:
            given = f"{first} given twice" if first == option_string else f"{first} and {option_string} both given"
            parser.error(f"{given}: give the planned length once, --epochs N (epochs, or evaluations of runs logged "
                         "by step) or --steps N (the planned optimizer step)")
        namespace.epochs, namespace.by_evaluations = values, option_string == "--epochs"
        namespace.length_flag = option_string


@exits_cleanly
def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    {"evaluate": evaluate_command, "forecast": forecast_command}[args.command](args)


if __name__ == "__main__":
    main()
