"""The README's shell blocks, run in order through the real shell on a temporary clone, as a newcomer would.

How it runs them (one mechanism, here and nowhere else):

- The clone is a `git clone` of this repository with the working tree's tracked files copied over it and
  the TINY params of `tests/helpers.py` committed, so `make repro` and every `dvc exp run` take seconds.
  The folder is named `lcpipe`, as a clone of the real repository is.
- Commands run one by one through `bash`, which carries the shell's state (exported variables, the current
  folder) from one to the next like a terminal would. The venv is *not* on PATH at the start: the
  README's own `source .venv/bin/activate` has to put it there.
- The clone uses the session's shared DVC cache (see `_reproduced_once` in conftest.py), so `make repro`
  restores the TINY stages the session has already run instead of training them twice.
- `make` is wrapped so that a clone without `.venv` gets the test's venv linked in (with a fresh install
  stamp) instead of a `pip install` from the network; the Makefile's targets then run as written.
- Values that only make sense at default scale (cutoffs, check epochs) are rewritten for the 8-epoch
  curves by `TINY_ARGS`. Placeholders the reader fills in (`<repo>`, the team remote's path) become the
  test's clone and a temporary folder. Every rewrite must match, so a README change cannot make one
  silently stop applying.
- `CLAIMS` checks what the README says a command does (which stages it reruns, what it prints).
- `dvc queue status` is rerun until no experiment is queued or running, as its comment says; then every
  queued experiment must have succeeded and `dvc exp show` must hold each queued cutoff.
- `SKIP` lists the commands the test does not run, each with its reason.

After `make repro` the test commits what it produced: a real clone's committed `dvc.lock` and metrics
are the default-scale ones `make repro` reproduces, the test's are the TINY ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, TINY, VENV_BIN, ran_stages, set_params

README = ROOT / "README.md"
VENV = VENV_BIN.parent

# Default-scale values in README commands -> their TINY equivalents (8 epochs, features.window 2).
TINY_ARGS = {
    # all four archs: the early_stop stage alone retrains them (15 s); with two archs, as lr03 below has
    # (whose lr retrains every arch), every stage after `train` reran for the smaller set (37 s)
    "'stop.at=[10,20]'": "'stop.at=[5]'",
    "--cutoffs 10,20": "--cutoffs 5,7",  # lcpipe evaluate: its own window of 4, so 5 at least
    "'predict.cutoff=5,20,40'": "'predict.cutoff=3,6'",  # two queued, two at a time: the same path
    "-S predict.cutoff=10": "-S predict.cutoff=5",
    "-S predict.cutoff=20": "-S predict.cutoff=6",
    # two CNNs retrained instead of four (the target and a source): the same commands and stages,
    # half of the walk-through's longest wait (77 s with four)
    "-n lr03 -S train.lr=0.03": "-n lr03 -S train.lr=0.03 -S 'train.archs=[resnet34,plain50]'",
}

# Commands not run, by their first words, with the reason.
SKIP = {
    "make test": "the whole suite, this test included; CI runs it (.ci/run)",
    "dvc exp run -S data.dataset=cifar10": "paper scale: downloads CIFAR-10 and trains for a GPU-day",
    "dvc remote add -d shared ssh://": "one of three remotes: the test runs the local-directory one; needs an SSH host",
    "dvc remote add -d shared s3://": "one of three remotes: the test runs the local-directory one; needs S3 access",
    "python bench/": "a benchmark: default-scale timings (minutes), reported in the Benchmarks table",
    "bench/gpu_check.sh": "a benchmark that needs a GPU",
    "bench/gpu_pipeline_check.sh": "needs a GPU (its --cpu-smoke runs the whole pipeline: a minute)",
    "pip install -e '.[postgres]'": "the test's venv has the dev extra, which includes it",
    "createdb tune": "the team's PostgreSQL server; tests/test_postgres.py runs the workers on a throwaway one",
    "PYTHONPATH=. python examples/optuna_digits.py --trials 10 --history data/curves --storage postgresql":
        "needs the team's PostgreSQL server (tests/test_postgres.py: 4 workers on a throwaway one)",
    "optuna trials --study-name digits-cnn --storage postgresql": "needs the team's PostgreSQL server",
    "optuna create-study --study-name digits-cnn": "needs the team's PostgreSQL server",
}

# What some commands must print beyond exiting 0: the README's claims about them, by their first words.
CLAIMS = {
    # ... and, the history being these very runs, each check names the run's own curve as left out of it
    "dvc exp run --temp -n stopped": ("retrains in the early_stop stage alone, each run's own curve left out",
                                      lambda out: ran_stages(out) == ["check_params", "early_stop"]
                                      and out.count("left out of the history") >= 4),
    "dvc exp run -n cut10": ("reruns predict + evaluate only",
                             lambda out: ran_stages(out) == ["check_params", "predict", "evaluate"]),
    "dvc exp diff HEAD cut10": ("the experiment's scores and param beside HEAD's",
                                lambda out: "lstm.rmse" in out and "predict.cutoff" in out),
    "dvc metrics diff HEAD~1": ("diffs the workspace's metrics against the commit before",
                                lambda out: "metrics/evaluate.json" in out and "lstm.rmse" in out),
    # what the README says each table holds, and nothing of the hundred-odd other columns (a newcomer's pass)
    "dvc exp show --drop '.*' --keep 'Experiment|train.lr": (
        "final and best test accuracy per arch, per experiment",
        lambda out: "plain50/metrics.json:best_test_acc" in out and "train.lr" in out and "lr03" in out
        and "train_loss" not in out and "cutoff_" not in out),
    "dvc exp show --drop '.*' --keep 'Experiment|State": (
        "each predictor's RMSE per experiment",
        lambda out: "auto.rmse" in out and "predict.cutoff" in out and "cut10" in out
        and "cutoff_" not in out and ".mae" not in out and "dvclive" not in out),
    # the collaborator's clone, after `dvc pull`
    "dvc repro --pull": ("trains nothing", lambda out: not [s for s in ran_stages(out) if s.startswith("train@")]),
    "dvc repro": ("runs nothing after `dvc pull`", lambda out: ran_stages(out) == []),
    # the Trainer-layout example: read without --steps, the two runs that end best kept, the rest stopped
    "lcpipe forecast --history examples/hf-trainer": (
        "keeps t01 and t06 (the two that end best) and stops the other six at step 300 of 750",
        lambda out: sorted(line.split()[0] for line in out.splitlines() if line.endswith(" keep")) == ["t01", "t06"]
        and sum(line.endswith(" stop") and "300/750" in line for line in out.splitlines()) == 6),
    "dvc exp run -S predict.cutoff=6": ("reruns only predict + evaluate",
                                        lambda out: ran_stages(out) == ["check_params", "predict", "evaluate"]),
}

POLL_UNTIL_DONE = "dvc queue status"
QUEUE_WAIT = 600  # seconds: the two queued TINY experiments take about 40 s each, two at a time
# `dvc queue status` polled while its tasks run can read a task's info file half-written and exit 255 with this
# JSON error (seen under load, 2026-12-05): the next poll reads it whole
QUEUE_RACE = "Expecting value: line 1 column 1"
QUEUED = re.compile(r"dvc exp run --queue -S 'predict\.cutoff=([\d,]+)'")


def bash_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, body) of every ```bash block, in order."""
    return [(text[:m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(r"^```bash\n(.*?)^```", text, flags=re.S | re.M)]


def commands(block: str) -> list[str]:
    """The block's commands: continuation lines joined, comments and blank lines dropped."""
    lines = (line.split(" #")[0].strip() for line in re.sub(r"\\\n\s*", "", block).splitlines())
    return [line for line in lines if line and not line.startswith("#")]


class Shell:
    """One bash session, one process per command, carrying exported variables and the folder between them."""

    def __init__(self, cwd: Path, env: dict, state: Path):
        self.env, self.state, self.calls = env, state, 0
        state.mkdir()
        (state / "cwd").write_text(str(cwd))
        (state / "env").write_text("")
        (state / "prelude.sh").write_text(
            "link_venv() {  # the test's venv instead of `pip install` from the network\n"
            "  mkdir .venv\n"
            f"  for f in {VENV}/*; do ln -s \"$f\" .venv/; done\n"
            "  touch .venv/.installed\n"
            "}\n"
            "make() { [ -e .venv ] || link_venv; command make \"$@\"; }\n")

    def run(self, command: str, timeout: int = 900) -> subprocess.CompletedProcess:
        """The command's output goes to files, not pipes: `dvc queue start` leaves daemons behind (its worker
        launchers) that inherit the shell's stdout, and a pipe would hold this call until they exit. They exit
        when their worker does, and a worker whose idle monitor died (dvc-task's thread hit a half-written
        JSON of the filesystem broker, seen with -j 2) never does: the walk-through waited its 900 s timeout."""
        s = self.state
        self.calls += 1
        out, err = s / f"{self.calls}.out", s / f"{self.calls}.err"
        script = (f"source {s}/env; cd \"$(cat {s}/cwd)\"; source {s}/prelude.sh\n{command}\n"
                  f"rc=$?; export -p | grep -v -E '^declare -x (OLDPWD|PWD|SHLVL|_)=' > {s}/env; pwd > {s}/cwd; "
                  "exit $rc")
        with out.open("w") as stdout, err.open("w") as stderr:
            proc = subprocess.run(["bash", "-c", script], env=self.env, stdout=stdout, stderr=stderr,
                                  timeout=timeout)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out.read_text(errors="replace"),
                                           err.read_text(errors="replace"))


def project_clone(dest: Path, env: dict) -> Path:
    """A clone of this repository holding the working tree's tracked files, with the TINY params committed."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True, env=env)
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split("\0")
    for name in filter(None, tracked):
        src, dst = ROOT / name, dest / name
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        elif dst.exists():
            dst.unlink()
    set_params(dest / "params.yaml", TINY)
    for args in (["add", "-A"], ["commit", "-qm", "working tree at TINY params"]):
        subprocess.run(["git", *args], cwd=dest, check=True, env=env)
    return dest


def tiny(command: str, used: set) -> str:
    for default, small in TINY_ARGS.items():
        if default in command:
            used.add(default)
            command = command.replace(default, small)
    return command


@pytest.mark.slow
def test_every_readme_command_runs_in_order_on_a_fresh_clone(tmp_path, _reproduced_once):
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != VENV_BIN)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(PATH=path, PYTHONPATH=str(tmp_path / "lcpipe"), DVC_NO_ANALYTICS="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    project = project_clone(tmp_path / "lcpipe", env)
    # the clone's DVC cache is the session's shared one (.dvc/config.local, git-ignored, as a team's
    # shared cache is): `make repro` restores from the run-cache what the session's repro of the
    # same code and params trained, and runs whatever differs (an untracked file, say)
    subprocess.run([str(VENV_BIN / "dvc"), "cache", "dir", "--local", str(_reproduced_once[2])], cwd=project,
                   env=env, check=True, capture_output=True)
    shell = Shell(project, env, tmp_path / "shell")
    remote, colleague = tmp_path / "remote", tmp_path / "colleague"
    colleague.mkdir()
    placeholders = {"/mnt/team/lcpipe-cache": str(remote), "git clone <repo>": f"git clone {project}"}
    used: set = set()
    skipped, log, queued = [], [], []
    try:
        for line, block in bash_blocks(README.read_text()):
            for command in commands(block):
                reason = next((why for start, why in SKIP.items() if command.startswith(start)), None)
                if reason:
                    skipped.append(start_of(command))
                    continue
                run = tiny(command, used)
                for mark, value in placeholders.items():
                    if mark in run:
                        used.add(mark)
                        run = run.replace(mark, value)
                if run.startswith("git clone "):  # the collaborator's machine: a folder of their own
                    (shell.state / "cwd").write_text(str(colleague))
                start = time.monotonic()
                proc = shell.run(run)
                while run == POLL_UNTIL_DONE and (proc.returncode == 0 and re.search(r"\b(Queued|Running)\b",
                                                                                     proc.stdout)
                                                  or proc.returncode != 0 and QUEUE_RACE in proc.stderr):
                    assert time.monotonic() - start < QUEUE_WAIT, f"the queue still runs after {QUEUE_WAIT} s:\n" \
                                                                  f"{proc.stdout}"
                    time.sleep(2)
                    proc = shell.run(run)
                log.append(f"{time.monotonic() - start:6.1f}s  {run}")
                assert proc.returncode == 0, (
                    f"README block at line {line}: `{command}` (ran as `{run}`) exited {proc.returncode}\n"
                    f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}")
                claim = next((c for start, c in CLAIMS.items() if run.startswith(start)), None)
                if claim:
                    used.add(claim[0])
                    printed = proc.stdout + proc.stderr  # a stage's own lines reach stderr when DVC is piped
                    assert claim[1](printed), f"`{run}`: the README says it {claim[0]}; it printed\n{printed}"
                if run.startswith("make repro"):  # stands in for the committed lock of a real clone
                    shell.run("git add -A && git commit -qm 'make repro at TINY params'")
                if match := QUEUED.match(run):
                    queued = [int(c) for c in match.group(1).split(",")]
                if POLL_UNTIL_DONE == run:
                    assert "Failed" not in proc.stdout and proc.stdout.count("Success") >= len(queued), proc.stdout
                    assert set(queued) <= shown_cutoffs(shell.run("dvc exp show --json").stdout)
    finally:
        shell.run(f"cd {project} && {VENV_BIN}/dvc queue stop --kill >/dev/null 2>&1 || true")
        print("\n".join(log))
    assert set(TINY_ARGS) | set(placeholders) <= used, f"rewrites that matched no command: {set(TINY_ARGS) - used}"
    assert {c[0] for c in CLAIMS.values()} <= used, f"claims that matched no command: {CLAIMS}"
    assert set(skipped) == set(SKIP), f"skip rules that matched no command: {set(SKIP) - set(skipped)}"


def shown_cutoffs(exp_show_json: str) -> set[int]:
    """predict.cutoff of every experiment `dvc exp show --json` lists."""
    return {run["data"]["params"]["params.yaml"]["data"]["predict"]["cutoff"]
            for commit in json.loads(exp_show_json) for exp in (commit.get("experiments") or [])
            for run in exp["revs"] if run.get("data")}


def start_of(command: str) -> str:
    return next(start for start in SKIP if command.startswith(start))
