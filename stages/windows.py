"""Stage `windows`: gradient-feature windows of the source curves -> data/windows/windows.npz."""

from lcpipe.pipeline.entry import run_stage
from lcpipe.pipeline.windows import build_windows

if __name__ == "__main__":
    run_stage(build_windows, __doc__)
