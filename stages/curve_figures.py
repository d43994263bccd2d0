"""Stage `curve_figures`: train vs test accuracy per arch (the paper's Fig. 3-6) -> metrics/plots/curves/."""

from lcpipe import pipeline
from lcpipe.stage import run_stage

if __name__ == "__main__":
    run_stage(pipeline.curve_figures, __doc__,
              curves_dir="data/curves",
              plots_dir="metrics/plots/curves")
