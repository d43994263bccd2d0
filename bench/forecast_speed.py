"""How fast `lcpipe forecast` answers for a sweep of many live runs.

    python bench/forecast_speed.py [--predictor NAME] [--sizes 10,100,1000,10000]

Synthetic study: a history of 100 finished 200-epoch curves and N runs seen to epoch 20 of 200
(horizon 200, cutoff 20), one CSV file each. For each N the real console script is timed end to
end, start-up, reading and writing included. The last line compares, in-process on the same runs
with the same fitted predictor, one batched `forecast_many` call against the baseline a sweep
would otherwise run: a Python loop forecasting each run alone (`forecast`).
Goal (issue 11): 1,000 runs in <= 10 s on 2 CPU cores.
"""

from __future__ import annotations

import argparse
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
from lcpipe.errors import exits_cleanly  # noqa: E402
from lcpipe.forecasting.features import Series  # noqa: E402
from lcpipe.forecasting.live import DEFAULT_PREDICTOR, fit_on_history  # noqa: E402
from lcpipe.forecasting.logs import read_curve_dir  # noqa: E402
from lcpipe.forecasting.registry import PREDICTORS  # noqa: E402

HISTORY, EPOCHS, CUTOFF = 100, 200, 20
LCPIPE = Path(sys.executable).parent / "lcpipe"


def curve(rng: np.random.Generator, n: int) -> np.ndarray:
    """A saturating test-accuracy curve with jitter: final 0.6-0.95, rate and start at random."""
    final, rate, start = rng.uniform(0.6, 0.95), rng.uniform(0.02, 0.2), rng.uniform(0.1, 0.4)
    t = np.arange(n)
    return np.clip(final - (final - start) * np.exp(-rate * t) + rng.normal(0, 0.005, n), 0, 1)


def write_curves(folder: Path, curves: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True)
    for i, acc in enumerate(curves):
        rows = "".join(f"{e},{a:.5f}\n" for e, a in enumerate(acc, start=1))
        (folder / f"run{i:05d}.csv").write_text("epoch,test_acc\n" + rows)
    return folder


def time_cli(history: Path, runs: Path, predictor: str, out: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run([str(LCPIPE), "forecast", "--history", str(history), "--runs", str(runs),
                           "--epochs", str(EPOCHS), "--predictor", predictor, "--out", str(out)],
                          capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"lcpipe forecast failed:\n{proc.stderr}")
    return took


def speedup(history: Path, runs: Path, predictor: str) -> float:
    """Per-run loop time over batched time, same fitted predictor, same runs."""
    model = fit_on_history(predictor, Params(), read_curve_dir(history), [])
    prefixes = [Series(c.name, c.metric("test_acc")) for c in read_curve_dir(runs)]
    horizons = [EPOCHS] * len(prefixes)
    start = time.perf_counter()
    model.forecast_many(prefixes, horizons)
    batched = time.perf_counter() - start
    start = time.perf_counter()
    for p in prefixes:
        model.forecast(p, EPOCHS)
    return (time.perf_counter() - start) / batched


@exits_cleanly
def main() -> None:
    ap = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--predictor", default=DEFAULT_PREDICTOR)
    ap.add_argument("--sizes", default="10,100,1000,10000", help="numbers of live runs")
    ap.add_argument("--loop-runs", type=int, default=1000, help="runs in the batched vs per-run comparison")
    args = ap.parse_args()
    try:
        sizes = list(dict.fromkeys(int(s) for s in args.sizes.split(",") if s.strip()))  # once each (red team: a
        # repeated size failed after the first one's timing, on the folder it had written, as a disk error)
    except ValueError:
        ap.error(f"--sizes {args.sizes!r}: whole numbers, comma-separated, e.g. 10,100,1000")
    if not sizes or min(sizes) < 1 or args.loop_runs < 1:
        ap.error("--sizes and --loop-runs: give numbers of runs, 1 or more")
    if args.predictor not in PREDICTORS:
        ap.error(f"--predictor {args.predictor!r}: choose from {', '.join(PREDICTORS)}")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        history = write_curves(tmp / "history", [curve(rng, EPOCHS) for _ in range(HISTORY)])
        print(f"lcpipe forecast, predictor {args.predictor}: {HISTORY} history curves, "
              f"runs seen to epoch {CUTOFF} of {EPOCHS}")
        print(f"{'runs':>6}  {'seconds':>8}  {'runs/s':>8}")
        for n in sizes:
            runs = write_curves(tmp / f"runs{n}", [curve(rng, EPOCHS)[:CUTOFF] for _ in range(n)])
            took = time_cli(history, runs, args.predictor, tmp / f"out{n}.json")
            print(f"{n:>6}  {took:>8.2f}  {n / took:>8.1f}", flush=True)
        loop_runs = write_curves(tmp / "loop", [curve(rng, EPOCHS)[:CUTOFF] for _ in range(args.loop_runs)])
        print(f"speedup vs per-run loop: {speedup(history, loop_runs, args.predictor):.2f}x")


if __name__ == "__main__":
    main()
