// test_softmax_backward.cpp — the softmax and log-softmax gradients beyond
// the conformance suite: the reference against PyTorch's autograd answers
// (tests/unit/softmax_backward_known_answers.py), against central
// differences of its own forward op, in place (dx = dy), and the argument
// errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.hpp"
#include "softmax_backward_known_answers.hpp"
#include "test_support.hpp"

namespace {

using chorus_test::check_close;
using chorus_test::expect_failure;
using Fixture = chorus_test::DeviceFixture;

struct F64 {
  const Fixture& f;
  std::vector<int64_t> shape;
  size_t count() const { return chorus_test::count(shape); }
  chorus::Buffer upload(const std::vector<double>& v) const {
    chorus::Buffer b = f.device.buffer(std::max<uint64_t>(v.size() * 8, 8));
    if (!v.empty()) f.queue.write<double>(b, v);
    return b;
  }
  std::vector<double> download(const chorus::Buffer& b) const {
    std::vector<double> v(count());
    f.queue.read<double>(b, v);
    return v;
  }
  std::vector<double> forward(const std::vector<double>& x, int32_t axis, bool log) const {
    const chorus::Buffer bx = upload(x), by = upload(std::vector<double>(count()));
    const chorus::Tensor tx(bx, CHORUS_DTYPE_F64, shape), ty(by, CHORUS_DTYPE_F64, shape);
    REQUIRE(chorus_softmax(f.queue.get(), &tx, axis, log, &ty) == CHORUS_OK);
    return download(by);
  }
  std::vector<double> backward(const std::vector<double>& y, const std::vector<double>& dy,
                               int32_t axis, bool log) const {
    const chorus::Buffer by = upload(y), bdy = upload(dy), bdx = upload(std::vector<double>(count()));
    const chorus::Tensor ty(by, CHORUS_DTYPE_F64, shape), tdy(bdy, CHORUS_DTYPE_F64, shape),
        tdx(bdx, CHORUS_DTYPE_F64, shape);
    REQUIRE(chorus_softmax_backward(f.queue.get(), &ty, &tdy, axis, log, &tdx) == CHORUS_OK);
    return download(bdx);
  }
};


}  // namespace

TEST_CASE("the reference's softmax gradients give PyTorch's answers", "[softmax_backward]") {
  Fixture f;
  const F64 run{f, {softmax_known::kShape[0], softmax_known::kShape[1], softmax_known::kShape[2]}};
  std::vector<double> x(run.count()), dy(run.count());
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = softmax_known::x_value(static_cast<int64_t>(i));
    dy[i] = softmax_known::dy_value(static_cast<int64_t>(i));
  }
  for (const auto& a : softmax_known::answers()) {
    INFO((a.log ? "log_softmax" : "softmax") << " along axis " << a.axis);
    const std::vector<double> y = run.forward(x, a.axis, a.log);
    check_close("y", y, a.y, 1e-15);
    check_close("dx", run.backward(y, dy, a.axis, a.log), a.dx, 1e-14);
  }
}

TEST_CASE("the reference's softmax gradients match central differences of its forward op",
          "[softmax_backward]") {
  // L = sum(dy * f(x)) is smooth: with a step h = 2^-12 the central
  // difference is off by h^2 |L'''| / 6 (below 1e-8 for these values) plus
  // the rounding of L over h (about 1e-12).
  Fixture f;
  const F64 run{f, {4, 6, 5}};
  for (const bool log : {false, true})
    for (const int32_t axis : {-1, 0, 1}) {
      INFO((log ? "log_softmax" : "softmax") << " along axis " << axis);
      std::vector<double> x = chorus_test::random_values(run.count(), 7);
      for (double& v : x) v *= 3;
      const std::vector<double> dy = chorus_test::random_values(run.count(), 8);
      const std::vector<double> dx = run.backward(run.forward(x, axis, log), dy, axis, log);
      const auto loss = [&]() { return chorus_test::dot(dy, run.forward(x, axis, log)); };
      chorus_test::check_gradient("dx", x, dx, loss, 0x1.0p-12, 1e-7);
    }
}

TEST_CASE("softmax_backward runs in place, dx = dy, on every device", "[softmax_backward]") {
  // In place must give the same values as out of place: each work-item
  // reads dy_j before it writes dx_j.
  chorus::Context ctx;
  const std::vector<int64_t> shape = {7, 300};
  const size_t n = 7 * 300;
  std::vector<float> x(n), dy(n);
  const std::vector<double> rx = chorus_test::random_values(n, 3), rd = chorus_test::random_values(n, 4);
  for (size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(4 * rx[i]);
    dy[i] = static_cast<float>(rd[i]);
  }
  int tested = 0;
  for (const auto& info : ctx.devices()) {
    if (!chorus_test::every_device_takes(info, CHORUS_DTYPE_F32)) continue;
    INFO("device " << info.name);
    chorus::Device device = ctx.open(info.name);
    chorus::Queue q = device.queue();
    chorus::Buffer bx = device.buffer(n * 4), by = device.buffer(n * 4), bdy = device.buffer(n * 4),
                   bdx = device.buffer(n * 4);
    q.write<float>(bx, x);
    const chorus::Tensor tx(bx, CHORUS_DTYPE_F32, shape), ty(by, CHORUS_DTYPE_F32, shape),
        tdy(bdy, CHORUS_DTYPE_F32, shape), tdx(bdx, CHORUS_DTYPE_F32, shape);
    for (const bool log : {false, true}) {
      REQUIRE(chorus_softmax(q.get(), &tx, -1, log, &ty) == CHORUS_OK);
      q.write<float>(bdy, dy);
      const chorus_status s = chorus_softmax_backward(q.get(), &ty, &tdy, -1, log, &tdx);
      if (s == CHORUS_ERROR_UNSUPPORTED) {
        WARN(info.name << " has no softmax_backward: " << chorus_last_error_message());
        continue;
      }
      REQUIRE(s == CHORUS_OK);
      REQUIRE(chorus_softmax_backward(q.get(), &ty, &tdy, -1, log, &tdy) == CHORUS_OK);
      std::vector<float> apart(n), inplace(n);
      q.read<float>(bdx, apart);
      q.read<float>(bdy, inplace);
      CHECK(apart == inplace);
    }
    ++tested;
  }
  CHECK(tested >= 1);
}

TEST_CASE("softmax_backward refuses bad arguments, naming them", "[softmax_backward]") {
  Fixture f;
  chorus::Buffer a = f.device.buffer(4096), b = f.device.buffer(4096), c = f.device.buffer(4096);
  const chorus::Tensor y(a, CHORUS_DTYPE_F32, {4, 8}), dy(b, CHORUS_DTYPE_F32, {4, 8}),
      dx(c, CHORUS_DTYPE_F32, {4, 8});
  REQUIRE(chorus_softmax_backward(f.queue.get(), &y, &dy, -1, 0, &dx) == CHORUS_OK);
  const chorus::Tensor dy_short(b, CHORUS_DTYPE_F32, {4, 7});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dy"}, [&] {
    return chorus_softmax_backward(f.queue.get(), &y, &dy_short, -1, 0, &dx);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"axis"}, [&] {
    return chorus_softmax_backward(f.queue.get(), &y, &dy, 2, 0, &dx);
  });
  const chorus::Tensor dx16(c, CHORUS_DTYPE_F16, {4, 8});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dx is f16"}, [&] {
    return chorus_softmax_backward(f.queue.get(), &y, &dy, -1, 0, &dx16);
  });
  const chorus::Tensor yi(a, CHORUS_DTYPE_I32, {4, 8}), dyi(b, CHORUS_DTYPE_I32, {4, 8}),
      dxi(c, CHORUS_DTYPE_I32, {4, 8});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"i32"}, [&] {
    return chorus_softmax_backward(f.queue.get(), &yi, &dyi, -1, 0, &dxi);
  });
  // dx may be dy (in place) but not y.
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"overlaps"}, [&] {
    return chorus_softmax_backward(f.queue.get(), &y, &dy, -1, 0, &y);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"log_softmax_backward"}, [&] {
    return chorus_softmax_backward(f.queue.get(), &y, &dy_short, -1, 1, &dx);
  });
}
