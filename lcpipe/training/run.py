"""One training run as the train stage does it: params -> curve CSV + sidecar JSON, resumable.

Kept apart from the loop in train.py: this module decides where files go, which params shape the
checkpoint hash, and how a torchrun job is set up and torn down.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch

from lcpipe.atomic import write_text
from lcpipe.config import Params, as_dict
from lcpipe.errors import LcpipeError
from lcpipe.forecasting import curves
from lcpipe.training import data
from lcpipe.training.checkpoint import params_hash
from lcpipe.training.loop import Dist, pick_device, train_curve
from lcpipe.training.nets import build_net, count_params


def _relaunch_under_torchrun(devices: int) -> None:
    """Replace this stage process by a torchrun job of `devices` copies of the same command."""
    os.execv(sys.executable, [sys.executable, "-m", "torch.distributed.run", "--standalone",
                              f"--nproc-per-node={devices}", *sys.argv])


def _init_dist() -> tuple[Dist, torch.device]:
    """Join the torchrun job if there is one (gloo on the CPU, nccl on CUDA)."""
    if "LOCAL_RANK" not in os.environ:
        return Dist(), pick_device()
    local_rank = int(os.environ["LOCAL_RANK"])
    device = pick_device(local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(torch.distributed.get_rank(), torch.distributed.get_world_size()), device


def run_training(params: Params, arch: str, prepared: Path, out_dir: Path, checkpoint_dir: Path) -> None:
    """Train `arch` and write out_dir/<arch>.csv and .json; the checkpoint is removed at the end."""
    if params.train.devices > 1 and "LOCAL_RANK" not in os.environ:
        _relaunch_under_torchrun(params.train.devices)
    if arch not in params.train.archs:
        raise LcpipeError(f"--arch {arch!r} is not in train.archs {params.train.archs}")
    ds = data.read(prepared)
    recipe = params.train
    shaping = {k: v for k, v in as_dict(recipe).items() if k != "archs"}  # adding an arch keeps checkpoints
    state_hash = params_hash(arch, as_dict(params.data), shaping, torch.__version__)
    ckpt = checkpoint_dir / f"{arch}.pt"
    dist, device = _init_dist()
    start = time.perf_counter()
    try:
        rows = train_curve(arch, ds, recipe, state_hash=state_hash, checkpoint_path=ckpt,
                           device=device, dist=dist)
    finally:
        if dist.world > 1:
            torch.distributed.destroy_process_group()
    if dist.rank != 0:
        return
    sidecar = {
        "arch": arch, "dataset": params.data.dataset, "data": as_dict(params.data),
        "train": as_dict(params.train), "torch": torch.__version__, "device": str(device),
        "processes": dist.world, "wall_seconds": round(time.perf_counter() - start, 2),
        "parameters": count_params(build_net(arch, ds.num_classes, ds.in_channels, recipe.width, recipe.stem)),
        "final_test_acc": rows[-1]["test_acc"], "best_test_acc": max(r["test_acc"] for r in rows),
    }
    curves.write_curve(out_dir / f"{arch}.csv", rows)
    write_text(out_dir / f"{arch}.json", json.dumps(sidecar, indent=2) + "\n")
    ckpt.unlink(missing_ok=True)
