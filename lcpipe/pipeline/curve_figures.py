"""Stage curve_figures: the paper's Fig. 3-6, train vs test accuracy per arch."""

from __future__ import annotations

from pathlib import Path

from lcpipe.atomic import atomic_dir
from lcpipe.config import Params
from lcpipe.pipeline.arch_curves import read_arch_curves
from lcpipe.reporting import figures


def curve_figures(p: Params, curves_dir: Path, plots_dir: Path) -> None:
    with atomic_dir(plots_dir) as tmp:
        for curve in read_arch_curves(p, curves_dir):
            figures.train_vs_test_figure(tmp / f"{curve.name}.png", curve,
                                         figures.study_title(p.data.dataset, p.train.width))
