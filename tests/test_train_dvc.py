"""The train stage under the real dvc CLI: deterministic artifacts (a retrain that reproduces a
curve changes nothing downstream, and a full rerun leaves git clean), and DVCLive's metrics and
plots visible to `dvc exp show` and `dvc plots diff` across experiments."""

import json

import pytest

from tests.helpers import ran_stages

pytestmark = pytest.mark.slow


def test_rerunning_training_leaves_later_stages_cached_and_git_status_clean(reproduced):
    project = reproduced
    # train@plain34 again, and every stage that reads a curve, as on a fresh clone (the other three
    # train stages run the same code): the same bytes (curve, dvc.lock, metrics, dvclive), so a
    # retrain alone would leave every later stage cached, and a fresh clone's `make repro`, which runs
    # them all, leaves `git status` clean (the README's "Reproducible bit for bit")
    out = project.dvc("repro", "--force", "--downstream", "train@plain34").stdout
    assert {"train@plain34", "windows", "fit", "predict", "evaluate", "sweep", "curve_figures"} <= set(ran_stages(out))
    assert project.git("status", "--porcelain").stdout == ""
    assert "up to date" in project.dvc("status").stdout
    assert json.loads((project.root / "metrics" / "train" / "plain34.json").read_text())["wall_seconds"] > 0


def test_exp_show_and_plots_diff_compare_training_across_experiments(reproduced):
    project = reproduced
    # the train stages alone (`train` as the target): what is compared here is training; the README
    # walk-through runs the same experiment (the same two archs) through the whole pipeline, and
    # whichever runs second restores these two trainings from the shared run-cache
    archs = ("resnet34", "plain50")
    out = project.dvc("exp", "run", "-n", "lr03", "-S", "train.lr=0.03", "-S", f"train.archs=[{','.join(archs)}]",
                      "train").stdout
    assert set(ran_stages(out)) == {"check_params", "train@resnet34", "train@plain50"}
    table = project.dvc("exp", "show", "--csv").stdout
    header = table.splitlines()[0].split(",")
    for arch in archs:  # final and best test accuracy per arch
        assert {f"dvclive/{arch}/metrics.json:test_acc", f"dvclive/{arch}/metrics.json:best_test_acc"} <= set(header)
    assert "lr03" in table and "train.lr" in header

    diff = json.loads(project.dvc("plots", "diff", "HEAD", "lr03", "--json").stdout)
    curve_plot = diff["data"]["data/curves/plain50.csv"][0]
    assert set(curve_plot["revisions"]) == {"HEAD", "lr03"}
    live_plot = diff["data"]["dvclive/plain50/plots/metrics/test_acc.tsv"][0]
    assert {row["rev"] for row in live_plot["content"]["data"]["values"]} == {"HEAD", "lr03"}
    assert not diff.get("errors"), diff["errors"]
