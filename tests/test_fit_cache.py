"""The history's fitted forecaster is kept by content: a new pruner, process or worker reuses the fit
(in the process and on disk) and forecasts exactly as a fresh fit does; any change of content,
settings or code is a new fit; a bad cache file or folder costs speed, never a wrong forecast."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import replace

import numpy as np
import pytest

from lcpipe.curve import Series
from lcpipe.forecasting import fit_cache
from lcpipe.forecasting.predictors.auto import Auto
from lcpipe.integrations.optuna import ForecastPruner
from tests.helpers import curve_csv, learning_curve


def history(n: int = 12, epochs: int = 30) -> list[Series]:
    """Two clusters (datasets), so the final band is calibrated: the slow part of a fit."""
    return [Series(f"h{i}", learning_curve(epochs, final=0.6 + 0.03 * i, rate=0.1 + 0.01 * i, noise=0.005, seed=i),
                   config={"lr": 0.1 * (1 + i % 3), "dataset": "a" if i % 2 else "b"}) for i in range(n)]


def forecast(auto: Auto, epochs: int = 30) -> np.ndarray:
    fc = auto.forecast(Series("run", learning_curve(epochs, final=0.7, rate=0.12, seed=99)[:8], config={"lr": 0.2}),
                       epochs)
    return np.concatenate([fc.mean, fc.lower, fc.upper])


@pytest.fixture
def fresh(monkeypatch):
    """No fit of this process's cache: what a new process sees."""
    monkeypatch.setattr(fit_cache, "_IN_PROCESS", {})
    monkeypatch.setattr(fit_cache, "_ON_DISK", {})


def refuse_fits(monkeypatch):
    def no_fit(self, sources):
        raise AssertionError("fitted again")
    monkeypatch.setattr(Auto, "fit", no_fit)


def test_a_new_process_reads_the_fit_from_disk_and_forecasts_alike(tmp_path, fresh, monkeypatch):
    first = fit_cache.fitted(Auto(), history(), (30,), tmp_path)
    assert first.final_q_ is not None and len(list(tmp_path.glob("*.npz"))) == 1
    expected = forecast(first)
    monkeypatch.setattr(fit_cache, "_IN_PROCESS", {})
    refuse_fits(monkeypatch)
    again = fit_cache.fitted(Auto(), history(), (30,), tmp_path)
    assert again is not first and (30, ()) in again._axes
    np.testing.assert_array_equal(forecast(again), expected)


def test_a_loss_fit_of_one_study_keeps_its_half_life_on_disk(tmp_path, fresh, monkeypatch):
    """A loss history of one study weighs a run's prefix by auto.sibling_recency_series, not `recency`: the
    stored fit carries the half-life it chose, so a worker reading it forecasts as the process that fitted it."""
    t = np.arange(1, 31)
    losses = [Series(f"l{i}", -np.log(0.4 + 0.05 * i + np.exp(-t / (5 + i))), bounded=False,
                     config={"dataset": "d", "lr": 0.1 * (1 + i % 3)}) for i in range(12)]
    run = Series("run", -np.log(0.5 + np.exp(-t[:8] / 6) - 0.05 * (t[:8] > 6)), bounded=False, config={"lr": 0.2})
    first = fit_cache.fitted(Auto(), losses, (30,), tmp_path)
    assert first.shift_recency_ == Auto().sibling_recency_series != Auto().recency
    expected = first.forecast(run, 30).mean
    monkeypatch.setattr(fit_cache, "_IN_PROCESS", {})
    refuse_fits(monkeypatch)
    again = fit_cache.fitted(Auto(), losses, (30,), tmp_path)
    assert again is not first
    np.testing.assert_array_equal(again.forecast(run, 30).mean, expected)


def test_in_the_process_the_same_content_is_one_fit(tmp_path, fresh, monkeypatch):
    monkeypatch.setenv(fit_cache.ENV, str(tmp_path))  # where the default folder would be
    first = fit_cache.fitted(Auto(), history(), (30,), False)
    refuse_fits(monkeypatch)
    assert fit_cache.fitted(Auto(), history(), (30,), False) is first
    assert not list(tmp_path.iterdir())  # False: not even the default folder is written


def test_the_process_keeps_the_most_recent_fits_only(fresh):
    for n in range(3, 3 + fit_cache.IN_PROCESS + 2):
        fit_cache.fitted(Auto(calibrate=False), history(n), (), False)
    assert len(fit_cache._IN_PROCESS) == fit_cache.IN_PROCESS
    assert fit_cache.content_key(Auto(calibrate=False), history(3)) not in fit_cache._IN_PROCESS


def test_content_settings_and_code_each_make_a_new_key():
    base = fit_cache.content_key(Auto(), history())
    changed = history()
    changed[3] = Series("h3", changed[3].values.copy(), config=changed[3].config)
    changed[3].values[-1] += 1e-9
    assert fit_cache.content_key(Auto(), changed) != base
    renamed = [Series(f"other{i}", s.values, s.lr, s.config) for i, s in enumerate(history())]
    assert fit_cache.content_key(Auto(), renamed) == base  # a file name is no content
    assert fit_cache.content_key(Auto(final_quantile=0.9), history()) != base
    # an accuracy history ignores a loss's band level, a loss history an accuracy's
    assert fit_cache.content_key(Auto(final_quantile_series=0.9), history()) == base
    losses = [Series(s.name, -np.log(1.5 - s.values), s.lr, s.config, bounded=False) for s in history()]
    loss_base = fit_cache.content_key(Auto(), losses)
    assert fit_cache.content_key(Auto(final_quantile_series=0.9), losses) != loss_base
    assert fit_cache.content_key(Auto(final_quantile=0.9), losses) == loss_base
    assert fit_cache.content_key(Auto(), history()[::-1]) != base
    as_list = [Series(s.name, s.values, s.lr, {**s.config, "milestones": [10, 20]}) for s in history()]
    as_tuple = [Series(s.name, s.values, s.lr, {**s.config, "milestones": (10, 20)}) for s in history()]
    assert fit_cache.content_key(Auto(), as_list) != fit_cache.content_key(Auto(), as_tuple)  # read differently
    code = fit_cache._CODE[0]
    try:
        fit_cache._CODE[0] = b"another lcpipe"
        assert fit_cache.content_key(Auto(), history()) != base
    finally:
        fit_cache._CODE[0] = code


def compression_field(data: bytes) -> bytes:
    """A zip's central-directory compression method set to one zipfile does not know (NotImplementedError)."""
    i = data.find(b"PK\x01\x02") + 10
    return data[:i] + (99).to_bytes(2, "little") + data[i + 2:]


def encrypted_flag(data: bytes) -> bytes:
    """A zip entry's flag bits saying it is encrypted (RuntimeError: a password is required)."""
    i = data.find(b"PK\x01\x02") + 8
    return data[:i] + (1).to_bytes(2, "little") + data[i + 2:]


@pytest.mark.parametrize("damage", [lambda b: b"not a fit", lambda b: b"", lambda b: b[:len(b) // 2], compression_field,
                                    encrypted_flag], ids=["garbage", "empty", "truncated", "compression", "encrypted"])
def test_a_corrupt_file_is_refitted_and_rewritten(tmp_path, fresh, monkeypatch, damage):
    expected = forecast(fit_cache.fitted(Auto(), history(), (30,), tmp_path))
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(damage(path.read_bytes()))
    monkeypatch.setattr(fit_cache, "_IN_PROCESS", {})
    monkeypatch.setattr(fit_cache, "_ON_DISK", {})
    np.testing.assert_array_equal(forecast(fit_cache.fitted(Auto(), history(), (30,), tmp_path)), expected)
    with np.load(path, allow_pickle=False) as f:  # rewritten, and plain arrays: no pickle in it
        assert set(f.files) >= {"values", "lengths", "meta", "axis0"}


def test_a_folder_that_is_a_file_is_one_warning_and_the_same_forecast(tmp_path, fresh):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.warns(RuntimeWarning, match="cannot write the fit cache"):
        auto = fit_cache.fitted(Auto(), history(), (30,), blocker / "fits")
    np.testing.assert_array_equal(forecast(auto), forecast(Auto().fit(history())))


def test_an_unwritable_folder_given_is_said_as_given_and_at_the_callers_line(tmp_path, fresh, monkeypatch):
    """It said "set LCPIPE_CACHE_DIR" where fit_cache=DIR was given (which the variable does not override), and
    pointed at fit_cache.py."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(fit_cache, "_warned", set())
    with pytest.warns(RuntimeWarning, match=r"\(give fit_cache= a writable folder\)") as caught:
        fit_cache.fitted(Auto(), history(), (30,), blocker / "fits")
    assert caught[0].filename == __file__


def test_lcpipe_cache_dir_and_fit_cache_name_the_same_folder(tmp_path, fresh, monkeypatch):
    """LCPIPE_CACHE_DIR=DIR wrote DIR/fits/<key>.npz and fit_cache=DIR wrote DIR/<key>.npz: workers given the
    one and the other fitted the history each."""
    monkeypatch.setenv(fit_cache.ENV, str(tmp_path))
    fit_cache.fitted(Auto(), history(), (30,), None)
    monkeypatch.setattr(fit_cache, "_IN_PROCESS", {})
    refuse_fits(monkeypatch)
    fit_cache.fitted(Auto(), history(), (30,), tmp_path)  # read from the file the other wrote, not fitted again


def test_configs_json_cannot_carry_stay_in_the_process(tmp_path, fresh):
    odd = [Series(s.name, s.values, s.lr, {**s.config, "milestones": (10, 20)}) for s in history()]
    fit_cache.fitted(Auto(), odd, (30,), tmp_path)
    assert not list(tmp_path.glob("*.npz"))


def test_a_pruner_in_another_process_does_not_fit_the_history_again(tmp_path, fresh):
    """A worker process with a new ForecastPruner on a history this process has fitted finds the fit
    on disk (Auto.fit is never called there) and prunes as a pruner fitting it itself does."""
    folder = tmp_path / "history"
    folder.mkdir()
    for i in range(8):
        (folder / f"h{i}.csv").write_text(curve_csv(learning_curve(20, final=0.6 + 0.04 * i, rate=0.15, seed=i)))
    script = textwrap.dedent(f"""
        import sys, optuna
        from lcpipe.forecasting.predictors.auto import Auto
        from lcpipe.integrations.optuna import ForecastPruner
        from tests.helpers import learning_curve
        fits = []
        fit = Auto.fit
        Auto.fit = lambda self, sources: fits.append(len(sources)) or fit(self, sources)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        pruner = ForecastPruner(20, {str(folder)!r}, fit_cache=sys.argv[1] if sys.argv[1] != "off" else False)
        study = optuna.create_study(direction="maximize", pruner=pruner, sampler=optuna.samplers.RandomSampler(0))
        pruned = []
        def objective(trial):
            x = trial.suggest_float("x", 0.3, 0.9)
            for step, acc in enumerate(learning_curve(20, final=x, rate=0.15, seed=trial.number), start=1):
                trial.report(float(acc), step)
                if trial.should_prune():
                    pruned.append(trial.number)
                    raise optuna.TrialPruned()
            return float(acc)
        study.optimize(objective, n_trials=12)
        print("history fits", sum(n >= 8 for n in fits), "pruned", pruned)
    """)
    root = os.path.dirname(os.path.dirname(__file__))
    alone = subprocess.run([sys.executable, "-c", script, "off"], capture_output=True, text=True, timeout=120, cwd=root)
    assert alone.returncode == 0, alone.stderr
    cache = tmp_path / "cache"
    from lcpipe.curve import series_of
    from lcpipe.forecasting.logs import learnable_history, read_curve_dir
    curves = learnable_history(read_curve_dir(folder, "test_acc"))
    from lcpipe.integrations.optuna import ForecastPruner
    pruners_auto = ForecastPruner(20)._template  # ForecastPruner's default forecaster, as it builds it
    as_the_pruner_reads = [replace(series_of(c, "test_acc"), study=None) for c in curves]  # no study folders
    fit_cache.fitted(pruners_auto, as_the_pruner_reads, (20,), cache)  # this process: the fit
    warm = subprocess.run([sys.executable, "-c", script, str(cache)], capture_output=True, text=True, timeout=120,
                          cwd=root)
    assert warm.returncode == 0, warm.stderr
    first, second = alone.stdout.split(), warm.stdout.split()
    assert int(first[2]) >= 1 and int(second[2]) == 0, (first, second)  # the worker never fitted the history
    assert first[4:] == second[4:] and first[4:] != ["[]"]  # and pruned the same trials


def test_fit_cache_must_be_a_folder_none_or_false():
    with pytest.raises(ValueError, match="fit_cache=1: a folder"):
        ForecastPruner(20, fit_cache=1)
    with pytest.raises(ValueError, match="fit_cache=True"):
        ForecastPruner(20, fit_cache=True)


def test_a_fit_read_from_disk_caps_its_band_as_the_fresh_fit_does(tmp_path, fresh, monkeypatch):
    """Review: the stored fit lacked `siblings_`, so a fit read back from disk skipped the cap that holds a band
    calibrated cluster by cluster within the spread of the history's finals: a second pruner process, sharing the
    cache, drew a band twice as wide as the first from the same history and prefix (0.32 against 0.17 here). Two
    datasets whose curves rise at different paces, all ending within half a point: forecasting one from the other
    errs far more than that."""
    curves = [Series(f"{d}{i}", learning_curve(30, final=0.80 + 0.001 * i, rate=rate + 0.01 * i, noise=0.004,
                                               seed=10 * i + (d == "b")), config={"dataset": d, "lr": 0.1})
              for d, rate in (("a", 0.5), ("b", 0.08)) for i in range(5)]
    run = Series("run", learning_curve(30, final=0.7, rate=0.6, seed=99)[:8], config={"lr": 0.2})

    def band(auto: Auto) -> np.ndarray:
        fc = auto.forecast(run, 30)
        return np.concatenate([fc.mean, fc.lower, fc.upper])

    first = fit_cache.fitted(Auto(), curves, (30,), tmp_path)
    assert first.final_q_ is not None and first.siblings_ is False
    expected = band(first)
    monkeypatch.setattr(fit_cache, "_IN_PROCESS", {})
    refuse_fits(monkeypatch)
    again = fit_cache.fitted(Auto(), curves, (30,), tmp_path)
    assert again is not first
    np.testing.assert_array_equal(band(again), expected)


def test_every_setting_of_auto_keys_its_fit():
    """Review: a setting left out of SETTINGS lets two forecasters of different settings share one cached fit and its
    calibration (config_weight_series once; noise_floor could have). Every argument of Auto is a setting."""
    import inspect

    assert set(inspect.signature(Auto.__init__).parameters) - {"self"} == set(fit_cache.SETTINGS)
