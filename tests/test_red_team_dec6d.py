"""What the 2026-12-06 (fourth session) work found. Each test failed on e17aed6, before this work."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import create_trial

from lcpipe.errors import LcpipeError
from lcpipe.integrations.optuna import ForecastPruner, PrunerError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.hpo import load_table  # noqa: E402

TABLE = ROOT / "bench" / "hpo_table"


# -- one curve completed several times is one curve ---------------------------------------------------------

def _study_with(task, configs: list[int], watch: int) -> tuple[int | None, tuple]:
    """A study (no history) whose completed trials are the table's `configs`, in order, each with its real params
    (a repeat's lr nudged by 1 % a copy, within the grid's snapping: other params, the same curve, as TPE's
    repeats of a snapped lr are), then config `watch` reported epoch by epoch: -> (the step it is pruned at or None, its
    final_forecast at step 3)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {k: FloatDistribution(1e-5, 10, log=True) if k == "lr" else CategoricalDistribution(v)
             for k, v in task.axes.items()}

    def params(config: int, i: int) -> dict:
        return {**task.configs[config], "lr": task.configs[config]["lr"] * (1 + 0.01 * i)}

    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(task.epochs, metric="test_acc"))
    for i, c in enumerate(configs):
        v = task.values[c]
        study.add_trial(create_trial(params=params(c, configs[:i].count(c)), distributions=dists, value=float(v[-1]),
                                     intermediate_values={e + 1: float(x) for e, x in enumerate(v)}))
    wanted = params(watch, 50)
    study.sampler = optuna.samplers.GridSampler({k: [v] for k, v in wanted.items()})  # asked, not enqueued
    trial = study.ask()
    for k in wanted:
        trial.suggest_float(k, 1e-5, 10, log=True) if k == "lr" else trial.suggest_categorical(k, task.axes[k])
    told, pruned = None, None
    for e in range(task.epochs - 1):
        trial.report(float(task.values[watch, e]), e + 1)
        if e + 1 == 3:
            told = study.pruner.final_forecast(study, trial)
        if trial.should_prune():
            pruned = e + 1
            break
    return pruned, told


def test_copies_of_one_completed_curve_decide_as_that_curve_once():
    """bench/hpo.py's TPE studies complete the same config several times (a log-uniform lr snapped to the grid: other
    params, the same curve). Counted once each, the copies were "the study's best trials" whose forecast errors
    agreed exactly, and the rule was sure: the digits task's best config (0.9806, ahead of every completed 0.9722)
    was pruned at its third report with the copies, at its eighth without. Decisions and forecasts now do not
    depend on how many times a curve completed (on e17aed6: step 3 against 8)."""
    task = load_table(TABLE, "test_acc", ["digits"])["digits"]
    with_copies = [145, 208, 208, 212, 212, 212, 308, 316, 316]
    once = list(dict.fromkeys(with_copies))
    assert task.values[253, -1] > task.values[with_copies, -1].max()  # the watched config ends best
    copies_step, copies_told = _study_with(task, with_copies, 253)
    once_step, once_told = _study_with(task, once, 253)
    assert copies_step == once_step
    np.testing.assert_allclose(copies_told, once_told, rtol=0, atol=1e-12)


# -- messages whose advice failed (helper review of stale docs) ---------------------------------------------

def test_a_minimizing_study_of_a_negative_series_is_told_advice_that_works():
    """A study that minimizes, reporting -1.0 with no metric=, was told `metric='reward'`, which then warned that
    the name says higher is better and told the user to flip the study's direction. The advice now names the kind,
    and following it runs with no warning."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial, pruner):
        for step in range(1, 6):
            trial.report(-1.0 - 0.1 * step - trial.number, step)
            if trial.should_prune():
                raise optuna.TrialPruned
        return -1.5 - trial.number

    pruner = ForecastPruner(epochs=5)
    study = optuna.create_study(direction="minimize", pruner=pruner)
    with pytest.raises(PrunerError) as e:
        study.optimize(lambda t: objective(t, pruner), n_trials=1, catch=())
    message = str(e.value)
    assert "kind='any'" in message and "metric='reward'" not in message
    advised = ForecastPruner(epochs=5, metric="critic_loss", kind="any")  # what the message writes
    study = optuna.create_study(direction="minimize", pruner=advised)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study.optimize(lambda t: objective(t, advised), n_trials=4)
    assert len(study.trials) == 4


def test_too_short_epochs_names_the_smallest_accepted():
    """epochs=1 was told "a whole number in 2..", and 2 and 3 were then refused too: a trial is never pruned
    before its third report. The range now starts where it is accepted."""
    with pytest.raises(PrunerError, match=r"in 4\.\.") as e:
        ForecastPruner(epochs=1)
    assert " 2.." not in str(e.value)
    with pytest.raises(PrunerError):
        ForecastPruner(epochs=3)
    ForecastPruner(epochs=4)


def test_a_percent_accuracy_column_is_told_the_kind_flag_that_reads_it(tmp_path, capsys):
    """A test_acc column in percent was told to give --metric a name that is no accuracy's, which fails (no such
    column) unless the file is edited. It is now told --kind, which reads the file as it is."""
    from lcpipe.cli import main
    runs = tmp_path / "runs"
    runs.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        acc = 50 + 40 * (1 - np.exp(-np.arange(1, 31) / (5 + i))) + rng.normal(0, 0.3, 30)
        (runs / f"r{i}.csv").write_text("epoch,test_acc\n" + "".join(f"{e},{a:.3f}\n" for e, a in enumerate(acc, 1)))
    with pytest.raises(SystemExit):
        main(["evaluate", "--curves", str(runs), "--cutoffs", "10"])
    err = capsys.readouterr().err
    assert "--kind positive or any" in err and "a name that is not an accuracy" not in err
    main(["evaluate", "--curves", str(runs), "--cutoffs", "10", "--kind", "positive", "--predictors", "last_value"])
    assert "last_value" in capsys.readouterr().out



def test_one_pruner_serving_two_studies_keeps_their_trials_apart():
    """One pruner serves several studies (bench/hpo.py's, a process's worker loop): trial 3 of study A and trial 3
    of study B, completed at one instant (a test's frozen clock, MySQL's whole seconds), were one trial to its
    caches, so B's best, whose curve was A's trial 3's, was dropped as a copy, and B was forecast from A's curves
    and fits (second review). A pruner that served A now answers in B as a fresh one does."""
    import datetime
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    epochs, t0 = 10, datetime.datetime(2026, 1, 1)

    def curve(a: float) -> dict:
        return {s: float(round(a * (1 - np.exp(-s / 3)), 6)) for s in range(1, epochs + 1)}

    def study_of(pruner, finals: list[float]) -> optuna.Study:
        study = optuna.create_study(direction="maximize", pruner=pruner)
        for i, a in enumerate(finals):
            t = create_trial(value=curve(a)[epochs], intermediate_values=curve(a))
            t.datetime_start = t.datetime_complete = t0 + datetime.timedelta(seconds=i)  # trial i: one instant
            study.add_trial(t)
        return study

    def answer_in_b(pruner) -> tuple:
        b = study_of(pruner, [0.80, 0.82, 0.84, 0.70, 0.86])  # B's best, trial 4, is A's trial 3's curve
        trial = b.ask()
        for s, v in curve(0.845).items():
            if s <= 4:
                trial.report(v, s)
        return [t.number for t in pruner._distinct(b, pruner._finished(b))], pruner.final_forecast(b, trial)

    fresh = answer_in_b(ForecastPruner(epochs, metric="test_acc"))
    served = ForecastPruner(epochs, metric="test_acc")
    a = study_of(served, [0.60, 0.62, 0.64, 0.86])
    trial = a.ask()
    for s, v in curve(0.5).items():
        if s <= 4:
            trial.report(v, s)
    trial.should_prune()  # A's trials judged, its curves fitted
    kept, told = answer_in_b(served)
    assert kept == fresh[0] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(told, fresh[1], rtol=0, atol=1e-12)


# -- checks after a late change: max_gap ---------------------------------------------------------------------

def _lr_drop_curve(final_gain: float, seed: int, epochs: int = 200, drop: int = 150) -> dict:
    """An accuracy that climbs to about 0.70 and, at an lr drop at `drop`, gains `final_gain` more."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, epochs + 1)
    acc = 0.70 * (1 - np.exp(-t / 20)) + final_gain * (t > drop) * (1 - np.exp(-(t - drop) / 3))
    return {int(e): float(a) for e, a in zip(t, np.clip(acc + rng.normal(0, 0.002, epochs), 0, 1))}


def _pruned_at(pruner: ForecastPruner) -> int | None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    for seed in range(4):  # four trials that gained 20 points at the lr drop
        curve = _lr_drop_curve(0.20, seed)
        study.add_trial(create_trial(value=curve[200], intermediate_values=curve))
    trial = study.ask()
    for step, value in _lr_drop_curve(0.0, 99).items():  # the drop did nothing for this one
        trial.report(value, step)
        if trial.should_prune():
            return step
    return None


def test_a_trial_left_behind_by_a_late_lr_drop_is_checked_after_it():
    """Checks grew geometrically (x1.5): a 200-epoch trial was checked at 93 and 140 and never after, so one that
    the lr drop at 150 left 20 points behind the others trained its last 50 epochs for nothing. A check now comes
    at least every fifth of the trial; max_gap=1 is the schedule before."""
    # (warmup=0: the schedule from the third report, as with a history; without one the first check is at a tenth)
    pruner = ForecastPruner(epochs=200, metric="test_acc", warmup=0)
    pruner._settle("fraction")
    checks = pruner._schedule(200, 1.0)
    assert checks.max() >= 160 and np.all(np.diff(checks) <= 40)
    step = _pruned_at(ForecastPruner(epochs=200, metric="test_acc", warmup=0))
    assert step is not None and 150 < step <= 180
    assert _pruned_at(ForecastPruner(epochs=200, metric="test_acc", warmup=0, max_gap=1)) is None


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, float("nan"), True, "0.1"])
def test_max_gap_out_of_range_is_one_line(bad):
    with pytest.raises(PrunerError, match="max_gap="):
        ForecastPruner(epochs=50, max_gap=bad)


# -- hostile pass on the benches and `lcpipe evaluate` (helper review) -------------------------------------------

def test_train_throughput_json_never_replaces_a_file_it_did_not_write(tmp_path, monkeypatch, capsys):
    """`--json params.yaml` replaced the pipeline's params with JSON after the whole bench had run, and a folder gave
    a traceback at the end. Both are refused before any training; a results file of the bench's own is rewritten."""
    from bench.train_throughput import parse_args
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("train:\n  epochs: 50\n")
    (tmp_path / "notes.json").write_text('{"mine": 1}')
    (tmp_path / "folder.json").mkdir()
    for path, says in (("params.yaml", "ending .json"), ("notes.json", "not a results file"),
                       ("folder.json", "not a regular file")):
        with pytest.raises(SystemExit):
            parse_args(["--quick", "--json", path])
        assert says in capsys.readouterr().err
    assert (tmp_path / "params.yaml").read_text() == "train:\n  epochs: 50\n"
    (tmp_path / "ours.json").write_text('{"config": {}, "device": "cpu", "results": {}}')
    assert parse_args(["--quick", "--json", "ours.json"]).json == Path("ours.json")


@pytest.mark.parametrize("args", [["--archs", "nosuch"], ["--archs", ","], ["--size", "0"], ["--device", "bogus"],
                                  ["--device", "cuda:7"]])
def test_train_throughput_bad_arguments_are_one_line_before_any_work(args, capsys):
    from bench.train_throughput import parse_args
    with pytest.raises(SystemExit) as e:
        parse_args(["--quick", *args])
    assert e.value.code == 2 and "error:" in capsys.readouterr().err


def test_a_corpus_manifest_not_in_utf8_or_a_missing_corpus_is_one_line(tmp_path):
    from bench.corpus import read_manifest
    (tmp_path / "MANIFEST.csv").write_bytes("group,family\ns1,f\xe9\n".encode("latin-1"))
    with pytest.raises(LcpipeError, match="not a UTF-8 CSV"):
        read_manifest([tmp_path])
    with pytest.raises(LcpipeError, match="no such folder"):
        read_manifest([tmp_path / "nonexist"])


def test_hpo_bench_with_a_missing_table_does_not_advise_overwriting_the_committed_one(tmp_path):
    """--table DIR with no table advised `python bench/hpo_table/generate.py`, which writes into bench/hpo_table (the
    committed table) and never into DIR."""
    from bench.hpo import main
    with pytest.raises(SystemExit) as e:
        main(["--quick", "--table", str(tmp_path / "nonexist")])
    assert "no such folder" in str(e.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as e:
        main(["--quick", "--table", str(tmp_path / "empty")])
    assert f"--out {tmp_path / 'empty'}" in str(e.value)


def test_the_reliability_figure_never_replaces_a_file_the_bench_did_not_draw(tmp_path, monkeypatch, capsys):
    import bench.forecast_quality as fq
    notes = tmp_path / "notes.png"
    notes.write_text("my notes")
    monkeypatch.setattr(sys, "argv", ["forecast_quality.py", "--quick", "--reliability-figure", str(notes)])
    with pytest.raises(SystemExit):
        fq.main()
    assert notes.read_text() == "my notes" and "not a figure this bench drew" in capsys.readouterr().err


def test_evaluate_says_which_folders_of_curves_it_did_not_read(tmp_path, capsys):
    """A study folder with loose curves and a folder of more: evaluate used the loose ones alone, without a word
    (forecast --history said it)."""
    from lcpipe.cli import main
    rng = np.random.default_rng(0)
    for path in ("a.csv", "b.csv", "x/run.csv"):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        acc = 0.9 - 0.5 * np.exp(-np.arange(1, 31) / 6) + rng.normal(0, 0.003, 30)
        (tmp_path / path).write_text("epoch,test_acc\n" + "".join(f"{e},{a:.4f}\n" for e, a in enumerate(acc, 1)))
    main(["evaluate", "--curves", str(tmp_path), "--cutoffs", "10", "--predictors", "last_value"])
    assert "folder(s) x hold curves too and are not read" in capsys.readouterr().err


def test_forecast_speed_refuses_an_unknown_predictor_before_writing_anything(monkeypatch, capsys):
    import bench.forecast_speed as fs
    monkeypatch.setattr(sys, "argv", ["forecast_speed.py", "--sizes", "1", "--predictor", "foo"])
    with pytest.raises(SystemExit) as e:
        fs.main()
    assert e.value.code == 2 and "--predictor 'foo'" in capsys.readouterr().err


def test_hpo_studies_into_a_file_is_one_line(tmp_path, capsys):
    from bench.hpo_table.studies import main
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path / "afile")])
    assert e.value.code == 2 and "is a file" in capsys.readouterr().err


# -- second read of this session's changes (helper review) -----------------------------------------------------

def test_a_pruner_pickled_before_max_gap_still_decides_as_it_did():
    """A pruner pickled before 2026-12-06 has no _max_gap and no _curve_keys: loaded now, its first study raised
    AttributeError. It decides as it did (growth alone), and its caches start anew."""
    import pickle
    pruner = ForecastPruner(epochs=40, metric="test_acc", warmup=0)
    state = pruner.__getstate__()
    for new in ("_max_gap", "_curve_keys"):
        state.pop(new)
    old = ForecastPruner.__new__(ForecastPruner)
    old.__setstate__(state)
    old = pickle.loads(pickle.dumps(old))
    old._settle("fraction")
    assert old.max_gap == 1.0 and list(old._schedule(40, 1.0)) == [3, 5, 8, 12, 18, 27]
    study = optuna.create_study(direction="maximize", pruner=old)
    for a in (0.7, 0.8, 0.9, 0.85):
        curve = {s: a * (1 - np.exp(-s / 5)) for s in range(1, 41)}
        study.add_trial(create_trial(value=curve[40], intermediate_values=curve))
    trial = study.ask()
    for s in range(1, 6):
        trial.report(0.5 * (1 - np.exp(-s / 5)), s)
        trial.should_prune()  # no AttributeError


def test_max_gap_none_is_growth_alone_and_setting_it_redraws_the_schedule():
    pruner = ForecastPruner(epochs=200, metric="test_acc", max_gap=None, warmup=0)
    pruner._settle("fraction")
    assert pruner.max_gap == 1.0 and pruner._schedule(200, 1.0).max() == 140
    pruner.max_gap = 0.2  # set after a schedule was drawn: it was kept (review)
    assert pruner._schedule(200, 1.0).max() == 173
    with pytest.raises(PrunerError, match=r"\(0, 1\]"):
        ForecastPruner(epochs=50, max_gap=-0.1)


def test_forecast_runs_says_which_folders_of_curves_it_did_not_read(tmp_path, capsys):
    """`lcpipe forecast --runs DIR` read DIR's loose curves alone without a word, where `lcpipe.forecast(runs=DIR)`
    and `lcpipe evaluate --curves DIR` said so."""
    from lcpipe.cli import main
    history = ROOT / "data" / "history" / "cifar10-plain-vs-resnet"
    runs = tmp_path / "runs"
    (runs / "extra").mkdir(parents=True)
    for name, to in (("resnet20.csv", runs), ("resnet32.csv", runs), ("plainnet20.csv", runs / "extra")):
        lines = (history / name).read_text().splitlines()
        (to / name).write_text("\n".join(lines[:40]) + "\n")
    main(["forecast", "--history", str(history / "resnet56.csv"), str(history / "plainnet56.csv"),
          str(history / "resnet44.csv"), "--runs", str(runs), "--epochs", "164", "--metric", "test_err"])
    assert "folder(s) extra hold curves too and are not read" in capsys.readouterr().err


def test_an_in_memory_storage_is_told_apart_from_another_processs(tmp_path):
    """In-memory storages were told apart by a per-process counter, which restarts in every process: a study
    pickled in one and one made fresh in another had one key, so a pruner's caches could mix their trials."""
    import subprocess
    code = ("import optuna; from lcpipe.integrations.optuna import _storage_key; "
            "print(repr(_storage_key(optuna.create_study())))")
    first, second = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                    cwd=ROOT).stdout.strip() for _ in range(2))
    assert first != second


@pytest.mark.parametrize("args", [["--pruners", ""], ["--tasks", ""], ["--pruners", ","]])
def test_hpo_bench_empty_lists_are_refused_not_read_as_all(args, capsys):
    """`--pruners ""` and `--tasks ""` ran every row and every task, as if not given (hostile pass)."""
    from bench.hpo import main
    with pytest.raises(SystemExit) as e:
        main(["--quick", *args])
    assert e.value.code == 2 and args[0] in capsys.readouterr().err


def test_pruners_bench_refuses_two_runs_of_its_own_at_once(monkeypatch, capsys):
    """`--speed --audit` ran the speed check alone and dropped the audit without a word (hostile pass)."""
    import bench.pruners as bp
    monkeypatch.setattr(sys, "argv", ["pruners.py", "--speed", "--audit"])
    with pytest.raises(SystemExit) as e:
        bp.main()
    assert e.value.code == 2 and "--speed and --audit" in capsys.readouterr().err


def test_cutoffs_past_every_step_logged_curve_say_they_count_evaluations(tmp_path, capsys):
    """`lcpipe evaluate --cutoffs 1000` on curves logged every 100 steps up to 5,000 said only "give cutoffs below the
    curves' lengths", not that a cutoff counts evaluations (50 here) while `--lr-drops` counts steps."""
    from lcpipe.cli import main
    steps = np.arange(100, 5001, 100)
    for i in range(3):
        loss = 1 + 2 * np.exp(-steps / 1000) + 0.1 * i
        (tmp_path / f"r{i}.csv").write_text("step,val_loss\n" + "".join(f"{s},{v:.4f}\n" for s, v in zip(steps, loss)))
    with pytest.raises(SystemExit):
        main(["evaluate", "--curves", str(tmp_path), "--metric", "val_loss", "--cutoffs", "1000"])
    err = capsys.readouterr().err
    assert "has 50 evaluations" in err and "counts its evaluations, not its steps" in err
