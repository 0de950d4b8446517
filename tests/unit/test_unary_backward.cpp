// test_unary_backward.cpp — the activation gradients beyond the conformance
// suite: the reference against PyTorch's autograd answers, kinks included
// (tests/unit/unary_backward_known_answers.py), against central differences
// of its own forward ops, the y form against the x form, in place (dx = dy)
// on every device, and the argument errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.hpp"
#include "test_support.hpp"
#include "unary_backward_known_answers.hpp"

namespace {

using chorus_test::check_close;
using chorus_test::expect_failure;
using Fixture = chorus_test::DeviceFixture;

// The forward's test parameters, as the known answers use them.
chorus_unary_attrs forward_attrs(chorus_unary_op op) {
  chorus_unary_attrs a{sizeof a, op, 0, 0};
  if (op == CHORUS_UNARY_LEAKY_RELU) a.alpha = 0.2;
  if (op == CHORUS_UNARY_ELU) a.alpha = 1.5;
  if (op == CHORUS_UNARY_CLAMP) {
    a.alpha = -1.5;
    a.beta = 2.25;
  }
  return a;
}

bool has_y_form(chorus_unary_op op) {
  return op == CHORUS_UNARY_RELU || op == CHORUS_UNARY_LEAKY_RELU || op == CHORUS_UNARY_ELU ||
         op == CHORUS_UNARY_SIGMOID || op == CHORUS_UNARY_TANH;
}

// f64 vectors through the forward and backward ops on one queue.
struct F64 {
  const Fixture& f;
  chorus::Buffer upload(const std::vector<double>& v) const {
    chorus::Buffer b = f.device.buffer(std::max<uint64_t>(v.size() * 8, 8));
    if (!v.empty()) f.queue.write<double>(b, v);
    return b;
  }
  std::vector<double> download(const chorus::Buffer& b, size_t n) const {
    std::vector<double> v(n);
    f.queue.read<double>(b, v);
    return v;
  }
  chorus::Tensor tensor(const chorus::Buffer& b, size_t n) const {
    return chorus::Tensor(b, CHORUS_DTYPE_F64, {static_cast<int64_t>(n)});
  }
  std::vector<double> forward(chorus_unary_op op, const std::vector<double>& x) const {
    const chorus::Buffer bx = upload(x), by = upload(std::vector<double>(x.size()));
    const chorus::Tensor tx = tensor(bx, x.size()), ty = tensor(by, x.size());
    const chorus_unary_attrs a = forward_attrs(op);
    REQUIRE(chorus_unary_ex(f.queue.get(), &a, &tx, &ty) == CHORUS_OK);
    return download(by, x.size());
  }
  std::vector<double> backward(chorus_unary_op op, bool from_y, const std::vector<double>& v,
                               const std::vector<double>& dy) const {
    const chorus::Buffer bv = upload(v), bdy = upload(dy), bdx = upload(std::vector<double>(v.size()));
    const chorus::Tensor tv = tensor(bv, v.size()), tdy = tensor(bdy, v.size()),
                         tdx = tensor(bdx, v.size());
    const chorus_unary_attrs fa = forward_attrs(op);
    const chorus_unary_backward_attrs a{sizeof a, op, from_y ? 1 : 0, 0, fa.alpha, fa.beta};
    REQUIRE(chorus_unary_backward(f.queue.get(), &a, &tv, &tdy, &tdx) == CHORUS_OK);
    return download(bdx, v.size());
  }
};


}  // namespace

TEST_CASE("the reference's activation gradients give PyTorch's answers, kinks included",
          "[unary_backward]") {
  Fixture f;
  const F64 run{f};
  const std::vector<double>& x = unary_backward_known::x();
  const std::vector<double>& dy = unary_backward_known::dy();
  for (const auto& a : unary_backward_known::answers()) {
    INFO("op " << a.op);
    const std::vector<double> y = run.forward(a.op, x);
    check_close("y", y, a.y, 1e-15);
    check_close("dx from x", run.backward(a.op, false, x, dy), a.dx, 1e-14);
    if (has_y_form(a.op)) check_close("dx from y", run.backward(a.op, true, y, dy), a.dx, 1e-14);
  }
}

TEST_CASE("the reference's activation gradients match central differences of its forward ops",
          "[unary_backward]") {
  // L = sum(dy * f(x)); each x stays 2^-6 or more from the kinks (0 for
  // relu, leaky_relu and elu, +-3 for hardsigmoid and hardswish, clamp's
  // bounds), so with a step h = 2^-12 every f is smooth across the
  // difference, which is then off by h^2 |f'''| / 6 (below 1e-7 here: the
  // largest f''' of these functions is tanh's and gelu's, a few units) plus
  // the rounding of L over h (about 1e-12).
  Fixture f;
  const F64 run{f};
  const chorus_unary_op ops[] = {
      CHORUS_UNARY_RELU,      CHORUS_UNARY_LEAKY_RELU, CHORUS_UNARY_ELU,       CHORUS_UNARY_SIGMOID,
      CHORUS_UNARY_TANH,      CHORUS_UNARY_GELU_ERF,   CHORUS_UNARY_GELU_TANH, CHORUS_UNARY_SILU,
      CHORUS_UNARY_SOFTPLUS,  CHORUS_UNARY_HARDSIGMOID, CHORUS_UNARY_HARDSWISH, CHORUS_UNARY_CLAMP,
      CHORUS_UNARY_SOFTSIGN};
  const double kinks[] = {0.0, -3.0, 3.0, -1.5, 2.25};
  std::vector<double> x = chorus_test::random_values(200, 11);
  for (double& v : x) {
    v *= 5;
    for (const double k : kinks)
      if (std::fabs(v - k) < 0x1.0p-6) v = k + 0x1.0p-5;
  }
  const std::vector<double> dy = chorus_test::random_values(x.size(), 12);
  for (const chorus_unary_op op : ops) {
    INFO("op " << op);
    std::vector<double> at = x;
    const std::vector<double> dx = run.backward(op, false, at, dy);
    const auto loss = [&]() { return chorus_test::dot(dy, run.forward(op, at)); };
    chorus_test::check_gradient("dx", at, dx, loss, 0x1.0p-12, 1e-7);
    if (has_y_form(op)) check_close("from y", run.backward(op, true, run.forward(op, x), dy), dx, 1e-13);
  }
}

TEST_CASE("unary_backward runs in place, dx = dy, on every device", "[unary_backward]") {
  // Each work-item reads dy_i before it writes dx_i: in place gives the
  // out-of-place bits.
  chorus::Context ctx;
  const std::vector<int64_t> shape = {9, 301};
  const size_t n = 9 * 301;
  std::vector<float> x(n), dy(n);
  const std::vector<double> rx = chorus_test::random_values(n, 5), rd = chorus_test::random_values(n, 6);
  for (size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(6 * rx[i]);
    dy[i] = static_cast<float>(rd[i]);
  }
  int tested = 0;
  for (const auto& info : ctx.devices()) {
    if (!chorus_test::every_device_takes(info, CHORUS_DTYPE_F32)) continue;
    INFO("device " << info.name);
    chorus::Device device = ctx.open(info.name);
    chorus::Queue q = device.queue();
    chorus::Buffer bx = device.buffer(n * 4), bdy = device.buffer(n * 4), bdx = device.buffer(n * 4);
    q.write<float>(bx, x);
    const chorus::Tensor tx(bx, CHORUS_DTYPE_F32, shape), tdy(bdy, CHORUS_DTYPE_F32, shape),
        tdx(bdx, CHORUS_DTYPE_F32, shape);
    for (const chorus_unary_op op : {CHORUS_UNARY_GELU_TANH, CHORUS_UNARY_SIGMOID}) {
      q.write<float>(bdy, dy);
      const chorus_unary_backward_attrs a{sizeof a, op, 0, 0, 0, 0};
      const chorus_status s = chorus_unary_backward(q.get(), &a, &tx, &tdy, &tdx);
      if (s == CHORUS_ERROR_UNSUPPORTED) {
        WARN(info.name << " has no unary_backward: " << chorus_last_error_message());
        continue;
      }
      REQUIRE(s == CHORUS_OK);
      REQUIRE(chorus_unary_backward(q.get(), &a, &tx, &tdy, &tdy) == CHORUS_OK);
      std::vector<float> apart(n), inplace(n);
      q.read<float>(bdx, apart);
      q.read<float>(bdy, inplace);
      CHECK(apart == inplace);
    }
    ++tested;
  }
  CHECK(tested >= 1);
}

TEST_CASE("unary_backward refuses bad arguments, naming them", "[unary_backward]") {
  Fixture f;
  chorus::Buffer a = f.device.buffer(4096), b = f.device.buffer(4096), c = f.device.buffer(4096);
  const chorus::Tensor x(a, CHORUS_DTYPE_F32, {4, 8}), dy(b, CHORUS_DTYPE_F32, {4, 8}),
      dx(c, CHORUS_DTYPE_F32, {4, 8});
  chorus_unary_backward_attrs attrs{sizeof attrs, CHORUS_UNARY_SILU, 0, 0, 0, 0};
  REQUIRE(chorus_unary_backward(f.queue.get(), &attrs, &x, &dy, &dx) == CHORUS_OK);
  chorus::ops::unary_backward(f.queue, CHORUS_UNARY_LEAKY_RELU, x, dy, dx, true);  // C++, from y

  const auto run = [&](const chorus_unary_backward_attrs& at, const chorus::Tensor& v,
                       const chorus::Tensor& g, const chorus::Tensor& out) {
    return chorus_unary_backward(f.queue.get(), &at, &v, &g, &out);
  };
  chorus_unary_backward_attrs exp = attrs;
  exp.op = CHORUS_UNARY_EXP;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"exp has no gradient op", "relu"},
                 [&] { return run(exp, x, dy, dx); });
  chorus_unary_backward_attrs bad_op = attrs;
  bad_op.op = static_cast<chorus_unary_op>(CHORUS_UNARY_COUNT_);
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"op"}, [&] { return run(bad_op, x, dy, dx); });
  chorus_unary_backward_attrs gelu_y = attrs;
  gelu_y.op = CHORUS_UNARY_GELU_ERF;
  gelu_y.from_output = 1;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"from_output", "gelu_erf", "input x"},
                 [&] { return run(gelu_y, x, dy, dx); });
  chorus_unary_backward_attrs leaky_y{sizeof attrs, CHORUS_UNARY_LEAKY_RELU, 1, 0, -0.1, 0};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"alpha", "leaky_relu"},
                 [&] { return run(leaky_y, x, dy, dx); });
  chorus_unary_backward_attrs elu_y{sizeof attrs, CHORUS_UNARY_ELU, 1, 0, -1, 0};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"alpha", "elu"},
                 [&] { return run(elu_y, x, dy, dx); });
  chorus_unary_backward_attrs from2 = attrs;
  from2.from_output = 2;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"from_output"}, [&] { return run(from2, x, dy, dx); });
  chorus_unary_backward_attrs reserved = attrs;
  reserved.reserved = 1;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"reserved"}, [&] { return run(reserved, x, dy, dx); });
  chorus_unary_backward_attrs nan_alpha{sizeof attrs, CHORUS_UNARY_ELU, 0, 0, NAN, 0};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"alpha"}, [&] { return run(nan_alpha, x, dy, dx); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"attrs"}, [&] {
    return chorus_unary_backward(f.queue.get(), nullptr, &x, &dy, &dx);
  });

  const chorus::Tensor dy16(b, CHORUS_DTYPE_F16, {4, 8});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dy is f16"}, [&] { return run(attrs, x, dy16, dx); });
  const chorus::Tensor xi(a, CHORUS_DTYPE_I32, {4, 8}), dyi(b, CHORUS_DTYPE_I32, {4, 8}),
      dxi(c, CHORUS_DTYPE_I32, {4, 8});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"i32"}, [&] { return run(attrs, xi, dyi, dxi); });
  const chorus::Tensor dy_wide(b, CHORUS_DTYPE_F32, {4, 9});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dy"}, [&] { return run(attrs, x, dy_wide, dx); });
  // The names the core reports carry the op: "silu_backward".
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"silu_backward"},
                 [&] { return run(attrs, x, dy_wide, dx); });
}
