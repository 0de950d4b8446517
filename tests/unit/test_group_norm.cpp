// test_group_norm.cpp — group_norm and its gradient beyond the conformance
// suite: PyTorch's F.group_norm and autograd answers
// (tests/unit/group_norm_known_answers.py) on the reference in f64 and on
// every device in f32; the reference's gradients against central
// differences of its own forward op; and the argument errors.
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>
#include <string>
#include <vector>

#include "gradcheck.hpp"
#include "group_norm_known_answers.hpp"
#include "test_support.hpp"

namespace {

using chorus_test::check_close;
using chorus_test::expect_failure;
using chorus_test::on_every_device;

struct Outputs {
  std::vector<double> y, dx, dgamma, dbeta;
};

// The forward and backward ops on host vectors of doubles stored as T; an
// empty gamma or beta is NULL.
template <typename T>
Outputs run(const chorus::Device& device, const chorus::Queue& q, const std::vector<int64_t>& shape,
            int32_t groups, const std::vector<double>& x, const std::vector<double>& gamma,
            const std::vector<double>& beta, const std::vector<double>& dy, double eps) {
  const chorus_test::TypedIo<T> io{device, q};
  const size_t n = chorus_test::count(shape), c = static_cast<size_t>(shape[1]);
  const std::vector<int64_t> cs = {shape[1]};
  const chorus::Buffer bx = io.upload(x), bg = io.upload(gamma), bb = io.upload(beta),
                       by = io.upload(std::vector<double>(n)), bdy = io.upload(dy),
                       bdx = io.upload(std::vector<double>(n)),
                       bdg = io.upload(std::vector<double>(c)),
                       bdb = io.upload(std::vector<double>(c));
  const chorus_dtype d = io.dtype();
  const chorus::Tensor tx(bx, d, shape), tg(bg, d, cs), tb(bb, d, cs), ty(by, d, shape),
      tdy(bdy, d, shape), tdx(bdx, d, shape), tdg(bdg, d, cs), tdb(bdb, d, cs);
  const chorus::Tensor* g = gamma.empty() ? nullptr : &tg;
  REQUIRE(chorus_group_norm(q.get(), &tx, groups, g, beta.empty() ? nullptr : &tb, eps, &ty) ==
          CHORUS_OK);
  REQUIRE(chorus_group_norm_backward(q.get(), &tx, groups, g, &tdy, eps, &tdx, &tdg, &tdb) ==
          CHORUS_OK);
  return {io.download(by, n), io.download(bdx, n), io.download(bdg, c), io.download(bdb, c)};
}

struct Inputs {
  std::vector<double> x, gamma, beta, dy;
};

Inputs known_inputs(const gn_known::Answer& a) {
  Inputs in;
  const size_t n = chorus_test::count(a.shape);
  int64_t inner = 1;
  for (size_t k = 2; k < a.shape.size(); ++k) inner *= a.shape[k];
  for (size_t i = 0; i < n; ++i) {
    in.x.push_back(gn_known::x_value(static_cast<int64_t>(i), a.shape[1], inner));
    in.dy.push_back(gn_known::dy_value(static_cast<int64_t>(i)));
  }
  if (a.affine)
    for (int64_t c = 0; c < a.shape[1]; ++c) {
      in.gamma.push_back(gn_known::gamma_value(c));
      in.beta.push_back(gn_known::beta_value(c));
    }
  return in;
}

}  // namespace

TEST_CASE("group norm gives PyTorch's answers: the reference in f64, every device in f32",
          "[group_norm]") {
  // f64 on the reference: long double computation rounded once against
  // PyTorch's float64 (whose variance rounds: ~1e-14 on the group holding
  // the mean-1000 channel): 1e-12 relative to max(1, |answer|). f32 on every
  // device: the inputs are exact in f32 and the group with mean 1000 has a
  // spread ~3, so 2^-24 * 1000 / 3 per value and a few dozen roundings:
  // 1e-4.
  chorus_test::DeviceFixture f;
  for (const gn_known::Answer& a : gn_known::answers()) {
    INFO("shape rank " << a.shape.size() << ", groups " << a.groups
                       << (a.affine ? ", with gamma and beta" : ", without"));
    const Inputs in = known_inputs(a);
    const Outputs o = run<double>(f.device, f.queue, a.shape, a.groups, in.x, in.gamma, in.beta,
                                  in.dy, gn_known::kEps);
    check_close("y", o.y, a.y, 1e-12);
    check_close("dx", o.dx, a.dx, 1e-12);
    check_close("dgamma", o.dgamma, a.dgamma, 1e-12);
    check_close("dbeta", o.dbeta, a.dbeta, 1e-12);
  }
  const int tested = on_every_device([](const chorus::Device& device, const chorus::Queue& q) {
    for (const gn_known::Answer& a : gn_known::answers()) {
      INFO("shape rank " << a.shape.size() << ", groups " << a.groups
                         << (a.affine ? ", with gamma and beta" : ", without"));
      const Inputs in = known_inputs(a);
      const Outputs o = run<float>(device, q, a.shape, a.groups, in.x, in.gamma, in.beta, in.dy,
                                   gn_known::kEps);
      check_close("y", o.y, a.y, 1e-4);
      check_close("dx", o.dx, a.dx, 1e-4);
      check_close("dgamma", o.dgamma, a.dgamma, 1e-4);
      check_close("dbeta", o.dbeta, a.dbeta, 1e-4);
    }
  });
  CHECK(tested >= 1);
}

TEST_CASE("the reference's group norm gradients match central differences of its forward op",
          "[group_norm][gradcheck]") {
  chorus_test::DeviceFixture f;
  const std::vector<int64_t> shape = {2, 6, 3, 2};
  const int32_t groups = 3;
  const size_t n = chorus_test::count(shape);
  std::vector<double> x = chorus_test::random_values(n, 21);
  std::vector<double> gamma = chorus_test::random_values(6, 22);
  std::vector<double> beta = chorus_test::random_values(6, 23);
  const std::vector<double> dy = chorus_test::random_values(n, 24);
  const double eps = 1e-5;
  // L = sum(dy * y); its gradients are the backward op's with this dy.
  const auto loss = [&] {
    return chorus_test::dot(
        run<double>(f.device, f.queue, shape, groups, x, gamma, beta, dy, eps).y, dy);
  };
  const Outputs o = run<double>(f.device, f.queue, shape, groups, x, gamma, beta, dy, eps);
  // L is smooth in x with |L'''| of order r^3 ~ 10 here: step 1e-5 leaves
  // h^2 |L'''| / 6 ~ 2e-10; the rounding of L (~1e-15 * 50 / 1e-5) is 5e-9.
  chorus_test::check_gradient("dx", x, o.dx, loss, 1e-5, 1e-7);
  chorus_test::check_gradient("dgamma", gamma, o.dgamma, loss, 1e-5, 1e-7);
  chorus_test::check_gradient("dbeta", beta, o.dbeta, loss, 1e-5, 1e-7);
}

TEST_CASE("group norm refuses bad arguments with a message naming them", "[group_norm]") {
  chorus_test::DeviceFixture f;
  const chorus::Buffer b = f.device.buffer(4096), o = f.device.buffer(4096),
                       p = f.device.buffer(256);
  const chorus::Tensor x(b, CHORUS_DTYPE_F32, {2, 6, 3}), y(o, CHORUS_DTYPE_F32, {2, 6, 3});
  const chorus::Tensor gamma(p, CHORUS_DTYPE_F32, {6}), gamma5(p, CHORUS_DTYPE_F32, {5});
  const auto q = f.queue.get();
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"num_groups", "4", "6 channels"}, [&] {
    return chorus_group_norm(q, &x, 4, nullptr, nullptr, 1e-5, &y);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"num_groups", "0"}, [&] {
    return chorus_group_norm(q, &x, 0, nullptr, nullptr, 1e-5, &y);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"x", "rank >= 2"}, [&] {
    const chorus::Tensor x1(b, CHORUS_DTYPE_F32, {6}), y1(o, CHORUS_DTYPE_F32, {6});
    return chorus_group_norm(q, &x1, 1, nullptr, nullptr, 1e-5, &y1);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"gamma", "[6]"}, [&] {
    return chorus_group_norm(q, &x, 2, &gamma5, nullptr, 1e-5, &y);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"eps"}, [&] {
    return chorus_group_norm(q, &x, 2, &gamma, nullptr, -1.0, &y);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y"}, [&] {
    const chorus::Tensor y2(o, CHORUS_DTYPE_F32, {2, 6, 4});
    return chorus_group_norm(q, &x, 2, nullptr, nullptr, 1e-5, &y2);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dx, dgamma and dbeta"}, [&] {
    return chorus_group_norm_backward(q, &x, 2, &gamma, &y, 1e-5, nullptr, nullptr, nullptr);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dgamma", "[6]"}, [&] {
    const chorus::Buffer g = f.device.buffer(256);
    const chorus::Tensor dg(g, CHORUS_DTYPE_F32, {3});
    return chorus_group_norm_backward(q, &x, 2, &gamma, &y, 1e-5, nullptr, &dg, nullptr);
  });
}
