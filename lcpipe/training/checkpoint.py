"""Full-state training checkpoints that make a killed run resume where it stopped.

A checkpoint carries a hash of the params that shaped it; one written under other params, or one
that is truncated or corrupt, is discarded with a warning and training restarts from scratch.
Loading goes through `torch.load(weights_only=True)` only: no pickle of arbitrary objects.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import torch

from lcpipe.atomic import atomic_path


def params_hash(*parts: object) -> str:
    """A stable hash of JSON-serialisable settings."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


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
        print(f"warning: {path}: unreadable checkpoint ({type(exc).__name__}); training from scratch",
              file=sys.stderr)
        path.unlink(missing_ok=True)
        return None
    if not isinstance(state, dict) or state.get("params_hash") != expected_hash:
        print(f"warning: {path}: checkpoint was written under other params; training from scratch",
              file=sys.stderr)
        path.unlink(missing_ok=True)
        return None
    return state
