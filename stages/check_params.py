"""Stage `check_params`: validate all of params.yaml before any other stage runs."""

from lcpipe.pipeline.entry import run_stage
from lcpipe.pipeline.params_check import check_params

if __name__ == "__main__":
    run_stage(check_params, __doc__)
