"""Fifth 2026-12-06 session: each test fails on the code before its fix (35ed85c)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lcpipe.config import Params
from lcpipe.errors import LcpipeError
from lcpipe.pipeline.params_check import check_paths


def _percent_history(folder):
    folder.mkdir()
    for i in range(3):
        rows = "".join(f"{e},{40 + e + i}\n" for e in range(1, 51))
        (folder / f"r{i}.csv").write_text("epoch,test_acc\n" + rows)
    return folder


@pytest.mark.parametrize("section", ["stop", "sweep"])
def test_a_pipeline_history_in_percent_is_told_to_divide_not_to_give_a_kind_it_has_no_key_for(tmp_path, section):
    """A history logged in percent: the CLI's advice names --kind (and kind= in Python), which params.yaml has no
    key for; in the pipeline the kind follows features.metric (early_stop reads test_acc), so the line says what
    to do there: divide the column by 100."""
    history = str(_percent_history(tmp_path / "pct"))
    p = Params()
    p = replace(p, stop=replace(p.stop, at=[5], history=history)) if section == "stop" else \
        replace(p, sweep=replace(p.sweep, history=history))
    with pytest.raises(LcpipeError) as caught:
        check_paths(p)
    message = str(caught.value)
    assert message.startswith(f"{section}.history: ") and "r0.csv" in message and "divide it by 100" in message
    assert "--kind" not in message and "kind=" not in message and "\n" not in message


def _loss_runs(folder, n=4, seed=0, length=30):
    """A study folder of loss curves whose sidecars state a LoRA sweep's keys, no dataset or arch."""
    import json

    import numpy as np

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    t = np.arange(1, length + 1)
    for i in range(n):
        loss = 1.0 + 0.1 * i + seed * 0.3 + 2.0 * np.exp(-t / (4 + i)) + rng.normal(0, 0.01, length)
        (folder / f"t{i}.csv").write_text("step,val_ce\n" + "".join(f"{15 * e},{v:.5f}\n" for e, v in zip(t, loss)))
        (folder / f"t{i}.json").write_text(json.dumps({"lr": 1e-3 * (i + 1), "rank": 4 * (i + 1)}))


def test_a_history_of_several_study_folders_that_name_no_dataset_is_calibrated_as_foreign(tmp_path):
    """Sidecars that name no dataset (a LoRA sweep states lr, rank, ...) made every equal-length history one
    cluster, 'siblings', calibrated on themselves at the nominal 80 %: another study's runs forecast from three
    such studies were covered 56 % (the LoRA sweeps without their dataset key). The folders are the studies."""
    from lcpipe.curve import series_of
    from lcpipe.forecasting.logs import read_curves
    from lcpipe.forecasting.predictors.auto import _clusters

    for i, task in enumerate(("a", "b", "c")):
        _loss_runs(tmp_path / "corpus" / task, seed=i)
    corpus = [series_of(c, "val_ce") for c in read_curves([tmp_path / "corpus"], "val_ce", studies=True)]
    clusters, siblings = _clusters(corpus)
    assert not siblings and len(clusters) == 3
    listed = [series_of(c, "val_ce") for c in read_curves([tmp_path / "corpus" / t for t in "abc"], "val_ce",
                                                          studies=True)]
    assert not _clusters(listed)[1]  # the same studies given folder by folder (ForecastPruner's history=[...])
    one = [series_of(c, "val_ce") for c in read_curves([tmp_path / "corpus" / "a"], "val_ce")]
    assert _clusters(one)[1]  # one study's own runs are siblings, as before


def test_the_fit_cache_key_follows_which_runs_share_a_study_not_where_the_files_are(tmp_path):
    import shutil

    from lcpipe.curve import series_of
    from lcpipe.forecasting.fit_cache import content_key
    from lcpipe.forecasting.logs import read_curves
    from lcpipe.forecasting.predictors.auto import Auto

    for i, task in enumerate(("a", "b")):
        _loss_runs(tmp_path / "corpus" / task, seed=i)
    shutil.copytree(tmp_path / "corpus", tmp_path / "elsewhere" / "copy")

    def key(folders):
        return content_key(Auto(), [series_of(c, "val_ce") for c in read_curves(folders, "val_ce", studies=True)])

    assert key([tmp_path / "corpus"]) == key([tmp_path / "elsewhere" / "copy"])
    flat = tmp_path / "flat"
    flat.mkdir()
    for task in "ab":  # the same curves as one folder: one study, calibrated on itself
        for f in (tmp_path / "corpus" / task).iterdir():
            shutil.copy(f, flat / f"{task}{f.name}")
    assert key([flat]) != key([tmp_path / "corpus"])


def test_a_study_is_the_folder_of_runs_given_whatever_the_logger_and_however_the_path_is_spelled(tmp_path,
                                                                                                 monkeypatch):
    """Review of the study folders: the study was the folder a curve FILE sits in, so a DVCLive study (each run's
    plots/metrics/) or Lightning's version_N/ was one study per run, and one folder spelled two ways (relative and
    absolute, through a link) was two."""
    from lcpipe.curve import series_of
    from lcpipe.forecasting.logs import read_curve_dir, read_curves
    from lcpipe.forecasting.predictors.auto import _clusters

    dvclive = tmp_path / "dvc"
    lightning = tmp_path / "lightning_logs"
    for i in range(4):
        metrics = dvclive / f"r{i}" / "plots" / "metrics"
        metrics.mkdir(parents=True)
        (metrics / "val_ce.tsv").write_text("timestamp\tstep\tval_ce\n" + "".join(
            f"{1700000000 + e}\t{e}\t{2.0 - 0.02 * e - 0.01 * i}\n" for e in range(30)))
        version = lightning / f"version_{i}"
        version.mkdir(parents=True)
        (version / "metrics.csv").write_text("epoch,step,val_ce\n" + "".join(
            f"{e},{e},{2.0 - 0.02 * e - 0.01 * i}\n" for e in range(30)))
    for folder in (dvclive, lightning):
        runs = [series_of(c, "val_ce") for c in read_curve_dir(folder, "val_ce")]
        assert len(runs) == 4 and len({s.study for s in runs}) == 1 and _clusters(runs)[1]
    _loss_runs(tmp_path / "runs")
    (tmp_path / "link").symlink_to(tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    mixed = read_curves(["runs/t0.csv", str(tmp_path / "runs" / "t1.csv"), "link/t2.csv", "runs/../runs/t3.csv"],
                        "val_ce")
    assert len({c.study for c in mixed}) == 1


def test_runs_without_a_recipe_beside_runs_with_one_keep_their_folders_and_the_cache_tells_none_from_a_folder(
        tmp_path):
    """One sidecar naming a dataset put every other folder of the corpus back into one cluster of siblings; a run
    that states none takes its own folder's stated recipe (a sidecar missing) or its folder. A history whose
    folders are unknown (a DataFrame) and the same curves read from one folder fit differently, so the fit cache
    must not share one entry between them."""
    import json

    from lcpipe.curve import series_of
    from lcpipe.forecasting.fit_cache import content_key
    from lcpipe.forecasting.logs import read_curves
    from lcpipe.forecasting.predictors.auto import Auto, _clusters

    for i, task in enumerate(("a", "b", "c")):
        _loss_runs(tmp_path / "corpus" / task, seed=i)
    sidecar = tmp_path / "corpus" / "a" / "t0.json"
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "dataset": "x"}))
    history = [series_of(c, "val_ce") for c in read_curves([tmp_path / "corpus"], "val_ce", studies=True)]
    clusters, siblings = _clusters(history)
    assert not siblings and len(clusters) == 3  # a's other runs take its one stated recipe; b and c their folders
    unknown = [replace(s, study=None) for s in history]
    assert content_key(Auto(), unknown) != content_key(Auto(), history)
    one = [replace(s, study="/one") for s in history]
    assert content_key(Auto(), unknown) != content_key(Auto(), one)


def test_the_pruner_reads_a_history_of_study_folders_as_one_cluster_as_before(tmp_path):
    """ForecastPruner drops its history curves' study folders: read as several studies, the wider foreign band cost
    it compute in every replay measured (the HPO table's 40-trial studies 26.0 -> 27.0 %, the LoRA sweeps without
    a dataset key 26.9 -> 30.8 %), where the CLI's forecaster gained coverage (0.56 -> 0.93)."""
    import optuna

    from lcpipe.integrations.optuna import ForecastPruner

    for i, task in enumerate(("a", "b")):
        _loss_runs(tmp_path / "corpus" / task, seed=i)
    pruner = ForecastPruner(steps=450, history=tmp_path / "corpus", metric="val_ce", interval_steps=15)
    study = optuna.create_study(direction="minimize", pruner=pruner)
    trial = study.ask()
    for e in range(5):
        trial.report(3.0 - 0.05 * e, 15 * (e + 1))
        trial.should_prune()
    assert len(pruner._history) == 8 and all(s.study is None for s in pruner._history)
