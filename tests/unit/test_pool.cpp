// test_pool.cpp — pooling beyond the conformance suite (which checks every
// device against the reference on many geometries): the reference itself
// against PyTorch's known answers (tests/unit/pool_known_answers.py: ties,
// NaN and -inf in windows, ceil mode, dilation, count_include_pad both
// ways, divisor_override, NHWC, 1-D), its gradients against central
// differences of its forward op, global average pooling through reduce,
// the argument errors, and one case of each route on every device against
// the reference.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gradcheck.hpp"
#include "pool_known_answers.hpp"
#include "test_support.hpp"

namespace {

using chorus_test::check_close;
using chorus_test::expect_failure;
using Config = pool_known::Config;
using Fixture = chorus_test::DeviceFixture;

chorus_pool2d_attrs attrs_of(const Config& g) {
  chorus_pool2d_attrs a{};
  a.struct_size = sizeof a;
  a.mode = g.max ? CHORUS_POOL_MAX : CHORUS_POOL_AVG;
  a.layout = g.nhwc ? CHORUS_CONV_NHWC : CHORUS_CONV_NCHW;
  a.kernel_h = g.kernel_h;
  a.kernel_w = g.kernel_w;
  a.stride_h = g.stride_h;
  a.stride_w = g.stride_w;
  a.pad_top = a.pad_bottom = g.pad_h;
  a.pad_left = a.pad_right = g.pad_w;
  a.dilation_h = g.dilation_h;
  a.dilation_w = g.dilation_w;
  a.ceil_mode = g.ceil_mode ? 1 : 0;
  a.count_include_pad = !g.max && g.count_include_pad ? 1 : 0;
  a.divisor_override = g.divisor_override;
  return a;
}

std::vector<int64_t> caller(const Config& g, int64_t a, int64_t b, int64_t c, int64_t d) {
  return chorus_test::image_shape(g.nhwc, g.one_d, a, b, c, d);
}
std::vector<int64_t> x_shape(const Config& g) { return caller(g, g.n, g.c, g.h, g.w); }
std::vector<int64_t> y_shape(const Config& g) { return caller(g, g.n, g.c, g.oh, g.ow); }
using chorus_test::count;

// Runs pool2d and pool2d_backward on one device in dtype T (double or
// float), host vectors of doubles in the caller's layout, contiguous.
template <typename T>
class Runner {
 public:
  Runner(const chorus::Device& device, const chorus::Queue& queue)
      : device_(device), queue_(queue) {}

  // indices are computed when `indices` is not null.
  chorus_status forward(const Config& g, const std::vector<double>& x, std::vector<double>& y,
                        std::vector<int64_t>* indices) const {
    const size_t ny = count(y_shape(g));
    const chorus::Buffer bx = upload(x), by = upload(std::vector<double>(ny)),
                         bi = device_.buffer(std::max<uint64_t>(ny * 8, 8));
    const chorus::Tensor tx(bx, dtype(), x_shape(g)), ty(by, dtype(), y_shape(g)),
        ti(bi, CHORUS_DTYPE_I64, y_shape(g));
    const chorus_pool2d_attrs a = attrs_of(g);
    const chorus_status s = chorus_pool2d(queue_.get(), &a, &tx, &ty, indices ? &ti : nullptr);
    if (s == CHORUS_OK) {
      y = download(by, ny);
      if (indices) {
        indices->assign(ny, 0);
        if (ny) queue_.read<int64_t>(bi, *indices);
      }
    }
    return s;
  }

  // Max pooling routes through `indices` when given, else through x.
  chorus_status backward(const Config& g, const std::vector<double>& dy,
                         const std::vector<double>* x, const std::vector<int64_t>* indices,
                         std::vector<double>& dx) const {
    const size_t nx = count(x_shape(g)), ny = count(y_shape(g));
    const chorus::Buffer bdy = upload(dy), bx = upload(x ? *x : std::vector<double>(nx)),
                         bdx = upload(std::vector<double>(nx)),
                         bi = device_.buffer(std::max<uint64_t>(ny * 8, 8));
    if (indices && ny) queue_.write<int64_t>(bi, *indices);
    const chorus::Tensor tdy(bdy, dtype(), y_shape(g)), tx(bx, dtype(), x_shape(g)),
        tdx(bdx, dtype(), x_shape(g)), ti(bi, CHORUS_DTYPE_I64, y_shape(g));
    const chorus_pool2d_attrs a = attrs_of(g);
    const chorus_status s = chorus_pool2d_backward(queue_.get(), &a, &tdy, x ? &tx : nullptr,
                                                   indices ? &ti : nullptr, &tdx);
    if (s == CHORUS_OK) dx = download(bdx, nx);
    return s;
  }

 private:
  static chorus_dtype dtype() { return chorus_test::TypedIo<T>::dtype(); }
  chorus::Buffer upload(const std::vector<double>& v) const { return io_.upload(v); }
  std::vector<double> download(const chorus::Buffer& b, size_t n) const {
    return io_.download(b, n);
  }

  const chorus::Device& device_;
  const chorus::Queue& queue_;
  const chorus_test::TypedIo<T> io_{device_, queue_};
};

std::vector<double> known_values(int tag, size_t n, bool specials) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = pool_known::value(tag, static_cast<int64_t>(i), specials);
  return v;
}


Config geometry(const char* name, bool max, bool nhwc, int64_t n, int64_t c, int64_t h, int64_t w,
                int32_t k, int32_t stride, int32_t pad, bool ceil, bool include) {
  Config g{name, max, nhwc, false, false, n, c, h, w, k, k, stride, stride, pad, pad, 1, 1,
           ceil, include, 0, 0, 0, {}, {}, {}};
  const auto extent = [&](int64_t in) {
    int64_t out = (in + 2 * pad - k + (ceil ? stride - 1 : 0)) / stride + 1;
    if (ceil && (out - 1) * stride >= in + pad) --out;
    return out;
  };
  g.oh = extent(h);
  g.ow = extent(w);
  return g;
}

}  // namespace

// ------------------------------------------------------------ known answers

TEST_CASE("the reference's pooling and its gradients give PyTorch's answers", "[pool]") {
  Fixture f;
  const Runner<double> run(f.device, f.queue);
  for (const Config& g : pool_known::configs()) {
    INFO("configuration " << g.name);
    const std::vector<double> x = known_values(1, count(x_shape(g)), g.specials);
    const std::vector<double> dy = known_values(4, count(y_shape(g)), false);
    std::vector<double> y, dx;
    std::vector<int64_t> indices;
    REQUIRE(run.forward(g, x, y, g.max ? &indices : nullptr) == CHORUS_OK);
    check_close("y", y, g.y, 0);
    if (g.max) {
      CHECK(indices == g.indices);
      REQUIRE(run.backward(g, dy, nullptr, &indices, dx) == CHORUS_OK);
      check_close("dx through indices", dx, g.dx, 0);
      REQUIRE(run.backward(g, dy, &x, nullptr, dx) == CHORUS_OK);
      check_close("dx through x", dx, g.dx, 0);
    } else {
      REQUIRE(run.backward(g, dy, nullptr, nullptr, dx) == CHORUS_OK);
      check_close("dx", dx, g.dx, 1e-15);
    }
  }
}

// ----------------------------------------------------- finite differences

TEST_CASE("the reference's pooling gradients match central differences of its forward op",
          "[pool]") {
  // L = sum(dy * pool(x)) is linear in x for average pooling, and linear
  // near x for max pooling as long as no window's maximum changes hands
  // within the step (the values are distinct, at least ~1e-4 apart, and the
  // step is 2^-20). The difference's error is then the rounding of L, about
  // 2^-53 sum|dy y| / h, below 1e-8.
  Config configs[] = {
      geometry("max 3x3 stride 2 pad 1 ceil", true, false, 2, 3, 9, 8, 3, 2, 1, true, false),
      geometry("max NHWC 2x2 stride 1", true, true, 1, 4, 5, 6, 2, 1, 0, false, false),
      geometry("avg 3x3 stride 2 pad 1 ceil, padding excluded", false, false, 2, 2, 8, 9, 3, 2,
               1, true, false),
      geometry("avg NHWC 3x3 stride 1 pad 1, padding counted", false, true, 1, 3, 6, 5, 3, 1, 1,
               false, true),
  };
  Fixture f;
  const Runner<double> run(f.device, f.queue);
  for (Config& g : configs) {
    INFO("configuration " << g.name);
    std::vector<double> x = chorus_test::random_values(count(x_shape(g)), 1);
    const std::vector<double> dy = chorus_test::random_values(count(y_shape(g)), 2);
    const auto loss = [&]() {
      std::vector<double> y;
      REQUIRE(run.forward(g, x, y, nullptr) == CHORUS_OK);
      return chorus_test::dot(dy, y);
    };
    std::vector<double> dx;
    REQUIRE(run.backward(g, dy, g.max ? &x : nullptr, nullptr, dx) == CHORUS_OK);
    chorus_test::check_gradient("dx", x, dx, loss, 0x1.0p-20, 1e-6);
  }
}

// ------------------------------------------------ global average pooling

TEST_CASE("global average pooling is a mean over H and W through reduce", "[pool]") {
  // docs/ops.md: no op of its own. reduce(mean) over the spatial axes gives
  // PyTorch's adaptive_avg_pool2d(x, 1), and equals pool2d(avg) with the
  // whole image as the kernel.
  Fixture f;
  const int64_t n = 2, c = 3, h = 5, w = 7;
  const std::vector<double> x = chorus_test::random_values(static_cast<size_t>(n * c * h * w), 5);
  chorus::Buffer bx = f.device.buffer(x.size() * 8), bm = f.device.buffer(n * c * 8),
                 bp = f.device.buffer(n * c * 8);
  f.queue.write<double>(bx, x);
  const chorus::Tensor tx(bx, CHORUS_DTYPE_F64, {n, c, h, w}), tm(bm, CHORUS_DTYPE_F64, {n, c}),
      tp(bp, CHORUS_DTYPE_F64, {n, c, 1, 1});
  REQUIRE(chorus_reduce(f.queue.get(), CHORUS_REDUCE_MEAN, &tx, (1u << 2) | (1u << 3), &tm) ==
          CHORUS_OK);
  chorus::ops::Pool2dOptions o = chorus::ops::Pool2dOptions::avg(0);
  o.kernel_h = static_cast<int32_t>(h);
  o.kernel_w = static_cast<int32_t>(w);
  chorus::ops::pool2d(f.queue, o, tx, tp);
  std::vector<double> mean(static_cast<size_t>(n * c)), pooled(mean.size());
  f.queue.read<double>(bm, mean);
  f.queue.read<double>(bp, pooled);
  for (int64_t p = 0; p < n * c; ++p) {
    long double s = 0;
    for (int64_t i = 0; i < h * w; ++i) s += x[static_cast<size_t>(p * h * w + i)];
    const double want = static_cast<double>(s / (h * w));
    CHECK(mean[static_cast<size_t>(p)] == Approx(want).epsilon(1e-15));
    CHECK(pooled[static_cast<size_t>(p)] == Approx(want).epsilon(1e-15));
  }
}

// ------------------------------------------------------------- bad input

TEST_CASE("pool2d and pool2d_backward refuse bad arguments, naming them", "[pool]") {
  Fixture f;
  chorus::Buffer bx = f.device.buffer(8192), by = f.device.buffer(8192), bi = f.device.buffer(8192),
                 bd = f.device.buffer(8192);
  const auto t = [&](const chorus::Buffer& b, std::vector<int64_t> shape,
                     chorus_dtype d = CHORUS_DTYPE_F32) { return chorus::Tensor(b, d, shape); };
  chorus_pool2d_attrs a = chorus::ops::Pool2dOptions::max(2).attrs();
  const auto pool = [&](const chorus_pool2d_attrs* attrs, const chorus::Tensor& x,
                        const chorus::Tensor& y, const chorus::Tensor* indices) {
    return [=, &f] { return chorus_pool2d(f.queue.get(), attrs, &x, &y, indices); };
  };
  const auto back = [&](const chorus_pool2d_attrs* attrs, const chorus::Tensor& dy,
                        const chorus::Tensor* x, const chorus::Tensor* indices,
                        const chorus::Tensor& dx) {
    return [=, &f] { return chorus_pool2d_backward(f.queue.get(), attrs, &dy, x, indices, &dx); };
  };
  // x [1, 3, 6, 6], 2x2 stride 2 -> y [1, 3, 3, 3] is the valid start.
  const chorus::Tensor x = t(bx, {1, 3, 6, 6}), y = t(by, {1, 3, 3, 3}),
                       idx = t(bi, {1, 3, 3, 3}, CHORUS_DTYPE_I64), dx = t(bd, {1, 3, 6, 6});
  REQUIRE(pool(&a, x, y, &idx)() == CHORUS_OK);
  REQUIRE(back(&a, y, nullptr, &idx, dx)() == CHORUS_OK);

  SECTION("an output of the wrong shape, in the caller's layout") {
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y is [1,3,4,4]", "must be [1,3,3,3]"},
                   pool(&a, x, t(by, {1, 3, 4, 4}), nullptr));
    const chorus::Tensor bad = t(bi, {1, 3, 3, 2}, CHORUS_DTYPE_I64);
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"indices is [1,3,3,2]"},
                   pool(&a, x, y, &bad));
    a.layout = CHORUS_CONV_NHWC;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y is [1,3,3,4]", "must be [1,3,3,3]",
                                                   "N, OH, OW, C"},
                   pool(&a, t(bx, {1, 6, 6, 3}), t(by, {1, 3, 3, 4}), nullptr));
  }
  SECTION("ceil mode changes the output shape") {
    // 7x7 with 2x2 stride 2: 3x3 (floor) or 4x4 (ceil).
    CHECK(pool(&a, t(bx, {1, 3, 7, 7}), y, nullptr)() == CHORUS_OK);
    a.ceil_mode = 1;
    CHECK(pool(&a, t(bx, {1, 3, 7, 7}), t(by, {1, 3, 4, 4}), nullptr)() == CHORUS_OK);
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"must be [1,3,4,4]"},
                   pool(&a, t(bx, {1, 3, 7, 7}), y, nullptr));
  }
  SECTION("padding beyond half the kernel, or negative") {
    a.pad_left = 2;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"left 2", "at most half the kernel"},
                   pool(&a, x, y, nullptr));
    a.pad_left = -1;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"left -1", ">= 0"}, pool(&a, x, y, nullptr));
  }
  SECTION("a kernel larger than the padded input") {
    a.kernel_h = a.kernel_w = 7;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"kernel 7x7", "larger than the padded input"},
                   pool(&a, x, y, nullptr));
  }
  SECTION("kernel, stride and dilation") {
    a.kernel_w = 0;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"kernel_w = 0"}, pool(&a, x, y, nullptr));
    a.kernel_w = 2;
    a.stride_h = -1;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"stride_h = -1"}, pool(&a, x, y, nullptr));
    a.stride_h = 2;
    a.dilation_w = -2;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dilation_w = -2"}, pool(&a, x, y, nullptr));
  }
  SECTION("mode, layout and the flags are checked") {
    a.mode = static_cast<chorus_pool_mode>(2);
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"mode 2", "chorus_pool_mode"},
                   pool(&a, x, y, nullptr));
    a.mode = CHORUS_POOL_MAX;
    a.ceil_mode = 3;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"ceil_mode 3", "0 or 1"},
                   pool(&a, x, y, nullptr));
  }
  SECTION("average pooling's options are refused for max pooling, and the reverse") {
    a.count_include_pad = 1;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"count_include_pad", "max pooling takes 0"},
                   pool(&a, x, y, nullptr));
    chorus_pool2d_attrs avg = chorus::ops::Pool2dOptions::avg(2).attrs();
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"indices", "average pooling takes NULL"},
                   pool(&avg, x, y, &idx));
    avg.dilation_h = 2;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dilation 2x1", "average pooling"},
                   pool(&avg, x, y, nullptr));
    avg.dilation_h = 1;
    avg.divisor_override = -3;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"divisor_override is -3"},
                   pool(&avg, x, y, nullptr));
    avg.divisor_override = 0;
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"does not read x"},
                   back(&avg, y, &x, nullptr, dx));
  }
  SECTION("max pooling's gradient needs indices or x") {
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"needs indices", "or x"},
                   back(&a, y, nullptr, nullptr, dx));
    const chorus::Tensor x5 = t(bx, {1, 3, 6, 5});
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"x is [1,3,6,5]", "dx is [1,3,6,6]"},
                   back(&a, y, &x5, nullptr, dx));
  }
  SECTION("dtypes: float data, i64 indices, one float dtype") {
    const chorus::Tensor i32 = t(bi, {1, 3, 3, 3}, CHORUS_DTYPE_I32);
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"indices", "i32"}, pool(&a, x, y, &i32));
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y is f16"},
                   pool(&a, x, t(by, {1, 3, 3, 3}, CHORUS_DTYPE_F16), nullptr));
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"x", "i32"},
                   pool(&a, t(bx, {1, 3, 6, 6}, CHORUS_DTYPE_I32), y, nullptr));
  }
  SECTION("ranks other than 3 and 4, and 1-D takes only the _w attributes") {
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"x has rank 2"},
                   pool(&a, t(bx, {3, 36}), t(by, {3, 9}), nullptr));
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"1-D", "kernel_h"},
                   pool(&a, t(bx, {1, 3, 6}), t(by, {1, 3, 3}), nullptr));
    chorus_pool2d_attrs one = a;
    one.kernel_h = 1;
    one.stride_h = 0;
    CHECK(pool(&one, t(bx, {1, 3, 6}), t(by, {1, 3, 3}), nullptr)() == CHORUS_OK);
  }
  SECTION("NULL attributes, and outputs overlapping inputs") {
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"pool2d", "attrs is NULL"},
                   pool(nullptr, x, y, nullptr));
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"pool2d_backward", "attrs is NULL"},
                   back(nullptr, y, nullptr, &idx, dx));
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"overlaps"},
                   pool(&a, x, t(bx, {1, 3, 3, 3}), nullptr));
  }
}

// ---------------------------------------------------------- every device

TEST_CASE("pooling and its gradients on every device agree with the reference", "[pool]") {
  // Max pooling is exact (a selection, and sums of at most 4 small
  // integers); average pooling is bounded as the suite derives it: 2 K u S
  // (K <= 9 terms) plus both final roundings to f32.
  const Config mx = geometry("max", true, true, 2, 5, 11, 9, 3, 2, 1, true, false);
  const Config av = geometry("avg", false, false, 2, 5, 11, 9, 3, 2, 1, true, false);
  std::vector<double> xi(count(x_shape(mx))), dyi(count(y_shape(mx)));
  for (size_t i = 0; i < xi.size(); ++i) xi[i] = static_cast<double>((i * 7919) % 17) - 8;
  for (size_t i = 0; i < dyi.size(); ++i) dyi[i] = static_cast<double>((i * 104729) % 11) - 5;
  const std::vector<double> x = chorus_test::random_values(count(x_shape(av)), 21);
  const std::vector<double> dy = chorus_test::random_values(count(y_shape(av)), 22);

  Fixture ref;
  const Runner<float> ref32(ref.device, ref.queue);
  std::vector<double> my, mdx, ay, adx;
  std::vector<int64_t> mi;
  REQUIRE(ref32.forward(mx, xi, my, &mi) == CHORUS_OK);
  REQUIRE(ref32.backward(mx, dyi, nullptr, &mi, mdx) == CHORUS_OK);
  REQUIRE(ref32.forward(av, x, ay, nullptr) == CHORUS_OK);
  REQUIRE(ref32.backward(av, dy, nullptr, nullptr, adx) == CHORUS_OK);

  chorus::Context ctx;
  int tested = 0;
  for (const auto& info : ctx.devices()) {
    if (!chorus_test::every_device_takes(info, CHORUS_DTYPE_F32)) continue;
    INFO("device " << info.name);
    chorus::Device device = ctx.open(info.name);
    chorus::Queue queue = device.queue();
    const Runner<float> run(device, queue);
    std::vector<double> y, dx;
    std::vector<int64_t> idx;
    const chorus_status s = run.forward(mx, xi, y, &idx);
    if (s == CHORUS_ERROR_UNSUPPORTED) {
      WARN(info.name << " does not support pool2d yet: " << chorus_last_error_message());
      continue;
    }
    REQUIRE(s == CHORUS_OK);
    check_close("max y", y, my, 0);
    CHECK(idx == mi);
    REQUIRE(run.backward(mx, dyi, nullptr, &mi, dx) == CHORUS_OK);
    check_close("max dx through indices", dx, mdx, 0);
    REQUIRE(run.backward(mx, dyi, &xi, nullptr, dx) == CHORUS_OK);
    check_close("max dx through x", dx, mdx, 0);
    REQUIRE(run.forward(av, x, y, nullptr) == CHORUS_OK);
    check_close("avg y", y, ay, 2 * 10 * 0x1.0p-24 * 9);
    REQUIRE(run.backward(av, dy, nullptr, nullptr, dx) == CHORUS_OK);
    check_close("avg dx", dx, adx, 2 * 10 * 0x1.0p-24 * 9);
    ++tested;
  }
  CHECK(tested >= 1);  // reference:0 at least
}
