"""Stage `sweep`: every cutoff x every held-out arch x every predictor -> metrics/sweep.{json,md},
the decision report -> metrics/decision.json, RMSE vs cutoff -> metrics/plots/sweep.png."""

from lcpipe.pipeline.entry import run_stage
from lcpipe.pipeline.sweep import sweep

if __name__ == "__main__":
    run_stage(sweep, __doc__)
