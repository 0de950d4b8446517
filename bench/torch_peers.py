#!/usr/bin/env python3
"""torch_peers.py — the PyTorch / cuBLAS side of a GPU benchmark run.

Measures, on the same GPU and with the same sizes and method as
`chorus bench` (warm-up, CUDA events around each repetition, median): the
copy bandwidth, add, exp, a full sum, softmax, layer norm and RMS norm over
rows of 4096 f32 at the given working set, SGEMM (cuBLAS through
torch.matmul, TF32 off so it is true f32) at the given sizes, and the host
time to submit one tiny op and one bare kernel launch. Writes JSON and
prints a Markdown table. Run it right after `chorus bench` in the same
session, so both are measured on the same GPU state:

    python3 bench/torch_peers.py --mb 256 --gemm 4096,8192 --json torch.json

--device cpu runs the same ops on the CPU, timed with the host clock, so the
script can be checked on a machine without a GPU (its numbers are no peer
of a GPU run), and is the CPU peer of the pooling layers:

    python3 bench/torch_peers.py --device cpu --skip-core --pool-batch 8 --mb 64
"""
import argparse
import json
import time

import torch


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def timed(dev, fn, reps):
    """Median and minimum ms of reps runs, after a warm-up like chorus
    bench's (at least 3 runs and 100 ms)."""
    warm_until = time.perf_counter() + 0.1
    i = 0
    while i < 3 or (time.perf_counter() < warm_until and i < 1000):
        fn()
        sync(dev)
        i += 1
    ms = []
    if dev.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(reps):
        if dev.type == "cuda":
            start.record()
            fn()
            end.record()
            end.synchronize()
            ms.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    return ms[len(ms) // 2], ms[0]


def host_us(dev, fn, count=1000, rounds=5):
    fn()
    sync(dev)
    per = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(count):
            fn()
        t1 = time.perf_counter()
        sync(dev)
        per.append((t1 - t0) / count * 1e6)
    per.sort()
    return per[len(per) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mb", type=float, default=256)
    p.add_argument("--gemm", default="4096,8192")
    p.add_argument("--reps", type=int, default=11)
    p.add_argument("--json")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--pool-batch", type=int, default=0,
                   help="batch of the pooling layers of `chorus bench --op pool2d` (0: none)")
    p.add_argument("--pool-layout", default="nchw", choices=["nchw", "nhwc"])
    p.add_argument("--conv-batch", type=int, default=0,
                   help="batch of the convolutions of `chorus bench --op conv2d` (0: none)")
    p.add_argument("--index", action="store_true",
                   help="the group norm and indexing rows of `chorus bench` (group_norm, "
                        "group_norm_backward, gather, scatter_add, embedding, embedding_backward)")
    p.add_argument("--skip-core", action="store_true",
                   help="only the copy and the pooling layers")
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device(a.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch_peers.py: PyTorch sees no CUDA device")
    total = int(a.mb * 1048576 / 4)
    half = max(total // 2, 1)
    row = 4096
    g = torch.Generator(device=dev).manual_seed(1)
    results = []

    def add(op, shape, nbytes, flops, fn):
        med, mn = timed(dev, fn, a.reps)
        results.append(dict(op=op, dtype="f32", shape=shape, median_ms=med, min_ms=mn,
                            bytes=nbytes, flops=flops))

    src = torch.rand(half, device=dev, generator=g) * 2 - 1
    dst = torch.empty_like(src)
    add("buffer_copy", f"{half * 4} B", 2.0 * half * 4, 0, lambda: dst.copy_(src))
    copy_gbs = results[0]["bytes"] / (results[0]["median_ms"] * 1e6)
    if a.pool_batch > 0:
        pool_peers(a, dev, g, add)
    if a.conv_batch > 0:
        conv_peers(a, dev, g, add)
    if a.index:
        index_peers(a, dev, g, src, half, row, add)
    if a.skip_core:
        report(a, dev, results, copy_gbs, None, None)
        return
    n = max(total // 3, 1)
    x3, y3, o3 = (torch.rand(n, device=dev, generator=g) for _ in range(3))
    add("add", str(n), 3.0 * n * 4, n, lambda: torch.add(x3, y3, out=o3))
    add("exp", str(n), 2.0 * n * 4, n, lambda: torch.exp(x3, out=o3))
    one = torch.empty((), device=dev)
    add("sum", str(half), half * 4.0 + 4, half, lambda: torch.sum(src, dim=0, out=one))
    rows = max(half // row, 1)
    x = src[: rows * row].view(rows, row)
    gamma = torch.rand(row, device=dev, generator=g) + 0.5
    beta = torch.rand(row, device=dev, generator=g) - 0.5
    rb = 2.0 * rows * row * 4
    add("softmax", f"{rows}x{row}", rb, 5.0 * rows * row,
        lambda: torch.softmax(x, dim=-1))
    add("layer_norm", f"{rows}x{row}", rb, 8.0 * rows * row,
        lambda: torch.nn.functional.layer_norm(x, (row,), gamma, beta, 1e-5))
    # The gradients as chorus bench times them (dx, dgamma, dbeta from x,
    # gamma and dy), through ATen's own backward with the mean and rstd its
    # forward saved (chorus recomputes them).
    dy = torch.rand(rows, row, device=dev, generator=g) - 0.5
    _, mean, rstd = torch.ops.aten.native_layer_norm(x, [row], gamma, beta, 1e-5)
    add("layer_norm_backward", f"{rows}x{row}", 3.0 * rows * row * 4, 12.0 * rows * row,
        lambda: torch.ops.aten.native_layer_norm_backward(dy, x, [row], mean, rstd, gamma, beta,
                                                          [True, True, True]))
    # Cross-entropy as chorus bench times it (8192 samples of 4096 classes,
    # i64 targets, mean): the forward alone, and forward plus the gradient
    # through autograd (PyTorch has no public logits-gradient call; chorus's
    # two rows add up to the same work).
    targets = (torch.arange(rows, device=dev) * 7919) % row
    add("cross_entropy", f"{rows}x{row}", 1.0 * rows * row * 4, 5.0 * rows * row,
        lambda: torch.nn.functional.cross_entropy(x, targets))
    xr = x.clone().requires_grad_(True)

    def ce_forward_backward():
        xr.grad = None
        torch.nn.functional.cross_entropy(xr, targets).backward()
    add("cross_entropy+backward", f"{rows}x{row}", 3.0 * rows * row * 4, 10.0 * rows * row,
        ce_forward_backward)
    # Batch norm in training as chorus bench times it: [32, 64, H, W] over
    # the same memory, the running statistics updated; then the gradients
    # (dx, dgamma, dbeta) through ATen's backward with the statistics its
    # forward saved (chorus recomputes them).
    bn, bc, bh, bw = norm_image_shape(rows * row)
    count = bn * bc * bh * bw
    bx = src[:count].view(bn, bc, bh, bw)
    bgamma = torch.rand(bc, device=dev, generator=g) + 0.5
    bbeta = torch.rand(bc, device=dev, generator=g) - 0.5
    rmean = torch.zeros(bc, device=dev)
    rvar = torch.ones(bc, device=dev)
    bshape = f"{bn}x{bc}x{bh}x{bw}"
    add("batch_norm", bshape, 2.0 * count * 4, 8.0 * count,
        lambda: torch.nn.functional.batch_norm(bx, rmean, rvar, bgamma, bbeta, True, 0.1, 1e-5))
    bdy = torch.rand(bn, bc, bh, bw, device=dev, generator=g) - 0.5
    _, bsave_mean, bsave_rstd = torch.ops.aten.native_batch_norm(bx, bgamma, bbeta, rmean, rvar,
                                                                 True, 0.1, 1e-5)
    add("batch_norm_backward", bshape, 3.0 * count * 4, 12.0 * count,
        lambda: torch.ops.aten.native_batch_norm_backward(bdy, bx, bgamma, rmean, rvar,
                                                          bsave_mean, bsave_rstd, True, 1e-5,
                                                          [True, True, True]))
    del bdy
    if hasattr(torch.nn.functional, "rms_norm"):
        add("rms_norm", f"{rows}x{row}", rb, 4.0 * rows * row,
            lambda: torch.nn.functional.rms_norm(x, (row,), gamma, 1e-5))
    for size in [int(s) for s in a.gemm.split(",") if s]:
        ga = torch.rand(size, size, device=dev, generator=g) * 2 - 1
        gb = torch.rand(size, size, device=dev, generator=g) * 2 - 1
        gc = torch.empty(size, size, device=dev)
        add("gemm", f"{size}x{size}x{size}", 3.0 * size * size * 4, 2.0 * size ** 3,
            lambda: torch.matmul(ga, gb, out=gc))
        del ga, gb, gc
    tiny = torch.zeros(1, device=dev)
    op_us = host_us(dev, lambda: torch.add(tiny, tiny, out=tiny))
    # torch.cuda._sleep(0) is one launch of a kernel that does nothing.
    launch_us = host_us(dev, lambda: torch.cuda._sleep(0)) if dev.type == "cuda" else None

    report(a, dev, results, copy_gbs, op_us, launch_us)


def norm_image_shape(elements):
    """chorus bench's [32, 64, H, W] image of the batch and group norm rows."""
    n, c = 32, 64
    hw = max(elements // (n * c), 1)
    h = max(int(hw ** 0.5), 1)
    return n, c, h, max(hw // h, 1)


def hashed(count, modulo, dev):
    """chorus bench's spread-out indices, (k * 2654435761) mod modulo, as i64
    (64-bit products, as chorus bench's hashed_indices)."""
    return torch.arange(count, device=dev, dtype=torch.int64) * 2654435761 % modulo


def index_peers(a, dev, g, src, half, row, add):
    """The rows of `chorus bench --op group_norm,group_norm_backward,gather,
    scatter_add,embedding,embedding_backward`, same shapes, index patterns
    and byte counts (PyTorch takes i64 indices where chorus's gather and
    scatter_add rows use i32)."""
    rows = max(half // row, 1)
    gn, gc, gh, gw = norm_image_shape(rows * row)
    count = gn * gc * gh * gw
    gx = src[:count].view(gn, gc, gh, gw)
    gamma = torch.rand(gc, device=dev, generator=g) + 0.5
    beta = torch.rand(gc, device=dev, generator=g) - 0.5
    shape = f"{gn}x{gc}x{gh}x{gw} G=32"
    add("group_norm", shape, 2.0 * count * 4, 8.0 * count,
        lambda: torch.nn.functional.group_norm(gx, 32, gamma, beta, 1e-5))
    gdy = torch.rand(gn, gc, gh, gw, device=dev, generator=g) - 0.5
    _, mean, rstd = torch.ops.aten.native_group_norm(gx, gamma, beta, gn, gc, gh * gw, 32, 1e-5)
    add("group_norm_backward", shape, 3.0 * count * 4, 12.0 * count,
        lambda: torch.ops.aten.native_group_norm_backward(gdy, gx, mean, rstd, gamma, gn, gc,
                                                          gh * gw, 32, [True, True, True]))
    del gdy
    n = rows * row // 2
    grows = max(n // row, 1)
    cols = hashed(grows * row, row, dev).view(grows, row)
    x = src[: grows * row].view(grows, row)
    out = torch.empty(grows, row, device=dev)
    elems = grows * row
    add("gather", f"{grows}x{row} axis 1", 3.0 * elems * 4, 0,
        lambda: torch.gather(x, 1, cols, out=out))
    srows = max(grows * row // 256, 1)
    targets = hashed(srows * 256, 16, dev).view(srows, 256)
    ssrc = src[: srows * 256].view(srows, 256)
    sout = torch.zeros(srows, 16, device=dev)
    add("scatter_add", f"{srows}x256 into 16", 2.0 * srows * 256 * 4 + 2.0 * srows * 16 * 4,
        srows * 256.0, lambda: sout.scatter_add_(1, targets, ssrc))
    d, ne = 512, 8192
    v = max(min(half // d, 50000), 1)
    table = src[: v * d].view(v, d)
    ids = hashed(ne, v, dev)
    add("embedding", f"{v}x{d} x {ne}", 2.0 * ne * d * 4 + ne * 8.0, 0,
        lambda: torch.nn.functional.embedding(ids, table))
    v, d, ne = 96, 128, 64 * 128
    bids = hashed(ne, v, dev).view(64, 128)
    bdy = src[: ne * d].view(64, 128, d)
    add("embedding_backward", f"64x128x{d} into {v}x{d}", ne * d * 4.0 + v * d * 4.0, ne * d * 1.0,
        lambda: torch.ops.aten.embedding_dense_backward(bdy, bids, v, -1, False))


def pool_peers(a, dev, g, add):
    """The pooling layers of `chorus bench --op pool2d,pool2d_backward`:
    max 3x3 stride 2 pad 1 on [N, 64, 112, 112] (forward with indices, and
    the gradient through them) and avg 2x2 stride 2 on [N, 128, 56, 56]; same
    bytes and flops as chorus bench counts."""
    nb = a.pool_batch
    fmt = torch.channels_last if a.pool_layout == "nhwc" else torch.contiguous_format
    layers = [("max3x3s2", True, 64, 112, 3, 2, 1), ("avg2x2s2", False, 128, 56, 2, 2, 0)]
    for name, is_max, c, hw, k, s, pad in layers:
        o = (hw + 2 * pad - k) // s + 1
        x = (torch.rand(nb, c, hw, hw, device=dev, generator=g) * 2 - 1).to(memory_format=fmt)
        dy = (torch.rand(nb, c, o, o, device=dev, generator=g) * 2 - 1).to(memory_format=fmt)
        xn, yn = nb * c * hw * hw, nb * c * o * o
        shape = f"{name} {a.pool_layout.upper()}: x {nb}x{c}x{hw}x{hw}"  # chorus bench's text
        flops = float(yn * k * k)
        if is_max:
            _, idx = torch.nn.functional.max_pool2d(x, k, s, pad, return_indices=True)
            add("pool2d", shape, 4.0 * (xn + yn) + 8.0 * yn, flops,
                lambda: torch.nn.functional.max_pool2d(x, k, s, pad, return_indices=True))
            add("pool2d_backward", shape, 4.0 * (yn + xn) + 8.0 * yn, flops,
                lambda: torch.ops.aten.max_pool2d_with_indices_backward(
                    dy, x, [k, k], [s, s], [pad, pad], [1, 1], False, idx))
        else:
            add("pool2d", shape, 4.0 * (xn + yn), flops,
                lambda: torch.nn.functional.avg_pool2d(x, k, s, pad))
            add("pool2d_backward", shape, 4.0 * (yn + xn), flops,
                lambda: torch.ops.aten.avg_pool2d_backward(
                    dy, x, [k, k], [s, s], [pad, pad], False, True, None))


def conv_peers(a, dev, g, add):
    """The convolutions of `chorus bench --op conv2d,conv2d_backward_data,
    conv2d_backward_weight` (NCHW, f32, batch --conv-batch, 56x56, stride 1):
    3x3 64->64 pad 1, 1x1 256->64, depthwise 3x3 on 64 channels; the forward
    with bias, the data gradient, and the weight gradient with the bias's,
    through aten.convolution_backward (what autograd calls: cuDNN on a GPU,
    oneDNN or native kernels on a CPU). Shape text as chorus bench writes it."""
    nb, hw = a.conv_batch, 56
    for name, c, c_out, k, pad, groups in [("3x3", 64, 64, 3, 1, 1), ("1x1", 256, 64, 1, 0, 1),
                                           ("dw3x3", 64, 64, 3, 1, 64)]:
        cg = c // groups
        o = hw + 2 * pad - k + 1
        x = torch.rand(nb, c, hw, hw, device=dev, generator=g) * 2 - 1
        w = torch.rand(c_out, cg, k, k, device=dev, generator=g) * 2 - 1
        b = torch.rand(c_out, device=dev, generator=g) * 2 - 1
        dy = torch.rand(nb, c_out, o, o, device=dev, generator=g) * 2 - 1
        xn, wn, yn = x.numel(), w.numel(), dy.numel()
        shape = (f"{name} NCHW: x {nb}x{c}x{hw}x{hw}, w {c_out}x{cg}x{k}x{k}, pad {pad}"
                 + (f", groups {groups}" if groups > 1 else ""))
        flops = 2.0 * nb * c_out * o * o * cg * k * k
        add("conv2d", shape, 4.0 * (xn + wn + c_out + yn), flops,
            lambda: torch.nn.functional.conv2d(x, w, b, 1, pad, 1, groups))

        def backward(mask):
            return torch.ops.aten.convolution_backward(dy, x, w, [c_out], [1, 1], [pad, pad],
                                                       [1, 1], False, [0, 0], groups, mask)
        add("conv2d_backward_data", shape, 4.0 * (yn + wn + xn), flops,
            lambda: backward([True, False, False]))
        add("conv2d_backward_weight", shape, 4.0 * (xn + yn + wn + c_out), flops,
            lambda: backward([False, True, True]))


def report(a, dev, results, copy_gbs, op_us, launch_us):
    name = torch.cuda.get_device_properties(dev).name if dev.type == "cuda" else "CPU"
    gemm_by = "cuBLAS via torch.matmul (TF32 off)" if dev.type == "cuda" else "torch.matmul on the CPU"
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {gemm_by}, {name}")
    print(f"copy bandwidth measured in this run: {copy_gbs:.2f} GB/s")
    launch = f"{launch_us:.2f} us" if launch_us is not None else "n/a"
    if op_us is not None:
        print(f"host time to submit one op (1-element add): {op_us:.2f} us; bare kernel launch (torch.cuda._sleep(0)): {launch}")
    print(f"threads: {torch.get_num_threads()}\n")
    print("| op | dtype | shape | median ms | min ms | GB/s | GFLOP/s | of copy bandwidth |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        gbs = r["bytes"] / (r["median_ms"] * 1e6)
        r["gbs"], r["gflops"] = gbs, r["flops"] / (r["median_ms"] * 1e6)
        r["fraction_of_copy_bandwidth"] = gbs / copy_gbs
        print(f"| {r['op']} | f32 | {r['shape']} | {r['median_ms']:.3f} | {r['min_ms']:.3f} | "
              f"{gbs:.2f} | {r['gflops']:.2f} | {100 * gbs / copy_gbs:.0f}% |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(peer="torch", torch=torch.__version__, cuda=torch.version.cuda,
                           device=name, copy_bandwidth_gbs=copy_gbs, host_us_per_op=op_us,
                           bare_launch_us=launch_us, results=results), f, indent=1)


if __name__ == "__main__":
    main()
