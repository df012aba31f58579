#!/usr/bin/env bash
# Builds libctorch_cuda_graphs.so (Sources/CTorchCUDAGraphs/graphs.cpp): CUDA graphs for `agr`
# (--cuda-graphs). It links libtorch_cuda.so, which only GPU machines can load, so it is not part of
# the Swift package; agr opens it on first use from beside its binary or $AGR_CUDA_GRAPHS_LIBRARY.
# Builds here (CPU machine) against the pinned torch wheel and its CUDA headers (scripts/setup.sh).
# Usage: scripts/build-cuda-graphs.sh [output-dir]   (default .build/cuda-graphs)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-.build/cuda-graphs}
T=.libtorch
CU=$T/../nvidia/cu13
[ -f "$T/lib/libtorch_cuda.so" ] || { echo "build-cuda-graphs: $T/lib/libtorch_cuda.so missing: run scripts/setup.sh" >&2; exit 1; }
[ -f "$CU/include/crt/host_config.h" ] || { echo "build-cuda-graphs: CUDA headers missing in $CU/include: run scripts/setup.sh" >&2; exit 1; }
CXX=${CXX:-c++}
mkdir -p "$OUT"
# -DNDEBUG as libtorch is built: its headers' classes must have the same members on both sides.
"$CXX" -std=c++17 -O2 -fPIC -shared -w -D_GLIBCXX_USE_CXX11_ABI=1 -DNDEBUG \
  -I"$T/include" -I"$T/include/torch/csrc/api/include" -I"$CU/include" \
  Sources/CTorchCUDAGraphs/graphs.cpp -o "$OUT/libctorch_cuda_graphs.so" \
  -L"$T/lib" -ltorch_cuda -lc10_cuda -ltorch_cpu -lc10 -L"$CU/lib" -l:libcudart.so.13 -Wl,--allow-shlib-undefined
for f in ctg_new ctg_free ctg_side_stream_enter ctg_side_stream_exit ctg_capture_begin ctg_capture_end ctg_replay; do
  nm -D --defined-only "$OUT/libctorch_cuda_graphs.so" | grep -q " $f\$" \
    || { echo "build-cuda-graphs: $f missing from the library" >&2; exit 1; }
done
echo "built $OUT/libctorch_cuda_graphs.so"
