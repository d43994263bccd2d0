"""Stage `evaluate`: RMSE/MAE of every forecast -> metrics/evaluate.json; Fig. 1-2 -> metrics/plots/forecast/."""

from lcpipe.pipeline import stages
from lcpipe.pipeline.entry import run_stage

if __name__ == "__main__":
    run_stage(stages.evaluate, __doc__)
