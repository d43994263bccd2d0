"""bench/hpo_table (real trainings a sampler can query) and bench/hpo.py (live Optuna studies over it)."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from bench.hpo import load_table, main, oracle_for, regret_curve, run_study, summarize  # noqa: E402
from bench.hpo_table.generate import GRID, grid_configs, train_config  # noqa: E402
from lcpipe.metric import Metric  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "bench" / "hpo_table"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
optuna.logging.set_verbosity(optuna.logging.WARNING)


def columns(path: Path) -> dict[str, list[str]]:
    lines = gzip.decompress(path.read_bytes()).decode().split()
    head, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
    return {k: [r[i] for r in rows] for i, k in enumerate(head)}


@pytest.mark.slow
def test_the_generator_trains_a_slice_for_real_and_again_alike(tmp_path):
    subprocess.run([sys.executable, str(TABLE / "generate.py"), "--slice", "2", "--epochs", "3", "--workers", "1",
                    "--tasks", "synth_hard", "--out", str(tmp_path)], check=True, env=ENV, capture_output=True,
                   timeout=120)
    got = columns(tmp_path / "synth_hard.csv.gz")
    assert got["epoch"] == ["1", "2", "3"] * 2 and len(set(got["config"])) == 2
    acc = np.array(got["test_acc"], dtype=float)
    assert ((0 <= acc) & (acc <= 1)).all() and len(set(acc)) > 1  # trained: accuracy moves
    assert (np.array(got["seconds"], dtype=float) > 0).all()
    assert (tmp_path / "provenance.json").is_file() and (tmp_path / "configs.csv").is_file()
    # seeded by (seed, task, config): trained again here, in another process, the same curves
    config = int(got["config"][3])
    _, rows = train_config(("synth_hard", config, grid_configs()[config], 3, 0))
    assert [[str(v) for v in r[:6]] for r in rows] == \
        [[got[k][i] for k in ("config", "epoch", "test_acc", "val_acc", "val_loss", "test_loss")] for i in (3, 4, 5)]


def test_the_stored_table_is_the_generators_full_grid_and_small():
    tasks = load_table(TABLE, "test_acc")
    assert len(tasks) >= 4
    assert sum(p.stat().st_size for p in TABLE.iterdir()) < 20e6
    for task in tasks.values():
        assert task.configs == grid_configs() and len(task.configs) >= 200 and len(GRID) >= 7
        assert task.values.shape == (len(task.configs), 40) and np.isfinite(task.values).all()
        assert (task.seconds > 0).all()
        finals = task.values[:, -1]
        assert finals.max() - np.median(finals) > 0.02  # configs differ: a sampler has something to find
    loss = load_table(TABLE, "val_loss", ["digits"])["digits"].values
    assert np.nanmin(loss) > 0 and np.isfinite(loss).mean() > 0.95


def test_a_study_spends_its_budget_in_epochs_whatever_the_workers():
    task = load_table(TABLE, "test_acc", ["digits"])["digits"]
    one = run_study(task, "random", 0, optuna.pruners.NopPruner(), "raise", 1, 5 * 40, "max")
    assert list(one[:, 0]) == [40, 80, 120, 160, 200]  # one worker: trials end one after another
    four = run_study(task, "random", 0, optuna.pruners.NopPruner(), "raise", 4, 5 * 40, "max")
    # four at once on the simulated clock: fewer trials end within the same epochs, not at multiples of 40
    assert 1 <= len(four) < 5 and four[-1, 0] <= 200 and any(e % 40 for e in four[:, 0])
    assert set(four[:, 1]) <= set(task.values[:, -1])  # each ended trial is a real config's real final


def test_a_pruner_saves_epochs_for_more_trials():
    task = load_table(TABLE, "test_acc", ["synth_medium"])["synth_medium"]
    nop = run_study(task, "tpe", 1, optuna.pruners.NopPruner(), "raise", 1, 15 * 40, "max")
    sha = run_study(task, "tpe", 1, optuna.pruners.SuccessiveHalvingPruner(), "raise", 1, 15 * 40, "max")
    assert len(nop) == 15 and 1 <= len(sha) < 15  # SHA's pruned trials spend epochs too, but short


def test_the_oracle_trains_to_the_end_only_what_beats_the_best_so_far():
    """The reference row: it knows the finals, so each trial it lets finish is a new best, and a repeat
    of a config is pruned at its MIN_WARMUP-th report."""
    task = load_table(TABLE, "test_acc", ["synth_medium"])["synth_medium"]
    done = run_study(task, "tpe", 1, oracle_for(task, "max"), "mean", 1, 15 * 40, "max")
    assert len(done) >= 3 and np.all(np.diff(done[:, 1]) > 0), done
    nop = run_study(task, "tpe", 1, optuna.pruners.NopPruner(), "raise", 1, 15 * 40, "max")
    assert done[-1, 1] >= nop[:, 1].max()  # the same budget, many more configs seen


def test_dedupe_trains_each_config_once_as_the_optuna_faq_does():
    task = load_table(TABLE, "test_acc", ["wine"])["wine"]
    plain = run_study(task, "tpe", 0, optuna.pruners.NopPruner(), "raise", 1, 30 * 40, "max")
    dedupe = run_study(task, "tpe", 0, optuna.pruners.NopPruner(), "raise", 1, 30 * 40, "max", dedupe=True)
    assert len(set(plain[:, 2])) < len(plain)  # TPE asks again for configs it has (lr snapped to the grid)
    assert len(set(dedupe[:, 2])) == len(dedupe) == 30  # each trained once; the budget buys new ones


def test_a_grid_lr_gives_repeats_equal_params_which_the_pruner_stops_as_reruns():
    """--lr grid: a discrete search space, where TPE's repeats carry equal params. ForecastPruner's rerun rule
    then stops a repeat early, so no config trains to the end twice; with the default log-uniform lr the
    repeats' params differ and some config does (the bench's 'where the epochs go' tells the two apart)."""
    from lcpipe.integrations.optuna import ForecastPruner

    task = load_table(TABLE, "test_acc", ["digits"])["digits"]  # (wine's 36 test samples: curves of 2 values, no twins)
    nop = run_study(task, "tpe", 0, optuna.pruners.NopPruner(), "raise", 1, 30 * 40, "max", lr_space="grid")
    assert len(set(nop[:, 2])) < len(nop)  # the sampler does ask again for configs it has

    def ended_twice(lr_space):
        done = run_study(task, "tpe", 0, ForecastPruner(40, None, metric="test_acc"), "raise", 1, 30 * 40, "max",
                         lr_space=lr_space)
        return len(done) - len(set(done[:, 2]))

    assert ended_twice("grid") == 0 < ended_twice("log")


@pytest.mark.slow
def test_hpo_quick_prints_the_anytime_table_and_its_last_line():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "hpo.py"), "--quick"], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name in ("NopPruner", "Median(warmup10%)", "Hyperband(rf3)", "ForecastPruner(raise)", "ForecastPruner(mean)",
                 "Oracle(step 3)"):
        assert re.search(rf"^{re.escape(name)}\s+\d+\.\d\d \[", out, re.M), (name, out)
    assert "ForecastPruner(mean) - ForecastPruner(raise) (TPE, 1 w, paired): @10 %:" in out
    # the audit of what a pruned trial tells the sampler: every returned forecast counted once, before or after
    audit = dict(re.findall(r"^  (before the study's own errors decide|after|all): cov80 \d\.\d\d / width [\d.]+ / "
                            r"error [+-][\d.]+ \((\d+) trials", out, re.M))
    assert set(audit) == {"before the study's own errors decide", "after", "all"}, out
    assert int(audit["all"]) == int(audit["after"]) + int(audit["before the study's own errors decide"]) > 0
    last = out.rstrip().splitlines()[-1]
    assert re.fullmatch(r"ForecastPruner \(TPE, 1 worker\): to within 0\.1 pts (\d+\.\d|>100) % of the epochs \| "
                        r"best Optuna pruner: \S+ (\d+\.\d|>100) %", last), last


@pytest.mark.parametrize("args, says", [
    (["--workers", "0"], "--workers"),
    (["--workers", "x"], "--workers"),
    (["--forms", "maybe"], "--forms"),
    (["--tasks", "nope"], "--tasks"),
    (["--pruners", "Median()"], "--pruners"),
    (["--pruners", "Nope,ForecastPruner(mean)"], "--pruners: Nope not run"),
    (["--forms", "raise", "--pruners", "ForecastPruner(mean),Median()"],
     "--forms raise leaves out ForecastPruner(mean)"),
    (["--metric", "accuracy"], "--metric 'accuracy'"),
])
def test_bad_arguments_are_one_line(args, says, capsys):
    """In-process (the script's own entry is run by the tests above): a traceback would be an exception here."""
    with pytest.raises(SystemExit) as stopped:
        main(args)
    code = stopped.value.code  # SystemExit("message") prints the message and exits 1; argparse exits 2
    message = code if isinstance(code, str) else capsys.readouterr().err
    assert code not in (0, None) and says in message and "\n" not in message.strip(), message


def test_history_speed_times_cold_and_warm_studies_and_a_check_and_says_its_budgets():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "history_speed.py"), "--per-task", "4",
                           "--trials", "30"], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    num = r"\d+\.\d"
    assert re.fullmatch(
        rf"20 history curves; a TPE study of 40 full trainings' epochs, reading included: cold \(first fit\) {num} s "
        rf"\({num} s reading\), warm \(the fit from the disk cache, as a new worker finds it\) {num} s: \d\.\d\dx\n"
        r"a check at 30 completed trials: median \d+ ms; the first after a new completion \d+ ms\n"
        rf"budgets: cold study {num} s of 10 s; a check \d+ ms of 50 ms", proc.stdout.strip()), proc.stdout


def test_regret_is_the_best_trained_to_the_end_so_far_and_nothing_found_is_the_worst():
    done = np.array([[40, 0.90], [80, 0.95], [120, 0.93]])
    curve = regret_curve(done, 0.96, 50.0, Metric.infer("test_acc"), np.array([39, 40, 79, 80, 200]))
    assert np.allclose(curve, [50.0, 6.0, 6.0, 1.0, 1.0])


def test_the_anytime_table_pairs_each_study_with_itself_whatever_order_results_arrive_in():
    tasks = load_table(TABLE, "test_acc", ["digits", "wine"])
    results = {(t, "random", seed, name, 1): run_study(tasks[t], "random", seed, pruner(), "raise", 1, 3 * 40, "max")
               for t in tasks for seed in (0, 1)
               for name, pruner in (("NopPruner", optuna.pruners.NopPruner),
                                    ("Median()", lambda: optuna.pruners.MedianPruner(n_startup_trials=1)))}
    metric = Metric.infer("test_acc")
    forward = summarize(results, tasks, metric, 120, "random", 1, ["NopPruner", "Median()"])
    backward = summarize(dict(reversed(list(results.items()))), tasks, metric, 120, "random", 1,
                         ["NopPruner", "Median()"])
    assert forward == backward
    assert forward[1]["NopPruner"] <= 1.0  # no pruning comes within 0.1 of its own end by its budget


def test_the_table_as_large_studies_replays_through_the_pruner_bench(tmp_path):
    """bench/hpo_table/studies.py writes the table's configs as studies in the dev corpus's layout (a
    family per task, a step axis with --interval), which lcpipe reads as it reads any curves and
    bench/pruners.py replays as it replays the dev corpus."""
    from lcpipe.forecasting.logs import read_curve_dir

    out = tmp_path / "studies"
    run = [sys.executable, str(TABLE / "studies.py"), str(out), "--trials", "6", "--studies", "1", "--interval", "15"]
    subprocess.run(run, check=True, env=ENV, capture_output=True, timeout=120)
    manifest = (out / "MANIFEST.csv").read_text().splitlines()
    assert manifest[0] == "group,run,family" and len(manifest) == 1 + 6 * 6
    assert {line.split(",")[2] for line in manifest[1:]} == {p.name.removesuffix(".csv.gz")
                                                          for p in TABLE.glob("*.csv.gz")}
    curves = read_curve_dir(out / "digits_s0", Metric.infer("val_loss"))
    assert len(curves) == 6 and all(c.steps is not None and c.steps[0] == 15 and c.planned == 600
                                    for c in curves)
    again = subprocess.run(run, env=ENV, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "not empty" in again.stderr  # a corpus is never written over
    bench = subprocess.run([sys.executable, str(ROOT / "bench" / "pruners.py"), "--corpus", str(out), "--metric",
                            "val_loss", "--mode", "min", "--orders", "1"], env=ENV, capture_output=True, text=True,
                           timeout=300)
    assert bench.returncode == 0, bench.stderr[-2000:]
    assert re.search(r"ForecastPruner: compute [\d.]+ % regret [\d.]+ pts \| best Optuna pruner", bench.stdout)
