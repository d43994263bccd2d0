"""Latency budgets that tests/ used to assert with a wall clock (a busy CI machine made them flaky).

  1. the check_params stage, as `dvc repro` starts it: a bad param stops it "in its first second"  budget 1 s
  2. the parametric predictor on a 163-epoch prefix (fit + forecast, lr drop in the curve)       budget 0.5 s
  3. `lcpipe evaluate` on two 100,000-epoch curves, 2 cutoffs, the non-learned predictors         budget 120 s

Prints each time with its ratio to the budget (baseline = the budget; below 1.00 is within it).
Usage: python bench/latency_budgets.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.args import Parser  # noqa: E402
from lcpipe.config import Params  # noqa: E402
from lcpipe.curve import format_rows  # noqa: E402
from lcpipe.forecasting.features import Series  # noqa: E402
from lcpipe.forecasting.registry import build  # noqa: E402


def seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def check_params(tmp: Path) -> None:
    subprocess.run([sys.executable, "stages/check_params.py", "--out", str(tmp / "params_ok")], cwd=ROOT, check=True)


def parametric_long_prefix() -> None:
    x = np.arange(1.0, 165)
    acc = np.clip(0.9 - 0.6 * x**-0.5 + np.random.default_rng(3).normal(0, 0.01, 164), 0, 1)
    acc[82:] += 0.05  # an lr drop
    build("parametric", Params()).fit([]).forecast(Series("long", acc[:163]), 164)


def evaluate_long_curves(tmp: Path) -> None:
    curves = tmp / "long"
    curves.mkdir()
    for seed in (1, 2):
        t = np.arange(1, 100_001)
        acc = np.clip(0.9 - 0.8 * np.exp(-1e-4 * t) + np.random.default_rng(seed).normal(0, 0.005, t.size), 0, 1)
        curves.joinpath(f"long{seed}.csv").write_text(format_rows(
            [{"epoch": int(e), "train_loss": 1.0, "train_acc": float(a), "test_loss": 1.0, "test_acc": float(a),
              "lr": 0.1} for e, a in zip(t, acc)]))
    subprocess.run([sys.executable, "-m", "lcpipe", "evaluate", "--curves", str(curves), "--cutoffs", "1000,50000",
                    "--predictors", "last_value,source_shift,poly,parametric", "--out", str(tmp / "out.json")],
                   cwd=ROOT, check=True, capture_output=True)


def main() -> None:
    Parser(description=__doc__.split("\n\n")[0]).parse_args()  # no options: --help, and any argument refused
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = [("check_params stage", seconds(lambda: check_params(tmp)), 1.0),
                ("parametric, 163-epoch prefix", seconds(parametric_long_prefix), 0.5),
                ("evaluate, 2 x 100k epochs", seconds(lambda: evaluate_long_curves(tmp)), 120.0)]
    print(f"{'check':32s} {'seconds':>8s} {'budget':>7s} {'ratio':>6s}")
    for name, took, budget in rows:
        print(f"{name:32s} {took:8.2f} {budget:7.1f} {took / budget:6.2f}")
    over = [name for name, took, budget in rows if took > budget]
    print(f"latency_budgets: {'over budget: ' + ', '.join(over) if over else 'ok'}")


if __name__ == "__main__":
    main()
