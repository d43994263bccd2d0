"""`lcpipe forecast` and `lcpipe evaluate --history` end to end: the first test through the installed console script,
the rest through the same main() in this process (a subprocess each cost a second of imports)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lcpipe.forecasting.stop_rule import keep, std_of
from tests.helpers import VENV_BIN, curve_csv, lcpipe_here, learning_curve

LCPIPE = str(VENV_BIN / "lcpipe")


def lcpipe(*args, cwd: Path) -> subprocess.CompletedProcess:
    return lcpipe_here(*args, cwd=cwd)


def lcpipe_script(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LCPIPE, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)


def lcpipe_csv(acc) -> str:
    return curve_csv(acc, train_loss=float("nan"))


@pytest.fixture
def study(tmp_path) -> Path:
    """A history of 6 finished 60-epoch curves, and 3 runs at epoch 15 of 40 in three formats:
    lcpipe's CSV, the external epoch/err one (epoch from 0), and a DVCLive folder."""
    history = tmp_path / "history"
    history.mkdir()
    for i in range(6):
        (history / f"old{i}.csv").write_text(lcpipe_csv(learning_curve(60, final=0.80 + 0.02 * i, seed=i)))
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "good.csv").write_text(lcpipe_csv(learning_curve(40, final=0.92, rate=0.2, noise=0.003)[:15]))
    bad = learning_curve(40, final=0.55, rate=0.2, noise=0.003, seed=2)[:15]
    (runs / "bad.CSV").write_text("epoch,train_loss,train_err,test_err\n" +
                                  "".join(f"{e},1.0,{1 - a},{1 - a}\n" for e, a in enumerate(bad)))
    metrics = runs / "mid" / "plots" / "metrics"
    metrics.mkdir(parents=True)
    mid = learning_curve(40, final=0.75, rate=0.2, noise=0.003, seed=3)[:15]
    (metrics / "test_acc.tsv").write_text("timestamp\tstep\ttest_acc\n" +
                                          "".join(f"{1700000000 + e}\t{e}\t{a}\n" for e, a in enumerate(mid)))
    return tmp_path


def test_forecast_writes_the_json_contract_the_table_and_the_plot(study):
    proc = lcpipe_script("forecast", "--history", "history", "--runs", "runs", "--epochs", 40,
                  "--out", "out/forecast.json", "--plot", "out/forecast.png", cwd=study)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((study / "out" / "forecast.json").read_text())
    assert list(report) == ["metric", "mode", "epochs", "predictor", "left_out", "runs"]
    assert (report["metric"], report["mode"], report["epochs"]) == ("test_acc", "max", 40) and report["predictor"]
    assert report["left_out"] == []  # every run long enough to forecast
    runs = {r["run"]: r for r in report["runs"]}
    assert set(runs) == {"good", "bad", "mid"}
    for r in runs.values():
        assert list(r) == ["run", "unit", "observed", "epochs", "final", "p_best", "decision", "forecast",
                           "forecast_at"]
        assert r["unit"] == "epochs" and r["observed"] == 15 and r["epochs"] == 40 and len(r["forecast"]) == 40 - 15
        assert r["forecast_at"] == list(range(16, 41))
        assert r["final"]["lower"] <= r["final"]["mean"] <= r["final"]["upper"] <= 1
        assert r["final"]["mean"] == r["forecast"][-1] and r["decision"] in ("keep", "stop")
    assert abs(sum(r["p_best"] for r in runs.values()) - 1) < 1e-4
    assert max(runs.values(), key=lambda r: r["p_best"])["run"] == "good" and runs["good"]["decision"] == "keep"
    finals = [r["final"] for r in runs.values()]
    lower, upper = [f["lower"] for f in finals], [f["upper"] for f in finals]
    kept = keep(np.array([f["mean"] for f in finals]), std_of(lower, upper))
    assert [r["decision"] for r in runs.values()] == ["keep" if k else "stop" for k in kept]

    header, *rows = proc.stdout.splitlines()
    assert header.split()[:3] == ["run", "epochs", "seen"] and "P(ends best)" in header
    assert sorted(row.split()[0] for row in rows) == ["bad", "good", "mid"]
    assert all(row.split()[1] == "15/40" and row.split()[-1] in ("keep", "stop") for row in rows)
    assert (study / "out" / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_runs_own_planned_length_wins_over_epochs(study):
    (study / "runs" / "good.json").write_text('{"arch": "good", "epochs": 30}')
    proc = lcpipe("forecast", "--history", "history", "--runs", "runs/good.csv", "runs/mid", "--epochs", 40,
                  "--out", "f.json", cwd=study)
    assert proc.returncode == 0, proc.stderr
    lengths = {r["run"]: len(r["forecast"]) for r in json.loads((study / "f.json").read_text())["runs"]}
    assert lengths == {"good": 30 - 15, "mid": 40 - 15}


def bad_requests(study: Path):
    (study / "empty").mkdir()
    (study / "short").mkdir()
    (study / "short" / "s.csv").write_text(lcpipe_csv(learning_curve(3)))
    (study / "a_file").write_text("")
    (study / "unfinished").mkdir()
    (study / "unfinished" / "u.csv").write_text(lcpipe_csv(learning_curve(20)))
    (study / "unfinished" / "u.json").write_text('{"epochs": 60}')
    base = ["forecast", "--history", "history", "--runs", "runs"]
    return [
        ([*base, "--epochs", 10], r"runs/\w+\.\w+: 15 epochs observed, more than the 10 planned by --epochs"),
        (["forecast", "--history", "empty", "--runs", "runs", "--epochs", 40], r"empty: no \*\.csv curve files"),
        (["forecast", "--history", "history", "--runs", "short", "--epochs", 40],
         r"s\.csv: 3 epochs observed; a forecast needs at least 5"),
        ([*base, "--epochs", 40, "--out", "a_file/out.json"], r"a_file is a file, not a directory"),
        ([*base, "--epochs", 40, "--out", "runs/good.csv"], r"--out .*good\.csv would overwrite the input"),
        # nothing there to overwrite, but a file in an input folder is read as input (a figure left among runs)
        ([*base, "--epochs", 40, "--plot", "history/p.png"], r"--plot .*p\.png would write into the input folder "
                                                             r".*history, whose files are read as input"),
        ([*base, "--epochs", 40, "--predictor", "prophet"], r"unknown predictor 'prophet'"),
        ([*base, "--epochs", 40, "--plot", "plot.jpg"], r"--plot plot\.jpg: give a file name ending in \.png"),
        ([*base, "--epochs", 0], r"'0' is not a positive whole number"),
        (["forecast", "--history", "unfinished", "--runs", "runs", "--epochs", 40],
         r"u\.csv: 20 of its 60 planned epochs; a history curve must be a finished run"),
        (["forecast", "--history", "runs", "--runs", "runs/good.csv", "--epochs", 40],
         r"good\.csv is both a live run and a history curve"),
    ]


def test_bad_input_is_one_line_exit_2_and_writes_nothing(study):
    for args, message in bad_requests(study):
        before = sorted(p.relative_to(study) for p in study.rglob("*"))
        proc = lcpipe(*args, cwd=study)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, (args, proc.stderr)
        assert re.search(message, lines[0]), (args, lines[0])
        assert sorted(p.relative_to(study) for p in study.rglob("*")) == before, args
        assert not proc.stdout, args


def test_evaluate_with_history_targets_every_curve_and_decides_from_the_history_alone(study):
    curves = study / "finished"
    curves.mkdir()
    for i, final in enumerate((0.9, 0.7, 0.5)):
        (curves / f"c{i}.csv").write_text(lcpipe_csv(learning_curve(40, final=final, noise=0.003, seed=i)))
    proc = lcpipe("evaluate", "--curves", curves, "--history", "history", "--cutoffs", "10,20,10",
                  "--predictors", "last_value,parametric,last_value", "--out", "e.json", cwd=study)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((study / "e.json").read_text())
    assert len(result["results"]) == 3 * 2 * 2  # targets x distinct cutoffs x distinct predictors
    assert {r["target"] for r in result["results"]} == {"c0", "c1", "c2"}
    assert len(result["decisions"]) == 2 * 2
    assert all(d["best"] == "c0" and d["best_kept"] for d in result["decisions"])
    assert "decision: all curves seen to the cutoff" in proc.stdout


def test_evaluate_decides_only_at_cutoffs_where_every_curve_was_seen(study):
    """A curve that ends before a cutoff is no candidate there, and a decision among the others would
    pass over what may be the study's best run: none is made at that cutoff, and stderr says so."""
    curves = study / "finished"
    curves.mkdir()
    for i, final in enumerate((0.7, 0.5)):
        (curves / f"c{i}.csv").write_text(lcpipe_csv(learning_curve(40, final=final, noise=0.003, seed=i)))
    (curves / "short.csv").write_text(lcpipe_csv(learning_curve(12, final=0.95, noise=0.003, seed=5)))
    proc = lcpipe("evaluate", "--curves", curves, "--history", "history", "--cutoffs", "10,30",
                  "--predictors", "last_value", "--out", "e.json", cwd=study)
    assert proc.returncode == 0, proc.stderr
    assert "short: 12 points; cutoff 30 at or past its end, skipped" in proc.stderr
    assert "decision: not made at cutoff 30, where some curves end before it" in proc.stderr
    result = json.loads((study / "e.json").read_text())
    assert [d["cutoff"] for d in result["decisions"]] == [10]
    assert {(r["target"], r["cutoff"]) for r in result["results"]} == {("c0", 10), ("c1", 10), ("short", 10),
                                                                         ("c0", 30), ("c1", 30)}

    (curves / "short.csv").unlink()  # a diverged curve is no target: the decision is still made at every cutoff
    broken = learning_curve(40, final=0.6, noise=0.003, seed=7)
    broken[20:] = np.nan
    (curves / "diverged.csv").write_text(lcpipe_csv(broken))
    proc = lcpipe("evaluate", "--curves", curves, "--history", "history", "--cutoffs", "10,30",
                  "--predictors", "last_value", "--out", "e.json", cwd=study)
    assert proc.returncode == 0 and "diverged" in proc.stderr and "not made" not in proc.stderr, proc.stderr
    assert [d["cutoff"] for d in json.loads((study / "e.json").read_text())["decisions"]] == [10, 30]


def test_evaluate_checks_out_before_any_work(study):
    proc = lcpipe("evaluate", "--curves", "history", "--cutoffs", "10", "--out", "history/old0.csv", cwd=study)
    assert proc.returncode == 2 and "would overwrite the input" in proc.stderr
    assert "fitting" not in proc.stderr and (study / "history" / "old0.csv").read_text().startswith("epoch,")


def test_out_into_a_study_or_curve_the_history_reaches_through_a_link_is_refused(study, tmp_path):
    """A corpus whose study folder is a link to the team's share, or a history holding a linked curve:
    both are read, so writing --out into them would overwrite an input the guard did not see."""
    shared = tmp_path / "share"
    (shared / "s1").mkdir(parents=True)
    for i in range(3):
        (shared / "s1" / f"r{i}.csv").write_text(lcpipe_csv(learning_curve(60, final=0.7 + 0.05 * i, seed=10 + i)))
    corpus = study / "corpus"
    (corpus / "s0").mkdir(parents=True)
    for i in range(3):
        (corpus / "s0" / f"r{i}.csv").write_text(lcpipe_csv(learning_curve(60, final=0.8 + 0.02 * i, seed=i)))
    (corpus / "s1").symlink_to(shared / "s1")
    (study / "history" / "linked.csv").symlink_to(shared / "s1" / "r0.csv")
    for history, out in (("corpus", shared / "s1" / "r1.csv"), ("corpus", shared / "s1" / "new.json"),
                         ("history", shared / "s1" / "r0.csv")):
        before = out.read_text() if out.exists() else None
        proc = lcpipe("forecast", "--history", history, "--runs", "runs", "--epochs", 40, "--out", out, cwd=study)
        assert proc.returncode == 2 and "would overwrite the input" in proc.stderr and "linked from" in proc.stderr, \
            proc.stderr
        assert (out.read_text() if out.exists() else None) == before
    proc = lcpipe("forecast", "--history", "corpus", "--runs", "runs", "--epochs", 40, "--out", tmp_path / "f.json",
                  cwd=study)
    assert proc.returncode == 0, proc.stderr  # beside the share, not in it: written


def test_lcpipe_forecast_from_python_gives_the_clis_answers_as_a_dataframe(study):
    """Notebooks: `lcpipe.forecast(...)` is the CLI's JSON, one DataFrame row per run."""
    import lcpipe as package

    proc = lcpipe("forecast", "--history", "history", "--runs", "runs", "--epochs", 40, "--out", "f.json", cwd=study)
    assert proc.returncode == 0, proc.stderr
    cli = {r["run"]: r for r in json.loads((study / "f.json").read_text())["runs"]}
    frame = package.forecast(history=study / "history", runs=[study / "runs"], epochs=40)
    assert list(frame.columns) == ["run", "unit", "observed", "epochs", "final", "lower", "upper", "p_best",
                                   "decision", "reason", "forecast", "forecast_at"]
    assert set(frame["run"]) == set(cli)
    for row in frame.itertuples():
        assert row.final == pytest.approx(cli[row.run]["final"]["mean"], abs=1e-6)
        assert row.decision == cli[row.run]["decision"] and row.observed == 15 and row.epochs == 40
        assert np.allclose(row.forecast, cli[row.run]["forecast"], atol=1e-6)
        assert list(row.forecast_at) == cli[row.run]["forecast_at"]


def test_lcpipe_forecast_takes_values_in_memory_and_refuses_bad_ones(study):
    import lcpipe
    from lcpipe.errors import LcpipeError

    run = learning_curve(40, final=0.9, rate=0.2)[:12]
    frame = lcpipe.forecast(history=study / "history", runs={"mine": run}, epochs=40)
    assert frame.loc[0, "run"] == "mine" and len(frame.loc[0, "forecast"]) == 28
    with pytest.raises(LcpipeError, match=r"'mine': value 93.0 at epoch 2 where a fraction in \[0, 1\] was expected"):
        lcpipe.forecast(history=study / "history", runs={"mine": [0.1, 93.0, 0.2]}, epochs=40)


def test_forecast_says_which_config_keys_it_used(study):
    """Configs travel with curves: a `<run>.json` beside a run and beside history curves (the dev
    corpus's flat format) is read, and the command says which keys the forecast used."""
    for i in range(6):
        (study / "history" / f"old{i}.json").write_text(json.dumps({"epochs": 60, "optimizer": "sgd", "lr": 0.1,
                                                                     "batch_size": 32 * (i + 1), "seed": i}))
    (study / "runs" / "good.json").write_text(json.dumps({"epochs": 40, "optimizer": "adam", "lr": 0.001,
                                                          "batch_size": 64, "seed": 7}))
    proc = lcpipe("forecast", "--history", "history", "--runs", "runs", "--epochs", 40, cwd=study)
    assert proc.returncode == 0, proc.stderr
    assert ("config: used lr, optimizer (1 of 3 runs, 6 of 6 history curves state them); hyper-parameters "
            "compared among runs of one dataset: batch_size\n") in proc.stderr  # a seed is none


def test_forecast_without_any_config_still_forecasts_and_says_so(study):
    proc = lcpipe("forecast", "--history", "history", "--runs", "runs", "--epochs", 40, cwd=study)
    assert proc.returncode == 0 and "config: none used" in proc.stderr
    assert len(proc.stdout.splitlines()) == 4


def test_forecast_keeps_eight_near_copies_of_one_run(study):
    """Runs that look alike share the chance of being best; none of them loses, so none is stopped
    (the old rule stopped all but one of them)."""
    copies = study / "copies"
    copies.mkdir()
    base = learning_curve(40, final=0.85, rate=0.2)[:15]
    for i in range(8):
        jitter = np.random.default_rng(i).normal(0, 0.001, len(base))
        (copies / f"copy{i}.csv").write_text(lcpipe_csv(np.clip(base + jitter, 0, 1)))
    proc = lcpipe("forecast", "--history", "history", "--runs", "copies", "--epochs", 40, "--out", "c.json", cwd=study)
    assert proc.returncode == 0, proc.stderr
    runs = json.loads((study / "c.json").read_text())["runs"]
    assert len(runs) == 8 and all(r["decision"] == "keep" for r in runs)
    assert max(r["p_best"] for r in runs) < 0.5  # they do share it


def _corpus(study: Path) -> Path:
    """The study fixture's history laid out as a corpus: MANIFEST.csv (group,run,family), two study
    folders, notes and a folder of figures beside them."""
    corpus = study / "corpus"
    rows = ["group,run,family"]
    for g in range(2):
        (corpus / f"study{g}").mkdir(parents=True)
        for i in range(3):
            src = study / "history" / f"old{3 * g + i}.csv"
            (corpus / f"study{g}" / src.name).write_text(src.read_text())
            rows.append(f"study{g},{src.stem},fam{g}")
    (corpus / "MANIFEST.csv").write_text("\n".join(rows) + "\n")
    (corpus / "PROVENANCE.md").write_text("where the runs came from\n")
    (corpus / "figures").mkdir()
    return corpus


def test_a_history_may_be_a_corpus_of_study_folders_as_the_shared_curves_are(study):
    """--history at a corpus root (the layout of ../shared/curves/: a MANIFEST.csv with group and run,
    one folder per study) reads every study's curves; it used to stop at MANIFEST.csv, read as a curve."""
    flat = lcpipe("forecast", "--history", "history", "--runs", "runs", "--epochs", 40, "--out", "flat.json",
                  cwd=study)
    _corpus(study)
    nested = lcpipe("forecast", "--history", "corpus", "--runs", "runs", "--epochs", 40, "--out", "corpus.json",
                    cwd=study)
    assert flat.returncode == 0 and nested.returncode == 0, nested.stderr
    finals = [{r["run"]: r["final"] for r in json.loads((study / f).read_text())["runs"]}
              for f in ("flat.json", "corpus.json")]
    # the same six curves forecast alike; as two studies (their sidecars name no dataset) the band is calibrated
    # as a foreign history's, one study held out at a time, where one folder is one study calibrated on itself
    assert {run: f["mean"] for run, f in finals[0].items()} == {run: f["mean"] for run, f in finals[1].items()}
    assert all(finals[1][run]["lower"] <= f["lower"] and finals[1][run]["upper"] >= f["upper"]
               for run, f in finals[0].items())
    (study / "corpus" / "MANIFEST.csv").unlink()  # no manifest: folders of curves are read folder by folder
    assert lcpipe("forecast", "--history", "corpus", "--runs", "runs", "--epochs", 40, cwd=study).returncode == 0
    # the runs of one study are never read from a corpus's folders: that would mix studies
    proc = lcpipe("forecast", "--history", "history", "--runs", "corpus", "--epochs", 40, cwd=study)
    assert proc.returncode == 2 and "its folders (figures, study0, study1) may hold some" in proc.stderr


def test_a_corpus_history_reads_every_study_folder_at_depth_and_beside_stray_curves(study):
    """Nothing in a history corpus is dropped: a curve at its top (beside its manifest), a study whose
    runs sit one folder deeper, and a manifest in any case or format (skipped, never read as a curve)."""
    corpus = _corpus(study)
    (corpus / "MANIFEST.csv").write_text("\ufeffGroup;Run\nstudy0;old0\n")  # Excel's BOM, ';', another case
    (corpus / "study1" / "deeper").mkdir()
    for f in list((corpus / "study1").glob("*.csv")):
        f.rename(corpus / "study1" / "deeper" / f.name)
    (corpus / "stray.csv").write_text(lcpipe_csv(learning_curve(60, final=0.7, seed=9)))
    from lcpipe.forecasting.logs import read_curves
    names = [c.name for c in read_curves([corpus], "test_acc", studies=True)]
    assert names == ["stray", "study0/old0", "study0/old1", "study0/old2", "study1/deeper/old3",
                     "study1/deeper/old4", "study1/deeper/old5"]


def test_a_history_folder_with_curves_of_its_own_stays_one_study_its_subfolders_unread(study):
    """Notes, backups and runs set aside in subfolders of a plain history folder (no manifest) are not
    history, as before corpora were read (review, 2026-12-04 late): the forecast is the flat folder's."""
    before = lcpipe("forecast", "--history", "history", "--runs", "runs", "--epochs", 40, "--out", "a.json",
                    cwd=study)
    (study / "history" / "notes").mkdir()
    (study / "history" / "notes" / "summary.csv").write_text("run,final\nold0,0.8\n")
    (study / "history" / "excluded").mkdir()
    (study / "history" / "excluded" / "bad.csv").write_text(lcpipe_csv(learning_curve(60, final=0.3, seed=7)))
    after = lcpipe("forecast", "--history", "history", "--runs", "runs", "--epochs", 40, "--out", "b.json",
                   cwd=study)
    assert before.returncode == after.returncode == 0, after.stderr
    assert json.loads((study / "a.json").read_text()) == json.loads((study / "b.json").read_text())


def test_a_corpus_where_one_study_is_expected_says_so_in_one_line(study):
    _corpus(study)
    for args in (["forecast", "--history", "history", "--runs", "corpus", "--epochs", 40],
                 ["evaluate", "--curves", "corpus", "--cutoffs", 5]):
        proc = lcpipe(*args, cwd=study)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "corpus holds MANIFEST.csv: it is a corpus of studies, one folder each, not one study's runs; give " \
               "one study's folder here" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_forecast_pruner_and_the_python_api_read_a_corpus_history(study):
    from lcpipe import forecast
    from lcpipe.integrations.optuna import ForecastPruner

    corpus = _corpus(study)
    assert len(ForecastPruner(40, corpus)._history_curves) == 6  # noqa: SLF001
    out = forecast(history=corpus, runs=study / "runs", epochs=40)
    assert len(out) == 3


def test_a_step_axis_run_whose_future_is_in_a_corpus_history_is_refused_in_evaluations(tmp_path):
    """The bundled LoRA corpus as history (MANIFEST.csv and one folder per task), and a run cut from one
    of its own curves at 10 evaluations: refused, counted in evaluations, not epochs."""
    root = Path(__file__).resolve().parents[1]
    runs = tmp_path / "runs"
    runs.mkdir()
    rows = (root / "bench" / "lm_table" / "curves" / "code" / "t00.csv").read_text().splitlines()[:11]
    (runs / "t00.csv").write_text("\n".join(rows) + "\n")
    proc = lcpipe("forecast", "--history", root / "bench" / "lm_table" / "curves", "--runs", runs, "--metric",
                  "val_ce", "--mode", "min", "--epochs", 50, cwd=tmp_path)
    assert proc.returncode == 2 and "its 10 evaluations are the first 10 of the history curve" in proc.stderr \
        and "code/t00.csv" in proc.stderr, proc.stderr
