"""Where the downloadable datasets come from, without torch: the params check asks, before DVC
removes the prepare stage's output, whether `prepare` can get the data at all (red team: offline,
`dvc repro` with data.dataset=cifar10 deleted data/prepared/ and only then failed)."""

from __future__ import annotations

import socket
from pathlib import Path

from lcpipe.errors import LcpipeError

CIFAR_FILES = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
CIFAR_ARCHIVES = {"cifar10": "cifar-10-python.tar.gz", "cifar100": "cifar-100-python.tar.gz"}
CIFAR_HOST, CIFAR_PORT = "www.cs.toronto.edu", 443  # torchvision's CIFAR10.url / CIFAR100.url
REACH_SECONDS = 5.0


def offline_hint(name: str, root: str | Path) -> str:
    return f"offline, put {CIFAR_ARCHIVES[name]} (or its extracted {CIFAR_FILES[name]}/ folder) into {root}/"


def check_obtainable(name: str, root: str | Path) -> None:
    """A CIFAR dataset is in `root` already (extracted, or its archive), or its host answers; else one
    line saying where to put the files. Other datasets ship with the code."""
    if name not in CIFAR_FILES:
        return
    root = Path(root)
    if (root / CIFAR_FILES[name]).is_dir() or (root / CIFAR_ARCHIVES[name]).is_file():
        return
    try:
        socket.create_connection((CIFAR_HOST, CIFAR_PORT), timeout=REACH_SECONDS).close()
    except OSError as exc:
        raise LcpipeError(f"data.dataset: {name} is not in {root}/ and {CIFAR_HOST} cannot be reached "
                          f"({type(exc).__name__}); {offline_hint(name, root)}") from None
