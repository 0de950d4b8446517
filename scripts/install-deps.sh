#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages chorus needs that are not
# there yet (as root, or through sudo). Safe to run again: it installs nothing
# when everything is present.
set -euo pipefail
# OpenCL backend: headers to build, PoCL (a CPU OpenCL) to run and test it;
# CLBlast and OpenBLAS only for the SGEMM peers in bench/, oneDNN only for
# the convolution peer (chorus_bench_conv_peers). Kokkos for the
# Kokkos backend. HIP: its headers build the HIP plugin, and its hiprtc
# compiles every kernel for gfx90a and gfx1030 in CI (no AMD GPU needed).
# NVRTC comes with the CUDA toolkit in /usr/local/cuda, which Debian does
# not package; without it the sm_* kernel checks are skipped. clang-14
# checks the OpenCL kernel text as strict OpenCL C 1.2 (`chorus kernels
# check --target opencl-c`: what NVIDIA's OpenCL compiler refuses).
packages=(g++ cmake make catch2 opencl-headers ocl-icd-opencl-dev pocl-opencl-icd libclblast-dev
          libopenblas-dev libdnnl-dev libtrilinos-kokkos-dev libamdhip64-dev clang-14)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
