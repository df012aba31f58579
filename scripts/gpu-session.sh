#!/usr/bin/env bash
# Everything one device call measures, inside its 10-minute limit: scripts/gpu-bench.sh within BENCH_BUDGET_S
# (ratios, AGR overhead, projections, census, traces), then in the time left of TOTAL_S a short real CIFAR-10
# run of the paper's recipe (scripts/gpu-cifar10-short.sh: AT epochs, then AT+AGR from the last third, PGD-20 on
# the test subset each epoch), whose measured epoch times check the projection, in the fastest fp32
# configuration of the bench whose fast paths passed their checks (scripts/gpu_train_flags.py). Results come
# back in at most 8 files (a device call's limit): session.log, gpu-bench.log, gpu-bench.json, traces-agr.tar, traces-torch.tar,
# cifar10-short.tar.gz (logs and metrics, no checkpoints).
# Usage: OUT=$OUT scripts/gpu-session.sh [carry-dir]
# Environment: TOTAL_S (570), BENCH_BUDGET_S (380), EPOCHS (3), METHODS (at+agr), TEST_SUBSET (2000),
#              PGD_EXAMPLES (2000), AA_EXAMPLES (200), PYTHON; others as gpu-bench.sh and gpu-cifar10-short.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
CARRY=${1:-carry}
TOTAL_S=${TOTAL_S:-570}; BENCH_BUDGET_S=${BENCH_BUDGET_S:-380}
OUT=${OUT:-gpu-session}
mkdir -p "$OUT"
exec > >(tee "$OUT/session.log") 2>&1

OUT="$OUT" BUDGET_S="$BENCH_BUDGET_S" scripts/gpu-bench.sh "$CARRY"

left=$(( TOTAL_S - SECONDS - 20 ))
if [ "$left" -lt 90 ]; then
  echo "# skipped the short CIFAR-10 run: ${left}s left of ${TOTAL_S}s"
  exit 0
fi
# the fastest fp32 AT configuration of the bench whose fast paths passed the check (scripts/gpu_train_flags.py)
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || PY=/opt/torch/.venv/bin/python3
flags=$("$PY" scripts/gpu_train_flags.py "$OUT/gpu-bench.log" 2>/dev/null)
echo "== short CIFAR-10 run (${left}s left; agr train flags: ${flags:-none})"
RUNS=$(mktemp -d)
OUT="$RUNS" TRAIN_FLAGS="$flags" EPOCHS="${EPOCHS:-3}" METHODS="${METHODS:-at+agr}" TEST_SUBSET="${TEST_SUBSET:-2000}" \
  PGD_EXAMPLES="${PGD_EXAMPLES:-2000}" AA_EXAMPLES="${AA_EXAMPLES:-200}" \
  timeout -k 5 "$left" scripts/gpu-cifar10-short.sh "$CARRY"
rc=$?
[ "$rc" = 124 ] || [ "$rc" = 137 ] && echo "# the short CIFAR-10 run was stopped at ${left}s"
tar -czf "$OUT/cifar10-short.tar.gz" -C "$RUNS" --exclude='*.safetensors' .
echo "# session done in ${SECONDS}s"
