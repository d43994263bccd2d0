"""Regenerate bench/boost_table/curves/: real gradient-boosting runs of 1,000 rounds, validation log-loss per round.

    python bench/boost_table/generate.py [--seed 0] [--configs 40] [--rounds 1000] [--workers 2] [--out DIR]

Why: the other tables are neural trainings of 30-200 epochs. Tabular tuning (Optuna's most common use beside deep
learning) boosts for hundreds to thousands of rounds and reports a validation loss every round, so a pruner's first
checks forecast from under 1 % of the run. A red team lost such a study's best trial at round 8 of 1,000 without a
history (README, "Long runs without a history"); these curves measure that regime (`python bench/pruners.py
--corpus bench/boost_table/curves --metric val_logloss --history none`).

Each task (TASKS, data that ships with scikit-learn or is drawn by make_classification) is one study: --configs
configs drawn at random from SPACE (seeded), each fitted for real with scikit-learn's HistGradientBoostingClassifier
(max_iter=--rounds, early stopping off) on 60 % of the rows; staged_predict_proba gives the log-loss on a 20 %
validation part after every round. Layout as ../shared/curves/dev-loss: <task>/<run>.csv (step, val_logloss) and
<run>.json (its config), MANIFEST.csv (group, run, family; each task its own family). A rerun on one machine gives the
same curves (every fit is seeded by (seed, task, config)).
"""

from __future__ import annotations

import json
import sys
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from bench.args import Parser  # noqa: E402
from bench.table_out import out_refusal  # noqa: E402

CONFIGS, ROUNDS = 40, 1000  # the committed table's

# The search space, as a typical Optuna objective for boosting draws it.
SPACE = {
    "learning_rate": ("log", 0.003, 0.3),
    "max_leaf_nodes": ("int", 4, 64),
    "min_samples_leaf": ("int", 2, 80),
    "l2_regularization": ("log", 1e-3, 10.0),
    "max_features": ("float", 0.3, 1.0),
}
TASKS = ("breast_cancer", "synth_easy", "synth_medium", "synth_hard")


def task_data(task: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer, make_classification
    if task == "breast_cancer":
        return load_breast_cancer(return_X_y=True)
    sep, flip = {"synth_easy": (1.0, 0.02), "synth_medium": (0.7, 0.05), "synth_hard": (0.5, 0.1)}[task]
    return make_classification(n_samples=2000, n_features=20, n_informative=8, n_redundant=4, class_sep=sep,
                               flip_y=flip, random_state=seed)


def draw(rng: np.random.Generator) -> dict:
    config = {}
    for name, (how, lo, hi) in SPACE.items():
        if how == "log":
            config[name] = float(f"{np.exp(rng.uniform(np.log(lo), np.log(hi))):.4g}")
        elif how == "int":
            config[name] = int(rng.integers(lo, hi + 1))
        else:
            config[name] = round(float(rng.uniform(lo, hi)), 3)
    return config


def fit(job: tuple) -> tuple[str, str, dict, np.ndarray, float]:
    task, run, config, rounds, seed = job
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split

    X, y = task_data(task, seed)
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, train_size=0.6, stratify=y, random_state=seed)
    X_val, _, y_val, _ = train_test_split(X_rest, y_rest, train_size=0.5, stratify=y_rest, random_state=seed)
    t0 = time.perf_counter()
    model = HistGradientBoostingClassifier(max_iter=rounds, early_stopping=False, random_state=seed, **config)
    model.fit(X_train, y_train)
    losses = np.array([log_loss(y_val, p, labels=model.classes_) for p in model.staged_predict_proba(X_val)])
    if len(losses) < rounds:  # (never with early stopping off; kept honest if scikit-learn changes)
        raise SystemExit(f"{task}/{run}: {len(losses)} rounds of {rounds}")
    return task, run, config, losses, time.perf_counter() - t0


def main() -> None:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0, help="draws the configs and seeds each fit (0)")
    ap.add_argument("--configs", type=int, default=CONFIGS, help=f"configs per task, one study each ({CONFIGS})")
    ap.add_argument("--rounds", type=int, default=ROUNDS, help=f"boosting rounds a config ({ROUNDS})")
    ap.add_argument("--workers", type=int, default=2, help="processes fitting at once (2)")
    ap.add_argument("--out", type=Path, default=HERE / "curves", help="the table's folder (bench/boost_table/curves, "
                                                                      "the committed one: a whole table alone)")
    args = ap.parse_args()
    for name, value, least in (("--configs", args.configs, 2), ("--rounds", args.rounds, 10),
                               ("--workers", args.workers, 1), ("--seed", args.seed, 0)):
        if value < least:
            ap.error(f"{name} {value}: give {least} or more")
    whole = args.configs >= CONFIGS  # any --rounds: every file rewritten (more configs: pruners.py's manifest check)
    # its MANIFEST.csv names this script nowhere: a table of it is its folder of TASKS' studies beside a manifest
    mark = "MANIFEST.csv" if all((args.out / task).is_dir() for task in TASKS) else "no manifest"
    if why := out_refusal(args.out, HERE / "curves", whole, "boost_table/generate.py", mark):
        ap.error(why)
    jobs = []
    for t, task in enumerate(TASKS):
        rng = np.random.default_rng([args.seed, t])
        jobs += [(task, f"c{i:02d}", draw(rng), args.rounds, args.seed) for i in range(args.configs)]
    t0 = time.perf_counter()
    with get_context("spawn").Pool(args.workers) as pool:
        results = pool.map(fit, jobs, chunksize=1)
    rows = ["group,run,family"]
    for task, run, config, losses, seconds in results:
        folder = args.out / task
        folder.mkdir(parents=True, exist_ok=True)
        lines = ["step,val_logloss"] + [f"{i + 1},{v:.6g}" for i, v in enumerate(losses)]
        (folder / f"{run}.csv").write_text("\n".join(lines) + "\n")
        side = {**config, "max_iter": args.rounds, "model": "HistGradientBoostingClassifier", "dataset": task,
                "seed": args.seed, "seconds": round(seconds, 2)}
        (folder / f"{run}.json").write_text(json.dumps(side, indent=1) + "\n")
        rows.append(f"{task},{run},{task}")
    (args.out / "MANIFEST.csv").write_text("\n".join(rows) + "\n")
    print(f"{len(results)} runs x {args.rounds} rounds in {time.perf_counter() - t0:.0f} s -> {args.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
