"""One training run as the train stage does it: params -> curve CSV, DVCLive metrics, timings; resumable.

Kept apart from the loop in loop.py: this module decides where files go, which params shape the
checkpoint hash, and how a torchrun job is set up and torn down. What it writes:

- the curve CSV, the artifact downstream stages read, and its sidecar JSON (the run's planned
  length; under the early_stop stage, `stopped_at` and every check's forecast): deterministic, so a retrain
  that reproduces the curve leaves every later stage cached;
- DVCLive's folder, updated after every epoch, so `dvc exp show` / `dvc plots` see a run while it
  trains (deterministic too: no timestamps);
- the timings JSON, the one file that varies from machine to machine: no DVC output, no dep.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import sys
import time
from pathlib import Path

import torch

from lcpipe.atomic import LIVE_FOLDERS, check_own_folder, write_text
from lcpipe.config import Params, as_dict
from lcpipe.curve import write_curve
from lcpipe.errors import LcpipeError
from lcpipe.progress import say
from lcpipe.training import data
from lcpipe.training.checkpoint import state_key
from lcpipe.training.loop import Dist, pick_device, train_epochs
from lcpipe.training.nets import build_net, count_params

LIVE_METRICS = ("train_loss", "train_acc", "test_loss", "test_acc", "lr")


def _relaunch_under_torchrun(devices: int) -> None:
    """Replace this stage process by a torchrun job of `devices` copies of the same command."""
    os.execv(sys.executable, [sys.executable, "-m", "torch.distributed.run", "--standalone",
                              f"--nproc-per-node={devices}", *sys.argv])


def _die_with_launcher() -> None:
    """A torchrun worker ends when its launcher does. torchrun starts its workers in sessions of their own, so a
    SIGKILL of the stage's process group (`kill -9`, the OOM killer, a CI timeout) left them training on, writing
    the stage's outputs and removing its checkpoints after DVC had died, racing the rerun (review). Linux's
    parent-death signal kills the worker with its parent; elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the launcher died before the signal was set: reparented to init
        os._exit(1)


def _init_dist() -> tuple[Dist, torch.device]:
    """Join the torchrun job if there is one (gloo on the CPU, nccl on CUDA), once per process: the early_stop stage
    trains every arch in one process, and a group set up again after it was destroyed hung torchrun's ranks (review).
    It is destroyed when the process exits."""
    if "LOCAL_RANK" not in os.environ:
        return Dist(), pick_device()
    _die_with_launcher()
    local_rank = int(os.environ["LOCAL_RANK"])
    device = pick_device(local_rank)
    if not torch.distributed.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
        atexit.register(torch.distributed.destroy_process_group)
    return Dist(torch.distributed.get_rank(), torch.distributed.get_world_size()), device


def run_config(params: Params, arch: str) -> dict:
    """The run's config as its sidecar states it, flat, in the dev corpus's keys: what a forecaster
    may use to tell runs apart (optimizer, lr, schedule, ...)."""
    recipe = {k: v for k, v in as_dict(params.train).items() if k not in ("archs", "devices", "compile", "epochs")}
    if recipe["schedule"] != "step":
        recipe.pop("milestones"), recipe.pop("gamma")
    return {"arch": arch, "dataset": params.data.dataset, "optimizer": "sgd", **recipe}


def check_live_folder(live_dir: Path, arch: str, after: str = "") -> None:
    """Refuses, in one line, the live folder, an arch's in it (or one under that) that is a link or a file: DVCLive
    clears them when it opens, and would delete a user's files through the link (red team; review: the live folder
    itself). `after` ends the line (the train stage's: DVC may have removed its DVCLive files through the link
    already, check_params refusing such a link first only when params.yaml changes, and git restores them)."""
    for folder in [Path(live_dir)] + [Path(live_dir, arch, sub) for sub in LIVE_FOLDERS]:
        check_own_folder(folder, "the live folder", after=after)


def open_live(live_dir: Path):
    """A DVCLive logger for one stage: no dvc.yaml of its own (dvc.yaml declares its files, and
    concurrent stages under `dvc queue -j` would race writing it), no experiment of its own."""
    from dvclive import Live

    return Live(str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None)


def log_epoch(live, row: dict, verdict) -> None:
    """One epoch into DVCLive, stepped by epoch: per-epoch TSVs plus the summary metrics.json,
    with the best test accuracy so far next to the latest values, and the early_stop stage's latest check."""
    live.step = row["epoch"]
    for name in LIVE_METRICS:
        live.log_metric(name, row[name])
    best = max(live.summary.get("best_test_acc", 0.0), row["test_acc"])
    live.log_metric("best_test_acc", best, plot=False)
    if verdict is not None:
        live.log_metric("stop/bar", verdict.bar, plot=False)
        live.log_metric("stop/p_reach", verdict.p_reach, plot=False)
        for key in ("final", "lower", "upper"):
            live.log_metric(f"stop/forecast_{key}", getattr(verdict, key), plot=False)
        if verdict.stop:
            live.log_metric("stop/stopped_at", verdict.epoch, plot=False)
    live.next_step()


def _diverged_note(arch: str, rows: list[dict], lr: float) -> str | None:
    """One warning line where a column of the curve turned NaN or inf (the run diverged), or None. The curve is
    written as trained; the forecasting stages refuse a metric that is not finite, so it is said here first (red
    team: train.lr 10000 trained to NaN losses with no word, and a later features.metric change failed late)."""
    bad = [(k, r["epoch"], v) for r in rows for k, v in r.items() if isinstance(v, float) and not math.isfinite(v)]
    if not bad:
        return None
    column, epoch, value = bad[0]
    return (f"warning: {arch}: {column} is {value} at epoch {epoch}: the run diverged (is train.lr {lr:g}, or "
            "train.weight_decay, too high?); a features.metric that is not finite in its curve is refused by the "
            "forecasting stages")


def run_training(params: Params, arch: str, prepared: Path, out_dir: Path, checkpoint_dir: Path,
                 live_dir: Path, timings_dir: Path, stopper=None, keep_checkpoint: bool = False) -> None:
    """Train `arch` into out_dir/<arch>.csv + .json, live_dir/<arch>/ and timings_dir/<arch>.json;
    the checkpoint is removed at the end, or kept with `keep_checkpoint` (a stage that trains several archs in
    turn removes them once all are done: a rerun after an interruption replays a finished arch's epochs from it
    instead of training them again).

    `stopper` (the early_stop stage's; None in the train stage) is called with the rows so far
    after every epoch and returns None or a verdict with `.stop`; training never imports it, so
    the train stage's code deps are training code alone."""
    if params.train.devices > 1 and "LOCAL_RANK" not in os.environ:
        _relaunch_under_torchrun(params.train.devices)
    if arch not in params.train.archs:
        raise LcpipeError(f"--arch {arch!r} is not in train.archs {params.train.archs}")
    check_live_folder(live_dir, arch, "" if stopper else f"; `git checkout {live_dir}` restores the logs DVC removed")
    ds = data.read(prepared)
    recipe = params.train
    shaping = {k: v for k, v in as_dict(recipe).items() if k != "archs"}  # adding an arch keeps checkpoints
    state_hash = state_key(arch, as_dict(params.data), shaping, torch.__version__)  # + the code's hash
    ckpt = checkpoint_dir / f"{arch}.pt"
    dist, device = _init_dist()
    live = open_live(Path(live_dir) / arch) if dist.rank == 0 else None
    if live is not None:
        live.log_param("epochs", recipe.epochs)  # the planned length, for `lcpipe forecast --runs dvclive/`
    start = time.perf_counter()
    rows, seconds, checks = [], [], []
    # a resumed run yields its checkpointed epochs first: DVC removed the live folder before
    # the stage started, so they are written again, each once, before training continues
    for row, took in train_epochs(arch, ds, recipe, state_hash=state_hash, checkpoint_path=ckpt,
                                  device=device, dist=dist):
        rows.append(row)
        if took is not None:
            seconds.append(round(took, 3))
        # rows are reduced over ranks, so every rank reaches the same verdict and stops alike
        verdict = stopper.check(rows) if stopper else None
        if verdict is not None:
            checks.append(verdict.as_dict())
        if live is not None:
            log_epoch(live, row, verdict)
            if verdict is not None:
                say(verdict.line(arch))
        if verdict is not None and verdict.stop:
            break
    if dist.rank != 0:
        return
    live.end()
    sidecar = {**run_config(params, arch), "epochs": recipe.epochs}  # planned
    if stopper:
        stopped = checks[-1]["epoch"] if checks and checks[-1]["stop"] else None
        sidecar.update(stopped_at=stopped, stop_checks=checks)
    write_curve(out_dir / f"{arch}.csv", rows, sidecar)
    if note := _diverged_note(arch, rows, recipe.lr):
        say(note)
    timings = {
        "arch": arch, "torch": torch.__version__, "device": str(device), "processes": dist.world,
        "wall_seconds": round(time.perf_counter() - start, 2), "epochs_trained": len(seconds),
        "epoch_seconds": seconds,
        "parameters": count_params(build_net(arch, ds.num_classes, ds.in_channels, recipe.width, recipe.stem)),
    }
    write_text(Path(timings_dir) / f"{arch}.json", json.dumps(timings, indent=2) + "\n")
    if not keep_checkpoint:
        ckpt.unlink(missing_ok=True)
