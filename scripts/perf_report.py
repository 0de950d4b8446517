#!/usr/bin/env python3
"""perf_report.py — the Markdown of docs/perf/<gpu>.md from one run of
scripts/gpu-check.sh: its folder holds run.log and the JSON files that the
run wrote (bench-cuda-4096.json, bench-cuda-8192.json, torch.json,
launch.json, bench-opencl.json, conformance.json; any may be missing, and
the report says so). Every ratio compares figures measured in that one run.

    scripts/perf_report.py RUN_DIR > docs/perf/h200.md

The targets are those of the CUDA/HIP issue and ../shared/PERFORMANCE.md:
memory-bound ops at >= 80% of the copy bandwidth measured in the same run,
SGEMM on the portable path at >= 50% of cuBLAS, and the host time of one
chorus op at most 2 us over a bare kernel launch.
"""
import json
import os
import re
import sys

MEMORY_OPS = ["add", "exp", "sum", "softmax", "layer_norm", "rms_norm"]


def load(folder, name):
    path = os.path.join(folder, name)
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def by_op(bench, op):
    """The first result of `op` in a bench or torch JSON, or None."""
    if not bench:
        return None
    for r in bench.get("results", []):
        if r["op"] == op:
            return r
    return None


def gemm_at(benches, size):
    shape = f"{size}x{size}x{size}"
    for b in benches:
        for r in (b or {}).get("results", []):
            if r["op"] == "gemm" and r["shape"] == shape:
                return r
    return None


def fmt(value, spec, missing="—"):
    return missing if value is None else format(value, spec)


def pct(fraction, target):
    """"85% met" against a target fraction, or "—"."""
    if fraction is None:
        return "—"
    return f"{100 * fraction:.0f}% " + ("met" if fraction >= target else "**missed**")


def same(c, peer):
    """The peer's result when it measured the same shape as chorus."""
    return peer if c and peer and peer["shape"] == c["shape"] else None


def verdict(ok):
    return "—" if ok is None else ("met" if ok else "**missed**")


def section_machine(log):
    """The lines of run.log's machine step (date, nvidia-smi, nvcc, commit)."""
    lines, inside = [], False
    for line in log.splitlines():
        if line.startswith("== "):
            if inside:
                break
            inside = line.startswith("== machine")
            continue
        if inside and line.strip():
            lines.append(line.strip())
    return lines


def report(folder):
    log = ""
    try:
        with open(os.path.join(folder, "run.log")) as f:
            log = f.read()
    except OSError:
        pass
    cuda = load(folder, "bench-cuda-4096.json")
    cuda8k = load(folder, "bench-cuda-8192.json")
    torch = load(folder, "torch.json")
    ocl = load(folder, "bench-opencl.json")
    launch = load(folder, "launch.json")
    conf = load(folder, "conformance.json")
    out = []
    w = out.append
    name = (cuda or {}).get("description") or (torch or {}).get("device") or "the GPU"
    w(f"# chorus on {name}\n")
    w("Written by `scripts/perf_report.py` from one run of `scripts/gpu-check.sh`: every ratio "
      "below compares figures measured in that run, on the same GPU.\n")
    w("## Machine and commands\n")
    w("```")
    out.extend(section_machine(log) or ["(run.log missing)"])
    w("```")
    if cuda:
        w(f"- chorus {cuda.get('chorus_version')}: {cuda.get('driver_version')}, "
          f"{cuda.get('compiler_version')}")
    if torch:
        w(f"- peer: PyTorch {torch.get('torch')} (CUDA {torch.get('cuda')}), SGEMM by cuBLAS "
          "through torch.matmul with TF32 off")
    w("- commands (scripts/gpu-check.sh): `chorus bench --device cuda:0 --mb 256 --gemm 4096 "
      "--reps 11`; `chorus bench --device cuda:0 --mb 256 --op gemm,overhead --gemm 8192 "
      "--reps 5`; `python3 bench/torch_peers.py --mb 256 --gemm 4096,8192`; "
      "`chorus-launch-peer cuda`; `chorus bench --device opencl:N ...` (NVIDIA's OpenCL); "
      "`chorus conformance --device cuda:0 --tier TIER`\n")

    w("## Conformance\n")
    m = re.search(r"^== conformance on (\S+), tier (\w+)", log, re.M)
    conf_dev, tier = (m.group(1), m.group(2)) if m else ("cuda:0", "full")
    if conf:
        s = conf["summary"]
        d = conf["device"]
        w(f"`chorus conformance --device {conf_dev} --tier {tier}` on {d['description']} "
          f"({d['driver_version']}, {d['compiler_version']}): **{s['pass']} pass, {s['fail']} fail, "
          f"{s['unsupported']} unsupported, {s['skipped']} skipped**.")
        if conf.get("interrupted"):
            w("\nThe run was stopped at its time limit: the skipped cases were never run, and "
              "the suite is not passed until they are.")
        failed = [r for r in conf["results"] if r["status"] in ("fail", "unsupported")]
        if failed:
            w("\n| case | status | worst error / bound | reproducer |\n|---|---|---:|---|")
            for r in failed[:40]:
                w(f"| {r['name']} | {r['status']} | {fmt(r.get('worst_error_over_bound'), '.3g')} | "
                  f"`{r['reproducer']}` |")
            if len(failed) > 40:
                w(f"\n... and {len(failed) - 40} more in conformance.json")
        w("")
    else:
        w("No conformance.json in this run (the step did not finish).\n")
    san = re.search(r"^compute-sanitizer exit (\d+)", log, re.M)
    if san:
        errors = re.search(r"ERROR SUMMARY: (\d+) error", log)
        w(f"Under `compute-sanitizer --tool memcheck` (tier ci, the families with the most index "
          f"arithmetic: scripts/gpu-check.sh's SANITIZE_OPS): exit {san.group(1)}, "
          f"{errors.group(1) if errors else '?'} errors.\n")

    w("## Memory-bound ops\n")
    copy = cuda.get("copy_bandwidth_gbs") if cuda else None
    tcopy = torch.get("copy_bandwidth_gbs") if torch else None
    ocopy = ocl.get("copy_bandwidth_gbs") if ocl else None
    w(f"Copy bandwidth measured in this run (bytes read + written): chorus CUDA "
      f"{fmt(copy, '.0f')} GB/s, PyTorch {fmt(tcopy, '.0f')} GB/s, chorus OpenCL "
      f"{fmt(ocopy, '.0f')} GB/s. Working set 256 MB per op, f32, median of 11 runs.\n")
    w("| op | shape | chorus CUDA ms | GB/s | of copy bandwidth (target 80%) | PyTorch ms | "
      "PyTorch / chorus time | chorus OpenCL ms | OpenCL / CUDA time |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for op in MEMORY_OPS:
        c = by_op(cuda, op)
        if not c:
            continue
        t, o = same(c, by_op(torch, op)), same(c, by_op(ocl, op))
        w(f"| {op} | {c['shape']} | {c['median_ms']:.3f} | {c['gbs']:.0f} | "
          f"{pct(c['fraction_of_copy_bandwidth'], 0.8)} | {fmt(t and t['median_ms'], '.3f')} | "
          f"{fmt(t and c and t['median_ms'] / c['median_ms'], '.2f')} | "
          f"{fmt(o and o['median_ms'], '.3f')} | {fmt(o and c and o['median_ms'] / c['median_ms'], '.2f')} |")
    w("\nPyTorch / chorus time above 1 means chorus is faster.\n")

    rest = [r for r in (cuda or {}).get("results", [])
            if r["op"] not in MEMORY_OPS + ["buffer_copy", "gemm"]]
    if rest:
        w("## Every other op timed (training ops)\n")
        w("The rest of `chorus bench` on cuda:0 in the same run, with PyTorch's time where "
          "`bench/torch_peers.py` measured the same op and shape.\n")
        w("| op | shape | path | chorus CUDA ms | GB/s | of copy bandwidth | PyTorch ms | "
          "PyTorch / chorus time |")
        w("|---|---|---|---:|---:|---:|---:|---:|")
        for c in rest:
            t = same(c, by_op(torch, c["op"]))
            w(f"| {c['op']} | {c['shape']} | {c.get('path', '-')} | {c['median_ms']:.3f} | "
              f"{c['gbs']:.0f} | {c['fraction_of_copy_bandwidth'] * 100:.0f}% | "
              f"{fmt(t and t['median_ms'], '.3f')} | "
              f"{fmt(t and t['median_ms'] / c['median_ms'], '.2f')} |")
        chorus_ops = {r["op"] for r in (cuda or {}).get("results", [])}
        extra = [r for r in (torch or {}).get("results", []) if r["op"] not in chorus_ops]
        if extra:
            w("\nPyTorch rows with no chorus row of the same name: " + "; ".join(
                f"{r['op']} {r['shape']} {r['median_ms']:.3f} ms" for r in extra) + ".")
        w("")

    oconf = load(folder, "conformance-opencl.json")
    if oconf:
        s = oconf["summary"]
        d = oconf["device"]
        w("## The same kernels through NVIDIA's OpenCL\n")
        w(f"`chorus conformance --tier ci` on {d['description']} ({d['driver_version']}, "
          f"{d['compiler_version']}): **{s['pass']} pass, {s['fail']} fail, "
          f"{s['unsupported']} unsupported, {s['skipped']} skipped**.\n")

    w("## SGEMM\n")
    w("| size | chorus CUDA ms | GFLOP/s | cuBLAS ms | GFLOP/s | of cuBLAS (target 50%) | "
      "chorus OpenCL GFLOP/s |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for size in (4096, 8192):
        c, t, o = gemm_at([cuda, cuda8k], size), gemm_at([torch], size), gemm_at([ocl], size)
        if not (c or t or o):
            continue
        frac = c["gflops"] / t["gflops"] if c and t else None
        w(f"| {size}³ | {fmt(c and c['median_ms'], '.2f')} | {fmt(c and c['gflops'], '.0f')} | "
          f"{fmt(t and t['median_ms'], '.2f')} | {fmt(t and t['gflops'], '.0f')} | {pct(frac, 0.5)} | "
          f"{fmt(o and o['gflops'], '.0f')} |")
    w("")

    w("## Host time per op\n")
    op_us = None
    for b in (cuda, cuda8k):
        if b and b.get("host_us_per_op"):
            op_us = b["host_us_per_op"]
    bare = launch.get("bare_launch_us") if launch else None
    extra = op_us - bare if op_us is not None and bare is not None else None
    w("| what | host µs per submission |\n|---|---:|")
    w(f"| chorus op on cuda:0 (1-element add, `chorus bench --op overhead`) | {fmt(op_us, '.2f')} |")
    w(f"| bare launch of an empty kernel (`chorus-launch-peer cuda`, "
      f"{(launch or {}).get('launch_call', 'cuLaunchKernel')}) | {fmt(bare, '.2f')} |")
    w(f"| **chorus over a bare launch (target ≤ 2 µs)** | **{fmt(extra, '.2f')}** {verdict(None if extra is None else extra <= 2)} |")
    if torch:
        w(f"| PyTorch eager op (1-element add) | {fmt(torch.get('host_us_per_op'), '.2f')} |")
        w(f"| PyTorch bare launch (torch.cuda._sleep(0)) | {fmt(torch.get('bare_launch_us'), '.2f')} |")
    if ocl:
        w(f"| chorus op on NVIDIA's OpenCL | {fmt(ocl.get('host_us_per_op'), '.2f')} |")
    w("")
    missing = [n for n, v in [("bench-cuda-4096.json", cuda), ("bench-cuda-8192.json", cuda8k),
                              ("torch.json", torch), ("launch.json", launch),
                              ("bench-opencl.json", ocl), ("conformance.json", conf)] if v is None]
    if missing:
        w("Missing from this run: " + ", ".join(missing) + " (see run.log).\n")
    stopped = re.findall(r"^\*\* (?:stopped|skipped).*$", log, re.M)
    if stopped:
        w("Steps cut short by their time limit:\n")
        out.extend(f"- {s[3:]}" for s in stopped)
        w("")
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: perf_report.py RUN_DIR")
    print(report(sys.argv[1]))
