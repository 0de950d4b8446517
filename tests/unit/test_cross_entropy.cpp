// test_cross_entropy.cpp — cross_entropy and its gradient beyond the
// conformance suite: the reference against PyTorch's F.cross_entropy and
// autograd (tests/unit/cross_entropy_known_answers.py) and against central
// differences of its own forward op; on every device, 1e4-scale logits stay
// finite and right, ignored and out-of-range targets, every sample ignored,
// the gradient in place (dlogits = logits), i32 targets give i64's bits;
// and the argument errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cross_entropy_known_answers.hpp"
#include "gradcheck.hpp"
#include "test_support.hpp"

namespace {

using chorus_test::check_close;
using chorus_test::expect_failure;
using chorus_test::on_every_device;
using Fixture = chorus_test::DeviceFixture;

const char* const kReductionNames[] = {"none", "mean", "sum"};

chorus_cross_entropy_attrs attrs_of(chorus_loss_reduction reduction, double smoothing,
                                    int32_t ignore_index = -100) {
  return chorus_cross_entropy_attrs{sizeof(chorus_cross_entropy_attrs), reduction, ignore_index, 0,
                                    smoothing};
}

// The per-sample shape of logits: axis 1 (axis 0 for rank 1) dropped.
std::vector<int64_t> sample_shape(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s = shape;
  s.erase(s.begin() + (shape.size() >= 2 ? 1 : 0));
  return s;
}

// Logits of T (float or double) and i64 targets through the two ops on one
// queue, as f64 vectors.
template <typename T>
struct Runner {
  const chorus::Device& device;
  const chorus::Queue& queue;
  std::vector<int64_t> shape;
  std::vector<int64_t> target;
  chorus_dtype target_dtype = CHORUS_DTYPE_I64;
  chorus_test::TypedIo<T> io() const { return {device, queue}; }
  size_t count() const { return chorus_test::count(shape); }
  size_t samples() const { return target.size(); }
  chorus::Buffer targets() const {
    chorus::Buffer b = device.buffer(std::max<size_t>(samples() * 8, 8));
    if (target_dtype == CHORUS_DTYPE_I64) {
      if (!target.empty()) queue.write<int64_t>(b, target);
    } else {
      const std::vector<int32_t> t(target.begin(), target.end());
      if (!t.empty()) queue.write<int32_t>(b, t);
    }
    return b;
  }
  std::vector<int64_t> loss_shape(chorus_loss_reduction r) const {
    return r == CHORUS_REDUCTION_NONE ? sample_shape(shape) : std::vector<int64_t>{};
  }
  size_t loss_count(chorus_loss_reduction r) const {
    return r == CHORUS_REDUCTION_NONE ? samples() : 1;
  }
  std::vector<double> forward(const std::vector<double>& x, const chorus_cross_entropy_attrs& a) const {
    const chorus::Buffer bx = io().upload(x), bt = targets(),
                         bl = io().upload(std::vector<double>(loss_count(a.reduction)));
    const chorus::Tensor tx(bx, io().dtype(), shape), tt(bt, target_dtype, sample_shape(shape)),
        tl(bl, io().dtype(), loss_shape(a.reduction));
    REQUIRE(chorus_cross_entropy(queue.get(), &a, &tx, &tt, &tl) == CHORUS_OK);
    return io().download(bl, loss_count(a.reduction));
  }
  std::vector<double> backward(const std::vector<double>& x, const std::vector<double>& dloss,
                               const chorus_cross_entropy_attrs& a, bool in_place = false) const {
    const chorus::Buffer bx = io().upload(x), bt = targets(), bd = io().upload(dloss),
                         bdx = io().upload(std::vector<double>(count()));
    const chorus::Tensor tx(bx, io().dtype(), shape), tt(bt, target_dtype, sample_shape(shape)),
        td(bd, io().dtype(), loss_shape(a.reduction)), tdx(bdx, io().dtype(), shape);
    REQUIRE(chorus_cross_entropy_backward(queue.get(), &a, &tx, &tt, &td, in_place ? &tx : &tdx) ==
            CHORUS_OK);
    return io().download(in_place ? bx : bdx, count());
  }
};

// The bits of two vectors of doubles read back from f32: NaN == NaN.
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace

TEST_CASE("the reference's cross_entropy gives PyTorch's answers", "[cross_entropy]") {
  // The answers are PyTorch's float64; the reference computes in long
  // double and rounds once. Sums over at most 6 samples of terms below 10:
  // 1e-14 relative to max(1, |answer|) covers both sides' roundings.
  Fixture f;
  for (const ce_known::Answer& a : ce_known::answers()) {
    const auto reduction = static_cast<chorus_loss_reduction>(a.reduction);
    INFO("logits rank " << a.shape.size() << ", reduction " << kReductionNames[a.reduction]
                        << ", smoothing " << a.smoothing);
    const Runner<double> run{f.device, f.queue, a.shape, a.target};
    std::vector<double> x(run.count());
    for (size_t i = 0; i < x.size(); ++i) x[i] = ce_known::logit_value(static_cast<int64_t>(i));
    std::vector<double> dloss(run.loss_count(reduction), ce_known::kReducedDloss);
    if (reduction == CHORUS_REDUCTION_NONE)
      for (size_t k = 0; k < dloss.size(); ++k) dloss[k] = ce_known::dloss_value(static_cast<int64_t>(k));
    const chorus_cross_entropy_attrs at = attrs_of(reduction, a.smoothing);
    check_close("loss", run.forward(x, at), a.loss, 1e-14);
    check_close("dlogits", run.backward(x, dloss, at), a.dlogits, 1e-14);
  }
}

TEST_CASE("the reference's cross_entropy gradient matches central differences of its loss",
          "[cross_entropy]") {
  // L = sum(dloss * loss(x)): smooth in x; with logits in [-3, 3) and a
  // step of 2^-12 the difference is off by h^2 |L'''| / 6 (below 1e-7)
  // plus the rounding of L over h (about 1e-12).
  Fixture f;
  const std::vector<std::vector<int64_t>> shapes = {{5, 7}, {2, 3, 4}, {6}};
  const std::vector<std::vector<int64_t>> targets = {{3, -100, 0, 6, 2}, {0, 2, 1, 1, -100, 2, 0, 1},
                                                     {4}};
  for (size_t s = 0; s < shapes.size(); ++s)
    for (const chorus_loss_reduction r :
         {CHORUS_REDUCTION_NONE, CHORUS_REDUCTION_MEAN, CHORUS_REDUCTION_SUM})
      for (const double smoothing : {0.0, 0.1, 1.0}) {
        INFO("shape " << s << ", reduction " << kReductionNames[r] << ", smoothing " << smoothing);
        const Runner<double> run{f.device, f.queue, shapes[s], targets[s]};
        std::vector<double> x = chorus_test::random_values(run.count(), 50 + s);
        for (double& v : x) v *= 3;
        std::vector<double> dloss = chorus_test::random_values(run.loss_count(r), 60 + s);
        const chorus_cross_entropy_attrs a = attrs_of(r, smoothing);
        const std::vector<double> grad = run.backward(x, dloss, a);
        const auto loss = [&]() { return chorus_test::dot(dloss, run.forward(x, a)); };
        chorus_test::check_gradient("dlogits", x, grad, loss, 0x1.0p-12, 1e-7);
      }
}

TEST_CASE("cross_entropy of 1e4-scale logits is finite and right, on every device",
          "[cross_entropy]") {
  // exp(1e4) overflows any float: only the max-shifted log-sum-exp gives a
  // finite loss. Logits in [-1e4, 1e4) with a few ties at the top; the loss
  // lse - x_t is computed on the host in long double. f32 logits of 1e4
  // carry an ulp of 1e-3, so a few ulps of the largest magnitude (2^-20
  // relative to 1e4) bound the device's answer.
  const std::vector<int64_t> shape = {64, 33};
  std::vector<double> x = chorus_test::random_values(64 * 33, 71);
  for (double& v : x) v = static_cast<double>(static_cast<float>(1e4 * v));
  x[5] = x[6] = 1e4;  // tied maxima in row 0
  std::vector<int64_t> target(64);
  for (size_t k = 0; k < target.size(); ++k) target[k] = static_cast<int64_t>((k * 11) % 33);
  std::vector<double> want(64), want_grad(x.size());
  for (size_t r = 0; r < 64; ++r) {
    long double m = -INFINITY, s = 0;
    for (size_t c = 0; c < 33; ++c) m = std::max<long double>(m, x[r * 33 + c]);
    for (size_t c = 0; c < 33; ++c) s += std::exp(static_cast<long double>(x[r * 33 + c]) - m);
    const long double lse = m + std::log(s);
    want[r] = static_cast<double>(lse - x[r * 33 + static_cast<size_t>(target[r])]);
    for (size_t c = 0; c < 33; ++c)
      want_grad[r * 33 + c] = static_cast<double>(std::exp(x[r * 33 + c] - lse) -
                                                  (c == static_cast<size_t>(target[r]) ? 1 : 0));
  }
  const int tested = on_every_device([&](const chorus::Device& device, const chorus::Queue& q) {
    const Runner<float> run{device, q, shape, target};
    const chorus_cross_entropy_attrs a = attrs_of(CHORUS_REDUCTION_NONE, 0);
    const std::vector<double> loss = run.forward(x, a);
    CHECK(std::all_of(loss.begin(), loss.end(), [](double v) { return std::isfinite(v); }));
    for (size_t r = 0; r < 64; ++r) {
      INFO("sample " << r);
      CHECK(std::fabs(loss[r] - want[r]) <= 1e4 * 0x1.0p-20);
    }
    const std::vector<double> grad = run.backward(x, std::vector<double>(64, 1.0), a);
    CHECK(std::all_of(grad.begin(), grad.end(), [](double v) { return std::isfinite(v); }));
    // Probabilities: each is off by at most |dp| <= p |d(x - lse)| <= 1e4 u.
    check_close("dlogits", grad, want_grad, 1e4 * 0x1.0p-20);
  });
  CHECK(tested >= 1);
}

TEST_CASE("cross_entropy's ignored and out-of-range targets, on every device", "[cross_entropy]") {
  // ignore_index (here 3, a valid class too: PyTorch ignores it) gives loss
  // 0, a zero gradient row, and is not counted by mean; a target outside
  // [0, C) gives NaN there; every sample ignored: mean 0/0 = NaN, sum 0.
  const std::vector<int64_t> shape = {4, 5};
  std::vector<double> x = chorus_test::random_values(20, 81);
  const int tested = on_every_device([&](const chorus::Device& device, const chorus::Queue& q) {
    Runner<float> run{device, q, shape, {3, 0, 7, -1}};
    const chorus_cross_entropy_attrs none = attrs_of(CHORUS_REDUCTION_NONE, 0.1, 3);
    const std::vector<double> loss = run.forward(x, none);
    CHECK(loss[0] == 0.0);
    CHECK(std::isfinite(loss[1]));
    CHECK(loss[1] > 0);
    CHECK(std::isnan(loss[2]));
    CHECK(std::isnan(loss[3]));
    const std::vector<double> grad = run.backward(x, {1, 1, 1, 1}, none);
    for (size_t c = 0; c < 5; ++c) {
      CHECK(grad[c] == 0.0);
      CHECK(std::isfinite(grad[5 + c]));
      CHECK(std::isnan(grad[10 + c]));
      CHECK(std::isnan(grad[15 + c]));
    }
    // Sample 1 alone counts toward mean: its loss, and its gradient whole.
    run.target = {3, 0, 3, 3};
    const std::vector<double> mean = run.forward(x, attrs_of(CHORUS_REDUCTION_MEAN, 0.1, 3));
    CHECK(mean[0] == Approx(loss[1]).epsilon(1e-6));
    const std::vector<double> gmean = run.backward(x, {1}, attrs_of(CHORUS_REDUCTION_MEAN, 0.1, 3));
    for (size_t c = 0; c < 5; ++c) CHECK(gmean[5 + c] == Approx(grad[5 + c]).epsilon(1e-6).margin(1e-7));
    // Every sample ignored.
    run.target = {3, 3, 3, 3};
    CHECK(std::isnan(run.forward(x, attrs_of(CHORUS_REDUCTION_MEAN, 0, 3))[0]));
    CHECK(run.forward(x, attrs_of(CHORUS_REDUCTION_SUM, 0, 3))[0] == 0.0);
    const std::vector<double> gnone = run.backward(x, {1}, attrs_of(CHORUS_REDUCTION_MEAN, 0, 3));
    CHECK(std::all_of(gnone.begin(), gnone.end(), [](double v) { return v == 0; }));
  });
  CHECK(tested >= 1);
}

TEST_CASE("cross_entropy's gradient in place and with i32 targets gives the same bits, on every "
          "device",
          "[cross_entropy]") {
  // dlogits = logits: each row is read whole before it is written. A row
  // of 5000 classes crosses any one work-group's share. i32 targets read
  // as i64's.
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{9, 300}, {3, 5000}, {2, 6, 3}}) {
    INFO("shape of rank " << shape.size() << ", " << shape[1] << " classes");
    const size_t count = chorus_test::count(shape);
    std::vector<double> x = chorus_test::random_values(count, 91);
    for (double& v : x) v = static_cast<double>(static_cast<float>(4 * v));
    std::vector<int64_t> target(count / static_cast<size_t>(shape[1]));
    for (size_t k = 0; k < target.size(); ++k)
      target[k] = k == 1 ? -100 : static_cast<int64_t>((k * 7) % static_cast<size_t>(shape[1]));
    const int tested = on_every_device([&](const chorus::Device& device, const chorus::Queue& q) {
      for (const chorus_loss_reduction r :
           {CHORUS_REDUCTION_NONE, CHORUS_REDUCTION_MEAN, CHORUS_REDUCTION_SUM}) {
        INFO("reduction " << kReductionNames[r]);
        Runner<float> run{device, q, shape, target};
        const chorus_cross_entropy_attrs a = attrs_of(r, 0.05);
        std::vector<double> dloss = chorus_test::random_values(run.loss_count(r), 92);
        const std::vector<double> out = run.backward(x, dloss, a);
        CHECK(std::all_of(out.begin(), out.end(), [](double v) { return std::isfinite(v); }));
        CHECK(same_bits(run.backward(x, dloss, a, true), out));
        const std::vector<double> loss = run.forward(x, a);
        run.target_dtype = CHORUS_DTYPE_I32;
        CHECK(same_bits(run.backward(x, dloss, a), out));
        CHECK(same_bits(run.forward(x, a), loss));
      }
    });
    CHECK(tested >= 1);
  }
}

TEST_CASE("cross_entropy refuses bad arguments with a message naming them", "[cross_entropy]") {
  Fixture f;
  const chorus::Buffer b = f.device.buffer(4096);
  const chorus::Tensor x(b, CHORUS_DTYPE_F32, {4, 5}), t(b, CHORUS_DTYPE_I64, {4}),
      t_wrong(b, CHORUS_DTYPE_I64, {5}), t_float(b, CHORUS_DTYPE_F32, {4}),
      loss0(b, CHORUS_DTYPE_F32, {}), loss4(b, CHORUS_DTYPE_F32, {4}), dx(b, CHORUS_DTYPE_F32, {4, 5}),
      dx_wrong(b, CHORUS_DTYPE_F32, {4, 6}), scalar(b, CHORUS_DTYPE_F32, {}),
      empty_classes(b, CHORUS_DTYPE_F32, {4, 0});
  const chorus_cross_entropy_attrs mean = attrs_of(CHORUS_REDUCTION_MEAN, 0),
                                   none = attrs_of(CHORUS_REDUCTION_NONE, 0),
                                   smooth = attrs_of(CHORUS_REDUCTION_MEAN, 1.5),
                                   bad = attrs_of(static_cast<chorus_loss_reduction>(7), 0);
  const auto q = f.queue.get();
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"target", "[5]", "[4]"},
                 [&] { return chorus_cross_entropy(q, &mean, &x, &t_wrong, &loss0); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"target"},
                 [&] { return chorus_cross_entropy(q, &mean, &x, &t_float, &loss0); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"loss", "rank-0"},
                 [&] { return chorus_cross_entropy(q, &mean, &x, &t, &loss4); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"loss", "[4]"},
                 [&] { return chorus_cross_entropy(q, &none, &x, &t, &loss0); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"label_smoothing", "1.5"},
                 [&] { return chorus_cross_entropy(q, &smooth, &x, &t, &loss0); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"reduction"},
                 [&] { return chorus_cross_entropy(q, &bad, &x, &t, &loss0); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"logits", "rank 0"},
                 [&] { return chorus_cross_entropy(q, &mean, &scalar, &t, &loss0); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"logits", "class axis"},
                 [&] { return chorus_cross_entropy(q, &mean, &empty_classes, &t, &loss0); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dlogits"},
                 [&] { return chorus_cross_entropy_backward(q, &mean, &x, &t, &loss0, &dx_wrong); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dloss", "[4]"},
                 [&] { return chorus_cross_entropy_backward(q, &none, &x, &t, &loss0, &dx); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"target"},
                 [&] { return chorus_cross_entropy_backward(q, &mean, &x, nullptr, &loss0, &dx); });
  // NULL attributes: mean, ignore_index -100, no smoothing.
  const chorus::Buffer bx = f.device.buffer(20 * 4), bt = f.device.buffer(4 * 8),
                       bl = f.device.buffer(4), bl2 = f.device.buffer(4);
  const std::vector<float> xv(20, 0.5f);
  f.queue.write<float>(bx, xv);
  f.queue.write<int64_t>(bt, std::vector<int64_t>{1, -100, 2, 3});
  const chorus::Tensor tx(bx, CHORUS_DTYPE_F32, {4, 5}), tt(bt, CHORUS_DTYPE_I64, {4}),
      tl(bl, CHORUS_DTYPE_F32, {}), tl2(bl2, CHORUS_DTYPE_F32, {});
  REQUIRE(chorus_cross_entropy(q, nullptr, &tx, &tt, &tl) == CHORUS_OK);
  REQUIRE(chorus_cross_entropy(q, &mean, &tx, &tt, &tl2) == CHORUS_OK);
  std::vector<float> l(1), l2(1);
  f.queue.read<float>(bl, l);
  f.queue.read<float>(bl2, l2);
  CHECK(l[0] == l2[0]);
  CHECK(l[0] == Approx(std::log(5.0)).epsilon(1e-6));
}
