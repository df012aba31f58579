# Sourced by the GPU scripts (gpu-bench.sh, gpu-cifar10-short.sh) with CARRY set: finds the machine's torch
# (TORCH_DIR, else the GPU machine's preinstalled one) for LD_LIBRARY_PATH, sets AGR to the carried
# binary, unpacking agr.gz (see build-gpu-carry.sh) when that is how it came, and points agr at the
# carried CUDA graphs library. PY: $PYTHON, else that torch's Python, else python3.
T=${TORCH_DIR:-/opt/torch/.venv/lib/python3.12/site-packages/torch}
export LD_LIBRARY_PATH="$T/lib:$T/../nvidia/cu13/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
AGR="$CARRY/agr"
if [ ! -x "$AGR" ] && [ -f "$CARRY/agr.gz" ]; then
  AGR=$(mktemp -d)/agr && gunzip -c "$CARRY/agr.gz" > "$AGR" && chmod +x "$AGR"
fi
[ -x "$AGR" ] || { echo "$AGR missing: run scripts/build-gpu-carry.sh here first and carry $CARRY" >&2; exit 1; }
if [ -f "$CARRY/libctorch_cuda_graphs.so" ]; then
  AGR_CUDA_GRAPHS_LIBRARY="$(cd "$CARRY" && pwd)/libctorch_cuda_graphs.so"
  export AGR_CUDA_GRAPHS_LIBRARY
fi
PY=${PYTHON:-$(cd "$T/../../../.." 2>/dev/null && pwd)/bin/python3}
[ -x "$PY" ] || PY=python3
