#!/usr/bin/env bash
# The GPU checks of docs/transformer.md ("On a GPU"), in one command on the GPU machine, from the repository root,
# with .gpu carried (benchmarks/gpu/pack.sh makes it here first):
#
#     bash benchmarks/gpu/run.sh                 # MINUTES=3 PRESET=base STEP=1 WORKERS=16
#
# A device call may run 10 minutes, and a session has 15 minutes of device time in all (the machine's start
# included): the defaults aim at about 8 minutes there, an estimate (not yet timed on a GPU).
# 1. bench_gpu_step.py: the preset's training step in fp32 and bf16, eager and compiled, 3 rounds of 3 steps
#    after 2 untimed (STEP_ARGS to change; the two compilations take most of its 2-3 minutes);
# 2. prepares MAESTRO's train and validation pieces from .gpu/maestro.tar.xz and trains the preset on them for
#    MINUTES minutes (bf16 autocast: the preset's precision=auto), validating every VAL_EVERY steps.
# Writes step.txt/json, prepare.txt, train.txt, metrics.jsonl and config.json into $OUT (out/gpu without it).
# Set INSTALL=0 where symusic and MidiTok are installed already, DEVICE=cpu PRESET=tiny LIMIT=40 MINUTES=0.3 for a
# dry run of the whole script on a CPU.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
OUT=${OUT:-$root/out/gpu}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
[ -f .gpu/maestro.tar.xz ] || { echo ".gpu/maestro.tar.xz missing: run benchmarks/gpu/pack.sh MAESTRO here first and carry .gpu" >&2; exit 2; }
if [ "${INSTALL:-1}" = 1 ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/wheels/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$root/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true) > "$OUT/device.txt" 2>&1
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUT/device.txt"
if [ "${STEP:-1}" = 1 ]; then
    $PY benchmarks/bench_gpu_step.py --preset "${PRESET:-base}" ${DEVICE:+--device $DEVICE} ${STEP_ARGS:---rounds 3 --steps 3 --warmup 2} \
        --json "$OUT/step.json" 2>&1 | tee "$OUT/step.txt"
fi
work=${WORK:-/tmp/tunesmith-gpu}
rm -rf "$work" && mkdir -p "$work"
tar -C "$work" -xJf .gpu/maestro.tar.xz || exit 1
$PY -m tunesmith.cli prepare "$work/maestro" --out "$work/data" --workers "${WORKERS:-16}" ${LIMIT:+--limit $LIMIT} -q \
    2>&1 | tee "$OUT/prepare.txt"
seconds=$($PY -c "print(round(float('${MINUTES:-3}') * 60))")
start=$(date +%s)
$PY -m tunesmith.cli train transformer --data "$work/data" --out "$work/run" --preset "${PRESET:-base}" \
    --device "${DEVICE:-cuda}" --max-time "$seconds" --set val_every="${VAL_EVERY:-250}" --set val_max_batches=20 -q \
    > "$OUT/train.txt" 2>&1
status=$?
echo "train: exit $status after $(( $(date +%s) - start )) s" | tee -a "$OUT/train.txt"
tail -5 "$OUT/train.txt"
cp "$work/run/metrics.jsonl" "$work/run/config.json" "$OUT/" 2>/dev/null
grep '"val/' "$OUT/metrics.jsonl" 2>/dev/null | tail -20
exit $status
