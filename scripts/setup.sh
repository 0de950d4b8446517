#!/usr/bin/env bash
# setup.sh — the main job on a fresh Debian 12 machine: install what is
# missing, build, list the devices, run the conformance suite on every usable
# device, and run the examples.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default
cmake --build --preset default -j "$(nproc)"
build/bin/chorus devices
build/bin/chorus conformance --device all --tier ci --json build/conformance.json --markdown build/conformance.md
build/bin/chorus_example_mlp_c
build/bin/chorus_example_mlp_cpp
echo "setup: done (conformance report: build/conformance.md)"
