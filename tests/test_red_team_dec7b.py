"""A hostile pass on the DVC pipeline (twelfth session, 2026-12-07): what was wrong, each with a test that fails on
the code before its fix (c2218ec, or 488f21b for the stop.history length)."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import ROOT


def test_a_params_path_that_starts_with_a_dash_reaches_the_stage_as_a_path(tmp_path):
    """Red team (pipeline pass): `sweep.history: -hist` passed check_params, and the sweep died in argparse with a
    5-line usage message (`--history: expected one argument`) after DVC had removed its outputs. Every path that
    dvc.yaml interpolates from params is given as `--flag=value`, so the stage reads it as the path it is."""
    import re
    import shlex
    import subprocess
    import sys

    import yaml

    text = (ROOT / "dvc.yaml").read_text()
    spaced = re.findall(r"--[\w-]+\s+\"?\$\{(?!item\.)", text)  # a matrix item is an arch name check_params knows
    assert not spaced, f"dvc.yaml passes a params path after a space: {spaced}"

    cmd = yaml.safe_load(text)["stages"]["sweep"]["cmd"].replace("${sweep.history}", "-hist")
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    args = shlex.split(cmd)
    assert args[:2] == ["python", "stages/sweep.py"]
    run = subprocess.run([sys.executable, str(ROOT / args[1]), *args[2:]], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode != 0 and run.stderr.startswith("error: ") and "usage:" not in run.stderr, run.stderr



def test_a_refused_arch_list_names_every_command_that_restores_what_dvc_removed(tmp_path, monkeypatch):
    """Red team (pipeline pass): after `dvc exp run -S 'train.archs=[resnet34,resnet34,plain50]'` DVC had deleted the
    dropped archs' curves and their git-tracked `dvclive/<arch>/` logs; the line sent the user to `dvc checkout`
    alone, which left `git status` showing the logs deleted and `dvc status` the train stages changed."""
    from lcpipe.config import Params, validate
    from lcpipe.errors import LcpipeError
    from tests.helpers import with_params

    monkeypatch.chdir(tmp_path)  # the user's own workspace, not an experiment's
    with pytest.raises(LcpipeError, match=r"then `git checkout dvclive` and `dvc checkout` restore the DVCLive logs "
                                          r"and curves it removed"):
        validate(with_params(Params(), train__archs=["resnet34", "resnet34", "plain50"]))


@pytest.mark.parametrize("key", ["sweep", "stop"])
def test_a_history_param_naming_a_folder_of_studies_gets_the_pipelines_advice_alone(key):
    """Red team (pipeline pass): `-S sweep.history=data/history` was told, besides the folder to give, that 'on the
    command line, which takes several, data/history/* gives them all' (a params key names one folder) and that the
    sweep forecasts features.metric from these curves, which no curve was missing. One line, the folder to give."""
    from lcpipe.config import Params
    from lcpipe.errors import LcpipeError
    from lcpipe.pipeline.params_check import check_paths
    from tests.helpers import with_params

    given = {f"{key}__history": "data/history", **({"stop__at": [10]} if key == "stop" else {})}
    with pytest.raises(LcpipeError) as refused:
        check_paths(with_params(Params(), **given))
    said = str(refused.value)
    assert said == f"{key}.history: data/history: no *.csv curve files, DVCLive folders or Trainer output folders " \
                   "found; its folders " \
                   "(cifar10-plain-vs-resnet) may hold some: give one (e.g. data/history/cifar10-plain-vs-resnet)"


def test_a_stop_history_without_a_run_of_the_pipelines_length_is_refused_before_any_training():
    """Red team: `dvc exp run -S 'stop.at=[5]'` with the default stop.history (CIFAR runs of 164 epochs) trained every
    arch again and stopped all four 50-epoch runs at epoch 5, the best (0.976) among them: with no history run of the
    runs' length there is no rival to forecast alike, and the bar was another study's best final. check_params
    refuses it in one line naming both remedies; a stop.threshold is a bar of its own and is accepted."""
    from lcpipe.config import Params
    from lcpipe.errors import LcpipeError
    from lcpipe.pipeline.params_check import check_paths
    from tests.helpers import with_params

    with pytest.raises(LcpipeError, match=r"^stop.history: data/history/cifar10-plain-vs-resnet holds no finished run "
                                          r"of train.epochs \(50\) epochs \(its runs have 16[45]\), .* or set "
                                          r"stop.threshold"):
        check_paths(with_params(Params(), stop__at=[5]))
    check_paths(with_params(Params(), stop__at=[5], stop__threshold=0.9))
    check_paths(with_params(Params(), stop__at=[5], train__epochs=164))  # runs of the history's length


def test_an_empty_run_file_named_by_an_unmatched_shell_pattern_says_so(tmp_path):
    """Newcomer: the README's `for f in data/curves/*.csv; do head -16 "$f" > "runs/${f##*/}"; done` before `make
    repro` writes an empty `runs/*.csv`, which was 'no evaluation logged yet', as if a run had just started. It is
    one line naming the unmatched pattern; an empty file of an ordinary name still waits, named."""
    from tests.helpers import cli_in_process, curve_csv, learning_curve

    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "*.csv").write_text("")
    history = str(ROOT / "data" / "history" / "cifar10-plain-vs-resnet")
    out = cli_in_process("forecast", "--history", history, "--runs", str(runs), "--epochs", "50")
    assert out.code == 2 and out.err.strip() == (
        f"error: {runs / '*.csv'}: an empty file named by a shell pattern: the pattern matched no file, and a redirect "
        "made this one? remove it, and make the files the pattern names first")
    (runs / "*.csv").unlink()
    (runs / "r0.csv").write_text("")
    (runs / "lr[3e-4].csv").write_text("")  # brackets in a name are a run's (review), and it waits as r0 does
    (runs / "r1.csv").write_text(curve_csv(learning_curve(15, final=0.9)))
    out = cli_in_process("forecast", "--history", history, "--runs", str(runs), "--epochs", "50")
    assert out.code == 0 and "r0" in out.err and "lr[3e-4]" in out.err, out.err
    assert [r.split()[0] for r in out.out.splitlines()[1:]] == ["r1"], out.out
