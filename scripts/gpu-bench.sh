#!/usr/bin/env bash
# Side-by-side speed check on the GPU machine (torch 2.11.0+cu130, no Swift, no network), after `agr doctor`
# and the PyTorch logits cross-check (agr interop) there:
# runs `agr bench` and shared/bench/torch_reference.py alternately on the same configurations and
# prints a table of ratios torch ms / our ms (above 1: we are faster).
#   first the host cost of one dispatched operation, ours and the peer's; then the issue's targets: PreAct-ResNet-18,
#   PGD-10, batch 128, fp32, AT and AT+AGR (ours flat and per-tensor vs the peer's loop and foreach), AT at batch
#   512, bf16, channels-last, and our per-epoch PGD-20 test evaluation (batch 256, as agr train runs it); then
#   TRADES, MART, AT and AT+AGR channels-last in fp32 (cuDNN's NHWC TF32 kernels may be the faster ones) and the
#   evaluation channels-last; then the kernel-op census and profiler traces; last the summary (ratios, AGR
#   overhead, the 200-epoch projection per layout: scripts/gpu_bench_summary.py).
# Needs a folder made by scripts/build-gpu-carry.sh (the `agr` binary and torch_reference.py).
# Usage: scripts/gpu-bench.sh [carry-dir]
# Environment: TORCH_DIR (torch package folder), PYTHON, STEPS (20), WARMUP (3), ROUNDS (1: each pair once),
#              QUICK=1 (only AT, AT+AGR and the evaluation), GRAPHS (both | off | on: our CUDA-graph rows), CHECK_STEPS (5: steps of
#              the fast-vs-plain loss comparison; 0: none), COUNT_OPS (1: kernel-op census of AT and AT+AGR, ours
#              and the peer's, on the GPU; 0: skip), TRACE (1: profiler traces of AT and AT+AGR, ours and the
#              peer's, and where their time goes; 0: skip), OUT (if set, the log, a JSON summary and the traces
#              are written there), BUDGET_S (seconds the script may take; later sections are skipped rather
#              than cut off: with a device call's limit of 600 s, BUDGET_S=540), CMD_TIMEOUT_S (180: limit of
#              each command), SETS (only these configurations, '|'-separated names as in TARGETS and MORE below),
#              AGR_PATHS (both | flat | per-tensor), OURS_EXTRA (flags added to every `agr bench` of ours, e.g.
#              "--channels-last"), TRACE_FLAGS (flags added to the trace of ours, e.g. "--channels-last"),
#              INTEROP (1: the logits cross-check with PyTorch first; 0: skip it).
# Rehearsal without a GPU: DEVICE=cpu runs every command of the script on the CPU (small images and batches:
# IMAGE_SIZE 8, BATCH_SIZE 4, LARGE_BATCH_SIZE 8, EVAL_BATCH_SIZE 4; the peer through count_torch_ops.py --time,
# no CUDA graphs), so a flag, tag or parsing mistake shows here and not on the GPU machine. Its figures mean nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
CARRY=${1:-carry}
source scripts/gpu-env.sh
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

# Every command runs under a time limit (CMD_TIMEOUT_S, 180 s), so that one that hangs on the GPU (a graph
# recording, say) costs its configuration and not the rest of the device call.
TO=(timeout -k 5 "${CMD_TIMEOUT_S:-180}")
run() {  # run a command, echo its result lines into the log
  echo "+ $*" >&2
  if declare -F "$1" >/dev/null; then "$@"; else "${TO[@]}" "$@"; fi 2>&1 | tee -a "$LOG" \
    | grep -E '^(agr-swift|torch-eager|#|error|warning|Traceback)'
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && echo "# timed out after ${CMD_TIMEOUT_S:-180}s: $*" | tee -a "$LOG"
  return 0
}

echo "# device $DEVICE, image size $IMAGE_SIZE, batch sizes $BS / $BS_LARGE, evaluation batch $EVAL_BS" | tee -a "$LOG"
"$AGR" doctor --device "$DEVICE" 2>&1 | tee -a "$LOG"
"$PY" -c 'import sys, torch; print("torch", torch.__version__, torch.cuda.get_device_name(0) if sys.argv[1] != "cpu" else "cpu")' \
  "$DEVICE" 2>&1 | tee -a "$LOG"

# Host cost of one dispatched operation (on a GPU: dispatch plus launch), ours and PyTorch eager's.
"${TO[@]}" "$AGR" bench --dispatch-overhead --device "$DEVICE" 2>&1 | tee -a "$LOG"
TORCH_REFERENCE="$REF" "${TO[@]}" "$PY" scripts/count_torch_ops.py --dispatch-overhead --device "$DEVICE" 2>&1 \
  | grep -E '^(torch-eager|Traceback|[A-Za-z]*Error)' | tee -a "$LOG"

peer() {  # the PyTorch eager peer: its own script on the GPU; on the CPU its run() through count_torch_ops.py
  if [ "$DEVICE" = cpu ]; then
    TORCH_REFERENCE="$REF" "${TO[@]}" "$PY" scripts/count_torch_ops.py --time --image-size "$IMAGE_SIZE" "$@"
  else
    "${TO[@]}" "$PY" "$REF" "$@"
  fi
}

# Checkpoints written by agr load into PyTorch (strict) and give the same logits, both on this GPU (fp32, TF32 off).
for model in $([ "${INTEROP:-1}" = 1 ] && echo preact18 wrn34-10); do
  dir=$(mktemp -d)
  "${TO[@]}" "$AGR" interop --model "$model" --device "$DEVICE" --output "$dir" 2>&1 | tee -a "$LOG"
  TORCH_REFERENCE="$REF" "${TO[@]}" "$PY" scripts/pytorch_logits.py "$model" "$dir/model.safetensors" "$dir/inputs.safetensors" \
    "$dir/theirs.safetensors" --device "$DEVICE" --compare "$dir/logits.safetensors" 2>&1 | tee -a "$LOG"
done

# name | agr bench flags | torch_reference.py flag sets (';'-separated)
# Ours runs each configuration eagerly and replayed from a CUDA graph (--cuda-graphs both); before timing a
# fast path it compares 5 fp32 steps with the plain path (--check-steps, the correctness guard).
# The issue's targets come first (and then the evaluation the projection needs), so that a run cut short
# still has them; the log is written as it goes and scripts/gpu_bench_summary.py can summarise it anywhere.
G="--cuda-graphs ${GRAPHS:-both} ${OURS_EXTRA:-}"
TARGETS=(
  "at|--method at --agr off --batch-size $BS $G|--method at --batch-size $BS"
  "at+agr|--method at --agr on --agr-path ${AGR_PATHS:-both} --batch-size $BS $G|--method at --agr --agr-style loop --batch-size $BS;--method at --agr --agr-style foreach --batch-size $BS"
  "at bs$BS_LARGE bf16 cl|--method at --agr off --batch-size $BS_LARGE --precision bf16 --channels-last $G|--method at --batch-size $BS_LARGE --bf16 --channels-last"
)
MORE=(
  "trades|--method trades --agr off --batch-size $BS $G|--method trades --batch-size $BS"
  "mart|--method mart --agr off --batch-size $BS $G|--method mart --batch-size $BS"
  "at cl|--method at --agr off --batch-size $BS --channels-last $G|--method at --batch-size $BS --channels-last"
  "at+agr cl|--method at --agr on --batch-size $BS --channels-last $G|--method at --agr --agr-style foreach --batch-size $BS --channels-last"
)
if [ "${QUICK:-0}" = 1 ]; then TARGETS=("${TARGETS[@]:0:2}"); MORE=(); fi
if [ -n "${SETS:-}" ]; then  # only the named configurations, in this order (e.g. SETS="at|at cl|at+agr")
  chosen=()
  IFS='|' read -ra names <<< "$SETS"
  for n in "${names[@]}"; do
    for cfg in "${TARGETS[@]}" "${MORE[@]}"; do [ "${cfg%%|*}" = "$n" ] && chosen+=("$cfg"); done
  done
  TARGETS=("${chosen[@]}"); MORE=()
fi
COMMON="--model preact18 --steps $STEPS --warmup $WARMUP --device $DEVICE --eval-steps 0 --check-steps ${CHECK_STEPS:-5}"

# BUDGET_S: seconds this script may take (0: no limit). A section that would start after BUDGET_S minus
# a reserve for the summary is skipped with a '# skipped' line, so that a run inside a device call's time
# limit still ends with its summary and packed traces instead of being killed midway.
within_budget() {
  if [ "${BUDGET_S:-0}" -gt 0 ] && [ "$SECONDS" -ge $(( BUDGET_S - ${RESERVE_S:-45} )) ]; then
    echo "# skipped (time budget: ${SECONDS}s of ${BUDGET_S}s used): $1" | tee -a "$LOG"
    return 1
  fi
}

pairs() {  # each configuration: ours, then the peer's flag sets
  local cfg name ours theirs sets s
  for cfg in "$@"; do
    IFS='|' read -r name ours theirs <<< "$cfg"
    within_budget "$name" || continue
    echo "== $name (round $round)" | tee -a "$LOG"
    # shellcheck disable=SC2086
    run "$AGR" bench $COMMON "${IMG[@]}" $ours
    IFS=';' read -ra sets <<< "$theirs"
    for s in "${sets[@]}"; do
      # shellcheck disable=SC2086
      run peer --model preact18 --steps "$STEPS" --warmup "$WARMUP" $s
    done
  done
}

evaluation() {  # our per-epoch PGD-20 test evaluation, in the given layouts
  local layout
  echo "== PGD-20 evaluation throughput (ours)" | tee -a "$LOG"
  for layout in "$@"; do
    within_budget "PGD-20 evaluation $layout" || continue
    # shellcheck disable=SC2086
    run "$AGR" bench --model preact18 --eval-only --eval-steps 20 --steps 10 --warmup 2 --batch-size "$EVAL_BS" \
      --device "$DEVICE" $layout $G
  done
}

for round in $(seq 1 "$ROUNDS"); do pairs "${TARGETS[@]}"; done
evaluation ""
for round in $(seq 1 "$ROUNDS"); do pairs "${MORE[@]}"; done
[ "${QUICK:-0}" = 1 ] || evaluation --channels-last

# Kernel-launching operations per step on this GPU, ours and the peer's, counted the same way
# (agr bench --count-ops, scripts/count_torch_ops.py); COUNT_OPS=0 skips it.
if [ "${COUNT_OPS:-1}" = 1 ] && within_budget "operation census"; then
  echo "== operation census ($DEVICE)" | tee -a "$LOG"
  # only the census lines go to the log: the one-step timings of this run must not enter the ratio table
  "${TO[@]}" "$AGR" bench --model preact18 --method at --agr both --batch-size "$BS" --steps 1 --warmup 0 --eval-steps 0 \
    --device "$DEVICE" --count-ops 2>&1 | grep -E '^(#|error)' | tee -a "$LOG"
  for s in "" "--agr --agr-style loop" "--agr --agr-style foreach"; do
    # shellcheck disable=SC2086
    TORCH_REFERENCE="$REF" "${TO[@]}" "$PY" scripts/count_torch_ops.py --device "$DEVICE" --batch-size "$BS" --method at $s 2>&1 \
      | grep -E '^(#|Traceback|[A-Za-z]*Error)' | tee -a "$LOG"
  done
fi

# Where the time goes: profiler traces of 2 AT and AT+AGR steps, ours (eager and graphed) and the peer's, and
# per trace the GPU's busy share and top kernels (scripts/trace_summary.py); TRACE=0 skips it. The traces
# (Chrome trace JSON, gzipped; open in Perfetto) go to $OUT/traces.
if [ "${TRACE:-1}" = 1 ] && within_budget "profiler traces"; then
  echo "== profiler traces ($DEVICE)" | tee -a "$LOG"
  TRACES=${OUT:+$OUT/}traces
  mkdir -p "$TRACES"
  # only the trace lines go to the log: the short timings of this run must not enter the ratio table
  # shellcheck disable=SC2086
  "${TO[@]}" "$AGR" bench --model preact18 --method at --agr both --batch-size "$BS" "${IMG[@]}" --steps 2 --warmup 3 \
    --eval-steps 0 --device "$DEVICE" $G ${TRACE_FLAGS:-} --trace "$TRACES" 2>&1 | grep -E '^(# trace|error)' | tee -a "$LOG"
  for style in "" loop foreach; do
    agr=(); [ -n "$style" ] && agr=(--agr --agr-style "$style")
    TORCH_REFERENCE="$REF" "${TO[@]}" "$PY" scripts/count_torch_ops.py --device "$DEVICE" --batch-size "$BS" "${IMG[@]}" \
      --method at "${agr[@]}" --trace "$TRACES/torch-at${style:++agr-$style}.json" 2>&1 \
      | grep -E '^(# trace|Traceback|[A-Za-z]*Error)' | tee -a "$LOG"
  done
  "$PY" scripts/trace_summary.py "$TRACES"/*.json 2>&1 | sed 's/^/# /' | tee -a "$LOG"
  # packed as two files (ours, the peer's): a device call brings back at most 8 files
  (cd "$TRACES" && for who in agr torch; do
     ls "$who"-*.json >/dev/null 2>&1 && gzip -f "$who"-*.json && tar -cf "../traces-$who.tar" "$who"-*.json.gz
   done)
  rm -rf "$TRACES"
fi

"$PY" scripts/gpu_bench_summary.py "$LOG" ${OUT:+--out "$OUT"}
