"""Defects found in the nineteenth session (2026-12-07, night): each test fails on the code before its fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lcpipe
from lcpipe.errors import LcpipeError


def _curve(n: int, final: float) -> list[float]:
    t = np.arange(1, n + 1)
    return list(final - 0.6 * np.exp(-t / 8))


HISTORY = {f"h{i}": _curve(30, 0.8 + 0.01 * i) for i in range(8)}


@pytest.mark.parametrize("arg, given, says", [
    # history keys 1 and "1": two curves the results, messages and configs= all name alike (was accepted)
    ("history", {**HISTORY, 1: _curve(30, 0.9), "1": _curve(30, 0.85)}, "two history curves are named '1'"),
    # a run with a blank name: a row of results nobody can point at (was forecast, its name empty)
    ("runs", {"": _curve(10, 0.9)}, "a run is named '', a blank name"),
    ("runs", {"  ": _curve(10, 0.9)}, "a run is named '  ', a blank name"),
    ("history", {**HISTORY, "": _curve(30, 0.9)}, "a history curve is named '', a blank name"),
])
def test_names_that_read_alike_or_blank_are_one_line(arg, given, says):
    kwargs = {"history": HISTORY, "runs": {"r": _curve(10, 0.85)}, "epochs": 30, arg: given}
    with pytest.raises(LcpipeError, match=says):
        lcpipe.forecast(**kwargs)


def _live(n: int, kept: set[int], level: float = 2.3) -> list:
    from lcpipe.forecasting.live import RunForecast
    from lcpipe.forecasting.predictors.base import Forecast
    out = []
    for i in range(n):
        obs = level + 0.6 * np.exp(-np.arange(1, 11) / 4) + 0.01 * i
        mean = np.full(20, obs[-1] - 0.1)
        out.append(RunForecast(f"t{i:02d}", obs, 30, Forecast(mean, mean - 0.0883, mean + 0.0918),
                               0.5 / (i + 1) if i in kept else 0.0, "keep" if i in kept else "stop"))
    return out


def test_a_figure_of_many_runs_names_the_kept_ones_and_greys_the_stopped(tmp_path, monkeypatch):
    """A LoRA sweep of 40 trials, 8 kept: no legend at all, and ten colours shared by kept and stopped runs alike.
    Now the stopped ones are grey and the legend names the kept ones, likeliest to end best first."""
    import matplotlib.colors
    import matplotlib.pyplot as plt

    import lcpipe.reporting.live_figure as fig
    from lcpipe.metric import Metric

    drawn = {}
    monkeypatch.setattr(fig.plt, "close", lambda f: drawn.setdefault("fig", f))
    kept = {3, 11, 7}
    fig.live_figure(tmp_path / "f.png", _live(40, kept), Metric.infer("val_ce"), "auto")
    ax = drawn["fig"].axes[0]
    legend = [text.get_text().split()[0] for text in ax.get_legend().get_texts()]
    assert legend == ["t03", "t07", "t11"]  # by P(ends best), highest first
    assert "3 kept in colour, 37 stopped in grey" in ax.get_title()
    colours = {line.get_label().split()[0]: matplotlib.colors.to_hex(line.get_color()) for line in ax.lines
               if not line.get_label().startswith("_")}
    grey = {c for name, c in colours.items() if int(name[1:]) not in kept}
    assert len(grey) == 1 and len({colours[f"t{i:02d}"] for i in kept} | grey) == 4  # kept: 3 colours, none grey
    plt.close(drawn["fig"])


def test_a_loss_table_shows_every_final_and_bound_to_the_same_decimals():
    """A cross-entropy's finals were printed to 5 significant digits each: `2.362 [2.2737, 2.4538]`."""
    from lcpipe.forecasting.live import RunForecast, table
    from lcpipe.forecasting.predictors.base import Forecast
    from lcpipe.metric import Metric

    def run(final, low, high, scale=1.0):
        mean = np.array([final + 0.1, final]) * scale
        return RunForecast("r", np.array([3.0, 2.8]) * scale, 4, Forecast(mean, mean - (final - low) * scale,
                                                                          mean + (high - final) * scale), 0.5, "keep")

    row = table([run(2.3620, 2.2737, 2.4538)], Metric.infer("val_ce")).splitlines()[1]
    assert "2.3620 [2.2737, 2.4538]" in row, row
    row = table([run(4.1e-5, 3.92e-5, 4.4e-5)], Metric.infer("val_mse")).splitlines()[1]  # small: more decimals
    assert "0.000041000 [0.000039200, 0.000044000]" in row, row
    row = table([run(48.21, 40.0, 57.5)], Metric.infer("perplexity")).splitlines()[1]
    assert "48.210 [40.000, 57.500]" in row, row


def test_json_sidecars_read_by_the_json_parser_give_what_the_yaml_reading_gave():
    """The sidecars the repository ships (histories, examples, the bench tables), read both ways: the same config.
    The JSON parser is the fast path (PyYAML's pure-Python parser took 3.4 ms a sidecar, run twice over each)."""
    from pathlib import Path

    from lcpipe.forecasting.logs import _plain_json, _safe_yaml

    root = Path(__file__).resolve().parents[1]
    files = [p for folder in ("data/history", "examples", "bench/lm_table/curves", "bench/boost_table/curves")
             for p in sorted((root / folder).rglob("*.json"))]
    read = [p for p in files if _plain_json(p.read_text()) is not None]
    assert len(read) >= 200
    for path in read:
        assert _plain_json(path.read_text()) == _safe_yaml(path.read_text()), path


@pytest.mark.parametrize("text, fast", [
    ('{"lr": 1e-05, "optimizer": "adam", "milestones": [150]}',
     {"lr": 1e-05, "optimizer": "adam", "milestones": [150]}),
    ('{"lr": NaN}', None),  # not JSON: read as YAML reads it, as before
    ('{"epochs": 30, "epochs": 40}', None),  # a key twice: YAML's one line, with its line number
    ('["sgd"]', None),  # no object: YAML's reading, and its one line
    ('lr: 0.1', None),  # YAML in a .json file
])
def test_the_json_fast_path_reads_plain_json_alone(text, fast):
    from lcpipe.forecasting.logs import _plain_json
    assert _plain_json(text) == fast


def test_a_json_sidecar_with_a_key_twice_is_still_one_line_with_its_line(tmp_path):
    from lcpipe.forecasting.logs import _config_file
    (tmp_path / "r.json").write_text('{\n "epochs": 30,\n "epochs": 40\n}\n')
    with pytest.raises(LcpipeError, match=r"the key 'epochs' is written twice \(line 3\)"):
        _config_file(tmp_path / "r.json")


def _lightning_log(path, upto: int, final: float, tau: float, every: int = 2, per: int = 100) -> None:
    """Lightning's CSVLogger rows: train rows every 50 steps, a validation row at the end of every `every`-th epoch,
    epochs counted from 0 and steps from 0 (the end of epoch e at step (e + 1) * per - 1)."""
    rows = ["epoch,step,train_loss,val_loss"]
    for e in range(upto):
        rows += [f"{e},{s},1.0," for s in range(e * per + 49, (e + 1) * per, 50)]
        if (e + 1) % every == 0:
            rows.append(f"{e},{(e + 1) * per - 1},,{final + 2 * np.exp(-(e + 1) / tau):.5f}")
    path.write_text("\n".join(rows) + "\n")


def test_a_lightning_run_validating_every_2_epochs_has_seen_the_epochs_it_trained(tmp_path):
    """Red team: epochs counted from 0 and validated every 2 were read as they stand: "19/40 epochs seen" after
    20 epochs, and each history curve's final one epoch short of its end; a log of every epoch (0, 1, 2) was read
    right."""
    from lcpipe.forecasting.logs import read_curve
    from lcpipe.metric import Metric

    (tmp_path / "h").mkdir()
    (tmp_path / "r").mkdir()
    for i in range(6):
        _lightning_log(tmp_path / "h" / f"h{i}.csv", 40, 0.5 + 0.05 * i, 10)
    _lightning_log(tmp_path / "r" / "r0.csv", 20, 0.52, 9)
    curve = read_curve(tmp_path / "h" / "h0.csv", Metric.infer("val_loss"))
    assert list(curve.steps[:3]) == [2, 4, 6] and curve.steps[-1] == 40
    table = lcpipe.forecast(history=str(tmp_path / "h"), runs=str(tmp_path / "r"), epochs=40, metric="val_loss")
    assert table.loc[0, "observed"] == 20


@pytest.mark.parametrize("rows, expected", [
    # Keras' CSVLogger: a row every epoch from 0, validation every 2 epochs (validation_freq=2) filled at 1, 3, 5
    ("".join(f"{e},0.5,{'' if e % 2 == 0 else 0.9 - 0.5 * np.exp(-e / 9)}\n" for e in range(40)), [2, 4, 40]),
    # an evaluation at epoch 0 is the initial model's (lcpipe's own advice for a log missing its start): 1-based
    ("".join(f"{e},0.5,{0.9 - 0.5 * np.exp(-e / 9)}\n" for e in range(0, 41, 2)), [0, 2, 40]),
    # 1, 3, ..., 59, no epoch 0 anywhere: as they stand
    ("".join(f"{e},0.5,{0.9 - 0.5 * np.exp(-e / 9)}\n" for e in range(1, 60, 2)), [1, 3, 59]),
    # Hugging Face: epoch is progress (an evaluation at epoch 2.0 is at step 2P), its first-step row at epoch 0.0
    ("0,1,0.6,\n" + "".join(f"{e},{100 * e},0.5,\n" + (f"{e},{100 * e},,{0.9 - 0.5 * np.exp(-e / 9)}\n" if e % 2 == 0
                                                          else "") for e in range(1, 41)), [2, 4, 40]),
])
def test_epochs_count_from_0_only_where_the_log_says_so(tmp_path, rows, expected):
    """Review: any row at epoch 0 shifted the axis, so a 1-based log with the initial model's evaluation at epoch 0
    ended at epoch 41 of 40, and a Hugging Face log whose first-step row rounds to epoch 0.0 likewise."""
    from lcpipe.forecasting.logs import read_curve
    from lcpipe.metric import Metric

    header = "epoch,step,train_loss,val_acc\n" if rows.startswith("0,1,") else "epoch,train_loss,val_acc\n"
    (tmp_path / "r.csv").write_text(header + rows)
    steps = read_curve(tmp_path / "r.csv", Metric.infer("val_acc")).steps
    assert [steps[0], steps[1], steps[-1]] == expected


def test_fractional_epochs_from_0_are_progress_read_as_they_stand(tmp_path):
    from lcpipe.forecasting.logs import read_curve
    from lcpipe.metric import Metric

    epochs = np.arange(0, 10.01, 0.5)
    (tmp_path / "r.csv").write_text("epoch,val_acc\n" + "".join(f"{e},{0.9 - 0.5 * np.exp(-e / 3):.5f}\n"
                                                                for e in epochs))
    assert read_curve(tmp_path / "r.csv", Metric.infer("val_acc")).steps[-1] == 10.0


KERAS_A = {"loss": [2.1, 1.5, 1.2, 1.0, 0.9, 0.85], "val_loss": [2.2, 1.7, 1.4, 1.2, 1.1, 1.05],
           "accuracy": [0.3, 0.5, 0.6, 0.65, 0.7, 0.72]}
KERAS_B = {"loss": [2.1, 1.5, 1.2, 1.0, 0.9, 0.8], "val_loss": [2.3, 1.9, 1.6, 1.5, 1.45, 1.42],
           "accuracy": [0.3, 0.5, 0.6, 0.65, 0.7, 0.72]}
LOSSES = {f"h{i}": list(0.5 + 0.1 * i + 2 * np.exp(-np.arange(1, 31) / (5 + i))) for i in range(4)}


def test_keras_history_given_as_runs_is_one_line_not_three_runs():
    """Red team: runs=history.history forecast 'loss', 'val_loss' and 'accuracy' as three runs of val_loss, with no
    word (the accuracy kept as a loss)."""
    with pytest.raises(LcpipeError, match=r"runs: its keys \('loss', 'val_loss', 'accuracy'\) name metrics, a loss "
                                          r"beside a score or the metric itself: one run's log by metric"):
        lcpipe.forecast(history=LOSSES, runs=KERAS_A, epochs=30, metric="val_loss")


def test_a_run_given_as_its_keras_history_is_read_as_its_log():
    """{'a': history.history} was refused ("a mapping of step -> value needs steps that are numbers; 'loss' is not"):
    it is one run's log, a list per metric, a value per epoch, read as the same values given as a list are."""
    by_log = lcpipe.forecast(history=LOSSES, runs={"a": KERAS_A, "b": KERAS_B}, epochs=30, metric="val_loss")
    by_list = lcpipe.forecast(history=LOSSES, runs={"a": KERAS_A["val_loss"], "b": KERAS_B["val_loss"]}, epochs=30,
                              metric="val_loss")
    assert list(by_log["observed"]) == [6, 6]
    np.testing.assert_allclose(by_log["final"], by_list["final"])
    with pytest.raises(LcpipeError, match="whose lists differ in length"):
        lcpipe.forecast(history=LOSSES, runs={"a": {"val_loss": [1.0, 0.9], "loss": [1.0]}}, epochs=30,
                        metric="val_loss")


# -- the benches' and generators' arguments (red team, helper) --------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _bench(script, *args) -> subprocess.CompletedProcess:
    """`python SCRIPT ARGS` run in this process (runpy, as __main__): its exit code and stderr, as a subprocess would
    give them, without a subprocess's seconds of imports (optuna, torch) for a refusal that comes before any work."""
    import contextlib
    import io
    import runpy

    err, code, argv = io.StringIO(), 0, sys.argv
    sys.argv = [str(script), *map(str, args)]
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        if isinstance(exc.code, str):  # SystemExit("message"): Python prints it to stderr
            err.write(exc.code + "\n")
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess([str(script), *args], code or 0, "", err.getvalue())


def _digest(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
            and "__pycache__" not in p.parts}


@pytest.mark.parametrize("script, args, says", [
    # the docstring's slice example without --out rewrote the committed table (hpo.py then: KeyError: 1)
    ("bench/hpo_table/generate.py", ["--slice", "2", "--epochs", "2", "--workers", "1", "--tasks", "wine"],
     "would mix with the committed table"),
    # 2 configs of 10 rounds over the committed 40 of 1,000: pruners.py replayed the mix as one study
    ("bench/boost_table/generate.py", ["--configs", "2", "--rounds", "10", "--workers", "1"],
     "would mix with the committed table"),
    ("bench/lm_table/generate.py", ["--trials", "2", "--workers", "1"], "would mix with the committed table"),
    ("bench/boost_table/generate.py", ["--seed", "-1"], "--seed -1: give 0 or more"),  # a numpy traceback
    ("bench/lm_table/generate.py", ["--tasks", ",", "--out", "{tmp}/x"], "name at least one of"),  # after pretraining
])
def test_a_generator_never_writes_a_part_of_a_table_over_the_committed_one(tmp_path, script, args, says):
    table = ROOT / Path(script).parent
    before = _digest(table)
    done = _bench(ROOT / script, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert _digest(table) == before and not (tmp_path / "x").exists()


def test_a_slice_is_written_once_into_a_new_folder_and_not_over_itself(tmp_path):
    args = ("--configs", "2", "--rounds", "10", "--workers", "1", "--out", tmp_path / "t")
    assert _bench(ROOT / "bench/boost_table/generate.py", *args).returncode == 0
    again = _bench(ROOT / "bench/boost_table/generate.py", *args)
    assert again.returncode == 2 and "would mix with the table there" in again.stderr
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    foreign = _bench(ROOT / "bench/boost_table/generate.py", *args[:-1], tmp_path / "mine")
    assert foreign.returncode == 2 and "holds other files, not a table" in foreign.stderr


def _one_family(folder: Path, extra: str | None = None) -> Path:
    (folder / "s1").mkdir(parents=True)
    runs = [f"t{i:02d}" for i in range(6)]
    for run in [*runs, *([extra] if extra else [])]:
        for suffix in (".csv", ".json"):
            shutil.copy(ROOT / "bench/lm_table/curves/descr" / (run + suffix), folder / "s1" / (run + suffix))
    (folder / "MANIFEST.csv").write_text("group,run,family\n" + "".join(f"s1,{r},f1\n" for r in runs))
    return folder


@pytest.mark.parametrize("args, says", [
    (["--tune", "gap", "--patience", "0.1"], "--patience with --tune"),  # ignored, without a word
    (["--audit", "--patience", "0.1"], "--patience with --audit"),
    (["--tune", "prior", "--history", "none"], "there is none"),  # four settings alike, one "chosen"
    (["--corpus", "{one}", "--metric", "val_ce"], "one family of studies, so no other family to forecast from"),
    (["--corpus", "{one}", "--metric", "val_ce", "--history", "none", "--tune", "warmup"],
     "no other family to choose a setting on"),  # "chosen on the others" from no other
    (["--corpus", "{mixed}", "--metric", "val_ce", "--history", "none"], "does not list (e.g. t10)"),
    (["--corpus", "{empty}"], "names no study"),  # an empty table, exit 0
])
def test_pruner_bench_arguments_that_would_measure_nothing_are_one_line(tmp_path, args, says):
    folders = {"one": _one_family(tmp_path / "one"), "mixed": _one_family(tmp_path / "mixed", extra="t10"),
               "empty": tmp_path / "empty"}
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "MANIFEST.csv").write_text("group,family\n")
    done = _bench(ROOT / "bench/pruners.py", *(a.format(**folders) for a in args))
    assert done.returncode != 0 and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2, done.stderr  # + metric line


@pytest.mark.parametrize("args, says", [
    (["--quick", "--seeds", "3", "--workers", "4"], "--quick with --seeds, --workers"),  # overridden, unsaid
    (["--quick", "--history-per-task", "100000"], "the table's tasks hold 320 configs"),  # 320 used, 100000 said
    (["--quick", "--history", "none", "--history-per-task", "5"], "no history is written"),
    (["--tasks", "nope"], "hpo.py: error: --tasks 'nope'"),  # exit 1 with no prefix
])
def test_hpo_bench_arguments_are_one_line_exit_2(args, says):
    done = _bench(ROOT / "bench/hpo.py", *args)
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_percent_cutoff_no_curve_sees_is_refused_before_tables_of_nan():
    """--percent --cutoffs 1,2: every curve's 1 % prefix is its 2 % one (the 5-point floor): the 1 % rows were nan,
    and the headline `tau nan ...`."""
    done = _bench(ROOT / "bench/forecast_quality.py", "--corpus", ROOT / "bench/lm_table/curves", "--metric", "val_ce",
                  "--percent", "--cutoffs", "1,2", "--predictors", "auto,last_value", "--no-in-study")
    assert done.returncode == 2 and "1 % gives every curve the prefix of a later cutoff" in done.stderr, done.stderr


def test_a_tensorboard_json_download_is_named_as_such_with_the_export_that_works(tmp_path):
    """TensorBoard's "download JSON" of a scalar ([[wall time, step, value], ...]) was told it was a run's config, and a
    folder of them that it held no curve at all."""
    import json

    from tests.helpers import lcpipe_here

    (tmp_path / "tb").mkdir()
    rows = [[1.7e9 + i, 100 * i, 2.0 * np.exp(-i / 10) + 0.5] for i in range(1, 20)]
    (tmp_path / "tb" / "run-version_0-tag-val_loss.json").write_text(json.dumps(rows))
    for runs in (tmp_path / "tb" / "run-version_0-tag-val_loss.json", tmp_path / "tb"):
        done = lcpipe_here("forecast", "--history", tmp_path / "tb", "--runs", runs, "--metric", "val_loss")
        assert done.returncode == 2 and "TensorBoard's JSON download of one scalar" in done.stderr, done.stderr
        assert "download its CSV instead (Wall time,Step,Value) and rename its column Value" in done.stderr


def test_a_wandb_panel_export_is_named_with_how_to_split_it_and_the_split_reads(tmp_path):
    """W&B's "Export panel data" CSV (Step, `<run> - val_loss`, its __MIN and __MAX, per run) was told its metric was
    missing. The line says what it is, and the split it gives is read."""
    import pandas as pd

    from tests.helpers import lcpipe_here

    (tmp_path / "p").mkdir()
    steps = np.arange(1, 21) * 100
    frame = pd.DataFrame({"Step": steps})
    for run, tau in (("lr1e-3", 8), ("lr3e-4", 12)):
        loss = np.round(2 * np.exp(-steps / 100 / tau) + 0.5, 4)
        frame[f"{run} - val_loss"] = frame[f"{run} - val_loss__MIN"] = frame[f"{run} - val_loss__MAX"] = loss
    frame.to_csv(tmp_path / "p" / "wandb_export.csv", index=False)
    history = Path(__file__).resolve().parents[1] / "examples" / "lm-losses" / "history"
    done = lcpipe_here("forecast", "--history", history, "--runs", tmp_path / "p", "--metric", "val_loss")
    assert done.returncode == 2 and "a W&B panel export, a column per run ('lr1e-3 - val_loss'" in done.stderr
    assert "set the panel's x-axis to the epoch or the global step" in done.stderr
    (tmp_path / "split").mkdir()
    df = pd.read_csv(tmp_path / "p" / "wandb_export.csv")
    for c in [c for c in df if c.endswith(" - val_loss")]:  # the line's own recipe, the panel's x-axis global steps
        df[["Step", c]].dropna().set_axis(["step", "val_loss"], axis=1).to_csv(
            tmp_path / "split" / (c.split(" - ")[0] + ".csv"), index=False)
    split = lcpipe_here("forecast", "--history", history, "--runs", tmp_path / "split", "--metric", "val_loss",
                        "--steps", 5000)
    assert split.returncode == 0 and "lr1e-3" in split.stdout and "lr3e-4" in split.stdout, split.stderr


@pytest.mark.parametrize("script, args, says", [
    ("examples/optuna_digits.py", ["--study", "mine"], "--study 'mine' without --storage"),  # ignored before
    ("bench/hpo_table/generate.py", ["--slice", "400", "--out", "{tmp}/x"], "the grid holds 320 configs"),  # all 320
    ("bench/history_speed.py", ["--per-task", "1000"], "the table's tasks hold 320 configs"),  # 320 used, unsaid
])
def test_counts_past_what_a_script_has_are_one_line(tmp_path, monkeypatch, script, args, says):
    monkeypatch.syspath_prepend(str(ROOT))
    done = _bench(ROOT / script, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "x").exists()


def test_a_run_given_as_its_frames_series_keeps_their_steps():
    """Review: {'a': df.to_dict('series')} of a log indexed by step was read as one value an epoch ("12/3000")."""
    import pandas as pd

    at = pd.Index(np.arange(100, 3100, 100), name="step")
    history = {f"h{i}": pd.Series(0.5 + 0.1 * i + 2 * np.exp(-at / (500 + 100 * i)), index=at) for i in range(4)}
    seen = pd.Index(np.arange(100, 1300, 100), name="step")
    frame = pd.DataFrame({"val_loss": 0.55 + 2 * np.exp(-seen / 600), "loss": 0.5 + 2 * np.exp(-seen / 500)},
                         index=seen)
    whole = lcpipe.forecast(history=history, runs={"a": frame}, steps=3000, metric="val_loss")
    series = lcpipe.forecast(history=history, runs={"a": frame.to_dict("series")}, steps=3000, metric="val_loss")
    assert (series.loc[0, "unit"], series.loc[0, "observed"]) == ("steps", 1200)
    assert series.loc[0, "final"] == pytest.approx(whole.loc[0, "final"])


@pytest.mark.parametrize("runs", [
    {"loss": [2.1, 1.5, 1.2, 1.0, 0.9, 0.85], "accuracy": [0.3, 0.5, 0.6, 0.65, 0.7, 0.72]},  # a fit without validation
    {"loss": [2.1, 1.5, 1.2, 1.0, 0.9, 0.85], "val_acc": [0.3, 0.5, 0.6, 0.65, 0.7, 0.72]},  # Keras 2's names
])
def test_a_keras_history_given_as_runs_is_refused_without_the_metric_among_its_keys(runs):
    """Review: without the metric among its keys, history.history as runs= was still forecast as two runs."""
    with pytest.raises(LcpipeError, match=r"name metrics, a loss beside a score or the metric itself: one run's log "
                                          r"by metric \(Keras' History.history\?\)"):
        lcpipe.forecast(history=LOSSES, runs=runs, epochs=30, metric="val_loss")


def test_keras_validation_every_2_epochs_is_told_how_to_give_it():
    with pytest.raises(LcpipeError, match=r"give the metric alone with its epochs, \{'epoch': \[2, 4, \.\.\.\], "
                                          r"'val_loss': history.history\['val_loss'\]\}"):
        lcpipe.forecast(history=LOSSES, runs={"a": {"loss": [2.0, 1.5, 1.2, 1.0, 0.9, 0.85],
                                                    "val_loss": [1.6, 1.1, 0.95]}}, epochs=30, metric="val_loss")
    got = lcpipe.forecast(history=LOSSES, runs={"a": {"epoch": [2, 4, 6, 8, 10, 12],
                                                      "val_loss": [1.9, 1.4, 1.15, 1.0, 0.92, 0.88]}},
                          epochs=30, metric="val_loss")
    assert got.loc[0, "observed"] == 12


def test_a_tables_tiny_or_small_beside_large_finals_are_not_rounded_to_zero():
    """Review: finals near 1e-13 hit the decimals' cap and printed 0.000000000000 in every row; a reward of 0.004 beside
    rewards of 480 printed 0.00 (the decimals came from the median)."""
    from lcpipe.forecasting.live import RunForecast, table
    from lcpipe.forecasting.predictors.base import Forecast
    from lcpipe.metric import Metric

    def run(name, final, low, high):
        mean = np.array([final * 1.1, final])
        return RunForecast(name, np.array([final * 1.3, final * 1.2]), 4,
                           Forecast(mean, mean - (final - low), mean + (high - final)), 0.5, "keep")

    tiny = table([run("a", 1.2e-13, 1.1e-13, 1.3e-13)], Metric.infer("val_mse")).splitlines()[1]
    assert "1.2e-13 [1.1e-13, 1.3e-13]" in tiny, tiny
    mixed = table([run("a", 0.004, 0.003, 0.005), run("b", 480.2, 470, 490), run("c", 481.0, 470, 490)],
                  Metric.infer("reward", "max")).splitlines()
    assert "0.0040000 [0.0030000, 0.0050000]" in mixed[1] and "480.20 [470.00, 490.00]" in mixed[2], mixed


# -- lcpipe.forecast's inputs as notebooks hold them (red team, helper) ------------------------------------------------

LIVE_LOSSES = {f"r{i}": list(0.45 + 0.1 * i + 2 * np.exp(-np.arange(1, 11) / (4.5 + i))) for i in range(3)}


@pytest.mark.parametrize("column, says", [
    ("Unnamed: 0", "an index to_csv wrote, read back as a column: read the CSV with index_col=0"),  # forecast as a run
    ("lr", "a log's bookkeeping"),  # forecast at 0.012, kept, every real run stopped
    ("Wall time", "a log's bookkeeping"),
    ("r0 - val_loss__MIN", "a W&B panel export's bound of a run"),
])
def test_a_wide_frames_column_that_is_no_run_is_one_line(column, says):
    import pandas as pd

    frame = pd.DataFrame(LIVE_LOSSES)
    frame[column] = np.linspace(0.01, 0.001, 10)
    with pytest.raises(LcpipeError, match=f"the DataFrame's column '{column}' is no run: {says}"):
        lcpipe.forecast(history=LOSSES, runs=frame, epochs=30, metric="val_loss")


def test_series_cut_from_one_frame_by_groupby_are_refused_not_read_as_steps():
    """Red team: {k: g['val_loss'] for k, g in df.groupby('run')} kept the frame's row labels (0, 3, 6, ...) as each
    run's index, read as steps: '27/30 seen' at epoch 10, finals far off, no word."""
    import pandas as pd

    long = pd.DataFrame([{"run": r, "epoch": e, "val_loss": v} for r, vs in LIVE_LOSSES.items()
                         for e, v in enumerate(vs, start=1)]).sort_values(["epoch", "run"]).reset_index(drop=True)
    with pytest.raises(LcpipeError, match="indexed by row labels of one frame"):
        lcpipe.forecast(history=LOSSES, runs={k: g["val_loss"] for k, g in long.groupby("run")}, epochs=30,
                        metric="val_loss")
    by_epoch = lcpipe.forecast(history=LOSSES, runs={k: g.set_index("epoch")["val_loss"]
                                                     for k, g in long.groupby("run")}, epochs=30, metric="val_loss")
    assert list(by_epoch["observed"]) == [10, 10, 10]
    steps = {k: pd.Series(v, index=np.arange(100, 1100, 100)) for k, v in LIVE_LOSSES.items()}  # shared steps: fine
    assert list(lcpipe.forecast(history=LOSSES, runs=steps, steps=3000, metric="val_loss")["unit"]) == ["steps"] * 3


def test_an_accuracy_in_percent_is_told_to_divide_by_100_not_kind_any():
    """Red team: the hint `kind='any'` forecast percents against a history of fractions: 62.3 for runs at 75."""
    history = {f"h{i}": list(0.5 + 0.05 * i - 0.4 * np.exp(-np.arange(1, 31) / 8)) for i in range(6)}
    with pytest.raises(LcpipeError, match=r"'val_acc' is in percent \(up to 70\); lcpipe reads it as a fraction: "
                                          r"divide it by 100"):
        lcpipe.forecast(history=history, runs={"a": [31, 52, 60, 65, 70]}, epochs=30, metric="val_acc")


def test_a_numpy_array_in_configs_is_read_as_its_list():
    """Red team: configs={'r': {'milestones': np.array([10, 20])}} was dropped without a word."""
    from lcpipe.forecasting.logs import given_config

    assert given_config({"milestones": np.array([10, 20]), "lr": np.array(0.001)}, "configs['r']") == \
        given_config({"milestones": [10, 20], "lr": 0.001}, "configs['r']")


def test_a_users_series_keeps_its_index_name_and_runs_named_like_losses_are_runs():
    import pandas as pd

    series = pd.Series(LIVE_LOSSES["r0"], index=pd.Index(range(100, 1001, 100)))
    history = {f"h{i}": pd.Series(0.5 + 0.1 * i + 2 * np.exp(-np.arange(100, 3100, 100) / (500 + 100 * i)),
                                  index=pd.Index(np.arange(100, 3100, 100), name="step")) for i in range(4)}
    lcpipe.forecast(history=history, runs={"r0": {"val_loss": series}}, steps=3000, metric="val_loss")
    assert series.index.name is None  # it was 'step' after the call (red team)
    named = lcpipe.forecast(history=LOSSES, runs={"ce": LIVE_LOSSES["r0"], "dice": LIVE_LOSSES["r1"],
                                                  "iou": LIVE_LOSSES["r2"]}, epochs=30, metric="val_loss")
    assert list(named["run"]) == ["ce", "dice", "iou"]  # refused as a Keras History before (red team)


@pytest.mark.parametrize("runs", [
    {"mine": {"loss": LIVE_LOSSES["r0"], "val_loss": LIVE_LOSSES["r1"]}},  # the same as lists: the reference
    "frame",  # {'mine': pd.DataFrame(history.history)}: "missing column 'epoch'"
    "series",  # {'mine': {'loss': pd.Series(...), 'val_loss': pd.Series(...)}}: likewise
])
def test_a_keras_history_as_a_frame_or_series_reads_as_its_lists(runs):
    import pandas as pd

    history = {"loss": LIVE_LOSSES["r0"], "val_loss": LIVE_LOSSES["r1"]}
    given = {"mine": pd.DataFrame(history)} if runs == "frame" else \
        {"mine": {k: pd.Series(v) for k, v in history.items()}} if runs == "series" else runs
    got = lcpipe.forecast(history=LOSSES, runs=given, epochs=30, metric="val_loss")
    reference = lcpipe.forecast(history=LOSSES, runs={"mine": LIVE_LOSSES["r1"]}, epochs=30, metric="val_loss")
    assert got.loc[0, "observed"] == 10 and got.loc[0, "final"] == pytest.approx(reference.loc[0, "final"])


def test_a_long_frame_as_runs_is_told_to_pivot_and_the_pivot_reads():
    import pandas as pd

    long = pd.DataFrame([{"run": r, "step": e, "val_loss": v} for r, vs in LIVE_LOSSES.items()
                         for e, v in enumerate(vs, start=1)])
    with pytest.raises(LcpipeError, match=r"a long DataFrame, a row per run and step \('run' repeats\).*"
                                          r"df.pivot\(index='step', columns='run', values='val_loss'\)"):
        lcpipe.forecast(history=LOSSES, runs=long, epochs=30, metric="val_loss")
    wide = long.pivot(index="step", columns="run", values="val_loss")
    assert list(lcpipe.forecast(history=LOSSES, runs=wide, epochs=30, metric="val_loss")["observed"]) == [10] * 3


def test_runs_left_out_are_listed_with_their_reason_beside_the_frame():
    """Red team: a run too short to forecast had only a warning, which a notebook filtering warnings never saw; the
    CLI's JSON lists it under left_out."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = lcpipe.forecast(history=LOSSES, runs={**LIVE_LOSSES, "new": LIVE_LOSSES["r0"][:3]}, epochs=30,
                              metric="val_loss")
    assert "new" not in set(got["run"])
    assert [entry["run"] for entry in got.attrs["left_out"]] == ["new"]
    assert "a forecast needs at least 5" in got.attrs["left_out"][0]["reason"]


def test_a_masked_array_with_masked_values_is_one_line_not_read_through_its_mask():
    values = np.ma.masked_array(LIVE_LOSSES["r0"], mask=[0] * 9 + [1])
    with pytest.raises(LcpipeError, match="a masked array with masked values"):
        lcpipe.forecast(history=LOSSES, runs={"a": values}, epochs=30, metric="val_loss")
    unmasked = lcpipe.forecast(history=LOSSES, runs={"a": np.ma.masked_array(LIVE_LOSSES["r0"])}, epochs=30,
                               metric="val_loss")
    assert unmasked.loc[0, "observed"] == 10


# -- ForecastPruner in Optuna's study workflows (red team, helper) ----------------------------------------------------

HISTORY_DIR = ROOT / "data" / "history" / "cifar10-plain-vs-resnet"


def _climb(step: int, lr: float) -> float:
    return 0.9 - 0.8 * np.exp(-step / (3 + lr * 10))


def test_numpy_integer_steps_added_to_sqlite_do_not_crash_every_later_optimize(tmp_path):
    """Red team: create_trial(intermediate_values=dict(zip(np.arange(1, 31), acc))) stored the np.int64 steps as bytes
    in SQLite, and every later check of the study raised ValueError: could not convert string to float: b'\\x01...'."""
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import create_trial

    from lcpipe.integrations.optuna import ForecastPruner

    study = optuna.create_study(direction="maximize", storage=f"sqlite:///{tmp_path / 's.db'}",
                                pruner=ForecastPruner(epochs=30, history=HISTORY_DIR, fit_cache=False))
    epochs = np.arange(1, 31)
    for lr in (0.01, 0.03, 0.1):
        study.add_trial(create_trial(params={"lr": lr}, distributions={"lr": FloatDistribution(0.001, 1)},
                                     value=_climb(30, lr), intermediate_values=dict(zip(epochs, _climb(epochs, lr)))))

    def objective(trial):
        lr = trial.suggest_float("lr", 0.001, 1)
        for step in range(1, 31):
            trial.report(_climb(step, lr), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return _climb(30, lr)

    study.optimize(objective, n_trials=4)
    assert len(study.trials) == 7 and all(t.state.is_finished() for t in study.trials)


def test_a_study_the_pruner_cannot_work_with_stops_even_when_optimize_catches_value_errors():
    """Red team: PrunerError is a ValueError, so optimize(catch=(ValueError,)) turned its one line into a failed trial
    and a traceback each, to n_trials; the study stops after the first now."""
    import optuna

    from lcpipe.integrations.optuna import ForecastPruner

    study = optuna.create_study(direction="maximize", pruner=ForecastPruner(epochs=30, history=HISTORY_DIR,
                                                                             fit_cache=False))

    def objective(trial):
        lr = trial.suggest_float("lr", 0.001, 1)
        for step in range(1, 31):
            trial.report(100 * _climb(step, lr), step)  # percent: refused
            if trial.should_prune():
                raise optuna.TrialPruned()
        return 1.0

    study.optimize(objective, n_trials=10, catch=(ValueError,))
    assert [t.state.name for t in study.trials] == ["FAIL"]


def test_mode_is_one_line_pointing_at_the_studys_direction():
    from lcpipe.integrations.optuna import ForecastPruner, PrunerError

    with pytest.raises(PrunerError, match="the study's direction decides which way is better"):
        ForecastPruner(epochs=30, history=HISTORY_DIR, mode="min")
