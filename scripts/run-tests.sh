#!/usr/bin/env bash
# Builds UniRank Studio (release preset) and runs the whole test suite with CTest.
# Extra arguments go to ctest, e.g. `scripts/run-tests.sh -L unit` or `-LE slow`.
# Idempotent; installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release
cmake --build --preset release
ctest --preset release "$@"
