"""Stage `fit`: fit the learned predictors (LSTM) on the windows -> data/predictors/."""

from lcpipe import pipeline
from lcpipe.stage import run_stage

if __name__ == "__main__":
    run_stage(pipeline.fit_learned, __doc__,
              windows="data/windows/windows.npz",
              out_dir="data/predictors")
