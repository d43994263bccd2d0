"""Issue 24's defects re-run as written by a helper at d1b721e (ninth session): what was still wrong, each with a
test that fails on d1b721e. The rest (31 of 33) gave the right answer or one line."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest

import lcpipe
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.logs import config_named, read_curve_dir
from lcpipe.integrations.optuna import ForecastPruner
from tests.helpers import ROOT, cli_in_process

ADABELIEF = ROOT / "tests" / "fixtures" / "adabelief-c10-resnet34"
LM = ROOT / "bench" / "lm_table" / "curves"
PLAIN = {"epochs": 200, "optimizer": "sgd", "lr": 0.1, "schedule": "step", "milestones": [150]}


def _run_with(dest, config: dict):
    """The SGD run of the fixture study, cut to 30 epochs, with `config` as its sidecar; the history is the rest."""
    dest.mkdir()
    source = next(ADABELIEF.glob("resnet34-sgd*.csv"))
    pd.read_csv(source).iloc[:30].to_csv(dest / "mine.csv", index=False)
    (dest / "mine.json").write_text(json.dumps(config))
    return dest


def _history(dest):
    dest.mkdir()
    for path in ADABELIEF.glob("*.csv"):
        if not path.name.startswith("resnet34-sgd"):
            (dest / path.name).write_bytes(path.read_bytes())
            (dest / path.with_suffix(".json").name).write_bytes(path.with_suffix(".json").read_bytes())
    return dest


@pytest.mark.parametrize(("optimizer", "read"), [
    ({"optimizer": {"_target_": "torch.optim.SGD", "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4}},  # Hydra
     {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4}),
    ({"optimizer": {"class_path": "torch.optim.SGD", "init_args": {"lr": 0.1, "momentum": 0.9}}},  # LightningCLI
     {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9}),
    ({"optimizer": {"name": "sgd"}, "lr": 0.1}, {"optimizer": "sgd", "lr": 0.1}),
    ({"optimizer": {"class_path": "torch.optim.SGD", "name": "sgd"}, "lr": 0.1}, {"optimizer": "sgd", "lr": 0.1}),
    ({"optimizer": {"_target_": "torch.optim.Adam", "lr": 0.1}}, {"optimizer": "adam", "lr": 0.1}),
    ({"optimizer": "Adam", "lr": 0.1}, {"optimizer": "adam", "lr": 0.1}),
    ({"optimizer": "torch.optim.SGD", "lr": 0.1}, {"optimizer": "sgd", "lr": 0.1}),
])
def test_an_optimizer_written_as_a_section_is_read_as_its_plain_form(tmp_path, optimizer, read):
    """Helper: `"optimizer": {"name": "sgd"}`, Hydra's `_target_` and LightningCLI's `class_path` were dropped with
    no word (stderr: `config: used lr, milestones, schedule`); the section's momentum and weight decay stayed dotted,
    compared with nothing (review). torch's class names (SGD, torch.optim.Adam) are the history's sgd, adam, and a
    forecast with one equals the forecast with the plain form."""
    history = _history(tmp_path / "history")
    config = {k: v for k, v in PLAIN.items() if k not in ("optimizer", "lr")} | optimizer
    section_dir = _run_with(tmp_path / "s", config)
    (curve,) = read_curve_dir(section_dir)
    assert {k: curve.config.get(k) for k in read} == read, curve.config
    plain = cli_in_process("forecast", "--history", str(history), "--runs",
                           str(_run_with(tmp_path / "plain", PLAIN | read)), "--epochs", "200")
    section = cli_in_process("forecast", "--history", str(history), "--runs", str(section_dir), "--epochs", "200")
    assert plain.code == section.code == 0, section.err
    assert "config: used lr, milestones, optimizer, schedule" in section.err, section.err
    assert section.out == plain.out


@pytest.mark.parametrize("target", ["timm.optim.create_optimizer_v2", "functools.partial"])
def test_a_section_target_that_is_no_optimizer_class_names_no_optimizer(target):
    """Review: the last part of any `_target_` was read as the optimizer (`create_optimizer_v2`, `partial`), and
    the run counted as unlike every history optimizer."""
    assert "optimizer" not in config_named({"optimizer._target_": target, "lr": 0.1})


def test_two_optimizer_sections_that_disagree_name_none():
    """An optimizer named twice, differently, is left as written (as two schedules are): neither is guessed."""
    config = config_named({"optimizer.name": "sgd", "optim._target_": "torch.optim.Adam", "lr": 0.1})
    assert "optimizer" not in config


def test_a_whole_float_length_is_that_length():
    """Helper: `lcpipe.forecast(epochs=50.0)` said `give the planned length as a whole number`, though 50.0 is one
    (a sidecar's 133333.0 is read as 133333)."""
    history = {f"h{i}": list(0.9 - 0.5 * np.exp(-np.arange(1, 51) / (5 + i))) for i in range(6)}
    runs = {"r": list(0.88 - 0.5 * np.exp(-np.arange(1, 11) / 6.5))}
    as_int = lcpipe.forecast(history=history, runs=runs, epochs=50)
    as_float = lcpipe.forecast(history=history, runs=runs, epochs=50.0)
    pd.testing.assert_frame_equal(as_int, as_float)
    with pytest.raises(LcpipeError, match="whole number"):
        lcpipe.forecast(history=history, runs=runs, epochs=50.5)


def test_a_whole_float_length_is_that_length_for_the_pruner_and_the_cli(tmp_path):
    """Review: with lcpipe.forecast(epochs=50.0) read as 50, ForecastPruner(epochs=50.0) and `--epochs 200.0` were
    still refused as no whole number."""
    assert ForecastPruner(epochs=50.0).epochs == 50
    history = _history(tmp_path / "history")
    runs = str(_run_with(tmp_path / "r", PLAIN))
    as_float = cli_in_process("forecast", "--history", str(history), "--runs", runs, "--epochs", "200.0")
    as_int = cli_in_process("forecast", "--history", str(history), "--runs", runs, "--epochs", "200")
    assert as_float.code == as_int.code == 0 and as_float.out == as_int.out, as_float.err
    assert cli_in_process("forecast", "--history", str(history), "--runs", runs, "--epochs", "200.5").code == 2


def _warnings_of(pruner) -> list[str]:
    study = optuna.create_study(direction="minimize", pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial):
        x = trial.suggest_float("x", 0.1, 1.0)
        for i in range(1, 51):
            trial.report(2.0 + x * math.exp(-i / 10), 15 * i)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return 2.0 + x * math.exp(-5)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study.optimize(objective, n_trials=1)
    return [str(w.message) for w in caught]


def test_steps_given_by_name_are_never_read_as_evaluations_in_the_warning():
    """Review: ForecastPruner(steps=50) was told "if steps=50 counts their evaluations": steps= is steps by name."""
    first = _warnings_of(ForecastPruner(steps=50, history=str(LM / "docs"), metric="val_ce"))[0]
    assert "report more often" in first and "counts their evaluations" not in first, first


def test_epochs_that_count_evaluations_are_named_in_the_first_warning_too():
    """Helper: trials reporting every 15 steps to 750 with `epochs=50` were first told `report more often` (3 reports
    fall within step 50), and only after a trial passed step 50 that 50 may count evaluations."""
    first = _warnings_of(ForecastPruner(epochs=50, history=str(LM / "docs"), metric="val_ce"))[0]
    assert "report more often" in first and "if epochs=50 counts their evaluations, give epochs=" in first, first


def test_the_config_line_counts_the_history_the_forecast_read(tmp_path):
    """Helper: with 2 of 7 history curves left out as diverged, stderr said `7 of 7 history curves state them`."""
    history = _history(tmp_path / "history")
    names = sorted(history.glob("*.csv"))
    for path in names[:2]:
        table = pd.read_csv(path)
        table.loc[5, "test_acc"] = np.inf
        table.to_csv(path, index=False)
    out = cli_in_process("forecast", "--history", str(history), "--runs", str(_run_with(tmp_path / "r", PLAIN)),
                         "--epochs", "200")
    assert out.code == 0, out.err
    assert f"{len(names) - 2} of {len(names) - 2} history curves state them" in out.err, out.err


def test_the_config_line_leaves_out_history_curves_with_a_missed_evaluation(tmp_path):
    """Review: a loss history curve holding a missed evaluation logged as 0 is left out of the forecast and named, yet
    the config line still counted it (40 of 40 where the forecast read 38)."""
    history = tmp_path / "history"
    history.mkdir()
    for path in sorted((LM / "docs").glob("*")):
        (history / path.name).write_bytes(path.read_bytes())
    csvs = sorted(history.glob("*.csv"))
    for path in csvs[:2]:
        table = pd.read_csv(path)
        table.loc[20, "val_ce"] = 0.0
        table.to_csv(path, index=False)
    runs = tmp_path / "runs"
    runs.mkdir()
    for path in sorted((LM / "code").glob("t0[0-2].csv")):
        pd.read_csv(path).iloc[:10].to_csv(runs / path.name, index=False)
        (runs / path.with_suffix(".json").name).write_bytes(path.with_suffix(".json").read_bytes())
    out = cli_in_process("forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--mode",
                         "min", "--epochs", "50")
    assert out.code == 0, out.err
    assert "reads 0 at step" in out.err and f"{len(csvs) - 2} of {len(csvs) - 2} history curves" in out.err, out.err


# -- a second review, of the fixes above (helper, on a scratch clone at 8429f31) -----------------------------------

@pytest.mark.parametrize(("config", "read"), [
    ({"optimizer._target_": "optax.sgd", "optimizer.learning_rate": 0.1, "optimizer.momentum": 0.9},  # JAX's optax
     {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9}),
    ({"optimizer": "optax.adamw"}, {"optimizer": "adamw"}),
    # a warmup's epochs (or any length) in the section is no run's length: not lifted (it was, and moved the lr drop)
    ({"optimizer.name": "SGD", "optimizer.warmup.epochs": 5, "optimizer.epochs": 400, "milestones": [80]},
     {"optimizer": "sgd", "epochs": None, "milestones": [80]}),
    # one setting stated in two sections, or per parameter group: neither is lifted
    ({"optimizer.name": "sgd", "optimizer.lr": 0.1, "optim.lr": 0.2}, {"optimizer": "sgd", "lr": None}),
    ({"optimizer.name": "sgd", "optimizer.params.0.lr": 0.1, "optimizer.params.1.lr": 0.01},
     {"optimizer": "sgd", "lr": None}),
    # a scheduler in the section is read as the flat layout's (a schedule, so no step drop at the milestone)
    ({"optimizer.name": "SGD", "optimizer.scheduler": "cosine", "milestones": [80]},
     {"optimizer": "sgd", "schedule": "cosine"}),
    ({"optimizer._target_": "torch.optim.SGD", "optimizer._partial_": True}, {"optimizer": "sgd", "_partial_": None}),
])
def test_an_optimizer_sections_settings_are_lifted_only_where_one_plain_key_means_them(config, read):
    """Review: optax's optimizers are functions (optax.sgd) and were dropped with the factories; a section's
    `warmup.epochs` became the run's `epochs`, against which milestones are placed; two sections' lr, or param groups',
    were picked by order; Hydra's `_partial_` became a hyper-parameter; a section's `scheduler` stayed unread."""
    named = config_named(config)
    assert {k: named.get(k) for k in read} == read, named


def test_every_warning_of_lcpipe_forecast_points_at_the_callers_line(tmp_path):
    """Review: the history reader's notes (a study's subfolders not read, repeated curves) pointed into lcpipe."""
    history = tmp_path / "h"
    (history / "inner").mkdir(parents=True)
    for i in range(4):
        values = 0.9 - 0.5 * np.exp(-np.arange(1, 21) / (4 + i))
        pd.DataFrame({"epoch": range(1, 21), "test_acc": values}).to_csv(history / f"h{i}.csv", index=False)
    (history / "h3.csv").write_bytes((history / "h2.csv").read_bytes())  # a repeated curve, config and all
    for name in ("h2", "h3"):
        (history / f"{name}.json").write_text('{"lr": 0.1}')
    (history / "inner" / "x.csv").write_bytes((history / "h0.csv").read_bytes())  # a subfolder not read
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lcpipe.forecast(history=str(history), runs={"r": list(0.88 - 0.5 * np.exp(-np.arange(1, 8) / 4.5))},
                        epochs=20)
    said = " ".join(str(w.message) for w in caught)
    assert "are not read" in said and "repeat" in said, said
    assert {w.filename for w in caught} == {__file__}, [(w.filename, str(w.message)[:60]) for w in caught]
