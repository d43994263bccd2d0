"""bench/forecast_quality.py: the leave-one-family-out protocol runs end to end, and no family's
score ever depends on a setting chosen on that family."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.helpers import EXTERNAL_CURVES, ROOT, learning_curve

BENCH = ROOT / "bench" / "forecast_quality.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("forecast_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_group(folder, n_runs: int, epochs: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n_runs):
        acc = learning_curve(epochs, final=0.7 + 0.04 * i, rate=0.08 + 0.01 * i, noise=0.01, seed=1000 * epochs + i)
        rows = "".join(f"{e},{float(a)!r}\n" for e, a in enumerate(acc, start=1))
        (folder / f"run{i}.csv").write_text("epoch,test_acc\n" + rows)


@pytest.mark.slow
def test_quick_protocol_scores_every_predictor_and_ends_with_the_headline(tmp_path):
    corpus, figure = tmp_path / "corpus", tmp_path / "reliability.png"
    write_group(corpus / "synthetic_60ep", n_runs=5, epochs=60)
    write_group(corpus / "synthetic_15ep", n_runs=3, epochs=15)  # cutoff 20 is past their end
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--corpus", str(EXTERNAL_CURVES), str(corpus),
                           "--reliability-figure", str(figure)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.rstrip().splitlines()
    num = r"(-?\d+\.\d\d|nan)"
    headline = re.fullmatch(r"headline \(foreign history, leave-one-family-out\): "
                            rf"tau {num} {num} \| regret {num} {num} \| cov80 {num} {num} \| rmse/ref {num} {num}",
                            lines[-1])
    assert headline, proc.stdout
    assert "## headline protocol" in proc.stdout and "## the paper's in-study leave-one-out" in proc.stdout
    assert "## per family" in proc.stdout
    assert "skipped (cutoff at or past the curve's end): 3 " in proc.stdout
    assert "settings chosen leave-one-family-out" in proc.stdout
    # P(ends best) is scored for calibration against whoever leads now, at every cutoff
    for cutoff in (10, 20):
        assert re.search(rf"^cutoff {cutoff}: ECE \d\.\d{{3}} \| log score auto -?\d+\.\d\d vs whoever leads now "
                         r"-?\d+\.\d\d", proc.stdout, re.M), proc.stdout
    # auto.final_quantile's leave-one-family-out choice, scored on the families held out
    assert re.search(rf"^  each family at the level chosen without it \(held out\): {num} {num}$", proc.stdout, re.M)
    # the live stop rule's leave-one-family-out choice: what it stops and what that costs, held out
    assert "## the live stop rule (stop_rule.keep), chosen leave-one-family-out" in proc.stdout
    for cutoff in (10, 20):
        assert re.search(rf"^  cutoff {cutoff}: held out: stopped {num} \[{num},{num}\] keep-regret {num} "
                         rf"\[{num},{num}\] \| library constants: stopped {num} keep-regret {num} \(\d+ studies\)$",
                         proc.stdout, re.M), proc.stdout
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 10_000  # and its figure


def test_families_come_from_the_manifest_and_a_study_without_one_is_its_own(tmp_path):
    """Reruns of one recipe share a family (MANIFEST.csv, as in the dev corpus), so holding out a
    study holds out its reruns; the test writes its own manifest (the corpus is not in the repo)."""
    bench = load_bench()
    (tmp_path / "MANIFEST.csv").write_text(
        "group,run,family\n"
        "adabound_c10_resnet34_200ep,resnet34-sgd,adabound-script_cifar10_resnet34\n"
        "adabelief_c10_resnet34_200ep,resnet34-sgd,adabound-script_cifar10_resnet34\n"
        "lenet_c10,lenet-a,lenet\n")
    families = bench.families_of([tmp_path], ["adabound_c10_resnet34_200ep", "adabelief_c10_resnet34_200ep",
                                              "not_in_the_manifest", "lenet_c10"])
    assert families["adabound_c10_resnet34_200ep"] == families["adabelief_c10_resnet34_200ep"]
    assert families["not_in_the_manifest"] == "not_in_the_manifest"
    assert families["lenet_c10"] == "lenet" != families["adabound_c10_resnet34_200ep"]


def test_a_familys_auto_setting_is_chosen_on_the_other_families_only():
    bench = load_bench()

    def rows(group, error):
        return [{"group": group, "target": f"t{i}", "cutoff": 10, "actual": 0.8, "mean": 0.8 + error,
                 "lower": 0.79 + error, "upper": 0.81 + error} for i in range(3)]

    # setting A is perfect on family f1 and bad on f2, B the reverse: each family must get the other's best
    results = {(("smooth", "A"),): rows("g1", 0.0) + rows("g1b", 0.0) + rows("g2", 0.2),
               (("smooth", "B"),): rows("g1", 0.2) + rows("g1b", 0.2) + rows("g2", 0.0)}
    families = {"g1": "f1", "g1b": "f1", "g2": "f2"}
    scored, chosen = bench.choose_settings(results, families)
    assert chosen["g1"]["smooth"] == "B" and chosen["g1b"]["smooth"] == "B" and chosen["g2"]["smooth"] == "A"
    assert all(abs(r["mean"] - r["actual"] - 0.2) < 1e-12 for r in scored)


@pytest.mark.parametrize("bench, option", [("forecast_quality.py", "--corpus"), ("early_stopping.py", "--dev")])
def test_a_corpus_without_two_families_is_one_line_and_exit_2(tmp_path, bench, option):
    write_group(tmp_path / "only_study", n_runs=3, epochs=20)
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / bench), option, str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr == f"error: leave-one-family-out needs at least two families of studies; {tmp_path} holds 1\n"


@pytest.mark.parametrize("cutoffs, says", [("x", "whole numbers separated by commas"),
                                           ("0,10", "each at least 1"), ("50,100", "below 100 (percent)"),
                                           ("10,10", "each cutoff once"), ("60 --quick", "--quick runs its own")])
def test_bad_cutoffs_are_one_usage_line_before_any_backtest(cutoffs, says, monkeypatch, capsys):
    """`--cutoffs` (late bands: --percent --cutoffs 60,80) refused in argparse's one line, exit 2, before any work:
    no corpus is read (the bench's main, in this process)."""
    bench = load_bench()
    monkeypatch.setattr(sys, "argv", [str(BENCH), "--percent", "--cutoffs", *cutoffs.split()])
    monkeypatch.setattr(bench, "groups_of", lambda *a: pytest.fail("the corpus was read"))
    with pytest.raises(SystemExit) as exited:
        bench.main()
    captured = capsys.readouterr()
    assert exited.value.code == 2 and len(captured.err.splitlines()) == 1 and says in captured.err
    assert not captured.out


def test_cutoffs_past_every_study_are_one_line_and_two_percents_at_one_point_count_are_each_scored(
        tmp_path, monkeypatch, capsys):
    """Red team: `--cutoffs 100000` printed tables of NaN and 'chosen by 13 of 13 families' on no data, exit 0 (it is
    one line, exit 2, before any backtest); with `--percent --cutoffs 1,2,50` the 1 % and 2 % of a short curve are one
    point count, scored as the 2 % (the prefix is nearest it), and the 1 % went unscored without a word: the bench
    counts such pairs now."""
    bench = load_bench()
    for i in range(2):
        write_group(tmp_path / f"study{i}", n_runs=3, epochs=30 + i)
    monkeypatch.setattr(sys, "argv", [str(BENCH), "--corpus", str(tmp_path), "--cutoffs", "31"])
    monkeypatch.setattr(bench, "run_all", lambda *a, **k: pytest.fail("a backtest ran"))
    with pytest.raises(SystemExit) as exited:
        bench.main()
    assert exited.value.code == 2 and "--cutoffs: 31 is at or past the end of every study" in capsys.readouterr().err
    curves = bench.groups_of([tmp_path / "study0"], bench.Metric.infer("test_acc", "auto"))["study0"]
    other = bench.groups_of([tmp_path / "study1"], bench.Metric.infer("test_acc", "auto"))["study1"]
    rows = bench.backtest_group("study0", curves, "last_value", bench.Params(), (1, 2, 50), other, {}, percent=True)
    assert sorted((r["target"], r["cutoff"]) for r in rows) == sorted((c.name, cut) for c in curves for cut in (2, 50))
    monkeypatch.setattr(sys, "argv", [str(BENCH), "--corpus", str(tmp_path), "--percent", "--cutoffs", "1,2,50",
                                      "--predictors", "last_value", "--no-in-study"])
    # ... and where no curve tells 1 % from 2 %, the 1 % is refused before any backtest (red team: its rows were nan)
    with pytest.raises(SystemExit) as exited:
        bench.main()
    assert exited.value.code == 2 and "1 % gives every curve the prefix of a later cutoff" in capsys.readouterr().err
    write_group(tmp_path / "study2", n_runs=1, epochs=600)  # one long curve tells them apart: scored, the rest counted
    monkeypatch.setattr(bench, "run_all", lambda *a, **k: [])
    monkeypatch.setattr(bench, "overall_table", lambda *a, **k: "")
    monkeypatch.setattr(bench, "choose_rule", lambda *a, **k: "")
    bench.main()
    assert "not seen: 6 (target, cutoff) pairs whose curve is too short to tell the cutoff from the next" \
        in capsys.readouterr().out


def test_one_family_history_bench_measures_the_foreign_factor_and_ends_with_its_line(tmp_path):
    """bench/one_family_history.py on two real families (CIFAR-10 ResNet-34 optimizers, SVHN WRN and All-Conv): each
    forecast from the other alone, every run a stranger to its history; the library's factor covers more than none."""
    corpus = tmp_path / "corpus"
    for name in ("adabelief-c10-resnet34", "hendrycks-oe-svhn"):
        shutil.copytree(ROOT / "tests" / "fixtures" / name, corpus / name)
    (corpus / "MANIFEST.csv").write_text("group,family\nadabelief-c10-resnet34,adabelief\nhendrycks-oe-svhn,oe\n")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "one_family_history.py"), "--corpus", str(corpus),
                           "--factors", "1,3"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    num = r"(\d\.\d\d)"
    last = re.fullmatch(rf"one family as history: cov80 {num} {num} {num} {num} at factor 3 \(library\), "
                        rf"{num} {num} {num} {num} at 1 \| held out: n/a", proc.stdout.splitlines()[-1])
    assert last, proc.stdout
    library, before = [float(x) for x in last.groups()[:4]], [float(x) for x in last.groups()[4:]]
    assert sum(library) > sum(before)  # two families: nothing is left to choose a factor on with one held out, said
    assert "## the library's stop rule on those studies" in proc.stdout
