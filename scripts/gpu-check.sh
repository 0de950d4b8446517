#!/usr/bin/env bash
# gpu-check.sh — everything that needs an NVIDIA GPU, as one command that
# fits one call of a lent GPU machine (10 minutes a command; what comes back
# is at most 8 files of $OUT). On that machine it
#   1. lists the devices and the machine (nvidia-smi, nvcc);
#   2. times a bare kernel launch (chorus-launch-peer, the peer of the host
#      time of one chorus op);
#   3. runs the conformance suite on cuda:0 (tier full) first: whether the
#      GPU computes correctly matters more than how fast, and a first run
#      on new hardware is where a failure is likeliest;
#   4. runs `chorus bench` on cuda:0 (memory-bound ops at 256 MB, SGEMM at
#      4096³, host µs per op), then SGEMM at 8192³;
#   5. runs bench/torch_peers.py: the same ops through PyTorch eager and
#      SGEMM through cuBLAS, TF32 off, in the same session;
#   6. runs `chorus bench` and the conformance suite (tier ci) on the same
#      GPU through NVIDIA's OpenCL driver, when the machine has it;
#   7. runs a few conformance families under compute-sanitizer's memcheck
#      (out-of-bounds and misaligned accesses), with what is left of the
#      time budget.
# Each step has its own time limit, so one that hangs costs its limit, not
# the call. Output: $OUT/run.log (everything printed) plus the JSON files
# that scripts/perf_report.py turns into docs/perf/<gpu>.md.
#
# Prepare here, on the development machine, a Release build to carry
# (about 10 MB; it is used when it runs there, else the script builds):
#     scripts/gpu-check.sh --prepare
# then, on the GPU machine (carry build-gpu):
#     OUT=/some/dir scripts/gpu-check.sh
# BUILD_DIR (default build-gpu) is the build folder;
# DEVICE (default cuda:0) and TIER (default full) choose the device and the
# conformance tier (CONFORMANCE_OPS, a --op list, narrows it; CONFORMANCE_S,
# default 200, is its limit); STEPS (default all) names the steps to run:
# conformance,bench,torch,gemm8192,opencl,sanitize (SANITIZE_OPS: the --op
# list run under memcheck); BUDGET_S (default 450) is the time the whole run may take;
# PYTHON and TORCH_DEVICE (cuda, or cpu for a dry run) run the PyTorch peers.
set -uo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build-gpu}"

# configure_and_build: a Release build of what the run needs, in $build,
# with run paths relative to the binaries so the folder can travel. The
# OpenCL plugin is built where the OpenCL headers are.
configure_and_build() {
  local extra=()
  # NVIDIA's CUDA images keep the OpenCL headers with the toolkit.
  [ -f /usr/local/cuda/include/CL/cl.h ] && extra+=(-DCHORUS_OPENCL_INCLUDE_DIR=/usr/local/cuda/include)
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCHORUS_BUILD_TESTS=OFF \
    -DCHORUS_BUILD_EXAMPLES=OFF -DCHORUS_BACKEND_KOKKOS=OFF -DCHORUS_BACKEND_HIP=OFF \
    -DCHORUS_WARNINGS_AS_ERRORS=OFF -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON "${extra[@]}" &&
    cmake --build "$build" -j "$(nproc)" --target chorus_cli chorus-cuda chorus-launch-peer &&
    { cmake --build "$build" -j "$(nproc)" --target chorus-opencl 2>&1 | tail -3 || true; }
}

if [ "${1:-}" = "--prepare" ]; then
  configure_and_build || exit 1
  # The OpenCL ICD loader, for a GPU machine that has NVIDIA's OpenCL
  # driver but no loader.
  mkdir -p "$build/ocl"
  for lib in /usr/lib/x86_64-linux-gnu/libOpenCL.so.1 /usr/lib64/libOpenCL.so.1; do
    [ -e "$lib" ] && cp -L "$lib" "$build/ocl/" && break
  done
  du -sh "$build/bin" "$build/lib" "$build/ocl"
  exit 0
fi

out="${OUT:-build/gpu-check}"
dev="${DEVICE:-cuda:0}"
tier="${TIER:-full}"
budget="${BUDGET_S:-450}"
mkdir -p "$out"
started=$SECONDS
step() { echo; echo "== $* (at ${SECONDS}s)"; }
# want NAME: is step NAME among STEPS (default all of conformance, bench,
# torch, gemm8192, opencl, sanitize)? A rerun in the same lease names fewer.
want() { [ "${STEPS:-all}" = all ] || [[ ",$STEPS," == *",$1,"* ]]; }
# limit SECONDS COMMAND...: runs COMMAND for at most SECONDS, never past
# the budget; says so when it had to stop it.
limit() {
  local s=$1 left=$((budget - (SECONDS - started)))
  shift
  [ "$s" -gt "$left" ] && s=$left
  if [ "$s" -lt 10 ]; then
    echo "** skipped (time budget spent): $*"
    return 124
  fi
  timeout --signal=INT --kill-after=15 "$s" "$@"
  local rc=$?
  [ $rc -eq 124 ] && echo "** stopped after ${s}s: $*"
  return $rc
}

run() {
conformance_rc=0
step machine
date -u
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>&1
nvcc --version 2>&1 | tail -2
git log -1 --format='chorus commit %H %s' 2>/dev/null

step build
if ! "$build/bin/chorus" version > /dev/null 2>&1; then
  echo "no carried build that runs here: building in build-gpu-here"
  build=build-gpu-here
  BUILD_DIR=$build limit 300 scripts/gpu-check.sh --prepare > "$build.log" 2>&1 ||
    { tail -40 "$build.log"; return 1; }
fi
chorus="$build/bin/chorus"
"$chorus" version
export CHORUS_CACHE_DIR="$PWD/$build/kernel-cache"

# NVIDIA's OpenCL driver, if the machine has one: the ICD loader finds it
# through an .icd file of our own (nothing is written outside the tree).
icd=$(ls /usr/local/nvidia/lib64/libnvidia-opencl.so.1 /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 \
  /usr/lib64/libnvidia-opencl.so.1 2>/dev/null | head -1)
if [ -n "$icd" ]; then
  mkdir -p "$build/icd" && echo "$icd" > "$build/icd/nvidia.icd"
  export OCL_ICD_VENDORS="$PWD/$build/icd"
  ldconfig -p | grep -q libOpenCL.so.1 || export LD_LIBRARY_PATH="$PWD/$build/ocl:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

step devices
limit 60 "$chorus" devices

step bare launch
limit 60 "$build/bin/chorus-launch-peer" "${dev%%:*}" --device "${dev##*:}" --json "$out/launch.json"

if want conformance; then
step "conformance on $dev, tier $tier"
limit "${CONFORMANCE_S:-200}" "$chorus" conformance --device "$dev" --tier "$tier" ${CONFORMANCE_OPS:+--op "$CONFORMANCE_OPS"} --json "$out/conformance.json" \
  --markdown "$build/conformance.md" | tail -40
conformance_rc=${PIPESTATUS[0]}
fi

if want bench; then
step "chorus bench on $dev"
limit 100 "$chorus" bench --device "$dev" --mb 256 --gemm 4096 --reps 11 --json "$out/bench-cuda-4096.json"
fi

if want torch; then
step "PyTorch and cuBLAS peers"
PYTHONUNBUFFERED=1 limit 100 "${PYTHON:-python3}" bench/torch_peers.py --device "${TORCH_DEVICE:-cuda}" --mb 256 --gemm 4096,8192 --pool-batch 8 --conv-batch 8 --index --json "$out/torch.json"
fi

if want gemm8192; then
step "chorus SGEMM at 8192 on $dev"
limit 60 "$chorus" bench --device "$dev" --mb 256 --op gemm,overhead --gemm 8192 --reps 5 \
  --json "$out/bench-cuda-8192.json"
fi

if want opencl; then
step "chorus bench through OpenCL on the same GPU"
ocl=$("$chorus" devices 2>/dev/null | grep -E '^ +opencl:[0-9]+ .*NVIDIA' | grep -o 'opencl:[0-9]*' | head -1)
if [ -n "$ocl" ]; then
  limit 90 "$chorus" bench --device "$ocl" --mb 256 --gemm 4096 --reps 11 --json "$out/bench-opencl.json"
  # The same kernel text through NVIDIA's OpenCL compiler: the suite, tier ci.
  limit "${OPENCL_CONFORMANCE_S:-120}" "$chorus" conformance --device "$ocl" --tier ci \
    --json "$out/conformance-opencl.json" | tail -12
else
  echo "no NVIDIA OpenCL device here (driver library: ${icd:-none found})"
fi
fi

if want sanitize; then
step "compute-sanitizer memcheck over the kernels with the most index arithmetic, tier ci"
san=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -1)
if [ -n "$san" ]; then
  limit 120 "$san" --tool memcheck --error-exitcode 9 --print-limit 20 "$chorus" conformance --device "$dev" \
    --tier ci --op "${SANITIZE_OPS:-conv2d,conv2d_backward_data,conv2d_backward_weight,pool2d,pool2d_backward,cross_entropy,batch_norm,gemm}" | tail -25
  echo "compute-sanitizer exit ${PIPESTATUS[0]}"
else
  echo "no compute-sanitizer here"
fi
fi

step "done in $((SECONDS - started))s; conformance exit $conformance_rc"
ls -l "$out"
return "$conformance_rc"
}

# Everything printed goes to run.log as well; the exit status is the
# conformance run's.
run 2>&1 | tee -a "$out/run.log"
exit "${PIPESTATUS[0]}"
