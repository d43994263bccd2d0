"""A hostile-input pass on the loss surfaces (tenth session): what was wrong, each with a test that fails on the code
before its fix (3b5ee3e)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import lcpipe
from lcpipe.metric import Metric
from tests.helpers import ROOT, cli_in_process


def _error_study(root, column: str, falling: bool = True, mixed: bool = False):
    """8 history curves of an error that falls to 0.10-0.30 (rises, with `falling` False; half of each, `mixed`),
    and two runs at their 10th epoch, `good` on its way to 0.10 and `bad` to 0.30 (a 3-D pose error, a WAPE: a name
    no vocabulary knows)."""
    rng = np.random.default_rng(0)

    def curve(final, n=30, sign=1.0):
        return final + sign * 0.5 * np.exp(-np.arange(1, n + 1) / 6) + rng.normal(0, 0.002, n)

    for folder in ("hist", "runs"):
        (root / folder).mkdir()
    for i, final in enumerate(np.linspace(0.10, 0.30, 8)):
        sign = -1.0 if (not falling or mixed and i % 2) else 1.0
        values = curve(final if sign > 0 else 1 - final, sign=sign)
        (root / "hist" / f"h{i}.csv").write_text(f"epoch,{column}\n" + "".join(
            f"{e},{v:.5f}\n" for e, v in enumerate(values, 1)))
    for name, final in (("good", 0.10), ("bad", 0.30)):
        (root / "runs" / f"{name}.csv").write_text(f"epoch,{column}\n" + "".join(
            f"{e},{v:.5f}\n" for e, v in enumerate(curve(final)[:10], 1)))
    return root / "hist", root / "runs"


@pytest.mark.parametrize("column", ["val_mpjpe", "val_wape"])
def test_an_error_no_vocabulary_names_takes_the_direction_its_history_improves_in(tmp_path, column):
    """Red team: `lcpipe forecast --metric val_mpjpe` said `higher is better (names no loss or error)`, kept the run
    heading for 0.30 and stopped the one heading for 0.10; `lcpipe.forecast` did the same with no warning. A learning
    curve moves from its start toward better: every history curve falls, so lower is better, and stderr says why."""
    hist, runs = _error_study(tmp_path, column)
    result = cli_in_process("forecast", "--history", str(hist), "--runs", str(runs), "--epochs", "30",
                            "--metric", column, "--out", str(tmp_path / "f.json"))
    assert result.code == 0, result.err
    assert f"lower is better (--mode auto: '{column}' names no loss, error or score, and 8 of 8 history curves " \
           "fall" in result.err
    report = json.loads((tmp_path / "f.json").read_text())
    assert report["mode"] == "min"
    assert {r["run"]: r["decision"] for r in report["runs"]} == {"good": "keep", "bad": "stop"}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = lcpipe.forecast(history=hist, runs=runs, epochs=30, metric=column)
    assert dict(zip(table["run"], table["decision"])) == {"good": "keep", "bad": "stop"}
    said = [str(w.message) for w in caught]
    assert any("8 of 8 history curves fall, so lower is better" in m for m in said), said
    assert all(w.filename == __file__ for w in caught)  # at the caller's line

    stated = cli_in_process("forecast", "--history", str(hist), "--runs", str(runs), "--epochs", "30",
                            "--metric", column, "--mode", "min")  # said: the same forecast, no guess
    assert stated.out == result.out and "history curves" not in stated.err


def test_an_unnamed_direction_the_history_does_not_settle_stays_max_and_says_how_to_change_it(tmp_path):
    """Half the history rising and half falling decides nothing: higher is better, as for any name the vocabulary
    does not know, with the flag that says otherwise named on stderr and in Python's warning."""
    hist, runs = _error_study(tmp_path, "val_mpjpe", mixed=True)
    result = cli_in_process("forecast", "--history", str(hist), "--runs", str(runs), "--epochs", "30",
                            "--metric", "val_mpjpe")
    assert result.code == 0, result.err
    assert "higher is better (--mode auto: 'val_mpjpe' names no loss, error or score, and its history curves do " \
           "not move one way (4 of 8 fall)" in result.err
    assert "pass --mode min" in result.err
    with pytest.warns(UserWarning, match=r"do not move one way .* pass --mode min \(mode='min' in Python\)"):
        lcpipe.forecast(history=hist, runs=runs, epochs=30, metric="val_mpjpe")


def test_a_name_whose_direction_the_history_contradicts_is_kept_with_a_warning(tmp_path):
    """A name that says a direction decides it (the user's word), but a history that moves the other way in every
    curve is one warning line naming the flag: `loss_drop` (a gain by its name) whose curves all fall."""
    hist, runs = _error_study(tmp_path, "loss_drop")
    result = cli_in_process("forecast", "--history", str(hist), "--runs", str(runs), "--epochs", "30",
                            "--metric", "loss_drop")
    assert result.code == 0, result.err
    assert "warning: 'loss_drop': higher is better" in result.err
    assert "but 8 of 8 history curves fall: if lower is better, pass --mode min" in result.err
    with pytest.warns(UserWarning, match="8 of 8 history curves fall"):
        lcpipe.forecast(history=hist, runs=runs, epochs=30, metric="loss_drop")


def test_evaluate_takes_the_direction_from_the_curves_it_scores(tmp_path):
    """`lcpipe evaluate` on curves of an unnamed error: the curves themselves are the history."""
    hist, _ = _error_study(tmp_path, "val_mpjpe")
    result = cli_in_process("evaluate", "--curves", str(hist), "--metric", "val_mpjpe", "--cutoffs", "10",
                            "--predictors", "auto,last_value", "--out", str(tmp_path / "e.json"))
    assert result.code == 0, result.err
    assert "8 of 8 history curves fall, so lower is better" in result.err


@pytest.mark.parametrize(("name", "mode"), [
    ("accuracy_drop", "min"), ("val_accuracy_drop", "min"), ("acc_degradation", "min"), ("f1_decline", "min"),
    ("loss_drop", "max"), ("ppl_drop", "max"), ("val_loss_decrease", "max"), ("perplexity_reduction", "max"),
    ("variance_reduction", "max"),  # a fall of nothing named: the gain word alone, as before
])
def test_a_fall_of_a_score_is_a_loss_and_a_fall_of_a_loss_a_gain(name, mode):
    """Red team: `val_accuracy_drop` was read as an accuracy (a fraction to maximise) and `ppl_drop` as a perplexity
    to minimise. A drop may go below 0 (a run that gained): any finite series."""
    metric = Metric.infer(name)
    assert (metric.mode, metric.kind) == (mode, "any")
    assert Metric.infer(name, mode="max").mode == "max"  # a given mode is used as given
    assert Metric.infer("dropout_rate").why.endswith("pass --mode min (mode='min' in Python) if lower is better")


LM_DESCR = ROOT / "bench" / "lm_table" / "curves" / "descr"


def _lm_runs(dest, evaluations: int = 10):
    """Four LoRA runs of another task cut at `evaluations` evaluations (every 15 steps), as files."""
    dest.mkdir()
    for path in sorted((ROOT / "bench" / "lm_table" / "curves" / "code").glob("*.csv"))[:4]:
        lines = path.read_text().splitlines()
        (dest / path.name).write_text("\n".join(lines[:evaluations + 1]) + "\n")
    return dest


def test_a_step_column_written_with_a_thousands_separator_is_one_line_not_an_epoch_axis(tmp_path):
    """Red team: a `;` file with decimal commas whose steps above 999 were written 2.401 (a European spreadsheet's
    thousands separator) was read as fractions of an epoch: with --epochs 134 a run at step 24,047 was forecast at
    epoch 24.047, and with --steps it was told it had no step column."""
    runs = tmp_path / "runs"
    runs.mkdir()
    rows = ["step;val_ce"] + [f"{s:,}".replace(",", ".") + f";{2 + 3 / i:.4f}".replace(".", ",")
                                for i, s in enumerate(range(1, 30000, 2400), 1)]
    (runs / "r.csv").write_text("\n".join(rows) + "\n")
    assert "2.401;" in (runs / "r.csv").read_text()
    for length in (["--epochs", "134"], ["--steps", "133333"]):
        result = cli_in_process("forecast", "--history", str(LM_DESCR), "--runs", str(runs), *length,
                                "--metric", "val_ce", "--out", str(tmp_path / "f.json"))
        assert result.code == 2 and result.out == ""
        assert result.err.strip().splitlines()[-1] == (
            f"error: {runs / 'r.csv'}: line 3: step '2.401' in a file whose numbers use a decimal comma: is the '.' a "
            "thousands separator? Write the steps as whole numbers (2401)")
        assert not (tmp_path / "f.json").exists()


def test_steps_on_runs_whose_x_column_holds_fractions_names_the_fractions(tmp_path):
    """A step column of 0.5, 1.0, 1.5 (evaluations every half epoch) is an epoch axis; --steps on it said `the runs
    count epochs, with no step column`, about a file whose column is named step."""
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "a.csv").write_text("step,val_ce\n" + "".join(f"{0.5 * i:.1f},{2 + np.exp(-i / 4):.4f}\n"
                                                             for i in range(1, 13)))
    result = cli_in_process("forecast", "--history", str(LM_DESCR), "--runs", str(runs), "--steps", "1000",
                            "--metric", "val_ce")
    assert result.code == 2
    assert f"error: --steps 1000: their x column holds fractions of an epoch (0.5 in {runs / 'a.csv'})" in result.err


def test_a_run_past_its_planned_length_names_the_flag_that_planned_it(tmp_path):
    """Red team: `--steps 150` on a run at step 225 said `more than the 150 planned by --epochs (--steps)`."""
    runs = _lm_runs(tmp_path / "runs", evaluations=15)
    result = cli_in_process("forecast", "--history", str(LM_DESCR), "--runs", str(runs), "--steps", "150",
                            "--metric", "val_ce")
    assert result.code == 2
    assert result.err.strip().endswith("225 steps observed, more than the 150 planned by --steps; give the full "
                                       "planned length")


def test_a_json_sidecar_is_read_and_refused_as_json(tmp_path):
    """Red team: a JSON sidecar cut short (`{"lr": 0.1,`) was told YAML's `expected the node content, but found
    '<stream end>'`, with no line; and a valid JSON indented with tabs (json.dump(..., indent="\\t")) was refused
    (`found character '\\t' that cannot start any token`), since a sidecar was parsed as YAML alone."""
    runs = _lm_runs(tmp_path / "runs")
    sidecar = runs / sorted(p.stem for p in runs.glob("*.csv"))[0]
    sidecar = sidecar.with_suffix(".json")
    sidecar.write_text('{"lr": 0.1,\n')
    result = cli_in_process("forecast", "--history", str(LM_DESCR), "--runs", str(runs), "--steps", "750",
                            "--metric", "val_ce")
    assert result.code == 2
    assert result.err.strip().endswith(f"error: {sidecar}: cannot read (not valid JSON: Expecting property name "
                                       "enclosed in double quotes at line 2, column 1)")
    sidecar.write_text(json.dumps({"lr": 3e-4, "rank": 8}, indent="\t"))
    tabbed = cli_in_process("forecast", "--history", str(LM_DESCR), "--runs", str(runs), "--steps", "750",
                            "--metric", "val_ce")
    sidecar.write_text(json.dumps({"lr": 3e-4, "rank": 8}))
    plain = cli_in_process("forecast", "--history", str(LM_DESCR), "--runs", str(runs), "--steps", "750",
                           "--metric", "val_ce")
    assert tabbed.code == plain.code == 0, tabbed.err
    assert tabbed.out == plain.out and tabbed.err == plain.err


def test_trials_another_pruner_cut_short_and_that_returned_their_value_are_no_finished_curves():
    """Red team: a study tuned with MedianPruner whose objective returns its current value when pruned (Optuna's
    WilcoxonPruner tutorial does), resumed with ForecastPruner. Those trials completed at steps 60-90 of 750 and were
    counted as objectives that stopped themselves at their best: held flat from there, analogs with no future (the
    resumed session trained 14 % of the steps against 16 % for the same study whose pruned trials raised). A trial
    that ended at a new best of its own, behind a trained trial's final, was cut while improving; one that stopped
    after reports that did not improve (a patience rule) or at a target still counts."""
    import optuna

    from lcpipe.integrations.optuna import ForecastPruner

    finals = [1.90, 2.40, 2.30, 1.85, 2.50, 2.35, 1.95, 2.60, 2.45, 1.80]

    def loss(final, step):
        return float(final + 2.0 * np.exp(-step / 150))

    counted = {}
    for returns in (False, True):
        storage = optuna.storages.InMemoryStorage()  # (the red team's was SQLite: one study, read by either)
        first = optuna.create_study(direction="minimize", storage=storage, study_name="s",
                                    pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=45))
        for final in finals:
            trial = first.ask()
            for step in range(15, 751, 15):
                trial.report(loss(final, step), step)
                if trial.should_prune():
                    first.tell(trial, loss(final, step) if returns else None,
                               state=None if returns else optuna.trial.TrialState.PRUNED)
                    break
            else:
                first.tell(trial, loss(final, 750))
        pruner = ForecastPruner(epochs=750, history=LM_DESCR, metric="val_ce", fit_cache=False)
        resumed = optuna.load_study(study_name="s", storage=storage, pruner=pruner)
        pruner._metric_of(resumed)  # noqa: SLF001  (set at a trial's first check)
        counted[returns] = [t.number for t in pruner._finished(resumed)]  # noqa: SLF001
    cut = [t for t in first.trials if t.last_step < 750]
    assert cut and all(t.state.name == "COMPLETE" for t in cut)  # the returned ones: short, completed
    assert counted[True] == counted[False] == [t.number for t in first.trials if t.last_step == 750]

    # an objective that stops itself after 3 reports without a new best (a patience rule) still counts at its best
    patient = optuna.create_study(direction="minimize")
    for final, stop in ((1.9, 750), (2.0, 750), (2.2, 300), (2.3, 450)):
        trial = patient.ask()
        values = [loss(final, s) for s in range(15, stop + 1, 15)]
        values[-3:] = [values[-4] + 0.01] * 3  # stalled: no new best for its last three reports
        for s, v in zip(range(15, stop + 1, 15), values):
            trial.report(v, s)
        patient.tell(trial, min(values))
    pruner = ForecastPruner(epochs=750, history=LM_DESCR, metric="val_ce", fit_cache=False)
    pruner._metric_of(patient)  # noqa: SLF001
    assert [t.number for t in pruner._finished(patient)] == [0, 1, 2, 3]  # noqa: SLF001


def test_a_stage_given_a_folder_of_other_files_as_its_output_folder_stops_before_writing_anything(tmp_path):
    """A newcomer's read: `python stages/sweep.py ... --figures-dir metrics` (a folder of other stages' metrics, which
    a stage that replaces its output folder whole must not delete) wrote six outputs, then refused; `stages/
    evaluate.py --plots-dir metrics` drew all its figures first. The folder's files are now looked at with the other
    paths, before any work, and nothing is written."""
    import os
    import subprocess
    import sys

    (tmp_path / "params.yaml").write_bytes((ROOT / "params.yaml").read_bytes())
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "evaluate.json").write_text("{}")
    out = tmp_path / "out"
    args = ["--curves-dir", "data/curves", "--history", "data/history/h", "--json-out", f"{out}/s.json",
            "--results-out", f"{out}/r.json", "--md-out", f"{out}/s.md", "--plot-out", f"{out}/s.png",
            "--decision-out", f"{out}/d.json", "--rmse-out", f"{out}/r.csv", "--forecasts-dir", f"{out}/f",
            "--figures-dir", "metrics"]
    proc = subprocess.run([sys.executable, str(ROOT / "stages" / "sweep.py"), *args], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == ("error: --figures-dir metrics holds evaluate.json, which this stage does not "
                                   "write; it replaces its output folder whole: give the path dvc.yaml names, or move "
                                   "those out first")
    assert not out.exists() and [p.name for p in (tmp_path / "metrics").iterdir()] == ["evaluate.json"]

    from lcpipe.errors import LcpipeError
    from lcpipe.pipeline.entry import check_stage_paths
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "old.png").write_bytes(b"")
    (tmp_path / "figures" / ".DS_Store").write_bytes(b"")
    check_stage_paths({"plots_dir": tmp_path / "figures"})  # its own kind of file (and a viewer's): replaced as before
    (tmp_path / "figures" / "notes").mkdir()
    with pytest.raises(LcpipeError, match=r"--plots-dir .*figures holds notes, which this stage does not write"):
        check_stage_paths({"plots_dir": tmp_path / "figures"})


# -- a review of the fixes above (helper), each failing on their first version -----------------------------------------

def test_a_json_sidecar_with_a_key_written_twice_is_still_refused(tmp_path):
    """Review: the JSON reading of a sidecar YAML refused took the last of `{"epochs": 30, "epochs": 40}` silently,
    which the YAML reading refuses (tests/test_red_team_losses.py)."""
    from lcpipe.errors import LcpipeError
    from lcpipe.forecasting.logs import run_config

    for text in ('{"epochs": 30, "epochs": 40}', '{\n\t"lr": 0.1,\n\t"lr": 0.2\n}'):  # YAML refuses the second's tabs
        (tmp_path / "r.json").write_text(text)
        with pytest.raises(LcpipeError, match=r"r.json: cannot read \(the key '(epochs|lr)' is written twice"):
            run_config(tmp_path / "r.json")


def test_a_tab_separated_log_of_dot_decimals_keeps_its_fractional_steps(tmp_path):
    """Review: a TSV (read with decimal commas allowed) of dot decimals whose note column holds a comma, its steps
    0.250, 0.500, ... (fractions of an epoch), was refused as written with a thousands separator."""
    from lcpipe.forecasting.logs import read_curve

    rows = "".join(f"{0.25 * i:.3f}\t{1 + 1 / i:.4f}\t{'lr=0.1, bs=32' if i == 1 else ''}\n" for i in range(1, 13))
    (tmp_path / "a.tsv").write_text("step\tval_loss\tnote\n" + rows)
    curve = read_curve(tmp_path / "a.tsv", "val_loss")
    assert curve.epoch_axis and list(curve.steps[:3]) == [0.25, 0.5, 0.75]


@pytest.mark.parametrize("shape", ["warm-up dip", "placeholder 0 first", "spike at the second evaluation"])
def test_the_history_vote_is_not_turned_by_one_odd_early_value(shape):
    """Review: each curve voted by the side of its first value its farthest value lay on, so a fine-tuning warm-up
    that rises before it falls, a first value logged as 0, or a divergence spike at the second evaluation made six
    falling pose errors read as "6 of 6 history curves rise, so higher is better"."""
    curves = []
    for i in range(6):
        falling = 40 + 60 * np.exp(-np.arange(30) / 6) + i
        if shape == "warm-up dip":
            falling[:3] = [60, 90, 80]
        elif shape == "placeholder 0 first":
            falling[0] = 0.0
        elif i < 4:
            falling[1] = 2000.0
        curves.append(falling)
    metric, _ = Metric.infer("val_mpjpe").with_history_direction(curves)
    assert metric.mode == "min"


@pytest.mark.parametrize(("name", "mode"), [
    ("accuracy_drop_epoch", "min"), ("val_acc_drop_step", "min"), ("accuracy_drop/mean", "min"),
    ("acc_drop_pct", "min"), ("top1_accuracy_drop_percent", "min"), ("acc_drop@1", "min"),
    ("val_acc_reduction_pct", "min"), ("neg_log_loss_drop", "min"), ("loss_drop_epoch", "max"), ("ppl_drop_avg", "max"),
])
def test_a_fall_followed_by_how_it_is_logged_is_still_a_fall(name, mode):
    """Review: the drop word had to come last, so Lightning's `_epoch`, W&B's `/mean` or a `_pct` made accuracy_drop
    a fraction to maximise again (one that refuses a negative drop); `neg_log_loss_drop` took the negated-loss rule."""
    metric = Metric.infer(name)
    assert (metric.mode, metric.kind) == (mode, "any")
    for undirected in ("frame_drop_rate", "token_drop_rate", "drop_path_rate", "packet_drop"):
        assert not Metric.infer(undirected).says_mode


def test_a_mode_the_user_gives_is_not_second_guessed_by_the_history(tmp_path):
    """Review: lcpipe.forecast(..., mode="max") on a falling history warned to pass --mode min (the CLI did not)."""
    hist, runs = _error_study(tmp_path, "val_mpjpe")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lcpipe.forecast(history=hist, runs=runs, epochs=30, metric="val_mpjpe", mode="max")
    assert not [str(w.message) for w in caught if "history curves" in str(w.message)]


def test_trials_that_stopped_themselves_by_a_min_delta_still_count_as_finished():
    """Review: with Keras' EarlyStopping(min_delta=0.01) a flattening curve stops while each report is still a tiny
    new best; read as cut short by another pruner, such trials were no longer finished curves (6 -> 2)."""
    import optuna

    from lcpipe.integrations.optuna import ForecastPruner

    study = optuna.create_study(direction="minimize")
    for final, min_delta in ((1.85, None), (1.9, None), (2.2, 0.01), (2.3, 0.01), (2.1, 0.01), (2.4, 0.01)):
        trial, best, stale, values = study.ask(), np.inf, 0, []
        for step in range(15, 751, 15):
            values.append(float(final + 2.0 * np.exp(-step / 150)))
            trial.report(values[-1], step)
            best, stale = (values[-1], 0) if min_delta is None or values[-1] < best - min_delta else (best, stale + 1)
            if stale >= 3:
                break
        study.tell(trial, min(values))
    assert [t.last_step for t in study.trials] == [750, 750, 675, 675, 675, 675]
    pruner = ForecastPruner(epochs=750, history=LM_DESCR, metric="val_ce", fit_cache=False)
    pruner._metric_of(study)  # noqa: SLF001
    assert [t.number for t in pruner._finished(study)] == [0, 1, 2, 3, 4, 5]  # noqa: SLF001


def test_a_predictor_with_no_interval_decides_nothing_and_says_so(tmp_path):
    """A newcomer's read: `lcpipe forecast --predictor lstm` (or poly, last_value, source_shift) printed `0.9164
    [0.9164, 0.9164]` under "80 % interval" and stopped the other runs at P(ends best) 0.000: a point forecast read
    as certain to within the 0.2-point floor. Without an interval there is nothing to decide by: every run is kept,
    P(ends best) is n/a (null in the JSON), and stderr and Python say why."""
    hist, runs = _error_study(tmp_path, "val_loss")
    result = cli_in_process("forecast", "--history", str(hist), "--runs", str(runs), "--epochs", "30",
                            "--metric", "val_loss", "--predictor", "last_value", "--out", str(tmp_path / "f.json"),
                            "--plot", str(tmp_path / "f.png"))
    assert result.code == 0, result.err
    assert "note: last_value gives no 80 % interval, so there is no P(ends best) and no run is stopped by it" \
           in result.err
    rows = [line.split() for line in result.out.splitlines()[1:]]
    assert [(r[0], r[3:5], r[5], r[6]) for r in rows] == [("bad", ["(no", "interval)"], "n/a", "keep"),
                                                          ("good", ["(no", "interval)"], "n/a", "keep")]
    report = json.loads((tmp_path / "f.json").read_text())
    assert [(r["final"]["lower"], r["final"]["upper"], r["p_best"], r["decision"]) for r in report["runs"]] == \
        [(None, None, None, "keep")] * 2
    assert (tmp_path / "f.png").stat().st_size > 0
    with pytest.warns(UserWarning, match="last_value gives no 80 % interval"):
        table = lcpipe.forecast(history=hist, runs=runs, epochs=30, metric="val_loss", predictor="last_value")
    assert list(table["decision"]) == ["keep", "keep"] and table["p_best"].isna().all()
    banded = cli_in_process("forecast", "--history", str(hist), "--runs", str(runs), "--epochs", "30",
                            "--metric", "val_loss")
    assert "no 80 % interval" not in banded.err and "stop" in banded.out  # auto decides as before


# -- a review of the newcomer fixes (helper) ---------------------------------------------------------------------------

def test_two_outputs_at_one_path_and_the_predict_and_fit_folders_are_refused_before_any_work(tmp_path):
    """Review: `stages/sweep.py --forecasts-dir X --figures-dir X` ran the whole sweep, wrote six outputs, then refused
    the folder; `stages/predict.py --out-dir` and `stages/fit.py --out-dir` (folders they replace whole) holding
    other files were refused only after every prediction (and the LSTM's training)."""
    from lcpipe.errors import LcpipeError
    from lcpipe.pipeline.entry import check_stage_paths
    from lcpipe.pipeline.fit import fit_learned
    from lcpipe.pipeline.predict import predict

    with pytest.raises(LcpipeError, match=r"^--forecasts-dir .*same and --figures-dir .*same are one path"):
        check_stage_paths({"forecasts_dir": tmp_path / "same", "figures_dir": tmp_path / "same"})
    with pytest.raises(LcpipeError, match=r"^--json-out .*s.json and --md-out .*s.json are one path"):
        check_stage_paths({"json_out": tmp_path / "s.json", "md_out": tmp_path / "s.json"})
    (tmp_path / "mm").mkdir()
    (tmp_path / "mm" / "evaluate.json").write_text("{}")
    for func in (predict, fit_learned):
        with pytest.raises(LcpipeError, match=r"^--out-dir .*mm holds evaluate.json, which this stage does not write"):
            check_stage_paths({"out_dir": tmp_path / "mm"}, replaced=func.replaces)
    check_stage_paths({"out_dir": tmp_path / "mm"})  # train's --out-dir: a folder it writes its own files into


def test_the_decision_report_credits_no_saving_to_a_predictor_that_gives_no_interval():
    """Review: `lcpipe evaluate --history` and the sweep's decision report (metrics/sweep.md) still stopped runs for
    last_value, lstm and source_shift, their forecasts read as certain, crediting them with savings (135 / 200) that
    `lcpipe forecast` with them never makes. They keep everything; their Kendall tau still scores their ranking."""
    from lcpipe.forecasting.decision_scores import decisions
    from lcpipe.reporting.tables import decision_markdown

    rows = [{"cutoff": 5, "predictor": p, "target": t, "final_actual": a, "final_predicted": f,
             **({"final_lower": f - 0.01, "final_upper": f + 0.01} if p == "auto" else {})}
            for p in ("auto", "last_value") for t, a, f in (("a", 0.9, 0.88), ("b", 0.6, 0.62), ("c", 0.7, 0.69))]
    made = {e["predictor"]: e for e in decisions(rows, {"a": 20, "b": 20, "c": 20})}
    assert made["auto"]["decides"] and made["auto"]["kept"] == ["a"] and made["auto"]["epochs_saved"] == 30
    assert not made["last_value"]["decides"] and made["last_value"]["kept"] == ["a", "b", "c"]
    assert made["last_value"]["epochs_saved"] == 0 and made["last_value"]["kendall_tau"] == 1.0
    assert "| 5 | last_value | 1.00 | all (no interval: decides nothing) | a | 0.00 | 0 / 60 |" in \
        decision_markdown(list(made.values()))


def test_a_figure_of_many_runs_without_an_interval_draws_those_forecast_to_end_best(tmp_path, monkeypatch):
    """Review: with no P(ends best) every run ranked 0, so the first 50 by name were drawn under "the 50 of 55 runs
    most likely to end best", the five best left out; and a finished run among live ones titled a figure with no band
    "80 % band"."""
    import matplotlib.axes

    from lcpipe.forecasting.live import RunForecast
    from lcpipe.forecasting.predictors.base import Forecast
    from lcpipe.metric import ACCURACY
    from lcpipe.reporting.live_figure import draw_live_figure

    runs = [RunForecast(f"r{i:02d}", np.linspace(0.1, 0.3, 10), 30, Forecast(np.full(20, 0.3 + 0.01 * i)),
                        float("nan"), "keep") for i in range(55)]
    runs.append(RunForecast("done", np.linspace(0.1, 0.5, 30), 30, Forecast(np.empty(0), np.empty(0), np.empty(0)),
                            float("nan"), "keep"))
    drawn, titles = [], []
    monkeypatch.setattr(matplotlib.axes.Axes, "plot", lambda self, *a, label=None, **k: drawn.append(label))
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", lambda self, t, *a, **k: titles.append(t))
    draw_live_figure(tmp_path / "f.png", "png", runs, ACCURACY, "poly")
    names = {label.split(" ")[0] for label in drawn if label}
    assert {"r50", "r51", "r52", "r53", "r54"} <= names and "r00" not in names
    assert titles[0].startswith("Live runs: observed (solid), poly forecast (dashed), no band")
    assert "runs forecast to end best" in titles[0]


# -- the pipeline's params, red-teamed (helper) ------------------------------------------------------------------------

def test_a_weight_decay_torch_cannot_step_with_is_refused_by_check_params():
    """Red team: `dvc exp run -S train.weight_decay=1e300` passed check_params, and train@resnet34 then failed with
    torch's `value cannot be converted to type float without overflow` after DVC had removed its curve."""
    from lcpipe.config import Params, validate
    from lcpipe.errors import LcpipeError
    from tests.helpers import with_params

    with pytest.raises(LcpipeError, match=r"^train.weight_decay: 1e\+300 is not allowed; it must lie in \[0, 10000\]"):
        validate(with_params(Params(), train__weight_decay=1e300))
    validate(with_params(Params(), train__weight_decay=0.05))


def test_a_diverged_curve_is_named_as_diverged_with_what_to_change(tmp_path):
    """Red team: with train.lr 10000 every CNN trained to NaN losses with no word; a later features.metric of
    train_loss then failed in curve_figures with `train_loss must be finite ...; rerun dvc repro`, which reran into
    the same error. Training now says the run diverged, and the reader names the epoch and what to change."""
    from lcpipe.curve import read_lcpipe_csv
    from lcpipe.errors import LcpipeError
    from lcpipe.training.run import _diverged_note

    rows = [{"epoch": e, "train_loss": loss, "train_acc": 0.1, "test_loss": loss, "test_acc": 0.1, "lr": 1e4}
            for e, loss in ((1, 2.3), (2, float("nan")), (3, float("nan")))]
    assert _diverged_note("resnet34", rows, 1e4) == (
        "warning: resnet34: train_loss is nan at epoch 2: the run diverged (is train.lr 10000, or train.weight_decay, "
        "too high?); a features.metric that is not finite in its curve is refused by the forecasting stages")
    assert _diverged_note("resnet34", rows[:1], 0.1) is None
    header = "epoch,train_loss,train_acc,test_loss,test_acc,lr\n"
    (tmp_path / "resnet34.csv").write_text(header + "".join(
        f"{r['epoch']},{r['train_loss']},0.1,{r['test_loss']},0.1,10000\n" for r in rows))
    with pytest.raises(LcpipeError, match=r"resnet34.csv: train_loss is nan at epoch 2: the run diverged; retrain it "
                                          r"with a lower train.lr, or set features.metric to a column that stayed"):
        read_lcpipe_csv(tmp_path / "resnet34.csv", "train_loss")
    (tmp_path / "resnet34.csv").write_text(header + "1,2.3,0.1,2.3,0.1,0.1\n2,,0.1,2.2,0.1,0.1\n")  # damaged, not
    with pytest.raises(LcpipeError, match=r"train_loss must be finite, .* rerun `dvc repro`"):  # diverged (review)
        read_lcpipe_csv(tmp_path / "resnet34.csv", "train_loss")


def test_an_arch_refused_in_an_experiment_run_aside_does_not_send_the_user_to_restore_curves(tmp_path, monkeypatch):
    """Red team: `dvc exp run --temp -S 'train.archs=[resnet34,plain51]'` was told `DVC has left the value in
    params.yaml: fix it ..., then dvc checkout restores any curve it removed`, though --temp (and --queue) ran it in
    a workspace of DVC's and the user's was untouched."""
    from lcpipe.config import Params, validate
    from lcpipe.errors import LcpipeError
    from tests.helpers import with_params

    bad = with_params(Params(), train__archs=["resnet34", "plain51"])
    with pytest.raises(LcpipeError, match="DVC has left the value in params.yaml"):
        validate(bad)
    aside = tmp_path / "repo" / ".dvc" / "tmp" / "exps" / "tmpabc"
    aside.mkdir(parents=True)
    monkeypatch.chdir(aside)
    with pytest.raises(LcpipeError, match=r"the experiment ran aside \(--temp or --queue\): your workspace is as it "
                                          r"was$"):
        validate(bad)


def test_params_validate_in_a_working_folder_that_was_deleted(tmp_path, monkeypatch):
    """Review: looking for DVC's experiment folder made validate() raise FileNotFoundError on valid params when the
    working folder had been removed under the process."""
    from lcpipe.config import Params, validate

    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    validate(Params())


def test_a_loss_read_at_a_lower_floor_is_judged_again_for_being_cut_short():
    """Review: whether a completed trial ended still gaining was cached at the first read, with the loss's default
    floor of 1e-12; the pruner then lowers the floor to the study's values (losses in units of 1e-46), and the
    cached answer kept a trial cut while gaining as a finished curve."""
    import optuna

    from lcpipe.integrations.optuna import ForecastPruner

    study = optuna.create_study(direction="minimize")
    for values in ([9, 7, 5, 4, 3.5, 3.2, 3.1, 3.0, 2.95, 2.9], [9, 8, 7, 6, 5.5, 5.2, 5.1, 5, 4.9, 4.85],
                   [20, 16, 13, 10, 8, 6.5], [20, 19, 18.5, 18.4, 18.4, 18.4]):
        trial = study.ask()
        for step, v in enumerate(values, 1):
            trial.report(v * 1e-46, step)
        study.tell(trial, min(values) * 1e-46)
    pruner = ForecastPruner(epochs=10, metric="loss", fit_cache=False)
    pruner._metric_of(study)  # noqa: SLF001
    finished = pruner._finished(study)  # noqa: SLF001
    pruner._refresh(study, finished, 10)  # noqa: SLF001  (the floor set from the finished trials)
    assert [t.number for t in pruner._finished(study)] == [0, 1, 3]  # noqa: SLF001


# -- the examples and bench commands, red-teamed (helper) --------------------------------------------------------------

def _refused(capsys, main, *argv) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code == 2
    return capsys.readouterr().err.strip()


def test_the_studies_writer_refuses_what_would_fill_the_disk_or_fail_half_way(tmp_path, capsys):
    """Red team: `studies.py OUT --studies 100000` wrote 3.3 GB in a minute toward 48 million files; `/proc/x` and a
    dangling link gave raw tracebacks; `--trials 100000` was refused with no `error:` prefix."""
    from bench.hpo_table import studies

    out = tmp_path / "out"
    assert "--studies 100000: give at most 100 per task" in _refused(capsys, studies.main, str(out), "--studies",
                                                                      "100000")
    assert "--trials 100000: a study draws distinct configs, and each task has 320" in \
        _refused(capsys, studies.main, str(out), "--trials", "100000")
    assert "/proc/x: a system folder" in _refused(capsys, studies.main, "/proc/x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert "dangling is a symbolic link" in _refused(capsys, studies.main, str(tmp_path / "dangling"))
    assert not out.exists() and not (tmp_path / "nowhere").exists()


def test_bench_flags_that_do_not_apply_together_are_refused_at_once(capsys, monkeypatch):
    """Red team: `pruners.py --tune --quick` dropped --quick and ran the full tuning; `pruners.py --speed --metric
    val_loss` ended in a trial's traceback; `hpo.py --processes 1000000` would fork that many workers."""
    import sys

    from bench import hpo, pruners

    def pruners_main(argv):
        monkeypatch.setattr(sys, "argv", ["pruners.py", *argv])
        pruners.main()

    assert "--tune and --quick: a leave-one-family-out choice needs every family" in \
        _refused(capsys, pruners_main, "--tune", "--quick")
    assert "--speed with --metric, --mode: the speed check is a synthetic test_acc study" in \
        _refused(capsys, pruners_main, "--speed", "--metric", "val_loss", "--mode", "min")
    assert "--processes 1000000: give at most 64" in _refused(capsys, hpo.main, "--processes", "1000000")


def test_a_size_given_twice_is_timed_once(capsys, monkeypatch):
    """Red team: `forecast_speed.py --sizes 1,1` timed the first, then failed on the folder it had written, with a
    message about disks and permissions."""
    import sys

    from bench import forecast_speed

    monkeypatch.setattr(sys, "argv", ["forecast_speed.py", "--sizes", "1,1", "--loop-runs", "1"])
    forecast_speed.main()
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip()[:1].isdigit()]
    assert [r[0] for r in rows] == ["1"]
