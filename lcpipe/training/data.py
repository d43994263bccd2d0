"""Datasets as in-memory tensors: digits (bundled, default), cifar10/cifar100, synthetic (tests).

Everything here fits in memory, so it is held as tensors (images NCHW, labels int64) and moved
to the training device once, instead of being iterated through DataLoader worker processes.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lcpipe.atomic import atomic_path
from lcpipe.errors import LcpipeError
from lcpipe.training.sources import CIFAR_FILES, offline_hint


@dataclass
class Dataset:
    train_x: torch.Tensor  # float32 NCHW (digits, synthetic) or uint8 NCHW (CIFAR)
    train_y: torch.Tensor  # int64
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int

    @property
    def in_channels(self) -> int:
        return self.train_x.shape[1]


def digits(seed: int, test_fraction: float) -> Dataset:
    """scikit-learn's bundled 8x8 digits (no network), stratified fixed-seed train/test split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    try:
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction, stratify=y,
                                              random_state=seed)
    except ValueError as exc:  # too few samples per class on one side of the split
        raise LcpipeError(f"data.test_fraction: {test_fraction} cannot split 1797 digits by class "
                          f"({str(exc).splitlines()[0]}); use e.g. 0.25") from None
    return _from_numpy(xtr, ytr, xte, yte, 10)


def synthetic(seed: int, n_train: int, n_test: int, size: int, channels: int = 3,
              num_classes: int = 10) -> Dataset:
    """Random images whose class shifts the mean of one pixel block: learnable, fast, offline."""
    g = torch.Generator().manual_seed(seed)
    n = n_train + n_test
    y = torch.randint(0, num_classes, (n,), generator=g)
    x = torch.randn(n, channels, size, size, generator=g)
    pattern = torch.randn(num_classes, channels, size, size, generator=g)
    x = x + 1.5 * pattern[y]
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], num_classes)


def cifar(name: str, root: str | Path) -> Dataset:
    """CIFAR-10/100 via torchvision, downloaded into `root` where the network allows."""
    from torchvision import datasets

    cls = {"cifar10": datasets.CIFAR10, "cifar100": datasets.CIFAR100}[name]
    try:
        train = cls(root, train=True, download=True)
        test = cls(root, train=False, download=True)
    except Exception as exc:  # offline: torchvision raises URLError/RuntimeError
        raise LcpipeError(f"{name}: could not load or download ({type(exc).__name__}); "
                          f"{offline_hint(name, root)}") from None

    def as_tensors(ds):
        x = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))
        return x, torch.tensor(ds.targets, dtype=torch.int64)

    return Dataset(*as_tensors(train), *as_tensors(test), len(train.classes))


def _from_numpy(xtr, ytr, xte, yte, num_classes) -> Dataset:
    t = torch.from_numpy
    return Dataset(t(xtr), t(ytr).long(), t(xte), t(yte).long(), num_classes)


def load(name: str, *, seed: int, root: str | Path, test_fraction: float, synthetic_train: int,
         synthetic_test: int, synthetic_size: int) -> Dataset:
    """The dataset `name` (one of config.DATASETS) as tensors; the arguments are config.DataParams'."""
    if name == "digits":
        return digits(seed, test_fraction)
    if name == "synthetic":
        return synthetic(seed, synthetic_train, synthetic_test, synthetic_size)
    if name in CIFAR_FILES:
        return cifar(name, root)
    raise LcpipeError(f"unknown dataset {name!r}")


def save(ds: Dataset, path: str | Path) -> None:
    """Materialise a dataset as one .npz (no pickle), atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, train_x=ds.train_x.numpy(), train_y=ds.train_y.numpy(),
                     test_x=ds.test_x.numpy(), test_y=ds.test_y.numpy(),
                     num_classes=np.array(ds.num_classes))


def read(path: str | Path) -> Dataset:
    """Read what `save` wrote; a missing or damaged file is a clear error."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("train_x", "train_y", "test_x", "test_y", "num_classes")}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise LcpipeError(f"{path}: cannot read prepared dataset ({exc}); rerun `dvc repro prepare`") from None
    return _from_numpy(arrays["train_x"], arrays["train_y"], arrays["test_x"], arrays["test_y"],
                       int(arrays["num_classes"]))
