"""What one trial that reports at every optimizer step costs the pruner, against Optuna's MedianPruner.

    python bench/report_cost.py [--reports 5000,20000]

Each pruner, side by side in one process, prunes a real Optuna study of one trial that reports a loss at
every step and calls `trial.should_prune()` after each report (nothing completed, so nothing is pruned:
what is timed is the pruner's own work per call). ForecastPruner reads a trial's reports incrementally
(`_Reports` in lcpipe/integrations/optuna.py); before, it re-read all of them at every call and 20,000
reports took 131 s against MedianPruner's 1.9 s. The last line: `reports N: ForecastPruner X s,
MedianPruner Y s (Z x)` for the largest N.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.args import Parser  # noqa: E402
from lcpipe.curve import MAX_STEPS  # noqa: E402
from lcpipe.errors import exits_cleanly  # noqa: E402
from lcpipe.integrations.optuna import ForecastPruner  # noqa: E402


def seconds(pruner, reports: int) -> float:
    """Wall time of a one-trial minimize study reporting a falling loss at steps 1..reports."""
    study = optuna.create_study(direction="minimize", pruner=pruner)

    def objective(trial):
        for step in range(1, reports + 1):
            trial.report(1 + float(np.exp(-step / 1000)), step=step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return 1.0

    start = time.perf_counter()
    study.optimize(objective, n_trials=1)
    return time.perf_counter() - start


@exits_cleanly
def main() -> None:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", default="5000,20000", help="comma-separated trial lengths, in reports")
    args = ap.parse_args()
    try:
        lengths = [int(n) for n in args.reports.split(",") if n.strip()]
    except ValueError:
        ap.error(f"--reports {args.reports!r}: whole numbers, comma-separated, e.g. 5000,20000")
    if not lengths or min(lengths) < 4 or max(lengths) > MAX_STEPS:
        ap.error(f"--reports: give lengths of 4 to {MAX_STEPS:,} reports")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")  # ForecastPruner's "no history" notes
    for n in lengths:
        ours = seconds(ForecastPruner(steps=n, metric="val_loss", fit_cache=False), n)
        median = seconds(optuna.pruners.MedianPruner(), n)
        print(f"reports {n}: ForecastPruner {ours:.1f} s, MedianPruner {median:.1f} s ({ours / median:.1f} x)",
              flush=True)


if __name__ == "__main__":
    main()
