#!/usr/bin/env bash
# Sets up the project (scripts/setup.sh) and runs the whole test suite on the CPU.
# Tests run one at a time: some measure process-wide state (live tensor count, memory).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build
# Real CIFAR-10 for the loader tests, built from the shared archive (they are skipped without it).
scripts/get-cifar10.sh || echo "test: warning: no CIFAR-10 binaries; the CIFAR-10 loader test will be skipped" >&2
# The CUDA graphs library cannot be loaded without a GPU; building it checks that it still compiles.
scripts/build-cuda-graphs.sh
# The same for the NCCL library; the tests of its loading code read it from .build/nccl.
scripts/build-nccl.sh
# The project keeps zero compiler warnings (Swift and the C++ shim): a warning in its own sources fails the run.
# In CI (a fresh clone, everything compiled) that covers every file; the release build of agr is checked there too.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
check_warnings() {  # WHAT
  local found
  found=$(grep -E "^($PWD/)?(Sources|Tests)/[^:]*:[0-9]+:[0-9]+: warning:" "$log" | sort -u || true)
  if [ -n "$found" ]; then
    echo "test: error: the $1 build has compiler warnings (the project keeps none):" >&2
    echo "$found" >&2
    exit 1
  fi
}
if [ "${CI:-}" = true ] || [ "${AGR_CHECK_RELEASE:-}" = 1 ]; then
  swift build -c release --product agr >"$log" 2>&1 || { grep -vE '^\[[0-9]+/[0-9]+\]' "$log" >&2; exit 1; }
  check_warnings release
fi
swift build --build-tests >"$log" 2>&1 || { grep -vE '^\[[0-9]+/[0-9]+\]' "$log" >&2; exit 1; }
grep -vE '^\[[0-9]+/[0-9]+\]' "$log" || true
check_warnings test
swift test --skip-build --no-parallel "$@"
