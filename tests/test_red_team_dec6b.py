"""What the 2026-12-06 (second session) reviews found: a pruner driven as users write their loops, the README read
as a newcomer, the CLI on language-model sweeps. Each test failed on e097ddc, before this work."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest

from lcpipe.integrations.optuna import ForecastPruner, PrunerError

optuna.logging.set_verbosity(optuna.logging.WARNING)

STEPS = 15 * np.arange(1, 51)  # a LoRA sweep's evaluations: every 15 optimizer steps up to 750


def loss_history(folder: Path, n: int = 6) -> Path:
    """Finished validation cross-entropy curves logged every 15 steps, as bench/lm_table's are."""
    folder.mkdir()
    for i in range(n):
        ce = 1.8 + 0.02 * i + 0.3 * np.exp(-STEPS / (150 + 20 * i))
        (folder / f"h{i}.csv").write_text("step,val_ce\n" + "".join(f"{s},{v:.5f}\n" for s, v in zip(STEPS, ce)))
    return folder


def lora_objective(trial: optuna.Trial) -> float:
    """A Hugging Face style loop: the eval loss reported at the global step, should_prune() after each report; the
    loss jitters (every other evaluation a little up), so PatientPruner asks the pruner it wraps."""
    level = 1.8 + 0.03 * trial.number
    for step in STEPS:
        ce = level + 0.3 * np.exp(-step / 180) + 0.004 * (step // 15 % 2)
        trial.report(float(ce), step=int(step))
        if trial.should_prune():  # the user's line, where a warning should point
            raise optuna.TrialPruned()
    return float(ce)


@pytest.mark.parametrize("steps", [50, 1000], ids=["evaluations-for-steps", "longer-than-the-trials"])
def test_a_wrapped_pruners_warnings_point_at_the_users_loop(tmp_path, steps):
    """Under PatientPruner (the README shows both) the warning about `steps=` named a line of Optuna's code."""
    history = loss_history(tmp_path / "history")
    pruner = optuna.pruners.PatientPruner(ForecastPruner(steps=steps, history=history, metric="val_ce",
                                                         fit_cache=False), patience=0)
    study = optuna.create_study(direction="minimize", pruner=pruner)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(lora_objective, n_trials=4)
    ours = [w for w in caught if "ForecastPruner(steps=" in str(w.message)]
    assert ours, [str(w.message) for w in caught]
    assert {Path(w.filename).name for w in ours} == {Path(__file__).name}, [(w.filename, w.lineno) for w in ours]


def test_a_loss_history_without_metric_says_to_name_the_metric(tmp_path):
    """The history's column was missing as 'test_acc' with no word of the default or of metric=."""
    history = loss_history(tmp_path / "history")
    with pytest.raises(PrunerError, match=r"reads 'test_acc' unless told; give metric="):
        ForecastPruner(steps=750, history=history)


def test_a_warmup_within_the_last_interval_says_nothing_is_pruned(tmp_path):
    """warmup=740 of 750 steps passes the constructor (a step count), but trials reporting every 15 steps reach 750
    next, where they have finished: nothing was ever pruned, and nothing said so."""
    history = loss_history(tmp_path / "history")
    pruner = ForecastPruner(steps=750, history=history, metric="val_ce", warmup=740, fit_cache=False)
    study = optuna.create_study(direction="minimize", pruner=pruner)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(lora_objective, n_trials=6)
    said = [str(w.message) for w in caught if "nothing is pruned" in str(w.message)]
    assert len(said) == 1 and "warmup=740" in said[0] and "step 750" in said[0], [str(w.message) for w in caught]
    assert Path(next(w.filename for w in caught if "nothing is pruned" in str(w.message))).name == Path(__file__).name


def test_the_mixed_intervals_note_says_the_intervals_as_logged(capsys):
    """35 curves logged every 125 steps and one every 250 were said to be logged 'a grid point each 123.077 to
    249.474 steps', seen 'to steps 615.385 to 1247.37': the grid's spacing, which reads as malformed logs."""
    from lcpipe.cli import main as cli

    cli(["evaluate", "--curves", str(Path(__file__).parents[1] / "examples" / "lm-losses" / "history"),
         "--metric", "val_loss", "--cutoffs", "5", "--predictors", "last_value"])
    note = [line for line in capsys.readouterr().err.splitlines() if "logged at different intervals" in line]
    assert len(note) == 1 and "(every 125 to 250 steps)" in note[0] and "about step 615 to 1247;" in note[0], note


def test_a_step_logged_runs_json_and_frame_say_they_count_steps(tmp_path):
    """`"epochs": 133333` and forecast_at 31515.1, ... for a run logged by optimizer step, with nothing saying the
    numbers are steps: the JSON and the DataFrame now carry each run's unit."""
    import json

    import lcpipe
    from lcpipe.cli import main as cli

    examples = Path(__file__).parents[1] / "examples" / "lm-losses"
    out = tmp_path / "lm.json"
    cli(["forecast", "--history", str(examples / "history"), "--runs", str(examples / "runs"), "--metric", "val_loss",
         "--steps", "133333", "--out", str(out)])
    runs = json.loads(out.read_text())["runs"]
    assert runs and {r["unit"] for r in runs} == {"steps"} and all(r["epochs"] == 133333 for r in runs)
    frame = lcpipe.forecast(history=examples / "history", runs=examples / "runs", steps=133333, metric="val_loss")
    assert set(frame["unit"]) == {"steps"}
    by_epoch = lcpipe.forecast(history=examples / "history", runs={"r": [3.5, 3.4, 3.3, 3.25, 3.2, 3.18]},
                               epochs=40, metric="val_loss")
    assert list(by_epoch["unit"]) == ["epochs"]


def test_evaluate_with_a_history_names_the_regret_unit_and_fits_once_for_every_target(capsys):
    """On a loss the decision table's regret was in '(units)', and stderr said 'plain34: fitting ... on 8 source
    curves', naming one target, for a fit every target shares."""
    from lcpipe.cli import main as cli

    curves = Path(__file__).parents[1] / "bench" / "lm_table" / "curves"
    cli(["evaluate", "--curves", str(curves / "code"), "--history", str(curves / "docs"), "--metric", "val_ce",
         "--cutoffs", "10", "--predictors", "last_value"])
    out, err = capsys.readouterr()
    assert "| regret (val_ce) |" in out, out
    assert "fitting last_value on the 40 history curves, once for every target" in err.splitlines(), err
    assert ": fitting" not in err, err


def lora_folder(folder: Path, task: str = "code", n: int = 10, evaluations: int | None = None) -> Path:
    """The first `n` trials of a bench/lm_table task (their sidecars too), cut to `evaluations` when given."""
    source = Path(__file__).parents[1] / "bench" / "lm_table" / "curves" / task
    folder.mkdir(parents=True)
    for csv in sorted(source.glob("t*.csv"))[:n]:
        lines = csv.read_text().splitlines(keepends=True)
        (folder / csv.name).write_text("".join(lines[:1 + evaluations] if evaluations else lines))
        (folder / csv.name).with_suffix(".json").write_text(csv.with_suffix(".json").read_text())
    return folder


def zero_at(path: Path, row: int) -> None:
    """A missed evaluation logged as 0: the loss of data row `row` (from 1) written as 0.0."""
    lines = path.read_text().splitlines(keepends=True)
    step = lines[row].split(",")[0]
    lines[row] = f"{step},0.0,{lines[row].split(',')[2]}"
    path.write_text("".join(lines))


def test_a_missed_evaluation_logged_as_0_is_no_target_source_or_live_run(tmp_path, capsys):
    """One val_ce logged as 0.0 among ~1.9s: evaluate scored every target off it (source_shift forecast 43 for finals
    near 1.9, exit 0, nothing said), and forecast gave that run a band [3e-10, 5.5e8], kept, and cut the healthy
    runs' P(ends best). As in a history, such a curve is left out, named with where."""
    import json

    from lcpipe.cli import main as cli

    curves = lora_folder(tmp_path / "curves")
    zero_at(curves / "t03.csv", 20)
    cli(["evaluate", "--curves", str(curves), "--metric", "val_ce", "--mode", "min", "--cutoffs", "10",
         "--predictors", "last_value,source_shift", "--out", str(tmp_path / "e.json")])
    out, err = capsys.readouterr()
    assert "t03.csv left out: val_ce reads 0 at step 300 straight after" in err, err
    rows = json.loads((tmp_path / "e.json").read_text())["results"]
    assert {r["target"] for r in rows} == {f"t{i:02d}" for i in range(10)} - {"t03"}
    assert max(abs(r["final_predicted"] - r["final_actual"]) for r in rows) < 0.2  # no forecast of 43
    runs = lora_folder(tmp_path / "runs", evaluations=12)
    zero_at(runs / "t05.csv", 7)
    cli(["forecast", "--history", str(lora_folder(tmp_path / "history", task="docs")), "--runs", str(runs),
         "--metric", "val_ce", "--mode", "min", "--epochs", "50", "--out", str(tmp_path / "f.json")])
    out, err = capsys.readouterr()
    report = json.loads((tmp_path / "f.json").read_text())
    assert [r["run"] for r in report["left_out"]] == ["t05"]
    assert "reads 0 at step 105" in report["left_out"][0]["reason"]
    assert "t05" not in {r["run"] for r in report["runs"]} and "left out; log that evaluation again" in err


def test_curves_logged_by_step_that_end_before_their_plan_are_said_to_be_read_as_finished(tmp_path, capsys):
    """A sweep's pruned trials (20 of 50 evaluations, beside `max_steps: 750`) were read as finished, as targets
    scored against their step-300 value and as history, with no word: a run stopped at its target (AlgoPerf) is
    finished there, a pruned one is not, and only the user knows which."""
    from lcpipe.cli import main as cli

    curves = lora_folder(tmp_path / "curves")
    for pruned in ("t02.csv", "t07.csv"):
        lines = (curves / pruned).read_text().splitlines(keepends=True)
        (curves / pruned).write_text("".join(lines[:21]))  # the header and 20 evaluations: step 300 of 750
    cli(["evaluate", "--curves", str(curves), "--metric", "val_ce", "--cutoffs", "5", "--predictors", "last_value"])
    err = capsys.readouterr().err
    assert "note: 2 curve(s) of --curves logged by step end before the steps their files plan (e.g. " in err, err
    assert "t02.csv at step 300 of 750); each is read as finished where it stopped" in err, err
    cli(["forecast", "--history", str(curves), "--runs", str(lora_folder(tmp_path / "runs", "docs", 6, 12)),
         "--metric", "val_ce", "--epochs", "50"])
    assert "note: 2 curve(s) of the history logged by step end" in capsys.readouterr().err


def test_a_nan_followed_by_finite_values_says_so_in_the_diverged_reason(tmp_path):
    """One NaN among finite evaluations stopped the run as diverged and dropped the rest without a word."""
    from lcpipe.forecasting.logs import read_curve
    from lcpipe.metric import Metric

    path = tmp_path / "run.csv"
    path.write_text("step,val_ce\n15,2.1\n30,2.05\n45,NaN\n60,2.01\n75,1.99\n")
    glitch = read_curve(path, Metric.infer("val_ce", "min")).diverged
    assert glitch.startswith("val_ce is 'NaN' at step 45 (line 4); 2 finite value(s) follow it"), glitch
    path.write_text("step,val_ce\n15,2.1\n30,2.05\n45,NaN\n60,NaN\n")
    assert read_curve(path, Metric.infer("val_ce", "min")).diverged == "val_ce is 'NaN' at step 45 (line 4)"


def test_epochs_that_every_step_logged_run_has_reached_says_it_reads_them_as_finished(tmp_path, capsys):
    """Runs evaluated every 10 steps, 5 times, under --epochs 50: step 50 read as the planned step, every run
    finished and 7 of 8 stopped, silently, where 50 was the evaluations planned."""
    from lcpipe.cli import main as cli

    runs = tmp_path / "runs"
    runs.mkdir()
    for i in range(4):
        (runs / f"r{i}.csv").write_text("step,val_ce\n" + "".join(f"{s},{2.1 - 0.01 * i - s / 1000:.4f}\n"
                                                                  for s in range(10, 51, 10)))
    cli(["forecast", "--history", str(lora_folder(tmp_path / "history", "docs", 6)), "--runs", str(runs),
         "--metric", "val_ce", "--epochs", "50"])
    assert ("--epochs 50: every run logged by optimizer step has reached step 50, so each is read as finished; if 50 "
            "counts evaluations, give --steps the planned step") in capsys.readouterr().err


def test_curves_evaluated_every_10_and_every_15_steps_get_the_intervals_note(tmp_path, capsys):
    """15 is 1.5 x 10 exactly, which the 'more than half' rule let pass: at cutoff 10 one half is seen to step 100,
    the other to 150."""
    from lcpipe.cli import main as cli

    for i in range(6):
        every = 10 if i % 2 else 15
        ce = {s: 1.9 + 0.01 * i + 0.3 * np.exp(-s / 200) for s in np.arange(every, 751, every)}
        (tmp_path / f"r{i}.csv").write_text("step,val_ce\n" + "".join(f"{s},{v:.5f}\n" for s, v in ce.items()))
    cli(["evaluate", "--curves", str(tmp_path), "--metric", "val_ce", "--cutoffs", "10", "--predictors", "last_value"])
    assert "note: the curves are logged at different intervals (every 10 to 15 steps)" in capsys.readouterr().err


def test_a_length_a_runs_own_file_overrides_is_said(tmp_path, capsys):
    """--steps 600 on runs whose sidecars plan 750 steps was dropped without a word (the table's denominator alone
    showed it); 50 evaluations every 15 steps beside a plan of step 750 agree and say nothing."""
    from lcpipe.cli import main as cli

    history, runs = lora_folder(tmp_path / "history", "docs", 6), lora_folder(tmp_path / "runs", evaluations=12, n=4)
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--steps", "600"])
    assert "--steps 600: 4 run(s) plan their own length in their files, which is used instead (e.g. " \
           f"{runs / 't00.csv'}: 750 steps)" in capsys.readouterr().err
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--epochs", "50"])
    assert "plan their own length" not in capsys.readouterr().err


def test_a_sidecar_naming_lr_learning_rate_is_read_and_the_config_line_counts_each_key(tmp_path, capsys):
    """Hugging Face's TrainingArguments name the lr `learning_rate`: such a sidecar's lr was never compared. And the
    config line said '40 of 40 runs state them' where 16 gave lr in a form nothing read."""
    import json

    from lcpipe.cli import main as cli

    history, runs = lora_folder(tmp_path / "history", "docs", 6), lora_folder(tmp_path / "runs", evaluations=12, n=4)
    for i, sidecar in enumerate(sorted(runs.glob("*.json"))):
        config = json.loads(sidecar.read_text())
        lr = config.pop("lr")
        config["learning_rate"] = lr if i < 2 else [lr]  # two as numbers, two as lists (numbers written as text,
        # as MLflow writes every param, are numbers since 2026-12-06: tests/test_red_team_dec6g.py)
        sidecar.write_text(json.dumps(config))
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--epochs", "50"])
    line = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("config: "))
    assert "used arch, dataset, lr, optimizer, schedule (4 of 4 runs, 6 of 6 history curves state them; of those " \
           "runs, only lr by 2)" in line, line
    assert "ignored (not a value lcpipe reads there): lr=[" in line, line


def half_epochs(folder: Path, n: int, points: int = 20, offset: float = 0.0) -> Path:
    """Validation every half epoch, logged on an epoch axis (epoch 0.5, 1.0, ...): runs that count epochs."""
    folder.mkdir()
    for i in range(n):
        e = np.arange(1, points + 1) / 2
        loss = (1.5 + offset + 0.1 * i) * np.exp(-e / (2 + i)) + 0.4
        (folder / f"r{i}.csv").write_text("epoch,val_loss\n" + "".join(f"{a:g},{v:.5f}\n" for a, v in zip(e, loss)))
    return folder


def test_half_epoch_runs_count_epochs_and_get_no_step_note(tmp_path, capsys):
    """Review of this work: a run on an epoch axis at half epochs was given unit "steps" (its numbers count
    epochs), and finished such runs under --epochs 10 were told to give --steps, which is then refused."""
    import json

    from lcpipe.cli import main as cli

    history = half_epochs(tmp_path / "history", 8)
    live = half_epochs(tmp_path / "live", 3, points=12, offset=0.05)
    done = half_epochs(tmp_path / "done", 3, offset=0.05)
    cli(["forecast", "--history", str(history), "--runs", str(live), "--metric", "val_loss", "--epochs", "10",
         "--out", str(tmp_path / "f.json")])
    runs = json.loads((tmp_path / "f.json").read_text())["runs"]
    assert {r["unit"] for r in runs} == {"epochs"} and {r["observed"] for r in runs} == {6}
    cli(["forecast", "--history", str(history), "--runs", str(done), "--metric", "val_loss", "--epochs", "10"])
    out, err = capsys.readouterr()
    assert "has reached step" not in err and "epochs seen" in out, err


def test_one_interval_on_grids_of_two_spacings_is_said_as_such(tmp_path, capsys):
    """Every curve logged every 10 steps, some 4,000 long and some 10,000 (its grid capped at 500 points, a point
    each 20 steps): the note said 'every 10 to 10 steps'. Every 10 and every 20 steps on one 20-step grid: none."""
    from lcpipe.cli import main as cli

    for name, lengths, every in (("capped", (400, 400, 1000, 1000), (10, 10, 10, 10)),
                                 ("one_grid", (1000, 500, 1000, 500), (10, 20, 10, 20))):
        folder = tmp_path / name
        folder.mkdir()
        for i, (n, k) in enumerate(zip(lengths, every)):
            s = np.arange(1, n + 1) * k
            s = s[s <= 10_000]
            (folder / f"r{i}.csv").write_text("step,val_loss\n" + "".join(
                f"{a},{(2 + 0.1 * i) * (1 + a / 500) ** -0.3:.6f}\n" for a in s))
        cli(["evaluate", "--curves", str(folder), "--metric", "val_loss", "--cutoffs", "100", "--predictors",
             "last_value"])
        notes = [x for x in capsys.readouterr().err.splitlines() if x.startswith("note: the curves are")]
        assert notes == ([] if name == "one_grid" else [
            "note: the curves are put on grids of different spacing (a point each 10 to 20 steps: a grid holds at "
            "most 500 points); a cutoff counts each curve's own grid points, so at cutoff 100 they are seen to about "
            "step 1000 to 2000; compare curves logged at one interval and of one length"]), notes


def test_curves_ending_within_5_percent_of_their_plan_get_no_note_and_the_pruner_says_it(tmp_path):
    """AlgoPerf evaluates by the clock: ImageNet runs ending at 98.5-99 % of max_steps were flagged as maybe pruned.
    And ForecastPruner dropped the note (its history read with no `say`), where its README tells users to give it
    earlier sweeps, pruned trials and all."""
    from lcpipe.forecasting.logs import note_ended_early, read_curve_dir

    curves = lora_folder(tmp_path / "curves", n=4)
    lines = (curves / "t01.csv").read_text().splitlines(keepends=True)
    (curves / "t01.csv").write_text("".join(lines[:49]))  # step 720 of 750: 96 %
    said: list[str] = []
    note_ended_early(read_curve_dir(curves, "val_ce"), "--curves", said.append)
    assert said == []
    (curves / "t02.csv").write_text("".join((curves / "t02.csv").read_text().splitlines(keepends=True)[:21]))
    with pytest.warns(UserWarning, match=r"ForecastPruner history: note: 1 curve\(s\) of the history logged by step "
                                         r"end before the steps their files plan \(e\.g\. .*t02\.csv at step 300 of "
                                         r"750\)"):
        ForecastPruner(steps=750, history=curves, metric="val_ce", fit_cache=False)


@pytest.mark.parametrize("reports", [(240, 480, 720), (250, 500, 750), (375, 750)],
                         ids=["last-before-the-end", "last-at-the-end", "twice"])
def test_trials_reporting_too_seldom_are_told_so_not_to_lower_the_warmup(tmp_path, reports):
    """Trials reporting 3 times in 750 steps are never checked (none before its third report, and then it has
    finished). At 240 / 480 / 720 the warning blamed warmup=0 and asked for a smaller one; at 250 / 500 / 750 (the
    third report the end, where no check runs) it was never reached, and nothing was pruned without a word."""
    pruner = ForecastPruner(steps=750, history=loss_history(tmp_path / "history"), metric="val_ce", fit_cache=False)
    study = optuna.create_study(direction="minimize", pruner=pruner)

    def objective(trial):
        for step in reports:
            trial.report(2.0 + 0.01 * trial.number - step / 5000, step=step)
            trial.should_prune()
        return 2.0 + 0.01 * trial.number - reports[-1] / 5000

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(objective, n_trials=4)
    said = [str(w.message) for w in caught if "nothing is pruned" in str(w.message)]
    times = f"trial 0 reported {len(reports)} times up to its end" if len(reports) < 3 else "the trials report 3 times"
    assert len(said) == 1 and said[0].startswith(f"ForecastPruner: {times}") and "report more often" in said[0], said
    assert "smaller warmup" not in said[0]


def test_a_live_run_logged_from_step_0_is_still_caught_as_a_prefix_of_its_history_copy(tmp_path, capsys):
    """The run with an evaluation at step 0 (before training) and its copy in the history without it: the leak check
    compared the two from their first rows, missed it, and the run was forecast from its own future, sure of it."""
    from lcpipe.cli import main as cli

    history = lora_folder(tmp_path / "history", n=8)
    runs = lora_folder(tmp_path / "runs", n=3, evaluations=12)
    for csv in runs.glob("*.csv"):
        header, *rows = csv.read_text().splitlines(keepends=True)
        csv.write_text(header + "0,5.54518,5.5\n" + "".join(rows))
    with pytest.raises(SystemExit) as exit_:
        cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_ce", "--epochs", "50"])
    assert exit_.value.code == 2
    assert "is a live run, and its 12 evaluations after step 0 are the first 12 of the history curve" \
        in capsys.readouterr().err
    # leave-one-out (evaluate without --history): one curve logged from step 0, its copy in the folder without it
    folder = lora_folder(tmp_path / "study", n=5)
    header, *rows = (folder / "t00.csv").read_text().splitlines(keepends=True)
    (folder / "t00_from_0.csv").write_text(header + "0,5.54518,5.5\n" + "".join(rows))
    with pytest.raises(SystemExit):
        cli(["evaluate", "--curves", str(folder), "--metric", "val_ce", "--cutoffs", "10", "--predictors",
             "last_value"])
    err = capsys.readouterr().err
    assert "t00" in err and "a copy, so leave-one-out would forecast the one from the other" in err, err


def test_a_lightning_runs_decayed_learning_rate_is_no_lr_and_its_hparams_learning_rate_is(tmp_path):
    """Review of the learning_rate alias: metrics.json beside Lightning's log holds final metrics, a decayed
    learning_rate among them, which the alias made the run's lr; hparams.yaml's learning_rate is the lr."""
    from lcpipe.forecasting.logs import read_curve

    run = tmp_path / "lightning_logs" / "version_0"
    run.mkdir(parents=True)
    (run / "metrics.csv").write_text("epoch,step,val_loss\n" + "".join(f"{e},{10 * (e + 1)},{2 - 0.1 * e}\n"
                                                                       for e in range(6)))
    (run / "metrics.json").write_text('{"learning_rate": 1e-06, "optimizer": "adamw", "test_acc": 0.9}')
    for hparams, lr in (("learning_rate: 0.01\n", 0.01), ("lr: 0.02\n", 0.02), ("batch_size: 32\n", None)):
        (run / "hparams.yaml").write_text(hparams)
        config = read_curve(run / "metrics.csv", "val_loss").config
        assert config.get("lr") == lr and config["optimizer"] == "adamw", config


def test_an_epoch_column_every_2_epochs_counts_epochs_in_python_as_on_the_cli(tmp_path):
    """Review: runs with an `epoch` column every 2 whole epochs got unit "epochs" from the CLI and "steps" from
    lcpipe.forecast on the same data (the API took only a fractional axis for an epoch axis)."""
    import json

    import pandas as pd

    import lcpipe
    from lcpipe.cli import main as cli

    def loss(i, e, off=0.0):
        return (1.5 + off + 0.1 * i) * np.exp(-e / (2 + i)) + 0.4

    e2 = np.arange(2, 42, 2)
    history = pd.DataFrame({"epoch": e2, **{f"h{i}": loss(i, e2 / 2) for i in range(8)}})
    runs = pd.DataFrame({"epoch": e2[:6], **{f"r{i}": loss(i, e2[:6] / 2, 0.05) for i in range(3)}})
    frame = lcpipe.forecast(history=history, runs=runs, epochs=40, metric="val_loss")
    by_series = lcpipe.forecast(history=history, runs={"r0": runs.set_index("epoch")["r0"]}, epochs=40,
                                metric="val_loss")
    for folder, data in (("h", history), ("r", runs)):
        (tmp_path / folder).mkdir()
        for name in data.columns[1:]:
            data[["epoch", name]].rename(columns={name: "val_loss"}).to_csv(tmp_path / folder / f"{name}.csv",
                                                                            index=False)
    cli(["forecast", "--history", str(tmp_path / "h"), "--runs", str(tmp_path / "r"), "--metric", "val_loss",
         "--epochs", "40", "--out", str(tmp_path / "f.json")])
    on_cli = {r["run"]: r for r in json.loads((tmp_path / "f.json").read_text())["runs"]}
    assert set(frame["unit"]) == set(by_series["unit"]) == {r["unit"] for r in on_cli.values()} == {"epochs"}
    for row in frame.itertuples():
        assert row.final == pytest.approx(on_cli[row.run]["final"]["mean"], rel=1e-5)


def test_a_sidecar_with_sections_is_read_its_lr_and_planned_steps_from_inside_them(tmp_path, capsys):
    """A sidecar of sections ({"training_args": {"learning_rate": ..., "max_steps": 750}, "lora": {...}}, as Hydra
    and Hugging Face users write them) lost its lr, its planned length and its other settings, silently; W&B's
    {"value": v, "desc": ...} entries were maps, not values. One key stated in two sections stays where it is."""
    import json

    from lcpipe.forecasting.logs import read_curve

    run = lora_folder(tmp_path / "runs", n=1, evaluations=12) / "t00.csv"
    flat = json.loads(run.with_suffix(".json").read_text())
    run.with_suffix(".json").write_text(json.dumps({
        "training_args": {"learning_rate": flat["lr"], "max_steps": 750, "lr_scheduler_type": flat["schedule"]},
        "lora": {"r": flat["rank"], "lora_dropout": flat["lora_dropout"]},
        "optimizer": {"value": "adamw", "desc": None}, "dataset": flat["dataset"],
        "model": {"dropout": 0.1}, "head": {"dropout": 0.2}, "scheduler": {"steps": [300, 600]},
        "warmup": {"epochs": 5}}))
    curve = read_curve(run, "val_ce")
    assert curve.planned == 750 and curve.config["lr"] == flat["lr"] and curve.config["optimizer"] == "adamw"
    assert curve.config["lora.r"] == flat["rank"] and curve.config["model.dropout"] == 0.1
    assert "dropout" not in curve.config and "learning_rate" not in curve.config
    assert curve.config["scheduler.steps"] == [300, 600] and "steps" not in curve.config  # milestones, no length
    assert curve.config["warmup.epochs"] == 5  # a warmup's, not the run's length
