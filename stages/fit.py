"""Stage `fit`: fit the learned predictors (LSTM) on the windows -> data/predictors/."""

from lcpipe.pipeline.entry import run_stage
from lcpipe.pipeline.fit import fit_learned

if __name__ == "__main__":
    run_stage(fit_learned, __doc__)
