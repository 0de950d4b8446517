// test_norm_backward.cpp — the layer-norm and RMS-norm gradients beyond the
// conformance suite: the reference against PyTorch's autograd answers
// (tests/unit/norm_backward_known_answers.py), against central differences
// of its own forward ops, and, on every device, some outputs asked for alone,
// in place (dx = dy), the fixed-order dgamma and dbeta sums, zero rows; and
// the argument errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gradcheck.hpp"
#include "norm_backward_known_answers.hpp"
#include "test_support.hpp"

namespace {

using chorus_test::check_close;
using chorus_test::expect_failure;
using Fixture = chorus_test::DeviceFixture;

const char* op_name(bool rms) {
  return rms ? "rms_norm" : "layer_norm";
}

// layer_norm_backward or rms_norm_backward (which has no dbeta: it must be
// nullptr).
chorus_status norm_backward(const chorus::Queue& q, bool rms, const chorus_tensor& x,
                            const chorus_tensor* gamma, const chorus_tensor& dy, double eps,
                            const chorus_tensor* dx, const chorus_tensor* dgamma,
                            const chorus_tensor* dbeta) {
  if (rms) {
    REQUIRE(dbeta == nullptr);
    return chorus_rms_norm_backward(q.get(), &x, gamma, &dy, eps, dx, dgamma);
  }
  return chorus_layer_norm_backward(q.get(), &x, gamma, &dy, eps, dx, dgamma, dbeta);
}

// f64 vectors through the forward and backward ops on one queue; gamma and
// beta are nullptr when absent.
struct F64 {
  const Fixture& f;
  std::vector<int64_t> shape;
  bool rms;
  double eps;
  size_t count() const { return chorus_test::count(shape); }
  int64_t features() const { return shape.back(); }
  chorus::Buffer upload(const std::vector<double>& v) const {
    chorus::Buffer b = f.device.buffer(std::max<uint64_t>(v.size() * 8, 8));
    if (!v.empty()) f.queue.write<double>(b, v);
    return b;
  }
  std::vector<double> download(const chorus::Buffer& b, size_t n) const {
    std::vector<double> v(n);
    if (n) f.queue.read<double>(b, v);
    return v;
  }
  std::vector<double> forward(const std::vector<double>& x, const std::vector<double>* gamma,
                              const std::vector<double>* beta) const {
    const chorus::Buffer bx = upload(x), by = upload(std::vector<double>(count()));
    const chorus::Buffer bg = upload(gamma ? *gamma : std::vector<double>()),
                         bb = upload(beta ? *beta : std::vector<double>());
    const chorus::Tensor tx(bx, CHORUS_DTYPE_F64, shape), ty(by, CHORUS_DTYPE_F64, shape),
        tg(bg, CHORUS_DTYPE_F64, {features()}), tb(bb, CHORUS_DTYPE_F64, {features()});
    if (rms) {
      REQUIRE(beta == nullptr);
      REQUIRE(chorus_rms_norm(f.queue.get(), &tx, gamma ? &tg : nullptr, eps, &ty) == CHORUS_OK);
    } else {
      REQUIRE(chorus_layer_norm(f.queue.get(), &tx, gamma ? &tg : nullptr, beta ? &tb : nullptr,
                                eps, &ty) == CHORUS_OK);
    }
    return download(by, count());
  }
  struct Gradients {
    std::vector<double> dx, dgamma, dbeta;  // empty when not asked for
  };
  // The gradients asked for; those not asked for come back empty.
  Gradients backward(const std::vector<double>& x, const std::vector<double>* gamma,
                     const std::vector<double>& dy, bool want_dx, bool want_dgamma,
                     bool want_dbeta) const {
    const size_t n = static_cast<size_t>(features());
    const chorus::Buffer bx = upload(x), bdy = upload(dy),
                         bg = upload(gamma ? *gamma : std::vector<double>()),
                         bdx = upload(std::vector<double>(count())),
                         bdg = upload(std::vector<double>(n)), bdb = upload(std::vector<double>(n));
    const chorus::Tensor tx(bx, CHORUS_DTYPE_F64, shape), tdy(bdy, CHORUS_DTYPE_F64, shape),
        tdx(bdx, CHORUS_DTYPE_F64, shape), tg(bg, CHORUS_DTYPE_F64, {features()}),
        tdg(bdg, CHORUS_DTYPE_F64, {features()}), tdb(bdb, CHORUS_DTYPE_F64, {features()});
    REQUIRE(norm_backward(f.queue, rms, tx, gamma ? &tg : nullptr, tdy, eps,
                          want_dx ? &tdx : nullptr, want_dgamma ? &tdg : nullptr,
                          want_dbeta ? &tdb : nullptr) == CHORUS_OK);
    Gradients g;
    if (want_dx) g.dx = download(bdx, count());
    if (want_dgamma) g.dgamma = download(bdg, n);
    if (want_dbeta) g.dbeta = download(bdb, n);
    return g;
  }
};

// f32 host vectors to and from one device.
chorus::Buffer upload_f32(const chorus::Device& device, const chorus::Queue& q,
                          const std::vector<float>& v) {
  chorus::Buffer b = device.buffer(std::max<uint64_t>(v.size() * 4, 8));
  if (!v.empty()) q.write<float>(b, v);
  return b;
}

std::vector<float> download_f32(const chorus::Queue& q, const chorus::Buffer& b, size_t n) {
  std::vector<float> v(n);
  if (n) q.read<float>(b, v);
  return v;
}

// Random f32 values in [-scale, scale).
std::vector<float> random_f32(size_t n, uint64_t seed, double scale) {
  const std::vector<double> r = chorus_test::random_values(n, seed);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(scale * r[i]);
  return v;
}

// The bits of a float vector: NaN == NaN, -0 != +0.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE("the reference's norm gradients give PyTorch's answers", "[norm_backward]") {
  // The answers are within 3.3e-16 of the exact ones (the script says how
  // it knows), the reference's long double rounded once: the reference
  // agrees within 3.6e-16 relative to max(1, |answer|). y gets 1e-15, the
  // gradients, with a few more roundings on each side (sums over a row of
  // 6, over 12 rows for dgamma), 1e-14, as the softmax gradients. dbeta sums
  // multiples of 1/8: exact on both sides.
  Fixture f;
  const std::vector<int64_t> shape = {norm_known::kShape[0], norm_known::kShape[1],
                                      norm_known::kShape[2]};
  const int64_t n = shape.back();
  std::vector<double> x(chorus_test::count(shape)), dy(x.size()), gamma(static_cast<size_t>(n)),
      beta(gamma.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = norm_known::x_value(static_cast<int64_t>(i));
    dy[i] = norm_known::dy_value(static_cast<int64_t>(i));
  }
  for (int64_t j = 0; j < n; ++j) {
    gamma[static_cast<size_t>(j)] = norm_known::gamma_value(j);
    beta[static_cast<size_t>(j)] = norm_known::beta_value(j);
  }
  for (const auto& a : norm_known::answers()) {
    INFO(op_name(a.rms) << (a.affine ? " with gamma" : " without gamma")
                        << (a.affine && !a.rms ? " and beta" : ""));
    const F64 run{f, shape, a.rms, norm_known::kEps};
    const std::vector<double>* g = a.affine ? &gamma : nullptr;
    const std::vector<double>* b = a.affine && !a.rms ? &beta : nullptr;
    check_close("y", run.forward(x, g, b), a.y, 1e-15);
    const F64::Gradients got = run.backward(x, g, dy, true, true, !a.rms);
    check_close("dx", got.dx, a.dx, 1e-14);
    // Without gamma, dgamma and dbeta are the gradients at gamma = 1, beta = 0.
    check_close("dgamma", got.dgamma, a.dgamma, 1e-14);
    check_close("dbeta", got.dbeta, a.dbeta, 0);
  }
}

TEST_CASE("the reference's norm gradients match central differences of its forward ops",
          "[norm_backward]") {
  // L = sum(dy * f(x, gamma, beta)). L is linear in gamma and beta: their
  // central differences are off only by the rounding of L over h (about
  // 1e-13 here). In x it is smooth: |x| >= 0.25 keeps rms_norm's one-element
  // rows (x / sqrt(x^2 + eps)) far from their steep part near 0, and the
  // rows of 5 spread over a unit or more, so with a step h = 2^-12 the
  // difference is off by h^2 |L'''| / 6 (below 1e-8) plus that rounding.
  // Without gamma, dgamma and dbeta are checked at gamma = 1, beta = 0.
  // One-element layer-norm rows normalise to 0 whatever x is: dx is 0
  // exactly there, and dgamma too.
  Fixture f;
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{4, 6, 5}, {3, 1}})
    for (const bool rms : {false, true})
      for (const bool affine : {true, false}) {
        INFO(op_name(rms) << " of shape [" << shape[0] << ", ..., " << shape.back() << "] "
                          << (affine ? "with" : "without") << " gamma");
        const F64 run{f, shape, rms, 1e-5};
        const size_t n = static_cast<size_t>(run.features());
        std::vector<double> x = chorus_test::random_values(run.count(), 21);
        for (double& v : x) v = 2 * v + (v < 0 ? -0.25 : 0.25);
        const std::vector<double> dy = chorus_test::random_values(run.count(), 22);
        std::vector<double> gamma = chorus_test::random_values(n, 23),
                            beta = chorus_test::random_values(n, 24);
        for (double& v : gamma) v *= 2;
        if (!affine) {
          gamma.assign(n, 1.0);
          beta.assign(n, 0.0);
        }
        const std::vector<double>* g = affine ? &gamma : nullptr;
        const std::vector<double>* b = affine && !rms ? &beta : nullptr;
        const F64::Gradients got = run.backward(x, g, dy, true, true, !rms);

        const auto loss_x = [&]() { return chorus_test::dot(dy, run.forward(x, g, b)); };
        chorus_test::check_gradient("dx", x, got.dx, loss_x, 0x1.0p-12, 1e-7);
        // The parameters' loss always passes them, ones and zeros included.
        const auto loss_p = [&]() {
          return chorus_test::dot(dy, run.forward(x, &gamma, rms ? nullptr : &beta));
        };
        chorus_test::check_gradient("dgamma", gamma, got.dgamma, loss_p, 0x1.0p-12, 1e-7);
        if (!rms) chorus_test::check_gradient("dbeta", beta, got.dbeta, loss_p, 0x1.0p-12, 1e-7);
        if (!rms && n == 1) {
          CHECK(std::all_of(got.dx.begin(), got.dx.end(), [](double v) { return v == 0; }));
          CHECK(got.dgamma == std::vector<double>{0.0});
        }
      }
}

TEST_CASE("norm gradients asked for alone equal those asked for together, on every device",
          "[norm_backward]") {
  // Each output is computed as when all are asked for: the same bits.
  chorus::Context ctx;
  const std::vector<int64_t> shape = {5, 37};
  const size_t count = 5 * 37, n = 37;
  const std::vector<float> x = random_f32(count, 31, 3), dy = random_f32(count, 32, 1),
                           gamma = random_f32(n, 33, 2);
  int tested = 0;
  for (const auto& info : ctx.devices()) {
    if (!chorus_test::every_device_takes(info, CHORUS_DTYPE_F32)) continue;
    INFO("device " << info.name);
    chorus::Device device = ctx.open(info.name);
    chorus::Queue q = device.queue();
    const chorus::Buffer bx = upload_f32(device, q, x), bdy = upload_f32(device, q, dy),
                         bg = upload_f32(device, q, gamma), bdx = device.buffer(count * 4),
                         bdg = device.buffer(n * 4), bdb = device.buffer(n * 4);
    const chorus::Tensor tx(bx, CHORUS_DTYPE_F32, shape), tdy(bdy, CHORUS_DTYPE_F32, shape),
        tdx(bdx, CHORUS_DTYPE_F32, shape), tg(bg, CHORUS_DTYPE_F32, {37}),
        tdg(bdg, CHORUS_DTYPE_F32, {37}), tdb(bdb, CHORUS_DTYPE_F32, {37});
    for (const bool rms : {false, true}) {
      INFO(op_name(rms));
      const chorus_status s =
          norm_backward(q, rms, tx, &tg, tdy, 1e-5, &tdx, &tdg, rms ? nullptr : &tdb);
      if (s == CHORUS_ERROR_UNSUPPORTED) {
        WARN(info.name << " has no " << op_name(rms)
                       << "_backward: " << chorus_last_error_message());
        continue;
      }
      REQUIRE(s == CHORUS_OK);
      const std::vector<float> all_dx = download_f32(q, bdx, count),
                               all_dg = download_f32(q, bdg, n), all_db = download_f32(q, bdb, n);
      const std::vector<float> nan_count(count, std::numeric_limits<float>::quiet_NaN()),
          nan_n(n, std::numeric_limits<float>::quiet_NaN());

      q.write<float>(bdx, nan_count);
      REQUIRE(norm_backward(q, rms, tx, &tg, tdy, 1e-5, &tdx, nullptr, nullptr) == CHORUS_OK);
      CHECK(same_bits(download_f32(q, bdx, count), all_dx));

      q.write<float>(bdg, nan_n);
      REQUIRE(norm_backward(q, rms, tx, &tg, tdy, 1e-5, nullptr, &tdg, nullptr) == CHORUS_OK);
      CHECK(same_bits(download_f32(q, bdg, n), all_dg));

      if (!rms) {
        q.write<float>(bdb, nan_n);
        REQUIRE(norm_backward(q, rms, tx, &tg, tdy, 1e-5, nullptr, nullptr, &tdb) == CHORUS_OK);
        CHECK(same_bits(download_f32(q, bdb, n), all_db));

        q.write<float>(bdg, nan_n);
        q.write<float>(bdb, nan_n);
        REQUIRE(norm_backward(q, rms, tx, &tg, tdy, 1e-5, nullptr, &tdg, &tdb) == CHORUS_OK);
        CHECK(same_bits(download_f32(q, bdg, n), all_dg));
        CHECK(same_bits(download_f32(q, bdb, n), all_db));
      }
    }
    ++tested;
  }
  CHECK(tested >= 1);
}

TEST_CASE("norm gradients run in place, dx = dy, on every device", "[norm_backward]") {
  // In place must give the out-of-place bits, dx and the dgamma and dbeta
  // computed beside it: dy is read, for every one of them, before dx
  // overwrites it. A long row (5000) crosses any one work-group's share.
  chorus::Context ctx;
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{7, 300}, {2, 5000}}) {
    const size_t count = chorus_test::count(shape), n = static_cast<size_t>(shape.back());
    INFO("shape [" << shape[0] << ", " << shape[1] << "]");
    const std::vector<float> x = random_f32(count, 3, 4), dy = random_f32(count, 4, 1),
                             gamma = random_f32(n, 5, 2);
    int tested = 0;
    for (const auto& info : ctx.devices()) {
      if (!chorus_test::every_device_takes(info, CHORUS_DTYPE_F32)) continue;
      INFO("device " << info.name);
      chorus::Device device = ctx.open(info.name);
      chorus::Queue q = device.queue();
      const chorus::Buffer bx = upload_f32(device, q, x), bg = upload_f32(device, q, gamma),
                           bdy = device.buffer(count * 4), bdx = device.buffer(count * 4),
                           bdg = device.buffer(n * 4), bdb = device.buffer(n * 4),
                           bdg2 = device.buffer(n * 4), bdb2 = device.buffer(n * 4);
      const int64_t features = shape.back();
      const chorus::Tensor tx(bx, CHORUS_DTYPE_F32, shape), tdy(bdy, CHORUS_DTYPE_F32, shape),
          tdx(bdx, CHORUS_DTYPE_F32, shape), tg(bg, CHORUS_DTYPE_F32, {features}),
          tdg(bdg, CHORUS_DTYPE_F32, {features}), tdb(bdb, CHORUS_DTYPE_F32, {features}),
          tdg2(bdg2, CHORUS_DTYPE_F32, {features}), tdb2(bdb2, CHORUS_DTYPE_F32, {features});
      for (const bool rms : {false, true}) {
        INFO(op_name(rms));
        q.write<float>(bdy, dy);
        const chorus_status s =
            norm_backward(q, rms, tx, &tg, tdy, 1e-5, &tdx, &tdg, rms ? nullptr : &tdb);
        if (s == CHORUS_ERROR_UNSUPPORTED) {
          WARN(info.name << " has no " << op_name(rms)
                         << "_backward: " << chorus_last_error_message());
          continue;
        }
        REQUIRE(s == CHORUS_OK);
        REQUIRE(norm_backward(q, rms, tx, &tg, tdy, 1e-5, &tdy, &tdg2, rms ? nullptr : &tdb2) ==
                CHORUS_OK);
        CHECK(same_bits(download_f32(q, bdy, count), download_f32(q, bdx, count)));
        CHECK(same_bits(download_f32(q, bdg2, n), download_f32(q, bdg, n)));
        if (!rms) CHECK(same_bits(download_f32(q, bdb2, n), download_f32(q, bdb, n)));
        // dx alone, in place.
        q.write<float>(bdy, dy);
        REQUIRE(norm_backward(q, rms, tx, &tg, tdy, 1e-5, &tdy, nullptr, nullptr) == CHORUS_OK);
        CHECK(same_bits(download_f32(q, bdy, count), download_f32(q, bdx, count)));
      }
      ++tested;
    }
    CHECK(tested >= 1);
  }
}

TEST_CASE("norm gradients' dgamma and dbeta are the same bits run after run, on every device",
          "[norm_backward]") {
  // Fixed-order sums over 4096 rows (chorus.h): no atomics, no order that
  // depends on scheduling.
  chorus::Context ctx;
  const std::vector<int64_t> shape = {4096, 33};
  const size_t count = 4096 * 33, n = 33;
  const std::vector<float> x = random_f32(count, 41, 3), dy = random_f32(count, 42, 1),
                           gamma = random_f32(n, 43, 2);
  int tested = 0;
  for (const auto& info : ctx.devices()) {
    if (!chorus_test::every_device_takes(info, CHORUS_DTYPE_F32)) continue;
    INFO("device " << info.name);
    chorus::Device device = ctx.open(info.name);
    chorus::Queue q = device.queue();
    const chorus::Buffer bx = upload_f32(device, q, x), bdy = upload_f32(device, q, dy),
                         bg = upload_f32(device, q, gamma), bdg = device.buffer(n * 4),
                         bdb = device.buffer(n * 4), bdg2 = device.buffer(n * 4),
                         bdb2 = device.buffer(n * 4);
    const chorus::Tensor tx(bx, CHORUS_DTYPE_F32, shape), tdy(bdy, CHORUS_DTYPE_F32, shape),
        tg(bg, CHORUS_DTYPE_F32, {33}), tdg(bdg, CHORUS_DTYPE_F32, {33}),
        tdb(bdb, CHORUS_DTYPE_F32, {33}), tdg2(bdg2, CHORUS_DTYPE_F32, {33}),
        tdb2(bdb2, CHORUS_DTYPE_F32, {33});
    for (const bool rms : {false, true}) {
      INFO(op_name(rms));
      const chorus_status s =
          norm_backward(q, rms, tx, &tg, tdy, 1e-5, nullptr, &tdg, rms ? nullptr : &tdb);
      if (s == CHORUS_ERROR_UNSUPPORTED) {
        WARN(info.name << " has no " << op_name(rms)
                       << "_backward: " << chorus_last_error_message());
        continue;
      }
      REQUIRE(s == CHORUS_OK);
      REQUIRE(norm_backward(q, rms, tx, &tg, tdy, 1e-5, nullptr, &tdg2, rms ? nullptr : &tdb2) ==
              CHORUS_OK);
      const std::vector<float> dg = download_f32(q, bdg, n);
      CHECK(std::all_of(dg.begin(), dg.end(), [](float v) { return std::isfinite(v); }));
      CHECK(same_bits(download_f32(q, bdg2, n), dg));
      if (!rms) CHECK(same_bits(download_f32(q, bdb2, n), download_f32(q, bdb, n)));
    }
    ++tested;
  }
  CHECK(tested >= 1);
}

TEST_CASE("norm gradients of zero rows are zero, on every device", "[norm_backward]") {
  // x [0, 5]: dgamma and dbeta are empty sums, 0, over whatever the buffers
  // held (NaN here); dx has no elements.
  chorus::Context ctx;
  const std::vector<int64_t> shape = {0, 5};
  const std::vector<float> nan5(5, std::numeric_limits<float>::quiet_NaN()),
      gamma = {0.5f, -1.0f, 2.0f, 1.5f, -0.25f};
  int tested = 0;
  for (const auto& info : ctx.devices()) {
    if (!chorus_test::every_device_takes(info, CHORUS_DTYPE_F32)) continue;
    INFO("device " << info.name);
    chorus::Device device = ctx.open(info.name);
    chorus::Queue q = device.queue();
    const chorus::Buffer bx = device.buffer(8), bdy = device.buffer(8), bdx = device.buffer(8),
                         bg = upload_f32(device, q, gamma), bdg = device.buffer(5 * 4),
                         bdb = device.buffer(5 * 4);
    const chorus::Tensor tx(bx, CHORUS_DTYPE_F32, shape), tdy(bdy, CHORUS_DTYPE_F32, shape),
        tdx(bdx, CHORUS_DTYPE_F32, shape), tg(bg, CHORUS_DTYPE_F32, {5}),
        tdg(bdg, CHORUS_DTYPE_F32, {5}), tdb(bdb, CHORUS_DTYPE_F32, {5});
    for (const bool rms : {false, true})
      for (const bool with_gamma : {true, false}) {
        INFO(op_name(rms) << (with_gamma ? " with gamma" : " without gamma"));
        q.write<float>(bdg, nan5);
        q.write<float>(bdb, nan5);
        const chorus_status s = norm_backward(q, rms, tx, with_gamma ? &tg : nullptr, tdy, 1e-5,
                                              &tdx, &tdg, rms ? nullptr : &tdb);
        if (s == CHORUS_ERROR_UNSUPPORTED) {
          WARN(info.name << " has no " << op_name(rms)
                         << "_backward: " << chorus_last_error_message());
          continue;
        }
        REQUIRE(s == CHORUS_OK);
        CHECK(download_f32(q, bdg, 5) == std::vector<float>(5, 0.0f));
        if (!rms) CHECK(download_f32(q, bdb, 5) == std::vector<float>(5, 0.0f));
      }
    ++tested;
  }
  CHECK(tested >= 1);
}

TEST_CASE("norm gradients refuse bad arguments, naming them", "[norm_backward]") {
  Fixture f;
  chorus::Buffer a = f.device.buffer(4096), b = f.device.buffer(4096), c = f.device.buffer(4096),
                 d = f.device.buffer(4096), e = f.device.buffer(4096), g = f.device.buffer(4096);
  const chorus::Tensor x(a, CHORUS_DTYPE_F32, {4, 8}), gamma(b, CHORUS_DTYPE_F32, {8}),
      dy(c, CHORUS_DTYPE_F32, {4, 8}), dx(d, CHORUS_DTYPE_F32, {4, 8}),
      dgamma(e, CHORUS_DTYPE_F32, {8}), dbeta(g, CHORUS_DTYPE_F32, {8});
  REQUIRE(chorus_layer_norm_backward(f.queue.get(), &x, &gamma, &dy, 1e-5, &dx, &dgamma, &dbeta) ==
          CHORUS_OK);
  REQUIRE(chorus_rms_norm_backward(f.queue.get(), &x, &gamma, &dy, 1e-5, &dx, &dgamma) ==
          CHORUS_OK);
  chorus::ops::layer_norm_backward(f.queue, x, nullptr, dy, 0, &dx, &dgamma, &dbeta);  // C++
  chorus::ops::rms_norm_backward(f.queue, x, &gamma, dy, 1e-5, nullptr, &dgamma);
  chorus::ops::layer_norm_backward(f.queue, x, &gamma, dy, 1e-5, &dy);  // in place

  for (const bool rms : {false, true}) {
    INFO(op_name(rms));
    const chorus::Tensor* db = rms ? nullptr : &dbeta;
    const auto run = [&](const chorus::Tensor& tx, const chorus::Tensor* tg,
                         const chorus::Tensor& tdy, double eps, const chorus::Tensor* tdx,
                         const chorus::Tensor* tdg, const chorus::Tensor* tdb) {
      return norm_backward(f.queue, rms, tx, tg, tdy, eps, tdx, tdg, tdb);
    };
    const std::string op = std::string(op_name(rms)) + "_backward";

    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT,
                   {"at least one gradient",
                    rms ? "dx, dgamma are all NULL" : "dx, dgamma and dbeta are all NULL"},
                   [&] { return run(x, &gamma, dy, 1e-5, nullptr, nullptr, nullptr); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"at least one gradient"},
                   [&] { return run(x, nullptr, dy, 1e-5, nullptr, nullptr, nullptr); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"eps is -1", op.c_str()},
                   [&] { return run(x, &gamma, dy, -1, &dx, &dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"eps"},
                   [&] { return run(x, &gamma, dy, NAN, &dx, &dgamma, db); });

    // Per-feature tensors: [8], x's last extent.
    const chorus::Tensor gamma9(b, CHORUS_DTYPE_F32, {9}), gamma1x8(b, CHORUS_DTYPE_F32, {1, 8}),
        dgamma9(e, CHORUS_DTYPE_F32, {9}), dgamma4x8(e, CHORUS_DTYPE_F32, {4, 8}),
        dbeta7(g, CHORUS_DTYPE_F32, {7}), dbeta1x8(g, CHORUS_DTYPE_F32, {1, 8});
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT,
                   {"gamma has shape [9]; it must be [8] (x's last axis)"},
                   [&] { return run(x, &gamma9, dy, 1e-5, &dx, &dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"gamma has shape [1,8]"},
                   [&] { return run(x, &gamma1x8, dy, 1e-5, &dx, &dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT,
                   {"dgamma has shape [9]; it must be [8] (x's last axis)"},
                   [&] { return run(x, &gamma, dy, 1e-5, &dx, &dgamma9, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dgamma has shape [4,8]"},
                   [&] { return run(x, &gamma, dy, 1e-5, nullptr, &dgamma4x8, nullptr); });
    if (!rms) {
      expect_failure(CHORUS_ERROR_INVALID_ARGUMENT,
                     {"dbeta has shape [7]; it must be [8] (x's last axis)"},
                     [&] { return run(x, &gamma, dy, 1e-5, &dx, &dgamma, &dbeta7); });
      expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dbeta has shape [1,8]"},
                     [&] { return run(x, nullptr, dy, 1e-5, nullptr, nullptr, &dbeta1x8); });
    }

    // dy and dx: x's shape.
    const chorus::Tensor dy_short(c, CHORUS_DTYPE_F32, {4, 7}),
        dy_flipped(c, CHORUS_DTYPE_F32, {8, 4}), dx_short(d, CHORUS_DTYPE_F32, {4, 7}),
        dx_flat(d, CHORUS_DTYPE_F32, {32});
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dy"},
                   [&] { return run(x, &gamma, dy_short, 1e-5, &dx, &dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dy"},
                   [&] { return run(x, &gamma, dy_flipped, 1e-5, nullptr, &dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dx"},
                   [&] { return run(x, &gamma, dy, 1e-5, &dx_short, &dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dx"},
                   [&] { return run(x, &gamma, dy, 1e-5, &dx_flat, nullptr, nullptr); });
    const chorus::Tensor x0(a, CHORUS_DTYPE_F32, std::vector<int64_t>{}),
        dy0(c, CHORUS_DTYPE_F32, std::vector<int64_t>{}),
        dx0(d, CHORUS_DTYPE_F32, std::vector<int64_t>{});
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"x has rank 0"},
                   [&] { return run(x0, nullptr, dy0, 1e-5, &dx0, nullptr, nullptr); });

    // dtypes: every tensor is x's; floating point only.
    const chorus::Tensor dy64(c, CHORUS_DTYPE_F64, {4, 8}), gamma64(b, CHORUS_DTYPE_F64, {8}),
        dx16(d, CHORUS_DTYPE_F16, {4, 8}), dgamma16(e, CHORUS_DTYPE_F16, {8}),
        dbeta64(g, CHORUS_DTYPE_F64, {8});
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dy is f64", "f32"},
                   [&] { return run(x, &gamma, dy64, 1e-5, &dx, &dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"gamma is f64"},
                   [&] { return run(x, &gamma64, dy, 1e-5, &dx, &dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dx is f16"},
                   [&] { return run(x, &gamma, dy, 1e-5, &dx16, &dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dgamma is f16"},
                   [&] { return run(x, &gamma, dy, 1e-5, &dx, &dgamma16, db); });
    if (!rms)
      expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dbeta is f64"},
                     [&] { return run(x, &gamma, dy, 1e-5, &dx, &dgamma, &dbeta64); });
    const chorus::Tensor xi(a, CHORUS_DTYPE_I32, {4, 8}), gi(b, CHORUS_DTYPE_I32, {8}),
        dyi(c, CHORUS_DTYPE_I32, {4, 8}), dxi(d, CHORUS_DTYPE_I32, {4, 8}),
        dgi(e, CHORUS_DTYPE_I32, {8}), dbi(g, CHORUS_DTYPE_I32, {8});
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"i32"},
                   [&] { return run(xi, &gi, dyi, 1e-5, &dxi, &dgi, rms ? nullptr : &dbi); });

    // Overlaps: dx may be dy's very view, nothing else.
    const chorus_tensor dy_shifted =
        chorus_test::raw_view(c.get(), CHORUS_DTYPE_F32, {4, 8}, {8, 1}, 1);
    const chorus::Tensor x_as_dgamma(a, CHORUS_DTYPE_F32, {8}),
        dx_as_dgamma(d, CHORUS_DTYPE_F32, {8});
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dx overlaps x"},
                   [&] { return run(x, &gamma, dy, 1e-5, &x, &dgamma, db); });
    expect_failure(
        CHORUS_ERROR_INVALID_ARGUMENT, {"dx overlaps dy without being the same view"},
        [&] { return norm_backward(f.queue, rms, x, &gamma, dy, 1e-5, &dy_shifted, &dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dgamma overlaps gamma"},
                   [&] { return run(x, &gamma, dy, 1e-5, &dx, &gamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dgamma overlaps x"},
                   [&] { return run(x, &gamma, dy, 1e-5, &dx, &x_as_dgamma, db); });
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"overlaps", "dgamma", "dx"},
                   [&] { return run(x, &gamma, dy, 1e-5, &dx, &dx_as_dgamma, db); });
    if (!rms) {
      expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"overlaps", "dbeta", "dgamma"},
                     [&] { return run(x, &gamma, dy, 1e-5, &dx, &dgamma, &dgamma); });
      const chorus::Tensor dy_as_dbeta(c, CHORUS_DTYPE_F32, {8});
      expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dbeta overlaps dy"},
                     [&] { return run(x, &gamma, dy, 1e-5, nullptr, nullptr, &dy_as_dbeta); });
    }
  }
}
