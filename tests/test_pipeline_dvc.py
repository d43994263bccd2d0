"""End-to-end: the real `dvc` CLI on a throwaway git copy of the project, with tiny params."""

import json
import os
import signal
import subprocess
import time

import pytest
import torch

from lcpipe.curve import COLUMNS
from lcpipe.forecasting.logs import read_curve
from tests.helpers import ran_stages

pytestmark = pytest.mark.slow
ARCHS = ("resnet34", "resnet50", "plain34", "plain50")


def test_train_stages_write_four_curves_and_leave_status_clean(reproduced):
    """The session's one repro of the TINY project (8 epochs): what the train stages wrote."""
    project, epochs = reproduced, 8
    assert {"check_params", "prepare", *(f"train@{a}" for a in ARCHS)} <= set(ran_stages(project.first_repro))
    for arch in ARCHS:
        curve = read_curve(project.root / "data" / "curves" / f"{arch}.csv")
        assert set(curve.columns) == set(COLUMNS) and len(curve) == epochs
        sidecar = json.loads((project.root / "data" / "curves" / f"{arch}.json").read_text())
        # the planned length and the run's full config, flat; nothing machine-dependent
        assert sidecar == {"arch": arch, "dataset": "synthetic", "optimizer": "sgd", "width": 4, "stem": "cifar",
                           "batch_size": 64, "lr": 0.02, "momentum": 0.9, "weight_decay": 0.0005,
                           "schedule": "cosine", "warmup_epochs": 0, "augment": False, "seed": 0, "epochs": epochs}
        timings = json.loads((project.root / "metrics" / "train" / f"{arch}.json").read_text())
        assert timings["device"] == "cpu" and len(timings["epoch_seconds"]) == epochs and timings["wall_seconds"] > 0
        live = json.loads((project.root / "dvclive" / arch / "metrics.json").read_text())
        assert live["step"] == epochs and live["test_acc"] == curve.columns["test_acc"][-1]
        assert live["best_test_acc"] == max(curve.columns["test_acc"])
    assert not list((project.root / "dvclive").rglob("dvc.yaml"))  # DVCLive wrote no dvc.yaml of its own
    project.git("diff", "--exit-code", "dvc.yaml")  # and left the project's alone
    assert not list((project.root / ".lcpipe" / "checkpoints").glob("*.pt"))
    assert "up to date" in project.dvc("status", "train").stdout
    assert ran_stages(project.dvc("repro", "train").stdout) == []


def test_cutoff_change_reruns_only_predict_and_evaluate(reproduced):
    project = reproduced
    assert {"fit", "predict", "evaluate", "sweep", "windows"} <= set(ran_stages(project.first_repro))
    assert ran_stages(project.dvc("repro").stdout) == []
    metrics = json.loads((project.root / "metrics" / "evaluate.json").read_text())
    assert metrics["cutoff"] == 4 and set(metrics) >= {"poly", "lstm", "last_value", "source_shift"}
    assert set(metrics["lstm"]) >= {"rmse", "mae", "final_abs_err"}
    for scores in ("sweep.json", "decision.json"):  # each names its metric, for `dvc metrics diff` across metrics
        assert json.loads((project.root / "metrics" / scores).read_text())["metric"] == "test_acc"
    lstm_before = (project.root / "data" / "predictors" / "lstm.pt").read_bytes()

    project.set_params(predict__cutoff=5)
    status = project.dvc("status").stdout
    changed = {line[:-1] for line in status.splitlines() if line and not line[0].isspace()}
    assert changed == {"check_params", "predict", "evaluate"}  # check_params: no data, same bytes
    assert ran_stages(project.dvc("repro").stdout) == ["check_params", "predict", "evaluate"]
    assert json.loads((project.root / "metrics" / "evaluate.json").read_text())["cutoff"] == 5
    assert (project.root / "data" / "predictors" / "lstm.pt").read_bytes() == lstm_before
    assert "lstm" in project.dvc("metrics", "show").stdout
    project.dvc("plots", "show", "-o", "plots_html")
    assert (project.root / "plots_html" / "index.html").exists()
    for png in ("forecast/forecast_lstm.png", "forecast/forecast_all.png", "curves/plain50.png", "sweep.png"):
        assert (project.root / "metrics" / "plots" / png).stat().st_size > 1000


def test_bad_param_stops_repro_in_check_params_with_one_line(project):
    project.set_params(predict__cutoff=1)
    proc = project.dvc("repro", check=False)
    out = proc.stderr + proc.stdout
    assert proc.returncode != 0 and ran_stages(out) == ["check_params"]
    assert "error: predict.cutoff: 1 is not allowed" in out and "Traceback" not in out
    assert not (project.root / "data" / "prepared").exists()


def outputs(project) -> dict[str, bytes]:
    """Every file DVC or a stage wrote (outputs, metrics, plots) and dvc.lock, by path."""
    files = [p for d in ("data", "metrics") for p in (project.root / d).rglob("*") if p.is_file()]
    return {p.relative_to(project.root).as_posix(): p.read_bytes() for p in [*files, project.root / "dvc.lock"]}


# One case per way DVC meets the bad value: a plain value (each one check_params refuses is listed in
# test_params_check.py and test_config.py, in-process), a key params.yaml did not have, a dependency folder that
# does not exist, a foreach over the archs that makes a stage of its own.
@pytest.mark.parametrize("bad, message", [
    ("predict.cutoff=2", "predict.cutoff: 2 is not allowed"),  # tiny params: window 2, so cutoffs from 3
    ("+predict.cutof=5", "predict.cutof: unknown key"),
    ("sweep.history=data/history/nope", "sweep.history: 'data/history/nope' is not a directory"),
    ("stop.history=data/history/nope", "stop.history: 'data/history/nope' is not a directory"),
    ("train.archs=[resnet34,plain5]", "train.archs: unknown arch 'plain5'"),
])
def test_a_bad_experiment_fails_first_and_leaves_every_output_and_metric_in_place(reproduced, bad, message):
    before = outputs(reproduced)
    assert "metrics/sweep.json" in before and "data/predictions/lstm.csv" in before
    proc = reproduced.dvc("exp", "run", "-S", bad, check=False)
    out = proc.stderr + proc.stdout
    assert proc.returncode != 0 and ran_stages(out) == ["check_params"], out
    assert f"error: {message}" in out
    assert outputs(reproduced) == before


def test_a_setting_missing_from_params_yaml_fails_first_and_leaves_every_output_in_place(reproduced):
    """load_params fills a missing key with its default, but DVC reads the key from the file: it removed
    data/predictions/ and then failed predict (red team, 2026-12-05)."""
    before = outputs(reproduced)
    params = reproduced.root / "params.yaml"
    params.write_text("".join(line for line in params.read_text().splitlines(keepends=True)
                              if not line.lstrip().startswith("degree:")))
    proc = reproduced.dvc("repro", check=False)
    out = proc.stderr + proc.stdout
    assert proc.returncode != 0 and ran_stages(out) == ["check_params"], out
    assert "error: params.yaml: poly.degree is missing; DVC's stages read every setting from this file" in out
    assert outputs(reproduced) == before


def _wait_for_checkpoint(path, min_epoch, proc, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "training finished before it could be killed"
        if path.exists():
            try:
                if torch.load(path, weights_only=True)["epoch"] >= min_epoch:
                    return
            except Exception:
                pass
        time.sleep(0.01)
    raise AssertionError("no checkpoint appeared")


def _wait_for_summary(path, min_step, proc, timeout=300):
    """DVCLive's summary written for `min_step`: the checkpoint of an epoch is saved before the epoch is
    logged, so a kill right after the checkpoint could land before (or amid) that epoch's summary."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "training finished before it could be killed"
        try:
            if json.loads(path.read_text())["step"] >= min_step:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.01)
    raise AssertionError("no DVCLive summary appeared")


def test_killed_training_resumes_and_ends_with_the_uninterrupted_curve(project):
    project.set_params(train__epochs=25, train__width=4)
    project.commit("25 epochs")
    project.dvc("repro", "prepare")
    ckpt = project.root / ".lcpipe" / "checkpoints" / "plain34.pt"
    proc = subprocess.Popen([str(project.env["PATH"].split(os.pathsep)[0] + "/dvc"), "repro", "train@plain34"],
                            cwd=project.root, env=project.env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_checkpoint(ckpt, 3, proc)
    _wait_for_summary(project.root / "dvclive" / "plain34" / "metrics.json", 3, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # dvc and the training process, mid-stage (at once: a tiny net is fast)
    proc.wait()
    assert ckpt.exists() and not (project.root / "data" / "curves" / "plain34.csv").exists()
    # the run was visible to DVC while in progress: DVCLive's summary is rewritten after every epoch
    shown = json.loads(project.dvc("metrics", "show", "--json").stdout)
    assert shown[""]["data"]["dvclive/plain34/metrics.json"]["data"]["step"] >= 3  # "": the workspace

    resumed = project.dvc("repro", "train@plain34")
    assert "resuming after epoch" in resumed.stderr + resumed.stdout
    assert not ckpt.exists()
    resumed_csv = (project.root / "data" / "curves" / "plain34.csv").read_text()
    project.dvc("repro", "--force", "--single-item", "train@plain34")
    fresh_csv = (project.root / "data" / "curves" / "plain34.csv").read_text()

    assert resumed_csv == fresh_csv and len(resumed_csv.splitlines()) == 26

    # DVCLive's history after the resume: every epoch once, equal to the curve
    history = (project.root / "dvclive" / "plain34" / "plots" / "metrics" / "test_acc.tsv").read_text().splitlines()
    curve = read_curve(project.root / "data" / "curves" / "plain34.csv")
    assert history[0] == "step\ttest_acc" and [int(line.split("\t")[0]) for line in history[1:]] == list(range(1, 26))
    assert [float(line.split("\t")[1]) for line in history[1:]] == list(curve.columns["test_acc"])
