"""Stage `windows`: gradient-feature windows of the source curves -> data/windows/windows.npz."""

from lcpipe.pipeline import stages
from lcpipe.pipeline.entry import run_stage

if __name__ == "__main__":
    run_stage(stages.build_windows, __doc__)
