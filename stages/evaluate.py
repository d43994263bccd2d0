"""Stage `evaluate`: RMSE/MAE of every forecast -> metrics/evaluate.json; Fig. 1-2 -> metrics/plots/forecast/."""

from lcpipe.pipeline.entry import run_stage
from lcpipe.pipeline.evaluate import evaluate

if __name__ == "__main__":
    run_stage(evaluate, __doc__)
