#!/usr/bin/env bash
# =================================================================================================
# One GPU check of lcpipe's training path, sized for <= 8 minutes on one H200:
#   (a) train_curve: ResNet-50, width 64, CIFAR-shaped synthetic data (lcpipe.training.data.synthetic(0,
#       50000, 10000, 32)), 2 epochs, augment on; every loss must be finite; prints the epoch lines.
#   (c) host syncs: how many times lcpipe.training.loop.train_one_epoch makes the host wait for the GPU
#       (torch.cuda.set_sync_debug_mode); it should be a few per epoch, none per step.
#       Diagnostic only, never a failure.
#   (b) throughput, images/s per arch, by bench/train_throughput.py: ours bf16 and ours fp32 vs the
#       torchvision-reference-style loop (one interleaved run, all archs), then ours bf16 +
#       torch.compile (one process per arch, --no-reference, while the time budget allows:
#       BUDGET_S, default 420 s since the start; an arch that does not fit is reported as skipped).
#       BENCH_N images (default 10240 = 20 batches of 512: img/s does not depend on n once an
#       epoch has a few dozen steps, and divisible by the batch so torch.compile sees one shape).
#       Last: one merged table.
#
#   bench/gpu_check.sh               # on the GPU machine; fails without CUDA
#   bench/gpu_check.sh --cpu-smoke   # the same steps with tiny shapes on the CPU (< 2 min; tests)
#
# Overrides (environment): ARCHS, BENCH_N, REPEATS, COMPILE_ARCHS, BUDGET_S.
# --cpu-smoke sets OMP_NUM_THREADS=1: on a small CPU shared with other work two OpenMP threads per
# op wait on each other's descheduled thread (an epoch ~100x slower), so one thread is the stable
# choice there. Exits non-zero on any failure.
# =================================================================================================
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HELP_END=24
source bench/gpu_args.sh

if [[ $SMOKE == 1 ]]; then
    export OMP_NUM_THREADS=1
    DEVICE=cpu
    A_N=256 A_NTEST=128 A_SIZE=8 A_WIDTH=4 A_EPOCHS=1 A_BATCH=64
    ARCHS=${ARCHS:-resnet34,plain50}
    BENCH_N=${BENCH_N:-256} SIZE=8 WIDTH=4 BATCH=64 REPEATS=${REPEATS:-1}
    VARIANTS=fp32,bf16   # the first is what lcpipe uses on this device (no autocast on the CPU)
    COMPILE_ARCHS=""
else
    DEVICE=cuda
    A_N=50000 A_NTEST=10000 A_SIZE=32 A_WIDTH=64 A_EPOCHS=2 A_BATCH=512
    ARCHS=${ARCHS:-resnet34,resnet50,plain34,plain50}
    BENCH_N=${BENCH_N:-10240} SIZE=32 WIDTH=64 BATCH=512 REPEATS=${REPEATS:-3}
    VARIANTS=bf16,fp32   # bf16 autocast is what train_curve uses on CUDA
    COMPILE_ARCHS=${COMPILE_ARCHS:-resnet50,resnet34,plain50,plain34}
fi
BUDGET_S=${BUDGET_S:-420}
FAILED=""
export DEVICE A_N A_NTEST A_SIZE A_WIDTH A_EPOCHS A_BATCH

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "=== gpu_check $([[ $SMOKE == 1 ]] && echo '--cpu-smoke ')($(date -u +%FT%TZ))"
"$PY" - <<'EOF'
import os, sys, torch
cuda = torch.cuda.is_available()
print(f"python {sys.version.split()[0]} ({sys.executable}); torch {torch.__version__}, "
      f"cuda {torch.version.cuda}, cudnn {torch.backends.cudnn.version() if cuda else None}")
if os.environ["DEVICE"] == "cuda":
    if not cuda:
        sys.exit("gpu_check: no CUDA device (use --cpu-smoke on a CPU)")
    p = torch.cuda.get_device_properties(0)
    print(f"device: {torch.cuda.get_device_name(0)}, {p.total_memory / 2**30:.0f} GiB, "
          f"{p.multi_processor_count} SMs; {os.cpu_count()} CPU cores")
else:
    print(f"device: cpu, {torch.get_num_threads()} intra-op threads, {os.cpu_count()} cores")
EOF

echo
echo "=== (a) train_curve resnet50 width $A_WIDTH, synthetic $A_N x 3 x $A_SIZE x $A_SIZE, $A_EPOCHS epochs, augment on"
"$PY" - <<'EOF'
import math, os, sys, time
import torch
from lcpipe.training import data
from lcpipe.config import TrainParams
from lcpipe.training.loop import train_curve

e = {k: int(os.environ[k]) for k in ("A_N", "A_NTEST", "A_SIZE", "A_WIDTH", "A_EPOCHS", "A_BATCH")}
start = time.perf_counter()
ds = data.synthetic(0, e["A_N"], e["A_NTEST"], e["A_SIZE"])
r = TrainParams(epochs=e["A_EPOCHS"], width=e["A_WIDTH"], batch_size=e["A_BATCH"], augment=True)
rows = train_curve("resnet50", ds, r, device=torch.device(os.environ["DEVICE"]),
                   log=lambda line: print(line, flush=True))
bad = [row for row in rows if not all(math.isfinite(row[k]) for k in ("train_loss", "test_loss"))]
if len(rows) != e["A_EPOCHS"] or bad:
    sys.exit(f"(a) FAILED: {len(rows)} epochs, non-finite loss in {bad}")
print(f"(a) ok: final train_loss {rows[-1]['train_loss']:.4f} (finite), "
      f"{time.perf_counter() - start:.1f}s including data")
EOF

echo
echo "=== (c) host syncs in lcpipe.training.loop.train_one_epoch"
if [[ $SMOKE == 1 ]]; then
    echo "(c) skipped: needs CUDA"
else
    "$PY" - <<'EOF'
import time, warnings
import torch
from lcpipe.training import data
from lcpipe.training.nets import build_net
from lcpipe.training.loop import Dist, to_device, train_one_epoch

dev = torch.device("cuda")
torch.backends.cudnn.benchmark = True


def count_syncs(fn, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn(*args)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


ds = data.synthetic(0, 10240, 1, 32)
x, y, _, _ = to_device(ds, dev)
for arch, width, batch in (("resnet50", 64, 512), ("resnet18", 16, 128)):
    torch.manual_seed(0)
    model = build_net(arch, 10, 3, width).to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    args = (model, opt, x, y, batch, torch.Generator().manual_seed(0), True, Dist(), True)
    train_one_epoch(*args)  # warm-up: cudnn autotune
    syncs = count_syncs(train_one_epoch, *args)
    torch.cuda.synchronize()
    t = time.perf_counter()
    train_one_epoch(*args)
    torch.cuda.synchronize()
    print(f"(c) {arch} width {width} batch {batch} ({10240 // batch} steps): {syncs} host syncs per epoch "
          f"(target: a handful per epoch, none per step); {time.perf_counter() - t:.3f} s/epoch", flush=True)
EOF
fi

echo
echo "=== (b) throughput: ours ($VARIANTS) vs reference, $ARCHS, n $BENCH_N, size $SIZE, width $WIDTH, batch $BATCH, repeats $REPEATS"
"$PY" bench/train_throughput.py --device "$DEVICE" --archs "$ARCHS" --n "$BENCH_N" --size "$SIZE" \
    --width "$WIDTH" --batch-size "$BATCH" --repeats "$REPEATS" --variants "$VARIANTS" \
    --json "$TMP/main.json"

if [[ -z $COMPILE_ARCHS ]]; then
    echo "(b) torch.compile: skipped ($([[ $SMOKE == 1 ]] && echo '--cpu-smoke' || echo 'COMPILE_ARCHS empty'))"
fi
for arch in ${COMPILE_ARCHS//,/ }; do
    left=$((BUDGET_S - SECONDS))
    if ((left < 90)); then
        echo "(b) torch.compile $arch: skipped, ${left}s of the ${BUDGET_S}s budget left"
        continue
    fi
    echo "--- (b) ours bf16+compile, $arch (at most ${left}s)"
    rc=0
    timeout --kill-after=15 "$left" "$PY" bench/train_throughput.py --device "$DEVICE" \
        --archs "$arch" --n "$BENCH_N" --size "$SIZE" --width "$WIDTH" --batch-size "$BATCH" \
        --repeats "$REPEATS" --variants bf16+compile --no-reference --json "$TMP/compile_$arch.json" \
        || rc=$?
    if ((rc == 124 || rc == 137)); then
        echo "(b) torch.compile $arch: stopped at the time budget, skipped"
    elif ((rc != 0)); then
        echo "(b) torch.compile $arch FAILED (exit $rc); the table still follows, then exit 1" >&2
        FAILED="$FAILED compile:$arch"
    fi
done

echo
echo "=== images/s per arch (n $BENCH_N, ${SIZE}x${SIZE}, width $WIDTH, batch $BATCH; median of $REPEATS epochs)"
"$PY" - "$TMP" <<'EOF'
import json, sys
from pathlib import Path

tmp = Path(sys.argv[1])
main = json.loads((tmp / "main.json").read_text())["results"]
compiled = {}
for f in tmp.glob("compile_*.json"):
    compiled.update({a: r["ours bf16+compile"] for a, r in json.loads(f.read_text())["results"].items()})
fmt = lambda v: "-" if v is None else f"{v:.1f}"
ratio = lambda a, b: "-" if a is None or b is None else f"{a / b:.2f}x"
header = ["arch", "reference fp32", "ours fp32", "ours bf16", "ours bf16+compile",
          "fp32/ref", "bf16/ref", "bf16/fp32", "compile/eager"]
rows = []
for arch, r in main.items():
    ref, f32, b16, comp = r["reference"], r.get("ours fp32"), r.get("ours bf16"), compiled.get(arch)
    rows.append([arch, fmt(ref), fmt(f32), fmt(b16), fmt(comp), ratio(f32, ref), ratio(b16, ref),
                 ratio(b16, f32), ratio(comp, b16)])
widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
for row in [header, *rows]:
    print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
print("('-': not measured; compile runs in its own process, see above)")
EOF
echo
if [[ -n $FAILED ]]; then
    echo "gpu_check: FAILED:$FAILED (${SECONDS}s)" >&2
    exit 1
fi
echo "gpu_check: ok in ${SECONDS}s"
