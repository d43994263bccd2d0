"""Defects left open in earlier notes, fixed on 2026-12-06. Each test failed on e5aa4c9, before this work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lcpipe
from lcpipe.cli import main as cli
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.logs import NotStarted, read_curve
from lcpipe.metric import Metric

LOSS = Metric.infer("val_loss", "min")


def wandb_export(steps, losses) -> str:
    """W&B's history export of a loop that logs `wandb.log({"val_loss": v, "step": s})`: W&B's own `_step` counts
    the log calls (0, 1, 2, ...) beside the run's `step`, with W&B's `_runtime` and `_timestamp`."""
    rows = [f"{i},{s},{v:.5f},{3.1 * i:.1f},{1_700_000_000 + 3 * i}" for i, (s, v) in enumerate(zip(steps, losses))]
    return "\n".join(["_step,step,val_loss,_runtime,_timestamp", *rows]) + "\n"


def test_a_wandb_export_with_the_runs_own_step_is_read_on_it(tmp_path):
    """`_step` and `step` fold to one name, and the log was refused as two columns named step; the run's own step
    is the one meant (W&B's counts its log calls)."""
    steps = 15 * np.arange(1, 13)
    losses = 2.01 + 1.52 * np.exp(-steps / 200)
    path = tmp_path / "run.csv"
    path.write_text(wandb_export(steps, losses))
    curve = read_curve(path, LOSS)
    assert list(curve.steps) == list(steps)
    np.testing.assert_allclose(curve.metric("val_loss"), losses, atol=1e-5)
    # the same log as a DataFrame (W&B's run.history() returns one), beside a history exported alike
    history = tmp_path / "history"
    history.mkdir()
    grid = 15 * np.arange(1, 51)
    for i in range(4):
        (history / f"h{i}.csv").write_text(wandb_export(grid, 2 + (1.4 + 0.05 * i) * np.exp(-grid / 200)))
    told = lcpipe.forecast(history=history, runs={"run": pd.read_csv(path)}, metric="val_loss", mode="min",
                           steps=750)
    assert told.loc[0, "observed"] == 180 and told.loc[0, "epochs"] == 750


def test_a_live_log_of_train_rows_alone_is_left_out_until_it_evaluates(tmp_path, capsys):
    """A run whose log holds train rows and a metric column still blank in every row (a W&B export, or an HF
    log_history as a DataFrame, before the first evaluation) stopped the whole forecast as "column 'val_loss' is
    blank"; a file of its header alone was already left out. As a history curve it is one line."""
    history, runs = tmp_path / "history", tmp_path / "runs"
    history.mkdir(), runs.mkdir()
    grid = 15 * np.arange(1, 51)
    for i in range(4):
        (history / f"h{i}.csv").write_text(wandb_export(grid, 2 + (1.4 + 0.05 * i) * np.exp(-grid / 200)))
    for i in range(2):
        (runs / f"r{i}.csv").write_text(wandb_export(grid[:12], 2.01 + (1.42 + 0.05 * i) * np.exp(-grid[:12] / 200)))
    new = "step,loss,learning_rate,val_loss\n5,2.9,0.0001,\n10,2.8,0.0001,\n"
    (runs / "new.csv").write_text(new)
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_loss", "--steps", "750"])
    out, err = capsys.readouterr()
    assert "new.csv: column 'val_loss' blank in each of its 2 rows: no evaluation logged yet" in err
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["r0", "r1"]
    frame = pd.read_csv(runs / "new.csv")
    with pytest.warns(UserWarning, match="run 'new': column 'val_loss' blank in each of its 2 rows: no evaluation"):
        told = lcpipe.forecast(history=history, runs={"r0": pd.read_csv(runs / "r0.csv"), "new": frame},
                               metric="val_loss", mode="min", steps=750)
    assert list(told["run"]) == ["r0"]
    (history / "h4.csv").write_text(new)
    with pytest.raises(LcpipeError, match=r"h4.csv: column 'val_loss' is blank in each of its 2 rows: no evaluation"):
        lcpipe.forecast(history=history, runs=runs, metric="val_loss", mode="min", steps=750)


def epoch_history(tmp_path, metric: str):
    """history/h0..h3.csv: four finished 50-epoch loss curves of `metric`."""
    history = tmp_path / "history"
    history.mkdir()
    for i in range(4):
        rows = "".join(f"{e + 1},{2.0 + 0.03 * i + 1.45 * np.exp(-(e + 1) / 8):.4f}\n" for e in range(50))
        (history / f"h{i}.csv").write_text(f"epoch,{metric}\n" + rows)
    return history


def lightning_version(root, n: int, evaluated: bool) -> None:
    """lightning_logs/version_n: a CSVLogger's metrics.csv (its val_loss column appears with the first validation:
    the logger writes the keys logged so far) and hparams.yaml."""
    run = root / f"version_{n}"
    run.mkdir(parents=True)
    (run / "hparams.yaml").write_text(f"lr: {0.001 * (n + 1)}\n")
    if not evaluated:
        (run / "metrics.csv").write_text("epoch,step,train_loss\n0,49,2.95\n0,99,2.90\n")
        return
    rows = "".join(f"{e},{100 * e + 99},{2.0 + n * 0.02 + 1.5 * np.exp(-(e + 1) / 8):.4f}\n" for e in range(12))
    (run / "metrics.csv").write_text("epoch,step,val_loss\n" + rows)


def test_a_live_run_whose_logger_adds_the_metric_at_its_first_evaluation_waits_for_it(tmp_path, capsys):
    """Review: real loggers write no metric column before the first evaluation (an HF log_history as a DataFrame,
    Lightning's CSVLogger, W&B's run.history()), and the whole forecast stopped on "missing column"; so did
    `--runs lightning_logs` with one version not yet validated, which `--runs lightning_logs/version_*` left out.
    A name mistyped, missing from every run, is still one line naming the column and a header."""
    history = epoch_history(tmp_path, "val_loss")
    logs = tmp_path / "lightning_logs"
    for n in range(3):
        lightning_version(logs, n, evaluated=n < 2)
    cli(["forecast", "--history", str(history), "--runs", str(logs), "--metric", "val_loss", "--epochs", "50",
         "--out", str(tmp_path / "f.json")])
    out, err = capsys.readouterr()
    assert "version_2/metrics.csv: no column 'val_loss' yet, the metric to forecast (its header: epoch, step, " \
           "train_loss): left out until it evaluates" in err
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["version_0", "version_1"]
    import json
    assert {r["run"] for r in json.loads((tmp_path / "f.json").read_text())["left_out"]} == {"version_2"}
    (logs / "version_3").mkdir()  # Lightning writes hparams.yaml at the start, metrics.csv at its first flush
    (logs / "version_3" / "hparams.yaml").write_text("lr: 0.004\n")
    for runs in ([str(logs)], [str(p) for p in sorted(logs.iterdir())]):
        cli(["forecast", "--history", str(history), "--runs", *runs, "--metric", "val_loss", "--epochs", "50"])
        out, err = capsys.readouterr()
        assert "version_3: no metrics.csv yet" in err, err
        assert [line.split()[0] for line in out.splitlines()[1:]] == ["version_0", "version_1"]
    (tmp_path / "new.csv").write_text("epoch,val_loss\n")  # a run given first, its header alone: the folder after it
    cli(["forecast", "--history", str(history), "--runs", str(tmp_path / "new.csv"), str(logs), "--metric", "val_loss",
         "--epochs", "50"])  # is still read (it was taken for a folder of runs none of which had started)
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["version_0", "version_1"]
    hf = pd.DataFrame([{"loss": 2.9, "learning_rate": 1e-4, "epoch": 0.1, "step": 10},
                       {"loss": 2.8, "learning_rate": 1e-4, "epoch": 0.2, "step": 20}])
    with pytest.warns(UserWarning, match="run 'hf': no column 'val_loss' yet"):
        told = lcpipe.forecast(history=history, runs={"hf": hf, "v0": pd.read_csv(logs / "version_0" / "metrics.csv")},
                               metric="val_loss", mode="min", epochs=50)
    assert list(told["run"]) == ["v0"]
    with pytest.raises(LcpipeError, match=r"h0.csv: missing column 'val_los', the metric to forecast; the header is "
                                          r"epoch, val_loss"):  # a name mistyped: the history has it neither
        lcpipe.forecast(history=history, runs=logs, metric="val_los", mode="min", epochs=50)
    with pytest.raises(LcpipeError, match=r"version_2/metrics.csv: no column 'val_loss' yet, the metric to forecast "
                                          r"\(its header: epoch, step, train_loss\)$"):  # nothing to forecast yet
        lcpipe.forecast(history=history, runs=logs / "version_2", metric="val_loss", mode="min", epochs=50)

def test_a_run_with_an_evaluation_row_whose_metric_is_blank_is_not_left_out_as_waiting(tmp_path):
    """Review of the rule above: pandas writes a NaN eval_loss blank, so an HF run that diverged at its first
    evaluation (an eval row: eval_runtime filled) was left out as not evaluated yet; and a run that ended with no
    evaluation (a train summary row) was told to wait. Both are one line, as before."""
    train = "".join(f"2.9,0.0001,{s / 500},{s},,,\n" for s in range(10, 60, 10))
    diverged = tmp_path / "diverged.csv"
    diverged.write_text("loss,learning_rate,epoch,step,eval_loss,eval_runtime,train_runtime\n" + train
                        + ",,0.1,50,,1.2,\n")
    ended = tmp_path / "ended.csv"
    ended.write_text("loss,learning_rate,epoch,step,eval_loss,eval_runtime,train_runtime\n" + train
                     + ",,0.1,50,,,100.0\n")
    for path in (diverged, ended):
        with pytest.raises(LcpipeError) as refused:
            read_curve(path, Metric.infer("eval_loss", "min"))
        assert not isinstance(refused.value, NotStarted), refused.value


@pytest.mark.parametrize("log, why", [
    ("epoch,eval/loss\n" + "".join(f"{e},{2 - 0.01 * e}\n" for e in range(1, 31)), r"\(if 'eval/loss' is the metric"),
    ("loss,learning_rate,epoch,step,train_runtime\n2.9,0.0001,0.1,10,\n2.8,0.0001,0.2,20,\n,,0.22,22,100.0\n",
     "missing column 'eval_loss'"),
    ("epoch,train_loss,eval_loss,eval_acc\n1,,,0.1\n2,,,0.1\n3,,,0.1\n", "column 'eval_loss' is blank"),
], ids=["another_name", "ended_without_evaluating", "evaluated_blank"])
def test_a_run_that_evaluated_or_ended_without_the_metric_is_refused_not_left_out(tmp_path, log, why):
    """Second review: a run logging the metric under another name (W&B's eval/loss), one whose train summary shows it
    ended, and one whose other evaluation columns are filled around a blank metric (pandas writes NaN blank) were left
    out as not evaluated yet; each is one line, as before."""
    (tmp_path / "run.csv").write_text(log)
    with pytest.raises(LcpipeError, match=why) as refused:
        read_curve(tmp_path / "run.csv", Metric.infer("eval_loss", "min"))
    assert not isinstance(refused.value, NotStarted)


def dvclive_run(root, name: str, metrics: dict[str, list[float]]) -> None:
    """A DVCLive run folder: plots/metrics/<metric>.tsv (a '/' in a metric's name is a subfolder)."""
    for metric, values in metrics.items():
        tsv = root / name / "plots" / "metrics" / f"{metric}.tsv"
        tsv.parent.mkdir(parents=True, exist_ok=True)
        last = metric.rsplit("/", 1)[-1]
        tsv.write_text(f"timestamp\tstep\t{last}\n" + "".join(f"{1_700_000_000 + s}\t{s}\t{v}\n"
                                                                for s, v in enumerate(values)))


def test_a_live_dvclive_run_before_its_first_evaluation_waits_and_one_logging_another_name_is_refused(tmp_path,
                                                                                                      capsys):
    """Second review: a DVCLive run logs train/loss from its first step and eval/loss only at its first evaluation;
    until then the whole forecast stopped on "DVCLive folder without plots/metrics/eval/loss.tsv"."""
    history = epoch_history(tmp_path, "eval/loss")
    runs = tmp_path / "runs"
    for i in range(2):
        dvclive_run(runs, f"r{i}", {"eval/loss": list(2.01 + 1.47 * np.exp(-np.arange(1, 13) / 8) + 0.02 * i),
                                    "train/loss": [2.5] * 12})
    dvclive_run(runs, "new", {"train/loss": [2.9, 2.8]})
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "eval/loss", "--epochs", "50"])
    out, err = capsys.readouterr()
    assert "new: no plots/metrics/eval/loss.tsv yet (it logged train/loss): left out until it evaluates" in err
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["r0", "r1"]
    for folder in (runs / "c" / "dvclive", runs / "d"):  # before its first step DVCLive has written params.yaml alone
        folder.mkdir(parents=True)  # (Live(); live.log_params(...), measured with dvclive 3)
        (folder / "params.yaml").write_text("lr: 0.1\n")
    for given in ([str(runs)], [str(runs / "c" / "dvclive"), str(runs / "r0")]):
        cli(["forecast", "--history", str(history), "--runs", *given, "--metric", "eval/loss", "--epochs", "50"])
        out, err = capsys.readouterr()
        assert "c/dvclive: no metrics yet (DVCLive writes params.yaml at the start" in err, err
        assert ("d: no metrics yet" in err) == (len(given) == 1)
    dvclive_run(runs, "other", {"eval/acc": [0.3, 0.4, 0.5, 0.6, 0.7]})
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "eval/loss", "--epochs", "50"])
    assert capsys.readouterr().err.endswith("other: DVCLive folder without plots/metrics/eval/loss.tsv; it logged "
                                            "eval/acc\n")


def test_which_logged_names_show_an_evaluation_follow_the_split_not_the_first_word(tmp_path):
    """Third review: with TensorBoard's naming (loss/train, loss/val) the quantity comes first, and a run that had
    logged loss/train alone was refused as one evaluated under another name; a single-word metric (`loss`) beside a
    filled val_loss, or blank beside a filled acc, was left out as not evaluated yet; a DVCLive metric file named `_`
    raised an IndexError."""
    from lcpipe.forecasting.logs import read_dvclive

    loss_val = Metric.infer("loss/val", "min")
    dvclive_run(tmp_path, "waiting", {"loss/train": [2.9, 2.8]})
    with pytest.raises(NotStarted, match="without plots/metrics/loss/val.tsv; it logged loss/train"):
        read_dvclive(tmp_path / "waiting", loss_val)
    (tmp_path / "waiting.csv").write_text("epoch,loss_train,loss_val\n1,2.9,\n2,2.8,\n")
    with pytest.raises(NotStarted):
        read_curve(tmp_path / "waiting.csv", Metric.infer("loss_val", "min"))
    dvclive_run(tmp_path, "odd", {"_": [1.0], "eval/acc": [0.5]})
    with pytest.raises(LcpipeError, match="it logged _, eval/acc$") as refused:
        read_dvclive(tmp_path / "odd", Metric.infer("eval/loss", "min"))
    assert not isinstance(refused.value, NotStarted)
    loss = Metric.infer("loss", "min")
    for log in ("epoch,val_loss\n1,2.0\n2,1.9\n", "epoch,loss,acc\n1,,0.1\n2,,0.2\n"):
        (tmp_path / "run.csv").write_text(log)
        with pytest.raises(LcpipeError) as refused:
            read_curve(tmp_path / "run.csv", loss)
        assert not isinstance(refused.value, NotStarted), log
    dvclive_run(tmp_path, "other", {"eval_loss": [2.0, 1.9]})
    with pytest.raises(LcpipeError, match=r"\(if 'eval_loss' is the metric, give that name\)"):
        read_dvclive(tmp_path / "other", Metric.infer("eval/loss", "min"))


def test_a_live_run_left_out_for_now_given_twice_is_refused_as_a_curve_is(tmp_path, capsys):
    """Third review: `--runs new.csv new.csv`, new.csv not evaluated yet, listed the run twice among those left out,
    where a curve given twice is refused."""
    history, runs = tmp_path / "history", tmp_path / "runs"
    history.mkdir(), runs.mkdir()
    for i in range(4):
        (history / f"h{i}.csv").write_text(wandb_export(15 * np.arange(1, 51), 2 + (1.4 + 0.05 * i) *
                                                        np.exp(-15 * np.arange(1, 51) / 200)))
    seen = 15 * np.arange(1, 13)
    (runs / "r0.csv").write_text(wandb_export(seen, 2.01 + 1.42 * np.exp(-seen / 200)))
    (runs / "new.csv").write_text("step,val_loss\n")
    with pytest.raises(SystemExit):
        cli(["forecast", "--history", str(history), "--runs", str(runs / "new.csv"), str(runs / "new.csv"),
             str(runs / "r0.csv"), "--metric", "val_loss", "--steps", "750"])
    assert capsys.readouterr().err.strip().endswith("new.csv is given twice; give each file or folder once")


def test_any_evaluation_split_shows_a_run_evaluated_and_a_loose_waiting_file_hides_no_folder_of_runs(tmp_path,
                                                                                                     capsys):
    """Fourth review: a run logging valid_loss (or eval_loss, validation_loss) under `--metric val_loss` was left out
    for good as not evaluated yet, only the metric's own split word counting; and a folder of Lightning versions
    beside a loose file not evaluated yet read as a folder of runs none of which had started (the forecast stopped,
    or with another run given, the versions were dropped without a word)."""
    val_loss = Metric.infer("val_loss", "min")
    for column in ("valid_loss", "eval_loss", "validation_loss", "validLoss"):
        (tmp_path / "run.csv").write_text(f"epoch,step,train_loss,{column}\n0,99,2.9,2.5\n1,199,2.7,2.3\n")
        with pytest.raises(LcpipeError) as refused:
            read_curve(tmp_path / "run.csv", val_loss)
        assert not isinstance(refused.value, NotStarted), column
    history = epoch_history(tmp_path, "val_loss")
    runs = tmp_path / "s2"
    for n in range(2):
        lightning_version(runs, n, evaluated=True)
    (runs / "new.csv").write_text("epoch,step,train_loss,val_loss\n0,49,2.95,\n")
    cli(["forecast", "--history", str(history), "--runs", str(runs), "--metric", "val_loss", "--epochs", "50"])
    out, err = capsys.readouterr()
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["version_0", "version_1"]
    assert "new.csv: column 'val_loss' blank in each of its 1 rows: no evaluation logged yet: left out until it " \
           "evaluates" in err
