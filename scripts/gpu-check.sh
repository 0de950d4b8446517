#!/usr/bin/env bash
# gpu-check.sh — everything that needs an NVIDIA GPU, in one run, for a
# machine that has one (and cmake, g++, the CUDA driver and toolkit, and
# PyTorch): builds chorus, lists the devices, runs the conformance suite on
# cuda:0 (tier full), `chorus bench` on cuda:0 and on the same GPU through
# OpenCL when NVIDIA's OpenCL driver is there, and the PyTorch/cuBLAS peers,
# all writing into OUT (default build/gpu-check). docs/perf/h100.md is
# written from these files.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-build/gpu-check}"
mkdir -p "$out"
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nvcc --version | tail -2; } \
  > "$out/machine.txt" 2>&1
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCHORUS_BUILD_TESTS=OFF > "$out/configure.log" 2>&1
cmake --build build-gpu -j "$(nproc)" --target chorus_cli chorus-cuda chorus-opencl > "$out/build.log" 2>&1 \
  || { tail -40 "$out/build.log"; exit 1; }
export CHORUS_CACHE_DIR="$PWD/build-gpu/kernel-cache"
build-gpu/bin/chorus devices | tee "$out/devices.txt"
build-gpu/bin/chorus conformance --device cuda:0 --tier "${TIER:-full}" \
  --json "$out/conformance-cuda.json" --markdown "$out/conformance-cuda.md" | tail -25
build-gpu/bin/chorus bench --device cuda:0 --mb 256 --gemm 4096 --reps 11 --json "$out/bench-cuda-4096.json" \
  | tee "$out/bench-cuda.md"
build-gpu/bin/chorus bench --device cuda:0 --mb 256 --op gemm,overhead --gemm 8192 --reps 5 \
  --json "$out/bench-cuda-8192.json" | tee -a "$out/bench-cuda.md"
if build-gpu/bin/chorus devices | grep -q "opencl:.*NVIDIA"; then
  dev=$(build-gpu/bin/chorus devices | grep -o "opencl:[0-9]*" | head -1)
  build-gpu/bin/chorus bench --device "$dev" --mb 256 --gemm 4096 --reps 11 --json "$out/bench-opencl.json" \
    | tee "$out/bench-opencl.md"
fi
python3 bench/torch_peers.py --mb 256 --gemm 4096,8192 --json "$out/torch.json" | tee "$out/torch.md"
