"""Stage `predict`: forecast the target from its first predict.cutoff epochs -> data/predictions/."""

from lcpipe.pipeline.entry import run_stage
from lcpipe.pipeline.predict import predict

if __name__ == "__main__":
    run_stage(predict, __doc__)
