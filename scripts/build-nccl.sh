#!/usr/bin/env bash
# Builds libctorch_nccl.so (Sources/CTorchNCCL/nccl.cpp): c10d's ProcessGroupNCCL for data-parallel CUDA
# ranks (agr train --dist-backend nccl, the default for CUDA ranks). It links libtorch_cuda.so, which only
# GPU machines can load, so it is not part of the Swift package; agr opens it on first use from beside
# its binary or $AGR_NCCL_LIBRARY. Builds here (CPU machine) against the pinned torch wheel, its CUDA
# headers and the nccl.h of nvidia-nccl-cu13 (the version torch 2.11.0 pins; scripts/setup.sh installs both).
# Usage: scripts/build-nccl.sh [output-dir]   (default .build/nccl)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-.build/nccl}
T=.libtorch
CU=$T/../nvidia/cu13
NCCL=$T/../nvidia/nccl
[ -f "$T/lib/libtorch_cuda.so" ] || { echo "build-nccl: $T/lib/libtorch_cuda.so missing: run scripts/setup.sh" >&2; exit 1; }
[ -f "$CU/include/crt/host_config.h" ] || { echo "build-nccl: CUDA headers missing in $CU/include: run scripts/setup.sh" >&2; exit 1; }
[ -f "$NCCL/include/nccl.h" ] || { echo "build-nccl: nccl.h missing in $NCCL/include (the nvidia-nccl-cu13 wheel): run scripts/setup.sh" >&2; exit 1; }
CXX=${CXX:-c++}
mkdir -p "$OUT"
# -DNDEBUG and USE_C10D_NCCL as libtorch is built: its headers' classes must have the same members on both sides.
"$CXX" -std=c++17 -O2 -fPIC -shared -w -D_GLIBCXX_USE_CXX11_ABI=1 -DNDEBUG -DUSE_C10D_NCCL -DUSE_CUDA \
  -I"$T/include" -I"$T/include/torch/csrc/api/include" -I"$CU/include" -I"$NCCL/include" \
  Sources/CTorchNCCL/nccl.cpp -o "$OUT/libctorch_nccl.so" \
  -L"$T/lib" -ltorch_cuda -lc10_cuda -ltorch_cpu -lc10 -L"$CU/lib" -l:libcudart.so.13 -Wl,--allow-shlib-undefined
for f in ctn_process_group_new ctn_nccl_version; do
  nm -D --defined-only "$OUT/libctorch_nccl.so" | grep -q " $f\$" \
    || { echo "build-nccl: $f missing from the library" >&2; exit 1; }
done
echo "built $OUT/libctorch_nccl.so"
