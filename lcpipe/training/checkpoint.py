"""Full-state training checkpoints that make a killed run resume where it stopped.

A checkpoint carries a hash of the params that shaped it and one of the training code that wrote
it; one written under other params or by other code, or one that is truncated or corrupt, is
discarded with the reason on stderr and training restarts from scratch.
Loading goes through `torch.load(weights_only=True)` only: no pickle of arbitrary objects.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from lcpipe.atomic import atomic_path
from lcpipe.progress import say


def params_hash(*parts: object) -> str:
    """A stable hash of JSON-serialisable settings."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def code_hash(package: Path = Path(__file__).parent) -> str:
    """A hash of the training code: every module of this package (nets, loop, data, ...)."""
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def state_key(*params: object) -> str:
    """What a checkpoint must match to be resumed: 'params <hash> code <hash>'."""
    return f"params {params_hash(*params)} code {code_hash()}"


def _mismatch(found: object, expected: str) -> str:
    """Why a checkpoint saved under key `found` cannot resume a run under key `expected`."""
    same_params = isinstance(found, str) and found.split(" code ")[0] == expected.split(" code ")[0]
    return ("checkpoint was written by other training code (lcpipe/training changed)" if same_params
            else "checkpoint was written under other params")


def save(path: str | Path, state: dict) -> None:
    """Write `state` atomically: a kill during the write leaves the previous checkpoint intact."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load(path: str | Path, expected_hash: str) -> dict | None:
    """The checkpoint at `path` if it is readable and was written under `expected_hash`, else None."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, garbage bytes, unsafe content: all the same to us
        say(f"warning: {path}: unreadable checkpoint ({type(exc).__name__}); training from scratch")
        path.unlink(missing_ok=True)
        return None
    found = state.get("params_hash") if isinstance(state, dict) else None
    if found != expected_hash:
        say(f"warning: {path}: {_mismatch(found, expected_hash)}; training from scratch")
        path.unlink(missing_ok=True)
        return None
    return state
