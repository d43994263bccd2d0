"""Training loop -> one curve row per epoch. One code path for the CPU and the GPU.

The dataset lives on the device as one tensor and is shuffled and augmented there in batches
(airbench style); on CUDA the step runs under bf16 autocast (BatchNorm parameters and statistics
stay float32) in channels_last, with optional torch.compile. Loss and accuracy accumulate on the
device and are read once per epoch, so the step never waits for the host. On the CPU the run is
deterministic: the same params give the same curve, also across a kill and resume.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lcpipe.config import TrainParams
from lcpipe.progress import say
from lcpipe.training import checkpoint
from lcpipe.training.data import Dataset
from lcpipe.training.nets import build_net


@dataclass(frozen=True)
class Dist:
    """This process's place in a torch.distributed job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world: int = 1

    def all_sum(self, t: Tensor) -> Tensor:
        if self.world > 1:
            torch.distributed.all_reduce(t)
        return t


def pick_device(local_rank: int = 0) -> torch.device:
    """CUDA when present, else the CPU."""
    return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")


def lr_at(epoch: int, r: TrainParams) -> float:
    """The learning rate of 1-based `epoch`: linear warm-up, then cosine to 0 or step decay."""
    if epoch <= r.warmup_epochs:
        return r.lr * epoch / (r.warmup_epochs + 1)
    if r.schedule == "cosine":
        progress = (epoch - 1 - r.warmup_epochs) / max(1, r.epochs - r.warmup_epochs)
        return r.lr * 0.5 * (1 + math.cos(math.pi * progress))
    return r.lr * r.gamma ** sum(epoch > m for m in r.milestones)


def to_device(ds: Dataset, device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Move the dataset to `device` once, as float32 standardised per channel by train statistics."""

    def as_float(x: Tensor) -> Tensor:
        x = x.to(device)
        return x.float() / 255 if x.dtype == torch.uint8 else x.float()

    xtr, xte = as_float(ds.train_x), as_float(ds.test_x)
    mean = xtr.mean(dim=(0, 2, 3), keepdim=True)
    std = xtr.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return (xtr - mean) / std, ds.train_y.to(device), (xte - mean) / std, ds.test_y.to(device)


def augment(x: Tensor, shifts: Tensor, flips: Tensor) -> Tensor:
    """He et al.'s augmentation on a device batch: pad 4, random 32x32 crop, horizontal flip.

    `shifts` (B, 2) in [0, 8] and `flips` (B,) bool come from the host generator so the run stays
    reproducible; the gather itself happens on the device in one indexing op.
    """
    b, _, h, w = x.shape
    padded = F.pad(x, (4, 4, 4, 4))
    rows = (shifts[:, 0:1] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = torch.arange(w, device=x.device).expand(b, w)
    cols = torch.where(flips[:, None], w - 1 - cols, cols) + shifts[:, 1:2]
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols[:, None, None, :]]


def train_one_epoch(model: nn.Module, opt: torch.optim.Optimizer, x: Tensor, y: Tensor,
                    batch_size: int, gen: torch.Generator, do_augment: bool, dist: Dist,
                    amp: bool) -> tuple[float, float]:
    """One pass over this rank's shard in random order; returns (mean loss, accuracy) over all ranks."""
    model.train()
    n = x.shape[0]
    order = torch.randperm(n, generator=gen)
    order = order[:n - n % dist.world][dist.rank::dist.world]  # equal shards: equal step counts
    shifts = torch.randint(0, 9, (n, 2), generator=gen)[order].to(x.device)
    flips = (torch.rand(n, generator=gen) < 0.5)[order].to(x.device)
    order = order.to(x.device)
    totals = torch.zeros(2, device=x.device)  # loss sum, correct: summed on the device, no sync
    for start in range(0, order.numel(), batch_size):
        idx = order[start:start + batch_size]
        xb, yb = x[idx], y[idx]
        if do_augment:
            xb = augment(xb, shifts[start:start + batch_size], flips[start:start + batch_size])
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(xb)
            loss = F.cross_entropy(logits.float(), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        totals += torch.stack([loss.detach() * yb.numel(), (logits.argmax(1) == yb).sum().float()])
    return _reduced(totals, order.numel(), dist)


@torch.no_grad()
def test_metrics(model: nn.Module, x: Tensor, y: Tensor, batch_size: int, dist: Dist,
             amp: bool) -> tuple[float, float]:
    """(mean loss, accuracy) on this rank's shard of (x, y), reduced over all ranks."""
    model.eval()
    totals, count = torch.zeros(2, device=x.device), 0
    for start in range(dist.rank * batch_size, x.shape[0], batch_size * dist.world):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(xb).float()
        totals += torch.stack([F.cross_entropy(logits, yb, reduction="sum"), (logits.argmax(1) == yb).sum().float()])
        count += yb.numel()
    return _reduced(totals, count, dist)


def _reduced(totals: Tensor, count: int, dist: Dist) -> tuple[float, float]:
    """(loss sum, correct) of this rank + its sample count -> (mean loss, accuracy) over all ranks:
    the one host sync of a pass."""
    loss_sum, correct, count = dist.all_sum(torch.cat([totals, totals.new_tensor([count])])).tolist()
    return loss_sum / count, correct / count


def _log_line(arch: str, row: dict, epochs: int, seconds: float) -> str:
    return (f"{arch} epoch {row['epoch']}/{epochs} train_loss {row['train_loss']:.4f} "
            f"train_acc {row['train_acc']:.4f} test_loss {row['test_loss']:.4f} "
            f"test_acc {row['test_acc']:.4f} lr {row['lr']:.5f} {seconds:.2f}s")


def train_epochs(arch: str, ds: Dataset, r: TrainParams, *, state_hash: str = "",
                 checkpoint_path: Path | None = None, device: torch.device | None = None,
                 dist: Dist = Dist(), log: Callable[[str], None] = say) -> Iterator[tuple[dict, float | None]]:
    """Train `arch` on `ds` for r.epochs, yielding (row, seconds) per epoch (row: COLUMNS of curves.py).

    With `checkpoint_path`, the full state is saved after every epoch (rank 0) and a matching
    checkpoint found there at the start is resumed from: its epochs are yielded first, with
    seconds None. The caller stops training early by leaving the loop (on every rank alike).
    """
    device = device or pick_device()
    cuda = device.type == "cuda"
    if not cuda:
        torch.use_deterministic_algorithms(True)
        # deterministic mode also NaN-fills every new tensor (~10 % of a CPU epoch); our ops
        # never read uninitialised memory, so the fill buys nothing
        torch.utils.deterministic.fill_uninitialized_memory = False
    torch.backends.cudnn.benchmark = cuda
    torch.manual_seed(r.seed)
    gen = torch.Generator().manual_seed(r.seed)
    model = build_net(arch, ds.num_classes, ds.in_channels, r.width, r.stem).to(device)
    if cuda:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=r.lr, momentum=r.momentum,
                          weight_decay=r.weight_decay, nesterov=False)
    rows: list[dict] = []
    state = checkpoint.load(checkpoint_path, state_hash) if checkpoint_path else None
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        rows = list(state["rows"])
        gen.set_state(state["rng"]["generator"])
        torch.set_rng_state(state["rng"]["torch"])
        log(f"{arch}: resuming after epoch {state['epoch']} from {checkpoint_path}")
        for row in rows:
            yield row, None
    step_model = model
    if dist.world > 1:
        step_model = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if cuda else None)
    if r.compile:
        if not cuda and dist.rank == 0:  # said, since nothing else is for minutes (red team)
            log(f"warning: {arch}: train.compile on the CPU builds C++ kernels for minutes before the first epoch "
                "(it pays back on a GPU, for ResNet-50: README); set train.compile: false to start at once")
        step_model = torch.compile(step_model)
    xtr, ytr, xte, yte = to_device(ds, device)
    for epoch in range(len(rows) + 1, r.epochs + 1):
        start = time.perf_counter()
        lr = lr_at(epoch, r)
        for group in opt.param_groups:
            group["lr"] = lr
        train_loss, train_acc = train_one_epoch(step_model, opt, xtr, ytr, r.batch_size, gen,
                                                r.augment, dist, cuda)
        # the bare model: DDP's forward would wait on ranks whose test shard is empty
        test_loss, test_acc = test_metrics(model, xte, yte, r.batch_size * 4, dist, cuda)
        rows.append({"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
                     "test_loss": test_loss, "test_acc": test_acc, "lr": lr})
        seconds = time.perf_counter() - start
        if dist.rank == 0:
            if checkpoint_path:  # saved before the log line: a logged epoch is a resumable one
                checkpoint.save(checkpoint_path, {
                    "params_hash": state_hash, "epoch": epoch, "rows": rows,
                    "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "rng": {"generator": gen.get_state(), "torch": torch.get_rng_state()}})
            log(_log_line(arch, rows[-1], r.epochs, seconds))
        yield rows[-1], seconds


def train_curve(arch: str, ds: Dataset, r: TrainParams, **kw) -> list[dict]:
    """The whole curve of `train_epochs` (same keyword arguments), one row per epoch."""
    return [row for row, _ in train_epochs(arch, ds, r, **kw)]
