"""`python -m lcpipe evaluate`: lcpipe's predictors on curves that did not come from the pipeline.

    python -m lcpipe evaluate --curves DIR --cutoffs 5,10,20,40 [--target NAME] \
        [--metric test_acc] [--predictors poly,lstm,last_value,source_shift] --out FILE.json

Every *.csv in DIR is read (lcpipe's format or the external epoch,train_loss,train_err,test_err
one). Each target (NAME, or every curve in turn) is forecast by predictors fitted on the other
curves; scores go to FILE.json as fractions, tables of mean RMSE/MAE to stdout, and (leave-one-out)
the decision report: the curves ranked by forecast final accuracy against the true ranking.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from lcpipe.atomic import write_text
from lcpipe.config import Params, PredictParams, load_params
from lcpipe.errors import exits_cleanly
from lcpipe.forecasting.backtest import leave_one_out, markdown_table
from lcpipe.forecasting.curves import Curve, read_curve_dir
from lcpipe.forecasting.decision import decisions
from lcpipe.forecasting.decision import markdown as decision_markdown
from lcpipe.forecasting.predictors import PREDICTORS


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if not values:
        raise argparse.ArgumentTypeError("give at least one cutoff")
    return values


def _names(text: str) -> list[str]:
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [n for n in names if n not in PREDICTORS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown predictor {unknown[0] if unknown else text!r}; "
                                         f"choose from {', '.join(PREDICTORS)}")
    return names


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m lcpipe", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="leave-one-out forecasts of a directory of curves")
    ev.add_argument("--curves", type=Path, required=True, help="directory of curve CSV files")
    ev.add_argument("--cutoffs", type=_int_list, required=True, help="e.g. 5,10,20,40")
    ev.add_argument("--target", help="forecast only this curve (file name without .csv)")
    ev.add_argument("--metric", default=None, choices=("test_acc", "train_acc"))
    ev.add_argument("--predictors", type=_names, default=None,
                    help=f"comma-separated, from {', '.join(PREDICTORS)}")
    ev.add_argument("--params", type=Path, default=None,
                    help="take features/poly/lstm settings from this params.yaml (default: built-in defaults)")
    ev.add_argument("--lr-drops", type=_int_list, default=None,
                    help="for curves without an lr column: epochs after which the lr was divided by 10 "
                         "(e.g. 82,123), so lr-aware inputs (features.inputs lr / to_drop) can be used")
    ev.add_argument("--out", type=Path, required=True, help="results JSON")
    return ap


def with_step_lr(curve: Curve, drops: list[int]) -> Curve:
    """`curve` with an lr column of a step schedule (1, then /10 after each drop epoch), unless it has one."""
    if curve.lr is not None:
        return curve
    epochs = curve.columns["epoch"]
    lr = 0.1 ** np.array([sum(e > d for d in drops) for e in epochs], dtype=float)
    return Curve(curve.name, {**curve.columns, "lr": lr})


def evaluate_command(args: argparse.Namespace) -> list[dict]:
    params = load_params(args.params) if args.params else Params()
    features = replace(params.features, metric=args.metric or params.features.metric)
    params = replace(params, features=features)
    predictors = args.predictors or PredictParams().predictors
    curves = read_curve_dir(args.curves)
    if args.lr_drops:
        curves = [with_step_lr(c, args.lr_drops) for c in curves]
    rows = leave_one_out(curves, args.cutoffs, predictors, params,
                         targets=[args.target] if args.target else None,
                         progress=lambda line: print(line, file=sys.stderr, flush=True))
    choices = decisions(rows, {c.name: len(c) for c in curves}) if not args.target else []
    write_text(args.out, json.dumps({"metric": features.metric, "results": rows, "decisions": choices},
                                    indent=2) + "\n")
    for score in ("rmse", "mae"):
        print(f"mean {score.upper()} over {len({r['target'] for r in rows})} target(s), "
              f"accuracy points ({features.metric}):")
        print(markdown_table(rows, score))
    if choices:
        print("decision: rank the curves by forecast final accuracy")
        print(decision_markdown(choices))
    return rows


@exits_cleanly
def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "evaluate":
        evaluate_command(args)


if __name__ == "__main__":
    main()
