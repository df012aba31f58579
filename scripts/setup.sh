#!/usr/bin/env bash
# Sets up everything this project needs on a fresh machine, then builds the `agr` tool.
# Idempotent: a second run only checks and rebuilds what changed.
#   scripts/setup.sh             venv + pinned libtorch + Fashion-MNIST + release build of agr
#   scripts/setup.sh --no-build  the same without the build (the test script builds its own)
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0
CUDA_RUNTIME="cuda-toolkit[cudart,cupti,crt,cccl]==13.0.2"
# Headers only, for the NCCL library (scripts/build-nccl.sh): nccl.h from the NCCL wheel torch 2.11.0 pins,
# and the cuBLAS, cuSPARSE and cuSOLVER headers that c10d's ProcessGroupNCCL.hpp includes (their libraries,
# ~1 GB, are only needed on GPU machines, which have them with torch).
HEADER_WHEELS="nvidia-nccl-cu13==2.28.9 nvidia-cublas==13.1.0.3.* nvidia-cusolver==12.0.4.66.* nvidia-cusparse==12.6.3.3.*"
FASHION_DIR=/usr/share/datasets/fashion-mnist
build=1
[ "${1:-}" = "--no-build" ] && build=0

die() { echo "setup: error: $*" >&2; exit 1; }
say() { echo "setup: $*"; }

command -v python3 >/dev/null || die "python3 is not installed (Debian: apt-get install python3 python3-venv)"
command -v swift >/dev/null || die "no Swift toolchain on PATH (this project needs Swift 6.0 or later)"

if [ ! -x .venv/bin/python ]; then
  say "creating the project venv in .venv"
  python3 -m venv .venv || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
fi
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

# libtorch comes from the PyPI wheel; its Python dependencies (sympy, triton, the CUDA wheels, ...) are not
# needed for C++ use, so torch is installed with --no-deps on purpose. pip would then report every one of
# them as a "dependency conflict" after each install: --no-warn-conflicts keeps that (expected) report quiet.
if ! grep -qs "__version__ = '$TORCH_VERSION" "$site/torch/version.py" || [ ! -f "$site/torch/lib/libtorch_cpu.so" ]; then
  say "installing torch==$TORCH_VERSION (libtorch C++ libraries, ~530 MB)"
  .venv/bin/pip install -q --disable-pip-version-check --no-warn-conflicts --no-deps "torch==$TORCH_VERSION" \
    || die "pip could not install torch==$TORCH_VERSION: PyPI must be reachable"
fi
# libtorch_cpu.so links against two small CUDA runtime libraries, even on CPU-only machines; the CUDA
# headers (cudart, crt, cccl) compile the CUDA graphs and NCCL libraries (scripts/build-cuda-graphs.sh,
# scripts/build-nccl.sh).
if [ ! -f "$site/nvidia/cu13/lib/libcudart.so.13" ] || [ ! -f "$site/nvidia/cu13/lib/libcupti.so.13" ] \
  || [ ! -f "$site/nvidia/cu13/include/crt/host_config.h" ] || [ ! -f "$site/nvidia/cu13/include/nv/target" ]; then
  say "installing the CUDA runtime libraries and headers ($CUDA_RUNTIME)"
  .venv/bin/pip install -q --disable-pip-version-check --no-warn-conflicts "$CUDA_RUNTIME" \
    || die "pip could not install $CUDA_RUNTIME: PyPI must be reachable"
fi
if [ ! -f "$site/nvidia/nccl/include/nccl.h" ] || [ ! -f "$site/nvidia/cu13/include/cusparse.h" ] \
  || [ ! -f "$site/nvidia/cu13/include/cublas_v2.h" ] || [ ! -f "$site/nvidia/cu13/include/cusolverDn.h" ]; then
  say "installing the headers of NCCL, cuBLAS, cuSPARSE and cuSOLVER (for scripts/build-nccl.sh; ~900 MB download)"
  wheels=$(mktemp -d)
  # shellcheck disable=SC2086
  .venv/bin/pip download -q --disable-pip-version-check --no-deps -d "$wheels" $HEADER_WHEELS \
    || { rm -rf "$wheels"; die "pip could not download $HEADER_WHEELS: PyPI must be reachable"; }
  for wheel in "$wheels"/*.whl; do
    python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist() if "/include/" in n])' "$wheel" "$site" \
      || { rm -rf "$wheels"; die "could not unpack the headers of $wheel"; }
  done
  rm -rf "$wheels"
fi
ln -sfn "${site#"$PWD/"}/torch" .libtorch

# Fashion-MNIST (the default dataset of `agr train`) is a Debian package.
if [ ! -f "$FASHION_DIR/train-images-idx3-ubyte.gz" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Fashion-MNIST (Debian package dataset-fashion-mnist)"
    { apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; }; } \
      || die "apt-get could not install dataset-fashion-mnist"
  else
    echo "setup: warning: Fashion-MNIST is missing; as root run: apt-get install dataset-fashion-mnist" >&2
  fi
fi

# Build-time libraries from Debian: zlib (gzipped dataset files) and libjpeg-turbo (Tiny ImageNet),
# the latter linked statically into agr so that the binary carried to a GPU machine needs neither.
need_debian_package() {  # PACKAGE FILE WHAT
  [ "$(uname -s)" = Linux ] && [ ! -f "$2" ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $3 (Debian package $1)"
    { apt-get install -y -qq "$1" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$1" >/dev/null 2>&1; }; } \
      || die "apt-get could not install $1"
  else
    die "$3 missing ($2); as root run: apt-get install $1"
  fi
}
need_debian_package zlib1g-dev /usr/include/zlib.h "the zlib headers"
need_debian_package libjpeg62-turbo-dev /usr/include/jpeglib.h "the libjpeg-turbo headers and static library"

if [ "$build" = 1 ]; then
  say "building agr (release)"
  if ! log=$(swift build -c release --product agr 2>&1); then
    echo "$log" | grep -vE '^\[[0-9]+/[0-9]+\]' >&2
    die "the release build of agr failed (see the messages above)"
  fi
  echo "$log" | grep -vE '^\[[0-9]+/[0-9]+\]' || true
  # libctorch_nccl.so (data-parallel CUDA ranks) is opened only on GPU machines; agr finds it beside itself.
  scripts/build-nccl.sh .build/release >/dev/null || die "the NCCL library did not build (scripts/build-nccl.sh)"
  say "ready: .build/release/agr (and .build/release/libctorch_nccl.so for CUDA ranks)"
fi
