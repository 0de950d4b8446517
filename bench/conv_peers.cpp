// conv_peers.cpp — chorus_bench_conv_peers: conv2d forward, backward data
// and backward weight (f32) timed for chorus on one device and, in the same
// process and run, for oneDNN on the same CPU cores, on three ResNet-style
// layers (batch 8, 56x56, stride 1):
//   3x3      64 -> 64 channels, 3x3 kernel, pad 1
//   1x1      256 -> 64 channels, 1x1 kernel (ResNet-50's bottleneck reduction)
//   dw3x3    64 channels depthwise (groups 64), 3x3 kernel, pad 1
// flops = 2 * N * C_out * OH * OW * (C / groups) * KH * KW for every
// direction (the bias gradient's sums are not counted).
//
// chorus takes NCHW tensors (its normal form). oneDNN runs twice: with
// format_tag::any, so that it picks its own (blocked) layouts, its best
// speed — the data is reordered into them before timing, as a network keeps
// them between layers — and with plain nchw / oihw tensors, chorus's
// layout. Every library is timed alike: one call plus a wait for its
// completion, on the host clock, median of --reps calls after at least two
// calls and 0.5 s of warm-up. chorus's results are compared with oneDNN's
// (max |difference| over max |value|), so a fast wrong answer cannot pass.
//
// usage: chorus_bench_conv_peers [--device opencl:0] [--reps 11]
//                                [--layers 3x3,1x1,dw3x3] [--batch 8]
//                                [--dirs fwd,bwd_data,bwd_weight] [--markdown FILE]
#include <algorithm>
#include <chorus/chorus.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "peers.hpp"

#if CHORUS_BENCH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using chorus_bench::median_seconds;

using chorus_bench::random_values;

// max |a - b| / max |b| (b the peer's answer).
double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0, scale = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return scale > 0 ? worst / scale : worst;
}

struct Layer {
  std::string name;
  int64_t n, c, h, w, c_out, k, pad, groups;
  int64_t oh() const { return h + 2 * pad - k + 1; }
  int64_t ow() const { return w + 2 * pad - k + 1; }
  int64_t x_count() const { return n * c * h * w; }
  int64_t w_count() const { return c_out * (c / groups) * k * k; }
  int64_t y_count() const { return n * c_out * oh() * ow(); }
  double flops() const { return 2.0 * n * c_out * oh() * ow() * (c / groups) * k * k; }
  std::string text() const {
    char b[160];
    std::snprintf(b, sizeof b, "%s: x %lldx%lldx%lldx%lld, w %lldx%lldx%lldx%lld, pad %lld%s",
                  name.c_str(), (long long)n, (long long)c, (long long)h, (long long)w,
                  (long long)c_out, (long long)(c / groups), (long long)k, (long long)k,
                  (long long)pad, groups > 1 ? (", groups " + std::to_string(groups)).c_str() : "");
    return b;
  }
};

enum Dir { kFwd = 0, kBwdData = 1, kBwdWeight = 2 };
const char* dir_name(int d) {
  return d == kFwd ? "forward" : d == kBwdData ? "backward data" : "backward weight";
}

// The answers of one layer and direction: the output (y, dx or dw) and,
// for the weight gradient, dbias.
struct Answer {
  std::vector<float> out, bias;
};

struct Row {
  std::string layer;
  int dir = 0;
  double flops = 0;
  double chorus_ms = 0, any_ms = 0, plain_ms = 0;
  double any_diff = -1, plain_diff = -1;
  std::string any_impl, plain_impl;
};

// The inputs every library reads.
struct Inputs {
  std::vector<float> x, w, bias, dy;
};

double chorus_run(chorus::Device& device, chorus::Queue& queue, const Layer& l, int dir, int reps,
                  const Inputs& in, Answer* answer) {
  using chorus::Buffer;
  using chorus::Tensor;
  const auto buffer_of = [&](const std::vector<float>& v) {
    Buffer b = device.buffer(static_cast<uint64_t>(v.size()) * 4);
    queue.write<float>(b, v);
    return b;
  };
  const auto empty = [&](int64_t count) { return device.buffer(static_cast<uint64_t>(count) * 4); };
  chorus::ops::Conv2dOptions o;
  o.pad(static_cast<int32_t>(l.pad));
  o.groups = static_cast<int32_t>(l.groups);
  const std::vector<int64_t> xs{l.n, l.c, l.h, l.w}, ws{l.c_out, l.c / l.groups, l.k, l.k},
      ys{l.n, l.c_out, l.oh(), l.ow()}, bs{l.c_out};
  double s = 0;
  if (dir == kFwd) {
    Buffer xb = buffer_of(in.x), wb = buffer_of(in.w), bb = buffer_of(in.bias),
           yb = empty(l.y_count());
    Tensor x(xb, CHORUS_DTYPE_F32, xs), w(wb, CHORUS_DTYPE_F32, ws), b(bb, CHORUS_DTYPE_F32, bs),
        y(yb, CHORUS_DTYPE_F32, ys);
    s = median_seconds(reps, [&] {
      chorus::ops::conv2d(queue, o, x, w, &b, y);
      queue.sync();
    });
    answer->out.resize(static_cast<size_t>(l.y_count()));
    queue.read<float>(yb, answer->out);
  } else if (dir == kBwdData) {
    Buffer dyb = buffer_of(in.dy), wb = buffer_of(in.w), dxb = empty(l.x_count());
    Tensor dy(dyb, CHORUS_DTYPE_F32, ys), w(wb, CHORUS_DTYPE_F32, ws),
        dx(dxb, CHORUS_DTYPE_F32, xs);
    s = median_seconds(reps, [&] {
      chorus::ops::conv2d_backward_data(queue, o, dy, w, dx);
      queue.sync();
    });
    answer->out.resize(static_cast<size_t>(l.x_count()));
    queue.read<float>(dxb, answer->out);
  } else {
    Buffer xb = buffer_of(in.x), dyb = buffer_of(in.dy), dwb = empty(l.w_count()),
           dbb = empty(l.c_out);
    Tensor x(xb, CHORUS_DTYPE_F32, xs), dy(dyb, CHORUS_DTYPE_F32, ys),
        dw(dwb, CHORUS_DTYPE_F32, ws), db(dbb, CHORUS_DTYPE_F32, bs);
    s = median_seconds(reps, [&] {
      chorus::ops::conv2d_backward_weight(queue, o, x, dy, dw, &db);
      queue.sync();
    });
    answer->out.resize(static_cast<size_t>(l.w_count()));
    answer->bias.resize(static_cast<size_t>(l.c_out));
    queue.read<float>(dwb, answer->out);
    queue.read<float>(dbb, answer->bias);
  }
  return s;
}

#if CHORUS_BENCH_DNNL
// One oneDNN primitive for a layer and direction, its tensors in the
// layouts it chose (any) or in plain nchw/oihw, the inputs reordered into
// them before timing and the outputs reordered back after.
double dnnl_run(dnnl::engine& eng, dnnl::stream& strm, const Layer& l, int dir, int reps,
                bool plain, const Inputs& in, Answer* answer, std::string* impl) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  const memory::dims xd{l.n, l.c, l.h, l.w}, yd{l.n, l.c_out, l.oh(), l.ow()}, bd{l.c_out};
  const memory::dims wd = l.groups > 1
                              ? memory::dims{l.groups, l.c_out / l.groups, l.c / l.groups, l.k, l.k}
                              : memory::dims{l.c_out, l.c, l.k, l.k};
  const tag w_plain = l.groups > 1 ? tag::goihw : tag::oihw;
  const memory::dims strides{1, 1}, pad{l.pad, l.pad};
  const auto md = [](const memory::dims& d, tag t) { return memory::desc(d, dt::f32, t); };
  const tag xt = plain ? tag::nchw : tag::any, wt = plain ? w_plain : tag::any;

  // The user's (plain) memories, wrapping copies of the inputs.
  std::vector<float> x = in.x, w = in.w, bias = in.bias, dy = in.dy;
  memory ux(md(xd, tag::nchw), eng, x.data()), uw(md(wd, w_plain), eng, w.data()),
      ub(md(bd, tag::x), eng, bias.data()), udy(md(yd, tag::nchw), eng, dy.data());
  // A memory in the primitive's layout, filled from the user's when `from`.
  const auto in_layout = [&](const memory::desc& want, memory& user, bool from) {
    if (want == user.get_desc()) return user;
    memory m(want, eng);
    if (from) reorder(user, m).execute(strm, user, m);
    return m;
  };
  const auto read_back = [&](memory& m, const memory::desc& user_md, std::vector<float>* out) {
    out->resize(user_md.get_size() / sizeof(float));
    memory u(user_md, eng, out->data());
    if (m.get_desc() == user_md)
      std::copy(static_cast<float*>(m.get_data_handle()),
                static_cast<float*>(m.get_data_handle()) + out->size(), out->data());
    else
      reorder(m, u).execute(strm, m, u);
    strm.wait();
  };

  convolution_forward::desc fd(prop_kind::forward_training, algorithm::convolution_direct,
                               md(xd, xt), md(wd, wt), md(bd, tag::x), md(yd, xt), strides, pad,
                               pad);
  convolution_forward::primitive_desc fpd(fd, eng);
  double s = 0;
  if (dir == kFwd) {
    *impl = fpd.impl_info_str();
    memory px = in_layout(fpd.src_desc(), ux, true), pw = in_layout(fpd.weights_desc(), uw, true);
    memory py(fpd.dst_desc(), eng);
    strm.wait();
    convolution_forward prim(fpd);
    s = median_seconds(reps, [&] {
      prim.execute(
          strm,
          {{DNNL_ARG_SRC, px}, {DNNL_ARG_WEIGHTS, pw}, {DNNL_ARG_BIAS, ub}, {DNNL_ARG_DST, py}});
      strm.wait();
    });
    read_back(py, md(yd, tag::nchw), &answer->out);
  } else if (dir == kBwdData) {
    convolution_backward_data::desc dd(algorithm::convolution_direct, md(xd, xt), md(wd, wt),
                                       md(yd, xt), strides, pad, pad);
    convolution_backward_data::primitive_desc dpd(dd, eng, fpd);
    *impl = dpd.impl_info_str();
    memory pdy = in_layout(dpd.diff_dst_desc(), udy, true),
           pw = in_layout(dpd.weights_desc(), uw, true);
    memory pdx(dpd.diff_src_desc(), eng);
    strm.wait();
    convolution_backward_data prim(dpd);
    s = median_seconds(reps, [&] {
      prim.execute(strm,
                   {{DNNL_ARG_DIFF_DST, pdy}, {DNNL_ARG_WEIGHTS, pw}, {DNNL_ARG_DIFF_SRC, pdx}});
      strm.wait();
    });
    read_back(pdx, md(xd, tag::nchw), &answer->out);
  } else {
    convolution_backward_weights::desc wdd(algorithm::convolution_direct, md(xd, xt), md(wd, wt),
                                           md(bd, tag::x), md(yd, xt), strides, pad, pad);
    convolution_backward_weights::primitive_desc wpd(wdd, eng, fpd);
    *impl = wpd.impl_info_str();
    memory px = in_layout(wpd.src_desc(), ux, true),
           pdy = in_layout(wpd.diff_dst_desc(), udy, true);
    memory pdw(wpd.diff_weights_desc(), eng), pdb(wpd.diff_bias_desc(), eng);
    strm.wait();
    convolution_backward_weights prim(wpd);
    s = median_seconds(reps, [&] {
      prim.execute(strm, {{DNNL_ARG_SRC, px},
                          {DNNL_ARG_DIFF_DST, pdy},
                          {DNNL_ARG_DIFF_WEIGHTS, pdw},
                          {DNNL_ARG_DIFF_BIAS, pdb}});
      strm.wait();
    });
    read_back(pdw, md(wd, w_plain), &answer->out);
    read_back(pdb, md(bd, tag::x), &answer->bias);
  }
  return s;
}
#endif

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

bool listed(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

}  // namespace

int main(int argc, char** argv) {
  std::string device_name = "opencl:0", markdown;
  std::vector<std::string> layers_wanted = {"3x3", "1x1", "dw3x3"},
                           dirs_wanted = {"fwd", "bwd_data", "bwd_weight"};
  int reps = 11;
  int64_t batch = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--device") {
      device_name = value;
    } else if (key == "--reps") {
      reps = std::max(1, std::atoi(value.c_str()));
    } else if (key == "--markdown") {
      markdown = value;
    } else if (key == "--layers") {
      layers_wanted = split(value);
    } else if (key == "--dirs") {
      dirs_wanted = split(value);
    } else if (key == "--batch") {
      batch = std::max<int64_t>(1, std::atoll(value.c_str()));
    } else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }
  const std::vector<Layer> all = {{"3x3", batch, 64, 56, 56, 64, 3, 1, 1},
                                  {"1x1", batch, 256, 56, 56, 64, 1, 0, 1},
                                  {"dw3x3", batch, 64, 56, 56, 64, 3, 1, 64}};
  const char* dir_keys[3] = {"fwd", "bwd_data", "bwd_weight"};

  chorus::Context ctx;
  chorus::Device device = ctx.open(device_name);
  chorus::Queue queue = device.queue();
  const chorus_device_info info = device.info();
  std::printf("chorus on %s (%s), driver %s\n", info.name, info.description, info.driver_version);
#if CHORUS_BENCH_DNNL
  const dnnl_version_t* version = dnnl_version();
  std::printf("oneDNN %d.%d.%d (%s), CPU runtime %s, on the same cores\n", version->major,
              version->minor, version->patch, version->hash,
              version->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other");
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
#else
  std::printf("oneDNN: skipped (not found when chorus was configured)\n");
#endif
  std::printf(
      "timing: host clock around one call and its completion, median of %d after >= 0.5 s of "
      "warm-up\n\n",
      reps);

  std::vector<Row> rows;
  for (const Layer& l : all) {
    if (!listed(layers_wanted, l.name)) continue;
    std::fprintf(stderr, "%s\n", l.text().c_str());
    Inputs in;
    in.x = random_values(l.x_count(), 1);
    in.w = random_values(l.w_count(), 2);
    in.bias = random_values(l.c_out, 3);
    in.dy = random_values(l.y_count(), 4);
    for (int dir = 0; dir < 3; ++dir) {
      if (!listed(dirs_wanted, dir_keys[dir])) continue;
      Row row;
      row.layer = l.text();
      row.dir = dir;
      row.flops = l.flops();
      Answer mine;
      row.chorus_ms = 1e3 * chorus_run(device, queue, l, dir, reps, in, &mine);
#if CHORUS_BENCH_DNNL
      for (int plain = 0; plain < 2; ++plain) {
        Answer peer;
        std::string impl;
        const double s = dnnl_run(eng, strm, l, dir, reps, plain != 0, in, &peer, &impl);
        double diff = relative_difference(mine.out, peer.out);
        if (dir == kBwdWeight) diff = std::max(diff, relative_difference(mine.bias, peer.bias));
        (plain ? row.plain_ms : row.any_ms) = 1e3 * s;
        (plain ? row.plain_diff : row.any_diff) = diff;
        (plain ? row.plain_impl : row.any_impl) = impl;
      }
#endif
      std::fprintf(stderr, "  %s: chorus %.3f ms, oneDNN any %.3f ms, nchw %.3f ms\n",
                   dir_name(dir), row.chorus_ms, row.any_ms, row.plain_ms);
      rows.push_back(row);
    }
  }

  std::string table =
      "| layer | direction | chorus ms | chorus GFLOP/s | oneDNN (any) ms | GFLOP/s | "
      "chorus / oneDNN (any) | oneDNN (nchw) ms | GFLOP/s | chorus / oneDNN (nchw) | "
      "oneDNN impl (any; nchw) | max rel diff (any, nchw) |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n";
  for (const Row& r : rows) {
    const auto gflops = [&](double ms) { return ms > 0 ? r.flops / (ms * 1e6) : 0.0; };
    const auto cell = [](double v, const char* format) {
      char b[32];
      if (v > 0)
        std::snprintf(b, sizeof b, format, v);
      else
        std::snprintf(b, sizeof b, "skipped");
      return std::string(b);
    };
    // chorus time over oneDNN time: above 1 is slower than oneDNN.
    const auto ratio = [](double mine, double peer) {
      char b[32];
      if (mine > 0 && peer > 0)
        std::snprintf(b, sizeof b, "%.2f", mine / peer);
      else
        std::snprintf(b, sizeof b, "-");
      return std::string(b);
    };
    char line[1024];
    std::snprintf(line, sizeof line,
                  "| %s | %s | %.3f | %.1f | %s | %s | %s | %s | %s | %s | %s; %s | %.2g, %.2g |\n",
                  r.layer.c_str(), dir_name(r.dir), r.chorus_ms, gflops(r.chorus_ms),
                  cell(r.any_ms, "%.3f").c_str(), cell(gflops(r.any_ms), "%.1f").c_str(),
                  ratio(r.chorus_ms, r.any_ms).c_str(), cell(r.plain_ms, "%.3f").c_str(),
                  cell(gflops(r.plain_ms), "%.1f").c_str(), ratio(r.chorus_ms, r.plain_ms).c_str(),
                  r.any_impl.empty() ? "-" : r.any_impl.c_str(),
                  r.plain_impl.empty() ? "-" : r.plain_impl.c_str(), r.any_diff, r.plain_diff);
    table += line;
  }
  return chorus_bench::emit_table(table, markdown);
}
