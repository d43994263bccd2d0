"""Defects found in the eighteenth session (2026-12-07, evening): each test fails on the code before its fix."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import lcpipe_here


@pytest.mark.parametrize("name, mode, kind", [
    # LightGBM's evals_result_ names its metrics by the objective: each was read as a score to maximise
    ("poisson", "min", "any"),  # a negative log-likelihood with its constant dropped: may go below 0
    ("valid_0-gamma", "min", "any"),
    ("tweedie", "min", "any"),
    ("quantile", "min", "positive"),  # the pinball loss
    ("fair", "min", "positive"),
    ("gamma_deviance", "min", "positive"),  # a deviance is >= 0
    ("kullback_leibler", "min", "positive"),
    # ... while these keep their reading
    ("deviance_explained", "max", "any"),
    ("explained_variance", "max", "any"),  # scikit-learn's score
    ("gamma_acc", "max", "fraction"),
    ("fairness", "max", "any"),
    ("valid_1's gamma", "min", "any"),
    # ... and only as the whole name (review: each read as a loss, or `unexplained` as a gain)
    ("val_accuracy_quantile", "max", "fraction"),
    ("reward_quantile", "max", "any"),
    ("f1_fair", "max", "fraction"),
    ("d2_tweedie_score", "max", "any"),
    ("goodman_kruskal_gamma", "max", "any"),
])
def test_lightgbm_metric_names(name, mode, kind):
    from lcpipe.metric import Metric
    metric = Metric.infer(name)
    assert (metric.mode, metric.kind) == (mode, kind)


def test_unexplained_is_no_gain():
    """`explained` is a gain word as a whole word only: unexplained_variance says no direction, as before (review)."""
    from lcpipe.metric import Metric
    assert not Metric.infer("unexplained_variance").says_mode


# -- tracker exports (a red team's): each read right, or one line saying what to do ------------------------------------

def _acc(e: float, top: float) -> float:
    return top - 0.45 * math.exp(-e / 12)


def _forecast(history, runs, *args):
    """`lcpipe forecast` as a user runs it: (return code, stdout, stderr)."""
    done = lcpipe_here("forecast", "--history", history, "--runs", runs, *args)  # main(), in this process
    return done.returncode, done.stdout, done.stderr


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def test_wandb_step_counting_log_calls_is_refused_not_read_as_steps(tmp_path):
    """A W&B history export whose only axis is `_step` (a count of wandb.log() calls; train rows between the
    evaluations move it) was read as optimizer steps: 87/100 seen after 30 epochs, both bands missing their finals."""
    for tag, n, tops in (("h", 100, (.93, .94, .95)), ("r", 30, (.937, .952))):
        for i, top in enumerate(tops):
            rows, s, g = ["_runtime,_step,_timestamp,train_loss,val_acc"], 0, 0
            for e in range(1, n + 1):
                for _ in range(97):  # a train log every 50 batches of an epoch's 97: one or two between evaluations
                    g += 1
                    if g % 50 == 0:
                        rows.append(f"{g * .1:.1f},{s},{1733000000 + g},0.5,")
                        s += 1
                rows.append(f"{g * .1 + .05:.2f},{s},{1733000000 + g},,{_acc(e, top):.4f}")
                s += 1
            _write(tmp_path / tag, f"r{i}.csv", "\n".join(rows) + "\n")
    code, out, err = _forecast(tmp_path / "h", tmp_path / "r", "--epochs", "100", "--metric", "val_acc")
    assert code != 0 and "Traceback" not in err
    assert "_step" in err and "wandb.log() calls" in err and len(err.strip().splitlines()) == 1


def test_wandb_step_counting_by_one_is_still_the_epoch(tmp_path):
    """... while a W&B export logging once an epoch (_step 0, 1, 2: every row an evaluation) reads as before."""
    for tag, n, tops in (("h", 100, (.93, .94, .95)), ("r", 30, (.937, .952))):
        for i, top in enumerate(tops):
            rows = ["_step,_runtime,val_acc"] + [f"{e - 1},{e * 1.5},{_acc(e, top):.4f}" for e in range(1, n + 1)]
            _write(tmp_path / tag, f"r{i}.csv", "\n".join(rows) + "\n")
    code, out, err = _forecast(tmp_path / "h", tmp_path / "r", "--epochs", "100", "--metric", "val_acc")
    assert code == 0, err
    assert "30/100" in out


def test_keras_csvlogger_NA_on_epochs_without_validation(tmp_path):
    """Keras' CSVLogger writes NA in the validation columns of an epoch fit(validation_freq=2) did not validate: the
    CLI refused it ("'NA', not a number") where pd.read_csv and lcpipe.forecast() read the file."""
    for tag, n, tops in (("h", 100, (.93, .94, .95)), ("r", 30, (.937, .952))):
        for i, top in enumerate(tops):
            rows = ["epoch,accuracy,loss,val_accuracy,val_loss"]
            for e in range(n):
                a = _acc(e + 1, top)
                val = f"{a:.4f},{-math.log(a):.4f}" if e % 2 else "NA,NA"
                rows.append(f"{e},{a + .01:.4f},{-math.log(a) - .01:.4f},{val}")
            _write(tmp_path / tag, f"r{i}.csv", "\r\n".join(rows) + "\r\n")
    code, out, err = _forecast(tmp_path / "h", tmp_path / "r", "--epochs", "100", "--metric", "val_accuracy")
    assert code == 0, err
    finals = [float(line.split()[2]) for line in out.splitlines()[1:]]
    assert finals[0] == pytest.approx(.937, abs=.01) and finals[1] == pytest.approx(.952, abs=.01)


def test_tensorboard_value_column_given_as_the_metric_says_what_it_lacks(tmp_path):
    """`--metric Value` on TensorBoard's scalars export: an accuracy was read as any series and forecast above 1."""
    for tag, n, tops in (("h", 100, (.93, .94, .95)), ("r", 30, (.937, .952))):
        for i, top in enumerate(tops):
            rows = ["Wall time,Step,Value"] + [f"{1.7e9 + e},{e},{_acc(e + 1, top):.4f}" for e in range(n)]
            _write(tmp_path / tag, f"run-{i}-tag-epoch_accuracy.csv", "\n".join(rows) + "\n")
    code, out, err = _forecast(tmp_path / "h", tmp_path / "r", "--epochs", "100", "--metric", "Value")
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "TensorBoard" in err and "rename" in err
    code, out, err = _forecast(tmp_path / "h", tmp_path / "r", "--epochs", "100", "--metric", "Value", "--mode", "max")
    assert code == 0, err  # the user said what it is


def test_mlflow_long_format_with_runs_is_told_to_split_before_pivoting(tmp_path):
    """Several runs in one long-format file: the advised pivot merged them into one zig-zag curve, silently."""
    _write(tmp_path / "r", "all.csv", "run_id,key,value,timestamp,step\na1,val_loss,2.3,1,10\na1,val_loss,2.1,2,20\n"
                                      "b2,val_loss,2.2,1,11\nb2,val_loss,2.0,2,21\n")
    _write(tmp_path / "h", "h.csv", "step,val_loss\n10,2.3\n20,2.1\n30,2.0\n")
    _write(tmp_path / "h", "g.csv", "step,val_loss\n10,2.4\n20,2.2\n30,2.1\n")
    code, out, err = _forecast(tmp_path / "h", tmp_path / "r", "--steps", "30", "--metric", "val_loss")
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert "groupby('run_id')" in err


def test_ray_tune_trials_are_named_by_folder_with_their_params(tmp_path):
    """Ray Tune's <trial>/progress.csv beside params.json: `training_iteration` was no axis, every trial was named
    'progress' (two runs of one name) and params.json went unread."""
    for tag, n, specs in (("h", 100, ((.93, .1), (.94, .05), (.95, .02))), ("r", 30, ((.937, .03), (.952, .02)))):
        for i, (top, lr) in enumerate(specs):
            trial = tmp_path / tag / f"train_fn_{i:05d}_lr={lr}"
            rows = ["val_acc,timestamp,done,training_iteration,trial_id,time_total_s,config/lr"]
            rows += [f"{_acc(e, top):.4f},{1733000000 + e},False,{e},t{i},{1.2 * e:.1f},{lr}" for e in range(1, n + 1)]
            _write(trial, "progress.csv", "\n".join(rows) + "\n")
            _write(trial, "params.json", json.dumps({"lr": lr, "batch_size": 64}))
    code, out, err = _forecast(tmp_path / "h", tmp_path / "r", "--epochs", "100", "--metric", "val_acc")
    assert code == 0, err
    assert "train_fn_00000_lr=0.03" in out and "30/100" in out
    assert "used lr" in err


def test_lightning_validating_twice_an_epoch_counts_epochs_by_its_epoch_column(tmp_path):
    """Lightning's CSVLogger with val_check_interval=0.5 states each row's whole epoch beside its step: --epochs 100
    was read as 100 evaluations (50 epochs), and both bands missed the finals (--steps 9700 was right)."""
    finals = {}
    for tag, n, tops in (("h", 100, (.93, .94, .95, .945)), ("r", 30, (.937, .952))):
        for i, top in enumerate(tops):
            run = tmp_path / tag / "lightning_logs" / f"version_{i}"
            _write(run, "hparams.yaml", "lr: 0.1\n")
            rows, g = ["epoch,step,train_loss_step,val_acc,val_loss"], 0
            for e in range(n):
                for b in range(97):
                    g += 1
                    if g % 50 == 0:
                        rows.append(f"{e},{g - 1},0.5,,")
                    if b in (47, 96):
                        a = _acc(e + (b + 1) / 97, top)
                        rows.append(f"{e},{g - 1},,{a:.4f},{-math.log(a):.4f}")
            _write(run, "metrics.csv", "\n".join(rows) + "\n")
            finals[f"version_{i}"] = _acc(100, top)
    code, out, err = _forecast(tmp_path / "h" / "lightning_logs", tmp_path / "r" / "lightning_logs", "--epochs", "100",
                               "--metric", "val_acc")
    assert code == 0, err
    assert "/9700" in out
    for line in out.splitlines()[1:]:
        name, _, mean, lo, hi = line.split()[:5]
        assert float(lo.strip("[,")) <= finals[name] <= float(hi.strip("]")), line


# -- a maintainers' re-run of issue 24's defects (a helper's): the parts still open -------------------------------

def test_a_run_written_with_significant_digits_from_a_history_curve_is_its_own_future(tmp_path):
    """`%.6g` writes 11.0366 and 4.09365, decimals that vary with the value: such a copy of a history curve's first
    10 evaluations (an AlgoPerf WMT loss, 11.04 at step 1) was forecast from its own future, kept, exit 0 (%.4f
    copies were caught)."""
    rng = np.random.default_rng(0)
    steps = [1] + [2400 * i + 1 for i in range(1, 40)]
    for i in range(4):
        loss = 1.4 + 0.1 * i + 9.6 * np.exp(-np.arange(40) / 3.0) + rng.normal(0, 0.01, 40)
        _write(tmp_path / "h", f"s{i}.csv", "step,val_loss\n" + "".join(
            f"{s},{float(v)!r}\n" for s, v in zip(steps, loss)))
        if i == 1:
            _write(tmp_path / "r", "mine.csv", "step,val_loss\n" + "".join(
                f"{s},{v:.6g}\n" for s, v in zip(steps[:10], loss[:10])))
    code, out, err = _forecast(tmp_path / "h", tmp_path / "r", "--metric", "val_loss", "--mode", "min", "--steps",
                               "93601")
    assert code != 0 and "own future" in err and "6 significant digits" in err, err


@pytest.mark.parametrize("written", ["%.4f", "%.6g"])
def test_the_stopper_leaves_out_a_history_copy_written_rounded(tmp_path, written):
    """The README's recipe copies data/curves into the history; copied through pandas with a float_format, the run's
    own curve was no longer recognised and served as its analog (its own future)."""
    from lcpipe.config import StopParams
    from lcpipe.forecasting.run_stopper import Stopper
    from tests.helpers import learning_curve

    folder = tmp_path / "h"
    folder.mkdir()
    for i, final in enumerate((0.95, 0.93, 0.9, 0.86, 0.7)):
        acc = learning_curve(20, final=final, rate=0.3, start=0.3, noise=0.005, seed=i)
        (folder / f"run{i}.csv").write_text("epoch,test_acc\n" + "".join(
            f"{e},{written % a}\n" for e, a in enumerate(acc, start=1)))
    rerun = learning_curve(20, final=0.7, rate=0.3, start=0.3, noise=0.005, seed=4)  # run4 at full precision
    verdict = Stopper(StopParams(at=[6], history=str(folder)), epochs=20).check(
        [{"test_acc": float(a)} for a in rerun[:6]])
    assert verdict.left_out == ("run4",)


def test_a_keras_serialized_optimizer_in_a_sidecar_is_its_name_and_settings(tmp_path):
    """keras.optimizers.serialize(opt) in a sidecar ({"class_name": "SGD", "config": {"learning_rate": 0.1, ...}})
    was dropped silently: the run was compared as one stating no optimizer."""
    from lcpipe.forecasting.logs import read_curve

    (tmp_path / "r.csv").write_text("epoch,test_acc\n" + "".join(f"{e},{_acc(e, .9):.4f}\n" for e in range(1, 11)))
    (tmp_path / "r.json").write_text(json.dumps({"epochs": 200, "optimizer": {
        "module": "keras.optimizers", "class_name": "SGD", "registered_name": None,
        "config": {"name": "SGD", "learning_rate": 0.1, "momentum": 0.9}}}))
    config = read_curve(tmp_path / "r.csv").config
    assert config["optimizer"] == "sgd" and config["lr"] == 0.1
    (tmp_path / "r.json").write_text(json.dumps({"optimizer": {"class_name": "Adam", "config": {
        "learning_rate": {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.001}}}}}))
    config = read_curve(tmp_path / "r.csv").config
    assert (config["optimizer"], config["schedule"], config["lr"]) == ("adam", "exponentialdecay", 0.001)


def test_runs_stating_no_dataset_are_told_a_foreign_history_goes_unnoticed(tmp_path):
    """No tracker export states a dataset, so the bands of a history of another dataset were never widened, and
    nothing said so (red team: CIFAR-100 history, CIFAR-10 runs, 0 of 8 finals inside, the best run stopped)."""
    for tag, n, tops in (("h", 100, (.73, .75, .76)), ("r", 30, (.937, .952))):
        for i, top in enumerate(tops):
            _write(tmp_path / tag, f"r{i}.csv", "epoch,test_acc\n" + "".join(
                f"{e},{_acc(e, top):.4f}\n" for e in range(1, n + 1)))
    code, out, err = _forecast(tmp_path / "h", tmp_path / "r", "--epochs", "100")
    assert code == 0 and "no run states its dataset" in err, err
    for i in range(2):
        _write(tmp_path / "r", f"r{i}.json", '{"dataset": "cifar10"}')
    code, out, err = _forecast(tmp_path / "h", tmp_path / "r", "--epochs", "100")
    assert code == 0 and "states its dataset" not in err, err


def test_the_boosting_table_regenerates_from_its_command(tmp_path):
    """bench/boost_table/curves (the 1,000-round studies the no-history warmup was chosen on) is what its generator
    writes: the first rounds of two configs a task, rebuilt, equal the committed curves and configs."""
    import pandas as pd

    table = Path(__file__).resolve().parents[1] / "bench" / "boost_table"
    done = subprocess.run([sys.executable, str(table / "generate.py"), "--configs", "2", "--rounds", "12",
                           "--workers", "1", "--out", str(tmp_path / "t")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for task in ("breast_cancer", "synth_hard"):
        for run in ("c00", "c01"):
            rebuilt = pd.read_csv(tmp_path / "t" / task / f"{run}.csv")
            committed = pd.read_csv(table / "curves" / task / f"{run}.csv").head(12)
            assert np.allclose(rebuilt["val_logloss"], committed["val_logloss"], rtol=1e-5)
            config = json.loads((table / "curves" / task / f"{run}.json").read_text())
            again = json.loads((tmp_path / "t" / task / f"{run}.json").read_text())
            assert {k: config[k] for k in ("learning_rate", "max_leaf_nodes")} == \
                {k: again[k] for k in ("learning_rate", "max_leaf_nodes")}


def test_a_boosting_study_without_a_history_keeps_its_slow_best_trial():
    """Without a history the first checks lean on the study's few completed trials, which cannot show a crossing
    to come: a 1,000-round boosting study (bench/boost_table, synth_hard, 15 configs in a seeded order) lost its
    best trial, a slow learning rate still behind at the third report, for 24 % of the loss. With no history
    nothing is pruned before a tenth of the trial (NO_HISTORY_WARMUP)."""
    import optuna
    import pandas as pd

    from lcpipe.integrations.optuna import ForecastPruner

    folder = Path(__file__).resolve().parents[1] / "bench" / "boost_table" / "curves" / "synth_hard"
    curves = [pd.read_csv(f)["val_logloss"].to_numpy() for f in sorted(folder.glob("*.csv"))]
    order = list(np.random.default_rng(2).permutation(len(curves))[:15])
    pruner = ForecastPruner(steps=1000, metric="val_logloss")
    assert pruner.warmup_steps == 100 and ForecastPruner(steps=1000, metric="val_logloss", warmup=0).warmup_steps == 3
    study = optuna.create_study(direction="minimize", pruner=pruner)

    def objective(trial):
        curve = curves[order[trial.number]]
        for step, value in enumerate(curve, start=1):
            trial.report(float(value), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(curve[-1])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(objective, n_trials=len(order))
    assert study.best_value == pytest.approx(min(curves[i][-1] for i in order))
    assert sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials) >= 3  # it still prunes


# -- the review of this session's fixes: each failed on them ----------------------------------------------------------

def test_a_wandb_step_log_with_one_evaluation_or_at_a_steady_stride_is_read(tmp_path):
    """The _step refusal built its message from a second row a live run's first evaluation lacks (IndexError), and
    refused `wandb.log(..., step=global_step)`, whose _step is the real global step."""
    from lcpipe.forecasting.logs import read_curve

    (tmp_path / "one.csv").write_text("_step,train_loss,val_acc\n0,0.9,\n1,0.8,\n2,0.7,\n3,0.6,\n4,0.5,\n5,,0.41\n"
                                      "6,0.45,\n")
    assert len(read_curve(tmp_path / "one.csv", "val_acc")) == 1
    (tmp_path / "global.csv").write_text("_step,val_loss\n" + "".join(f"{500 * k},{1 / k:.4f}\n" for k in range(1, 21)))
    assert list(read_curve(tmp_path / "global.csv", "val_loss").steps[:3]) == [500, 1000, 1500]


def test_whole_epochs_give_the_steps_of_an_epoch_exactly_or_not_at_all():
    """A window of candidate P's gave 980 for 997 steps an epoch validated every 100 steps, and a 10-epoch Lightning
    run validating twice an epoch got none (review)."""
    from lcpipe.forecasting.logs import _whole_epochs_steps

    epochs = np.repeat(np.arange(10.0), 2)
    steps = np.array([[k * 97 + 47, k * 97 + 96] for k in range(10)], dtype=float).ravel()
    assert _whole_epochs_steps(epochs, steps) == 97
    g = np.arange(100, 5 * 997 + 1, 100)
    assert _whole_epochs_steps(((g - 1) // 997).astype(float), (g - 1).astype(float)) is None


def test_a_serialized_schedule_never_replaces_a_schedule_stated_beside_it():
    from lcpipe.forecasting.logs import given_config

    serialized = {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1}}
    for config in ({"schedule": "cosine", "learning_rate": serialized}, {"learning_rate": serialized,
                                                                          "schedule": "cosine"}):
        assert given_config(config, "x") == {"schedule": "cosine", "lr": 0.1}
