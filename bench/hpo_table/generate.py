"""Regenerate bench/hpo_table/: real trainings of a full hyper-parameter grid on offline tasks.

    python bench/hpo_table/generate.py [--seed 0] [--workers 2] [--epochs 40] [--tasks digits,...] [--out DIR]
    python bench/hpo_table/generate.py --slice 3 --epochs 4 --out /tmp/t   # a small slice (the tests')

LCBench's design (Zimmer et al., 2021: funnel MLPs, 7 hyper-parameters, SGD with a cosine
schedule, 52 epochs) on data that ships with scikit-learn, so anyone can rebuild it offline. Every
config of the grid (GRID, 320 of them) is trained for real on every task (TASKS) for --epochs
epochs; after each epoch it records test accuracy, test and validation cross-entropy, validation
accuracy, and the seconds the epoch's training took. Splits: 60 % train, 20 % validation, 20 %
test, stratified, from the seed; inputs standardised on the training part.

Output, per task: <task>.csv.gz (config, epoch, test_acc, val_acc, val_loss, test_loss, seconds), and
configs.csv (config -> its hyper-parameters), and provenance.json (the command, seed, versions and
the run's wall time). Each training is seeded by (seed, task, config): a rerun on one machine and
thread count gives the same curves (torch runs on one thread a worker); seconds differ run to run.
"""

from __future__ import annotations

import gzip
import itertools
import json
import platform
import sys
import time
from contextlib import nullcontext
from multiprocessing import get_context
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from bench.args import Parser  # noqa: E402
from bench.table_out import out_refusal  # noqa: E402

EPOCHS = 40  # the committed table's epochs a config

# The grid: 5 x 2^6 = 320 configs, LCBench's 7 axes (SGD with momentum, cosine-annealed lr); lr spans too slow
# to diverging.
GRID = {
    "lr": [0.001, 0.004, 0.016, 0.064, 0.256],
    "batch_size": [32, 128],
    "momentum": [0.0, 0.9],
    "weight_decay": [0.0, 0.001],
    "width": [16, 128],
    "depth": [1, 3],
    "dropout": [0.0, 0.4],
}


def grid_configs() -> list[dict]:
    """Every config of GRID, numbered in a fixed order (config i is row i of configs.csv)."""
    keys = list(GRID)
    return [dict(zip(keys, values)) for values in itertools.product(*(GRID[k] for k in keys))]


def _synthetic(difficulty: str, seed: int):
    from sklearn.datasets import make_classification
    settings = {  # graded: more classes, fewer informative features, less separation, more label noise
        "easy": dict(n_classes=2, n_informative=6, class_sep=1.5, flip_y=0.01),
        "medium": dict(n_classes=4, n_informative=8, class_sep=1.0, flip_y=0.03),
        "hard": dict(n_classes=8, n_informative=10, class_sep=0.7, flip_y=0.05),
    }[difficulty]
    return make_classification(n_samples=2000, n_features=20, n_redundant=4, random_state=seed, **settings)


def load_task(name: str, seed: int):
    """(x, y) of a task: sklearn's bundled data, or make_classification of graded difficulty."""
    from sklearn import datasets
    if name == "digits":
        return datasets.load_digits(return_X_y=True)
    if name == "breast_cancer":
        return datasets.load_breast_cancer(return_X_y=True)
    if name == "wine":
        return datasets.load_wine(return_X_y=True)
    if name.startswith("synth_"):
        return _synthetic(name.removeprefix("synth_"), seed)
    raise SystemExit(f"unknown task {name!r}: choose from {', '.join(TASKS)}")


TASKS = ("digits", "breast_cancer", "wine", "synth_easy", "synth_medium", "synth_hard")


def splits(name: str, seed: int):
    """Standardised (train, val, test) arrays of a task, 60/20/20 stratified."""
    from sklearn.model_selection import train_test_split
    x, y = load_task(name, seed)
    x = x.astype(np.float32)
    xtr, xrest, ytr, yrest = train_test_split(x, y, test_size=0.4, stratify=y, random_state=seed)
    xva, xte, yva, yte = train_test_split(xrest, yrest, test_size=0.5, stratify=yrest, random_state=seed)
    mu, sd = xtr.mean(0), xtr.std(0)
    sd = np.where(sd > 1e-6, sd, 1.0)  # a feature constant in training (digits' border pixels) stays as is
    return [((a - mu) / sd, b.astype(np.int64)) for a, b in ((xtr, ytr), (xva, yva), (xte, yte))]


def funnel(n_in: int, n_out: int, width: int, depth: int, dropout: float):
    """LCBench's funnel MLP: `depth` hidden layers shrinking from `width` by half each (at least 8)."""
    import torch.nn as nn
    layers, prev = [], n_in
    for i in range(depth):
        units = max(8, width >> i)
        layers += [nn.Linear(prev, units), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
        prev = units
    return nn.Sequential(*layers, nn.Linear(prev, n_out))


def train_config(args: tuple) -> tuple[str, list[tuple]]:
    """One config on one task, for real: (task, rows (config, epoch, test_acc, val_acc, val_loss, test_loss,
    seconds))."""
    import torch
    import torch.nn.functional as F
    task, index, config, epochs, seed = args
    torch.set_num_threads(1)
    (xtr, ytr), (xva, yva), (xte, yte) = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in splits(task, seed)]
    gen = torch.Generator().manual_seed(seed * 1_000_003 + TASKS.index(task) * 10_007 + index)
    torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=gen)))
    net = funnel(xtr.shape[1], int(max(ytr.max(), yva.max(), yte.max())) + 1,
                 config["width"], config["depth"], config["dropout"])
    opt = torch.optim.SGD(net.parameters(), lr=config["lr"], momentum=config["momentum"],
                          weight_decay=config["weight_decay"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    rows = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        net.train()
        order = torch.randperm(len(xtr), generator=gen)
        for b in range(0, len(order), config["batch_size"]):
            idx = order[b:b + config["batch_size"]]
            opt.zero_grad()
            F.cross_entropy(net(xtr[idx]), ytr[idx]).backward()
            opt.step()
        sched.step()
        seconds = time.perf_counter() - start
        net.eval()
        with torch.no_grad():
            out_va, out_te = net(xva), net(xte)
            # a diverged net gives nan/inf logits: its loss is recorded as nan, its accuracy as chance-like
            val_loss = float(F.cross_entropy(out_va, yva))
            test_loss = float(F.cross_entropy(out_te, yte))
            val_acc = float((out_va.argmax(1) == yva).float().mean())
            test_acc = float((out_te.argmax(1) == yte).float().mean())
        rows.append((index, epoch, round(test_acc, 6), round(val_acc, 6), _short(val_loss), _short(test_loss),
                     round(seconds, 5)))
    return task, rows


def _short(x: float) -> float | str:
    return round(x, 6) if np.isfinite(x) else "nan"


def write_task(out: Path, task: str, rows: list[tuple]) -> None:
    lines = ["config,epoch,test_acc,val_acc,val_loss,test_loss,seconds"]
    lines += [",".join(str(v) for v in r) for r in sorted(rows)]
    tmp = out / f".{task}.csv.gz.tmp"
    with gzip.GzipFile(tmp, "wb", mtime=0) as f:  # mtime 0: same curves, same bytes
        f.write(("\n".join(lines) + "\n").encode())
    tmp.replace(out / f"{task}.csv.gz")


def main(argv: list[str] | None = None) -> None:
    ap = Parser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="seeds every training by (seed, task, config) (0)")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs each config trains ({EPOCHS})")
    ap.add_argument("--workers", type=int, default=2, help="processes training at once (2)")
    ap.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, of {', '.join(TASKS)} (all)")
    ap.add_argument("--slice", type=int, default=0, help="only every config // SLICE-th config (SLICE configs); 0: all")
    ap.add_argument("--out", type=Path, default=HERE, help="the table's folder (bench/hpo_table, the committed one: "
                                                           "a whole table alone; a slice goes to a new folder)")
    a = ap.parse_args(argv)
    tasks = [t for t in a.tasks.split(",") if t]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown or not tasks:
        ap.error(f"--tasks {a.tasks!r}: choose from {', '.join(TASKS)}")
    for name, value, least in (("--epochs", a.epochs, 2), ("--workers", a.workers, 1), ("--slice", a.slice, 0),
                               ("--seed", a.seed, 0)):
        if value < least:
            ap.error(f"{name} {value}: give {least} or more")
    if a.slice > len(grid_configs()):  # (red team: above the grid, read as all of it)
        ap.error(f"--slice {a.slice}: the grid holds {len(grid_configs())} configs; give at most that (0: all)")
    whole = not a.slice and set(tasks) == set(TASKS)  # any --epochs: every file of the table rewritten
    if why := out_refusal(a.out, HERE, whole, "hpo_table/generate.py"):
        ap.error(why)
    configs = grid_configs()
    chosen = list(range(len(configs)))
    if a.slice:
        chosen = chosen[:: max(1, len(configs) // a.slice)][: a.slice]
    a.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    jobs = [(t, i, configs[i], a.epochs, a.seed) for t in tasks for i in chosen]
    one = a.workers == 1  # in this process; else spawned workers (torch in a forked process can hang)
    with nullcontext() if one else get_context("spawn").Pool(a.workers) as pool:
        results = {t: [] for t in tasks}
        trained = map(train_config, jobs) if one else pool.imap_unordered(train_config, jobs, chunksize=4)
        for n, (task, rows) in enumerate(trained, 1):
            results[task].extend(rows)
            if n % 100 == 0 or n == len(jobs):
                print(f"{n}/{len(jobs)} trainings, {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    for t in tasks:
        write_task(a.out, t, results[t])
    keys = list(GRID)
    (a.out / "configs.csv").write_text("config," + ",".join(keys) + "\n" + "".join(
        f"{i}," + ",".join(str(configs[i][k]) for k in keys) + "\n" for i in chosen))
    import sklearn
    import torch
    (a.out / "provenance.json").write_text(json.dumps({
        "command": "python bench/hpo_table/generate.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seed": a.seed, "epochs": a.epochs, "tasks": tasks, "configs": len(chosen), "grid": GRID,
        "wall_seconds": round(time.time() - started, 1), "workers": a.workers,
        "python": platform.python_version(), "torch": torch.__version__, "sklearn": sklearn.__version__,
        "machine": platform.machine(), "threads_per_worker": 1,
    }, indent=1) + "\n")
    print(f"wrote {len(tasks)} tasks x {len(chosen)} configs x {a.epochs} epochs to {a.out} "
          f"in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
