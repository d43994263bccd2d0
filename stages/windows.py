"""Stage `windows`: gradient-feature windows of the source curves -> data/windows/windows.npz."""

from lcpipe import pipeline
from lcpipe.stage import run_stage

if __name__ == "__main__":
    run_stage(pipeline.build_windows, __doc__,
              curves_dir="data/curves",
              out="data/windows/windows.npz")
