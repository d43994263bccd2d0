"""The LoRA sweeps' real curves (bench/lm_table/curves) written as Hugging Face Trainer output folders:
`<run>/checkpoint-N/trainer_state.json` at each save and, for a finished run, the state `save_state()` leaves at the
top. The log is the Trainer's: a train row (loss, learning_rate, grad_norm) and an eval row (eval_loss: the run's
validation cross-entropy) at each evaluation, every 15 steps, and the train summary at the end; `max_steps` 750;
the run's hyper-parameters as a hyperparameter_search trial's `trial_params`, under the Trainer's names
(`learning_rate`, `lr_scheduler_type`). Nothing here trains: the values are the sweeps' own.

    python bench/lm_table/trainer_layout.py examples/hf-trainer

writes the README's worked example (its PROVENANCE.md says which runs); tests/test_trainer_state.py writes its own.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

CURVES = Path(__file__).resolve().parent / "curves"
STEPS_PER_EPOCH = 150  # 750 steps in 5 epochs
MAX_STEPS = 750


def log_history(csv: Path, until: int | None = None) -> list[dict]:
    """The Trainer's log_history of the run in `csv` (to step `until`; None: the whole run and its summary)."""
    frame = pd.read_csv(csv)
    rows = frame if until is None else frame[frame.step <= until]
    lr = json.loads(csv.with_suffix(".json").read_text())["lr"]
    log = []
    for step, val_ce, train_loss in zip(rows.step, rows.val_ce, rows.train_loss, strict=True):
        epoch = round(int(step) / STEPS_PER_EPOCH, 2)
        log.append({"epoch": epoch, "grad_norm": 0.5, "learning_rate": lr, "loss": float(train_loss),
                    "step": int(step)})
        log.append({"epoch": epoch, "eval_loss": float(val_ce), "eval_runtime": 1.1, "eval_samples_per_second": 90.0,
                    "step": int(step)})
    if until is None:
        log.append({"epoch": MAX_STEPS / STEPS_PER_EPOCH, "step": int(frame.step.iloc[-1]), "total_flos": 1.5e12,
                    "train_loss": float(frame.train_loss.mean()), "train_runtime": 52.8})
    return log


def trial_params(csv: Path) -> dict:
    """The run's hyper-parameters as a hyperparameter_search trial states them (the Trainer's names)."""
    config = json.loads(csv.with_suffix(".json").read_text())
    return {"learning_rate": config["lr"], "rank": config["rank"], "alpha_over_rank": config["alpha_over_rank"],
            "lora_dropout": config["lora_dropout"], "warmup_steps": config["warmup_steps"],
            "batch_size": config["batch_size"], "weight_decay": config["weight_decay"],
            "lr_scheduler_type": config["schedule"], "dataset": config["dataset"]}


def state_text(log: list[dict], params: dict | None, global_step: int) -> str:
    """A trainer_state.json as the Trainer writes it (indent 2, sorted keys, NaN spelt so)."""
    return json.dumps({"best_metric": None, "epoch": global_step / STEPS_PER_EPOCH, "global_step": global_step,
                       "is_hyper_param_search": params is not None, "log_history": log, "max_steps": MAX_STEPS,
                       "num_train_epochs": MAX_STEPS // STEPS_PER_EPOCH, "trial_name": None, "trial_params": params},
                      indent=2, sort_keys=True) + "\n"


def write_run(csv: Path, out: Path, until: int | None = None, save_steps: int | None = 150) -> Path:
    """`out` as the Trainer leaves it: a checkpoint every `save_steps` (None: none kept) with the state so far, and,
    for a finished run (`until` None), the final state at the top."""
    log, params = log_history(csv, until), trial_params(csv)
    last = max(e["step"] for e in log)
    for saved in range(save_steps, last + 1, save_steps) if save_steps else ():
        folder = out / f"checkpoint-{saved}"
        folder.mkdir(parents=True)
        (folder / "trainer_state.json").write_text(state_text([e for e in log if e["step"] <= saved and
                                                               "train_runtime" not in e], params, saved))
    if until is None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "trainer_state.json").write_text(state_text(log, params, last))
    return out


def write_example(out: Path) -> None:
    """The README's example: 12 finished runs of each of two tasks (docs, numpy) as the history, and 8 runs of a
    third (descr) still training, saved at steps 150 and 300 of 750."""
    for task in ("docs", "numpy"):
        for csv in sorted((CURVES / task).glob("*.csv"))[:12]:
            write_run(csv, out / "history" / task / csv.stem, save_steps=None)
    for csv in sorted((CURVES / "descr").glob("*.csv"))[:8]:
        write_run(csv, out / "runs" / csv.stem, until=300)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="an empty or new folder")
    args = ap.parse_args(argv)
    if args.out.exists() and any(p.name != "PROVENANCE.md" for p in args.out.iterdir()):
        ap.error(f"{args.out} holds runs already; give an empty or new folder")
    write_example(args.out)


if __name__ == "__main__":
    main()
