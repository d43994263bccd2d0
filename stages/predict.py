"""Stage `predict`: forecast the target from its first predict.cutoff epochs -> data/predictions/."""

from lcpipe.pipeline import stages
from lcpipe.pipeline.entry import run_stage

if __name__ == "__main__":
    run_stage(stages.predict, __doc__)
