"""Stage `prepare`: materialise the dataset chosen by data.* into data/prepared/dataset.npz."""

from lcpipe.pipeline import stages
from lcpipe.pipeline.entry import run_stage

if __name__ == "__main__":
    run_stage(stages.prepare, __doc__)
