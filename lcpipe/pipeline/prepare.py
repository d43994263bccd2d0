"""Stage prepare: the dataset chosen by data.* materialised as one .npz for the train stages.

Its own module, like every stage's, so that the prepare stage runs, and depends on, only the
training side's data code: a forecasting or plotting edit never reruns it.
"""

from __future__ import annotations

from pathlib import Path

from lcpipe.config import Params
from lcpipe.training import data


def prepare(p: Params, out: Path) -> None:
    """The dataset chosen by data.* as one .npz at `out` (written atomically)."""
    d = p.data
    data.save(data.load(d.dataset, seed=d.seed, root=d.root, test_fraction=d.test_fraction,
                        synthetic_train=d.synthetic_train, synthetic_test=d.synthetic_test,
                        synthetic_size=d.synthetic_size), out)
