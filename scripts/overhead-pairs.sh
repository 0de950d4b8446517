#!/usr/bin/env bash
# overhead-pairs.sh — host µs per op, paired: this build against an earlier
# one (BEFORE=<its build folder>, optional) and, on opencl:0, against a bare
# clEnqueueNDRangeKernel of the same kernel (chorus-launch-peer). Each round
# runs every command once, alternating their order, so drift on a shared
# machine hits both sides of a pair; the medians over ROUNDS are printed.
#   scripts/overhead-pairs.sh [ROUNDS]    (default 11)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-11}
after=build
before=${BEFORE:-}
devices=${DEVICES:-"reference:0 opencl:0 kokkos:0 gpuemu:0"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bench() {  # build device -> "plain prepared" (prepared "-" where the build has none)
  CHORUS_PLUGIN_PATH="$1/test-plugins" "$1/bin/chorus" bench --op overhead --device "$2" 2>/dev/null |
    awk '/host time to submit one op/ { for (i = 1; i < NF; ++i) if ($(i+1) == "us") v = $i
                                        if ($0 ~ /prepared/) p = v; else q = v }
         END { if (p == "") p = "-"; print q, p }'
}
peer() {
  "$after/bin/chorus-launch-peer" opencl 2>/dev/null | sed -n 's/.*: \([0-9.]*\) us host time per launch.*/\1/p'
}

for ((i = 0; i < rounds; ++i)); do
  for d in $devices; do
    if ((i % 2)) && [ -n "$before" ]; then
      echo "$(bench "$before" "$d")" >>"$tmp/before.$d"
      echo "$(bench "$after" "$d")" >>"$tmp/after.$d"
    else
      echo "$(bench "$after" "$d")" >>"$tmp/after.$d"
      [ -n "$before" ] && echo "$(bench "$before" "$d")" >>"$tmp/before.$d"
    fi
    [ "$d" = opencl:0 ] && peer >>"$tmp/peer"
  done
done

/usr/bin/python3 - "$tmp" "$rounds" $devices <<'PY'
import os, statistics, sys
tmp, rounds, devices = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def col(name, i):
    p = os.path.join(tmp, name)
    if not os.path.exists(p): return []
    out = []
    for line in open(p):
        f = line.split()
        if len(f) > i and f[i] not in ("-", ""): out.append(float(f[i]))
    return out
med = lambda v: statistics.median(v) if v else float("nan")
print(f"host us per 1-element add, median of {rounds} paired rounds")
print("| device | before, plain | after, plain | after, prepared | plain after/before (median of pair ratios) |")
print("|---|---:|---:|---:|---:|")
for d in devices:
    bp, ap, aq = col("before." + d, 0), col("after." + d, 0), col("after." + d, 1)
    ratios = [a / b for a, b in zip(ap, bp) if b > 0]
    print(f"| {d} | {med(bp):.2f} | {med(ap):.2f} | {med(aq):.2f} | {med(ratios):.2f} |")
peer = col("peer", 0)
if peer:
    aq = col("after.opencl:0", 1)
    ratios = [a / b for a, b in zip(aq, peer) if b > 0]
    print(f"\nopencl:0 bare clEnqueueNDRangeKernel (chorus-launch-peer): median {med(peer):.2f} us;"
          f" prepared execute / bare enqueue, median of pair ratios: {med(ratios):.2f}")
PY
