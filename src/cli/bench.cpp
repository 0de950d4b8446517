// bench.cpp — `chorus bench`: times ops on one device the way
// ../shared/PERFORMANCE.md asks. The device's copy bandwidth is measured first
// in the same run, inputs are random (never zeros), each op is warmed up (3
// runs and 100 ms at least), then runs `reps` times between device events; the median is reported
// with GB/s (fewest bytes the op must move), GFLOP/s, and the fraction of the measured copy
// bandwidth. Speed goals are checked here, never in tests.
#include <algorithm>
#include <chorus/chorus.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "common/host_timing.hpp"
#include "detail.hpp"  // json_escape

namespace chorus::cli {
namespace {

struct Result {
  std::string op, dtype, shape;
  std::string path;  // native or composite: what the device ran (chorus_queue_last_op)
  double median_ms = 0, min_ms = 0, bytes = 0, flops = 0;
  int reps = 0;
};

const char* path_name(chorus_op_path path) {
  switch (path) {
    case CHORUS_OP_PATH_NATIVE: return "native";
    case CHORUS_OP_PATH_COMPOSITE: return "composite";
    case CHORUS_OP_PATH_NONE: return "none";
    default: return "?";
  }
}

struct Bench {
  Device& device;
  Queue& queue;
  int reps;

  // Warms up (at least 3 runs and 100 ms: compiles, caches, clocks), then
  // runs f reps times between events; returns sorted ms.
  std::vector<double> time(const std::function<void()>& f) {
    const auto warm_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    for (int i = 0; i < 1000 && (i < 3 || std::chrono::steady_clock::now() < warm_until); ++i) {
      f();
      queue.sync();
    }
    std::vector<double> ms;
    Event start = device.event(), end = device.event();
    for (int i = 0; i < reps; ++i) {
      queue.record(start);
      f();
      queue.record(end);
      end.wait();
      ms.push_back(Event::elapsed_ms(start, end));
    }
    std::sort(ms.begin(), ms.end());
    return ms;
  }

  Result measure(const std::string& op, const std::string& shape, double bytes, double flops,
                 const std::function<void()>& f) {
    const auto ms = time(f);
    Result r;
    r.op = op;
    r.dtype = "f32";
    r.shape = shape;
    r.median_ms = ms[ms.size() / 2];
    r.min_ms = ms.front();
    r.bytes = bytes;
    r.flops = flops;
    r.reps = reps;
    chorus_plan_info info{};
    info.struct_size = sizeof info;
    r.path = chorus_queue_last_op(queue.get(), &info) == CHORUS_OK ? path_name(info.path) : "-";
    return r;
  }
};

// The [32, 64, H, W] image the batch and group norm rows share: 64
// channels over `elements` floats, H x W as square as it divides
// (bench/torch_peers.py's norm_image_shape() is the same).
std::vector<int64_t> norm_image_shape(int64_t elements) {
  const int64_t n = 32, c = 64, hw = std::max<int64_t>(elements / (n * c), 1);
  const int64_t h = std::max<int64_t>(static_cast<int64_t>(std::sqrt(static_cast<double>(hw))), 1);
  return {n, c, h, std::max<int64_t>(hw / h, 1)};
}

// Spread-out indices: element k is (k * 2654435761) mod `modulo` in 64-bit
// arithmetic (bench/torch_peers.py's hashed() draws the same).
template <typename Index>
std::vector<Index> hashed_indices(int64_t count, int64_t modulo) {
  std::vector<Index> v(static_cast<size_t>(count));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<Index>((static_cast<uint64_t>(i) * 2654435761u) % static_cast<uint64_t>(modulo));
  return v;
}

// Uniform values in [lo, hi) from a fixed-seed LCG: reproducible, never zero
// runs, cheap enough for hundreds of megabytes.
Buffer random_buffer(Device& device, Queue& queue, int64_t count, float lo, float hi,
                     uint64_t seed) {
  Buffer buffer = device.buffer(static_cast<uint64_t>(count) * 4);
  std::vector<float> chunk(1 << 20);
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (int64_t done = 0; done < count;) {
    const int64_t n = std::min<int64_t>(count - done, static_cast<int64_t>(chunk.size()));
    for (int64_t i = 0; i < n; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      chunk[i] = lo + (hi - lo) * static_cast<float>((state >> 40) * (1.0 / 16777216.0));
    }
    queue.write<float>(buffer, std::span<const float>(chunk.data(), n),
                       static_cast<uint64_t>(done) * 4);
    done += n;
  }
  return buffer;
}

bool wanted(const std::string& filter, const std::string& op) {
  if (filter.empty()) return true;
  std::stringstream ss(filter);
  std::string item;
  while (std::getline(ss, item, ','))
    if (item == op) return true;
  return false;
}

std::string shape_text(std::initializer_list<int64_t> s) {
  std::string out;
  for (int64_t v : s) out += (out.empty() ? "" : "x") + std::to_string(v);
  return out;
}

}  // namespace

int bench(const Args& args) {
  const std::string filter = args.get("op", "");
  const double mb = std::stod(args.get("mb", "256"));
  const int reps = std::max(1, std::stoi(args.get("reps", "5")));
  const int64_t gemm_n = std::stoll(args.get("gemm", "1024"));
  const int64_t conv_batch = std::stoll(args.get("conv-batch", "8"));
  if (!(mb > 0) || gemm_n <= 0 || conv_batch <= 0) {
    std::fprintf(stderr, "chorus bench: --mb, --gemm and --conv-batch must be positive\n");
    return 2;
  }
  // --conv-layout: the image layouts of the conv2d and pool2d rows, each
  // as "is it NHWC".
  std::vector<bool> image_layouts;
  {
    std::stringstream list(args.get("conv-layout", "nchw"));
    for (std::string layout; std::getline(list, layout, ',');) {
      if (layout != "nchw" && layout != "nhwc") {
        std::fprintf(stderr, "chorus bench: --conv-layout takes nchw, nhwc or both\n");
        return 2;
      }
      image_layouts.push_back(layout == "nhwc");
    }
  }
  Context ctx;
  Device device = ctx.open(args.get("device", ""));
  Queue queue = device.queue();
  const chorus_device_info info = device.info();
  Bench b{device, queue, reps};
  std::vector<Result> results;

  // Working set of each memory-bound op: `mb` megabytes over all its tensors.
  const int64_t total_floats = static_cast<int64_t>(mb * 1048576.0 / 4.0);
  const int64_t row = 4096;

  std::fprintf(stderr, "bench on %s (%s), working set %.0f MB, %d reps\n", info.name,
               info.description, mb, reps);

  // The copy bandwidth that every memory-bound result is compared with.
  const int64_t half = std::max<int64_t>(total_floats / 2, 1);
  Buffer src = random_buffer(device, queue, half, -1, 1, 1);
  Buffer dst = device.buffer(static_cast<uint64_t>(half) * 4);
  const Result copy_bw =
      b.measure("buffer_copy", std::to_string(half * 4) + " B", 2.0 * half * 4, 0,
                [&] { queue.copy(src, dst, static_cast<uint64_t>(half) * 4); });
  const double copy_gbs = copy_bw.bytes / (copy_bw.median_ms * 1e6);
  results.push_back(copy_bw);

  if (wanted(filter, "copy")) {
    Tensor s(src, CHORUS_DTYPE_F32, {half}), d(dst, CHORUS_DTYPE_F32, {half});
    results.push_back(
        b.measure("copy", shape_text({half}), 2.0 * half * 4, 0, [&] { ops::copy(queue, s, d); }));
  }
  if (wanted(filter, "add") || wanted(filter, "exp") || wanted(filter, "relu_backward") ||
      wanted(filter, "gelu_tanh_backward")) {
    const int64_t n = std::max<int64_t>(total_floats / 3, 1);
    Buffer ab = random_buffer(device, queue, n, -1, 1, 2),
           bb = random_buffer(device, queue, n, -1, 1, 3);
    Buffer ob = device.buffer(static_cast<uint64_t>(n) * 4);
    Tensor a(ab, CHORUS_DTYPE_F32, {n}), bt(bb, CHORUS_DTYPE_F32, {n}),
        o(ob, CHORUS_DTYPE_F32, {n});
    if (wanted(filter, "add"))
      results.push_back(b.measure("add", shape_text({n}), 3.0 * n * 4, static_cast<double>(n),
                                  [&] { ops::add(queue, a, bt, o); }));
    if (wanted(filter, "exp"))
      results.push_back(b.measure("exp", shape_text({n}), 2.0 * n * 4, static_cast<double>(n),
                                  [&] { ops::unary(queue, CHORUS_UNARY_EXP, a, o); }));
    // The activation gradients in place (dx = dy, as training uses them): x
    // and dy read, dx written, 3 streams.
    if (wanted(filter, "relu_backward"))
      results.push_back(b.measure("relu_backward", shape_text({n}), 3.0 * n * 4,
                                  static_cast<double>(n), [&] {
                                    ops::unary_backward(queue, CHORUS_UNARY_RELU, a, bt, bt);
                                  }));
    if (wanted(filter, "gelu_tanh_backward"))
      results.push_back(b.measure("gelu_tanh_backward", shape_text({n}), 3.0 * n * 4,
                                  20.0 * n, [&] {
                                    ops::unary_backward(queue, CHORUS_UNARY_GELU_TANH, a, bt, bt);
                                  }));
  }
  if (wanted(filter, "random")) {
    Tensor d(dst, CHORUS_DTYPE_F32, {half});
    results.push_back(b.measure("uniform", shape_text({half}), half * 4.0, 0,
                                [&] { ops::uniform(queue, d, 1, 0); }));
    results.push_back(b.measure("normal", shape_text({half}), half * 4.0, 0,
                                [&] { ops::normal(queue, d, 1, 0); }));
  }
  if (wanted(filter, "dropout")) {
    // x and y f32, the u8 mask: 9 bytes per element.
    const int64_t n = std::max<int64_t>(total_floats * 4 / 9, 1);
    Buffer xb = random_buffer(device, queue, n, -1, 1, 6);
    Buffer yb = device.buffer(static_cast<uint64_t>(n) * 4);
    Buffer maskb = device.buffer(static_cast<uint64_t>(n));
    Tensor dx(xb, CHORUS_DTYPE_F32, {n}), dy(yb, CHORUS_DTYPE_F32, {n}), dm(maskb, CHORUS_DTYPE_U8, {n});
    results.push_back(b.measure("dropout", shape_text({n}), 9.0 * n, 0,
                                [&] { ops::dropout(queue, dx, 0.1, 1, 0, dy, &dm); }));
  }
  if (wanted(filter, "sgd") || wanted(filter, "adamw")) {
    // One parameter tensor and its state, f32: SGD with momentum moves 5
    // floats per element (param and buffer read and written, grad read),
    // AdamW 7 (param, exp_avg, exp_avg_sq read and written, grad read).
    const int64_t n = std::max<int64_t>(total_floats / 7, 1);
    Buffer pb = random_buffer(device, queue, n, -1, 1, 7), gb = random_buffer(device, queue, n, -1, 1, 8),
           mb1 = random_buffer(device, queue, n, -1, 1, 9), vb = random_buffer(device, queue, n, 0, 1, 10);
    Tensor tp(pb, CHORUS_DTYPE_F32, {n}), tg(gb, CHORUS_DTYPE_F32, {n}), tm(mb1, CHORUS_DTYPE_F32, {n}),
        tv(vb, CHORUS_DTYPE_F32, {n});
    if (wanted(filter, "sgd")) {
      ops::SgdOptions o;
      o.momentum = 0.9;
      results.push_back(b.measure("sgd (momentum)", shape_text({n}), 5.0 * n * 4, 0,
                                  [&] { ops::sgd_step(queue, o, 2, tp, tg, &tm); }));
    }
    if (wanted(filter, "adamw")) {
      results.push_back(b.measure("adamw", shape_text({n}), 7.0 * n * 4, 0, [&] {
        ops::adamw_step(queue, ops::AdamwOptions{}, 2, tp, tg, tm, tv);
      }));
    }
  }
  const int64_t rows = std::max<int64_t>(half / row, 1);
  Tensor x(src, CHORUS_DTYPE_F32, {rows, row}), y(dst, CHORUS_DTYPE_F32, {rows, row});
  const double row_bytes = 2.0 * rows * row * 4;
  if (wanted(filter, "sum")) {
    Buffer out = device.buffer(4);
    Tensor whole(src, CHORUS_DTYPE_F32, {half}), scalar(out, CHORUS_DTYPE_F32, {1});
    results.push_back(b.measure("sum", shape_text({half}), half * 4.0 + 4,
                                static_cast<double>(half),
                                [&] { ops::reduce(queue, CHORUS_REDUCE_SUM, whole, 1, scalar); }));
  }
  if (wanted(filter, "softmax"))
    results.push_back(b.measure("softmax", shape_text({rows, row}), row_bytes, 5.0 * rows * row,
                                [&] { ops::softmax(queue, x, y); }));
  if (wanted(filter, "log_softmax"))
    results.push_back(b.measure("log_softmax", shape_text({rows, row}), row_bytes,
                                5.0 * rows * row, [&] { ops::log_softmax(queue, x, y); }));
  // The gradients in place (dx = dy, as training uses them): y and dy read,
  // dx written, 3 streams; 4 flops per element.
  if (wanted(filter, "softmax_backward"))
    results.push_back(b.measure("softmax_backward", shape_text({rows, row}), 1.5 * row_bytes,
                                4.0 * rows * row, [&] { ops::softmax_backward(queue, x, y, y); }));
  if (wanted(filter, "log_softmax_backward"))
    results.push_back(b.measure("log_softmax_backward", shape_text({rows, row}),
                                1.5 * row_bytes, 4.0 * rows * row,
                                [&] { ops::log_softmax_backward(queue, x, y, y); }));
  if (wanted(filter, "cumsum"))
    results.push_back(b.measure("cumsum", shape_text({rows, row}), row_bytes, 1.0 * rows * row,
                                [&] { ops::cumsum(queue, x, y); }));
  Buffer gamma_b = random_buffer(device, queue, row, 0.5f, 1.5f, 4);
  Buffer beta_b = random_buffer(device, queue, row, -0.5f, 0.5f, 5);
  Tensor gamma(gamma_b, CHORUS_DTYPE_F32, {row}), beta(beta_b, CHORUS_DTYPE_F32, {row});
  if (wanted(filter, "layer_norm"))
    results.push_back(b.measure("layer_norm", shape_text({rows, row}), row_bytes, 8.0 * rows * row,
                                [&] { ops::layer_norm(queue, x, &gamma, &beta, 1e-5, y); }));
  if (wanted(filter, "rms_norm"))
    results.push_back(b.measure("rms_norm", shape_text({rows, row}), row_bytes, 4.0 * rows * row,
                                [&] { ops::rms_norm(queue, x, &gamma, 1e-5, y); }));
  // The gradients as training asks for them: dx in place on dy (y's buffer),
  // dgamma and dbeta; x and dy read, dx written (3 streams; the [row]
  // parameter gradients are noise); about 12 flops per element.
  Buffer dgamma_b = device.buffer(static_cast<uint64_t>(row) * 4),
         dbeta_b = device.buffer(static_cast<uint64_t>(row) * 4);
  Tensor dgamma(dgamma_b, CHORUS_DTYPE_F32, {row}), dbeta(dbeta_b, CHORUS_DTYPE_F32, {row});
  if (wanted(filter, "layer_norm_backward"))
    results.push_back(b.measure("layer_norm_backward", shape_text({rows, row}), 1.5 * row_bytes,
                                12.0 * rows * row, [&] {
                                  ops::layer_norm_backward(queue, x, &gamma, y, 1e-5, &y, &dgamma,
                                                           &dbeta);
                                }));
  if (wanted(filter, "rms_norm_backward"))
    results.push_back(b.measure("rms_norm_backward", shape_text({rows, row}), 1.5 * row_bytes,
                                9.0 * rows * row, [&] {
                                  ops::rms_norm_backward(queue, x, &gamma, y, 1e-5, &y, &dgamma);
                                }));
  // Batch norm in training over the same memory as [32, 64, H, W] (64
  // channels, H x W = 128 x 128 at 256 MB): the statistics, the running
  // statistics' update and y; then the gradients (dx in place on dy,
  // dgamma, dbeta). Bytes: x read and y written once (the kernels read x
  // again; that is their cost to bear), x, dy read and dx written.
  if (wanted(filter, "batch_norm") || wanted(filter, "batch_norm_backward")) {
    const std::vector<int64_t> image = norm_image_shape(rows * row);
    const int64_t bn = image[0], bc = image[1], bh = image[2], bw = image[3];
    Tensor bx(src, CHORUS_DTYPE_F32, {bn, bc, bh, bw}), by(dst, CHORUS_DTYPE_F32, {bn, bc, bh, bw});
    const double count = static_cast<double>(bn * bc * bh * bw);
    Buffer gamma_c = random_buffer(device, queue, bc, 0.5f, 1.5f, 9),
           beta_c = random_buffer(device, queue, bc, -0.5f, 0.5f, 10),
           mean_c = random_buffer(device, queue, bc, -0.5f, 0.5f, 11),
           var_c = random_buffer(device, queue, bc, 0.5f, 1.5f, 12);
    Tensor bgamma(gamma_c, CHORUS_DTYPE_F32, {bc}), bbeta(beta_c, CHORUS_DTYPE_F32, {bc}),
        rmean(mean_c, CHORUS_DTYPE_F32, {bc}), rvar(var_c, CHORUS_DTYPE_F32, {bc});
    const ops::BatchNormOptions train;
    const std::string shape = shape_text({bn, bc, bh, bw});
    if (wanted(filter, "batch_norm"))
      results.push_back(b.measure("batch_norm", shape, 2.0 * count * 4, 8.0 * count, [&] {
        ops::batch_norm(queue, train, bx, &bgamma, &bbeta, &rmean, &rvar, by);
      }));
    Buffer dgamma_c = device.buffer(static_cast<uint64_t>(bc) * 4),
           dbeta_c = device.buffer(static_cast<uint64_t>(bc) * 4);
    Tensor bdgamma(dgamma_c, CHORUS_DTYPE_F32, {bc}), bdbeta(dbeta_c, CHORUS_DTYPE_F32, {bc});
    if (wanted(filter, "batch_norm_backward"))
      results.push_back(b.measure("batch_norm_backward", shape, 3.0 * count * 4, 12.0 * count,
                                  [&] {
                                    ops::batch_norm_backward(queue, train, bx, &bgamma, nullptr,
                                                             nullptr, by, &by, &bdgamma, &bdbeta);
                                  }));
  }
  // Group norm over the batch-norm shape with 32 groups (the common GN(32)
  // of ResNets): the composites' traffic is batch norm's on the grouped
  // view plus the affine pass (forward), or plus the x_hat pass and two sums
  // (backward); the bytes counted are the op's own (x read, y written; x,
  // dy read, dx written), so the composite's extra passes show as a lower
  // fraction of the copy bandwidth.
  if (wanted(filter, "group_norm") || wanted(filter, "group_norm_backward")) {
    const std::vector<int64_t> image = norm_image_shape(rows * row);
    const int64_t gn = image[0], gc = image[1], gh = image[2], gw = image[3];
    Tensor gx(src, CHORUS_DTYPE_F32, {gn, gc, gh, gw}), gy(dst, CHORUS_DTYPE_F32, {gn, gc, gh, gw});
    const double count = static_cast<double>(gn * gc * gh * gw);
    Buffer gamma_c = random_buffer(device, queue, gc, 0.5f, 1.5f, 13),
           beta_c = random_buffer(device, queue, gc, -0.5f, 0.5f, 14);
    Buffer dgamma_c = device.buffer(static_cast<uint64_t>(gc) * 4),
           dbeta_c = device.buffer(static_cast<uint64_t>(gc) * 4);
    Tensor ggamma(gamma_c, CHORUS_DTYPE_F32, {gc}), gbeta(beta_c, CHORUS_DTYPE_F32, {gc}),
        gdgamma(dgamma_c, CHORUS_DTYPE_F32, {gc}), gdbeta(dbeta_c, CHORUS_DTYPE_F32, {gc});
    const std::string shape = shape_text({gn, gc, gh, gw}) + " G=32";
    if (wanted(filter, "group_norm"))
      results.push_back(b.measure("group_norm", shape, 2.0 * count * 4, 8.0 * count, [&] {
        ops::group_norm(queue, gx, 32, &ggamma, &gbeta, 1e-5, gy);
      }));
    if (wanted(filter, "group_norm_backward"))
      results.push_back(b.measure("group_norm_backward", shape, 3.0 * count * 4, 12.0 * count,
                                  [&] {
                                    ops::group_norm_backward(queue, gx, 32, &ggamma, gy, 1e-5, &gy,
                                                             &gdgamma, &gdbeta);
                                  }));
  }
  // Indexing. gather: x [rows, 4096] along axis 1 at random columns (x's
  // rows read at random, index read, out written: 3 streams of 4-byte
  // elements, i32 indices). scatter_add: 256 terms per row into 16 targets
  // (index and src read, out read and written; each element of out scans
  // its row's 256 indices: 16 comparisons per term, the price of a
  // deterministic sum without atomics). embedding: 8192 random rows of a
  // [V, 512] table (the rows read, out written). embedding_backward: a
  // character-level vocabulary (V = 96, D = 128) from 64 x 128 positions
  // (dy read, dtable written; each element of dtable scans the 8192
  // indices).
  if (wanted(filter, "gather") || wanted(filter, "scatter_add")) {
    const int64_t n = rows * row / 2;
    const int64_t grows = std::max<int64_t>(n / row, 1);
    const std::vector<int32_t> cols = hashed_indices<int32_t>(grows * row, row);
    Buffer ib = device.buffer(cols.size() * 4);
    queue.write<int32_t>(ib, cols);
    Tensor gx(src, CHORUS_DTYPE_F32, {grows, row}), gi(ib, CHORUS_DTYPE_I32, {grows, row}),
        go(dst, CHORUS_DTYPE_F32, {grows, row});
    const double elems = static_cast<double>(grows * row);
    if (wanted(filter, "gather"))
      results.push_back(b.measure("gather", shape_text({grows, row}) + " axis 1", 3.0 * elems * 4,
                                  0, [&] { ops::gather(queue, gx, 1, gi, go); }));
    if (wanted(filter, "scatter_add")) {
      const int64_t srows = std::max<int64_t>(grows * row / 256, 1);
      const std::vector<int32_t> t = hashed_indices<int32_t>(srows * 256, 16);
      Buffer tb = device.buffer(t.size() * 4);
      queue.write<int32_t>(tb, t);
      Tensor si(tb, CHORUS_DTYPE_I32, {srows, 256}), ss(src, CHORUS_DTYPE_F32, {srows, 256}),
          so(dst, CHORUS_DTYPE_F32, {srows, 16});
      results.push_back(b.measure("scatter_add", shape_text({srows, 256}) + " into 16",
                                  2.0 * srows * 256 * 4 + 2.0 * srows * 16 * 4,
                                  static_cast<double>(srows * 256),
                                  [&] { ops::scatter_add(queue, si, 1, ss, so); }));
    }
  }
  if (wanted(filter, "embedding")) {
    const int64_t d = 512, n = 8192;
    const int64_t v = std::max<int64_t>(std::min<int64_t>(half / d, 50000), 1);
    const std::vector<int64_t> ids = hashed_indices<int64_t>(n, v);
    Buffer ib = device.buffer(ids.size() * 8), ob = device.buffer(static_cast<uint64_t>(n * d) * 4);
    queue.write<int64_t>(ib, ids);
    Tensor table(src, CHORUS_DTYPE_F32, {v, d}), ti(ib, CHORUS_DTYPE_I64, {n}),
        to(ob, CHORUS_DTYPE_F32, {n, d});
    results.push_back(b.measure("embedding", shape_text({v, d}) + " x " + std::to_string(n),
                                2.0 * n * d * 4 + n * 8.0, 0,
                                [&] { ops::embedding(queue, table, ti, to); }));
  }
  if (wanted(filter, "embedding_backward")) {
    const int64_t v = 96, d = 128, n = 64 * 128;
    const std::vector<int64_t> ids = hashed_indices<int64_t>(n, v);
    Buffer ib = device.buffer(ids.size() * 8), gb = device.buffer(static_cast<uint64_t>(v * d) * 4);
    queue.write<int64_t>(ib, ids);
    Tensor ti(ib, CHORUS_DTYPE_I64, {64, 128}), tdy(src, CHORUS_DTYPE_F32, {64, 128, d}),
        tg(gb, CHORUS_DTYPE_F32, {v, d});
    results.push_back(b.measure("embedding_backward",
                                shape_text({64, 128, d}) + " into " + shape_text({v, d}),
                                n * d * 4.0 + v * d * 4.0, static_cast<double>(n * d),
                                [&] { ops::embedding_backward(queue, ti, tdy, tg); }));
  }
  // Cross-entropy over the same rows as classes (8192 samples of 4096
  // classes at 256 MB), i64 targets, reduction mean, and its gradient in
  // place (dlogits = logits, as training uses it): logits read (and
  // written), about 5 flops per element.
  if (wanted(filter, "cross_entropy") || wanted(filter, "cross_entropy_backward")) {
    std::vector<int64_t> labels(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) labels[static_cast<size_t>(i)] = (i * 7919) % row;
    Buffer target_b = device.buffer(static_cast<uint64_t>(rows) * 8), loss_b = device.buffer(8);
    queue.write<int64_t>(target_b, labels);
    Buffer one_b = random_buffer(device, queue, 1, 1, 1, 8);
    Tensor target(target_b, CHORUS_DTYPE_I64, {rows}), loss(loss_b, CHORUS_DTYPE_F32, {}),
        dloss(one_b, CHORUS_DTYPE_F32, {});
    const ops::CrossEntropyOptions mean;
    if (wanted(filter, "cross_entropy"))
      results.push_back(b.measure("cross_entropy", shape_text({rows, row}), row_bytes / 2,
                                  5.0 * rows * row,
                                  [&] { ops::cross_entropy(queue, mean, x, target, loss); }));
    if (wanted(filter, "cross_entropy_backward"))
      results.push_back(b.measure("cross_entropy_backward", shape_text({rows, row}), row_bytes,
                                  5.0 * rows * row, [&] {
                                    ops::cross_entropy_backward(queue, mean, y, target, dloss, y);
                                  }));
  }
  if (wanted(filter, "gemm")) {
    const int64_t n = gemm_n;
    Buffer ab = random_buffer(device, queue, n * n, -1, 1, 6),
           bb = random_buffer(device, queue, n * n, -1, 1, 7);
    Buffer cb = device.buffer(static_cast<uint64_t>(n * n) * 4);
    Tensor a(ab, CHORUS_DTYPE_F32, {n, n}), bt(bb, CHORUS_DTYPE_F32, {n, n}),
        c(cb, CHORUS_DTYPE_F32, {n, n});
    results.push_back(b.measure("gemm", shape_text({n, n, n}), 3.0 * n * n * 4, 2.0 * n * n * n,
                                [&] { ops::gemm(queue, a, bt, c); }));
  }

  // Convolutions (f32): three ResNet-style layers at 56x56, stride 1, in each
  // layout of --conv-layout (nchw, nhwc), batch --conv-batch (8):
  //   3x3    64 -> 64 channels, 3x3 kernel, pad 1
  //   1x1    256 -> 64 channels, 1x1 kernel (ResNet-50's bottleneck reduction)
  //   dw3x3  64 channels depthwise (groups 64), 3x3 kernel, pad 1
  // flops = 2 * N * C_out * OH * OW * (C / groups) * KH * KW in every
  // direction; bytes: each tensor the op reads or writes once.
  const bool conv_fwd = wanted(filter, "conv2d"), conv_data = wanted(filter, "conv2d_backward_data"),
             conv_weight = wanted(filter, "conv2d_backward_weight");
  if (conv_fwd || conv_data || conv_weight) {
    struct ConvLayer {
      const char* name;
      int64_t c, c_out, k, pad, groups;
    };
    const ConvLayer layers[] = {
        {"3x3", 64, 64, 3, 1, 1}, {"1x1", 256, 64, 1, 0, 1}, {"dw3x3", 64, 64, 3, 1, 64}};
    const int64_t nb = conv_batch, hw = 56;
    for (const bool nhwc : image_layouts) {
      for (const ConvLayer& l : layers) {
        const int64_t cg = l.c / l.groups, oh = hw + 2 * l.pad - l.k + 1, ow = oh;
        const int64_t x_n = nb * l.c * hw * hw, w_n = l.c_out * cg * l.k * l.k,
                      y_n = nb * l.c_out * oh * ow;
        ops::Conv2dOptions o;
        o.layout = nhwc ? CHORUS_CONV_NHWC : CHORUS_CONV_NCHW;
        o.pad(static_cast<int32_t>(l.pad));
        o.groups = static_cast<int32_t>(l.groups);
        Buffer xb = random_buffer(device, queue, x_n, -1, 1, 11),
               wb = random_buffer(device, queue, w_n, -1, 1, 12),
               bb = random_buffer(device, queue, l.c_out, -1, 1, 13),
               yb = random_buffer(device, queue, y_n, -1, 1, 14);
        Buffer dxb = device.buffer(static_cast<uint64_t>(x_n) * 4),
               dwb = device.buffer(static_cast<uint64_t>(w_n) * 4),
               dbb = device.buffer(static_cast<uint64_t>(l.c_out) * 4);
        const auto dims = [&](int64_t n, int64_t c, int64_t h, int64_t w) {
          return nhwc ? std::vector<int64_t>{n, h, w, c} : std::vector<int64_t>{n, c, h, w};
        };
        const std::vector<int64_t> xs = dims(nb, l.c, hw, hw), ys = dims(nb, l.c_out, oh, ow),
                                   ws = nhwc ? std::vector<int64_t>{l.c_out, l.k, l.k, cg}
                                             : std::vector<int64_t>{l.c_out, cg, l.k, l.k};
        Tensor tx(xb, CHORUS_DTYPE_F32, xs), tw(wb, CHORUS_DTYPE_F32, ws),
            tb(bb, CHORUS_DTYPE_F32, {l.c_out}), ty(yb, CHORUS_DTYPE_F32, ys),
            tdx(dxb, CHORUS_DTYPE_F32, xs), tdw(dwb, CHORUS_DTYPE_F32, ws),
            tdb(dbb, CHORUS_DTYPE_F32, {l.c_out});
        const double flops = 2.0 * nb * l.c_out * oh * ow * cg * l.k * l.k;
        char text[160];
        std::snprintf(text, sizeof text, "%s %s: x %s, w %s, pad %lld%s", l.name,
                      nhwc ? "NHWC" : "NCHW", shape_text({nb, l.c, hw, hw}).c_str(),
                      shape_text({l.c_out, cg, l.k, l.k}).c_str(), static_cast<long long>(l.pad),
                      l.groups > 1 ? (", groups " + std::to_string(l.groups)).c_str() : "");
        if (conv_fwd)
          results.push_back(b.measure("conv2d", text, 4.0 * (x_n + w_n + l.c_out + y_n), flops,
                                      [&] { ops::conv2d(queue, o, tx, tw, &tb, ty); }));
        if (conv_data)
          results.push_back(b.measure("conv2d_backward_data", text, 4.0 * (y_n + w_n + x_n),
                                      flops,
                                      [&] { ops::conv2d_backward_data(queue, o, ty, tw, tdx); }));
        if (conv_weight)
          results.push_back(b.measure(
              "conv2d_backward_weight", text, 4.0 * (x_n + y_n + w_n + l.c_out), flops,
              [&] { ops::conv2d_backward_weight(queue, o, tx, ty, tdw, &tdb); }));
      }
    }
  }

  // Pooling (f32), in each layout of --conv-layout, batch --conv-batch:
  //   max3x3s2  ResNet's stem pooling: 64 channels, 112x112 -> 56x56, 3x3,
  //             stride 2, pad 1 (forward with indices, and the gradient
  //             through them);
  //   avg2x2s2  DenseNet's transition pooling: 128 channels, 56x56 -> 28x28.
  // Bandwidth-bound: bytes = x read once, y (and indices) written once
  // forward; dy (and indices) read and dx written once backward; flops =
  // one per window tap.
  const bool pool_fwd = wanted(filter, "pool2d"), pool_back = wanted(filter, "pool2d_backward");
  if (pool_fwd || pool_back) {
    struct PoolLayer {
      const char* name;
      bool max;
      int64_t c, hw, k, stride, pad;
    };
    const PoolLayer layers[] = {{"max3x3s2", true, 64, 112, 3, 2, 1},
                                {"avg2x2s2", false, 128, 56, 2, 2, 0}};
    const int64_t nb = conv_batch;
    for (const bool nhwc : image_layouts) {
      for (const PoolLayer& l : layers) {
        const int64_t o_hw = (l.hw + 2 * l.pad - l.k) / l.stride + 1;
        const int64_t x_n = nb * l.c * l.hw * l.hw, y_n = nb * l.c * o_hw * o_hw;
        ops::Pool2dOptions o = l.max ? ops::Pool2dOptions::max(static_cast<int32_t>(l.k))
                                     : ops::Pool2dOptions::avg(static_cast<int32_t>(l.k));
        o.stride(static_cast<int32_t>(l.stride)).pad(static_cast<int32_t>(l.pad));
        o.layout = nhwc ? CHORUS_CONV_NHWC : CHORUS_CONV_NCHW;
        Buffer xb = random_buffer(device, queue, x_n, -1, 1, 21),
               yb = random_buffer(device, queue, y_n, -1, 1, 22);
        Buffer dxb = device.buffer(static_cast<uint64_t>(x_n) * 4),
               ib = device.buffer(static_cast<uint64_t>(y_n) * 8);
        const auto dims = [&](int64_t s) {
          return nhwc ? std::vector<int64_t>{nb, s, s, l.c} : std::vector<int64_t>{nb, l.c, s, s};
        };
        Tensor tx(xb, CHORUS_DTYPE_F32, dims(l.hw)), ty(yb, CHORUS_DTYPE_F32, dims(o_hw)),
            tdx(dxb, CHORUS_DTYPE_F32, dims(l.hw)), ti(ib, CHORUS_DTYPE_I64, dims(o_hw));
        const Tensor* indices = l.max ? &ti : nullptr;
        const double index_bytes = l.max ? 8.0 * y_n : 0.0;
        const double flops = static_cast<double>(y_n) * l.k * l.k;
        char text[160];
        std::snprintf(text, sizeof text, "%s %s: x %s", l.name, nhwc ? "NHWC" : "NCHW",
                      shape_text({nb, l.c, l.hw, l.hw}).c_str());
        if (pool_fwd || l.max)  // the max gradient reads the forward's indices
          results.push_back(b.measure("pool2d", text, 4.0 * (x_n + y_n) + index_bytes, flops,
                                      [&] { ops::pool2d(queue, o, tx, ty, indices); }));
        if (pool_back)
          results.push_back(
              b.measure("pool2d_backward", text, 4.0 * (y_n + x_n) + index_bytes, flops,
                        [&] { ops::pool2d_backward(queue, o, ty, nullptr, indices, tdx); }));
      }
    }
  }

  // Host overhead of one op: a 1-element add submitted 1000 times in a row
  // (the device work is negligible), wall time per submission, median of 5;
  // once as a plain call (validation from the plan cache) and once through a
  // prepared plan (chorus_plan_execute), the figure to compare with a bare
  // launch of the same kernel (chorus-launch-peer).
  double host_us = 0, prepared_us = 0;
  if (wanted(filter, "overhead")) {
    Buffer tiny = device.buffer(4);
    Tensor t(tiny, CHORUS_DTYPE_F32, {1});
    ops::add(queue, t, t, t);
    queue.sync();
    // chorus's calls throw on failure: submit and drain always say true.
    const auto drain = [&] {
      queue.sync();
      return true;
    };
    host_us = host_us_per_submission(
        [&] {
          ops::add(queue, t, t, t);
          return true;
        },
        drain);
    Plan plan = Plan::binary(queue, CHORUS_BINARY_ADD, t, t, t);
    plan.execute(queue, {&t, &t, &t});
    queue.sync();
    prepared_us = host_us_per_submission(
        [&] {
          plan.execute(queue, {&t, &t, &t});
          return true;
        },
        drain);
  }

  std::printf("device %s (%s), driver %s, compiler %s\n", info.name, info.description,
              info.driver_version, info.compiler_version);
  std::printf("copy bandwidth measured in this run: %.2f GB/s\n", copy_gbs);
  if (host_us > 0) {
    std::printf("host time to submit one op (1-element add): %.2f us as a plain call\n", host_us);
    std::printf("host time to submit one op (1-element add): %.2f us through a prepared plan\n",
                prepared_us);
  }
  std::printf("\n");
  std::printf(
      "| op | dtype | shape | path | median ms | min ms | GB/s | GFLOP/s | of copy bandwidth |\n");
  std::printf("|---|---|---|---|---:|---:|---:|---:|---:|\n");
  for (const auto& r : results) {
    const double gbs = r.bytes / (r.median_ms * 1e6);
    const double gflops = r.flops / (r.median_ms * 1e6);
    std::printf("| %s | %s | %s | %s | %.3f | %.3f | %.2f | %.2f | %.0f%% |\n", r.op.c_str(),
                r.dtype.c_str(), r.shape.c_str(), r.path.c_str(), r.median_ms, r.min_ms, gbs,
                gflops, 100.0 * gbs / copy_gbs);
  }
  if (args.has("json")) {
    const std::string path = args.get("json", "");
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "chorus bench: cannot write %s\n", path.c_str());
      return 2;
    }
    using conformance::detail::json_escape;
    std::fprintf(
        f,
        "{\n  \"device\": \"%s\",\n  \"description\": \"%s\",\n  \"driver_version\": \"%s\",\n"
        "  \"compiler_version\": \"%s\",\n  \"chorus_version\": \"%s\",\n  \"reps\": %d,\n"
        "  \"copy_bandwidth_gbs\": %.4f,\n  \"host_us_per_op\": %.4f,\n"
        "  \"host_us_per_prepared_op\": %.4f,\n  \"results\": [\n",
        json_escape(info.name).c_str(), json_escape(info.description).c_str(),
        json_escape(info.driver_version).c_str(), json_escape(info.compiler_version).c_str(),
        chorus_version_string(), reps, copy_gbs, host_us, prepared_us);
    for (size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      const double gbs = r.bytes / (r.median_ms * 1e6);
      std::fprintf(
          f,
          "    {\"op\": \"%s\", \"dtype\": \"%s\", \"shape\": \"%s\", \"path\": \"%s\", "
          "\"median_ms\": %.6f, "
          "\"min_ms\": %.6f, \"bytes\": %.0f, \"flops\": %.0f, \"gbs\": %.4f, \"gflops\": %.4f, "
          "\"fraction_of_copy_bandwidth\": %.4f}%s\n",
          r.op.c_str(), r.dtype.c_str(), r.shape.c_str(), r.path.c_str(), r.median_ms, r.min_ms,
          r.bytes, r.flops,
          gbs, r.flops / (r.median_ms * 1e6), gbs / copy_gbs, i + 1 < results.size() ? "," : "");
    }
    std::fprintf(f, "  ]\n}\n");
    std::fclose(f);
  }
  return 0;
}

}  // namespace chorus::cli
