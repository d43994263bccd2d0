"""Stage `predict`: forecast the target from its first predict.cutoff epochs -> data/predictions/."""

from lcpipe import pipeline
from lcpipe.stage import run_stage

if __name__ == "__main__":
    run_stage(pipeline.predict, __doc__,
              curves_dir="data/curves",
              predictors_dir="data/predictors",
              out_dir="data/predictions")
