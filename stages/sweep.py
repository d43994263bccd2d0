"""Stage `sweep`: every cutoff x every held-out arch x every predictor -> metrics/sweep.{json,md},
the decision report -> metrics/decision.json, RMSE vs cutoff -> metrics/plots/sweep.png."""

from lcpipe.pipeline import stages
from lcpipe.pipeline.entry import run_stage

if __name__ == "__main__":
    run_stage(stages.sweep, __doc__)
