#!/usr/bin/env python
# =================================================================================================
# Training throughput, images/second of one training epoch: lcpipe's loop vs a reference loop.
#
#   .venv/bin/python bench/train_throughput.py                 # CIFAR shape, width 64 (a GPU)
#   .venv/bin/python bench/train_throughput.py --quick         # 2-core CPU, a few minutes
#   .venv/bin/python bench/train_throughput.py --variants bf16,fp32,bf16+compile   # GPU table
#
# Default config (every entry is a flag; --quick swaps in QUICK):
#   data      lcpipe.training.data.synthetic(seed, n, 0, size, channels, classes): 50,000 x 3 x 32 x 32
#   archs     resnet34,resnet50,plain34,plain50  (lcpipe.training.nets.build_net, stem 'cifar')
#   width 64, batch 512, SGD lr 0.05 momentum 0.9 weight decay 5e-4, augment on
#   repeats 5 timed epochs per loop and arch, after 1 untimed warm-up epoch each
#   threads 0 = torch's default intra-op thread count (--threads N sets it for both loops)
#
# "ours" is lcpipe.training.loop exactly as train_curve drives it: to_device() once (outside the timed
#   epoch, as train_curve does it once per run), then train_one_epoch() on the device-resident
#   tensors: shuffling and the pad-4 crop + flip (lcpipe.training.loop.augment) are batched on the
#   device, loss/accuracy accumulate on the device and are read once per epoch. On CUDA the
#   model is channels_last and the step runs under bf16 autocast (amp = device is cuda, as in
#   train_curve; --no-amp or the variant 'fp32' turns autocast off, channels_last stays);
#   on the CPU deterministic algorithms are on, as train_curve switches them on there, with
#   torch's NaN fill of new tensors off, as train_curve sets it (--fill-uninitialized: the fill's
#   cost, ~10% of a 50-layer CPU epoch here).
#   torch.compile only with --compile (or a '+compile' variant).
# "reference" is written the way torchvision's references/classification/train.py
#   train_one_epoch does it: a DataLoader (shuffle, pin_memory on CUDA, --workers processes,
#   not persistent, as the reference) over a TensorDataset of the same standardised host (CPU)
#   tensors; augmentation on the host, PER SAMPLE in the dataset's __getitem__ (as the
#   reference's transforms): torchvision.transforms.v2 RandomCrop(size, padding=4) +
#   RandomHorizontalFlip; fp32, default memory format, no compile; image.to(device) per batch;
#   loss.item() and the top-1 count .item() per step (the reference's MetricLogger/accuracy).
# Both: a fresh build_net(...) from the same seed, same data, same batch size and optimizer,
#   cudnn.benchmark on CUDA (both train_curve and the reference set it). Epochs are timed with
#   perf_counter (torch.cuda.synchronize on CUDA) and run interleaved ours, reference, ours, ...
#   (all ours variants first in each round); the table shows the median of the repeats.
#   Pad-4-then-crop-to-input-size works for any image size (8x8 too): both crop back to the
#   input's size, checked by check_augment() before timing.
# Output: one table row per arch (img/s; ratio = ours / reference), then the last line
#   `speedup vs reference: <x>x` = median over archs of the first ours variant's ratio
#   (--no-reference: ours only, no ratios, no speedup line; --json PATH: the numbers as JSON).
# =================================================================================================

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision.transforms import v2

from bench.args import Parser
from lcpipe.atomic import write_text
from lcpipe.config import parse_arch
from lcpipe.errors import LcpipeError
from lcpipe.training import data
from lcpipe.training.loop import Dist, augment, pick_device, to_device, train_one_epoch
from lcpipe.training.nets import build_net

DEFAULTS = {"archs": "resnet34,resnet50,plain34,plain50", "n": 50_000, "size": 32, "channels": 3,
            "classes": 10, "width": 64, "batch_size": 512, "repeats": 5, "lr": 0.05,
            "momentum": 0.9, "weight_decay": 5e-4, "seed": 0, "threads": 0}
# --quick: small enough for the 2-core CPU in a few minutes. One intra-op thread: on a 2-core box
# shared with another busy process, 2 OpenMP threads make every small op's barrier wait for a
# descheduled thread (measured: 17 s vs 0.18 s per epoch for the same tiny resnet34, both loops).
QUICK = {"n": 512, "size": 16, "width": 8, "batch_size": 128, "repeats": 7, "threads": 1}


@dataclass(frozen=True)
class Variant:
    """One configuration of lcpipe's loop: bf16 autocast or not, torch.compile or not."""

    amp: bool
    compile: bool

    @property
    def name(self) -> str:
        return ("bf16" if self.amp else "fp32") + ("+compile" if self.compile else "")

    @staticmethod
    def parse(text: str) -> Variant:
        parts = text.strip().split("+")
        if parts[0] not in ("bf16", "fp32") or any(p != "compile" for p in parts[1:]):
            raise SystemExit(f"--variants: {text!r} is not bf16|fp32 with an optional +compile")
        return Variant(amp=parts[0] == "bf16", compile="compile" in parts[1:])


class TransformedTensorDataset(TensorDataset):
    """TensorDataset whose images go through `transform` one sample at a time (the reference's way)."""

    def __init__(self, x: Tensor, y: Tensor, transform):
        super().__init__(x, y)
        self.transform = transform

    def __getitem__(self, i):
        x, y = super().__getitem__(i)
        return (self.transform(x) if self.transform is not None else x), y


def host_augment(size: int):
    return v2.Compose([v2.RandomCrop(size, padding=4), v2.RandomHorizontalFlip()])


def check_augment(size: int, channels: int) -> None:
    """Both augmentations pad 4 and crop back to the input size, also for small (8x8) images."""
    x = torch.randn(4, channels, size, size)
    ours = augment(x, torch.tensor([[4, 4], [0, 8], [8, 0], [2, 6]]),
                   torch.tensor([False, True, False, True]))
    assert ours.shape == x.shape, ours.shape
    assert torch.equal(ours[0], x[0]), "centre crop without flip must be the identity"
    assert (ours[1, :, :4] == 0).all() and (ours[2, :, :, :4] == 0).all(), "padding must be zeros"
    ref = host_augment(size)(x[0])
    assert ref.shape == x[0].shape, ref.shape


@contextlib.contextmanager
def deterministic(on: bool, fill: bool = False):
    """torch.use_deterministic_algorithms(on) for a while; `fill` is torch's
    fill_uninitialized_memory (with it on, every new empty tensor is filled with NaN first)."""
    before = torch.are_deterministic_algorithms_enabled(), torch.utils.deterministic.fill_uninitialized_memory
    torch.use_deterministic_algorithms(on)
    torch.utils.deterministic.fill_uninitialized_memory = fill
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0])
        torch.utils.deterministic.fill_uninitialized_memory = before[1]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_model(arch: str, a: argparse.Namespace, device: torch.device, channels_last: bool):
    torch.manual_seed(a.seed)
    model = build_net(arch, a.classes, a.channels, a.width, "cifar").to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum,
                          weight_decay=a.weight_decay)
    return model, opt


class Ours:
    """lcpipe's loop: train_one_epoch on device-resident tensors (see the header)."""

    def __init__(self, arch, a, device, variant: Variant, xtr: Tensor, ytr: Tensor):
        self.device, self.variant, self.a = device, variant, a
        self.label = f"ours {variant.name}"
        self.model, self.opt = make_model(arch, a, device, channels_last=device.type == "cuda")
        self.step_model = torch.compile(self.model) if variant.compile else self.model
        self.gen = torch.Generator().manual_seed(a.seed)
        self.x, self.y = xtr, ytr

    def epoch(self) -> float:
        with deterministic(self.device.type != "cuda", self.a.fill_uninitialized):  # train_curve
            loss, _ = train_one_epoch(self.step_model, self.opt, self.x, self.y, self.a.batch_size,
                                      self.gen, self.a.augment, Dist(), self.variant.amp)
        return loss


class Reference:
    """torchvision references/classification/train.py's train_one_epoch, minus logging I/O."""

    def __init__(self, arch, a, device, host_x: Tensor, host_y: Tensor):
        self.device, self.label = device, "reference"
        self.model, self.opt = make_model(arch, a, device, channels_last=False)
        transform = host_augment(a.size) if a.augment else None
        self.loader = DataLoader(TransformedTensorDataset(host_x, host_y, transform),
                                 batch_size=a.batch_size, shuffle=True, num_workers=a.workers,
                                 pin_memory=device.type == "cuda",
                                 generator=torch.Generator().manual_seed(a.seed))
        self.criterion = nn.CrossEntropyLoss()

    def epoch(self) -> float:
        self.model.train()
        loss_sum, count, correct = 0.0, 0, 0
        for image, target in self.loader:
            image = image.to(self.device, non_blocking=True)
            target = target.to(self.device, non_blocking=True)
            output = self.model(image)
            loss = self.criterion(output, target)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            batch = image.shape[0]
            loss_sum += loss.item() * batch  # MetricLogger.update(loss=loss.item(), ...)
            correct += (output.argmax(1) == target).sum().item()  # utils.accuracy(...).item()
            count += batch
        return loss_sum / count


def timed_epoch(loop, device: torch.device) -> tuple[float, float]:
    sync(device)
    start = time.perf_counter()
    loss = loop.epoch()
    sync(device)
    return time.perf_counter() - start, loss


def bench_arch(arch: str, a, device, variants, xtr, ytr, host_x, host_y) -> dict[str, float]:
    """Images/s (median over a.repeats epochs) of every ours variant and the reference."""
    loops = [Ours(arch, a, device, v, xtr, ytr) for v in variants]
    if a.reference:
        loops.append(Reference(arch, a, device, host_x, host_y))
    times: dict[str, list[float]] = {loop.label: [] for loop in loops}
    losses: dict[str, float] = {}
    for round_ in range(a.repeats + 1):  # round 0 is the warm-up (cudnn autotune, compile)
        for loop in loops:
            seconds, loss = timed_epoch(loop, device)
            losses[loop.label] = loss
            if round_ > 0:
                times[loop.label].append(seconds)
    bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
    if bad:
        raise SystemExit(f"{arch}: non-finite training loss {bad}")
    ips = {k: a.n / statistics.median(v) for k, v in times.items()}
    print(f"# {arch}: " + ", ".join(
        f"{k} {statistics.median(times[k]):.3f}s/epoch (min {min(times[k]):.3f}) loss {losses[k]:.3f}"
        for k in times), file=sys.stderr, flush=True)
    return ips


def parse_args(argv=None) -> argparse.Namespace:
    p = Parser(description=__doc__ or "training throughput: ours vs reference")
    p.add_argument("--quick", action="store_true", help=f"small CPU settings: {QUICK}")
    p.add_argument("--archs", help=f"comma-separated (default {DEFAULTS['archs']})")
    for name in ("n", "size", "channels", "classes", "width", "batch_size", "repeats", "seed",
                 "threads"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, help=f"default {DEFAULTS[name]}")
    for name in ("lr", "momentum", "weight_decay"):
        p.add_argument(f"--{name.replace('_', '-')}", type=float, help=f"default {DEFAULTS[name]}")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                   help="pad-4 crop + flip in both loops (default on)")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="ours only: bf16 autocast (default: on CUDA only, as train_curve)")
    p.add_argument("--compile", action="store_true", help="ours only: torch.compile the model")
    p.add_argument("--fill-uninitialized", action=argparse.BooleanOptionalAction, default=False,
                   help="ours on the CPU only: torch.utils.deterministic.fill_uninitialized_memory "
                   "under the deterministic mode train_curve turns on (default off, as train_curve "
                   "sets it; on: the cost of torch's NaN fill)")
    p.add_argument("--variants", help="ours variants measured in one interleaved run, e.g. "
                   "bf16,fp32,bf16+compile (overrides --amp/--compile; the first one is the "
                   "'speedup' line's)")
    p.add_argument("--workers", type=int, default=None,
                   help="reference DataLoader workers (default 0 on the CPU, min(8, cores/2) on CUDA)")
    p.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                   help="measure the reference loop (default on; off: no ratios, no speedup line)")
    p.add_argument("--json", type=Path, help="also write the results (img/s per arch and loop) here")
    p.add_argument("--device", default="auto", help="auto (cuda if present) | cpu | cuda | cuda:N")
    a = p.parse_args(argv)
    base = {**DEFAULTS, **(QUICK if a.quick else {})}
    for key, value in base.items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    if a.repeats < 1 or a.batch_size < 1:
        p.error("--repeats and --batch-size must be >= 1")
    if a.n < 2:
        p.error(f"--n {a.n}: give at least 2 images (batch norm needs two to train on)")
    if a.workers is not None and a.workers < 0:
        p.error(f"--workers {a.workers}: give 0 (load in the main process) or more")
    for name in ("size", "channels", "classes", "width"):
        if getattr(a, name) < 1:
            p.error(f"--{name} {getattr(a, name)}: give a whole number of at least 1")
    archs = [s.strip() for s in a.archs.split(",") if s.strip()]
    if not archs:
        p.error(f"--archs {a.archs!r}: name at least one, e.g. {DEFAULTS['archs']}")
    for arch in archs:
        try:
            parse_arch(arch)
        except LcpipeError as e:
            p.error(f"--archs: {e}")
    if a.device != "auto":
        try:
            device = torch.device(a.device)
        except RuntimeError:
            p.error(f"--device {a.device!r}: auto, cpu, cuda or cuda:N")
        if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
            p.error(f"--device {a.device}: no such CUDA device here ({torch.cuda.device_count()} visible)")
        if device.type not in ("cpu", "cuda"):
            p.error(f"--device {a.device!r}: auto, cpu, cuda or cuda:N")
    if a.json is not None:
        check_results_file(p, a.json)
    return a


def check_results_file(p: argparse.ArgumentParser, path: Path) -> None:
    """--json is checked before the bench runs: a .json path, and an existing one only if this bench wrote it (its
    keys), never another file of the user's (a review: --json params.yaml replaced the pipeline's params)."""
    if path.suffix.lower() != ".json":
        p.error(f"--json {path}: the results are JSON; give a path ending .json")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        p.error(f"--json {path} is {'a symbolic link' if path.is_symlink() else 'not a regular file'}; "
                "give a regular file's path")
    if path.exists():
        try:
            content = json.loads(path.read_text())
            ours = isinstance(content, dict) and set(content) == {"config", "device", "results"}
        except (OSError, ValueError, TypeError):
            ours = False
        if not ours:
            p.error(f"--json {path} exists and is not a results file of this bench, which it would replace; "
                    "give a new file name, or remove it first")
    if not path.parent.is_dir():
        p.error(f"--json {path}: its folder {path.parent} does not exist")


def main(argv=None) -> None:
    a = parse_args(argv)
    device = pick_device() if a.device == "auto" else torch.device(a.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    if a.workers is None:
        a.workers = min(8, (os.cpu_count() or 2) // 2) if cuda else 0
    if a.variants:
        variants = [Variant.parse(v) for v in a.variants.split(",")]
    else:
        variants = [Variant(amp=cuda if a.amp is None else a.amp, compile=a.compile)]
    archs = [s.strip() for s in a.archs.split(",") if s.strip()]
    check_augment(a.size, a.channels)

    name = torch.cuda.get_device_name(device) if cuda else f"cpu ({torch.get_num_threads()} threads)"
    print(f"# torch {torch.__version__} on {name}; data {a.n} x {a.channels} x {a.size} x {a.size}, "
          f"width {a.width}, batch {a.batch_size}, augment {'on' if a.augment else 'off'}, "
          f"repeats {a.repeats} (+1 warm-up), reference workers {a.workers}")
    ref = ("reference: fp32, per-sample host augmentation, DataLoader, .to(device) + .item() per "
           "step" if a.reference else "no reference")
    mode = (" channels_last" if cuda else
            f" deterministic (NaN fill {'on' if a.fill_uninitialized else 'off'})")
    print(f"# ours: {', '.join(v.name for v in variants)}{mode}; {ref}", flush=True)

    ds = data.synthetic(a.seed, a.n, 1, a.size, a.channels, a.classes)
    xtr, ytr, _, _ = to_device(ds, device)  # once, as train_curve; not timed
    host_x, host_y, _, _ = to_device(ds, torch.device("cpu"))  # the same standardised tensors

    results = {arch: bench_arch(arch, a, device, variants, xtr, ytr, host_x, host_y)
               for arch in archs}

    if a.json:
        write_text(a.json, json.dumps({"config": {k: str(v) for k, v in vars(a).items()},
                                       "device": name, "results": results}, indent=1))
    print_table(results, variants, a.reference)


def print_table(results: dict[str, dict[str, float]], variants: list[Variant], reference: bool):
    single = len(variants) == 1
    ours_cols = ["ours img/s"] if single else [f"{v.name} img/s" for v in variants]
    ratio_cols = (["ratio"] if single else [f"ratio {v.name}" for v in variants]) if reference else []
    header = ["arch", *ours_cols, *(["reference img/s"] if reference else []), *ratio_cols]
    rows, ratios = [], []
    for arch, ips in results.items():
        ours = [ips[f"ours {v.name}"] for v in variants]
        row = [arch, *(f"{x:.1f}" for x in ours)]
        if reference:
            ref = ips["reference"]
            ratios.append(ours[0] / ref)
            row += [f"{ref:.1f}", *(f"{x / ref:.2f}x" for x in ours)]
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
    if reference:
        print(f"speedup vs reference: {statistics.median(ratios):.2f}x", flush=True)


if __name__ == "__main__":
    main()
