"""Stage `train@<arch>`: train one CNN into data/curves/<arch>.csv + .json (the artifact), per-epoch
DVCLive metrics into dvclive/<arch>/, and wall times into metrics/train/<arch>.json.

With train.devices > 1 the stage relaunches itself through torchrun (one process per device,
DistributedDataParallel); rank 0 alone writes files.
"""

from lcpipe.pipeline.entry import run_stage
from lcpipe.training.run import run_training

if __name__ == "__main__":
    run_stage(run_training, __doc__)
