"""Defects left open in earlier notes (readers of HF, Lightning and W&B logs; the decision table's unit), fixed on
2026-12-05 (night). Each test of such a defect failed on 364472e, before this work. The tests of what the three
reviews of these fixes found (said so in their docstrings) failed on the commit reviewed; some of them passed on
364472e too (a regression of the first fix), and two are guards (a missed evaluation, a repeated last step)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lcpipe.errors import LcpipeError
from lcpipe.forecasting.logs import read_curve
from lcpipe.metric import Metric

LOSS = Metric.infer("eval_loss", "min")


def hf_log_history(path, final_eval: float | None) -> list[float]:
    """An HF Trainer's log_history as a CSV: a train row every 50 steps, an eval row every 100 up to 1,000, the
    train summary row, then (final_eval) `trainer.evaluate()`'s row at step 1,000. -> the in-loop eval losses."""
    lines, evals = ["loss,learning_rate,epoch,step,eval_loss,eval_runtime,train_runtime,train_loss"], []
    for step in range(50, 1001, 50):
        lines.append(f"{2.5 * step ** -0.1:.4f},0.0001,{step / 500},{step},,,,")
        if step % 100 == 0:
            evals.append(round(2.6 * step ** -0.1 + 0.2, 4))
            lines.append(f",,{step / 500},{step},{evals[-1]},1.0,,")
    lines.append(",,2.0,1000,,,100.0,1.0")
    if final_eval is not None:
        lines.append(f",,2.0,1000,{final_eval},1.0,,")
    path.write_text("\n".join(lines) + "\n")
    return evals


def lightning_run(folder, hparams: str, sidecar: str, logged_lr: bool = False):
    """lightning_logs/version_0 with 10 epochs of val_loss (and an lr column), hparams.yaml and a metrics.json."""
    run = folder / "version_0"
    run.mkdir()
    lr = ",lr" if logged_lr else ""
    rows = [f"epoch,step,val_loss{lr}"] + [f"{e},{100 * (e + 1)},{2.0 * (e + 1) ** -0.3:.4f}{',0.1' if lr else ''}"
                                           for e in range(10)]
    (run / "metrics.csv").write_text("\n".join(rows) + "\n")
    (run / "hparams.yaml").write_text(hparams)
    (run / "metrics.json").write_text(sidecar)
    return read_curve(run / "metrics.csv", Metric.infer("val_loss", "min"))


def test_hf_final_evaluate_row_at_the_last_evaluation_step_is_not_a_resumed_run(tmp_path):
    """`trainer.train(); trainer.evaluate()` logs an eval row at the final step, where the in-loop evaluation
    already stands: the log was refused as "a run resumed from a checkpoint". The in-loop row is the curve's,
    also when the final row holds another value (load_best_model_at_end evaluates the best checkpoint)."""
    evals = hf_log_history(tmp_path / "run.csv", final_eval=1.0)
    curve = read_curve(tmp_path / "run.csv", LOSS)
    np.testing.assert_allclose(curve.metric("eval_loss"), evals)
    assert list(curve.steps) == list(range(100, 1001, 100))


def test_a_metrics_json_beside_lightnings_metrics_csv_is_not_the_runs_config(tmp_path):
    """lightning_logs/version_0/ holds metrics.csv and hparams.yaml; a metrics.json written beside them (the
    run's final metrics) was read as its config, so the run was compared by its val_loss and epoch, not its lr."""
    curve = lightning_run(tmp_path, "lr: 0.01\noptimizer: adam\n", '{"val_loss": 1.0, "epoch": 9}\n')
    assert curve.name == "version_0" and curve.config == {"lr": 0.01, "optimizer": "adam"}


def test_a_lightning_log_with_one_train_row_at_an_evaluations_step_is_read(tmp_path):
    """A short run's Lightning CSVLogger: validation every epoch, train_loss logged once (every 50 steps), in its own
    row at the step of epoch 1's validation. Records of another kind were told apart only from two rows on, so the
    file was refused as "step '99' after '99'... a run resumed from a checkpoint"."""
    run = tmp_path / "version_0"
    run.mkdir()
    (run / "metrics.csv").write_text("epoch,step,train_loss,val_loss,val_acc\n0,49,,0.9,0.6\n1,99,,0.7,0.7\n"
                                     "1,99,0.8,,\n2,149,,0.6,0.75\n3,199,,0.55,0.78\n")
    (run / "hparams.yaml").write_text("lr: 0.1\n")
    curve = read_curve(run / "metrics.csv", "val_acc")
    np.testing.assert_allclose(curve.metric("val_acc"), [0.6, 0.7, 0.75, 0.78])


def test_a_missed_evaluation_with_its_own_step_is_still_refused(tmp_path):
    """The guard beside that fix: a row blank in the metric at a step of its own is a missed evaluation."""
    path = tmp_path / "run.csv"
    path.write_text("epoch,step,train_loss,val_acc\n0,49,,0.6\n1,99,,0.7\n2,149,0.5,\n3,199,,0.78\n")
    with pytest.raises(LcpipeError, match="blank"):
        read_curve(path, "val_acc")


def test_hf_rows_after_the_train_summary_are_no_points_of_the_curve(tmp_path):
    """`trainer.evaluate()` after training at a step off the eval stride (max_steps 1,050, an evaluation every 100):
    with load_best_model_at_end it evaluates the best checkpoint, and its row was read as the curve's last point."""
    path = tmp_path / "run.csv"
    evals = hf_log_history(path, final_eval=None)
    summary_at_1050 = path.read_text().replace(",,2.0,1000,,,100.0,1.0", ",,2.1,1050,,,100.0,1.0")
    path.write_text(summary_at_1050 + ",,2.1,1050,0.5,1.0,,\n")
    np.testing.assert_allclose(read_curve(path, LOSS).metric("eval_loss"), evals)


def test_a_repeated_last_step_outside_an_hf_log_is_still_refused(tmp_path):
    """Review: the first rule (drop a last row at the step of the one before) hid a NaN at the final evaluation and
    kept the older of a resumed run's two rows. Outside HF's shape the repeat is refused, as before."""
    path = tmp_path / "run.csv"
    for last in ("nan", "0.60"):
        path.write_text(f"epoch,val_loss\n1,1.0\n2,0.8\n3,0.7\n4,0.65\n4,{last}\n")
        with pytest.raises(LcpipeError, match="must increase"):
            read_curve(path, Metric.infer("val_loss", "min"))


def test_a_lone_lr_row_beside_an_evaluation_leaves_a_strided_log_readable(tmp_path):
    """Review: an lr logged once, in a row of its own at an evaluation's step, in a log of train rows with the
    validation loss every third: the lone row took the first fix's branch and the stride was no longer read."""
    path = tmp_path / "run.csv"
    path.write_text("step,train_loss,val_loss,lr\n10,1.00,,\n20,0.90,,\n30,0.80,0.85,\n30,,,0.01\n40,0.70,,\n"
                    "50,0.65,,\n60,0.60,0.70,\n70,0.58,,\n80,0.55,,\n90,0.50,0.60,\n")
    np.testing.assert_allclose(read_curve(path, Metric.infer("val_loss", "min")).metric("val_loss"), [0.85, 0.7, 0.6])


def test_a_lightning_sidecar_keeps_its_settings(tmp_path):
    """Review: a <run>.json beside a Lightning metrics.csv (metrics.json) that states the planned `epochs` and a
    setting hparams.yaml lacks is still read."""
    curve = lightning_run(tmp_path, "lr: 0.01\n", '{"epochs": 20, "optimizer": "sgd", "val_loss": 1.0}\n')
    assert curve.planned == 20 and curve.config == {"lr": 0.01, "optimizer": "sgd"}
    (tmp_path / "again").mkdir()  # ... under hparams.yaml's: the final, decayed lr dumped with the metrics is not it
    again = lightning_run(tmp_path / "again", "lr: 0.1\n", '{"val_loss": 1.0, "lr": 1e-05, "epochs": 10}\n')
    assert again.config == {"lr": 0.1}


def test_an_hf_log_evaluated_only_after_training_is_one_line(tmp_path):
    """With eval_strategy='no' the only eval row is trainer.evaluate()'s, after the summary: there is no curve."""
    path = tmp_path / "run.csv"
    path.write_text("loss,epoch,step,eval_loss,train_runtime\n1.0,1.0,500,,\n0.8,2.0,1000,,\n,2.0,1000,,100.0\n"
                    ",2.0,1000,0.9,\n")
    with pytest.raises(LcpipeError, match="only after training"):
        read_curve(path, LOSS)


def test_the_decision_table_counts_evaluations_saved_on_a_step_axis(tmp_path):
    """`lcpipe evaluate --history` on curves logged every 15 optimizer steps: its cutoffs and lengths count
    evaluations, and the decision table headed them "epochs saved" (50 evaluations read as 50 epochs)."""
    import subprocess

    from tests.helpers import VENV_BIN

    for folder, n, seed in (("history", 8, 0), ("curves", 4, 100)):
        (tmp_path / folder).mkdir()
        steps = np.arange(15, 751, 15)
        for i in range(n):
            rng = np.random.default_rng(seed + i)
            loss = 1.6 + 0.1 * i + 0.8 * (1 + steps / 40) ** -0.7 + rng.normal(0, 0.002, len(steps))
            rows = "\n".join(f"{s},{float(v)!r}" for s, v in zip(steps, loss))
            (tmp_path / folder / f"r{i}.csv").write_text(f"step,val_ce\n{rows}\n")
    proc = subprocess.run([str(VENV_BIN / "lcpipe"), "evaluate", "--curves", "curves", "--history", "history",
                           "--metric", "val_ce", "--mode", "min", "--cutoffs", "20", "--predictors", "last_value",
                           "--out", "e.json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| evaluations saved |" in proc.stdout and "epochs saved" not in proc.stdout
    assert json.loads((tmp_path / "e.json").read_text())["points"] == "evaluations"  # what epochs_saved counts


def test_lightnings_validate_after_fit_is_no_epoch_of_the_run(tmp_path):
    """trainer.fit() for 5 epochs, then trainer.validate(): its row has epoch 5 at the last global step, and the
    log was read as a run of 6 epochs, its last a re-evaluation."""
    run = tmp_path / "version_0"
    run.mkdir()
    rows = ["epoch,step,train_loss,val_acc"]
    for e in range(5):
        rows += [f"{e},{100 * e + 49},{1.0 / (e + 1):.3f},", f"{e},{100 * e + 99},,{0.6 + 0.05 * e:.2f}"]
    rows.append("5,499,,0.80")
    (run / "metrics.csv").write_text("\n".join(rows) + "\n")
    (run / "hparams.yaml").write_text("lr: 0.1\n")
    curve = read_curve(run / "metrics.csv", "val_acc")
    np.testing.assert_allclose(curve.metric("val_acc"), [0.6, 0.65, 0.7, 0.75, 0.8])


def test_an_hf_run_resumed_after_its_train_summary_is_read_to_its_last_evaluation(tmp_path):
    """Review: a run resumed from its saved state keeps the first train()'s summary in its log_history, with more
    training after it. Everything after the summary was dropped, and the run was forecast from step 1,000 of 1,600.
    So was a custom log with a `train_runtime` column filled on one row."""
    path = tmp_path / "run.csv"
    evals = hf_log_history(path, final_eval=None)
    more = []
    for step in range(1050, 1601, 50):
        more.append(f"1.2,0.0001,{step / 500},{step},,,,")
        if step % 100 == 0:
            evals.append(round(2.6 * step ** -0.1 + 0.2, 4))
            more.append(f",,{step / 500},{step},{evals[-1]},1.0,,")
    path.write_text(path.read_text() + "\n".join(more) + "\n")
    curve = read_curve(path, LOSS)
    np.testing.assert_allclose(curve.metric("eval_loss"), evals)
    assert curve.steps[-1] == 1600
    custom = tmp_path / "custom.csv"
    custom.write_text("epoch,val_loss,train_runtime\n1,0.9,\n2,0.8,\n3,0.7,30.5\n4,0.65,\n5,0.6,\n")
    assert len(read_curve(custom, Metric.infer("val_loss", "min")).metric("val_loss")) == 5


def test_a_lightning_sidecar_gives_the_compared_keys_not_its_final_metrics(tmp_path):
    """Review: a sidecar's lr was dropped because the CSV logs an lr column too; and a metrics dump's keys that name
    no column (best_val_loss, test_acc) were compared as hyper-parameters."""
    curve = lightning_run(tmp_path, "batch_size: 32\noptimizer: adam\n",
                          '{"lr": 0.1, "epochs": 10, "best_val_loss": 0.61, "test_acc": 0.78}\n', logged_lr=True)
    assert curve.config == {"batch_size": 32, "optimizer": "adam", "lr": 0.1} and curve.planned == 10


def test_the_keys_a_lightning_sidecar_may_state_are_those_auto_compares():
    from lcpipe.forecasting.logs import SIDECAR_KEYS
    from lcpipe.forecasting.predictors.auto import Auto

    assert SIDECAR_KEYS == set(Auto.config_keys) - {"epochs"}


def test_a_wandb_export_of_an_hf_run_is_read_on_its_global_step(tmp_path):
    """W&B's history export of an HF fine-tune: `_step` counts W&B's log calls (train rows every 50 steps, eval
    rows every 100), and was read as the x axis (2, 5, 8, ... against --steps in optimizer steps); the summary is
    `train/train_runtime`, so trainer.evaluate()'s row after it was read as one more point."""
    lines, evals, n = ["_step,_runtime,train/loss,train/global_step,eval/loss,train/train_runtime"], [], 0
    for step in range(50, 1001, 50):
        lines.append(f"{n},{n * 1.5},{2.5 * step ** -0.1:.4f},{step},,")
        n += 1
        if step % 100 == 0:
            evals.append(round(2.6 * step ** -0.1 + 0.2, 4))
            lines.append(f"{n},{n * 1.5},,{step},{evals[-1]},")
            n += 1
    lines += [f"{n},{n * 1.5},,1000,,100.0", f"{n + 1},{n * 1.5 + 1},,1000,1.2,"]
    path = tmp_path / "wandb.csv"
    path.write_text("\n".join(lines) + "\n")
    curve = read_curve(path, Metric.infer("eval/loss", "min"))
    np.testing.assert_allclose(curve.metric("eval/loss"), evals)
    assert list(curve.steps) == list(range(100, 1001, 100))


def test_a_step_column_counting_an_epochs_iterations_is_no_repeat_and_wandbs_axis_may_come_first(tmp_path):
    """Review: mmdetection's val log has `iter` = iterations per epoch, the same on every row; its last epoch was
    dropped as a validate() after fit. And `train/global_step` as the first column was passed over for W&B's
    `_step` (column 0 read as none found)."""
    mm = tmp_path / "mm.csv"
    mm.write_text("epoch,iter,bbox_mAP\n" + "".join(f"{e},7330,{0.2 + 0.01 * e:.2f}\n" for e in range(1, 13)))
    assert len(read_curve(mm, Metric.infer("bbox_mAP", "max")).metric("bbox_mAP")) == 12
    wb = tmp_path / "wb.csv"
    wb.write_text("train/global_step,_step,eval/loss\n100,0,1.84\n200,1,1.73\n300,2,1.67\n400,3,1.63\n500,4,1.60\n")
    assert list(read_curve(wb, Metric.infer("eval/loss", "min")).steps) == [100, 200, 300, 400, 500]


def test_a_trainers_log_as_a_dataframe_is_read_as_the_same_log_written_as_csv(tmp_path):
    """Review: `lcpipe.forecast(runs=...)` took a log-shaped DataFrame (pd.DataFrame(trainer.state.log_history))
    only by hand (df.dropna(...).set_index(...)[metric]), which kept trainer.evaluate()'s row of the best checkpoint
    as a point. {'name': df} is now read as the CLI reads the log written as CSV."""
    import pandas as pd

    import lcpipe

    path = tmp_path / "run.csv"
    hf_log_history(path, final_eval=None)
    text = path.read_text().replace(",,2.0,1000,,,100.0,1.0", ",,2.1,1050,,,100.0,1.0") + ",,2.1,1050,0.5,1.0,,\n"
    path.write_text(text)
    steps = np.arange(100, 2001, 100)
    history = {f"h{i}": pd.Series((2.5 + 0.07 * i) * steps ** -0.1 + 0.2, index=steps) for i in range(6)}
    from_file = lcpipe.forecast(history, [path], steps=2000, metric="eval_loss")
    from_frame = lcpipe.forecast(history, {"run": pd.read_csv(path)}, steps=2000, metric="eval_loss")
    assert from_frame.loc[0, "observed"] == from_file.loc[0, "observed"] == 1000
    assert from_frame.loc[0, "final"] == from_file.loc[0, "final"]


def test_a_log_dataframe_reads_as_its_csv_its_index_and_empty_rows_too():
    """Review of the DataFrame path: `set_index('step')` dropped the axis (read on the fractional epoch), and
    `set_index('step', drop=False)` raised pandas' ValueError; a row of NaN alone, which pd.read_csv keeps from an
    empty line, was refused. A diverged fine-tune is stopped where its log says inf; a NaN in an evaluation row is a
    blank cell, refused in one line as in the CSV (a live run's frame filled as it goes holds NaN where it has not
    evaluated yet: the second review saw those stopped as diverged under a rule that read NaN so)."""
    import pandas as pd

    import lcpipe

    steps = np.arange(100, 2001, 100)
    history = {f"h{i}": pd.Series((2.5 + 0.07 * i) * steps ** -0.1 + 0.2, index=steps) for i in range(6)}
    rows = []
    for step in range(50, 1001, 50):
        rows.append({"loss": 1.5, "learning_rate": 1e-4, "epoch": step / 500, "step": step})
        if step % 100 == 0:
            rows.append({"eval_loss": 2.6 * step ** -0.1 + 0.2, "eval_runtime": 1.0, "epoch": step / 500, "step": step})
    healthy = pd.DataFrame([r for r in rows if r["step"] < 700])
    plain = lcpipe.forecast(history, {"r": healthy}, steps=2000, metric="eval_loss")
    gapped = pd.concat([healthy.iloc[:5], pd.DataFrame([{c: np.nan for c in healthy.columns}]), healthy.iloc[5:]])
    for other in (healthy.set_index("step"), healthy.set_index("step", drop=False), gapped):
        again = lcpipe.forecast(history, {"r": other}, steps=2000, metric="eval_loss")
        assert again.loc[0, "observed"] == plain.loc[0, "observed"] == 600
        assert again.loc[0, "final"] == plain.loc[0, "final"]
    blown = pd.DataFrame(rows)
    blown.loc[(blown["step"] >= 700) & blown["eval_loss"].notna(), "eval_loss"] = np.inf
    diverged = lcpipe.forecast(history, {"this": blown}, steps=2000, metric="eval_loss")
    assert diverged.loc[0, "decision"] == "stop" and "diverged" in diverged.loc[0, "reason"]
    blown["eval_loss"] = blown["eval_loss"].replace(np.inf, np.nan)
    with pytest.raises(LcpipeError, match=r"run 'this' \(a DataFrame, its rows from 1\): line 21: .* is blank"):
        lcpipe.forecast(history, {"this": blown}, steps=2000, metric="eval_loss")


def test_a_log_dataframe_of_epochs_under_steps_is_refused_as_its_file_is():
    """Review: a per-epoch log given as a DataFrame with steps=2000 was forecast as 2,000 epochs, with a warning
    about lists; the same log as a file is refused in one line."""
    import pandas as pd

    import lcpipe

    epochs = np.arange(1, 21)
    history = {f"h{i}": list((1.1 + 0.02 * i) * epochs ** -0.2) for i in range(6)}
    log = pd.DataFrame({"epoch": [1, 2, 3, 4, 5, 6], "val_loss": [1.0, 0.9, 0.85, 0.8, 0.78, 0.76]})
    with pytest.raises(LcpipeError, match=r"count epochs, with no step column \(e.g. r\)"):
        lcpipe.forecast(history, {"r": log}, steps=2000, metric="val_loss")


def test_a_live_lightning_run_after_its_first_validation_is_left_out_not_refused(tmp_path):
    """Review: train rows at steps 49, 99 and 149 beside the first validation at step 99 were refused as "step '99'
    after '99' ... a run resumed from a checkpoint": one just-started run stopped `lcpipe forecast` for all."""
    path = tmp_path / "new.csv"
    path.write_text("epoch,step,train_loss,val_loss\n0,49,1.0,\n0,99,0.9,\n0,99,,0.95\n1,149,0.8,\n")
    assert list(read_curve(path, Metric.infer("val_loss", "min")).metric("val_loss")) == [0.95]


def test_in_memory_studies_made_one_after_another_never_share_the_pruners_key():
    """A study's in-memory storage was keyed by id(), which the next storage takes over once the first is collected:
    test_postgres's replays (a fresh in-memory study per decision, copied trials with their start times) then met the
    pruner's memory of an earlier replay's running trials as silent for minutes, and one decision failed to replay
    under load."""
    import gc

    optuna = pytest.importorskip("optuna")
    from lcpipe.integrations.optuna import _storage_key

    keys = []
    for _ in range(20):  # CPython gives a collected storage's id to a later one, mostly, not always (it did not
        study = optuna.create_study()  # once in a full suite run under load): so no assertion that it did here
        keys.append(_storage_key(study))
        del study
        gc.collect(1)  # the young generations hold it (and reuse its id more often): a full collection of a suite's
        # heap took 0.37 s each, 7.4 s of the test
    assert len(set(keys)) == len(keys)
