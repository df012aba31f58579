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
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
swift test --skip-build --no-parallel "$@"
