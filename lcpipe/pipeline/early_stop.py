"""Stage early_stop: every arch trained again under the stop: section's rule, into data/early_stop/.

A stage of its own, apart from `train`, so that the default pipeline's curves depend on training
code alone: no forecasting edit retrains a CNN. With stop.at empty (the default) it trains nothing
and records that in a second; with checks set, each arch trains until the stop rule ends it, and
metrics/early_stop.json says where each stopped and the epochs saved against training to the end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from lcpipe.atomic import write_text
from lcpipe.config import Params
from lcpipe.curve import read_lcpipe_csv
from lcpipe.progress import say


def early_stop(p: Params, prepared: Path, out_dir: Path, checkpoint_dir: Path, live_dir: Path,
               timings_dir: Path, summary_out: Path) -> dict:
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    reports = os.environ.get("RANK", "0") == "0"  # train.devices > 1 (torchrun): rank 0 alone writes, and reports
    summary: dict = {"enabled": bool(p.stop.at), "at": list(p.stop.at), "runs": {}}
    if p.stop.at:  # imported here: off, the stage starts without torch in a second (code deps list them all the same)
        from lcpipe.forecasting.run_stopper import Stopper
        from lcpipe.training.run import check_live_folder, run_config, run_training
        for arch in p.train.archs:  # each arch's, before the first trains
            check_live_folder(live_dir, arch)
    for arch in p.train.archs if p.stop.at else []:
        stopper = Stopper(p.stop, p.train.epochs, run_config(p, arch))
        # DVC removes data/early_stop/ before the stage runs: a finished arch's checkpoint is what spares a rerun
        # after an interruption training it again (red team: a kill during the second arch retrained the first)
        run_training(p, arch, prepared, out_dir, checkpoint_dir, live_dir, timings_dir, stopper=stopper,
                     keep_checkpoint=True)
        if not reports:
            continue
        trained = len(read_lcpipe_csv(Path(out_dir) / f"{arch}.csv"))
        summary["runs"][arch] = {"epochs_trained": trained, "epochs_planned": p.train.epochs,
                                 "stopped": trained < p.train.epochs}
    if summary["runs"]:
        runs = summary["runs"].values()
        summary["epochs_saved_fraction"] = round(1 - sum(r["epochs_trained"] for r in runs)
                                                 / sum(r["epochs_planned"] for r in runs), 4)
        if all(r["stopped"] for r in runs):  # the rule judges each run alone against stop.history's best
            where = ", ".join(f"{arch} at {r['epochs_trained']}" for arch, r in summary["runs"].items())
            bar = (f"the bar is stop.threshold ({p.stop.threshold:g}), each run's forecast from stop.history "
                   f"({p.stop.history}); if no run of this recipe reaches it, lower it, or set 0 for the best "
                   "history run as the bar"
                   if p.stop.threshold else
                   f"the bar comes from stop.history ({p.stop.history}); if those runs are of another kind or "
                   "length than these, set stop.threshold or give a history of this recipe")
            say(f"early_stop: every arch was stopped ({where} of {p.train.epochs} epochs): {bar}")
    if not reports:
        return summary
    write_text(summary_out, json.dumps(summary, indent=2) + "\n")
    _remove_checkpoints(Path(checkpoint_dir))
    return summary


def _remove_checkpoints(folder: Path) -> None:
    """Every arch done (or none to train): the checkpoints kept for a rerun after an interruption go, those of archs
    since dropped from train.archs or of a stage since turned off included (review: they stayed for good). The
    folder is the stage's own (dvc.yaml's --checkpoint-dir); only its regular *.pt files are removed."""
    for path in folder.glob("*.pt") if folder.is_dir() and not folder.is_symlink() else ():
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
