"""Stage `early_stop`: every arch trained under the `stop:` rule into data/early_stop/ (nothing
while stop.at is empty); where each stopped -> metrics/early_stop.json."""

from lcpipe.pipeline.early_stop import early_stop
from lcpipe.pipeline.entry import run_stage

if __name__ == "__main__":
    run_stage(early_stop, __doc__)
