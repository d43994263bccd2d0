"""Stage `prepare`: materialise the dataset chosen by data.* into data/prepared/dataset.npz."""

from lcpipe import pipeline
from lcpipe.stage import run_stage

if __name__ == "__main__":
    run_stage(pipeline.prepare, __doc__, out="data/prepared/dataset.npz")
