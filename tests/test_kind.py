"""--kind / kind=: a loss that goes negative (a WGAN critic's) is refused as a loss by its name, with the flag
that reads it as any series named in the same line; with it, the CLI, lcpipe.forecast and ForecastPruner
forecast and prune it."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest

import lcpipe
from lcpipe.cli import main as cli
from lcpipe.errors import LcpipeError
from lcpipe.integrations.optuna import ForecastPruner, PrunerError

optuna.logging.set_verbosity(optuna.logging.WARNING)
EPOCHS = np.arange(1, 41)


def critic(final: float) -> np.ndarray:
    """A critic's loss: from 0 down to `final` < 0."""
    return final * (1 - np.exp(-EPOCHS / 8))


def write(folder, name: str, values: np.ndarray) -> None:
    folder.mkdir(exist_ok=True)
    rows = "".join(f"{e},{v:.5f}\n" for e, v in zip(EPOCHS[: len(values)], values))
    (folder / f"{name}.csv").write_text("epoch,val_loss\n" + rows)


@pytest.fixture
def critic_runs(tmp_path):
    for i, final in enumerate((-1.0, -1.2, -1.4, -1.6)):
        write(tmp_path / "history", f"h{i}", critic(final))
    write(tmp_path / "runs", "deep", critic(-1.5)[:12])
    write(tmp_path / "runs", "shallow", critic(-0.6)[:12])
    return tmp_path


def test_a_negative_loss_is_one_line_naming_the_flag_and_with_it_is_forecast(critic_runs, capsys):
    args = ["forecast", "--history", str(critic_runs / "history"), "--runs", str(critic_runs / "runs"),
            "--metric", "val_loss", "--epochs", "40"]
    with pytest.raises(SystemExit):
        cli(args)
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "val_loss" in err and "--kind any" in err and "go negative" in err
    out = critic_runs / "f.json"
    cli([*args, "--kind", "any", "--out", str(out)])
    runs = {r["run"]: r for r in json.loads(out.read_text())["runs"]}
    assert runs["deep"]["final"]["mean"] < -1.2 and runs["shallow"]["final"]["mean"] > -1.0  # lower is better
    assert runs["deep"]["decision"] == "keep" and runs["shallow"]["decision"] == "stop"


def test_evaluate_takes_the_kind_too(critic_runs, capsys):
    cli(["evaluate", "--curves", str(critic_runs / "history"), "--metric", "val_loss", "--kind", "any",
         "--cutoffs", "10", "--predictors", "auto,last_value"])
    assert "| 10 |" in capsys.readouterr().out


def test_the_python_api_takes_kind_and_refuses_an_unknown_one(critic_runs):
    history = {f"h{i}": list(critic(f)) for i, f in enumerate((-1.0, -1.2, -1.4, -1.6))}
    runs = {"deep": list(critic(-1.5)[:12]), "shallow": list(critic(-0.6)[:12])}
    with pytest.raises(LcpipeError, match="kind='any'"):
        lcpipe.forecast(history, runs, epochs=40, metric="val_loss")
    table = lcpipe.forecast(history, runs, epochs=40, metric="val_loss", kind="any").set_index("run")
    assert table.loc["deep", "final"] < table.loc["shallow", "final"]
    with pytest.raises(LcpipeError, match="kind 'signed'"):
        lcpipe.forecast(history, runs, epochs=40, metric="val_loss", kind="signed")


def pruned(kind: str | None) -> list[str]:
    """Eight trials of a minimised critic loss, the worse ones reported in between."""
    finals = [-1.5, -0.5, -1.4, -0.4, -0.6, -1.6, -0.3, -0.45]
    study = optuna.create_study(direction="minimize", pruner=ForecastPruner(epochs=40, metric="val_loss", kind=kind))

    def objective(trial):
        curve = critic(finals[trial.number])
        for e in EPOCHS:
            trial.report(float(curve[e - 1]), int(e))
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(curve[-1])

    study.optimize(objective, n_trials=len(finals))
    return [t.state.name for t in study.trials]


def test_the_pruner_reads_a_critics_loss_with_kind_any_and_otherwise_names_it():
    with pytest.raises(PrunerError, match=r"kind='any'"):
        pruned(None)
    states = pruned("any")
    assert states[0] == "COMPLETE" and states[5] == "COMPLETE"  # the best ones train to the end
    assert states.count("PRUNED") >= 3  # the losers are stopped
    with pytest.raises(PrunerError, match="kind='fraction ': one of"):
        ForecastPruner(epochs=40, metric="val_loss", kind="fraction ")
