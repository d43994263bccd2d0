"""Forecasts from a history of a few finished curves of other families: does the 80 % band hold 80 % of the finals,
and what does the stop rule cost?

Each study of the corpus in turn is seen at 20 % of its runs' length and forecast by `lcpipe.forecast` from h curves
drawn at random from the other families (REPS draws per study and h; a draw is seeded by (study, h, draw), so a run
is repeatable). Printed per h: how many forecasts, the share of finals inside their 80 % interval, the median width,
the median |error|; then the share of runs the stop rule stopped and the kept set's regret (accuracy points, or % of
the best final for a loss), the mean over draws and the worst draw. The baseline is the same forecasts by the code
before a change (run this file on both), and the calibrated regime: h = 5 and up.

Usage: python bench/small_history.py [--corpus ../shared/curves/dev] [--metric test_acc] [--h 2,3,4,5] [--reps 4]
       python bench/small_history.py --corpus ../shared/curves/dev-loss --metric val_loss --reps 3
(about 30 s for dev, 2 minutes for dev-loss, on 2 cores)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import lcpipe  # noqa: E402
from lcpipe.errors import LcpipeError  # noqa: E402

CUT = 0.2  # the share of each run seen


def _seed(*parts) -> int:
    return zlib.crc32(repr(parts).encode())  # the same draw on every machine and Python


def _seen(df: pd.DataFrame, x: str) -> int:
    return max(6, int((df[x] <= CUT * df[x].iloc[-1]).sum()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "curves" / "dev"))
    ap.add_argument("--metric", default="test_acc")
    ap.add_argument("--h", default="2,3,4,5", help="history sizes, comma-separated")
    ap.add_argument("--reps", type=int, default=4, help="history draws per study and size")
    args = ap.parse_args()
    root = Path(args.corpus)
    manifest = pd.read_csv(root / "MANIFEST.csv")
    sizes = [int(h) for h in args.h.split(",")]
    lower_better = args.metric.endswith("loss")
    bands: dict[int, list] = {h: [] for h in sizes}
    decisions: dict[int, list] = {h: [] for h in sizes}
    warnings.simplefilter("ignore")
    for group in sorted(manifest.group.unique()):
        family = manifest[manifest.group == group].family.iloc[0]
        others = manifest[manifest.family != family]
        tmp = Path(tempfile.mkdtemp())
        try:
            by_length: dict[int, tuple[str, dict[str, float]]] = {}  # runs of one length are forecast together
            for run in manifest[manifest.group == group].run:
                df = pd.read_csv(root / group / f"{run}.csv").dropna(subset=[args.metric])
                x = "step" if "step" in df.columns else "epoch"
                if _seen(df, x) >= len(df) - 1:
                    continue
                last = int(df[x].iloc[-1])
                live = tmp / f"live{last}"
                live.mkdir(exist_ok=True)
                df.iloc[:_seen(df, x)].to_csv(live / f"{run}.csv", index=False)
                shutil.copy(root / group / f"{run}.json", live / f"{run}.json")
                by_length.setdefault(last, (x, {}))[1][run] = float(df[args.metric].iloc[-1])
            for h in sizes:
                for rep in range(args.reps):
                    history = tmp / f"h{h}_{rep}"
                    history.mkdir()
                    for r in others.sample(h, random_state=_seed(group, h, rep) % 2**31).itertuples():
                        for suffix in (".csv", ".json"):
                            shutil.copy(root / r.group / f"{r.run}{suffix}", history / f"{r.group}__{r.run}{suffix}")
                    for last, (x, finals) in by_length.items():
                        length = {"steps": last} if x == "step" else {"epochs": last}
                        try:
                            out = lcpipe.forecast(history=history, runs=tmp / f"live{last}", metric=args.metric,
                                                  **length)
                        except LcpipeError as exc:
                            print(f"skipped {group} h={h}: {str(exc)[:120]}", file=sys.stderr)
                            continue
                        final = out.run.map(finals)
                        scale = 100 / final.min() if lower_better else 100  # % of the best loss; points
                        for row, f in zip(out.itertuples(), final, strict=True):
                            bands[h].append((row.lower <= f <= row.upper, (row.upper - row.lower) * scale,
                                             abs(row.final - f) * scale))
                        kept = final[out.decision == "keep"]
                        best = final.min() if lower_better else final.max()
                        got = (kept.min() if lower_better else kept.max()) if len(kept) else best
                        decisions[h].append(((out.decision == "stop").mean(), abs(got - best) * scale))
        finally:
            shutil.rmtree(tmp)
    unit = "% of the best final" if lower_better else "points"
    print(f"{root.name}, {args.metric}, runs seen at {CUT:.0%} of their length, {args.reps} history draws a study")
    for h in sizes:
        b, d = np.array(bands[h], dtype=float), np.array(decisions[h], dtype=float)
        print(f"h={h}: {len(b)} forecasts | cov80 {b[:, 0].mean():.2f} | width {np.median(b[:, 1]):.2f} | "
              f"|error| {np.median(b[:, 2]):.2f} ({unit}) | stopped {d[:, 0].mean():.2f} | kept-set regret "
              f"{d[:, 1].mean():.3f} (worst draw {d[:, 1].max():.2f})")


if __name__ == "__main__":
    main()
