"""Four worker processes tune one study on a real PostgreSQL server with ForecastPruner.

The server is a throwaway one: `initdb` into a temporary folder, a free port on 127.0.0.1, stopped and
removed afterwards (as the `postgres` user when the tests run as root, which PostgreSQL refuses).
Skipped, with the reason, only where no PostgreSQL server binary exists.

What a team relies on: every trial is accounted for (none lost, none run twice), and each decision a
worker made is the one a single process makes from the same storage contents, so it does not matter
which machine runs a trial. Each worker logs, for every check it ran, the completed trials the pruner
saw and the other running trials with the step each had reached (ForecastPruner compares with those
too, cut at the same step); the test rebuilds exactly that study in memory and asks a fresh
ForecastPruner.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from bench.hpo import load_table  # noqa: E402
from lcpipe.integrations.optuna import ForecastPruner  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORKERS, TRIALS_EACH, EPOCHS = 4, 6, 40
pytestmark = pytest.mark.slow


def _binary(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH, or where Debian installs it."""
    return shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)


@pytest.fixture(scope="module")
def postgres_url():
    initdb, postgres = _binary("initdb"), _binary("postgres")
    if not (initdb and postgres):
        pytest.skip("no PostgreSQL server binaries (initdb, postgres) on this machine; install PostgreSQL to run it")
    import psycopg2  # the driver is a dev dependency: missing, the test fails rather than skips

    user = "postgres" if os.geteuid() == 0 else None  # PostgreSQL refuses to run as root
    folder = Path(tempfile.mkdtemp(prefix="lcpipe-pg-"))  # under /tmp: pytest's own tmp is root-only
    server = None
    try:
        if user:
            shutil.chown(folder, user)
        init = subprocess.run([initdb, "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "--no-sync",
                               "-E", "UTF8"], user=user, capture_output=True, text=True)
        assert init.returncode == 0, f"initdb failed: {init.stderr[-1000:]}"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with open(folder / "server.log", "w") as log:
            if user:
                shutil.chown(folder / "server.log", user)
            server = subprocess.Popen([postgres, "-D", str(folder / "data"), "-p", str(port), "-k", str(folder),
                                       "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                                       "-c", "max_connections=50"], user=user, stdout=log, stderr=log)
        deadline = time.time() + 30
        while True:
            try:
                psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres").close()
                break
            except psycopg2.OperationalError:
                if server.poll() is not None or time.time() > deadline:
                    pytest.fail(f"PostgreSQL did not start: {(folder / 'server.log').read_text()[-500:]}")
                time.sleep(0.2)
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)  # fast shutdown: ends the test's own pooled connections too
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)


WORKER = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    import numpy as np
    import optuna
    from bench.hpo import load_table
    from lcpipe.integrations.optuna import ForecastPruner

    storage, name, history, n_trials, log_path = sys.argv[1:6]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    curves = load_table(Path(sys.argv[6]), "test_acc", ["digits"])["digits"].values

    class Logged(ForecastPruner):
        '''ForecastPruner as is, but it writes down the completed and running trials each check saw.'''
        def _finished(self, study):
            out = super()._finished(study)
            self.seen = [t.number for t in out]
            return out

        def _running(self, study, trial):
            out = super()._running(study, trial)
            self.running = {t.number: t.last_step for t in out}
            return out

        def prune(self, study, trial):
            self.seen, self.running = None, {}
            decision = super().prune(study, trial)
            if self.seen is not None:
                log.append({"trial": trial.number, "step": trial.last_step, "pruned": decision, "seen": self.seen,
                            "running": self.running})
            return decision

    log, ran = [], []
    pruner = Logged(40, history)
    study = optuna.load_study(study_name=name, storage=storage, pruner=pruner,
                              sampler=optuna.samplers.RandomSampler(seed=os.getpid()))

    def objective(trial):
        ran.append(trial.number)
        trial.set_user_attr("pid", os.getpid())
        acc = curves[trial.suggest_int("config", 0, len(curves) - 1)]
        for epoch, value in enumerate(acc, start=1):
            trial.report(float(value), step=epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(acc[-1])

    study.optimize(objective, n_trials=int(n_trials))
    with open(log_path, "w") as f:
        json.dump({"ran": ran, "decisions": log}, f)
""")


def _history(folder: Path) -> Path:
    """30 curves of another task of the table, as `--history` files."""
    folder.mkdir()
    values = load_table(ROOT / "bench" / "hpo_table", "test_acc", ["synth_medium"])["synth_medium"].values
    for i in range(0, len(values), len(values) // 30):
        (folder / f"c{i}.csv").write_text("epoch,test_acc\n" + "".join(
            f"{e},{v!r}\n" for e, v in enumerate(values[i].tolist(), start=1)))
    return folder


def _as_it_was(trial: optuna.trial.FrozenTrial, step: int) -> optuna.trial.FrozenTrial:
    """The trial as the worker's check saw it: running, with its reports up to `step`."""
    seen = copy.deepcopy(trial)
    seen.state, seen.value, seen.datetime_complete = optuna.trial.TrialState.RUNNING, None, None
    seen.intermediate_values = {s: v for s, v in trial.intermediate_values.items() if s <= step}
    return seen


def test_four_workers_on_postgres_lose_no_trial_and_decide_as_one_process(postgres_url, tmp_path):
    history = _history(tmp_path / "history")
    optuna.create_study(study_name="team", storage=postgres_url, direction="maximize")
    # the one process that replays every check below, there as the workers start, as each worker's own pruner
    # is: a trial RUNNING from before a pruner was created waits to be seen progressing (a crashed session's)
    single = ForecastPruner(EPOCHS, history)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    logs = [tmp_path / f"worker{i}.json" for i in range(WORKERS)]
    procs = [subprocess.Popen([sys.executable, str(script), postgres_url, "team", str(history), str(TRIALS_EACH),
                               str(log), str(ROOT / "bench" / "hpo_table")], env=env, stderr=subprocess.PIPE, text=True)
             for log in logs]
    try:
        for p in procs:
            _, err = p.communicate(timeout=240)
            assert p.returncode == 0, err[-2000:]
    finally:
        for p in procs:  # a failed or hung worker must not keep its connections to the server
            if p.poll() is None:
                p.kill()
                p.communicate()

    study = optuna.load_study(study_name="team", storage=postgres_url)
    trials = study.get_trials(deepcopy=False)
    worker_logs = [json.loads(log.read_text()) for log in logs]
    ran = [n for w in worker_logs for n in w["ran"]]
    # every trial accounted for: numbered 0..N-1 once each, each run by exactly one worker, none left hanging
    assert sorted(t.number for t in trials) == list(range(WORKERS * TRIALS_EACH))
    assert sorted(ran) == list(range(WORKERS * TRIALS_EACH))
    assert {t.state for t in trials} <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    assert len({t.user_attrs["pid"] for t in trials}) == WORKERS
    for t in trials:
        last = EPOCHS if t.state == optuna.trial.TrialState.COMPLETE else t.last_step
        assert sorted(t.intermediate_values) == list(range(1, last + 1))  # no report lost or written twice

    # each check, replayed by one process from the same storage contents
    by_number = {t.number: t for t in trials}
    decisions = [d for w in worker_logs for d in w["decisions"]]
    pruned = {t.number: t.last_step for t in trials if t.state == optuna.trial.TrialState.PRUNED}
    assert len(pruned) >= 5, "too few trials pruned for the check below to say much"
    assert {d["trial"]: d["step"] for d in decisions if d["pruned"]} == pruned
    for d in decisions:
        replay = optuna.create_study(direction="maximize")
        replay.add_trials([by_number[n] for n in d["seen"]])
        replay.add_trials([_as_it_was(by_number[int(n)], step) for n, step in d["running"].items()])
        # the checked trial in the replay too: add_trials numbers trials afresh, so the original's number
        # could be a running rival's here, and the pruner leaves the trial itself out by its number
        replay.add_trial(_as_it_was(by_number[d["trial"]], d["step"]))
        assert single.prune(replay, replay.get_trials(deepcopy=False)[-1]) == d["pruned"], d
    assert any(not d["pruned"] for d in decisions)  # kept trials were replayed too
