#!/usr/bin/env bash
# Side-by-side speed check on the GPU machine (torch 2.11.0+cu130, no Swift, no network), after `agr doctor`
# and the PyTorch logits cross-check (agr interop) there:
# runs `agr bench` and shared/bench/torch_reference.py alternately on the same configurations and
# prints a table of ratios torch ms / our ms (above 1: we are faster).
#   PreAct-ResNet-18, PGD-10, batch 128, fp32: AT, AT+AGR (ours flat and per-tensor vs torch loop
#   and foreach), TRADES, MART; AT and AT+AGR channels-last (fp32, TF32 convolutions: cuDNN's NHWC kernels may
#   be the faster ones); then AT at batch 512, bf16, channels-last; then our per-epoch PGD-20 test evaluation
#   (batch 256, as agr train runs it; contiguous and channels-last); then the 200-epoch projection and the census.
# Needs a folder made by scripts/build-gpu-carry.sh (the `agr` binary and torch_reference.py).
# Usage: scripts/gpu-bench.sh [carry-dir]
# Environment: TORCH_DIR (torch package folder), PYTHON, STEPS (20), WARMUP (3), ROUNDS (1: each pair once),
#              QUICK=1 (only AT and AT+AGR), GRAPHS (both | off | on: our CUDA-graph rows), CHECK_STEPS (5: steps of
#              the fast-vs-plain loss comparison; 0: none), COUNT_OPS (1: kernel-op census of AT and AT+AGR, ours
#              and the peer's, on the GPU; 0: skip), OUT (if set, the log and a JSON summary are written there).
# Rehearsal without a GPU: DEVICE=cpu runs every command of the script on the CPU (small images and batches:
# IMAGE_SIZE 8, BATCH_SIZE 4, LARGE_BATCH_SIZE 8, EVAL_BATCH_SIZE 4; the peer through count_torch_ops.py --time,
# no CUDA graphs), so a flag, tag or parsing mistake shows here and not on the GPU machine. Its figures mean nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
CARRY=${1:-carry}
source scripts/gpu-env.sh
PY=${PYTHON:-$(cd "$T/../../../.." 2>/dev/null && pwd)/bin/python3}
[ -x "$PY" ] || PY=python3
STEPS=${STEPS:-20}; WARMUP=${WARMUP:-3}; ROUNDS=${ROUNDS:-1}; DEVICE=${DEVICE:-cuda}
if [ "$DEVICE" = cpu ]; then
  IMAGE_SIZE=${IMAGE_SIZE:-8}; BS=${BATCH_SIZE:-4}; BS_LARGE=${LARGE_BATCH_SIZE:-8}; EVAL_BS=${EVAL_BATCH_SIZE:-4}
  GRAPHS=${GRAPHS:-off}
else
  IMAGE_SIZE=${IMAGE_SIZE:-32}; BS=${BATCH_SIZE:-128}; BS_LARGE=${LARGE_BATCH_SIZE:-512}; EVAL_BS=${EVAL_BATCH_SIZE:-256}
fi
IMG=(); [ "$IMAGE_SIZE" != 32 ] && IMG=(--image-size "$IMAGE_SIZE")
REF="$CARRY/torch_reference.py"
[ -f "$REF" ] || { echo "$REF missing" >&2; exit 1; }
LOG=${OUT:+$OUT/}gpu-bench.log
: > "$LOG"

run() {  # run a command, echo its result lines into the log
  echo "+ $*" >&2
  "$@" 2>&1 | tee -a "$LOG" | grep -E '^(agr-swift|torch-eager|#|error|warning|Traceback)' || true
}

echo "# device $DEVICE, image size $IMAGE_SIZE, batch sizes $BS / $BS_LARGE, evaluation batch $EVAL_BS" | tee -a "$LOG"
"$AGR" doctor --device "$DEVICE" 2>&1 | tee -a "$LOG"
"$PY" -c 'import sys, torch; print("torch", torch.__version__, torch.cuda.get_device_name(0) if sys.argv[1] != "cpu" else "cpu")' \
  "$DEVICE" 2>&1 | tee -a "$LOG"

# Host cost of one dispatched operation (on a GPU: dispatch plus launch), ours and PyTorch eager's.
"$AGR" bench --dispatch-overhead --device "$DEVICE" 2>&1 | tee -a "$LOG"
TORCH_REFERENCE="$REF" "$PY" scripts/count_torch_ops.py --dispatch-overhead --device "$DEVICE" 2>&1 \
  | grep -E '^(torch-eager|Traceback|[A-Za-z]*Error)' | tee -a "$LOG"

peer() {  # the PyTorch eager peer: its own script on the GPU; on the CPU its run() through count_torch_ops.py
  if [ "$DEVICE" = cpu ]; then
    TORCH_REFERENCE="$REF" "$PY" scripts/count_torch_ops.py --time --image-size "$IMAGE_SIZE" "$@"
  else
    "$PY" "$REF" "$@"
  fi
}

# Checkpoints written by agr load into PyTorch (strict) and give the same logits, both on this GPU (fp32, TF32 off).
for model in preact18 wrn34-10; do
  dir=$(mktemp -d)
  "$AGR" interop --model "$model" --device "$DEVICE" --output "$dir" 2>&1 | tee -a "$LOG"
  TORCH_REFERENCE="$REF" "$PY" scripts/pytorch_logits.py "$model" "$dir/model.safetensors" "$dir/inputs.safetensors" \
    "$dir/theirs.safetensors" --device "$DEVICE" --compare "$dir/logits.safetensors" 2>&1 | tee -a "$LOG"
done

# name | agr bench flags | torch_reference.py flag sets (';'-separated)
# Ours runs each configuration eagerly and replayed from a CUDA graph (--cuda-graphs both); before timing a
# fast path it compares 5 fp32 steps with the plain path (--check-steps, the correctness guard).
G="--cuda-graphs ${GRAPHS:-both}"
CONFIGS=(
  "at|--method at --agr off --batch-size $BS $G|--method at --batch-size $BS"
  "at+agr|--method at --agr on --agr-path both --batch-size $BS $G|--method at --agr --agr-style loop --batch-size $BS;--method at --agr --agr-style foreach --batch-size $BS"
  "trades|--method trades --agr off --batch-size $BS $G|--method trades --batch-size $BS"
  "mart|--method mart --agr off --batch-size $BS $G|--method mart --batch-size $BS"
  "at cl|--method at --agr off --batch-size $BS --channels-last $G|--method at --batch-size $BS --channels-last"
  "at+agr cl|--method at --agr on --batch-size $BS --channels-last $G|--method at --agr --agr-style foreach --batch-size $BS --channels-last"
  "at bs$BS_LARGE bf16 cl|--method at --agr off --batch-size $BS_LARGE --precision bf16 --channels-last $G|--method at --batch-size $BS_LARGE --bf16 --channels-last"
)
[ "${QUICK:-0}" = 1 ] && CONFIGS=("${CONFIGS[@]:0:2}")
COMMON="--model preact18 --steps $STEPS --warmup $WARMUP --device $DEVICE --eval-steps 0 --check-steps ${CHECK_STEPS:-5}"
for round in $(seq 1 "$ROUNDS"); do
  for cfg in "${CONFIGS[@]}"; do
    IFS='|' read -r name ours theirs <<< "$cfg"
    echo "== $name (round $round)" | tee -a "$LOG"
    # shellcheck disable=SC2086
    run "$AGR" bench $COMMON "${IMG[@]}" $ours
    IFS=';' read -ra sets <<< "$theirs"
    for s in "${sets[@]}"; do
      # shellcheck disable=SC2086
      run peer --model preact18 --steps "$STEPS" --warmup "$WARMUP" $s
    done
  done
done
echo "== PGD-20 evaluation throughput (ours)" | tee -a "$LOG"
for layout in "" --channels-last; do
  # shellcheck disable=SC2086
  run "$AGR" bench --model preact18 --eval-only --eval-steps 20 --steps 10 --warmup 2 --batch-size "$EVAL_BS" \
    --device "$DEVICE" $layout $G
done

# Kernel-launching operations per step on this GPU, ours and the peer's, counted the same way
# (agr bench --count-ops, scripts/count_torch_ops.py); COUNT_OPS=0 skips it.
if [ "${COUNT_OPS:-1}" = 1 ]; then
  echo "== operation census ($DEVICE)" | tee -a "$LOG"
  # only the census lines go to the log: the one-step timings of this run must not enter the ratio table
  "$AGR" bench --model preact18 --method at --agr both --batch-size "$BS" --steps 1 --warmup 0 --eval-steps 0 \
    --device "$DEVICE" --count-ops 2>&1 | grep -E '^(#|error)' | tee -a "$LOG"
  for s in "" "--agr --agr-style loop" "--agr --agr-style foreach"; do
    # shellcheck disable=SC2086
    TORCH_REFERENCE="$REF" "$PY" scripts/count_torch_ops.py --device "$DEVICE" --batch-size "$BS" --method at $s 2>&1 \
      | grep -E '^(#|Traceback|[A-Za-z]*Error)' | tee -a "$LOG"
  done
fi

"$PY" - "$LOG" "${OUT:-}" "$BS" "$EVAL_BS" "$IMAGE_SIZE" <<'PYEOF'
import json, re, sys, collections
log, out, bs, eval_bs, image_size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
img = f" img={image_size}" if image_size != 32 else ""
pat = re.compile(r'^(agr-swift|torch-eager(?:-cpu)?) (.+?): ([0-9.]+) ms/(?:step|batch) ([0-9.]+) img/s ([0-9.]+) s/')
ours, torch = collections.defaultdict(list), collections.defaultdict(list)
for line in open(log):
    m = pat.match(line.strip())
    if not m: continue
    who, tag, ms = m.group(1), m.group(2), float(m.group(3))
    (ours if who == 'agr-swift' else torch)[tag].append(ms)
def base(tag): return re.sub(r'\+agr/\S+', '+agr', tag).replace(' cuda-graphs', '')
med = lambda v: sorted(v)[len(v) // 2]
rows = []
for ttag, tv in torch.items():
    for otag, ov in ours.items():
        if base(otag) == base(ttag):
            rows.append((ttag, otag, med(tv), med(ov), med(tv) / med(ov)))
print()
w = max([44] + [len(t) for t, *_ in rows] + [len(o) for _, o, *_ in rows])
print(f"{'torch eager':{w}} {'ours':{w}} {'torch ms':>9} {'our ms':>8} {'ratio':>6}")
for t, o, tm, om, r in rows:
    print(f"{t:{w}} {o:{w}} {tm:9.1f} {om:8.1f} {r:6.2f}")
for otag, ov in ours.items():
    if 'eval' in otag: print(f"ours only: {otag}: {med(ov):.1f} ms/batch")
print("ratio = torch ms / our ms (above 1: ours is faster); medians over rounds")
# AGR overhead of ours over our plain AT, same batch/precision/graph setting.
print()
for otag, ov in ours.items():
    if '+agr/' not in otag: continue
    plain = re.sub(r'\+agr/\S+', '', otag)
    if plain in ours:
        print(f"AGR overhead (ours): {otag} vs {plain}: {100 * (med(ov) / med(ours[plain]) - 1):+.1f}%")
# The paper's CIFAR-10 recipe projected from these figures: 200 epochs of 391 steps at batch 128, AT for
# epochs 1-154 and AT+AGR (flat) for 155-200, and a PGD-20 evaluation of the 10,000 test images each epoch
# (in a rehearsal with other batch sizes: 50,000 / batch steps per epoch).
for layout in ('', ' channels_last'):
    for graphs in ('', ' cuda-graphs'):
        at, agr = (f"preact18 at bs={bs} fp32{layout}{graphs}{img}", f"preact18 at+agr/flat bs={bs} fp32{layout}{graphs}{img}")
        evaluation = f"preact18 pgd20-eval bs={eval_bs} fp32{layout}{graphs}"
        if at in ours and agr in ours and evaluation in ours:
            steps = -(-50000 // bs) * (154 * med(ours[at]) + 46 * med(ours[agr])) / 1000
            ev = 200 * med(ours[evaluation]) * 10000 / eval_bs / 1000
            print(f"projection, 200 epochs (AT+AGR from 155){layout}{graphs or ' eager'}: {(steps + ev) / 60:.1f} min "
                  f"({steps / 60:.1f} training + {ev / 60:.1f} PGD-20 evaluation)")
if out:
    json.dump([dict(torch=t, ours=o, torch_ms=tm, our_ms=om, ratio=r) for t, o, tm, om, r in rows],
              open(out + '/gpu-bench.json', 'w'), indent=1)
PYEOF
