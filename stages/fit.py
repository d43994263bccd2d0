"""Stage `fit`: fit the learned predictors (LSTM) on the windows -> data/predictors/."""

from lcpipe.pipeline import stages
from lcpipe.pipeline.entry import run_stage

if __name__ == "__main__":
    run_stage(stages.fit_learned, __doc__)
