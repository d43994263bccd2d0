"""bench/forecast_quality.py: the leave-one-group-out protocol runs end to end, and no group's
score ever depends on a setting chosen on that group."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import EXTERNAL_CURVES, ROOT, learning_curve

BENCH = ROOT / "bench" / "forecast_quality.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("forecast_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_group(folder, n_runs: int, epochs: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n_runs):
        acc = learning_curve(epochs, final=0.7 + 0.04 * i, rate=0.08 + 0.01 * i, noise=0.01, seed=i)
        rows = "".join(f"{e},{float(a)!r}\n" for e, a in enumerate(acc, start=1))
        (folder / f"run{i}.csv").write_text("epoch,test_acc\n" + rows)


@pytest.mark.slow
def test_quick_protocol_scores_every_predictor_and_ends_with_the_ratio_line(tmp_path):
    write_group(tmp_path / "synthetic_60ep", n_runs=5, epochs=60)
    write_group(tmp_path / "synthetic_15ep", n_runs=3, epochs=15)  # cutoff 20 is past their end
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--corpus", str(EXTERNAL_CURVES), str(tmp_path)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.rstrip().splitlines()
    ratios = re.fullmatch(r"default vs best reference: (\d+\.\d\d) (\d+\.\d\d)", lines[-1])
    assert ratios, proc.stdout
    assert all(0 < float(r) < 1 for r in ratios.groups()), proc.stdout  # auto beats every reference
    overall = lines[:lines.index("") if "" in lines else len(lines)]  # the first table, all groups
    table = {line.split()[0]: line.split()[1:] for line in overall if line.split()[:1] in
             (["auto"], ["last_value"], ["source_shift"])}
    assert set(table) == {"auto", "last_value", "source_shift"} and all(len(v) == 10 for v in table.values())
    assert "skipped (cutoff at or past the curve's end): 3 " in proc.stdout
    assert "settings chosen leave-one-group-out" in proc.stdout


def test_a_groups_auto_setting_is_chosen_on_the_other_groups_only():
    bench = load_bench()

    def rows(group, error):
        actual = np.full(5, 0.8)
        return [{"group": group, "target": "t", "cutoff": 10, "actual": actual, "mean": actual + error,
                 "lower": actual + error - 0.01, "upper": actual + error + 0.01}]

    # setting A is perfect on g1 and bad on g2, B the reverse: each group must get the other's best
    results = {(("smooth", "A"),): rows("g1", 0.0) + rows("g2", 0.2),
               (("smooth", "B"),): rows("g1", 0.2) + rows("g2", 0.0)}
    scored, chosen = bench.choose_setting(results, ["g1", "g2"], calibrate=True)
    assert chosen["g1"]["smooth"] == "B" and chosen["g2"]["smooth"] == "A"
    assert all(np.allclose(r["mean"], r["actual"] + 0.2) for r in scored)
