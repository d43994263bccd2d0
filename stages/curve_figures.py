"""Stage `curve_figures`: train vs test accuracy per arch (the paper's Fig. 3-6) -> metrics/plots/curves/."""

from lcpipe.pipeline import stages
from lcpipe.pipeline.entry import run_stage

if __name__ == "__main__":
    run_stage(stages.curve_figures, __doc__)
