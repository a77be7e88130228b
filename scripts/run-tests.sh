#!/usr/bin/env bash
# Builds UniRank Studio and runs the whole test suite with CTest (release preset).
# Extra arguments go to ctest, e.g. `scripts/run-tests.sh -L unit` or `-LE slow`.
# UNIRANK_TEST_PRESET=asan runs the same suite built with AddressSanitizer + UBSan (every test there
# also carries the label `asan`): `UNIRANK_TEST_PRESET=asan .ci/run`.
# Idempotent; installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${UNIRANK_TEST_PRESET:-release}
case "$preset" in
  release|debug|asan) ;;
  *) echo "run-tests: UNIRANK_TEST_PRESET must be release, debug or asan (not '$preset')" >&2; exit 2 ;;
esac
scripts/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset"
ctest --preset "$preset" "$@"
