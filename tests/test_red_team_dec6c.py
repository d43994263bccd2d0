"""What the 2026-12-06 (third session) reviews found. Each test failed on 55ae931, before this work."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lcpipe
from lcpipe.errors import LcpipeError

ROOT = Path(__file__).resolve().parents[1]
LORA = ROOT / "bench" / "lm_table" / "curves"


def lora_runs(task: str, n: int, head: int | None = None) -> tuple[dict[str, pd.Series], dict[str, dict]]:
    """Real LoRA trials of bench/lm_table (val_ce every 15 steps) as in-memory Series by step, with their sidecars'
    configs."""
    runs, configs = {}, {}
    for f in sorted((LORA / task).glob("*.csv"))[:n]:
        frame = pd.read_csv(f).head(head)
        runs[f"{task}/{f.stem}"] = pd.Series(frame.val_ce.to_numpy(), index=frame.step.to_numpy())
        configs[f"{task}/{f.stem}"] = json.loads(f.with_suffix(".json").read_text())
    return runs, configs


def written(folder: Path, runs: dict[str, pd.Series], configs: dict[str, dict]) -> Path:
    for name, series in runs.items():
        path = folder / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"step": series.index, "val_ce": series.to_numpy()}).to_csv(path, index=False)
        path.with_suffix(".json").write_text(json.dumps(configs[name]))
    return folder


def quiet_forecast(*args, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lcpipe.forecast(*args, **kwargs)


# -- lcpipe.forecast: runs given in memory carried no configs, and nothing said so (seen 2026-12-06, left then) --

def test_in_memory_runs_with_configs_forecast_as_the_same_runs_written_with_sidecars(tmp_path):
    history, history_configs = lora_runs("code", 12)
    runs, run_configs = lora_runs("descr", 6, head=10)
    configs = {**history_configs, **run_configs}
    from_files = quiet_forecast(str(written(tmp_path / "h", history, configs)),
                                str(written(tmp_path / "r", runs, configs) / "descr"),
                                steps=750, metric="val_ce", mode="min")
    bare = quiet_forecast(history, runs, steps=750, metric="val_ce", mode="min")
    given = quiet_forecast(history, runs, steps=750, metric="val_ce", mode="min", configs=configs)
    np.testing.assert_allclose(given.final.to_numpy(), from_files.final.to_numpy(), rtol=1e-12)
    assert not np.allclose(bare.final.to_numpy(), from_files.final.to_numpy(), rtol=1e-6)  # the configs count


def test_a_config_with_sections_is_read_as_a_sidecar_with_sections_is():
    history, history_configs = lora_runs("code", 10)
    runs, run_configs = lora_runs("descr", 4, head=10)
    flat = {**history_configs, **run_configs}
    nested = {name: {"optimizer": {"learning_rate": c["lr"], "name": c["optimizer"]},
                     **{k: v for k, v in c.items() if k not in ("lr", "optimizer")}} for name, c in flat.items()}
    for config in nested.values():  # optimizer.name is not `optimizer`: state it the way lcpipe reads it
        config["optimizer"]["optimizer"] = config["optimizer"].pop("name")
    a = quiet_forecast(history, runs, steps=750, metric="val_ce", mode="min", configs=flat)
    b = quiet_forecast(history, runs, steps=750, metric="val_ce", mode="min", configs=nested)
    np.testing.assert_allclose(a.final.to_numpy(), b.final.to_numpy(), rtol=1e-12)


def test_a_configs_name_that_is_no_run_is_one_line_with_the_nearest_name():
    history, _ = lora_runs("code", 4)
    runs, _ = lora_runs("descr", 2, head=10)
    with pytest.raises(LcpipeError, match=r"configs= names 't00', which is no run or history curve \(did you mean"):
        quiet_forecast(history, runs, steps=750, metric="val_ce", mode="min", configs={"t00": {"lr": 1e-3}})
    with pytest.raises(LcpipeError, match=r"configs\['descr/t00'\]: give the run's hyper-parameters as a mapping"):
        quiet_forecast(history, runs, steps=750, metric="val_ce", mode="min", configs={"descr/t00": 1e-3})
    with pytest.raises(LcpipeError, match="configs= takes a mapping"):
        quiet_forecast(history, runs, steps=750, metric="val_ce", mode="min", configs=[{"lr": 1e-3}])
    looped: dict = {"lr": 1e-3}
    looped["self"] = looped
    with pytest.raises(LcpipeError, match="nested too deeply"):
        quiet_forecast(history, runs, steps=750, metric="val_ce", mode="min", configs={"descr/t00": looped})


# -- real log formats (helper review of 2026-12-06, third session) --

def dropping(epochs: np.ndarray, level: float, seed: int, milestone: float = 60) -> np.ndarray:
    """An accuracy that rises to a plateau and jumps at the lr drop (epoch `milestone`), as MultiStepLR runs do."""
    noise = np.random.default_rng(seed).normal(0, 0.002, len(epochs))
    jump = 0.07 * (epochs >= milestone) * (1 - np.exp(-(epochs - milestone).clip(0) / 2))
    return np.clip(level - 0.5 * np.exp(-epochs / 8) + jump + noise, 0, 1)


SIDECAR = {"epochs": 100, "milestones": [60], "optimizer": "sgd", "lr": 0.1, "dataset": "c10"}


def drop_history(folder: Path) -> Path:
    folder.mkdir()
    e = np.arange(1, 101)
    for i in range(6):
        acc = dropping(e, 0.82 + 0.01 * i, seed=i)
        (folder / f"h{i}.csv").write_text("epoch,test_acc\n" + "".join(f"{a},{b:.5f}\n" for a, b in zip(e, acc)))
        (folder / f"h{i}.json").write_text(json.dumps(SIDECAR))
    return folder


def finals(*args) -> dict[str, float]:
    """`lcpipe forecast ... --out F`'s final per run."""
    from lcpipe.cli import main
    out = Path(args[args.index("--out") + 1])
    main([str(a) for a in args])
    return {r["run"]: r["final"]["mean"] for r in json.loads(out.read_text())["runs"]}


def test_milestones_are_epochs_on_a_run_validated_every_half_epoch_or_every_two(tmp_path):
    history = drop_history(tmp_path / "h")
    every = {"one": np.arange(1, 41.0), "half": np.arange(1, 81) / 2, "two": np.arange(2, 41.0, 2)}
    got = {}
    for name, e in every.items():
        runs = tmp_path / name
        runs.mkdir()
        for i in range(3):
            acc = dropping(e, 0.83 + 0.01 * i, seed=10 + i)
            (runs / f"r{i}.csv").write_text("epoch,test_acc\n" + "".join(f"{a:g},{b:.5f}\n" for a, b in zip(e, acc)))
            (runs / f"r{i}.json").write_text(json.dumps(SIDECAR))
        got[name] = finals("forecast", "--history", history, "--runs", runs, "--epochs", 100,
                           "--out", tmp_path / f"{name}.json")
    for name in ("half", "two"):  # the drop at epoch 60 is ahead of each: forecast alike (a drop misplaced at epoch
        for run, final in got[name].items():  # 30, or dropped, took 3-7 points off)
            assert abs(final - got["one"][run]) < 0.01, (name, run, final, got["one"][run])


def live_runs(folder: Path, cut: int = 40, sidecar: dict | None = None) -> Path:
    """Three runs 40 epochs into 100, one row an epoch, with lcpipe's sidecar."""
    folder.mkdir()
    e = np.arange(1, cut + 1)
    for i in range(3):
        acc = dropping(e, 0.83 + 0.01 * i, seed=10 + i)
        (folder / f"r{i}.csv").write_text("epoch,test_acc\n" + "".join(f"{a},{b:.5f}\n" for a, b in zip(e, acc)))
        (folder / f"r{i}.json").write_text(json.dumps(sidecar or SIDECAR))
    return folder


def test_a_lightning_hparams_yaml_gives_its_milestones_as_a_json_sidecar_does(tmp_path, capsys):
    history, plain = drop_history(tmp_path / "h"), live_runs(tmp_path / "plain")
    lightning = tmp_path / "lightning_logs"
    for i, f in enumerate(sorted(plain.glob("*.csv"))):
        version = lightning / f"version_{i}"
        version.mkdir(parents=True)
        rows = f.read_text().splitlines()[1:]  # Lightning: epochs from 0, the global step beside them
        version.joinpath("metrics.csv").write_text("epoch,step,test_acc\n" + "".join(
            f"{k},{391 * (k + 1) - 1},{row.split(',')[1]}\n" for k, row in enumerate(rows)))
        version.joinpath("hparams.yaml").write_text("epochs: 100\nmilestones:\n- 60\noptimizer: sgd\nlr: 0.1\n"
                                                    "dataset: c10\n")
    a = finals("forecast", "--history", history, "--runs", plain, "--epochs", 100, "--out", tmp_path / "a.json")
    capsys.readouterr()
    b = finals("forecast", "--history", history, "--runs", lightning, "--epochs", 100, "--out", tmp_path / "b.json")
    assert [round(v, 6) for v in a.values()] == [round(v, 6) for v in b.values()]
    assert "config: used dataset, lr, milestones, optimizer (3 of 3 runs" in capsys.readouterr().err


def test_bookkeeping_keys_of_wandb_and_hugging_face_configs_do_not_move_a_forecast(tmp_path, capsys):
    history = drop_history(tmp_path / "h")

    def with_bookkeeping(sidecar: Path, i: int, start: float, tag: str) -> None:  # W&B's and HF's, each run its own
        ids = {"output_dir": f"out/{tag}{i}", "run_name": f"{tag}{i}",
               "_wandb": {"value": {"start_time": start + 600 * i}}}
        sidecar.write_text(json.dumps({**SIDECAR, "batch_size": 128, **ids}))
    for i, sidecar in enumerate(sorted(history.glob("*.json"))):
        with_bookkeeping(sidecar, i, 1.714e9, "h")
    got = []
    for n, start in enumerate((1.714e9 + 7200, 1.714e9 + 86400)):  # runs started 2 hours or a day after
        runs = live_runs(tmp_path / f"r{n}")
        for i, sidecar in enumerate(sorted(runs.glob("*.json"))):
            with_bookkeeping(sidecar, i, start, "r")
        got.append(finals("forecast", "--history", history, "--runs", runs, "--epochs", 100,
                          "--out", tmp_path / f"{n}.json"))
    assert got[0] == got[1]
    err = capsys.readouterr().err
    assert "_wandb" not in err and "output_dir" not in err and "run_name" not in err


def hf_log(folder: Path, epochs_planned: int | None, every: float = 0.5, upto: float = 40) -> Path:
    """A Hugging Face trainer's evaluations as CSV: a fractional epoch beside the global step (391 steps an epoch),
    evaluated every half epoch."""
    folder.mkdir()
    e = np.arange(1, int(upto / every) + 1) * every
    for i in range(3):
        acc = dropping(e, 0.83 + 0.01 * i, seed=10 + i)
        (folder / f"r{i}.csv").write_text("epoch,step,eval_accuracy\n" + "".join(
            f"{a:.2f},{round(391 * a)},{b:.5f}\n" for a, b in zip(e, acc)))
        if epochs_planned:
            (folder / f"r{i}.json").write_text(json.dumps({**SIDECAR, "epochs": epochs_planned}))
    return folder


def test_a_length_in_epochs_is_placed_on_the_steps_of_a_log_that_states_its_epoch(tmp_path, capsys):
    history = drop_history(tmp_path / "h")
    for f in history.glob("*.csv"):
        f.write_text(f.read_text().replace("test_acc", "eval_accuracy"))
    # --epochs 100 on runs 40 epochs (80 evaluations, step 15640) in: 100 epochs, step 39100, not 100 evaluations
    runs = hf_log(tmp_path / "bare", None)
    out = tmp_path / "bare.json"
    from lcpipe.cli import main
    main(["forecast", "--history", str(history), "--runs", str(runs), "--epochs", "100", "--metric", "eval_accuracy",
          "--out", str(out)])
    assert {r["epochs"] for r in json.loads(out.read_text())["runs"]} == {39100}
    assert "counts epochs on them (e.g." in capsys.readouterr().err
    # the sidecar's 100 epochs likewise, and beside --epochs 100 nothing to say of a length of its own
    runs = hf_log(tmp_path / "sidecar", 100)
    main(["forecast", "--history", str(history), "--runs", str(runs), "--epochs", "100", "--metric", "eval_accuracy",
          "--out", str(out)])
    assert {r["epochs"] for r in json.loads(out.read_text())["runs"]} == {39100}
    assert "plan their own length" not in capsys.readouterr().err


@pytest.mark.parametrize("key, value", [("max_epochs", 100), ("num_train_epochs", 100.0)])
def test_lightning_and_hugging_face_names_of_the_planned_epochs_plan_the_run(tmp_path, capsys, key, value):
    history = drop_history(tmp_path / "h")
    sidecar = {k: v for k, v in SIDECAR.items() if k != "epochs"} | {key: value}
    runs = live_runs(tmp_path / "r", sidecar={"trainer": sidecar} if key == "max_epochs" else sidecar)
    got = finals("forecast", "--history", history, "--runs", runs, "--epochs", 60, "--out", tmp_path / "o.json")
    assert {r["epochs"] for r in json.loads((tmp_path / "o.json").read_text())["runs"]} == {100}
    assert "plan their own length in their files, which is used instead" in capsys.readouterr().err
    assert len(got) == 3


def test_a_tensorboard_scalars_export_among_live_runs_is_one_line_not_a_run_yet_to_evaluate(tmp_path, capsys):
    history, runs = drop_history(tmp_path / "h"), live_runs(tmp_path / "r")
    (runs / "tb.csv").write_text("Wall time,Step,Value\n" + "".join(f"{1.7e9 + i},{i},{0.5 + i / 100}\n"
                                                                   for i in range(1, 30)))
    from lcpipe.cli import main
    with pytest.raises(SystemExit):
        main(["forecast", "--history", str(history), "--runs", str(runs), "--epochs", "100"])
    assert "a TensorBoard scalars export (Wall time, Step, Value): its 'test_acc' is the column 'Value'; rename " \
        in capsys.readouterr().err


def test_a_lightning_version_that_logged_nothing_is_named_not_the_whole_folder_refused(tmp_path):
    from lcpipe.forecasting.logs import read_curves
    logs = tmp_path / "lightning_logs"
    for i in range(4):
        (logs / f"version_{i}").mkdir(parents=True)
        (logs / f"version_{i}" / "metrics.csv").write_text("epoch,step,test_acc\n" + "".join(
            f"{k},{10 * (k + 1)},{0.3 + 0.01 * k + 0.001 * i}\n" for k in range(20)))
    (logs / "version_4").mkdir()
    (logs / "version_4" / "hparams.yaml").write_text("lr: 0.1\n")
    with pytest.raises(LcpipeError, match=r"version_4 holds none: a run that stopped before it logged"):
        read_curves([logs], "test_acc")


def test_an_evaluation_before_training_at_epoch_0_is_named_in_the_one_line_that_refuses_the_extra_epoch(tmp_path):
    """Epochs 0..N of a run planned N: the model before training at epoch 0, or a log counting from 0 one epoch too
    long; which is unknown, so it is refused as before, with the row to drop named (review: dropping it for finished
    runs alone shifted the history one epoch against live runs from the same logger)."""
    from lcpipe.forecasting.live import planned_epochs
    from lcpipe.forecasting.logs import read_curves
    e = np.arange(0, 101)
    (tmp_path / "r.csv").write_text("epoch,test_acc\n" + "".join(f"{a},{b:.5f}\n" for a, b in zip(
        e, dropping(e.astype(float), 0.85, seed=1))))
    (tmp_path / "r.json").write_text(json.dumps(SIDECAR))
    (curve,) = read_curves([tmp_path / "r.csv"], "test_acc")
    assert len(curve) == 101  # read as before: no row dropped
    with pytest.raises(LcpipeError, match=r"101 epochs observed, more than the 100 planned by its own file; the plan "
                                          r"in its own file is wrong, and a flag does not override a file's plan: "
                                          r"correct it there, or, if its epochs count from 0 and epoch 0 is the model "
                                          r"before training, drop that row$"):
        planned_epochs([curve], 100, min_observed=5)


def test_a_utf16_log_as_powershell_writes_it_is_read_as_its_utf8_copy(tmp_path):
    from lcpipe.forecasting.logs import read_curves
    text = "epoch,test_acc\r\n" + "".join(f"{e},{0.3 + 0.01 * e:.3f}\r\n" for e in range(1, 21))
    (tmp_path / "a.csv").write_bytes(text.encode("utf-16"))  # with its byte-order mark, as Out-File writes it
    (tmp_path / "b.csv").write_text(text)
    a, b = read_curves([tmp_path / "a.csv", tmp_path / "b.csv"], "test_acc")
    np.testing.assert_array_equal(a.columns["test_acc"], b.columns["test_acc"])


# -- the second read of this change (review) --

def test_real_hyper_parameters_named_like_bookkeeping_still_count(tmp_path, capsys):
    history, runs = drop_history(tmp_path / "h"), live_runs(tmp_path / "r")
    keys = ("drop_path_rate", "model_name_or_path", "model.name", "mask_time_prob", "optimizer._target_")
    for n, sidecar in enumerate(sorted([*history.glob("*.json"), *runs.glob("*.json")])):
        sidecar.write_text(json.dumps({**SIDECAR, **{k: [0.0, 0.3][n % 2] if "rate" in k or "prob" in k
                                                     else f"v{n % 2}" for k in keys}}))
    finals("forecast", "--history", history, "--runs", runs, "--epochs", 100, "--out", tmp_path / "o.json")
    line = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("config:"))
    for key in keys:
        assert key in line, (key, line)


def step_runs(folder: Path, sidecar: dict, epoch_column: bool = False, every: float = 1.0) -> Path:
    """The live runs logged by optimizer step (391 an epoch), evaluated every `every` epochs."""
    folder.mkdir()
    e = np.arange(1, int(40 / every) + 1) * every
    for i in range(3):
        acc = dropping(e, 0.83 + 0.01 * i, seed=10 + i)
        head = "epoch,step,test_acc" if epoch_column else "step,test_acc"
        (folder / f"r{i}.csv").write_text(head + "\n" + "".join(
            (f"{a:g}," if epoch_column else "") + f"{round(391 * a)},{b:.5f}\n" for a, b in zip(e, acc)))
        (folder / f"r{i}.json").write_text(json.dumps(sidecar))
    return folder


def test_milestones_of_a_run_logged_by_step_with_no_epoch_column_are_a_share_of_its_planned_epochs(tmp_path):
    history = drop_history(tmp_path / "h")
    by_epoch = finals("forecast", "--history", history, "--runs", live_runs(tmp_path / "e"), "--epochs", 100,
                      "--out", tmp_path / "e.json")
    for every in (1.0, 0.5):  # one evaluation an epoch, or two: milestones [60] of 100 planned epochs is 60 % in
        runs = step_runs(tmp_path / f"s{every}", SIDECAR, every=every)
        by_step = finals("forecast", "--history", history, "--runs", runs, "--steps", 39100,
                         "--out", tmp_path / "s.json")
        for run, final in by_step.items():
            assert abs(final - by_epoch[run]) < 0.01, (every, run, final, by_epoch[run])


def test_a_lightning_run_validated_every_2_epochs_places_its_hparams_milestones_at_their_epoch(tmp_path):
    history = drop_history(tmp_path / "h")
    by_epoch = finals("forecast", "--history", history, "--runs", live_runs(tmp_path / "e"), "--epochs", 100,
                      "--out", tmp_path / "e.json")
    logs = tmp_path / "lightning_logs"
    e = np.arange(2, 41, 2)
    for i in range(3):
        version = logs / f"version_{i}"
        version.mkdir(parents=True)
        acc = dropping(e.astype(float), 0.83 + 0.01 * i, seed=10 + i)
        version.joinpath("metrics.csv").write_text("epoch,step,test_acc\n" + "".join(
            f"{a},{391 * a - 1},{b:.5f}\n" for a, b in zip(e, acc)))
        version.joinpath("hparams.yaml").write_text("epochs: 100\nmilestones: [60]\noptimizer: sgd\nlr: 0.1\n"
                                                    "dataset: c10\n")
    got = finals("forecast", "--history", history, "--runs", logs, "--epochs", 100, "--out", tmp_path / "l.json")
    for (run, final), want in zip(got.items(), by_epoch.values()):
        assert abs(final - want) < 0.01, (run, final, want)


def test_epochs_on_step_logs_stays_steps_until_a_run_is_past_it_and_a_mixed_folder_is_one_line(tmp_path, capsys):
    history = drop_history(tmp_path / "h")
    hf = step_runs(tmp_path / "hf", {k: v for k, v in SIDECAR.items() if k != "epochs"}, epoch_column=True, every=0.5)
    got = finals("forecast", "--history", history, "--runs", hf, "--epochs", 39100, "--out", tmp_path / "o.json")
    assert {r["epochs"] for r in json.loads((tmp_path / "o.json").read_text())["runs"]} == {39100} and len(got) == 3
    rows = "".join(f"{391 * k},{0.5 + 0.005 * k:.4f}\n" for k in range(1, 41))
    (hf / "bare.csv").write_text("step,test_acc\n" + rows)
    from lcpipe.cli import main
    with pytest.raises(SystemExit):
        main(["forecast", "--history", str(history), "--runs", str(hf), "--epochs", "100"])
    assert "bare.csv logs no epoch, so it cannot be placed there; give --steps" in capsys.readouterr().err


def test_a_fractional_num_train_epochs_plans_nothing_and_refuses_nothing(tmp_path):
    history = drop_history(tmp_path / "h")
    runs = step_runs(tmp_path / "r", {**{k: v for k, v in SIDECAR.items() if k != "epochs"}, "num_train_epochs": 40.5,
                                      "max_steps": -1})
    assert len(finals("forecast", "--history", history, "--runs", runs, "--steps", 39100,
                      "--out", tmp_path / "o.json")) == 3


def test_configs_may_name_a_run_not_evaluated_yet_and_numpy_values_are_read():
    from lcpipe.forecasting.logs import given_config
    history, _ = lora_runs("code", 6)
    runs, _ = lora_runs("descr", 2, head=10)
    runs["later"] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = lcpipe.forecast(history, runs, steps=750, metric="val_ce", mode="min",
                                configs={"later": {"lr": 1e-3}, "descr/t00": {"lr": np.float32(1e-3)}})
    assert sorted(frame.run) == ["descr/t00", "descr/t01"]
    assert given_config({"lr": np.float32(0.5), "batch_size": np.int64(8), "milestones": (60, 80)}, "x") == {
        "lr": 0.5, "batch_size": 8, "milestones": [60, 80]}


def test_utf32_logs_and_utf16_sidecars_are_read_and_a_checkpoints_folder_is_no_run(tmp_path):
    from lcpipe.forecasting.logs import read_curves
    text = "epoch,test_acc\n" + "".join(f"{e},{0.3 + 0.01 * e:.3f}\n" for e in range(1, 21))
    (tmp_path / "a.csv").write_bytes(text.encode("utf-32"))
    (tmp_path / "a.json").write_bytes(json.dumps({"lr": 0.1, "epochs": 20}).encode("utf-16"))
    (curve,) = read_curves([tmp_path / "a.csv"], "test_acc")
    assert curve.config == {"lr": 0.1} and curve.planned == 20 and len(curve) == 20
    logs = tmp_path / "lightning_logs"
    for i in range(2):
        (logs / f"version_{i}").mkdir(parents=True)
        (logs / f"version_{i}" / "metrics.csv").write_text(text)
    (logs / "checkpoints").mkdir()
    (logs / "checkpoints" / "last.ckpt").write_bytes(b"\0")
    assert [c.name for c in read_curves([logs], "test_acc")] == ["version_0", "version_1"]


# -- the pipeline's stages as a user mistypes them (helper review) --

def victim_folder(root: Path) -> Path:
    """A folder of the user's, outside any stage's outputs: what a link must never let a stage touch."""
    victim = root / "victim"
    (victim / "plots" / "metrics").mkdir(parents=True)
    for name in ("params.yaml", "metrics.json", "report.md", "dvc.yaml", "plots/metrics/keep.tsv", "resnet34.json"):
        (victim / name).write_text("precious\n")
    return victim


def intact(victim: Path) -> bool:
    files = sorted(p for p in victim.rglob("*") if p.is_file())
    return len(files) == 6 and all(p.read_text() == "precious\n" for p in files)


def test_training_refuses_a_live_folder_linked_elsewhere_before_dvclive_clears_it(tmp_path):
    from lcpipe.config import Params
    from lcpipe.training.run import run_training
    victim = victim_folder(tmp_path)
    (tmp_path / "dvclive").mkdir()
    (tmp_path / "dvclive" / "resnet34").symlink_to(victim)
    with pytest.raises(LcpipeError, match=r"the live folder .*dvclive/resnet34 is a symbolic link \(to "):
        run_training(Params(), "resnet34", tmp_path / "no-data.npz", tmp_path / "curves", tmp_path / "ckpt",
                     tmp_path / "dvclive", tmp_path / "timings")
    assert intact(victim)


@pytest.mark.parametrize("option", ["forecasts_dir", "figures_dir", "plots_dir"])
def test_a_stage_refuses_an_output_folder_linked_elsewhere_before_any_work(tmp_path, option):
    from lcpipe.pipeline.entry import check_stage_paths
    victim = victim_folder(tmp_path)
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "out").symlink_to(victim)
    flag = "--" + option.replace("_", "-")
    with pytest.raises(LcpipeError, match=f"{flag} .*metrics/out is a symbolic link"):
        check_stage_paths({option: tmp_path / "metrics" / "out", "curves_dir": tmp_path / "curves"})
    (tmp_path / "metrics" / "file").write_text("x")
    with pytest.raises(LcpipeError, match=f"{flag} .*metrics/file is a file, not a folder this stage writes"):
        check_stage_paths({option: tmp_path / "metrics" / "file"})
    assert intact(victim)


@pytest.mark.parametrize("option", ["checkpoint_dir", "timings_dir"])
def test_a_folder_a_stage_writes_its_own_files_into_may_be_a_link_to_a_bigger_disk(tmp_path, option):
    """Checkpoints or timings on another disk, linked into the project, as teams keep them (review: refused with
    advice to give the path dvc.yaml names, which it was)."""
    from lcpipe.pipeline.entry import check_stage_paths
    (tmp_path / "big").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "big")
    check_stage_paths({option: tmp_path / "linked", "curves_dir": tmp_path / "curves"})


def test_a_run_too_short_for_any_window_asks_for_more_epochs_not_a_window_that_fails_too():
    from lcpipe.config import check_cutoff
    with pytest.raises(LcpipeError, match=r"no window fits a run that short: give train.epochs of at least 3$"):
        check_cutoff("predict.cutoff", 1, 1, 2)
    with pytest.raises(LcpipeError, match=r"give train.epochs of at least 21$"):  # where cutoff 20 then fits
        check_cutoff("predict.cutoff", 20, 1, 2)
    with pytest.raises(LcpipeError, match=r"no window fits a curve that short: it needs 6 evaluations at least$"):
        check_cutoff("cutoff for target 't'", 3, 4, 2, "evaluations")
    with pytest.raises(LcpipeError, match=r"give a window of at most 3$"):
        check_cutoff("predict.cutoff", 5, 5, 5)
    with pytest.raises(LcpipeError, match=r"\[features.window \+ 1, train.epochs - 1\] = \[2, 4\]"):
        check_cutoff("predict.cutoff", 7, 1, 5)


# -- a team's tuning on one storage (helper review) --

CIFAR = ROOT / "data" / "history" / "cifar10-plain-vs-resnet"


def crossing(x: float, t: int) -> float:
    """x small: a fast start and a lower final; x large: a slow start and a higher final."""
    final = 0.95 - 0.3 * (x - 0.6) ** 2
    return float(final - (final - 0.1) * np.exp(-t / (1 + 4 * x)))


def test_an_enqueued_rerun_of_the_best_trial_is_not_pruned_behind_a_trial_the_best_beat():
    import optuna

    from lcpipe.integrations.optuna import ForecastPruner
    space = {"x": optuna.distributions.FloatDistribution(0, 1)}
    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(15, str(CIFAR), fit_cache=False))
    for x in (0.05, 0.18):
        study.add_trial(optuna.trial.create_trial(params={"x": x}, distributions=space, value=crossing(x, 15),
                                                  intermediate_values={e: crossing(x, e) for e in range(1, 16)}))
    study.enqueue_trial(study.best_trial.params)
    trial = study.ask(space)
    for e in range(1, 15):
        trial.report(crossing(trial.params["x"], e), e)
        assert not trial.should_prune(), f"pruned at step {e}"
    study.tell(trial, crossing(trial.params["x"], 15))
    worse = study.ask(space)  # the same pruner still prunes a trial far behind: the rerun was kept, not all
    stopped = False
    for e in range(1, 15):
        worse.report(0.3 * crossing(0.02, e), e)
        if worse.should_prune():
            stopped = True
            break
    assert stopped


def test_a_samplers_repeat_of_the_best_config_may_still_be_pruned_it_adds_nothing():
    """Only an enqueued rerun is kept: TPE's repeats of the best config (bench/hpo.py's snapped lr) trained on cost
    46.5 -> 49.5 % of the epochs to within 0.1 points when they were kept too."""
    import optuna

    from lcpipe.integrations.optuna import ForecastPruner
    space = {"x": optuna.distributions.FloatDistribution(0, 1)}
    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(15, str(CIFAR), fit_cache=False))
    for x in (0.05, 0.18):
        study.add_trial(optuna.trial.create_trial(params={"x": x}, distributions=space, value=crossing(x, 15),
                                                  intermediate_values={e: crossing(x, e) for e in range(1, 16)}))
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0.18, 0.18)})  # sampled, not enqueued
    pruned = False
    for e in range(1, 15):
        trial.report(crossing(trial.params["x"], e), e)
        if trial.should_prune():
            pruned = True
            break
    assert pruned


def test_a_history_holding_the_studys_own_trials_is_said_once(tmp_path):
    import optuna

    from lcpipe.integrations.optuna import ForecastPruner
    space = {"x": optuna.distributions.FloatDistribution(0, 1)}
    xs = (0.05, 0.2, 0.3, 0.4)
    (tmp_path / "day1").mkdir()
    for i, x in enumerate(xs):  # yesterday's trials, exported as curves into today's history
        (tmp_path / "day1" / f"t{i}.csv").write_text("epoch,test_acc\n" + "".join(
            f"{e},{float(crossing(x, e))!r}\n" for e in range(1, 16)))
    study = optuna.create_study(direction="maximize",
                                pruner=ForecastPruner(15, [str(CIFAR), str(tmp_path / "day1")], fit_cache=False))
    for x in xs:
        study.add_trial(optuna.trial.create_trial(params={"x": x}, distributions=space, value=crossing(x, 15),
                                                  intermediate_values={e: crossing(x, e) for e in range(1, 16)}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for x in (0.5, 0.6):
            trial = study.ask(space)
            for e in range(1, 15):
                trial.report(crossing(x, e), e)
                if trial.should_prune():
                    break
    said = [str(w.message) for w in caught if "holds what trial" in str(w.message)]
    assert len(said) == 1 and "ForecastPruner history: 't0' holds what trial 0 of this study reported" in said[0]


@pytest.mark.parametrize("first_step", [0, 1])
def test_the_copies_warning_reads_trials_counted_from_0_and_is_silent_on_a_history_that_only_starts_alike(
        tmp_path, first_step):
    import optuna

    from lcpipe.integrations.optuna import ForecastPruner
    space = {"x": optuna.distributions.FloatDistribution(0, 1)}
    xs = (0.05, 0.2, 0.3, 0.4)
    for folder, tail in (("copies", 0.0), ("alike", 0.05)):  # the same first 5 epochs; then the same, or other
        (tmp_path / folder).mkdir()
        for i, x in enumerate(xs):
            (tmp_path / folder / f"t{i}.csv").write_text("epoch,test_acc\n" + "".join(
                f"{e},{crossing(x, e) - tail * (e > 5)!r}\n" for e in range(1, 16)))
    for folder, expected in (("copies", 1), ("alike", 0)):
        study = optuna.create_study(direction="maximize", pruner=ForecastPruner(
            15 - first_step, [str(CIFAR), str(tmp_path / folder)], fit_cache=False))
        for x in xs:  # Optuna's habit: range(epochs), steps from 0
            study.add_trial(optuna.trial.create_trial(params={"x": x}, distributions=space, value=crossing(x, 15),
                                                      intermediate_values={e - 1 + first_step: crossing(x, e)
                                                                           for e in range(1, 16)}))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trial = study.ask(space)
            for e in range(1, 15):
                trial.report(crossing(0.5, e), e - 1 + first_step)
                if trial.should_prune():
                    break
        assert sum("holds what trial" in str(w.message) for w in caught) == expected, folder


def test_a_worker_given_a_mistyped_study_name_joins_none(tmp_path, monkeypatch, capsys):
    import runpy
    import sys

    import optuna
    storage = f"sqlite:///{tmp_path / 'o.db'}"
    optuna.create_study(study_name="digits-cnn", storage=storage, direction="maximize")
    example = runpy.run_path(str(ROOT / "examples" / "optuna_digits.py"))
    monkeypatch.setattr(sys, "argv", ["optuna_digits.py", "--storage", storage, "--study", "digits_cnn", "--trials",
                                      "1", "--epochs", "6", "--history", str(CIFAR)])
    with pytest.raises(SystemExit) as stopped:
        example["main"]()
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "--study 'digits_cnn': no such study in" in err and "'digits-cnn'" in err
    assert optuna.get_all_study_names(storage=storage) == ["digits-cnn"]


def test_a_worker_given_fewer_epochs_than_the_studys_finished_trials_hears_it():
    import optuna

    from lcpipe.integrations.optuna import ForecastPruner
    space = {"x": optuna.distributions.FloatDistribution(0, 1)}
    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(10, str(CIFAR), fit_cache=False))
    for x in (0.2, 0.4, 0.6, 0.8):  # the team's finished trials, 15 epochs each
        study.add_trial(optuna.trial.create_trial(params={"x": x}, distributions=space, value=crossing(x, 15),
                                                  intermediate_values={e: crossing(x, e) for e in range(1, 16)}))
    trial = study.ask(space)
    with pytest.warns(UserWarning, match=r"ForecastPruner\(epochs=10\): trial 0 reported step 15, past epochs"):
        for e in range(1, 10):
            trial.report(crossing(trial.params["x"], e), e)
            if trial.should_prune():
                break


def test_rows_holding_every_step_once_out_of_order_are_told_to_be_sorted_not_blamed_on_a_resumed_run(tmp_path):
    from lcpipe.forecasting.logs import read_curves
    (tmp_path / "a.csv").write_text("step,val_loss\n15,2.3\n45,2.1\n30,2.2\n60,2.0\n75,1.9\n")
    with pytest.raises(LcpipeError, match=r"line 4: step '30' after '45': its rows hold every step once, out of "
                                          r"order; sort the file by step$"):
        read_curves([tmp_path / "a.csv"], "val_loss")
    (tmp_path / "b.csv").write_text("epoch,test_acc\n1,0.3\n2,0.4\n3,0.5\n2,0.45\n3,0.55\n4,0.6\n")
    with pytest.raises(LcpipeError, match="a run resumed from a checkpoint"):  # steps again: still a resumed run
        read_curves([tmp_path / "b.csv"], "test_acc")
