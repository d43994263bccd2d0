#!/usr/bin/env bash
# =================================================================================================
# The pipeline's own stages on a GPU, in a throwaway copy of this repo (nothing here is touched):
#   (1) which of the stages' imports this machine has (torch + CUDA, dvc, dvclive, pandas, ...);
#   (2) with dvc: `dvc repro` of the whole pipeline at a GPU-sized setting (CIFAR-shaped synthetic
#       data, 32 x 32, width 64, augment on), then `dvc metrics show`, then a cutoff change and
#       `dvc repro` again, which must rerun no train stage (the stage list printed is checked);
#       without dvc but with dvclive: each train stage's command as dvc.yaml states it;
#       with neither: says so and exits 3 (the GPU check of train_curve alone is bench/gpu_check.sh).
#   Each curve artifact must hold every epoch with finite losses, and the stage's timings file
#   (metrics/train/<arch>.json) must name the device it was asked to run on.
#
#   bench/gpu_pipeline_check.sh               # on the GPU machine; fails without CUDA
#   bench/gpu_pipeline_check.sh --cpu-smoke   # the same steps at tiny shapes on the CPU (tests)
#
# Overrides (environment): EPOCHS (10), N_TRAIN (50000), WIDTH (64).
# DVC_SITE=FILE.tar.xz, for an offline GPU host without dvc: a tarball of one folder made on a machine
#   with the registry by `pip install --target DIR --python-version 3.X --only-binary=:all:
#   --platform manylinux2014_x86_64 -c requirements.lock dvc dvclive` (sdist-only dependencies built
#   with `pip wheel` and given by --find-links); unpacked in the throwaway folder, put on PYTHONPATH,
#   and `dvc` runs as `python3 -m dvc`.
# =================================================================================================
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD

HELP_END=22
source bench/gpu_args.sh
if [[ $SMOKE == 1 ]]; then
    export OMP_NUM_THREADS=1 CUDA_VISIBLE_DEVICES=""
    EPOCHS=${EPOCHS:-8} N_TRAIN=${N_TRAIN:-256} N_TEST=128 SIZE=8 WIDTH=${WIDTH:-4} BATCH=64 DEVICE=cpu
else
    EPOCHS=${EPOCHS:-10} N_TRAIN=${N_TRAIN:-50000} N_TEST=10000 SIZE=32 WIDTH=${WIDTH:-64} BATCH=512 DEVICE=cuda
fi
export EPOCHS N_TRAIN N_TEST SIZE WIDTH BATCH DEVICE

echo "=== gpu_pipeline_check $([[ $SMOKE == 1 ]] && echo '--cpu-smoke ')($(date -u +%FT%TZ))"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/bin" "$TMP/repo" "$TMP/site"
if [[ -n ${DVC_SITE:-} ]]; then  # dvc and dvclive for an offline host, unpacked here only
    tar -C "$TMP/site" -xJf "$DVC_SITE"
    SITE=$(find "$TMP/site" -mindepth 1 -maxdepth 1 -type d | head -1)
    export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
    printf '#!/bin/sh\nexec %s -m dvc "$@"\n' "$PY" >"$TMP/bin/dvc" && chmod +x "$TMP/bin/dvc"
fi
# dvc.yaml's commands say `python`; a GPU image may have only python3
command -v python >/dev/null || ln -s "$(command -v "$PY")" "$TMP/bin/python"
export PATH=$TMP/bin:$PATH

# from /, so that the repo's dvclive/ output folder does not pass for the dvclive package
HAVE=$(cd / && "$PY" - <<'EOF'
import importlib.util, os, sys
import torch
cuda = torch.cuda.is_available()
print(f"python {sys.version.split()[0]}; torch {torch.__version__}, cuda {torch.version.cuda}", file=sys.stderr)
if os.environ["DEVICE"] == "cuda":
    if not cuda:
        sys.exit("gpu_pipeline_check: no CUDA device (use --cpu-smoke on a CPU)")
    print(f"device: {torch.cuda.get_device_name(0)}", file=sys.stderr)
wanted = ("dvc", "dvclive", "pandas", "matplotlib", "yaml", "sklearn")
have = [m for m in wanted if importlib.util.find_spec(m)]
print(f"importable: {', '.join(have)}; missing: {', '.join(m for m in wanted if m not in have) or 'none'}",
      file=sys.stderr)
print(" ".join(have))
EOF
)
has() { [[ " $HAVE " == *" $1 "* ]]; }
if ! has dvclive || ! has yaml; then
    echo "gpu_pipeline_check: the train stage needs dvclive and pyyaml, which this machine lacks; nothing run" \
         "(DVC_SITE= brings them to an offline host: see the header)" >&2
    exit 3
fi

# a copy of the project's own files: git's list where there is one, else the tree without build outputs
if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$REPO" ls-files -z --cached --others --exclude-standard | (cd "$REPO" && xargs -0 cp --parents -t "$TMP/repo")
else
    tar -C "$REPO" --exclude=./.venv --exclude=./.dvc/cache --exclude=./.lcpipe --exclude=./data/curves \
        --exclude=./data/prepared -cf - . | tar -C "$TMP/repo" -xf -
fi
cd "$TMP/repo"
export PYTHONPATH=$TMP/repo${PYTHONPATH:+:$PYTHONPATH}  # the copy's lcpipe, installed or not
rm -rf data/curves data/prepared data/params_ok .lcpipe dvclive metrics/train
"$PY" - <<'EOF'
import os
import yaml
p = yaml.safe_load(open("params.yaml"))
e = os.environ
p["data"].update(dataset="synthetic", synthetic_train=int(e["N_TRAIN"]), synthetic_test=int(e["N_TEST"]),
                 synthetic_size=int(e["SIZE"]))
p["train"].update(epochs=int(e["EPOCHS"]), width=int(e["WIDTH"]), batch_size=int(e["BATCH"]), lr=0.2,
                  augment=True, schedule="cosine", warmup_epochs=1)
cut = max(5, int(e["EPOCHS"]) // 2)  # predict.cutoff >= features.window + 1
p["predict"]["cutoff"] = cut
p["sweep"]["cutoffs"] = sorted({5, cut, int(e["EPOCHS"]) - 1})
p["lstm"]["steps"] = 100
yaml.safe_dump(p, open("params.yaml", "w"), sort_keys=False)
print(f"params: synthetic {e['N_TRAIN']} x 3 x {e['SIZE']} x {e['SIZE']}, width {e['WIDTH']}, {e['EPOCHS']} epochs, "
      f"batch {e['BATCH']}, augment on; predict.cutoff {cut}")
EOF

check_curves() {
    "$PY" - <<'EOF'
import json, math, os, sys
import pandas as pd
bad = []
for arch in ("resnet34", "resnet50", "plain34", "plain50"):
    df = pd.read_csv(f"data/curves/{arch}.csv")
    timing = json.load(open(f"metrics/train/{arch}.json"))  # wall times and the device the stage ran on
    finite = all(math.isfinite(v) for c in ("train_loss", "test_loss") for v in df[c])
    on = timing["device"].split(":")[0] == os.environ["DEVICE"]
    ok = len(df) == int(os.environ["EPOCHS"]) and finite and on
    secs = sorted(timing["epoch_seconds"])
    print(f"  {arch}: {len(df)} epochs on {timing['device']}, final test_acc {df['test_acc'].iloc[-1]:.4f}, "
          f"losses finite {finite}, median epoch {secs[len(secs) // 2]:.2f} s (first {timing['epoch_seconds'][0]:.2f} s)")
    bad += [] if ok else [arch]
if bad:
    sys.exit(f"curve check FAILED for {bad}")
EOF
}

if has dvc; then
    git init -q . && git add -A >/dev/null && git -c user.email=c@c -c user.name=check commit -qm base
    echo
    echo "=== dvc repro (the whole pipeline)"
    start=$SECONDS
    dvc repro >"$TMP/repro.log" 2>&1 || { tail -30 "$TMP/repro.log" >&2; echo "dvc repro FAILED" >&2; exit 1; }
    grep -E "^Running stage" "$TMP/repro.log" | tr '\n' ' '; echo
    echo "dvc repro: $((SECONDS - start)) s"
    check_curves
    "$PY" - <<'PYEOF'
import json
m = json.load(open("metrics/evaluate.json"))
print("metrics/evaluate.json (Plain-50 forecast from its first", m.get("cutoff"), "epochs): " + ", ".join(
    f"{k} rmse {v['rmse']:.4f}" for k, v in m.items() if isinstance(v, dict) and "rmse" in v))
PYEOF
    echo
    echo "=== predict.cutoff change: dvc repro must rerun no train stage"
    "$PY" - <<'EOF'
import yaml
p = yaml.safe_load(open("params.yaml"))
p["predict"]["cutoff"] += 1
yaml.safe_dump(p, open("params.yaml", "w"), sort_keys=False)
EOF
    start=$SECONDS
    dvc repro >"$TMP/repro2.log" 2>&1 || { tail -30 "$TMP/repro2.log" >&2; echo "dvc repro FAILED" >&2; exit 1; }
    ran=$(grep -E "^Running stage" "$TMP/repro2.log" || true)
    echo "$ran"
    echo "second dvc repro: $((SECONDS - start)) s"
    if grep -q "train@" <<<"$ran"; then echo "FAILED: a cutoff change retrained" >&2; exit 1; fi
else
    echo
    echo "=== no dvc here: the prepare and train stages' commands as dvc.yaml states them"
    start=$SECONDS
    "$PY" stages/check_params.py --out data/params_ok
    "$PY" stages/prepare.py --out data/prepared/dataset.npz
    for arch in resnet34 resnet50 plain34 plain50; do
        "$PY" stages/train.py --arch "$arch" --prepared data/prepared/dataset.npz --out-dir data/curves \
            --checkpoint-dir .lcpipe/checkpoints --live-dir dvclive --timings-dir metrics/train
    done
    echo "train stages: $((SECONDS - start)) s"
    check_curves
fi
echo "gpu_pipeline_check: ok in ${SECONDS}s"
