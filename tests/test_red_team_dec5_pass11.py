"""An eleventh hostile-input pass (2026-12-05, evening): scores that go below 0 by their nature, and messages
that name the Python argument where Python was called. Each test failed on the code before its fix."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from lcpipe.cli import main as cli
from lcpipe.errors import LcpipeError
from lcpipe.integrations.optuna import ForecastPruner
from lcpipe.metric import Metric
from tests.helpers import ROOT

optuna.logging.set_verbosity(optuna.logging.WARNING)


def loss_curve(seed: int, n: int = 60) -> np.ndarray:
    """A validation loss at full float64 precision, from about 2.6 down to below 1 (so that %.6g writes it with 5
    decimals, then 6)."""
    rng = np.random.default_rng(seed)
    return 0.6 + 0.2 * seed / 10 + 2.0 * np.exp(-np.arange(1, n + 1) / 4) + rng.normal(0, 0.004, n)


def write(path, values, fmt="{!r}") -> None:  # repr: every digit
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = (f"{100 * (i + 1)},{fmt.format(float(v))}\n" for i, v in enumerate(values))
    path.write_text("step,val_loss\n" + "".join(rows))


@pytest.mark.parametrize("name", ["kappa", "cohen_kappa", "val_quadratic_kappa", "weightedKappa", "f1_delta",
                                  "balanced_accuracy_adjusted", "val_auc_delta", "loss_diff"])
def test_a_score_that_may_go_below_zero_is_any_series_in_its_names_direction(name):
    """Cohen's kappa lies in [-1, 1] (below 0: worse than chance, as a first epoch may be), as MCC and QWK,
    which were read so already; an adjusted score or a difference of two goes below 0 too. Read as a
    fraction, the first negative report stopped the whole study."""
    metric = Metric.infer(name)
    assert metric.kind == "any"
    assert metric.mode == ("min" if "loss" in name else "max")
    assert Metric.infer("val_acc").kind == "fraction" and Metric.infer("f1").kind == "fraction"


def test_a_kappa_study_whose_first_reports_are_below_zero_runs_and_prunes():
    def objective(trial):
        quality = trial.suggest_float("quality", 0.1, 1.0)
        for epoch in range(1, 21):
            kappa = -0.15 + 0.8 * (1 - np.exp(-epoch / 5)) * quality  # below 0 at epoch 1
            trial.report(float(kappa), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(kappa)

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0),
                                pruner=ForecastPruner(epochs=20, metric="quadratic_kappa", fit_cache=False))
    study.optimize(objective, n_trials=12)  # before: PrunerError at the first check, the study ended
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) >= 3
    assert optuna.trial.TrialState.PRUNED in states


def test_a_percent_history_in_python_names_the_python_argument(tmp_path):
    """ForecastPruner(history=...) of accuracies in percent: the line named the CLI's flag alone (since 2026-12-06
    its advice is the kind, which reads the file as it is: --kind, kind= in Python)."""
    for i in range(4):
        (tmp_path / f"r{i}.csv").write_text("epoch,test_acc\n" + "".join(f"{e},{40 + e + i}\n" for e in range(1, 11)))
    with pytest.raises(LcpipeError, match=r"kind= in Python"):
        ForecastPruner(epochs=10, history=tmp_path)


@pytest.mark.parametrize("fmt, says", [("{:.4f}", "rounded to 4 decimals"),
                                       ("{:.6g}", "rounded to 6 significant digits")])
def test_a_history_copy_written_coarser_than_the_run_is_refused(tmp_path, capsys, fmt, says):
    """A live run at full precision, its own finished curve in the history written with to_csv(float_format=
    "%.4f") or "%.6g": before, only a run coarser than the history was caught, and the leak moved the run's
    forecast toward its own true final with a band a third as wide."""
    for seed in range(1, 6):
        write(tmp_path / "history" / f"h{seed}.csv", loss_curve(seed))
    write(tmp_path / "runs" / "live.csv", loss_curve(7)[:14])
    args = ["forecast", "--runs", str(tmp_path / "runs"), "--steps", "6000", "--metric", "val_loss"]
    cli([*args, "--history", str(tmp_path / "history")])  # the clean history: forecast
    write(tmp_path / "leak" / "live_export.csv", loss_curve(7), fmt)
    with pytest.raises(SystemExit):
        cli([*args, "--history", str(tmp_path / "history"), str(tmp_path / "leak")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "live.csv" in err and "live_export.csv" in err and says in err and "own future" in err
    # evaluate --history: the finished run as a target, its coarser copy in the history
    write(tmp_path / "targets" / "live.csv", loss_curve(7))
    with pytest.raises(SystemExit):
        cli(["evaluate", "--curves", str(tmp_path / "targets"), "--history", str(tmp_path / "history"),
             str(tmp_path / "leak"), "--metric", "val_loss", "--cutoffs", "10", "--predictors", "last_value"])
    assert "live_export.csv" in capsys.readouterr().err


def test_runs_that_merely_agree_to_a_coarse_rounding_are_no_copies(tmp_path, capsys):
    """The other side: seed reruns that agree to 2 decimals at some points, and curves at 4 decimals, forecast."""
    for seed in range(1, 6):
        write(tmp_path / "history" / f"h{seed}.csv", loss_curve(seed), "{:.4f}")
    write(tmp_path / "runs" / "live.csv", loss_curve(1)[:14] + 0.003)  # beside h1, 0.003 above it
    cli(["forecast", "--history", str(tmp_path / "history"), "--runs", str(tmp_path / "runs"), "--steps", "6000",
         "--metric", "val_loss"])
    assert "live" in capsys.readouterr().out


@pytest.mark.parametrize("copy", ["exact", "coarser", "prefix"])
def test_leave_one_out_refuses_a_copy_among_the_curves(tmp_path, capsys, copy):
    """`evaluate --curves DIR` with a file downloaded twice ("run (1).csv"), or exported again coarser, or
    its first epochs saved as another run: each target was fitted on its own copy (auto's RMSE 1.61 -> 1.38)."""
    for seed in range(1, 5):
        write(tmp_path / "c" / f"r{seed}.csv", loss_curve(seed))
    twin = {"exact": loss_curve(2), "coarser": np.round(loss_curve(2), 4), "prefix": loss_curve(2)[:30]}[copy]
    write(tmp_path / "c" / "r2 (1).csv", twin)
    with pytest.raises(SystemExit):
        cli(["evaluate", "--curves", str(tmp_path / "c"), "--metric", "val_loss", "--cutoffs", "10",
             "--predictors", "last_value"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "r2.csv" in err and "r2 (1).csv" in err and "remove the copy" in err
    (tmp_path / "c" / "r2 (1).csv").unlink()
    cli(["evaluate", "--curves", str(tmp_path / "c"), "--metric", "val_loss", "--cutoffs", "10",
         "--predictors", "last_value"])  # without it: the backtest runs


@pytest.mark.parametrize("name", ["val_per", "test_far", "der", "val_fmr", "fnmr", "apcer", "bpcer", "acer", "aepe",
                                  "val_crossent"])
def test_error_rates_of_speech_biometrics_and_flow_are_minimised(name):
    """--mode auto kept the run ending at a phone error rate of 1.42 and stopped the one ending at 1.30."""
    assert Metric.infer(name).mode == "min"


@pytest.mark.parametrize("name", ["eval_samples_per_second", "best_acc_so_far", "acc_per_class"])
def test_per_and_far_name_a_rate_only_as_the_last_word(name):
    assert Metric.infer(name).mode == "max"


def test_steps_on_runs_that_count_epochs_is_refused(tmp_path, capsys):
    """--steps 78200 (200 epochs x 391 steps) on runs logged by epoch alone was read as 78,200 epochs: every run
    forecast and decided at epoch 78,200, silently."""
    for i, final in enumerate((0.70, 0.75, 0.80)):
        acc = final * (1 - np.exp(-np.arange(1, 41) / 8))
        (tmp_path / "h" / f"h{i}.csv").parent.mkdir(exist_ok=True)
        (tmp_path / "h" / f"h{i}.csv").write_text("epoch,test_acc\n" + "".join(f"{e},{a:.4f}\n" for e, a in
                                                                            enumerate(acc, 1)))
        (tmp_path / "r" / f"r{i}.csv").parent.mkdir(exist_ok=True)
        (tmp_path / "r" / f"r{i}.csv").write_text("epoch,test_acc\n" + "".join(f"{e},{a - 0.01:.4f}\n" for e, a in
                                                                            enumerate(acc[:10], 1)))
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--steps", "15640"])
    err = capsys.readouterr().err
    assert "--steps 15640" in err and "count epochs" in err and "--epochs N" in err
    cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "40"])
    assert "10/40" in capsys.readouterr().out


def acc_curve(final: float, n: int = 40, shift: float = 0.0) -> np.ndarray:
    return final * (1 - np.exp(-np.arange(1, n + 1) / 8)) + shift


def write_acc(path, values) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("epoch,test_acc\n" + "".join(f"{e},{a:.4f}\n" for e, a in enumerate(values, 1)))


def test_a_results_folder_whose_studies_are_not_read_says_so(tmp_path, capsys):
    """--history corpus, where corpus holds two loose curves and its studies in folders: the folders' curves were
    passed over (by design: a folder with curves of its own is one study) without a word."""
    write_acc(tmp_path / "corpus" / "best.csv", acc_curve(0.80))
    write_acc(tmp_path / "corpus" / "baseline.csv", acc_curve(0.70))
    for i in range(3):
        write_acc(tmp_path / "corpus" / "studyA" / f"a{i}.csv", acc_curve(0.72 + 0.02 * i, shift=0.001))
    write_acc(tmp_path / "runs" / "r.csv", acc_curve(0.75)[:10])
    cli(["forecast", "--history", str(tmp_path / "corpus"), "--runs", str(tmp_path / "runs"), "--epochs", "40"])
    err = capsys.readouterr().err
    assert "studyA" in err and "not read" in err and "2 curves of its own" in err


def test_a_history_curve_copied_under_another_name_is_refused(tmp_path, capsys):
    """The same values under another name (a CSV copied without its sidecar) counted twice; the same file given
    twice was refused already. Two runs of different configs that agree exactly are two runs."""
    for i in range(3):
        write_acc(tmp_path / "study" / f"a{i}.csv", acc_curve(0.72 + 0.02 * i))
        (tmp_path / "study" / f"a{i}.json").write_text(f'{{"lr": 0.0{i + 1}}}')
    write_acc(tmp_path / "top" / "best.csv", acc_curve(0.76))  # a2's values, no sidecar
    write_acc(tmp_path / "runs" / "r.csv", acc_curve(0.75, shift=-0.01)[:10])
    args = ["forecast", "--runs", str(tmp_path / "runs"), "--epochs", "40", "--history", str(tmp_path / "study")]
    with pytest.raises(SystemExit):
        cli([*args, str(tmp_path / "top" / "best.csv")])
    assert "best.csv is a copy of" in capsys.readouterr().err
    (tmp_path / "top" / "best.json").write_text('{"lr": 0.5}')  # another config: another run that agrees
    cli([*args, str(tmp_path / "top" / "best.csv")])
    assert "r " in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".png", ".pdf", ".svg"])
def test_plot_replaces_its_own_figure_but_not_a_users_file(tmp_path, capsys, suffix):
    """--plot replaced any existing figure (a paper's hand-made PDF) without a word, where --out refuses a file
    it did not write."""
    for i in range(3):
        write_acc(tmp_path / "h" / f"h{i}.csv", acc_curve(0.70 + 0.05 * i))
    write_acc(tmp_path / "r" / "r.csv", acc_curve(0.74)[:10])
    figure = tmp_path / f"figure{suffix}"
    args = ["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "40",
            "--plot", str(figure)]
    cli(args)
    drawn = figure.read_bytes()
    cli(args)  # a rerun replaces its own figure
    assert figure.stat().st_size > 1000 and figure.read_bytes()[:4] == drawn[:4]
    figure.write_bytes(b"my hand-made figure\n")
    with pytest.raises(SystemExit):
        cli(args)
    assert "not marked as a figure" in capsys.readouterr().err
    assert figure.read_bytes() == b"my hand-made figure\n"


def test_a_log_with_train_columns_at_every_row_and_the_metric_at_some_is_read_on_those_rows(tmp_path, capsys):
    """A W&B history export (train/loss at every logged step, test_acc at each epoch's last) stopped with "line 2:
    column 'test_acc' is blank"; line 2 is no evaluation. A blank among rows that mostly hold the metric is still
    a missed evaluation, refused."""
    for i in range(3):
        write_acc(tmp_path / "h" / f"h{i}.csv", acc_curve(0.70 + 0.05 * i))
    rows = ["_step,epoch,train/loss,test_acc"]
    for e, a in enumerate(acc_curve(0.74)[:12]):
        rows += [f"{4 * e + k},{e},{1 / (e + 1) + 0.01 * k:.4f}," for k in range(3)]
        rows.append(f"{4 * e + 3},{e},{1 / (e + 1):.4f},{a:.4f}")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "wandb.csv").write_text("\n".join(rows) + "\n")
    cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "40"])
    assert "12/40" in capsys.readouterr().out
    missed = ["epoch,train_loss,test_acc"] + [f"{e},{1 / e:.4f},{'' if e == 5 else f'{a:.4f}'}"
                                              for e, a in enumerate(acc_curve(0.74)[:12], 1)]
    (tmp_path / "r" / "wandb.csv").write_text("\n".join(missed) + "\n")
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "40"])
    assert "line 6" in capsys.readouterr().err


def dvclive_run(folder, values, name="val/acc") -> None:
    """A DVCLive run as live.log_metric(name, ...) writes it: plots/metrics/val/acc.tsv headed `step<TAB>acc`."""
    tsv = folder / "plots" / "metrics" / f"{name}.tsv"
    tsv.parent.mkdir(parents=True)
    tsv.write_text(f"step\t{name.rsplit('/', 1)[-1]}\n" + "".join(f"{i}\t{v:.4f}\n" for i, v in enumerate(values)))
    (folder / "params.yaml").write_text("epochs: 40\n")


def test_a_dvclive_metric_named_with_a_slash_is_read_as_an_accuracy_not_one_minus_it(tmp_path, capsys):
    """live.log_metric("val/acc") writes plots/metrics/val/acc.tsv headed `acc`: --metric val/acc said "missing
    column 'val/acc'", and read by the file's path the run was named `acc`."""
    for i in range(3):
        dvclive_run(tmp_path / "h" / f"h{i}", acc_curve(0.70 + 0.05 * i))
    dvclive_run(tmp_path / "r" / "run7", acc_curve(0.74)[:10])
    cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "40",
         "--metric", "val/acc"])
    row = capsys.readouterr().out.splitlines()[-1].split()
    assert row[0] == "run7" and row[1] == "10/40" and 0.65 < float(row[2]) < 0.85  # not 1 - accuracy
    cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r" / "run7" / "plots" / "metrics" /
                                                                      "val" / "acc.tsv"), "--metric", "val/acc",
         "--epochs", "40"])
    assert capsys.readouterr().out.splitlines()[-1].split()[0] == "run7"  # named after its DVCLive folder


def test_a_hugging_face_trainer_state_is_read_as_a_run(tmp_path, capsys):
    """--runs out/checkpoint-500/trainer_state.json was called a run's config and asked for a trainer_state.csv
    that does not exist. It is read now (tests/test_trainer_state.py): a metric it does not log is named beside
    the columns it does."""
    for i in range(3):
        write_acc(tmp_path / "h" / f"h{i}.csv", acc_curve(0.70 + 0.05 * i))
    state = tmp_path / "checkpoint-500" / "trainer_state.json"
    state.parent.mkdir()
    state.write_text('{"log_history": [{"epoch": 1.0, "eval_accuracy": 0.5, "step": 100}]}')
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(state), "--epochs", "40"])
    err = capsys.readouterr().err
    assert "missing column 'test_acc'" in err and "eval_accuracy" in err and "trainer_state.csv" not in err


def test_a_stage_that_reads_a_predictors_section_lists_every_key_of_it():
    """A predictor is built from its whole params section (registry.build): a stage listing some of auto's keys
    but not auto.config_weight_series kept its stale sweep results when only that changed (red team)."""
    import yaml


    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        listed = {k for k in stage.get("params") or [] if isinstance(k, str)}
        for section in ("auto", "poly", "lstm", "parametric"):
            used = {k for k in listed if k.startswith(section + ".")}
            if used:
                assert used == {f"{section}.{k}" for k in params[section]}, (name, section)


def test_the_sweep_small_multiples_template_fits_a_loss_as_well_as_an_accuracy():
    """Its 'actual' layer titled the y axis "accuracy" on a [0, 1] scale: with features.metric train_loss the
    curves (2.4 at epoch 1) were drawn above the panels, under an accuracy axis."""
    import json


    spec = json.loads((ROOT / ".dvc" / "plots" / "small_multiples.json").read_text())
    text = json.dumps(spec)
    assert '"domain"' not in text and '"accuracy"' not in text


def test_a_target_dropped_from_the_archs_says_how_to_get_its_curve_back():
    """`dvc exp run -S 'train.archs=[resnet34, resnet50, plain34]'` with predict.target plain50: DVC removes
    plain50's curve before check_params runs; the line named predict.target alone, with no way back."""
    from dataclasses import replace

    from lcpipe.config import Params, validate

    p = Params()
    p = replace(p, train=replace(p.train, archs=["resnet34", "resnet50", "plain34"]))
    with pytest.raises(LcpipeError, match=r"predict.target: 'plain50'.*train.archs.*dvc checkout"):
        validate(p)


def test_a_stage_run_by_hand_refuses_outputs_that_would_replace_inputs_or_other_outputs(tmp_path, monkeypatch):
    """`python stages/evaluate.py ... --plots-dir metrics` deleted every other stage's metrics (and metrics/train,
    which nothing restores); `--plots-dir data/curves` replaced its input; windows.py --out data/curves/plain50.csv
    overwrote an input curve. Each is one line now, before any work."""
    from pathlib import Path

    from lcpipe.pipeline.entry import check_stage_paths

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "curves").mkdir(parents=True)
    (tmp_path / "data" / "curves" / "plain50.csv").write_text("epoch,test_acc\n1,0.1\n")
    (tmp_path / "metrics").mkdir()
    evaluate = {"curves_dir": Path("data/curves"), "predictions_dir": Path("data/predictions"),
                "metrics_out": Path("metrics/evaluate.json"), "plots_dir": Path("metrics/plots/forecast"),
                "table_out": Path("metrics/forecast.csv")}
    check_stage_paths(evaluate)  # dvc.yaml's own paths
    for wrong, says in [({"plots_dir": Path("metrics")}, "holds --metrics-out"),
                        ({"plots_dir": Path("data/curves")}, "would overwrite the input"),
                        ({"plots_dir": Path("data")}, "would overwrite the input"),
                        ({"plots_dir": Path(".")}, "project's folder")]:
        with pytest.raises(LcpipeError, match=says):
            check_stage_paths({**evaluate, **wrong})
    with pytest.raises(LcpipeError, match="would overwrite the input"):
        check_stage_paths({"curves_dir": Path("data/curves"), "out": Path("data/curves/plain50.csv")})
    # a persist output that is a link to a shared file (dvc exp run swapped the link for a file), or a folder
    (tmp_path / "shared.json").write_text("{}")
    (tmp_path / "metrics" / "evaluate.json").symlink_to(tmp_path / "shared.json")
    with pytest.raises(LcpipeError, match="symbolic link"):
        check_stage_paths(evaluate)
    (tmp_path / "metrics" / "evaluate.json").unlink()
    (tmp_path / "metrics" / "evaluate.json").mkdir()
    with pytest.raises(LcpipeError, match="is a directory"):
        check_stage_paths(evaluate)


def test_an_output_folder_is_replaced_only_when_it_holds_what_its_stage_writes(tmp_path):
    """The last guard, inside atomic_dir: a folder of the user's (curves, a subfolder) is left as it was."""
    from lcpipe.atomic import atomic_dir

    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "old.png").write_bytes(b"png")
    with atomic_dir(plots) as tmp:  # an earlier run's figures: replaced
        (tmp / "new.png").write_bytes(b"png")
    assert sorted(p.name for p in plots.iterdir()) == ["new.png"]
    (plots / "runs").mkdir()
    (plots / "notes.csv").write_text("mine\n")
    with pytest.raises(LcpipeError, match="notes.csv, runs"):
        with atomic_dir(plots) as tmp:
            (tmp / "newer.png").write_bytes(b"png")
    assert sorted(p.name for p in plots.iterdir()) == ["new.png", "notes.csv", "runs"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folder left


def test_params_yaml_is_read_as_dvc_reads_it_a_key_twice_and_a_signed_dot_float(tmp_path):
    """A key given twice passed check_params (the last one won) where `dvc repro` refuses the file; `lr: +.5`,
    0.5 to DVC's YAML 1.2, was refused as not a number."""
    from lcpipe.config import load_params

    text = (ROOT / "params.yaml").read_text()
    twice = tmp_path / "twice.yaml"
    twice.write_text(text.replace("  cutoff: 20", "  cutoff: 20\n  cutoff: 10", 1))
    with pytest.raises(LcpipeError, match=r"'cutoff' is given twice"):
        load_params(twice)
    signed = tmp_path / "signed.yaml"
    signed.write_text(text.replace("  lr: 0.05", "  lr: +.05", 1))
    assert load_params(signed).train.lr == 0.05


def test_a_run_validated_every_half_epoch_is_forecast_beside_one_validated_every_epoch(tmp_path, capsys):
    """Both planned for 40 epochs: the half-epoch run was called "logged by optimizer step", and the two were
    refused as not comparable."""
    for i in range(3):
        write_acc(tmp_path / "h" / f"h{i}.csv", acc_curve(0.70 + 0.05 * i))
    write_acc(tmp_path / "r" / "whole.csv", acc_curve(0.73)[:12])
    half = acc_curve(0.77, n=80)  # 80 half epochs
    (tmp_path / "r" / "half.csv").write_text("epoch,test_acc\n" + "".join(f"{(i + 1) / 2},{a:.4f}\n"
                                                                          for i, a in enumerate(half[:24])))
    cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "40"])
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(rows) == {"half", "whole"} and rows["whole"][1] == "12/40" and rows["half"][1] == "12/40"


# -- the review of the fixes above: each failed on them, before its own fix -----------------------------------------

def test_two_studies_holding_one_deterministic_config_are_a_history_not_a_copy(tmp_path):
    """bench/hpo_table/studies.py's studies may share a config, trained once: the same values and the same stated
    config in two study folders are two runs; ForecastPruner refused the project's own 40-trial corpus."""
    for study in ("s0", "s1"):
        for i in range(3):
            write_acc(tmp_path / study / f"c{i}.csv", acc_curve(0.70 + 0.05 * i))
            (tmp_path / study / f"c{i}.json").write_text(f'{{"lr": 0.0{i + 1}}}')
    ForecastPruner(40, tmp_path, metric="test_acc", fit_cache=False)  # before: "is a copy of"


def test_leave_one_out_keeps_two_configs_that_agree_and_checks_only_the_targets(tmp_path, capsys):
    """On a 36-example validation set two configs of the HPO table report identical accuracies: two runs. And with
    --target, a copy pair among the other curves is never forecast from its twin."""
    for i in range(3):
        write_acc(tmp_path / "c" / f"r{i}.csv", acc_curve(0.70 + 0.05 * i))
        (tmp_path / "c" / f"r{i}.json").write_text(f'{{"lr": 0.0{i + 1}}}')
    write_acc(tmp_path / "c" / "twin.csv", acc_curve(0.75))
    (tmp_path / "c" / "twin.json").write_text('{"lr": 0.5}')  # r1's values, another config
    cli(["evaluate", "--curves", str(tmp_path / "c"), "--cutoffs", "5", "--predictors", "last_value"])
    (tmp_path / "c" / "twin.json").unlink()  # now a copy of r1, but the target is r0
    cli(["evaluate", "--curves", str(tmp_path / "c"), "--cutoffs", "5", "--predictors", "last_value",
         "--target", "r0"])
    assert "last_value" in capsys.readouterr().out


def test_a_live_run_is_no_copy_of_a_two_decimal_history_it_meets_by_chance():
    """At 2 decimals a full-precision run's first 4 points met some history curve by chance (39 of 200 runs)."""
    from lcpipe.curve import Curve
    from lcpipe.forecasting.copies import check_apart

    rng = np.random.default_rng(0)
    history = [Curve(f"h{i}", {"test_acc": np.round(acc_curve(0.7 + 0.1 * rng.random()) + rng.normal(0, 0.01, 40), 2),
                               "epoch": np.arange(1.0, 41)}) for i in range(1000)]
    refused = 0
    for i in range(100):
        values = (acc_curve(0.7 + 0.1 * rng.random()) + rng.normal(0, 0.01, 40))[:4]
        try:
            check_apart(history, [Curve(f"r{i}", {"test_acc": values, "epoch": np.arange(1.0, 5)})], "a live run",
                        "test_acc")
        except LcpipeError:
            refused += 1
    assert refused == 0


@pytest.mark.parametrize("missing", [range(3, 15), range(9, 21)])
def test_missed_evaluations_beside_a_train_column_are_still_refused(tmp_path, capsys, missing):
    """The strided rule read val_acc missing at epochs 3-14 of 20 as 8 points, and one broken after epoch 8 as an
    8-epoch curve, silently."""
    for i in range(3):
        write_acc(tmp_path / "h" / f"h{i}.csv", acc_curve(0.70 + 0.05 * i))
    rows = [f"{e},{1 / e:.4f},{'' if e in missing else f'{a:.4f}'}" for e, a in enumerate(acc_curve(0.74)[:20], 1)]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "r.csv").write_text("epoch,train_loss,test_acc\n" + "\n".join(rows) + "\n")
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--epochs", "40"])
    assert "column 'test_acc' is on 8 of 20 rows" in capsys.readouterr().err  # and "evaluations missed or stopped"


def test_an_inline_merge_key_in_params_yaml_is_read(tmp_path):
    from lcpipe.config import load_params

    path = tmp_path / "params.yaml"
    path.write_text((ROOT / "params.yaml").read_text().replace("data:\n  dataset: digits",
                                                               "data:\n  <<: {dataset: digits}", 1))
    assert load_params(path).data.dataset == "digits"


@pytest.mark.parametrize("name", ["val_acc_per", "accuracy_per", "f1_per", "val_acc_far"])
def test_per_after_a_score_word_is_a_percent_not_an_error_rate(name):
    assert Metric.infer(name).mode == "max" and Metric.infer(name).kind == "fraction"


def test_a_stage_output_linked_into_dvcs_cache_is_no_users_link(tmp_path, monkeypatch):
    """With cache.type symlink, `dvc checkout` leaves outputs as links to read-only cache objects; a stage run by
    hand was refused, and told to write to the cache object itself."""
    from pathlib import Path

    from lcpipe.pipeline.entry import check_stage_paths

    monkeypatch.chdir(tmp_path)
    cached = tmp_path / ".dvc" / "cache" / "files" / "md5" / "ab" / "cdef"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"npz")
    cached.chmod(0o444)
    (tmp_path / "data" / "prepared").mkdir(parents=True)
    (tmp_path / "data" / "prepared" / "dataset.npz").symlink_to(cached)
    check_stage_paths({"out": Path("data/prepared/dataset.npz")})
    (tmp_path / "mine.npz").write_bytes(b"npz")
    (tmp_path / "data" / "prepared" / "dataset.npz").unlink()
    (tmp_path / "data" / "prepared" / "dataset.npz").symlink_to(tmp_path / "mine.npz")
    with pytest.raises(LcpipeError, match="symbolic link"):
        check_stage_paths({"out": Path("data/prepared/dataset.npz")})



# -- hostile pass 12 (the Python API beside the CLI) ------------------------------------------------------------

def test_a_dataframe_of_one_runs_log_is_not_read_as_a_run_per_column(tmp_path):
    """runs=pd.read_csv("t30.csv") (step, val_ce, train_loss): the train loss was a "run", and it stopped the only
    real one."""
    import pandas as pd

    import lcpipe

    history = {f"h{i}": list(acc_curve(0.70 + 0.05 * i)) for i in range(3)}
    log = pd.DataFrame({"epoch": range(1, 11), "test_acc": acc_curve(0.74)[:10], "train_loss": 1 / np.arange(1, 11)})
    with pytest.raises(LcpipeError, match="one run's log"):
        lcpipe.forecast(history=history, runs=log, epochs=40)
    one = pd.DataFrame({"epoch": range(1, 11), "test_acc": acc_curve(0.74)[:10]})  # one run named like the metric
    assert list(lcpipe.forecast(history=history, runs=one, epochs=40)["run"]) == ["test_acc"]


def test_a_history_given_as_data_is_checked_for_copies_as_files_are():
    import lcpipe

    history = {f"h{i}": list(acc_curve(0.70 + 0.05 * i)) for i in range(3)}
    history["h1 (1)"] = list(acc_curve(0.75))
    with pytest.raises(LcpipeError, match=r"h1 \(1\) is a copy of h1"):
        lcpipe.forecast(history=history, runs={"r": list(acc_curve(0.74)[:10])}, epochs=40)


def test_half_epochs_in_python_are_epochs_as_in_the_cli():
    """A {0.5: v, 1.0: v, ...} run beside a run per epoch was refused as "logged by optimizer step"; the CLI reads
    the same files together: no optimizer counts half steps."""
    import lcpipe

    history = {f"h{i}": list(acc_curve(0.70 + 0.05 * i)) for i in range(3)}
    half = {(i + 1) / 2: float(a) for i, a in enumerate(acc_curve(0.77, n=80)[:24])}
    got = lcpipe.forecast(history=history, runs={"whole": list(acc_curve(0.73)[:12]), "half": half}, epochs=40)
    assert sorted(got["run"]) == ["half", "whole"] and set(got["epochs"]) == {40}


def test_a_small_loss_at_three_decimals_is_one_digit_and_no_copy_of_a_run():
    """MSEs near 0.01 written with %.3f: a run of the same recipe at full precision met them by chance (32 of 40
    forecasts refused)."""
    from lcpipe.curve import Curve
    from lcpipe.forecasting.copies import check_apart

    rng = np.random.default_rng(1)
    t = np.arange(1, 41)
    history = [Curve(f"h{i}", {"val_mse": np.round(0.003 + 0.02 * np.exp(-t / (5 + i)) + rng.normal(0, 1e-4, 40), 3),
                               "epoch": t.astype(float)}) for i in range(6)]
    for i in range(6):
        run = 0.003 + 0.02 * np.exp(-t[:5] / (5 + i)) + rng.normal(0, 1e-4, 5)
        check_apart(history, [Curve(f"r{i}", {"val_mse": run, "epoch": t[:5].astype(float)})], "a live run", "val_mse")


# -- hostile pass 13 (the pruner's history, the benches, the examples) -------------------------------------------

def test_a_corpus_with_two_study_folders_of_one_name_is_refused_not_halved(tmp_path):
    """bench/forecast_quality.py named studies by their folder alone: cifar10/lenet was dropped for cifar100/lenet,
    and the table computed without it."""
    from bench.forecast_quality import groups_of
    from lcpipe.metric import ACCURACY

    for folder in ("cifar10/lenet", "cifar100/lenet", "svhn/wrn"):
        for i in range(3):
            write_acc(tmp_path / folder / f"r{i}.csv", acc_curve(0.6 + 0.05 * i))
    with pytest.raises(LcpipeError, match="two study folders are named 'lenet'"):
        groups_of([tmp_path], ACCURACY)


def test_a_lightning_runs_hparams_yaml_is_its_config(tmp_path):
    """lightning_logs/version_N/metrics.csv beside hparams.yaml: the config was read from a metrics.json that is
    never there, so two versions of equal values and different lr were refused as copies stating no config."""
    from lcpipe.forecasting.logs import read_curve_dir

    for version, lr in ((0, 0.1), (1, 0.05)):
        folder = tmp_path / "lightning_logs" / f"version_{version}"
        write_acc(folder / "metrics.csv", acc_curve(0.8))
        (folder / "hparams.yaml").write_text(f"lr: {lr}\nbatch_size: 64\n")
    curves = read_curve_dir(tmp_path / "lightning_logs", "test_acc", studies=True)
    assert sorted(c.config.get("lr") for c in curves) == [0.05, 0.1]
    ForecastPruner(40, tmp_path / "lightning_logs", fit_cache=False)  # before: "is a copy of"


def test_a_wandb_export_with_one_summary_row_after_training_is_read(tmp_path):
    from lcpipe.forecasting.logs import read_curve

    rows = ["epoch,train_loss,val_accuracy,test_accuracy"]
    rows += [f"{e},{1 / e:.4f},{a:.4f}," for e, a in enumerate(acc_curve(0.8)[:20], 1)]
    rows.append(",,,0.79")  # logged once after fit
    (tmp_path / "run.csv").write_text("\n".join(rows) + "\n")
    assert len(read_curve(tmp_path / "run.csv", "val_accuracy")) == 20


def test_a_history_that_repeats_a_study_with_its_configs_is_said(tmp_path):
    """A study copied whole (sidecars too) counted every curve twice without a word; the curves state configs, so
    they may be two studies of one deterministic config: said, not refused."""
    import warnings

    for folder in ("study", "backup/study"):
        for i in range(3):
            write_acc(tmp_path / folder / f"c{i}.csv", acc_curve(0.70 + 0.05 * i))
            (tmp_path / folder / f"c{i}.json").write_text(f'{{"lr": 0.0{i + 1}}}')
    import lcpipe

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lcpipe.forecast(history=[tmp_path / "study", tmp_path / "backup"], runs={"r": list(acc_curve(0.74)[:10])},
                        epochs=40)
    assert any("repeat another's test_acc and config" in str(w.message) for w in caught)


@pytest.mark.parametrize("name", ["fpr95", "val_fpr95", "fid50k_full", "kid50k_full"])
def test_a_loss_word_with_a_count_is_minimised(name):
    assert Metric.infer(name).mode == "min"


@pytest.mark.parametrize("script, args, says", [
    ("forecast_speed.py", ["--sizes", "a"], "--sizes 'a'"),
    ("forecast_speed.py", ["--loop-runs", "0"], "1 or more"),
    ("report_cost.py", ["--reports", "5000000000000"], "give lengths of 4 to"),
    ("early_stopping.py", ["--predictor", "lstm"], "--predictor lstm"),
    # a typo in the keys to read as absent changed nothing, silently (2026-12-06 review)
    ("forecast_quality.py", ["--corpus", "bench/lm_table/curves", "--metric", "val_ce", "--forget", "datset"],
     "no curve's config states 'datset'"),
    # the whole bench ran, then drew nothing and said nothing (2026-12-06 red team)
    ("forecast_quality.py", ["--quick", "--predictors", "last_value", "--reliability-figure", "x.png"],
     "add auto to --predictors"),
])
def test_bench_arguments_are_one_line(script, args, says):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr, done.stderr


# -- the second review (of passes 12 and 13's fixes): each failed on them, before its own fix ----------------------

@pytest.mark.parametrize("name, mode, kind", [("val_ade20k", "max", "any"), ("miou_ade20k", "max", "fraction"),
                                              ("bbox/AP50", "max", "any"), ("fid50k_full", "min", "positive")])
def test_a_count_joined_to_a_word_names_a_loss_only_for_the_few_that_take_one(name, mode, kind):
    """ade20k read as an average displacement error (minimised: the better ADE20K run was stopped), and AP50 as a
    fraction, which Detectron2 logs in percent."""
    metric = Metric.infer(name)
    assert (metric.mode, metric.kind) == (mode, kind)


@pytest.mark.parametrize("layout", ["strided with a summary row", "two evaluations so far"])
def test_strided_logs_with_a_summary_row_or_two_evaluations_are_read(tmp_path, layout):
    from lcpipe.forecasting.logs import read_curve

    values = acc_curve(0.8)[:10 if layout.startswith("strided") else 2]
    # (a step column: W&B's own _step, which counts log calls, is refused at a stride: test_red_team_dec7_s18.py)
    rows = ["step,train_loss,val_accuracy,test_accuracy"]
    for i, a in enumerate(values):
        rows += [f"{2 * i},{1 / (i + 1):.4f},,", f"{2 * i + 1},{1 / (i + 1.5):.4f},{a:.4f},"]
    if layout.startswith("strided"):
        rows.append(",,,0.79")
    (tmp_path / "run.csv").write_text("\n".join(rows) + "\n")
    assert len(read_curve(tmp_path / "run.csv", "val_accuracy")) == len(values)


@pytest.mark.parametrize("evaluated", [[1, 3, 7], [1, 3, 7, 11]])
def test_a_missed_evaluation_in_a_short_strided_log_is_refused(tmp_path, evaluated):
    """Strides 2, 4 (and 2, 4, 4) were read as wall-clock jitter: a missed evaluation, silently."""
    from lcpipe.forecasting.logs import read_curve

    rows = ["_step,train_loss,val_accuracy"] + [f"{i},{1 / (i + 1):.4f},{'0.5' if i in evaluated else ''}"
                                                 for i in range(evaluated[-1] + 2)]
    (tmp_path / "run.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(LcpipeError, match="evaluations missed or stopped"):
        read_curve(tmp_path / "run.csv", "val_accuracy")


def test_lightnings_hparams_with_python_tags_and_nested_maps_are_a_config_never_a_length(tmp_path):
    """yaml.dump writes a tuple as !!python/tuple: the run was refused; a nested optimizer.lr was no config, so two
    versions were refused as copies; `steps: [30, 60]` (milestones) was read as a planned step count."""
    from lcpipe.forecasting.logs import read_curve_dir

    for version, lr in ((0, 0.1), (1, 0.05)):
        folder = tmp_path / "lightning_logs" / f"version_{version}"
        write_acc(folder / "metrics.csv", acc_curve(0.8))
        (folder / "hparams.yaml").write_text(f"optimizer:\n  lr: {lr}\n  betas: !!python/tuple\n  - 0.9\n  - 0.999\n"
                                             "steps:\n- 30\n- 60\nepochs: 5\n")
    curves = read_curve_dir(tmp_path / "lightning_logs", "test_acc", studies=True)
    assert sorted(c.config["lr"] for c in curves) == [0.05, 0.1]  # the one nested lr is the run's lr (2026-12-06)
    assert all(c.planned is None and c.steps is None for c in curves)
    ForecastPruner(40, tmp_path / "lightning_logs", fit_cache=False)


def test_a_dataframe_with_a_capitalised_axis_column_is_one_run_not_a_log():
    import pandas as pd

    import lcpipe

    history = {f"h{i}": list(acc_curve(0.70 + 0.05 * i)) for i in range(3)}
    frame = pd.DataFrame({"Epoch": range(1, 11), "test_acc": acc_curve(0.74)[:10]})
    assert list(lcpipe.forecast(history=history, runs=frame, epochs=40)["run"]) == ["test_acc"]


def test_a_corpus_given_twice_is_read_once_not_refused(tmp_path):
    from bench.forecast_quality import groups_of
    from lcpipe.metric import ACCURACY

    for study in ("a", "b"):
        for i in range(3):
            write_acc(tmp_path / "c" / study / f"r{i}.csv", acc_curve(0.6 + 0.05 * i))
    assert sorted(groups_of([tmp_path / "c", tmp_path / "c", tmp_path / "c" / "a"], ACCURACY)) == ["a", "b"]


# -- the third review (of the second review's fixes) -------------------------------------------------------------

def test_a_short_hf_fine_tune_with_one_train_row_and_a_summary_row_is_read(tmp_path):
    """HF Trainer's log_history of 3 epochs x 200 steps at logging_steps=500: eval rows, one train row, and the
    train_runtime summary row; the summary row was taken out before counting the other records."""
    from lcpipe.forecasting.logs import read_curve

    rows = ["epoch,step,eval_accuracy,loss,train_runtime",
            "1.0,200,0.65,,", "2.0,400,0.70,,", "2.5,500,,0.41,", "3.0,600,0.75,,", "3.0,600,,,35.2"]
    (tmp_path / "log.csv").write_text("\n".join(rows) + "\n")
    assert list(read_curve(tmp_path / "log.csv", "eval_accuracy").columns["eval_accuracy"]) == [0.65, 0.70, 0.75]


def test_an_alias_bomb_in_hparams_yaml_is_no_config_and_no_hang(tmp_path):
    import time

    from lcpipe.forecasting.logs import read_curve_dir

    levels = ["a0: &a0 {x: 1, y: 2}"] + [f"a{i}: &a{i} {{p: *a{i - 1}, q: *a{i - 1}}}" for i in range(1, 24)]
    folder = tmp_path / "lightning_logs" / "version_0"
    write_acc(folder / "metrics.csv", acc_curve(0.8))
    (folder / "hparams.yaml").write_text("\n".join(levels) + "\n")
    start = time.monotonic()
    (curve,) = read_curve_dir(tmp_path / "lightning_logs", "test_acc")
    assert curve.config == {} and time.monotonic() - start < 5


def test_a_missed_evaluation_with_an_off_stride_last_one_is_refused(tmp_path):
    """Rows 4, 14, 16 of 17 (a stride of 5, the one at row 9 missed, a last one off the stride) were read as three
    consecutive evaluations: the rows before the first are a stride too."""
    from lcpipe.forecasting.logs import read_curve

    rows = ["_step,train_loss,val_accuracy"] + [f"{i},{1 / (i + 1):.4f},{'0.5' if i in (4, 14, 16) else ''}"
                                                 for i in range(17)]
    (tmp_path / "run.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(LcpipeError, match="evaluations missed or stopped"):
        read_curve(tmp_path / "run.csv", "val_accuracy")


@pytest.mark.parametrize("name, mode", [("ppl2_wend", "min"), ("minADE6", "min"), ("minFDE6", "min"),
                                        ("val_mse10", "min"), ("val_ade20k", "max")])
def test_counted_loss_words_of_trajectories_and_stylegan(name, mode):
    assert Metric.infer(name).mode == mode


def test_a_linked_study_folder_keeps_its_name(tmp_path):
    from bench.forecast_quality import groups_of
    from lcpipe.metric import ACCURACY

    for i in range(3):
        write_acc(tmp_path / "store" / "3f9a2c" / f"r{i}.csv", acc_curve(0.6 + 0.05 * i))
        write_acc(tmp_path / "corpus" / "svhn" / f"r{i}.csv", acc_curve(0.7 + 0.05 * i))
    (tmp_path / "corpus" / "cifar10").symlink_to(tmp_path / "store" / "3f9a2c")
    assert sorted(groups_of([tmp_path / "corpus" / "cifar10", tmp_path / "corpus" / "svhn"], ACCURACY)) == \
        ["cifar10", "svhn"]  # a study given by its link: named as given, as MANIFEST.csv names it
