// test_batch_norm.cpp — batch_norm and its gradient beyond the conformance
// suite: the reference against PyTorch's F.batch_norm and autograd
// (tests/unit/batch_norm_known_answers.py), running statistics included,
// and against central differences of its own forward op; on every device,
// in place (y = x, dx = dy), outputs asked for alone, an empty batch, the
// same bits run after run; and the argument errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "batch_norm_known_answers.hpp"
#include "gradcheck.hpp"
#include "test_support.hpp"

namespace {

using chorus_test::check_close;
using chorus_test::expect_failure;
using chorus_test::on_every_device;
using Fixture = chorus_test::DeviceFixture;

chorus_batch_norm_attrs bn_attrs(bool training, double eps = 1e-5, double momentum = 0.1) {
  return chorus_batch_norm_attrs{sizeof(chorus_batch_norm_attrs), training ? 1 : 0, eps, momentum};
}

// Vectors of T (float or double) through the two ops on one queue, as f64
// vectors. An empty per-channel vector is a NULL tensor.
template <typename T>
struct Runner {
  const chorus::Device& device;
  const chorus::Queue& queue;
  std::vector<int64_t> shape;
  chorus_test::TypedIo<T> io() const { return {device, queue}; }
  size_t count() const { return chorus_test::count(shape); }
  int64_t channels() const { return shape[1]; }
  struct Forward {
    std::vector<double> y, running_mean, running_var;
  };
  // running_mean / running_var are updated in place (training).
  Forward forward(const std::vector<double>& x, const std::vector<double>& gamma,
                  const std::vector<double>& beta, const std::vector<double>& running_mean,
                  const std::vector<double>& running_var, const chorus_batch_norm_attrs& a,
                  bool in_place = false) const {
    const chorus::Buffer bx = io().upload(x), by = io().upload(std::vector<double>(count())),
                         bg = io().upload(gamma), bb = io().upload(beta),
                         bm = io().upload(running_mean), bv = io().upload(running_var);
    const std::vector<int64_t> c = {channels()};
    const chorus::Tensor tx(bx, io().dtype(), shape), ty(by, io().dtype(), shape),
        tg(bg, io().dtype(), c), tb(bb, io().dtype(), c), tm(bm, io().dtype(), c),
        tv(bv, io().dtype(), c);
    REQUIRE(chorus_batch_norm(queue.get(), &a, &tx, gamma.empty() ? nullptr : &tg,
                              beta.empty() ? nullptr : &tb, running_mean.empty() ? nullptr : &tm,
                              running_var.empty() ? nullptr : &tv, in_place ? &tx : &ty) ==
            CHORUS_OK);
    Forward f;
    f.y = io().download(in_place ? bx : by, count());
    if (!running_mean.empty()) f.running_mean = io().download(bm, running_mean.size());
    if (!running_var.empty()) f.running_var = io().download(bv, running_var.size());
    return f;
  }
  struct Gradients {
    std::vector<double> dx, dgamma, dbeta;  // empty when not asked for
  };
  Gradients backward(const std::vector<double>& x, const std::vector<double>& gamma,
                     const std::vector<double>& running_mean,
                     const std::vector<double>& running_var, const std::vector<double>& dy,
                     const chorus_batch_norm_attrs& a, bool want_dx = true,
                     bool want_dgamma = true, bool want_dbeta = true, bool in_place = false) const {
    const size_t c = static_cast<size_t>(channels());
    const chorus::Buffer bx = io().upload(x), bdy = io().upload(dy), bg = io().upload(gamma),
                         bm = io().upload(running_mean), bv = io().upload(running_var),
                         bdx = io().upload(std::vector<double>(count())),
                         bdg = io().upload(std::vector<double>(c)),
                         bdb = io().upload(std::vector<double>(c));
    const std::vector<int64_t> cs = {channels()};
    const chorus::Tensor tx(bx, io().dtype(), shape), tdy(bdy, io().dtype(), shape),
        tdx(bdx, io().dtype(), shape), tg(bg, io().dtype(), cs), tm(bm, io().dtype(), cs),
        tv(bv, io().dtype(), cs), tdg(bdg, io().dtype(), cs), tdb(bdb, io().dtype(), cs);
    REQUIRE(chorus_batch_norm_backward(queue.get(), &a, &tx, gamma.empty() ? nullptr : &tg,
                                       running_mean.empty() ? nullptr : &tm,
                                       running_var.empty() ? nullptr : &tv, &tdy,
                                       want_dx ? (in_place ? &tdy : &tdx) : nullptr,
                                       want_dgamma ? &tdg : nullptr,
                                       want_dbeta ? &tdb : nullptr) == CHORUS_OK);
    Gradients g;
    if (want_dx) g.dx = io().download(in_place ? bdy : bdx, count());
    if (want_dgamma) g.dgamma = io().download(bdg, c);
    if (want_dbeta) g.dbeta = io().download(bdb, c);
    return g;
  }
};

// The bits of two vectors of doubles read back from one dtype: NaN == NaN.
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

std::vector<double> scaled(std::vector<double> v, double scale, double shift = 0) {
  for (double& x : v) x = static_cast<double>(static_cast<float>(scale * x + shift));
  return v;
}

}  // namespace

TEST_CASE("the reference's batch norm gives PyTorch's answers", "[batch_norm]") {
  // PyTorch's float64 answers are off the exact ones by its variance's
  // rounding (up to 2.7e-14 on the channel of mean 1000, measured against
  // a two-pass form in the script's checks); the reference computes in long
  // double and rounds once: 1e-13 relative to max(1, |answer|). dbeta sums
  // multiples of 1/8: exact on both sides.
  Fixture f;
  for (const bn_known::Answer& a : bn_known::answers()) {
    INFO("shape rank " << a.shape.size() << (a.training ? ", training" : ", inference")
                       << (a.affine ? ", with gamma and beta" : ", without"));
    const Runner<double> run{f.device, f.queue, a.shape};
    const int64_t c = a.shape[1];
    const int64_t inner = static_cast<int64_t>(run.count()) / (a.shape[0] * c);
    std::vector<double> x(run.count()), dy(run.count()), gamma, beta, rm, rv;
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = bn_known::x_value(static_cast<int64_t>(i), c, inner);
      dy[i] = bn_known::dy_value(static_cast<int64_t>(i));
    }
    for (int64_t j = 0; j < c; ++j) {
      if (a.affine) {
        gamma.push_back(bn_known::gamma_value(j));
        beta.push_back(bn_known::beta_value(j));
      }
      rm.push_back(bn_known::running_mean_value(j));
      rv.push_back(bn_known::running_var_value(j));
    }
    const chorus_batch_norm_attrs at = bn_attrs(a.training, bn_known::kEps, bn_known::kMomentum);
    const auto fw = run.forward(x, gamma, beta, rm, rv, at);
    check_close("y", fw.y, a.y, 1e-13);
    check_close("running_mean", fw.running_mean, a.running_mean, 1e-15);
    check_close("running_var", fw.running_var, a.running_var, 1e-13);
    const auto g = run.backward(x, gamma, rm, rv, dy, at);
    check_close("dx", g.dx, a.dx, 1e-13);
    check_close("dgamma", g.dgamma, a.dgamma, 1e-13);
    check_close("dbeta", g.dbeta, a.dbeta, 0);
  }
}

TEST_CASE("the reference's batch norm gradients match central differences of its forward op",
          "[batch_norm]") {
  // L = sum(dy * y): linear in gamma and beta, smooth in x (each channel's
  // values spread over a unit or more); a step of 2^-12 leaves the
  // difference off by below 1e-7. Training without running statistics,
  // inference with them.
  Fixture f;
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{3, 2, 4}, {2, 3, 2, 2}})
    for (const bool training : {true, false}) {
      INFO("shape rank " << shape.size() << (training ? ", training" : ", inference"));
      const Runner<double> run{f.device, f.queue, shape};
      const size_t c = static_cast<size_t>(shape[1]);
      std::vector<double> x = chorus_test::random_values(run.count(), 11);
      for (double& v : x) v *= 2;
      const std::vector<double> dy = chorus_test::random_values(run.count(), 12);
      std::vector<double> gamma = chorus_test::random_values(c, 13),
                          beta = chorus_test::random_values(c, 14);
      std::vector<double> rm, rv;
      if (!training) {
        rm = chorus_test::random_values(c, 15);
        rv = scaled(chorus_test::random_values(c, 16), 0.25, 1.0);
      }
      const chorus_batch_norm_attrs a = bn_attrs(training);
      const auto g = run.backward(x, gamma, rm, rv, dy, a);
      const auto loss = [&]() { return chorus_test::dot(dy, run.forward(x, gamma, beta, rm, rv, a).y); };
      chorus_test::check_gradient("dx", x, g.dx, loss, 0x1.0p-12, 1e-7);
      chorus_test::check_gradient("dgamma", gamma, g.dgamma, loss, 0x1.0p-12, 1e-7);
      chorus_test::check_gradient("dbeta", beta, g.dbeta, loss, 0x1.0p-12, 1e-7);
    }
}

TEST_CASE("batch norm in place, outputs alone, and run after run give the same bits, on every "
          "device",
          "[batch_norm]") {
  // [8, 5, 30, 7]: 1680 values per channel, more than any one work-group
  // reads at once. y = x and dx = dy must give the out-of-place bits; each
  // gradient asked for alone the bits of all three together; a second run
  // the first's (fixed-order sums, no atomics).
  const std::vector<int64_t> shape = {8, 5, 30, 7};
  const size_t count = chorus_test::count(shape);
  const std::vector<double> x = scaled(chorus_test::random_values(count, 21), 3, 2),
                            dy = scaled(chorus_test::random_values(count, 22), 1),
                            gamma = scaled(chorus_test::random_values(5, 23), 2),
                            beta = scaled(chorus_test::random_values(5, 24), 1),
                            rm = scaled(chorus_test::random_values(5, 25), 1),
                            rv = scaled(chorus_test::random_values(5, 26), 0.25, 1);
  const int tested = on_every_device([&](const chorus::Device& device, const chorus::Queue& q) {
    const Runner<float> run{device, q, shape};
    for (const bool training : {true, false}) {
      INFO("mode " << (training ? "training" : "inference"));
      const chorus_batch_norm_attrs a = bn_attrs(training);
      const auto out = run.forward(x, gamma, beta, rm, rv, a);
      CHECK(std::all_of(out.y.begin(), out.y.end(), [](double v) { return std::isfinite(v); }));
      const auto again = run.forward(x, gamma, beta, rm, rv, a);
      CHECK(same_bits(again.y, out.y));
      CHECK(same_bits(again.running_mean, out.running_mean));
      CHECK(same_bits(again.running_var, out.running_var));
      const auto in_place = run.forward(x, gamma, beta, rm, rv, a, true);
      CHECK(same_bits(in_place.y, out.y));
      CHECK(same_bits(in_place.running_var, out.running_var));
      if (training) {
        // Without running statistics: the same y.
        CHECK(same_bits(run.forward(x, gamma, beta, {}, {}, a).y, out.y));
      } else {
        CHECK(same_bits(out.running_mean, scaled(rm, 1)));
        CHECK(same_bits(out.running_var, scaled(rv, 1)));
      }

      const auto all = run.backward(x, gamma, rm, rv, dy, a);
      CHECK(std::all_of(all.dx.begin(), all.dx.end(), [](double v) { return std::isfinite(v); }));
      CHECK(same_bits(run.backward(x, gamma, rm, rv, dy, a).dgamma, all.dgamma));
      CHECK(same_bits(run.backward(x, gamma, rm, rv, dy, a, true, false, false).dx, all.dx));
      CHECK(same_bits(run.backward(x, gamma, rm, rv, dy, a, false, true, false).dgamma, all.dgamma));
      CHECK(same_bits(run.backward(x, gamma, rm, rv, dy, a, false, false, true).dbeta, all.dbeta));
      const auto in_place_g = run.backward(x, gamma, rm, rv, dy, a, true, true, true, true);
      CHECK(same_bits(in_place_g.dx, all.dx));
      CHECK(same_bits(in_place_g.dgamma, all.dgamma));
      CHECK(same_bits(in_place_g.dbeta, all.dbeta));
    }
  });
  CHECK(tested >= 1);
}

TEST_CASE("batch norm's running statistics follow PyTorch's update, on every device",
          "[batch_norm]") {
  // running = (1 - momentum) running + momentum batch, the batch variance
  // unbiased (n / (n - 1)), after three steps; computed on the host in
  // double. f32 differs by a few roundings of values near 1.
  const std::vector<int64_t> shape = {4, 3, 5};
  const size_t count = 60;
  const std::vector<double> x = scaled(chorus_test::random_values(count, 31), 2, 0.5);
  std::vector<double> want_m = {0.25, -0.5, 1.0}, want_v = {1.0, 0.5, 2.0};
  const std::vector<double> start_m = want_m, start_v = want_v;
  for (int step = 0; step < 3; ++step)
    for (size_t c = 0; c < 3; ++c) {
      double s = 0, q = 0;
      for (size_t n = 0; n < 4; ++n)
        for (size_t l = 0; l < 5; ++l) s += x[(n * 3 + c) * 5 + l];
      const double mean = s / 20;
      for (size_t n = 0; n < 4; ++n)
        for (size_t l = 0; l < 5; ++l) q += (x[(n * 3 + c) * 5 + l] - mean) * (x[(n * 3 + c) * 5 + l] - mean);
      want_m[c] = 0.8 * want_m[c] + 0.2 * mean;
      want_v[c] = 0.8 * want_v[c] + 0.2 * q / 19;
    }
  const int tested = on_every_device([&](const chorus::Device& device, const chorus::Queue& q) {
    const Runner<float> run{device, q, shape};
    std::vector<double> m = start_m, v = start_v;
    for (int step = 0; step < 3; ++step) {
      const auto out = run.forward(x, {}, {}, m, v, bn_attrs(true, 1e-5, 0.2));
      m = out.running_mean;
      v = out.running_var;
    }
    check_close("running_mean", m, want_m, 1e-6);
    check_close("running_var", v, want_v, 1e-6);
  });
  CHECK(tested >= 1);
}

TEST_CASE("batch norm gradients of an empty batch are zero, on every device", "[batch_norm]") {
  // x [0, 3, 4]: the forward does nothing (the running statistics keep
  // their values); dgamma and dbeta are empty sums, 0, over what the
  // buffers held.
  const std::vector<int64_t> shape = {0, 3, 4};
  const int tested = on_every_device([&](const chorus::Device& device, const chorus::Queue& q) {
    const Runner<float> run{device, q, shape};
    for (const bool training : {true, false}) {
      INFO("mode " << (training ? "training" : "inference"));
      const chorus_batch_norm_attrs a = bn_attrs(training);
      const auto out = run.forward({}, {1, 2, 3}, {0, 0, 0}, {0.5, 1, 2}, {1, 2, 3}, a);
      CHECK(out.running_mean == std::vector<double>{0.5, 1, 2});
      CHECK(out.running_var == std::vector<double>{1, 2, 3});
      const chorus::Buffer bdg = device.buffer(12), bdb = device.buffer(12), bx = device.buffer(8),
                           bdy = device.buffer(8), bdx = device.buffer(8), bm = device.buffer(12),
                           bv = device.buffer(12);
      const std::vector<float> nan3(3, std::numeric_limits<float>::quiet_NaN()), ones(3, 1.0f);
      q.write<float>(bdg, nan3);
      q.write<float>(bdb, nan3);
      q.write<float>(bm, ones);
      q.write<float>(bv, ones);
      const chorus::Tensor tx(bx, CHORUS_DTYPE_F32, shape), tdy(bdy, CHORUS_DTYPE_F32, shape),
          tdx(bdx, CHORUS_DTYPE_F32, shape), tdg(bdg, CHORUS_DTYPE_F32, {3}),
          tdb(bdb, CHORUS_DTYPE_F32, {3}), tm(bm, CHORUS_DTYPE_F32, {3}),
          tv(bv, CHORUS_DTYPE_F32, {3});
      REQUIRE(chorus_batch_norm_backward(q.get(), &a, &tx, nullptr, &tm, &tv, &tdy, &tdx, &tdg,
                                         &tdb) == CHORUS_OK);
      std::vector<float> dg(3), db(3);
      q.read<float>(bdg, dg);
      q.read<float>(bdb, db);
      CHECK(dg == std::vector<float>(3, 0.0f));
      CHECK(db == std::vector<float>(3, 0.0f));
    }
  });
  CHECK(tested >= 1);
}

TEST_CASE("batch norm refuses bad arguments with a message naming them", "[batch_norm]") {
  Fixture f;
  const chorus::Buffer b = f.device.buffer(4096);
  const chorus::Tensor x(b, CHORUS_DTYPE_F32, {2, 3, 4}), y(b, CHORUS_DTYPE_F32, {2, 3, 4}),
      x1(b, CHORUS_DTYPE_F32, {6}), c3(b, CHORUS_DTYPE_F32, {3}), c4(b, CHORUS_DTYPE_F32, {4}),
      one_each(b, CHORUS_DTYPE_F32, {1, 3}), y_wrong(b, CHORUS_DTYPE_F32, {2, 3, 5});
  const auto q = f.queue.get();
  const chorus_batch_norm_attrs train = bn_attrs(true), eval = bn_attrs(false),
                                neg_eps = bn_attrs(true, -1), nan_momentum = bn_attrs(true, 1e-5, NAN);
  chorus_batch_norm_attrs bad_training = train;
  bad_training.training = 2;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"x", "[6]", "axis 1"},
                 [&] { return chorus_batch_norm(q, &train, &x1, nullptr, nullptr, nullptr, nullptr, &x1); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"gamma", "[4]", "[3]"},
                 [&] { return chorus_batch_norm(q, &train, &x, &c4, nullptr, nullptr, nullptr, &y); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"running_var", "NULL"},
                 [&] { return chorus_batch_norm(q, &train, &x, nullptr, nullptr, &c3, nullptr, &y); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"training is 0", "running_mean"},
                 [&] { return chorus_batch_norm(q, &eval, &x, nullptr, nullptr, nullptr, nullptr, &y); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"one value per channel"}, [&] {
    return chorus_batch_norm(q, &train, &one_each, nullptr, nullptr, nullptr, nullptr, &one_each);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"eps"},
                 [&] { return chorus_batch_norm(q, &neg_eps, &x, nullptr, nullptr, nullptr, nullptr, &y); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"momentum"}, [&] {
    return chorus_batch_norm(q, &nan_momentum, &x, nullptr, nullptr, nullptr, nullptr, &y);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"training"}, [&] {
    return chorus_batch_norm(q, &bad_training, &x, nullptr, nullptr, nullptr, nullptr, &y);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y"},
                 [&] { return chorus_batch_norm(q, &train, &x, nullptr, nullptr, nullptr, nullptr, &y_wrong); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dx, dgamma and dbeta are all NULL"}, [&] {
    return chorus_batch_norm_backward(q, &train, &x, nullptr, nullptr, nullptr, &y, nullptr, nullptr,
                                      nullptr);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dy"}, [&] {
    return chorus_batch_norm_backward(q, &train, &x, nullptr, nullptr, nullptr, &y_wrong, &y,
                                      nullptr, nullptr);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dgamma", "[4]"}, [&] {
    return chorus_batch_norm_backward(q, &train, &x, nullptr, nullptr, nullptr, &y, nullptr, &c4,
                                      nullptr);
  });
}
