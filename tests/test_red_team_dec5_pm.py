"""Defects the second hostile-input pass of 2026-12-05 found, each pinned by the behaviour a user depends on."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import optuna
import pytest

from lcpipe.integrations.optuna import FORECAST_ATTR, ForecastPruner
from tests.helpers import cli_in_process as _cli

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OGBG, WMT = FIXTURES / "algoperf-ogbg-nadamw", FIXTURES / "algoperf-wmt-nadamw"  # real AlgoPerf curves, PROVENANCE.md


def _every_k_study(k: int) -> tuple[list[int], int]:
    """30 trials of 200 epochs (finals 0.54-0.9), reported every epoch, should_prune() asked every k."""
    def curve(x: float, epoch: int) -> float:
        return 0.5 + 0.4 * x * (1 - math.exp(-epoch / 20))

    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(epochs=200, warmup=0),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    pruned_at: list[int] = []

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.1, 1.0)
        for epoch in range(1, 201):
            trial.report(curve(x, epoch), epoch)
            if epoch % k == 0 and trial.should_prune():
                pruned_at.append(epoch)
                raise optuna.TrialPruned()
        return curve(x, 200)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=30)
    return pruned_at, sum(t.last_step for t in study.trials)


@pytest.mark.parametrize("k", [10, 25])
def test_a_loop_that_asks_every_k_reports_still_gets_each_check(k):
    """The checks (steps 3, 5, 8, 12, ...) were made only when should_prune() was called at exactly such
    a step: asking every 10 reports pruned only at step 140, every 25 never. A check that fell due since
    the trial's last call is made at its next one."""
    pruned_at, trained = _every_k_study(k)
    asked_every_report, trained_every_report = _every_k_study(1)
    assert len(pruned_at) >= len(asked_every_report) - 2
    assert min(pruned_at) == k  # the first call past the first check (step 3)
    assert all(step % k == 0 for step in pruned_at)
    assert trained < trained_every_report + 30 * k  # each pruned trial late by less than one interval


def test_asking_twice_at_one_step_gets_one_answer():
    """The check's memory is per trial and step: a second call at the same step decides as the first."""
    pruner = ForecastPruner(epochs=50)
    study = optuna.create_study(direction="maximize", pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=1))
    answers = []

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.1, 1.0)
        for epoch in range(1, 51):
            trial.report(0.5 + 0.4 * x * (1 - math.exp(-epoch / 8)), epoch)
            first, second = trial.should_prune(), trial.should_prune()
            answers.append((first, second))
            if first:
                raise optuna.TrialPruned()
        return 0.5 + 0.4 * x * (1 - math.exp(-50 / 8))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=12)
    assert any(first for first, _ in answers)
    assert all(first == second for first, second in answers)


def _replay_returning_forecasts(seed: int) -> optuna.Study:
    """The README's loop (return final_forecast's mean when pruned) over the 10 real AlgoPerf OGBG
    val_loss curves, history the WMT family's."""
    pd = pytest.importorskip("pandas")
    group, history = OGBG, WMT
    curves = {f.stem: pd.read_csv(f) for f in sorted(group.glob("*.csv"))}
    pruner = ForecastPruner(epochs=57218, history=history, metric="val_loss")
    study = optuna.create_study(direction="minimize", pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=seed))

    def objective(trial: optuna.Trial) -> float:
        run = curves[trial.suggest_categorical("run", sorted(curves))]
        for step, value in zip(run.step, run.val_loss, strict=True):
            trial.report(float(value), int(step))
            if trial.should_prune():
                return pruner.final_forecast(study, trial)[0]
        return float(run.val_loss.iloc[-1])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=25)
    return study


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_study_best_trial_is_one_trained_to_the_end_when_pruned_trials_return_their_forecast(seed):
    """A pruned trial was told a forecast better than the finished trial it lost to (the decision corrects
    the forecast by the study's errors; the told mean did not), so study.best_trial was a pruned trial in
    3 of 3 studies, its value a forecast (0.040 for a config that ends at 0.0455). A deterministic rerun
    was told a report short of its twin's end (0.0489) instead of the value its twin returned (0.0494)."""
    study = _replay_returning_forecasts(seed)
    best = study.best_trial
    assert FORECAST_ATTR not in best.user_attrs
    told = [t for t in study.trials if FORECAST_ATTR in t.user_attrs]
    assert told, "the replay must prune trials that return their forecast"
    finished = [t.value for t in study.trials if FORECAST_ATTR not in t.user_attrs]
    assert all(t.value > min(v for v in finished if v is not None) for t in told
               if t.value != study.best_value)  # only a twin of the best may tie it


# -- lcpipe.forecast: runs on a step axis given in memory ------------------------------------------------------

def _wmt(tmp_path: Path):
    """Five finished AlgoPerf WMT val_loss curves (history, on a step axis) and three runs' first 15
    evaluations, also written as CSV files: the route every in-memory form must agree with."""
    pd = pytest.importorskip("pandas")
    group = WMT
    history = [group / f"s0_t{i}.csv" for i in range(1, 6)]
    runs = {n: pd.read_csv(group / f"{n}.csv").iloc[:15] for n in ("s1_t1", "s1_t4", "s1_t5")}
    (tmp_path / "runs").mkdir()
    for name, frame in runs.items():
        frame.to_csv(tmp_path / "runs" / f"{name}.csv", index=False)
    return history, runs


def _finals(table) -> dict:
    return dict(zip(table.run, table.final.round(6), strict=True))


def test_runs_given_as_step_to_value_in_memory_forecast_as_their_csv_files_do(tmp_path: Path):
    """A mapping of 15 evaluations with steps=133333 was read as 15 epochs of a 133,333-epoch run: finals
    0.745 / 0.792 / 0.686 against true 1.50 / 1.41 / 1.36, no warning; a DataFrame indexed by step
    stopped every run as diverged at its first NaN (another run's step)."""
    import lcpipe

    pd = pytest.importorskip("pandas")
    history, runs = _wmt(tmp_path)
    reference = _finals(lcpipe.forecast(history=history, runs=tmp_path / "runs", steps=133333, metric="val_loss"))
    as_maps = {n: dict(zip(f.step, f.val_loss, strict=True)) for n, f in runs.items()}
    as_series = {n: f.set_index("step").val_loss for n, f in runs.items()}
    as_frame = pd.DataFrame(as_series)  # an outer join: NaN where a run was not evaluated
    assert as_frame.isna().any().any()
    for given in (as_maps, as_series, as_frame):
        table = lcpipe.forecast(history=history, runs=given, steps=133333, metric="val_loss")
        assert _finals(table) == reference
        assert set(table.decision) <= {"keep", "stop"} and not any(table.reason)
    assert all(1.3 < v < 1.6 for v in reference.values())


def test_steps_with_runs_given_as_lists_says_how_it_reads_them(tmp_path: Path):
    """steps= is the CLI's --steps synonym, so a list (one value per epoch) is read in epochs: said, with how to
    give a run evaluated every k steps, where 15 evaluations with steps=133333 read as 15 of 133,333 epochs
    went unsaid."""
    import lcpipe

    history, runs = _wmt(tmp_path)
    lists = {n: f.val_loss.to_list() for n, f in runs.items()}
    with pytest.warns(UserWarning, match=r"steps=133333: run 's1_t1' and 2 more gave a list, one value per epoch, so "
                                         r"133333 is read as epochs; for a run evaluated every k steps give a mapping"):
        lcpipe.forecast(history=history, runs=lists, steps=133333, metric="val_loss")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # files and mappings bring their own steps: nothing to say
        lcpipe.forecast(history=history, runs=tmp_path / "runs", steps=133333, metric="val_loss")


def test_a_run_that_reports_nan_then_numbers_is_stopped_as_diverged_by_the_api_and_the_cli_alike(tmp_path: Path):
    """Issue 22: a NaN or inf mid-run stops the run with a reason, never an error, whatever follows it; the
    CLI and lcpipe.forecast say the same."""
    import lcpipe

    history = {f"h{i}": list(0.9 - 0.5 * math.exp(-e / (4 + i)) for e in range(1, 31)) for i in range(4)}
    gap = [0.49, 0.60, 0.66, float("nan"), 0.72, 0.75, 0.77, 0.78]
    table = lcpipe.forecast(history=history, runs={"gap": gap, "ok": [0.5, 0.6, 0.65, 0.7, 0.72, 0.74]}, epochs=30)
    assert table.set_index("run").loc["gap", "reason"] == "diverged: test_acc is nan at epoch 4"
    (tmp_path / "h").mkdir()
    (tmp_path / "r").mkdir()
    for name, values in history.items():
        (tmp_path / "h" / f"{name}.csv").write_text("epoch,test_acc\n" + "".join(
            f"{e},{v!r}\n" for e, v in enumerate(values, 1)))
    (tmp_path / "r" / "gap.csv").write_text("epoch,test_acc\n" + "".join(f"{e},{v}\n" for e, v in enumerate(gap, 1)))
    out = _cli("forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "30")
    assert out.code == 0 and "diverged: test_acc is 'nan' at epoch 4" in out.out


# -- the CLI ---------------------------------------------------------------------------------------------------

def _loss_folders(tmp_path: Path) -> tuple[Path, Path]:
    """History: four falling losses of 30 epochs; runs: one of 8 epochs, `r.csv`."""
    (tmp_path / "h").mkdir()
    (tmp_path / "r").mkdir()
    for i in range(4):
        (tmp_path / "h" / f"h{i}.csv").write_text("epoch,val_loss\n" + "".join(
            f"{e},{0.5 + 0.1 * i + 2 * math.exp(-e / (5 + i)):.5f}\n" for e in range(1, 31)))
    (tmp_path / "r" / "r.csv").write_text("epoch,val_loss\n" + "".join(
        f"{e},{0.55 + 2 * math.exp(-e / 6):.5f}\n" for e in range(1, 9)))
    return tmp_path / "h", tmp_path / "r"


def test_a_yaml_sidecar_is_read_like_a_json_one(tmp_path: Path):
    """`r.yaml` beside `r.csv` was ignored without a word: its planned length and config unused."""
    history, runs = _loss_folders(tmp_path)
    (runs / "r.yaml").write_text("epochs: 20\noptimizer: adam\nlr: 1e-3\n")
    out = _cli("forecast", "--history", str(history), "--runs", str(runs), "--epochs", "30", "--metric", "val_loss")
    assert out.code == 0, out.err
    assert "8/20" in out.out  # the run's own planned length, not --epochs
    (runs / "r.json").write_text('{"epochs": 20}')
    out = _cli("forecast", "--history", str(history), "--runs", str(runs), "--epochs", "30", "--metric", "val_loss")
    assert out.code == 2 and out.err.strip().splitlines() == [
        f"error: {runs / 'r.csv'}: two configs beside it (r.json, r.yaml); keep one"]


def test_epochs_and_steps_together_is_one_line(tmp_path: Path):
    """`--epochs 300 --steps 100` planned 100 and `--steps 100 --epochs 300` planned 300, silently."""
    history, runs = _loss_folders(tmp_path)
    out = _cli("forecast", "--history", str(history), "--runs", str(runs), "--epochs", "30", "--steps", "30",
               "--metric", "val_loss")
    assert out.code == 2 and len(out.err.strip().splitlines()) == 1
    assert "--epochs and --steps both given: give the planned length once" in out.err
    out = _cli("forecast", "--history", str(history), "--runs", str(runs), "--epochs", "30", "--epochs", "40")
    assert out.code == 2 and "--epochs given twice: give the planned length once" in out.err


def test_hugging_faces_unset_max_steps_is_no_planned_length(tmp_path: Path):
    """TrainingArguments writes max_steps: -1 for a run planned in epochs; beside a run logged by step it
    was refused as a planned length ("steps -1 is not a whole number of steps"), --steps notwithstanding."""
    history, runs = _loss_folders(tmp_path)
    (runs / "r.csv").write_text("step,val_loss\n" + "".join(
        f"{10 * e},{0.55 + 2 * math.exp(-e / 6):.5f}\n" for e in range(1, 9)))
    (runs / "r.json").write_text('{"max_steps": -1, "learning_rate": 5e-5}')
    out = _cli("forecast", "--history", str(history), "--runs", str(runs), "--steps", "300", "--metric", "val_loss")
    assert out.code == 0, out.err
    assert "80/300" in out.out


def test_a_mode_that_contradicts_the_name_warns_on_the_cli_too(tmp_path: Path):
    history, runs = _loss_folders(tmp_path)
    out = _cli("forecast", "--history", str(history), "--runs", str(runs), "--epochs", "30", "--metric", "val_loss",
               "--mode", "max")
    assert out.code == 0
    assert ("warning: --mode max with --metric val_loss: the name says lower is better; mode max is used, so the "
            "runs highest in 'val_loss' are kept") in out.err


# -- ForecastPruner: a study's values of another kind than the default ---------------------------------------

@pytest.mark.parametrize("value, percent", [(10.0, True), (-290.0, False)])
def test_a_reward_with_no_metric_named_says_to_name_it(value, percent):
    """A reward of 10 was told it should be a fraction for 'test_acc' (a name the user never gave) and to
    divide a percentage by 100; -290 the same without the hint. Neither said metric= would fix it."""
    from lcpipe.integrations.optuna import PrunerError

    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(epochs=30))
    trial = study.ask()
    trial.report(value, 1)
    with pytest.raises(PrunerError) as raised:
        trial.should_prune()
    line = str(raised.value)
    assert "with no metric=, ForecastPruner reads a study that maximizes as an accuracy" in line
    assert "ForecastPruner(..., metric='reward', kind='any')" in line and "'test_acc'" not in line
    assert ("divide a percentage by 100" in line) == percent


def test_a_step_column_that_logs_every_step_counts_steps_under_a_length_in_steps(tmp_path: Path):
    """`step` 1, 2, ..., 400 was read as 400 epochs: beside a run logged every 10 steps, --steps 5000 was
    refused ("1 run(s) count epochs, not steps"), and a million rows with --steps 3000000 hit the epoch cap.
    Under a length in steps such a column counts steps; under --epochs, and wherever the run's own file
    plans it in epochs (lcpipe's DVCLive runs log step = epoch from 1), it still counts epochs."""
    history, _ = _loss_folders(tmp_path)
    runs = tmp_path / "mixed"
    runs.mkdir()
    (runs / "every1.csv").write_text("step,val_loss\n" + "".join(
        f"{s},{2 + 3 * math.exp(-s / 800):.6f}\n" for s in range(1, 401)))
    (runs / "every10.csv").write_text("step,val_loss\n" + "".join(
        f"{s},{2 + 3 * math.exp(-s / 700):.6f}\n" for s in range(10, 4001, 10)))
    out = _cli("forecast", "--history", str(history), "--runs", str(runs), "--steps", "5000", "--metric", "val_loss")
    assert out.code == 0, out.err
    assert "400/5000" in out.out and "4000/5000" in out.out
    own = tmp_path / "own"  # a run that states its planned epochs, its step column counting them from 1
    own.mkdir()
    (own / "r.csv").write_text("step,val_loss\n" + "".join(f"{e},{0.62 + 1.9 * math.exp(-e / 6):.5f}\n"
                                                             for e in range(1, 11)))
    (own / "r.json").write_text('{"epochs": 25}')
    for flag in ("--epochs", "--steps"):
        out = _cli("forecast", "--history", str(history), "--runs", str(own), flag, "40", "--metric", "val_loss")
        assert out.code == 0 and "10/25" in out.out, (flag, out.err)


def test_a_run_given_as_a_series_keeps_its_nan_as_a_mapping_does():
    """A Series indexed by step dropped its NaN (a DataFrame column's "not evaluated here") and was kept,
    where the same run as a mapping step -> value was stopped as diverged."""
    import pandas as pd

    import lcpipe

    history = {f"h{i}": {100 * e: 0.9 - 0.5 * math.exp(-e / (4 + i)) for e in range(1, 31)} for i in range(4)}
    gap = {100: 0.49, 200: 0.6, 300: 0.66, 400: float("nan"), 500: 0.72, 600: 0.75, 700: 0.77, 800: 0.78}
    ok = {100 * e: 0.5 + 0.03 * e for e in range(1, 7)}
    for runs in ({"gap": gap, "ok": ok}, {"gap": pd.Series(gap), "ok": pd.Series(ok)}):
        table = lcpipe.forecast(history=history, runs=runs, steps=3000).set_index("run")
        assert table.loc["gap", "reason"] == "diverged: test_acc is nan at step 400"


def test_out_never_overwrites_a_yaml_sidecar(tmp_path: Path):
    history, runs = _loss_folders(tmp_path)
    (runs / "r.yaml").write_text("epochs: 20\n")
    out = _cli("forecast", "--history", str(history), "--runs", str(runs / "r.csv"), "--epochs", "30", "--metric",
               "val_loss", "--out", str(runs / "r.yaml"))
    assert out.code == 2 and "would overwrite" in out.err and "the own file (sidecar) of the input" in out.err
    assert (runs / "r.yaml").read_text() == "epochs: 20\n"


@pytest.mark.parametrize("runs, says", [
    ({"a": {10: 0.5, "x": 0.6}}, r"run 'a': a mapping of step -> value needs steps that are numbers >= 0; 'x' is not"),
    ({"a": {10: 0.5, -20: 0.6}}, r"run 'a': a mapping of step -> value needs steps that are numbers >= 0; -20 is not"),
    ({"a": {float("nan"): 0.4, 10: 0.5}}, r"needs steps that are numbers >= 0; nan is not"),
    ("series twice", r"run 'a': step 20 is in its index twice; give each step once"),
    ("text index", r"runs: a DataFrame's index must be the rows' steps \(numbers\) or the default 0..n-1"),
])
def test_steps_given_in_memory_that_are_no_steps_are_one_line(runs, says):
    import pandas as pd

    import lcpipe
    from lcpipe.errors import LcpipeError

    if runs == "series twice":
        runs = {"a": pd.Series([0.5, 0.6, 0.65, 0.7], index=[10, 20, 20, 40])}
    elif runs == "text index":
        runs = pd.DataFrame({"a": [0.5, 0.6, 0.65, 0.7]}, index=list("pqrs"))
    history = {f"h{i}": list(0.9 - 0.5 * math.exp(-e / (4 + i)) for e in range(1, 31)) for i in range(4)}
    with pytest.raises(LcpipeError, match=says):
        lcpipe.forecast(history=history, runs=runs, steps=300)


def test_threads_of_one_study_share_the_pruner_one_decision_at_a_time():
    """study.optimize(n_jobs=4) runs trials in threads that share the pruner's caches, which are for one set of
    finished trials at a time and refreshed in place; decisions hold a lock (the pruner still pickles)."""
    import pickle

    pruner = ForecastPruner(epochs=30)
    study = optuna.create_study(direction="maximize", pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.1, 1.0)
        for epoch in range(1, 31):
            trial.report(0.5 + 0.4 * x * (1 - math.exp(-epoch / 6)), epoch)
            if trial.should_prune():
                return pruner.final_forecast(study, trial)[0]
        return 0.5 + 0.4 * x * (1 - math.exp(-5))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=24, n_jobs=4)
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 24
    assert any(FORECAST_ATTR in t.user_attrs for t in study.trials)
    assert FORECAST_ATTR not in study.best_trial.user_attrs
    copy = pickle.loads(pickle.dumps(pruner))
    assert copy.epochs == 30 and copy._lock is not pruner._lock  # noqa: SLF001


# -- the third pass (2026-12-05, on the commits above) --------------------------------------------------------

def test_out_never_overwrites_the_sidecar_beside_a_linked_curve(tmp_path: Path):
    """The reader takes the sidecar beside the path as given (a link's folder); the guard protected only
    the one beside the file the link names, so `--out links/B.yaml` replaced the config it had just read."""
    history, runs = _loss_folders(tmp_path)
    links = tmp_path / "links"
    links.mkdir()
    (links / "r.csv").symlink_to(runs / "r.csv")
    for name in ("r.yaml", "r.JSON"):
        (links / name).write_text("epochs: 20\n")
        out = _cli("forecast", "--history", str(history), "--runs", str(links / "r.csv"), "--epochs", "30", "--metric",
                   "val_loss", "--out", str(links / name))
        assert out.code == 2 and "the own file (sidecar) of the input" in out.err, out.err
        assert (links / name).read_text() == "epochs: 20\n"
        (links / name).unlink()


def test_a_run_logged_at_every_step_keeps_the_steps_its_own_file_plans(tmp_path: Path):
    """`step` 1..300 with max_steps 1000 in its sidecar was planned at --steps 2000 (or 2000 epochs),
    where the same curve logged every 10 steps kept its own 1000; the two identical runs were ranked apart."""
    history, _ = _loss_folders(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()
    for name, every in (("A", 1), ("B", 10)):
        (runs / f"{name}.csv").write_text("step,val_loss\n" + "".join(
            f"{s},{2 + 3 * math.exp(-s / 300):.6f}\n" for s in range(every, 301, every)))
        (runs / f"{name}.json").write_text('{"max_steps": 1000}')
    for flag in ("--steps", "--epochs"):
        out = _cli("forecast", "--history", str(history), "--runs", str(runs), flag, "2000", "--metric", "val_loss")
        assert out.code == 0, out.err
        assert out.out.count("300/1000") == 2, out.out


def test_a_log_that_misses_the_runs_start_is_one_line(tmp_path: Path):
    """A run logged from step 28863 on (resumed from a checkpoint) was forecast as if flat at its first value
    from step 1: 1.38 [1.31, 1.46] for a run that ends at 1.50. Every dev curve starts within one interval."""
    import lcpipe
    from lcpipe.errors import LcpipeError

    history, runs = _loss_folders(tmp_path)
    (runs / "r.csv").write_text("step,val_loss\n" + "".join(f"{s},{1 + 1 / s:.6f}\n" for s in range(1000, 2001, 100)))
    out = _cli("forecast", "--history", str(history), "--runs", str(runs), "--steps", "5000", "--metric", "val_loss")
    assert out.code == 2 and out.err.strip().splitlines() == [
        f"error: {runs / 'r.csv'}: its first row is at step 1000, then 1100: the log misses the run's start (a run "
        "resumed from a checkpoint logs from there on; Hugging Face's eval_delay skips the first evaluations), more "
        "of it than its first evaluations tell; give the whole log, or add the initial model's evaluation as a row "
        "at step 0"]
    with pytest.raises(LcpipeError, match=r"run 'r': its first value is at step 1000, then 1100: it misses"):
        lcpipe.forecast(history=history, runs={"r": {s: 1 + 1 / s for s in range(1000, 2001, 100)}}, steps=5000,
                        metric="val_loss")


def test_an_object_dataframe_indexed_by_step_reads_its_nan_as_not_evaluated():
    """NaN was dropped only from float columns: an object-dtype frame stopped both runs as diverged."""
    import pandas as pd

    import lcpipe

    history = {f"h{i}": {100 * e: 0.9 - 0.5 * math.exp(-e / (4 + i)) for e in range(1, 31)} for i in range(4)}
    frame = pd.DataFrame({"a": pd.Series({100 * e: 0.5 + 0.03 * e for e in range(1, 7)}),
                          "b": pd.Series({100 * e + 50: 0.48 + 0.03 * e for e in range(1, 7)})})
    for given in (frame, frame.astype(object)):
        table = lcpipe.forecast(history=history, runs=given, steps=3000)
        assert set(table.decision) <= {"keep", "stop"} and not any(table.reason)
