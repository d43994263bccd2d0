"""A red-team pass of 2026-12-07, seventeenth session (an earlier pass of the day is tests/test_red_team_dec7.py):
ForecastPruner as Optuna's checkpoint recipe runs it, a history of one dataset forecasting runs of another, and a
perplexity. Each test failed on the code before its fix."""

from __future__ import annotations

import csv
import json
import shutil
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

import lcpipe
from lcpipe.errors import LcpipeError
from lcpipe.integrations.optuna import ForecastPruner
from tests.helpers import ROOT, cli_in_process

optuna.logging.set_verbosity(optuna.logging.WARNING)
FIXTURES = ROOT / "tests" / "fixtures"
STUDY = FIXTURES / "adabelief-c10-resnet34"  # 9 real CIFAR-10 runs of 200 epochs, one per optimizer
HISTORY = FIXTURES / "cifar10-plain-vs-resnet"  # 8 real CIFAR-10 runs of another recipe


def curves() -> dict[str, dict[int, float]]:
    out = {}
    for path in sorted(STUDY.glob("*.csv")):
        with path.open() as f:
            out[path.stem] = {int(r["epoch"]): float(r["test_acc"]) for r in csv.DictReader(f)}
    return out


class Preempted(Exception):
    """The worker's machine went away after saving a checkpoint."""


def study_with_one_resumed(resume_after: int, which: str) -> tuple[optuna.Study, optuna.trial.FrozenTrial, list]:
    """Every run but one trained to its end, then `which` ('best' or 'worst'), preempted after epoch `resume_after`
    and retried as Optuna's checkpoint recipe retries it: RetryHeartbeatStaleTrialCallback (RetryFailedTrialCallback
    before Optuna 4.9) re-queues the trial without its
    reports, and the objective carries on from its checkpoint (`for epoch in range(epoch_begin, EPOCHS)`)."""
    runs = curves()
    epochs = max(next(iter(runs.values())))
    pick = (max if which == "best" else min)(runs, key=lambda n: runs[n][epochs])
    study = optuna.create_study(direction="maximize",
                                pruner=ForecastPruner(epochs=epochs, history=HISTORY, fit_cache=False))
    for name in runs:
        if name != pick:
            study.enqueue_trial({"run": name})

    def finished(trial: optuna.Trial) -> float:
        values = runs[trial.suggest_categorical("run", list(runs))]
        for epoch in range(1, epochs + 1):
            trial.report(values[epoch], epoch)
        return values[epochs]

    study.optimize(finished, n_trials=len(runs) - 1)

    def objective(trial: optuna.Trial) -> float:
        values = runs[trial.suggest_categorical("run", list(runs))]
        retried = RetryHeartbeatStaleTrialCallback.retried_trial_number(study.trials[trial.number]) is not None
        for epoch in range(resume_after + 1 if retried else 1, epochs + 1):
            if not retried and epoch == resume_after + 1:
                raise Preempted
            trial.report(values[epoch], epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return values[epochs]

    study.enqueue_trial({"run": pick})
    study.optimize(objective, n_trials=1, catch=(Preempted,))
    RetryHeartbeatStaleTrialCallback(max_retry=1)(study, study.trials[-1])  # as the storage's heartbeat does
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        study.optimize(objective, n_trials=1)
    return study, study.trials[-1], [str(w.message) for w in said if "ForecastPruner" in str(w.message)]


@pytest.mark.parametrize("resume_after", [40, 80])
def test_the_best_trial_resumed_from_a_checkpoint_is_not_pruned_on_epochs_it_never_reported(resume_after):
    """Read flat before its first report after resuming, as if it had stopped improving long ago, the study's best run
    was pruned at its third report after resuming, and study.best_value fell, silently (red team: 0.952 -> 0.948)."""
    study, resumed, said = study_with_one_resumed(resume_after, "best")
    assert resumed.state == TrialState.COMPLETE, f"pruned at step {resumed.last_step}"
    assert study.best_trial.number == resumed.number
    assert len(said) == 1 and f"first reported at step {resume_after + 1}" in said[0] \
        and "inherit_intermediate_values=True" in said[0]


def test_a_trial_resumed_from_a_checkpoint_is_still_pruned_once_its_own_reports_say_enough():
    """The wait is for its own reports to cover half of its run so far, not a pass: the worst run, resumed after epoch
    40 of 200, is pruned, and not before its check at step 80 or later."""
    _, resumed, _ = study_with_one_resumed(40, "worst")
    assert resumed.state == TrialState.PRUNED
    assert resumed.last_step >= 80


def _cut_runs(source, dest, metric: str, x: str) -> dict[str, float]:
    """Every run of `source` cut at 20 % of its length into `dest` with its sidecar: name -> its true final."""
    finals = {}
    dest.mkdir()
    for path in sorted(source.glob("*.csv")):
        df = pd.read_csv(path).dropna(subset=[metric])
        last = df[x].iloc[-1]
        df.iloc[:max(6, int((df[x] <= 0.2 * last).sum()))].to_csv(dest / path.name, index=False)
        shutil.copy(path.with_suffix(".json"), dest / f"{path.stem}.json")
        finals[path.stem] = float(df[metric].iloc[-1])
    return finals


@pytest.mark.parametrize("history, runs, metric, x, length, least", [
    # CIFAR-10 ResNet-34 runs forecast from SVHN runs of two archs: 6 of 9 finals inside their bands before, and the
    # best run stopped (now 9 of 9, the best kept)
    ("hendrycks-oe-svhn", "adabelief-c10-resnet34", "test_acc", "epoch", {"epochs": 200}, 8),
    # WMT translation losses forecast from a graph network's (ogbg): 1 of 10 before (now 10 of 10)
    ("algoperf-ogbg-nadamw", "algoperf-wmt-nadamw", "val_loss", "step", {"steps": 133333}, 8),
])
def test_runs_of_another_recipe_than_a_one_dataset_historys_get_bands_that_hold_their_finals(
        tmp_path, history, runs, metric, x, length, least):
    """A history of one dataset is calibrated on errors within it; forecast from it, a run of another dataset (or
    another arch beside one recipe) errs as a foreign family's does, several times more, and its bands held 31-45 % of
    the dev corpora's finals (a red team's LoRA sweep from GPT-2 pretraining curves: 0 of 8). Such a run's band is now
    widened to a foreign family's errors."""
    finals = _cut_runs(FIXTURES / runs, tmp_path / "live", metric, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = lcpipe.forecast(history=FIXTURES / history, runs=tmp_path / "live", metric=metric, **length)
    held = sum(row.lower <= finals[row.run] <= row.upper for row in got.itertuples())
    assert held >= least, f"{held} of {len(finals)} finals inside their 80 % intervals"
    best = (max if metric == "test_acc" else min)(finals, key=finals.get)
    assert got.set_index("run").decision[best] == "keep"


def test_a_run_of_the_historys_own_recipe_keeps_its_siblings_band(tmp_path):
    """The widening is for strangers only: the same study's runs forecast from its other runs (siblings) keep the
    band their own errors calibrate."""
    source = FIXTURES / "adabelief-c10-resnet34"
    names = sorted(p.stem for p in source.glob("*.csv"))
    (history := tmp_path / "history").mkdir()
    for name in names[:6]:
        for suffix in (".csv", ".json"):
            shutil.copy(source / f"{name}{suffix}", history / f"{name}{suffix}")
    live = tmp_path / "live"
    finals = _cut_runs(source, live, "test_acc", "epoch")
    for name in names[:6]:
        (live / f"{name}.csv").unlink()
        (live / f"{name}.json").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        own = lcpipe.forecast(history=history, runs=live, metric="test_acc", epochs=200)
        for sidecar in live.glob("*.json"):  # the same runs, stated as another dataset's
            sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "dataset": "cifar100"}))
        stranger = lcpipe.forecast(history=history, runs=live, metric="test_acc", epochs=200)
    assert set(own.run) == set(finals) - set(names[:6])
    # the forecast itself barely moves (a foreign dataset's analogs weigh a little less): its band widens
    assert (own.final - stranger.final).abs().max() < 0.01
    assert ((stranger.upper - stranger.lower) > 2 * (own.upper - own.lower)).all()


def _with_perplexity(source, dest, cut: float | None = None) -> None:
    """The folder's runs with val_ppl = exp(val_loss) beside the loss (cut to a share of their steps, when given)."""
    dest.mkdir()
    for path in sorted(source.glob("*.csv")):
        df = pd.read_csv(path).dropna(subset=["val_loss"])[["step", "val_loss"]]
        df["val_ppl"] = np.exp(df.val_loss).round(6)  # as a log writes it
        if cut is not None:
            df = df.iloc[:max(6, int((df.step <= cut * df.step.iloc[-1]).sum()))]
        df.to_csv(dest / path.name, index=False)
        shutil.copy(path.with_suffix(".json"), dest / f"{path.stem}.json")


def test_a_perplexity_is_forecast_as_the_loss_it_is_the_exponential_of(tmp_path):
    """exp(val_loss) beside val_loss, history and runs alike: forecast as a positive quantity of its own, and resampled
    onto the step grid in perplexity (a line from 8.8e6 at step 0 to 388 at step 125), its forecasts ran 0.2 nats
    below the loss's, its bands a third as wide, and the two decided differently (red team). Now one forecast, one
    band, one decision."""
    _with_perplexity(FIXTURES / "algoperf-ogbg-nadamw", tmp_path / "history")
    _with_perplexity(FIXTURES / "algoperf-wmt-nadamw", tmp_path / "runs", cut=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss, ppl = (lcpipe.forecast(history=tmp_path / "history", runs=tmp_path / "runs", metric=m, steps=133333)
                     for m in ("val_loss", "val_ppl"))
    for column in ("final", "lower", "upper"):
        assert np.allclose(np.log(ppl[column]), loss[column], rtol=0, atol=2e-3), column
    assert (ppl.decision == loss.decision).all() and np.allclose(ppl.p_best, loss.p_best, atol=0.01)


@pytest.mark.parametrize("name, kind, perplexity", [
    ("val_ppl", None, True), ("eval_perplexity", None, True), ("val_pplx", None, True),
    ("ppl50k", None, False),  # StyleGAN's perceptual path length: a positive quantity, not the exponential of a loss
    ("val_ppl", "positive", False),  # the kind given: a positive quantity as any other
    ("val_loss", None, False)])
def test_which_names_read_as_a_perplexity(name, kind, perplexity):
    from lcpipe.metric import Metric
    metric = Metric.infer(name, kind=kind)
    assert metric.exp_of_loss is perplexity
    if perplexity:
        assert metric.wrong(np.array([1.0, 0.9, 3.0])).tolist() == [1]  # below 1 is no perplexity
        assert "perplexity >= 1" in metric.expected() and "perplexity" in metric.describe()
        values = np.array([500.0, 40.0, 7.5])
        assert np.allclose(metric.from_internal(metric.to_internal(values)), values)


def test_a_perplexity_below_1_is_one_line_naming_the_file_and_row(tmp_path):
    runs = tmp_path / "runs"
    _with_perplexity(FIXTURES / "algoperf-ogbg-nadamw", tmp_path / "history")
    _with_perplexity(FIXTURES / "algoperf-wmt-nadamw", runs, cut=0.25)
    first = sorted(runs.glob("*.csv"))[0]
    df = pd.read_csv(first)
    df.loc[3, "val_ppl"] = 0.8
    df.to_csv(first, index=False)
    with pytest.raises(LcpipeError, match=r"s0_t1.csv: line 5: column 'val_ppl' is '0\.8' where a perplexity >= 1"):
        lcpipe.forecast(history=tmp_path / "history", runs=runs, metric="val_ppl", steps=133333)


def test_metric_loss_on_trainer_output_says_it_is_the_training_loss():
    """A newcomer's --metric loss on Trainer output dirs forecast the Trainer's training loss without a word: one line
    now says so, and names eval_loss."""
    got = cli_in_process("forecast", "--history", str(ROOT / "examples" / "hf-trainer" / "history"),
                         "--runs", str(ROOT / "examples" / "hf-trainer" / "runs"), "--metric", "loss")
    assert got.code == 0, got.err
    assert "'loss' is the training loss" in got.err and "--metric eval_loss" in got.err
    evaluated = cli_in_process("forecast", "--history", str(ROOT / "examples" / "hf-trainer" / "history"),
                               "--runs", str(ROOT / "examples" / "hf-trainer" / "runs"), "--metric", "eval_loss")
    assert evaluated.code == 0 and "training loss" not in evaluated.err


def test_a_step_log_whose_sidecar_plans_epochs_is_told_to_give_steps(tmp_path):
    """Logged by step with no epoch column, its sidecar planning num_train_epochs 5 (a TrainingArguments dump): the
    error said the file planned no length and sent the user to --epochs, which then failed as neither its steps nor its
    evaluations. It names the plan and --steps now, and with --steps the note names the flag written."""
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in ("t00", "t01", "t02"):
        lines = (ROOT / "bench" / "lm_table" / "curves" / "code" / f"{name}.csv").read_text().splitlines()[:21]
        (runs / f"{name}.csv").write_text("\n".join(lines) + "\n")
        (runs / f"{name}.json").write_text(json.dumps({"lr": 0.001, "num_train_epochs": 5, "max_steps": -1}))
    history = str(ROOT / "bench" / "lm_table" / "curves" / "docs")
    bare = cli_in_process("forecast", "--history", history, "--runs", str(runs), "--metric", "val_ce")
    assert bare.code == 2 and "its file plans 5 epochs" in bare.err and "--steps N" in bare.err, bare.err
    assert "plans no length" not in bare.err
    steps = cli_in_process("forecast", "--history", history, "--runs", str(runs), "--metric", "val_ce",
                           "--steps", "750")
    assert steps.code == 0 and "--steps 750 is used instead" in steps.err, steps.err


def _replayed(metric: str, transform, order: list[str], runs: dict[str, pd.DataFrame], epochs: int) -> dict:
    """A minimize study over the runs in `order`, each reporting transform(val_loss) at its steps:
    run -> (state, last step)."""
    study = optuna.create_study(direction="minimize", pruner=ForecastPruner(epochs=epochs, metric=metric,
                                                                            fit_cache=False))
    for name in order:
        study.enqueue_trial({"run": name})

    def objective(trial: optuna.Trial) -> float:
        df = runs[trial.suggest_categorical("run", list(runs))]
        for step, value in zip(df.step, df.val_loss):
            trial.report(float(transform(value)), int(step))
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(transform(df.val_loss.iloc[-1]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=len(order))
    return {t.params["run"]: (t.state.name, t.last_step) for t in study.trials}


def test_forecastpruner_decides_a_perplexity_as_the_loss_it_is_the_exponential_of():
    """ForecastPruner(metric='val_ppl') rebuilt its metric without the perplexity's reading, and pruned other trials at
    other steps than ForecastPruner(metric='val_loss') on the same runs (review)."""
    runs = {p.stem: pd.read_csv(p).dropna(subset=["val_loss"])
            for p in sorted((FIXTURES / "algoperf-wmt-nadamw").glob("*.csv"))}
    epochs = max(int(df.step.iloc[-1]) for df in runs.values())
    for seed in (0, 1):
        order = [str(n) for n in np.random.default_rng(seed).permutation(sorted(runs))]
        loss = _replayed("val_loss", lambda v: v, order, runs, epochs)
        assert _replayed("val_ppl", np.exp, order, runs, epochs) == loss
        assert any(state == "PRUNED" for state, _ in loss.values())  # there is something to agree on


def test_a_perplexity_history_with_a_missed_evaluation_logged_as_0_leaves_that_curve_out(tmp_path):
    """As a loss's: the curve is left out and named, not the whole forecast stopped by the below-1 check (review)."""
    _with_perplexity(FIXTURES / "algoperf-ogbg-nadamw", tmp_path / "history")
    _with_perplexity(FIXTURES / "algoperf-wmt-nadamw", tmp_path / "runs", cut=0.25)
    first = sorted((tmp_path / "history").glob("*.csv"))[0]
    df = pd.read_csv(first)
    df.loc[len(df) // 2, ["val_loss", "val_ppl"]] = 0.0
    df.to_csv(first, index=False)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        got = lcpipe.forecast(history=tmp_path / "history", runs=tmp_path / "runs", metric="val_ppl", steps=133333)
    assert len(got) == 10 and got.final.notna().all()
    assert any(f"{first.name} left out" in str(w.message) and "missed evaluation" in str(w.message) for w in said)


def _forecast_from_adabelief(tmp_path, run_config: dict, history_edit=None) -> pd.DataFrame:
    """The adabelief fixture's last three runs at 20 % forecast from its first six, each run's sidecar updated."""
    source = FIXTURES / "adabelief-c10-resnet34"
    names = sorted(p.stem for p in source.glob("*.csv"))
    history, live = tmp_path / "history", tmp_path / "live"
    history.mkdir(exist_ok=True)
    for name in names[:6]:
        shutil.copy(source / f"{name}.csv", history / f"{name}.csv")
        config = json.loads((source / f"{name}.json").read_text())
        (history / f"{name}.json").write_text(json.dumps(history_edit(name, config) if history_edit else config))
    shutil.rmtree(live, ignore_errors=True)
    _cut_runs(source, live, "test_acc", "epoch")
    for name in names:
        if name in names[:6]:
            (live / f"{name}.csv").unlink()
            (live / f"{name}.json").unlink()
        else:
            sidecar = live / f"{name}.json"
            config = {k: v for k, v in json.loads(sidecar.read_text()).items() if k not in run_config}
            sidecar.write_text(json.dumps({**config, **{k: v for k, v in run_config.items() if v is not ...}}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lcpipe.forecast(history=history, runs=live, metric="test_acc", epochs=200)


@pytest.mark.parametrize("run_config", [
    {"dataset": "CIFAR-10"}, {"dataset": "cifar10 "}, {"dataset": ["cifar10"]}, {"arch": "ResNet34"},
    {"dataset": ""},  # an empty name is none
    {"dataset": ..., "arch": "vgg11"},  # an arch, no dataset (a pruner trial's params): taken for the history's
])
def test_a_run_that_names_the_historys_recipe_another_way_is_no_stranger(tmp_path, run_config):
    """Spelling, case, a list, an empty string, or an arch with no dataset: each was read as another dataset or arch
    and its band widened threefold (review). They keep the band of the run stated as the history states it."""
    own = _forecast_from_adabelief(tmp_path, {})
    other = _forecast_from_adabelief(tmp_path, run_config)
    # within a quarter (the config distance reads the spelling as another value and weighs analogs a little
    # otherwise), not three times as wide
    assert np.allclose(other.upper - other.lower, own.upper - own.lower, rtol=0.25)


def test_a_history_where_only_some_runs_state_the_dataset_is_not_read_as_one_dataset(tmp_path):
    """Runs stating no dataset beside runs stating cifar10: not a history of one dataset, so a run of another is not
    widened on top of a calibration that is no sibling one (review: bands 2.4 times as wide as with none stated)."""
    def half_stated(name: str, config: dict) -> dict:
        return config if name.endswith(("adabelief-lr0.001-eps1e-08", "adabound-lr0.001-final_lr0.1-gamma0.001")) \
            else {k: v for k, v in config.items() if k not in ("dataset", "arch")}
    stated = _forecast_from_adabelief(tmp_path, {"dataset": "svhn"}, half_stated)
    plain = _forecast_from_adabelief(tmp_path, {"dataset": "svhn"}, lambda _, c: {k: v for k, v in c.items()
                                                                                if k not in ("dataset", "arch")})
    assert ((stated.upper - stated.lower) < 1.5 * (plain.upper - plain.lower)).all()


def test_a_resumed_trial_waits_too_before_any_trial_has_finished(tmp_path):
    """Several workers, none finished: the running trials are its rivals from the start, and the resume guard, keyed
    on the finished trials' first report, let a trial resumed after epoch 40 be checked at its third report (review).
    It now waits as it would beside finished trials, and says so."""
    runs = curves()
    history = tmp_path / "history"
    history.mkdir()
    for name in sorted(runs)[::2]:  # every other run of the study is the history; two of the rest run now
        for suffix in (".csv", ".json"):
            shutil.copy(STUDY / f"{name}{suffix}", history / f"{name}{suffix}")
        del runs[name]
    best = max(runs, key=lambda n: runs[n][200])
    study = optuna.create_study(direction="maximize",
                                pruner=ForecastPruner(epochs=200, history=history, fit_cache=False))
    rivals = {n: study.ask() for n in sorted((n for n in runs if n != best), key=lambda n: runs[n][200])[:2]}
    resumed, checked_at, out = study.ask(), None, set()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        for epoch in range(1, 201):
            for name, trial in rivals.items():  # the other workers report from epoch 1, and none finishes meanwhile
                if name not in out:
                    trial.report(runs[name][epoch], epoch)
                    if epoch > 3 and trial.should_prune():
                        out.add(name)
                        study.tell(trial, state=TrialState.PRUNED)
            if epoch > 40:
                resumed.report(runs[best][epoch], epoch)
                if resumed.should_prune():
                    checked_at = epoch
                    break
    assert checked_at is None or checked_at >= 80, f"pruned at step {checked_at}"
    assert any("first reported at step 41" in str(w.message) for w in said)


def test_evaluates_grid_note_reads_each_curve_to_its_last_step_not_its_sidecars_plan(tmp_path):
    """Steps logged in tokens (x 524,288) beside sidecars planning max_steps 5,100 and 3,200: the note on mixed grids
    took its spacings from the plans ("a point each 3200 to 5100 steps ... seen to about step 16000 to 25500") while
    the backtest reads each curve to its last step, hundreds of millions (red team). The curves share one interval,
    and the note no longer fires on plans they overrun."""
    curves = tmp_path / "curves"
    curves.mkdir()
    for path in sorted((ROOT / "examples" / "lm-losses" / "history").glob("t1_*.csv")):
        df = pd.read_csv(path)[["step", "val_loss"]]
        df["step"] = df.step * 524288
        df.to_csv(curves / path.name, index=False)
        shutil.copy(path.with_suffix(".json"), curves / f"{path.stem}.json")
    got = cli_in_process("evaluate", "--curves", str(curves), "--metric", "val_loss", "--cutoffs", "5,10",
                         "--predictors", "auto,last_value")
    assert got.code == 0, got.err
    assert "a point each 3200 to 5100 steps" not in got.err and "seen to about step 16000" not in got.err


def test_a_csv_written_with_pandas_index_is_told_how_to_name_its_axis(tmp_path):
    """DataFrame(evals_result).to_csv(f) writes the iteration as a first column with no name: the error read back the
    header (", logloss, error") and said no more (red team)."""
    (tmp_path / "r.csv").write_text(",logloss,error\n" + "".join(f"{i},{0.6 - 0.05 * i},{0.3 - 0.02 * i}\n"
                                                                 for i in range(6)))
    got = cli_in_process("forecast", "--history", str(tmp_path), "--runs", str(tmp_path), "--metric", "logloss",
                         "--steps", "10")
    assert got.code == 2 and "index_label='step'" in got.err and "has no name" in got.err, got.err


def test_an_early_stopped_history_curve_is_told_how_to_say_so(tmp_path):
    """Keras' EarlyStopping ended a run at epoch 24 of the 100 its sidecar plans: refused as no finished run, with no
    way forward (red team). The line says what to write."""
    history = tmp_path / "history"
    history.mkdir()
    source = FIXTURES / "adabelief-c10-resnet34"
    for path in sorted(source.glob("*.csv"))[:3]:
        shutil.copy(path, history / path.name)
        shutil.copy(path.with_suffix(".json"), history / f"{path.stem}.json")
    first = sorted(history.glob("*.csv"))[0]
    first.write_text("\n".join(first.read_text().splitlines()[:25]) + "\n")  # header + 24 epochs of 200
    got = cli_in_process("evaluate", "--curves", str(history), "--cutoffs", "5")
    assert got.code == 2 and "24 of its 200 planned epochs" in got.err and "the epochs it ran (24)" in got.err, got.err


def test_sklearn_seeds_and_chatter_are_no_hyperparameters(tmp_path):
    """get_params() sidecars differing in random_state (and verbose, n_jobs) alone moved a forecast by 26 % and flipped
    two decisions (red team): like a seed, they are left out of the comparison."""
    def forecast(extra) -> pd.DataFrame:
        return _forecast_from_adabelief(tmp_path, {}, lambda name, config: {**config, **extra(name)})
    plain = forecast(lambda _: {})
    seeded = forecast(lambda name: {"random_state": len(name) % 7, "verbose": len(name) % 2, "n_jobs": -1})
    assert np.allclose(plain.final, seeded.final) and (plain.decision == seeded.decision).all()


@pytest.mark.parametrize("name, mode, kind", [
    ("validation_0-aucpr", "max", "fraction"),  # XGBoost's area under the PR curve, as pr_auc already was
    ("validation_0-poisson-nloglik", "min", "any"),  # XGBoost's negative log-likelihoods, as nll: may go below 0
    ("cox-nloglik", "min", "any"),
    ("deviance_explained", "max", "any"),  # a share explained stays a gain
])
def test_gradient_boostings_metric_names(name, mode, kind):
    """A red team's XGBoost names: aucpr was any series and nloglik took the history's trend alone."""
    from lcpipe.metric import Metric
    metric = Metric.infer(name)
    assert (metric.mode, metric.kind) == (mode, kind)


def test_sklearns_learning_rate_init_is_the_lr_and_its_learning_rate_the_schedule(tmp_path):
    """MLPClassifier.get_params() as sidecars: `learning_rate` is the schedule's name ('constant') and the rate is
    `learning_rate_init`; 'constant' was read as the lr, said to be ignored (a key the user never wrote), and the rate
    was compared as any other hyper-parameter (red team)."""
    from sklearn.neural_network import MLPClassifier

    from lcpipe.forecasting.logs import config_named
    params = MLPClassifier(learning_rate_init=0.003, max_iter=30).get_params()
    named = config_named(json.loads(json.dumps(params)))
    assert named["lr"] == 0.003 and named["schedule"] == "constant" and "learning_rate_init" not in named
    for sub, n, length in (("history", 3, 30), ("runs", 2, 8)):
        (tmp_path / sub).mkdir()
        for i in range(n):
            config = MLPClassifier(learning_rate_init=10 ** -(2 + i), max_iter=30).get_params()
            (tmp_path / sub / f"m{i}.json").write_text(json.dumps(config))
            values = [0.5 + 0.45 * (1 - 0.9 ** (e * (i + (1 if sub == "history" else 1.7)))) for e in range(length)]
            (tmp_path / sub / f"m{i}.csv").write_text("epoch,val_accuracy\n" + "".join(f"{e},{v:.4f}\n"
                                                                                     for e, v in enumerate(values)))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        lcpipe.forecast(history=tmp_path / "history", runs=tmp_path / "runs", metric="val_accuracy", epochs=30)
    assert not [w for w in said if "lr='constant'" in str(w.message)], [str(w.message) for w in said]
