"""Stage `prepare`: materialise the dataset chosen by data.* into data/prepared/dataset.npz."""

from lcpipe.pipeline.entry import run_stage
from lcpipe.pipeline.prepare import prepare

if __name__ == "__main__":
    run_stage(prepare, __doc__)
