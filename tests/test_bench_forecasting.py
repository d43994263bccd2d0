"""The forecasting benchmarks run end to end on tiny inputs and print what the report quotes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, curve_csv, learning_curve

pytestmark = pytest.mark.slow


def run(*args: str, cwd: Path) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_forecast_speed_prints_runs_per_second_and_ends_with_the_speedup(tmp_path):
    out = run(str(ROOT / "bench" / "forecast_speed.py"), "--sizes", "10,20", "--loop-runs", "10", cwd=tmp_path)
    rows = [line.split() for line in out.splitlines() if re.fullmatch(r"\s*\d+\s+\S+\s+\S+", line)]
    assert [r[0] for r in rows] == ["10", "20"] and all(float(r[2]) > 0 for r in rows), out
    assert re.fullmatch(r"speedup vs per-run loop: \d+\.\d\dx", out.splitlines()[-1]), out


def test_early_stopping_replays_each_study_against_the_others(tmp_path):
    for g, finals in {"a": (0.9, 0.8, 0.7, 0.6), "b": (0.5, 0.7, 0.6, 0.65), "c": (0.8, 0.85, 0.9, 0.7)}.items():
        (tmp_path / "dev" / g).mkdir(parents=True)
        for i, final in enumerate(finals):
            acc = learning_curve(27, final=final, noise=0.005, seed=i)
            (tmp_path / "dev" / g / f"run{i}.csv").write_text(curve_csv(acc))
    out = run(str(ROOT / "bench" / "early_stopping.py"), "--dev", "dev", cwd=tmp_path)
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in (["a"], ["b"], ["c"])}
    overall = next(line for line in out.splitlines() if line.startswith("overall"))
    assert set(rows) == {"a", "b", "c"}, out
    # each row: family, studies, then per policy "epochs % [lo, hi]  regret [lo, hi]"; train all comes first
    assert all(r[1] == "1" and r[2] == "100.0" for r in rows.values()), out
    assert "overall (mean over studies)       3  100.0" in overall
    for policy in ("median rule", "succ. halving", "lcpipe halving", "lcpipe keep"):
        assert policy in out
    assert "lcpipe keep: lower regret than successive halving" in out