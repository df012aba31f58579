#!/usr/bin/env bash
# A two-machine data-parallel run shown on one Linux machine: two network namespaces joined by a veth
# pair (10.77.0.1 and 10.77.0.2) stand for two machines on a network, each with its own loopback and
# address; node 0 also serves the rendezvous. Each runs `agr train --nnodes 2 --node-rank K
# --nproc-per-node 1` (LAUNCHER=agr, the default) or the same through torchrun (LAUNCHER=torchrun with
# TORCHRUN=/path/to/torchrun). Then the result is compared with a 2-rank run on this machine's loopback:
# the same job, so the same weights, bit for bit.
# Needs root (ip netns). Usage: scripts/two-node-netns.sh OUTPUT_DIR [agr train flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/two-node-netns.sh OUTPUT_DIR [agr train flags...]}
shift
AGR=${AGR:-$PWD/.build/release/agr}
LAUNCHER=${LAUNCHER:-agr}
PORT=${PORT:-29431}
flags=("$@")
# one thread per rank in both runs: CPU kernels sum in an order that depends on the thread count
export OMP_NUM_THREADS=1
[ ${#flags[@]} -gt 0 ] || flags=(--dataset fashion-mnist --model smallcnn --dropout 0 --method trades --agr
  --train-subset 512 --test-subset 200 --epochs 2 --batch-size 64 --attack-steps 3 --eval-steps 3)

cleanup() { ip netns del agr-node0 2>/dev/null || true; ip netns del agr-node1 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add agr-node0
ip netns add agr-node1
ip link add agr-veth0 type veth peer name agr-veth1
ip link set agr-veth0 netns agr-node0
ip link set agr-veth1 netns agr-node1
ip -n agr-node0 addr add 10.77.0.1/24 dev agr-veth0
ip -n agr-node1 addr add 10.77.0.2/24 dev agr-veth1
for n in 0 1; do ip -n agr-node$n link set lo up; ip -n agr-node$n link set agr-veth$n up; done
echo "node 0: $(ip -n agr-node0 -brief addr show agr-veth0)"
echo "node 1: $(ip -n agr-node1 -brief addr show agr-veth1)"

mkdir -p "$out"
node() {
  local rank=$1
  if [ "$LAUNCHER" = torchrun ]; then
    ip netns exec agr-node$rank "${TORCHRUN:?set TORCHRUN to a torchrun}" --no-python --nnodes 2 --node-rank "$rank" \
      --nproc-per-node 1 --master-addr 10.77.0.1 --master-port "$PORT" \
      "$AGR" train "${flags[@]}" --output "$out/two-nodes"
  else
    ip netns exec agr-node$rank "$AGR" train "${flags[@]}" --nnodes 2 --node-rank "$rank" --nproc-per-node 1 \
      --master-addr 10.77.0.1 --master-port "$PORT" --output "$out/two-nodes"
  fi
}
node 0 > "$out/node0.log" 2>&1 &
first=$!
node 1 > "$out/node1.log" 2>&1 &
second=$!
status=0
wait $first || status=$?
wait $second || status=$?
tail -n 4 "$out/node0.log"
[ $status -eq 0 ] || { echo "two-node run failed ($status):"; cat "$out/node1.log"; exit $status; }

echo "the same job as 2 ranks on this machine's loopback:"
"$AGR" train "${flags[@]}" --nproc-per-node 2 --output "$out/one-node" > "$out/one-node.log" 2>&1
if cmp -s "$out/two-nodes/last.safetensors" "$out/one-node/last.safetensors"; then
  echo "last.safetensors: identical (two nodes over veth vs one node over loopback)"
else
  echo "last.safetensors: DIFFERENT"; exit 1
fi
