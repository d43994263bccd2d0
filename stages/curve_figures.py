"""Stage `curve_figures`: train vs test accuracy per arch (the paper's Fig. 3-6) -> metrics/plots/curves/."""

from lcpipe.pipeline.curve_figures import curve_figures
from lcpipe.pipeline.entry import run_stage

if __name__ == "__main__":
    run_stage(curve_figures, __doc__)
