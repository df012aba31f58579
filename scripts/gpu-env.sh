# Sourced by the GPU scripts (gpu-bench.sh, gpu-cifar10-short.sh) with CARRY set: finds the machine's torch
# (TORCH_DIR, else the GPU machine's preinstalled one) for LD_LIBRARY_PATH, and sets AGR to the carried
# binary, unpacking agr.gz (see build-gpu-carry.sh) when that is how it came.
T=${TORCH_DIR:-/opt/torch/.venv/lib/python3.12/site-packages/torch}
export LD_LIBRARY_PATH="$T/lib:$T/../nvidia/cu13/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
AGR="$CARRY/agr"
if [ ! -x "$AGR" ] && [ -f "$CARRY/agr.gz" ]; then
  AGR=$(mktemp -d)/agr && gunzip -c "$CARRY/agr.gz" > "$AGR" && chmod +x "$AGR"
fi
[ -x "$AGR" ] || { echo "$AGR missing: run scripts/build-gpu-carry.sh here first and carry $CARRY" >&2; exit 1; }
