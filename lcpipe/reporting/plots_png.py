"""Render DVC's native plots to PNG offline: `python -m lcpipe.reporting.plots_png [show | diff REV ...]`.

`dvc plots show/diff` writes an HTML page that loads Vega from a CDN; this asks DVC for the same
Vega-Lite specs (`--json`) and renders each with vl-convert (a dev extra), into dvc_plots/png/.
Image plots (the stages' own PNGs) are skipped: they are files already.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from lcpipe.atomic import atomic_path
from lcpipe.errors import LcpipeError, exits_cleanly
from lcpipe.progress import say


def specs(args: list[str]) -> dict[str, dict]:
    """Plot id -> filled Vega-Lite spec, from `dvc plots <args> --json`."""
    try:
        proc = subprocess.run(["dvc", "plots", *args, "--json"], capture_output=True, text=True)
    except FileNotFoundError:
        raise LcpipeError("dvc is not on PATH; activate the project's environment") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise LcpipeError(f"dvc plots {' '.join(args)} failed: {last}")
    try:
        shown = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise LcpipeError(f"dvc plots {' '.join(args)} --json did not print JSON") from None
    for err in shown.get("errors", []):
        say(f"warning: {err.get('name')} at {err.get('rev')}: {err.get('msg', '').splitlines()[0]}")
    if not isinstance(shown, dict) or not isinstance(shown.get("data"), dict):
        raise LcpipeError(f"dvc plots {' '.join(args)} found no plots to draw")
    return {pid: r["content"] for pid, renders in shown["data"].items() for r in renders if r["type"] == "vega"}


USAGE = ("usage: python -m lcpipe.reporting.plots_png [show | diff [REV ...]]: DVC's plots of the workspace (show), "
         "or of revisions side by side (diff: HEAD and the workspace, or the REVs given), as PNGs in dvc_plots/png/")


@exits_cleanly
def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return
    if args and args[0] not in ("show", "diff"):
        raise LcpipeError(f"{args[0]!r}: {USAGE.removeprefix('usage: ')}")
    if args[:1] == ["show"] and args[1:]:  # dvc plots show takes targets and its own options, not revisions
        raise LcpipeError(f"show {' '.join(args[1:])}: show draws the workspace and takes nothing more; "
                          f"for revisions use diff (python -m lcpipe.reporting.plots_png diff {' '.join(args[1:])})")
    if args[:1] == ["diff"] and any(a.startswith("-") for a in args[1:]):
        raise LcpipeError(f"diff {' '.join(args[1:])}: give revisions only (e.g. diff HEAD lr03)")
    try:
        import vl_convert
    except ImportError:
        raise LcpipeError("vl-convert-python is not installed; pip install -e '.[dev]'") from None
    rendered = specs(args or ["show"])  # before the folder: a failed call leaves nothing behind
    out = Path("dvc_plots/png")
    out.mkdir(parents=True, exist_ok=True)
    drawn = set()
    for pid, spec in rendered.items():
        path = out / (re.sub(r"[^A-Za-z0-9_.-]+", "_", pid).strip("_") + ".png")
        png = vl_convert.vegalite_to_png(spec, scale=1.5)
        with atomic_path(path) as tmp:
            tmp.write_bytes(png)
        drawn.add(path.name)
        say(f"{pid} -> {path}")
    # a plot no longer drawn (a dropped arch, a revision not asked for) leaves no image beside the fresh ones (red
    # team): only the folder's own regular PNGs go, never a link or anything else put there
    stale = sorted(p for p in out.iterdir() if p.suffix == ".png" and p.name not in drawn and p.is_file()
                   and not p.is_symlink())
    for path in stale:
        path.unlink()
    if stale:
        say(f"removed {len(stale)} PNG{'s' if len(stale) > 1 else ''} of plots not drawn this time from {out}/")


if __name__ == "__main__":
    main()
