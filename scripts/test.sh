#!/usr/bin/env bash
# test.sh — builds and runs every test: the default build's unit and
# conformance tests, then the same tests under AddressSanitizer and
# UndefinedBehaviorSanitizer (leak checking on). Set CHORUS_SKIP_SANITIZE=1 to
# run only the first part.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs="$(nproc)"

cmake --preset default
cmake --build --preset default -j "$jobs"
ctest --preset default -j "$jobs"

if [ "${CHORUS_SKIP_SANITIZE:-0}" != "1" ]; then
  cmake --preset sanitize
  cmake --build --preset sanitize -j "$jobs"
  ctest --preset sanitize -j "$jobs"
fi
