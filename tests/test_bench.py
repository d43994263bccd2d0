"""The benchmark scripts run end to end on the CPU with tiny shapes (bench/ is not a package)."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# One intra-op thread: on a small shared CPU two OpenMP threads per tiny op can be ~100x slower.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
SPEEDUP = re.compile(r"speedup vs reference: (\d+\.\d{2})x")

pytestmark = pytest.mark.slow


def run(*cmd: str, timeout: int = 180) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_gpu_check_cpu_smoke_trains_and_prints_the_table():
    out = run("bash", str(ROOT / "bench" / "gpu_check.sh"), "--cpu-smoke").stdout
    losses = [float(v) for v in re.findall(r"^resnet50 epoch \d+/\d+ train_loss (\S+)", out, re.M)]
    assert losses and all(math.isfinite(v) for v in losses), out
    assert "(a) ok: final train_loss" in out
    assert SPEEDUP.search(out), out
    header = next(line for line in out.splitlines() if line.startswith("arch ") and "fp32/ref" in line)
    rows = out.splitlines()[out.splitlines().index(header) + 1:]
    assert [r.split()[0] for r in rows[:2]] == ["resnet34", "plain50"], out
    assert all(float(r.split()[1]) > 0 for r in rows[:2]), out  # reference img/s
    assert out.rstrip().splitlines()[-1].startswith("gpu_check: ok")


def test_train_throughput_ends_with_the_speedup_line():
    out = run(sys.executable, str(ROOT / "bench" / "train_throughput.py"), "--device", "cpu",
              "--archs", "resnet18,plain18", "--n", "128", "--size", "8", "--channels", "1",
              "--width", "4", "--batch-size", "64", "--repeats", "1", "--threads", "1").stdout
    lines = out.rstrip().splitlines()
    assert SPEEDUP.fullmatch(lines[-1]), out
    assert float(SPEEDUP.fullmatch(lines[-1]).group(1)) > 0
    assert lines[-4].split() == ["arch", "ours", "img/s", "reference", "img/s", "ratio"], out
    assert [line.split()[0] for line in lines[-3:-1]] == ["resnet18", "plain18"]


def test_the_pruner_audit_prints_the_told_bands_coverage_before_and_after_calibration():
    """bench/pruners.py --audit: the note's and README's coverage of pruned trials' final_forecast."""
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "pruners.py"), "--audit", "--quick"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = re.findall(r"^  (before the study's own errors decide|after|all): cov80 ([\d.]+) / width [\d.]+ / error "
                      r"[-+][\d.]+ \((\d+) trials\)$", proc.stdout, flags=re.M)
    assert [r[0] for r in rows][-1] == "all" and all(0 <= float(r[1]) <= 1 for r in rows)
    assert int(rows[-1][2]) > 0  # some trial was pruned and told
