"""Regenerate bench/lm_table/: real language-model fine-tuning studies, validation cross-entropy every 15 steps.

    python bench/lm_table/generate.py [--out bench/lm_table/curves] [--trials 40] [--workers 2] [--seed 0]
    python bench/lm_table/generate.py --out /tmp/t --trials 2 --steps 30 --pretrain-steps 20 --tasks descr  # a slice

Why: the tuning most users run today fine-tunes a pretrained language model with low-rank adapters
(LoRA) and watches the validation cross-entropy every k optimizer steps. The dev-loss corpus holds
pretraining and AlgoPerf logs of 3-16 runs a study; this table holds what a LoRA sweep looks like,
40 trials a study, 50 evaluations a trial (every 15 steps, up to 750), trained for real on the CPU
from text that ships with Python and scikit-learn, so anyone can rebuild it offline.

The base model: a byte-level causal transformer (2 layers, width 64, context 48 bytes), pretrained
once per --seed on the first half of Python's own documentation topics (pydoc_data). Each TASK is a
downstream text; each trial freezes the base, adds LoRA adapters (rank r, scale alpha / r, dropout)
to every linear layer of the blocks and trains them with AdamW, a warmup and a schedule, its
hyper-parameters drawn at random from SPACE (a random search: the configs a sampler would try
first). After every 15 optimizer steps it records the mean training loss of those steps and the
cross-entropy (nats per byte) on a fixed held-out 15 % of the task's text.

Output, in the dev corpora's layout (bench/pruners.py, bench/forecast_quality.py and lcpipe read it):
OUT/<task>/t<NN>.csv (`step,val_ce,train_loss`) and t<NN>.json (the trial's hyper-parameters,
`max_steps`, `eval_every`, and what was trained on what), OUT/MANIFEST.csv (group,run,family: one
study a task, family = the task), OUT/provenance.json (the command, versions, seconds). Seeded by
(--seed, task, trial): a rerun on one machine and thread count gives the same curves.
"""

from __future__ import annotations

import csv
import json
import math
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

TRIALS = 40  # the committed table's trials a study
VOCAB, CONTEXT, WIDTH, LAYERS, HEADS = 256, 48, 64, 2, 4
PRETRAIN_STEPS, PRETRAIN_BATCH, PRETRAIN_LR = 1500, 32, 3e-3
EVAL_EVERY, STEPS, EVAL_WINDOWS = 15, 750, 96
TASKS = ("descr", "code", "docs", "numpy")
# the random search's space: LoRA's usual knobs, wide enough that some trials barely move and some diverge
SPACE = {
    "lr": ("log", 1e-4, 3e-2),
    "rank": ("choice", [1, 2, 4, 8, 16]),
    "alpha_over_rank": ("choice", [0.5, 1.0, 2.0]),
    "lora_dropout": ("choice", [0.0, 0.1]),
    "warmup_steps": ("choice", [0, 30, 75]),
    "schedule": ("choice", ["cosine", "linear", "constant"]),
    "batch_size": ("choice", [8, 16, 32]),
    "weight_decay": ("choice", [0.0, 0.01, 0.1]),
}


def task_text(name: str) -> str:
    """The downstream text of a task, from files every Python and scikit-learn install has."""
    import pydoc_data.topics

    if name == "docs":  # the documentation topics the base model did NOT see (their second half)
        topics = [pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics)]
        return "\n".join(topics[len(topics) // 2:])
    if name == "descr":  # scikit-learn's dataset descriptions: English prose about data
        import sklearn
        return "\n".join(p.read_text() for p in sorted((Path(sklearn.__file__).parent / "datasets" / "descr")
                                                       .glob("*.rst")))
    if name == "code":  # Python source: the standard library's argparse, csv and json
        import argparse as a
        import csv as c
        import json.decoder as d
        import json.encoder as e
        return "\n".join(Path(m.__file__).read_text() for m in (a, c, d, e))
    if name == "numpy":  # numpy's docstring-heavy source: prose and code interleaved
        import numpy._core.fromnumeric as f
        return Path(f.__file__).read_text()
    raise SystemExit(f"unknown task {name!r}: choose from {', '.join(TASKS)}")


def pretrain_text() -> str:
    import pydoc_data.topics
    topics = [pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics)]
    return "\n".join(topics[: len(topics) // 2])


def draw_configs(trials: int, seed: int, task: str) -> list[dict]:
    rng = np.random.default_rng([seed, sum(map(ord, task)), 1])
    out = []
    for _ in range(trials):
        cfg = {}
        for key, (kind, *args) in SPACE.items():
            if kind == "log":
                cfg[key] = float(f"{math.exp(rng.uniform(math.log(args[0]), math.log(args[1]))):.3g}")
            else:
                cfg[key] = args[0][int(rng.integers(len(args[0])))]
        out.append(cfg)
    return out


def build_model(torch):
    nn, F = torch.nn, torch.nn.functional

    class LoRALinear(nn.Module):
        """A frozen linear layer plus a trainable low-rank update B A, scaled by alpha / rank."""

        def __init__(self, base: nn.Linear):
            super().__init__()
            self.base, self.rank = base, 0

        def add_adapter(self, rank: int, scale: float, dropout: float) -> None:
            self.rank, self.scale = rank, scale
            self.a = nn.Parameter(torch.randn(rank, self.base.in_features) / math.sqrt(self.base.in_features))
            self.b = nn.Parameter(torch.zeros(self.base.out_features, rank))
            self.drop = nn.Dropout(dropout)

        def forward(self, x):
            y = self.base(x)
            return y + self.scale * (self.drop(x) @ self.a.T @ self.b.T) if self.rank else y

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
            self.qkv, self.out = LoRALinear(nn.Linear(WIDTH, 3 * WIDTH)), LoRALinear(nn.Linear(WIDTH, WIDTH))
            self.up, self.down = LoRALinear(nn.Linear(WIDTH, 4 * WIDTH)), LoRALinear(nn.Linear(4 * WIDTH, WIDTH))

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, HEADS, WIDTH // HEADS).permute(2, 0, 3, 1, 4)
            attended = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, WIDTH)
            x = x + self.out(attended)
            return x + self.down(F.gelu(self.up(self.ln2(x))))

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.pos = nn.Embedding(VOCAB, WIDTH), nn.Parameter(torch.zeros(CONTEXT, WIDTH))
            self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
            self.ln, self.head = nn.LayerNorm(WIDTH), nn.Linear(WIDTH, VOCAB)

        def forward(self, x):
            h = self.emb(x) + self.pos[: x.shape[1]]
            for block in self.blocks:
                h = block(h)
            return self.head(self.ln(h))

        def adapters(self):
            return [m for m in self.modules() if isinstance(m, LoRALinear)]

    return LM()


def as_bytes(text: str, torch):
    return torch.tensor(list(text.encode("utf-8", "replace")), dtype=torch.long)


def batch(data, size: int, gen, torch):
    start = torch.randint(0, len(data) - CONTEXT - 1, (size,), generator=gen)
    rows = torch.stack([data[s: s + CONTEXT + 1] for s in start.tolist()])
    return rows[:, :-1], rows[:, 1:]


def cross_entropy(model, x, y, torch) -> object:
    return torch.nn.functional.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))


def pretrain(seed: int, path: Path, steps: int = PRETRAIN_STEPS) -> None:
    """The base model, once per seed, saved for every worker."""
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model, data = build_model(torch), as_bytes(pretrain_text(), torch)
    opt = torch.optim.AdamW(model.parameters(), PRETRAIN_LR, weight_decay=0.01)
    gen = torch.Generator().manual_seed(seed)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = PRETRAIN_LR * 0.5 * (1 + math.cos(math.pi * step / steps))
        loss = cross_entropy(model, *batch(data, PRETRAIN_BATCH, gen, torch), torch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.save(model.state_dict(), path)


def lr_at(step: int, cfg: dict, steps: int) -> float:
    """The schedule: linear warmup, then cosine / linear decay to 0, or constant."""
    if step < cfg["warmup_steps"]:
        return cfg["lr"] * (step + 1) / cfg["warmup_steps"]
    frac = (step - cfg["warmup_steps"]) / max(1, steps - cfg["warmup_steps"])
    return cfg["lr"] * {"cosine": 0.5 * (1 + math.cos(math.pi * frac)), "linear": 1 - frac,
                        "constant": 1.0}[cfg["schedule"]]


def fine_tune(job: tuple) -> tuple[str, int, list[tuple], float]:
    """One trial: LoRA on the frozen base -> (task, trial, rows (step, val_ce, train_loss), seconds)."""
    import torch
    task, index, cfg, seed, base_path, steps = job
    torch.set_num_threads(1)
    torch.manual_seed(seed * 1_000_003 + sum(map(ord, task)) * 1009 + index)
    text = as_bytes(task_text(task), torch)
    cut = int(0.85 * len(text))
    train, val = text[:cut], text[cut:]
    starts = np.linspace(0, len(val) - CONTEXT - 1, EVAL_WINDOWS).astype(int)
    val_rows = torch.stack([val[s: s + CONTEXT + 1] for s in starts])
    model = build_model(torch)
    model.load_state_dict(torch.load(base_path))
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in model.adapters():
        layer.add_adapter(cfg["rank"], cfg["alpha_over_rank"], cfg["lora_dropout"])
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, cfg["lr"], weight_decay=cfg["weight_decay"])
    gen = torch.Generator().manual_seed(index)
    rows, seen, t0 = [], [], time.perf_counter()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg, steps)
        model.train()
        loss = cross_entropy(model, *batch(train, cfg["batch_size"], gen, torch), torch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen.append(float(loss.detach()))
        if (step + 1) % EVAL_EVERY == 0:
            model.eval()
            with torch.no_grad():
                val_ce = float(cross_entropy(model, val_rows[:, :-1], val_rows[:, 1:], torch))
            rows.append((step + 1, val_ce, float(np.mean(seen))))
            seen = []
    return task, index, rows, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "curves", help="the corpus folder (bench/lm_table/curves, the "
                                                                      "committed one: a whole table alone)")
    ap.add_argument("--trials", type=int, default=TRIALS, help=f"trials a study ({TRIALS})")
    ap.add_argument("--steps", type=int, default=STEPS, help=f"optimizer steps a trial ({STEPS}), a multiple of "
                                                              f"{EVAL_EVERY}")
    ap.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, of {', '.join(TASKS)} (all)")
    ap.add_argument("--workers", type=int, default=2, help="processes fine-tuning at once (2)")
    ap.add_argument("--seed", type=int, default=0, help="seeds the base model and every trial (0)")
    ap.add_argument("--pretrain-steps", type=int, default=PRETRAIN_STEPS, help=f"the base model's ({PRETRAIN_STEPS})")
    args = ap.parse_args(argv)
    tasks = [t for t in args.tasks.split(",") if t]
    if not tasks:
        ap.error(f"--tasks {args.tasks!r}: name at least one of {', '.join(TASKS)}")
    if bad := [t for t in tasks if t not in TASKS]:
        ap.error(f"--tasks: unknown {', '.join(bad)}; choose from {', '.join(TASKS)}")
    if min(args.trials, args.workers, args.pretrain_steps) < 1:
        ap.error("--trials, --workers and --pretrain-steps: whole numbers of at least 1")
    if args.steps < 2 * EVAL_EVERY or args.steps % EVAL_EVERY:
        ap.error(f"--steps {args.steps}: a multiple of {EVAL_EVERY} (the eval interval), at least {2 * EVAL_EVERY}")
    if args.seed < 0:
        ap.error(f"--seed {args.seed}: give 0 or more")
    whole = args.trials >= TRIALS and set(tasks) == set(TASKS)  # any --steps: every file rewritten
    if why := out_refusal(args.out, HERE / "curves", whole, "lm_table/generate.py"):
        ap.error(why)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    base = args.out / f".base_seed{args.seed}.pt"
    pretrain(args.seed, base, args.pretrain_steps)
    print(f"base model pretrained in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    configs = {t: draw_configs(args.trials, args.seed, t) for t in tasks}
    jobs = [(t, i, cfg, args.seed, base, args.steps) for t in tasks for i, cfg in enumerate(configs[t])]
    manifest, seconds = [], []
    # one worker: in this process (a slice, the tests'); more: processes, one torch thread each
    with nullcontext() if args.workers == 1 else get_context("spawn").Pool(args.workers) as pool:
        results = map(fine_tune, jobs) if pool is None else pool.imap_unordered(fine_tune, jobs)
        for done, (task, i, rows, secs) in enumerate(results, start=1):
            group = args.out / task
            group.mkdir(exist_ok=True)
            name = f"t{i:02d}"
            (group / f"{name}.csv").write_text("step,val_ce,train_loss\n" + "".join(
                f"{s},{v:.5f},{tr:.5f}\n" for s, v, tr in rows))
            sidecar = {**configs[task][i], "max_steps": args.steps, "eval_every": EVAL_EVERY, "optimizer": "adamw",
                       "arch": f"byte transformer {LAYERS}x{WIDTH}, LoRA on every block linear",
                       "dataset": f"lm_table:{task}", "metric": "val_cross_entropy (nats per byte)",
                       "seed": args.seed, "seconds": round(secs, 1)}
            (group / f"{name}.json").write_text(json.dumps(sidecar, indent=1) + "\n")
            manifest.append({"group": task, "run": name, "family": task})
            seconds.append(secs)
            if done % 10 == 0:
                print(f"{done}/{len(jobs)} trials, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    base.unlink()
    with open(args.out / "MANIFEST.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["group", "run", "family"])
        w.writeheader()
        w.writerows(sorted(manifest, key=lambda r: (r["group"], r["run"])))
    import torch
    (args.out / "provenance.json").write_text(json.dumps({
        "command": " ".join(["python bench/lm_table/generate.py", *(argv if argv is not None else sys.argv[1:])]),
        "seed": args.seed, "tasks": tasks, "trials": args.trials, "steps": args.steps,
        "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
        "machine": platform.machine(), "wall_seconds": round(time.perf_counter() - t0),
        "median_trial_seconds": round(float(np.median(seconds)), 1)}, indent=1) + "\n")
    print(f"{len(jobs)} trials in {args.out}, {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
