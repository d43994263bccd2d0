"""Wall-time budgets of the README commands, measured side by side in one sitting.

  1. `dvc repro` of the whole pipeline in a fresh clone (the venv already exists)   budget 300 s
  2. then a predict.cutoff change + `dvc repro` (predict and evaluate only)           "seconds"
  3. `python -m lcpipe evaluate`, leave-one-out over 10 curves x 164 epochs x 4 cutoffs,
     default predictors                                                              budget 180 s

Prints each time with its ratio to the budget (baseline = the budget), and the cutoff-change
repro as a fraction of the full repro. Usage: python bench/pipeline_budgets.py [--skip-repro]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from lcpipe.curve import format_rows  # noqa: E402
from lcpipe.forecasting.logs import read_curve_dir  # noqa: E402

EXTERNAL = ROOT / "tests" / "fixtures" / "cifar10-plain-vs-resnet"


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - start, proc.stdout


def ten_curves(dest: Path) -> None:
    """The 8 real CIFAR-10 curves plus 2 blends of them: 10 curves of 164 epochs."""
    curves = read_curve_dir(EXTERNAL)
    for c in curves:
        (dest / f"{c.name}.csv").write_text((EXTERNAL / f"{c.name}.csv").read_text())
    for i, (a, b) in enumerate([(0, 4), (3, 7)]):
        acc = (curves[a].metric("test_acc") + curves[b].metric("test_acc")) / 2
        rows = [{"epoch": e, "train_loss": 0.0, "train_acc": float(v), "test_loss": 0.0,
                 "test_acc": float(v), "lr": 0.1} for e, v in enumerate(acc, 1)]
        (dest / f"blend{i}.csv").write_text(format_rows(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-repro", action="store_true", help="only the evaluate budget")
    args = ap.parse_args()
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.skip_repro:
            clone = tmp / "clone"
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            os.symlink(ROOT / ".venv", clone / ".venv")
            full, _ = timed(["dvc", "repro"], clone, env)
            print(f"fresh-clone dvc repro:        {full:7.1f} s   {full / 300:.2f}x of the 300 s budget")
            params = (clone / "params.yaml").read_text().replace("  cutoff: 20", "  cutoff: 10")
            (clone / "params.yaml").write_text(params)
            cut, out = timed(["dvc", "repro"], clone, env)
            ran = [ln.split("'")[1] for ln in out.splitlines() if ln.startswith("Running stage")]
            print(f"cutoff 20 -> 10, dvc repro:   {cut:7.1f} s   {cut / full:.3f}x of the full repro; ran {ran}")
        curves = tmp / "curves"
        curves.mkdir()
        ten_curves(curves)
        ev, _ = timed([sys.executable, "-m", "lcpipe", "evaluate", "--curves", str(curves),
                       "--cutoffs", "5,10,20,40", "--out", str(tmp / "ev.json")], ROOT, env)
        print(f"evaluate 10x164 @ 4 cutoffs:  {ev:7.1f} s   {ev / 180:.2f}x of the 180 s budget")


if __name__ == "__main__":
    main()
