"""Defects a hostile-input pass found on 2026-12-05, each pinned by the behaviour a user depends on."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

import lcpipe
from lcpipe.config import Params, missing_keys, validate
from lcpipe.errors import LcpipeError
from lcpipe.integrations.optuna import ForecastPruner, PrunerError
from lcpipe.metric import Metric
from lcpipe.pipeline.params_check import check_params
from tests.helpers import with_params
from tests.test_red_team_losses import HISTORY, _forecast, _one_run_folders, cli


@pytest.mark.parametrize("name", ["top5err", "top1error", "top5_err", "ValCE", "valMSE", "val_nmse", "val_eer",
                                  "val_ter", "valMSE_step", "valCE_epoch"])
def test_error_and_loss_names_written_as_one_word_or_an_acronym_are_minimised(name):
    """`top5err` was read as a top-5 accuracy and `ValCE` as a score: the worst run was the one kept."""
    assert Metric.infer(name).mode == "min"


@pytest.mark.parametrize("name", ["IoU", "mIoU", "mAP", "top5", "lossless_acc", "per_class_acc", "F1Score",
                                  "acc_per_class", "val_acc_per_token", "eval_samples_per_second",
                                  "reward_per_episode"])
def test_scores_stay_scores(name):
    assert Metric.infer(name).mode == "max"


def test_a_sidecar_integer_of_thousands_of_digits_is_one_line(tmp_path: Path):
    """Past Python's int-conversion limit (4,300 digits) the reader raised a 58-line traceback."""
    history, runs = _one_run_folders(tmp_path, ["2.0", "1.5", "1.2", "1.1", "1.0"], '{"lr": 1' + "0" * 5000 + "}")
    out = _forecast(history, runs)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "r.json: cannot read (an integer of 5001 digits" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_params_integer_of_thousands_of_digits_is_one_line(tmp_path: Path):
    (tmp_path / "p.yaml").write_text("train:\n  lr: 1" + "0" * 5000 + "\n")
    out = cli("evaluate", "--curves", str(tmp_path), "--params", str(tmp_path / "p.yaml"), "--cutoffs", "5")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "p.yaml: a value it holds cannot be read as a number" in out.stderr


def test_a_history_loss_logged_as_zero_does_not_blow_every_band_up(tmp_path: Path):
    """One history curve whose val_loss reads 0 from its 16th epoch (a missed evaluation) put every run's
    80 % band at [0, 1e10]: a 0 is read a decade below the least real value, not at 1e-12."""
    history = dict(HISTORY)
    history["zeroed"] = list(np.r_[np.array(HISTORY["h1"])[:15], np.zeros(15)])
    runs = {"a": list(np.array(HISTORY["h2"])[:8] * 1.05), "b": list(np.array(HISTORY["h3"])[:8] * 0.97)}
    with pytest.warns(UserWarning, match="zeroed left out: val_loss reads 0 at epoch 16") as seen:
        table = lcpipe.forecast(history=history, runs=runs, epochs=30, metric="val_loss")
    assert seen[0].filename == __file__  # the warning points at the caller's line
    levels = np.array([runs["a"][-1], runs["b"][-1]])
    assert np.all(np.isfinite(table["upper"])) and np.all(table["upper"] < 20 * levels), table


def test_steps_is_the_python_synonym_of_the_clis_steps():
    """lcpipe.forecast(steps=...) raised a bare TypeError; epochs= counts evaluations of step-logged runs."""
    runs = {"a": list(np.array(HISTORY["h2"])[:8] * 1.03), "b": list(np.array(HISTORY["h3"])[:8] * 0.98)}
    by_steps = lcpipe.forecast(history=HISTORY, runs=runs, steps=30, metric="val_loss")
    by_epochs = lcpipe.forecast(history=HISTORY, runs=runs, epochs=30, metric="val_loss")
    pd.testing.assert_frame_equal(by_steps.drop(columns="forecast"), by_epochs.drop(columns="forecast"))
    with pytest.raises(LcpipeError, match="give the planned length once"):
        lcpipe.forecast(history=HISTORY, runs=runs, metric="val_loss", epochs=30, steps=30)
    with pytest.raises(LcpipeError, match="run 'a' \\(given in Python\\) carries no planned length: give the planned "
                                          "length, epochs="):  # lists state no plan: none given is one line too
        lcpipe.forecast(history=HISTORY, runs=runs, metric="val_loss")


def test_a_mode_that_contradicts_the_name_warns_as_the_pruner_does():
    runs = {"a": list(np.array(HISTORY["h2"])[:8] * 1.03), "b": list(np.array(HISTORY["h3"])[:8] * 0.98)}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        lcpipe.forecast(history=HISTORY, runs=runs, epochs=30, metric="val_loss", mode="max")
    assert any("the name says lower is better; mode max is used" in str(w.message) for w in seen)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the name's own direction, given: no warning
        lcpipe.forecast(history=HISTORY, runs=runs, epochs=30, metric="val_loss", mode="min")


def test_runs_of_the_wrong_shape_are_named_on_one_line():
    with pytest.raises(LcpipeError) as err:
        lcpipe.forecast(history=HISTORY, runs=pd.Series([1.0, 2.0, 3.0]), epochs=30, metric="val_loss")
    assert "\n" not in str(err.value) and "runs=" in str(err.value)


# -- ForecastPruner -------------------------------------------------------------------------------------

README_HISTORY = Path(__file__).resolve().parents[1] / "data" / "history" / "cifar10-plain-vs-resnet"


def _curve(x: float, seed: int, n: int = 30) -> dict[int, float]:
    """Runs of one recipe: a final of 0.5 + 0.4 x, reached along one shape, evaluation noise 0.005."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1)
    final = 0.5 + 0.4 * x
    return {int(s): float(v) for s, v in zip(t, final * (1 - 0.7 * np.exp(-t / 8)) + rng.normal(0, 0.005, n))}


def test_a_trial_ahead_of_every_finished_trial_is_not_pruned_on_a_forecaster_this_study_proves_wrong():
    """With the README's 8-curve history, the forecaster ranked this study's three finished trials from step 3
    exactly against their finals (0.776 / 0.792 / 0.800 for finals 0.842 / 0.776 / 0.709), and on that
    ranking pruned at step 3 a trial ahead of all of them at every step, the best of the study (red team: the
    best trial lost in 4 of 10 such studies). The pairs of finished trials now show how far off a difference
    of two forecasts from that step runs in this study, and the pair rule is at least that uncertain."""
    pruner = ForecastPruner(epochs=30, history=README_HISTORY, fit_cache=False)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    for n, x in [(0, 0.55), (1, 0.72), (2, 0.6), (3, 0.54), (4, 0.42), (5, 0.65), (6, 0.44), (7, 0.89)]:
        trial, curve = study.ask(dist), _curve(x, seed=n)
        steps = curve if n in (0, 1, 7) else {s: curve[s] for s in (1, 2, 3)}
        for s, v in steps.items():
            trial.report(v, s)
        if n in (0, 1, 7):
            study.tell(trial, curve[30])
        else:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    leader, curve = study.ask(dist), _curve(0.96, seed=8)
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    for s in range(1, 13):
        assert all(curve[s] > t.intermediate_values[s] for t in finished)  # ahead of every finished trial
        leader.report(curve[s], s)
        assert not leader.should_prune(), f"the leader was pruned at step {s}"


@pytest.mark.parametrize("kw, says", [
    ({"forecaster": "auto"}, "forecaster='auto': give an unfitted lcpipe Auto"),
    ({"history": 3}, "history=3: give a folder or file"), ({"history": ""}, "history='': give a folder"),
    ({"history": []}, "history=[]: give a folder"), ({"history": {"a": [0.5]}}, "history={'a': [0.5]}: give"),
])
def test_pruner_arguments_of_the_wrong_type_are_one_line_at_construction(kw, says):
    with pytest.raises(PrunerError) as err:
        ForecastPruner(epochs=30, **kw)
    assert says in str(err.value)


def test_a_minimized_study_with_a_history_and_no_metric_says_to_name_the_metric():
    """It said `curve 'plainnet20' has no column 'loss'`, a column the user never named."""
    study = optuna.create_study(direction="minimize", pruner=ForecastPruner(epochs=30, history=README_HISTORY))
    trial = study.ask()
    for s in range(1, 4):
        trial.report(2.0 - 0.1 * s, s)
    with pytest.raises(PrunerError, match="give metric= the column the trials report"):
        trial.should_prune()


def test_final_forecast_refuses_a_study_or_trial_that_is_not_one_in_one_line():
    pruner = ForecastPruner(epochs=30, history=README_HISTORY)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    trial = study.ask()
    trial.report(0.3, 1)
    with pytest.raises(PrunerError, match="study=None: give the optuna.Study"):
        pruner.final_forecast(None, trial)
    with pytest.raises(PrunerError, match="trial=4: give the trial itself"):
        pruner.final_forecast(study, 4)


@pytest.mark.parametrize("name", ["neg_log_loss", "neg_mean_squared_error", "neg_root_mean_squared_error",
                                  "test_neg_log_loss", "mean_test_neg_log_loss"])
def test_scikit_learns_negated_losses_are_maximised_series_not_refused(name):
    """`neg_log_loss` (values < 0) was a loss that must be >= 0: refused, and no --mode could help."""
    metric = Metric.infer(name)
    assert (metric.mode, metric.kind) == ("max", "any") and not metric.wrong(np.array([-2.1, -0.4])).size
    assert Metric.infer("neg_log_likelihood").mode == "min"  # the NLL itself is a loss


@pytest.mark.parametrize("text, says", [("[1, 2, 3]", "holds a list"), ('"hello"', "holds text"),
                                        ("3", "holds a number")])
def test_a_sidecar_that_is_no_map_of_settings_is_one_line(tmp_path: Path, text, says):
    """A list or a string as a run's config was ignored in silence, as if there were none."""
    history, runs = _one_run_folders(tmp_path, ["2.0", "1.5", "1.2", "1.1", "1.0"], text)
    out = _forecast(history, runs)
    assert out.returncode != 0 and says in out.stderr and "Traceback" not in out.stderr


def test_an_empty_sidecar_is_no_config(tmp_path: Path):
    history, runs = _one_run_folders(tmp_path, ["2.0", "1.5", "1.2", "1.1", "1.0"], "")
    assert _forecast(history, runs).returncode == 0


def test_an_lstm_that_would_train_until_killed_is_refused(tmp_path: Path):
    (tmp_path / "p.yaml").write_text("lstm:\n  steps: 1000000000\n")
    out = cli("evaluate", "--curves", str(tmp_path), "--params", str(tmp_path / "p.yaml"), "--cutoffs", "5")
    assert out.returncode != 0 and "lstm.steps" in out.stderr and "at most 100000" in out.stderr


@pytest.mark.parametrize("scale", [1e39, 1e300, 1e-46])
def test_values_past_float32s_range_are_not_read_as_a_copy_of_the_history(scale):
    """Cast to 32-bit floats they all became inf (or 0), and a run 'matched' a history curve it differs from."""
    history = {k: list(np.array(v) * scale) for k, v in HISTORY.items()}
    runs = {"a": list(np.array(HISTORY["h2"])[:8] * 1.03 * scale),
            "b": list(np.array(HISTORY["h3"])[:8] * 0.98 * scale)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        table = lcpipe.forecast(history=history, runs=runs, epochs=30, metric="val_loss")
    assert list(table["run"]) == ["a", "b"]


def test_a_run_far_below_the_history_is_not_clipped_to_a_floor():
    """A floor taken from the history's least value (review) showed a run 15x below it as 0 [0, 0]."""
    t = np.arange(1, 31)
    history = {f"h{i}": list(0.2 + 2.0 * np.exp(-t / (4 + i))) for i in range(6)}
    runs = {"good": list((0.005 + 1.0 * np.exp(-t / 2.5))[:12]), "ok": list((0.25 + 1.9 * np.exp(-t / 5.5))[:12])}
    table = lcpipe.forecast(history=history, runs=runs, epochs=30, metric="val_loss").set_index("run")
    assert 0 < table.loc["good", "lower"] < table.loc["good", "final"] < table.loc["good", "upper"] < 0.05


def test_history_curves_that_fall_to_zero_are_kept_and_a_zero_logged_mid_curve_is_named():
    """A training error reaching 0 is a real curve (the review: 8 such curves all left out, then 'the history
    holds 0 curves'); a 0 straight after values near the peak is a missed evaluation, left out with a warning."""
    t = np.arange(1, 41)
    history = {f"h{i}": list(np.round(np.maximum(0.9 * np.exp(-t / (4 + i)) - 0.05, 0.0), 4)) for i in range(8)}
    runs = {"r0": list(np.round(0.9 * np.exp(-t[:12] / 5.5) + 0.001, 4))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = lcpipe.forecast(history=history, runs=runs, epochs=40, metric="train_err")
    assert np.isfinite(table.loc[0, "final"])
    history["logged_0"] = list(np.r_[np.array(history["h3"])[:5], np.zeros(35)])
    with pytest.warns(UserWarning, match="logged_0 left out: train_err reads 0 at epoch 6 straight after"):
        lcpipe.forecast(history=history, runs=runs, epochs=40, metric="train_err")


def test_a_history_given_as_a_generator_of_paths_still_works():
    pruner = ForecastPruner(epochs=30, history=iter(sorted(README_HISTORY.glob("*.csv"))))
    assert len(pruner._history_curves) == 8  # noqa: SLF001


# -- the pipeline's params (check_params, before DVC removes any stage's outputs) ------------------------

FIXTURE_HISTORY = Path(__file__).resolve().parents[1] / "data" / "history" / "cifar10-plain-vs-resnet"


@pytest.mark.parametrize("overrides, says", [
    ({"train__batch_size": 10**12}, "train.batch_size: 1000000000000 is not allowed; it must be at most 65,536"),
    ({"train__devices": 10**6}, "train.devices: 1000000 is not allowed; it must be at most 64"),
    ({"data__dataset": "synthetic", "data__synthetic_size": 1000},
     "data.synthetic_size: 1000 is not allowed; 768 images of 1000x1000 would take 9 GB"),
])
def test_sizes_that_cannot_fit_any_machine_are_refused_with_the_params(overrides, says):
    """train.width 10**6 asked the allocator for 4 TB: a traceback after DVC removed the curves (red team)."""
    with pytest.raises(LcpipeError) as err:
        validate(with_params(Params(), **overrides))  # as load_params, which check_params' stage runs
    assert says in str(err.value)


def test_a_cifar_root_that_is_a_file_stops_check_params(tmp_path):
    """The prepare stage removed data/prepared/ and then failed: 'could not load or download ... into README.md/'."""
    (tmp_path / "f").write_text("x")
    with pytest.raises(LcpipeError, match="data.root: .* is a file; give the folder"):
        check_params(with_params(Params(), data__dataset="cifar10", data__root=str(tmp_path / "f"),
                                 sweep__history=str(FIXTURE_HISTORY), stop__history=str(FIXTURE_HISTORY)),
                     tmp_path / "ok")


def test_missing_keys_names_what_params_yaml_does_not_state(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("poly:\n  fit_on: pooled\n")
    missing = missing_keys(path)
    assert "poly.degree" in missing and "poly.fit_on" not in missing and "train.epochs" in missing
    assert missing_keys(Path(__file__).resolve().parents[1] / "params.yaml") == []  # the shipped file states all


def test_a_sexagesimal_number_is_one_line_as_yaml_1_1_and_1_2_disagree(tmp_path):
    """`0:2.0` is 2.0 to lcpipe (YAML 1.1) and a string to DVC (1.2): its lock file held a value lcpipe never read."""
    from lcpipe.config import load_params
    (tmp_path / "params.yaml").write_text("auto:\n  recency: 0:2.0\n")
    with pytest.raises(LcpipeError, match="'0:2.0' means one value to lcpipe"):
        load_params(tmp_path / "params.yaml")


def test_a_window_that_leaves_no_cutoff_names_the_window_not_the_cutoff():
    """`features.window=60` said `predict.cutoff: 20 is not allowed; it must lie in [61, 49]`."""
    with pytest.raises(LcpipeError, match="predict.cutoff: features.window 60 leaves no cutoff of a 50-epoch run"):
        validate(with_params(Params(), features__window=60))
