"""The HPO table as a corpus of large studies: each task's configs drawn into studies of 40 trials,
written in the dev corpus's layout, so every bench that takes `--corpus` replays them.

    python bench/hpo_table/studies.py OUT [--trials 40] [--studies 2] [--interval 1] [--seed 0]
    python bench/pruners.py --corpus OUT                                  # test accuracy, maximized
    python bench/pruners.py --corpus OUT --metric val_loss --mode min     # validation loss, minimized
    lcpipe evaluate --curves OUT/digits_s0 --metric val_loss --mode min --cutoffs 5,10,20

Why: the dev corpora's studies hold 3-11 runs, while the studies users tune (and the benchmarks the
maintainers replay: 40 trials a study, a loss evaluated every 15 steps) hold tens. A pruner that
decides well among 5 runs may decide differently among 40, and an in-study forecast from 39 sibling
curves is another problem than one from 4. These are real trainings (bench/hpo_table/PROVENANCE.md),
the same configs for every bench, drawn reproducibly from --seed.

Layout: OUT/<task>_s<k>/c<config>.csv (an `epoch` column, or with --interval N a `step` column of
epoch x N, as a language-model loop reports optimizer steps; then test_acc, val_acc, val_loss,
test_loss) and c<config>.json (the config: its 7 hyper-parameters and its planned length, `epochs`, or
`max_steps` on a step axis, as lcpipe reads a run's own file); OUT/MANIFEST.csv maps
each study (group) to its family, the task: leave-one-family-out then holds out a whole task.
Configs whose loss diverged to NaN are kept; the benches leave diverged runs out as they read them.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # run from a checkout, no install
from bench.args import Parser  # noqa: E402

COLUMNS = ("test_acc", "val_acc", "val_loss", "test_loss")
MAX_STUDIES = 100  # --studies per task: 600 studies of 40 trials is 48,000 files
CONFIGS = 320  # configs per task in the table (PROVENANCE.md): the most trials a study can draw


def read_task(path: Path) -> dict[int, list[dict]]:
    """config -> its rows (one per epoch, in order) of one <task>.csv.gz."""
    rows: dict[int, list[dict]] = {}
    with gzip.open(path, "rt") as f:
        for r in csv.DictReader(f):
            rows.setdefault(int(r["config"]), []).append(r)
    return {c: sorted(rs, key=lambda r: int(r["epoch"])) for c, rs in rows.items()}


def write_studies(out: Path, table: Path = HERE, trials: int = 40, studies: int = 2, interval: int = 1,
                  seed: int = 0) -> list[str]:
    """Write the corpus; -> the studies written. Each study draws `trials` distinct configs of its task
    (distinct studies of one task may share configs, as two tuning runs on one task do)."""
    with open(table / "configs.csv") as f:
        configs = {int(r.pop("config")): {k: float(v) for k, v in r.items()} for r in csv.DictReader(f)}
    tasks = sorted(p.name.removesuffix(".csv.gz") for p in table.glob("*.csv.gz"))
    if not tasks:
        raise SystemExit(f"{table}: no <task>.csv.gz; build the table with `python bench/hpo_table/generate.py`")
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out}: not empty; give a new folder (this writes a whole corpus into it)")
    manifest, written = [], []
    for task in tasks:
        rows = read_task(table / f"{task}.csv.gz")
        if trials > len(rows):
            raise SystemExit(f"--trials {trials}: task {task} has {len(rows)} configs")
        rng = np.random.default_rng([seed, sum(map(ord, task))])
        for k in range(studies):
            group = f"{task}_s{k}"
            (out / group).mkdir(parents=True)
            for c in sorted(int(c) for c in rng.choice(sorted(rows), trials, replace=False)):
                axis = "step" if interval > 1 else "epoch"
                lines = [",".join((axis, *COLUMNS))]
                lines += [",".join((str(int(r["epoch"]) * interval), *(r[col] for col in COLUMNS))) for r in rows[c]]
                (out / group / f"c{c}.csv").write_text("\n".join(lines) + "\n")
                planned = {"epochs": len(rows[c])} if interval == 1 else {"max_steps": len(rows[c]) * interval}
                (out / group / f"c{c}.json").write_text(json.dumps({**configs[c], **planned}))
                manifest.append({"group": group, "run": f"c{c}", "family": task})
            written.append(group)
    with open(out / "MANIFEST.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["group", "run", "family"])
        w.writeheader()
        w.writerows(manifest)
    return written


def main(argv: list[str] | None = None) -> None:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="a new (or empty) folder for the corpus")
    ap.add_argument("--trials", type=int, default=40, help="configs per study (40)")
    ap.add_argument("--studies", type=int, default=2, help="studies per task (2)")
    ap.add_argument("--interval", type=int, default=1,
                    help="steps per epoch on the x axis: 1 writes `epoch`; e.g. 15 writes `step` = 15, 30, ...")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--table", type=Path, default=HERE, help="the table's folder (default: this one)")
    args = ap.parse_args(argv)
    for name in ("trials", "studies", "interval"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} {getattr(args, name)}: give a whole number of at least 1")
    if args.seed < 0:
        ap.error(f"--seed {args.seed}: give a whole number of at least 0")
    if args.studies > MAX_STUDIES:  # (red team: 100,000 wrote 3.3 GB in a minute, toward 48 million files)
        ap.error(f"--studies {args.studies}: give at most {MAX_STUDIES} per task")
    if args.trials > CONFIGS:  # before any folder is written, as one line
        ap.error(f"--trials {args.trials}: a study draws distinct configs, and each task has {CONFIGS}")
    if not str(args.out).strip():
        ap.error("give the folder to write the corpus to")
    if args.out.is_symlink() or (args.out.exists() and not args.out.is_dir()):
        ap.error(f"{args.out} is {'a symbolic link' if args.out.is_symlink() else 'a file'}; give a new (or empty) "
                 "folder")
    if any(args.out.resolve().is_relative_to(k) for k in (Path("/proc"), Path("/sys"), Path("/dev"))):
        ap.error(f"{args.out}: a system folder; give a new (or empty) folder for the corpus")
    if not (args.table / "configs.csv").is_file():
        ap.error(f"--table {args.table}: no configs.csv there; give the table's folder (default {HERE})")
    groups = write_studies(args.out, args.table, args.trials, args.studies, args.interval, args.seed)
    print(f"{len(groups)} studies of {args.trials} trials in {args.out} (families: the tasks)")


if __name__ == "__main__":
    main()
