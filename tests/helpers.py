"""Shared test helpers: small curves, params, and a throwaway copy of the project driven by the real dvc."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from lcpipe.config import Params
from lcpipe.curve import format_rows

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
EXTERNAL_CURVES = ROOT / "tests" / "fixtures" / "cifar10-plain-vs-resnet"
# The .gitignore files DVC writes beside its outputs are committed, as in a clone: data/curves' holds a
# line per train output in the order the stages first ran, and it is part of that folder's hash, so a
# copy without it would write its own order and miss the run-cache of every stage downstream.
PROJECT_FILES = ("lcpipe", "stages", "dvc.yaml", "params.yaml", ".dvcignore", ".gitignore", "pyproject.toml",
                 "data/history", "data/.gitignore", "data/curves/.gitignore", "metrics/plots/.gitignore")

# Pipeline params small enough for the CPU in seconds: synthetic data, width 4, 8 epochs. The sweep leaves the LSTM
# to the predict stage, which runs it under DVC in every repro: in the sweep it cost 4 s of its 11 (torch's import and
# its fits) each time the sweep reran, on make test's critical path (the shared repro, the README's lr03)
TINY = {
    "data.dataset": "synthetic", "data.synthetic_train": 192, "data.synthetic_test": 96,
    "train.epochs": 8, "train.width": 4, "train.batch_size": 64, "train.lr": 0.02,
    "features.window": 2, "predict.cutoff": 4, "sweep.cutoffs": [3, 5], "lstm.steps": 20,
    "sweep.predictors": ["auto", "poly", "last_value", "source_shift", "parametric"],
}


def learning_curve(n: int, final: float = 0.9, rate: float = 0.15, start: float = 0.1,
                   noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A saturating accuracy curve (fractions) with optional jitter."""
    t = np.arange(1, n + 1)
    acc = final - (final - start) * np.exp(-rate * (t - 1))
    return np.clip(acc + np.random.default_rng(seed).normal(0, noise, n), 0, 1)


def curve_csv(acc, epochs=None, train_loss: float = 1.0) -> str:
    """An lcpipe curve file whose train and test accuracy are `acc` (epochs 1.. unless given)."""
    epochs = range(1, len(acc) + 1) if epochs is None else epochs
    return format_rows([{"epoch": e, "train_loss": train_loss, "train_acc": float(a), "test_loss": 1.0,
                         "test_acc": float(a), "lr": 0.1} for e, a in zip(epochs, acc)])


def set_params(path: Path, overrides: dict) -> None:
    """Write dotted-key overrides (e.g. {'predict.cutoff': 5}) into a params.yaml."""
    params = yaml.safe_load(path.read_text())
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        params[section][key] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


class Project:
    """A git+DVC copy of lcpipe in a temp dir, with helpers that run the real CLIs."""

    def __init__(self, root: Path):
        self.root = root
        # PYTHONPATH: the stages run this copy's lcpipe, not the editable install's
        self.env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(root),
                    "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}

    def run(self, *cmd: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
        proc = subprocess.run(cmd, cwd=self.root, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(str(VENV_BIN / "dvc"), *args, check=check)

    def git(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("git", *args)

    def set_params(self, **overrides) -> None:
        set_params(self.root / "params.yaml", {k.replace("__", "."): v for k, v in overrides.items()})

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-qm", message)


def executed_stages(output: str) -> list[str]:
    """The stages whose command DVC ran (`Running stage '...'`), in order: not those it restored."""
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")]


def ran_stages(output: str) -> list[str]:
    """The stages DVC reproduced, in order: those it ran (`Running stage '...'`) and those it restored
    from the run-cache (`Stage '...' is cached - skipping run`). Reproduced projects share one DVC
    cache, so a stage another test already ran with the same code, data and params is restored."""
    return [line.split("'")[1] for line in output.splitlines()
            if line.startswith("Running stage '")
            or (line.startswith("Stage '") and "is cached - skipping run" in line)]


def make_project(dest: Path, overrides: dict | None = None, cache: Path | None = None) -> Project:
    """A git+DVC copy of lcpipe at TINY params (plus `overrides`); with `cache`, its DVC cache is that
    folder (`.dvc/config.local`, as a team's shared cache is), so its run-cache is shared too."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    project = Project(dest)
    set_params(dest / "params.yaml", {**TINY, **(overrides or {})})
    project.git("init", "-q")
    project.dvc("init", "-q")
    shutil.copytree(ROOT / ".dvc" / "plots", dest / ".dvc" / "plots")  # the plot templates
    project.dvc("config", "core.analytics", "false")
    if cache is not None:
        project.dvc("cache", "dir", "--local", str(cache))
    project.commit("lcpipe copy")
    return project


def copy_project(source: Project, dest: Path) -> Project:
    """A copy of a project with its git history and DVC cache (or the shared cache's config): as if it
    had run `dvc repro` itself."""
    shutil.copytree(source.root, dest, symlinks=True)
    return Project(dest)


def with_params(params: Params, **overrides) -> Params:
    """`params` with dotted-key overrides written with `__` (e.g. lstm__steps=60)."""
    sections: dict[str, dict] = {}
    for dotted, value in overrides.items():
        section, key = dotted.split("__")
        sections.setdefault(section, {})[key] = value
    return dataclasses.replace(params, **{s: dataclasses.replace(getattr(params, s), **kv)
                                          for s, kv in sections.items()})


def step_schedule_history(folder: Path) -> None:
    """Six 100-epoch curves of a step schedule, each gaining at its milestones ([30, 60] or [50, 75], stated in its
    sidecar): a run's forecast from them shows whether the run's own milestones are read as lr drops."""
    t, rng = np.arange(1, 101), np.random.default_rng(1)
    for k in range(6):
        marks = [30, 60] if k % 2 else [50, 75]
        acc = 0.5 + 0.15 * (t >= marks[0]) + 0.1 * (t >= marks[1]) - 0.4 * np.exp(-t / 5) + rng.normal(0, .004, 100)
        (folder / f"h{k}.csv").write_text("epoch,test_acc\n" + "".join(f"{i},{x - 0.02 * k:.5f}\n"
                                                                       for i, x in zip(t, acc, strict=True)))
        (folder / f"h{k}.json").write_text(json.dumps({"epochs": 100, "schedule": "step", "milestones": marks,
                                                      "lr": 0.1, "optimizer": "sgd"}))


@dataclasses.dataclass
class CliResult:
    code: int
    out: str
    err: str


def lcpipe_here(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`lcpipe ARGS` run in folder `cwd`, in this process, as subprocess.run(..., capture_output=True, text=True)
    returns it: each test file keeps one call through the installed console script, and the rest skip a
    subprocess's second of imports (the suite's CLI tests spent 36 s starting Python)."""
    before = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        done = cli_in_process(*map(str, args))
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(["lcpipe", *map(str, args)], done.code, done.out, done.err)


def cli_in_process(*args: str) -> CliResult:
    """`lcpipe ...` in this process, its exit code, stdout and stderr (a subprocess costs a second of imports)."""
    import contextlib
    import io

    from lcpipe.cli import main

    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return CliResult(code, out.getvalue(), err.getvalue())
