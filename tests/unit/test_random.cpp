// test_random.cpp — the random family beyond the conformance suite (which
// checks every device against the reference bit for bit): the Philox core
// against Random123's published known answers, the statistics of what the
// reference draws (mean, variance, chi-square over bins, with fixed seeds),
// dropout's backward pass as dy * mask / (1 - p), the same bits on every
// usable device, UNSUPPORTED from a plugin built before the ops existed,
// and the argument errors.
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "random/random_host.hpp"
#include "test_support.hpp"

namespace {

using chorus_test::expect_failure;
namespace host = chorus::ops::random::host;

using Fixture = chorus_test::DeviceFixture;

template <typename T>
std::vector<T> draw(chorus::Queue& q, chorus::Device& dev, chorus_dtype dtype, int64_t n,
                    const chorus_random_attrs& a) {
  chorus::Buffer b = dev.buffer(static_cast<uint64_t>(n) * sizeof(T));
  chorus::Tensor y(b, dtype, {n});
  REQUIRE(chorus_random(q.get(), &a, &y) == CHORUS_OK);
  std::vector<T> out(static_cast<size_t>(n));
  q.read<T>(b, out);
  return out;
}

chorus_random_attrs attrs(chorus_random_distribution d, uint64_t seed, double a, double b,
                          uint64_t offset = 0) {
  chorus_random_attrs r{};
  r.struct_size = sizeof r;
  r.distribution = d;
  r.seed = seed;
  r.offset = offset;
  r.a = a;
  r.b = b;
  return r;
}

// Pearson's chi-square of counts against expected counts.
double chi_square(const std::vector<double>& counts, const std::vector<double>& expected) {
  double chi = 0;
  for (size_t i = 0; i < counts.size(); ++i)
    chi += (counts[i] - expected[i]) * (counts[i] - expected[i]) / expected[i];
  return chi;
}
// An upper limit no honest generator passes with more than ~1e-6
// probability for `df` degrees of freedom (mean df, deviation sqrt(2 df)).
double chi_limit(double df) { return df + 7 * std::sqrt(2 * df); }

}  // namespace

TEST_CASE("Philox4x32-10 gives Random123's published known answers") {
  struct Kat {
    uint32_t ctr[4], key[2], out[4];
  };
  // Random123 1.14, examples/kat_vectors, the three philox4x32 10 lines.
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}};
  for (const Kat& k : kats) {
    const host::ck_philox_block b =
        host::ck_philox4x32_10(k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3], k.key[0], k.key[1]);
    for (int i = 0; i < 4; ++i) CHECK(b.w[i] == k.out[i]);
  }
  // The stream's mapping: block j of (seed, offset) is Philox({lo j, hi j,
  // lo offset, hi offset}, {lo seed, hi seed}).
  const host::ck_philox_block b = host::ck_random_block(0x299f31d0a4093822ull,
                                                        0x0370734413198a2eull, 0x85a308d3243f6a88ull);
  CHECK(b.w[0] == 0xd16cfe09u);
  CHECK(b.w[3] == 0x24126ea1u);
}

TEST_CASE("the reference draws the first words of the stream as documented") {
  Fixture f;
  // Bernoulli(p) with p = 0.5 is the top bit of each word, so the
  // reference's output can be read back against the Philox core directly.
  const std::vector<uint8_t> bits =
      draw<uint8_t>(f.queue, f.device, CHORUS_DTYPE_U8, 10, attrs(CHORUS_RANDOM_BERNOULLI, 5, 0.5, 0, 9));
  for (int64_t i = 0; i < 10; ++i) {
    const host::ck_philox_block b = host::ck_random_block(5, 9, static_cast<uint64_t>(i / 4));
    CHECK(bits[static_cast<size_t>(i)] == ((b.w[i % 4] >> 31) == 0 ? 1 : 0));
  }
  CHECK(host::threshold_of(0) == 0);
  CHECK(host::threshold_of(1) == (1u << 24));
  CHECK(host::threshold_of(0.5) == (1u << 23));
}

TEST_CASE("uniform numbers: mean, variance and a chi-square over 100 bins") {
  Fixture f;
  const int64_t n = 1000000;
  const std::vector<float> u =
      draw<float>(f.queue, f.device, CHORUS_DTYPE_F32, n, attrs(CHORUS_RANDOM_UNIFORM, 1234, 0, 1));
  double sum = 0, sq = 0;
  std::vector<double> counts(100, 0);
  for (const float v : u) {
    REQUIRE(v >= 0.0f);
    REQUIRE(v < 1.0f);
    sum += v;
    sq += static_cast<double>(v) * v;
    counts[static_cast<size_t>(v * 100)] += 1;
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  CHECK(std::abs(mean - 0.5) < 6 * std::sqrt(1.0 / 12 / n));
  CHECK(std::abs(var - 1.0 / 12) < 0.002);
  CHECK(chi_square(counts, std::vector<double>(100, n / 100.0)) < chi_limit(99));

  // [a, b) scales the same draws.
  const std::vector<float> w = draw<float>(f.queue, f.device, CHORUS_DTYPE_F32, 1000,
                                           attrs(CHORUS_RANDOM_UNIFORM, 1234, -2, 3));
  for (size_t i = 0; i < w.size(); ++i) {
    CHECK(w[i] >= -2.0f);
    CHECK(w[i] < 3.0f);
    CHECK(w[i] == -2.0f + 5.0f * u[i]);
  }
}

TEST_CASE("normal numbers: mean, variance, tails and a chi-square over 40 bins") {
  Fixture f;
  const int64_t n = 1000000;
  const std::vector<float> z =
      draw<float>(f.queue, f.device, CHORUS_DTYPE_F32, n, attrs(CHORUS_RANDOM_NORMAL, 99, 0, 1));
  double sum = 0, sq = 0, beyond3 = 0;
  // Bins of width 0.2 over [-4, 4), plus the two tails.
  std::vector<double> counts(42, 0), expected(42, 0);
  const auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  for (size_t k = 0; k < 40; ++k)
    expected[k + 1] = n * (cdf(-4 + 0.2 * (k + 1)) - cdf(-4 + 0.2 * k));
  expected[0] = expected[41] = n * cdf(-4);
  for (const float v : z) {
    REQUIRE(std::isfinite(v));
    sum += v;
    sq += static_cast<double>(v) * v;
    if (std::abs(v) > 3) beyond3 += 1;
    const double bin = std::floor((v + 4) / 0.2);
    counts[bin < 0 ? 0 : bin >= 40 ? 41 : static_cast<size_t>(bin) + 1] += 1;
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  CHECK(std::abs(mean) < 6 / std::sqrt(static_cast<double>(n)));
  CHECK(std::abs(var - 1) < 0.01);
  CHECK(std::abs(beyond3 / n - 2 * cdf(-3)) < 0.0005);  // 0.0027 expected
  CHECK(chi_square(counts, expected) < chi_limit(41));

  // mean a and standard deviation b scale the same draws.
  const std::vector<float> s = draw<float>(f.queue, f.device, CHORUS_DTYPE_F32, 1000,
                                           attrs(CHORUS_RANDOM_NORMAL, 99, 1, 2.5));
  for (size_t i = 0; i < s.size(); ++i) CHECK(s[i] == 1.0f + 2.5f * z[i]);
}

TEST_CASE("bernoulli numbers: the fraction of ones, and p = 0 and p = 1 exactly") {
  Fixture f;
  const int64_t n = 1000000;
  for (const double p : {0.0, 0.3, 1.0}) {
    const std::vector<int32_t> b =
        draw<int32_t>(f.queue, f.device, CHORUS_DTYPE_I32, n, attrs(CHORUS_RANDOM_BERNOULLI, 7, p, 0));
    double ones = 0;
    for (const int32_t v : b) {
      REQUIRE((v == 0 || v == 1));
      ones += v;
    }
    if (p == 0 || p == 1)
      CHECK(ones == p * n);
    else
      CHECK(std::abs(ones / n - p) < 6 * std::sqrt(p * (1 - p) / n));
  }
}

TEST_CASE("different offsets and seeds draw different numbers") {
  Fixture f;
  const auto a = draw<float>(f.queue, f.device, CHORUS_DTYPE_F32, 64, attrs(CHORUS_RANDOM_UNIFORM, 1, 0, 1, 0));
  const auto b = draw<float>(f.queue, f.device, CHORUS_DTYPE_F32, 64, attrs(CHORUS_RANDOM_UNIFORM, 1, 0, 1, 1));
  const auto c = draw<float>(f.queue, f.device, CHORUS_DTYPE_F32, 64, attrs(CHORUS_RANDOM_UNIFORM, 2, 0, 1, 0));
  const auto a2 = draw<float>(f.queue, f.device, CHORUS_DTYPE_F32, 64, attrs(CHORUS_RANDOM_UNIFORM, 1, 0, 1, 0));
  int same_ab = 0, same_ac = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    same_ab += a[i] == b[i];
    same_ac += a[i] == c[i];
  }
  CHECK(same_ab < 3);
  CHECK(same_ac < 3);
  CHECK(a == a2);
}

TEST_CASE("dropout keeps 1 - p of the elements, scaled, and its backward pass is dy * mask / (1 - p)") {
  Fixture f;
  const int64_t n = 200000;
  const double p = 0.25;
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] = 0.001f * static_cast<float>(i % 1000) - 0.5f;
  chorus::Buffer xb = f.device.buffer(n * 4), yb = f.device.buffer(n * 4), mb = f.device.buffer(n),
                 dxb = f.device.buffer(n * 4);
  f.queue.write<float>(xb, x);
  chorus::Tensor tx(xb, CHORUS_DTYPE_F32, {n}), ty(yb, CHORUS_DTYPE_F32, {n}),
      tm(mb, CHORUS_DTYPE_U8, {n}), tdx(dxb, CHORUS_DTYPE_F32, {n});
  REQUIRE(chorus_dropout(f.queue.get(), &tx, p, 77, 3, &ty, &tm) == CHORUS_OK);
  // Backward with x as dy: the same decisions.
  REQUIRE(chorus_dropout_backward(f.queue.get(), &tx, p, 77, 3, &tdx) == CHORUS_OK);
  std::vector<float> y(static_cast<size_t>(n)), dx(static_cast<size_t>(n));
  std::vector<uint8_t> mask(static_cast<size_t>(n));
  f.queue.read<float>(yb, y);
  f.queue.read<float>(dxb, dx);
  f.queue.read<uint8_t>(mb, mask);
  const float scale = static_cast<float>(1 / (1 - p));
  double kept = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    REQUIRE(mask[i] <= 1);
    kept += mask[i];
    const float expected = x[i] * (mask[i] ? scale : 0.0f);
    CHECK(std::memcmp(&y[i], &expected, 4) == 0);
    CHECK(std::memcmp(&dx[i], &expected, 4) == 0);
  }
  CHECK(std::abs(kept / n - (1 - p)) < 6 * std::sqrt(p * (1 - p) / n));

  // p = 0 is the identity, p = 1 zeroes everything.
  REQUIRE(chorus_dropout(f.queue.get(), &tx, 0.0, 77, 3, &ty, &tm) == CHORUS_OK);
  f.queue.read<float>(yb, y);
  CHECK(y == x);
  REQUIRE(chorus_dropout(f.queue.get(), &tx, 1.0, 77, 3, &ty, nullptr) == CHORUS_OK);
  f.queue.read<float>(yb, y);
  for (const float v : y) CHECK(v == 0.0f);
}

TEST_CASE("every usable device draws the reference's bits; a plugin from before the ops says UNSUPPORTED") {
  chorus::Context ctx;
  chorus::Device ref = ctx.open("reference:0");
  chorus::Queue rq = ref.queue();
  const int64_t n = 10007;
  const chorus_random_attrs normal = attrs(CHORUS_RANDOM_NORMAL, 0xfeedfacecafebeefull, 0.5, 2, 1ull << 40);
  const std::vector<float> expected = draw<float>(rq, ref, CHORUS_DTYPE_F32, n, normal);
  int others = 0;
  for (const auto& d : ctx.devices()) {
    if (!d.usable || std::string(d.name) == "reference:0" || std::string(d.backend) == "badabi")
      continue;
    INFO("device " << d.name);
    chorus::Device dev = ctx.open(d.name);
    chorus::Queue q = dev.queue();
    chorus::Buffer b = dev.buffer(n * 4);
    chorus::Tensor y(b, CHORUS_DTYPE_F32, {n});
    const chorus_status s = chorus_random(q.get(), &normal, &y);
    if (std::string(d.backend) == "oldabi") {
      // Built against ABI 2.0: it loads, and answers UNSUPPORTED.
      CHECK(s == CHORUS_ERROR_UNSUPPORTED);
      continue;
    }
    REQUIRE(s == CHORUS_OK);
    std::vector<float> got(static_cast<size_t>(n));
    q.read<float>(b, got);
    CHECK(std::memcmp(got.data(), expected.data(), expected.size() * 4) == 0);
    ++others;
  }
  INFO("devices compared with the reference: " << others);
}

TEST_CASE("random and dropout refuse bad arguments, naming them") {
  Fixture f;
  chorus::Buffer b = f.device.buffer(64 * 8);
  chorus::Tensor y(b, CHORUS_DTYPE_F32, {16}), yi(b, CHORUS_DTYPE_I32, {16}),
      y8(b, CHORUS_DTYPE_F32, {8});
  chorus_random_attrs a = attrs(CHORUS_RANDOM_UNIFORM, 1, 3, 2);
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"uniform", "a <= b"},
                 [&] { return chorus_random(f.queue.get(), &a, &y); });
  a = attrs(CHORUS_RANDOM_NORMAL, 1, 0, -1);
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"standard deviation"},
                 [&] { return chorus_random(f.queue.get(), &a, &y); });
  a = attrs(CHORUS_RANDOM_BERNOULLI, 1, 1.5, 0);
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"bernoulli", "[0, 1]"},
                 [&] { return chorus_random(f.queue.get(), &a, &y); });
  a = attrs(CHORUS_RANDOM_UNIFORM, 1, 0, 1);
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y", "i32"},
                 [&] { return chorus_random(f.queue.get(), &a, &yi); });
  const int32_t bad = 7;
  std::memcpy(&a.distribution, &bad, sizeof bad);
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"distribution", "chorus_random_distribution"},
                 [&] { return chorus_random(f.queue.get(), &a, &y); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"p", "[0, 1]"},
                 [&] { return chorus_dropout(f.queue.get(), &y, 1.5, 1, 0, &y, nullptr); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"p"},
                 [&] { return chorus_dropout(f.queue.get(), &y, std::nan(""), 1, 0, &y, nullptr); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"mask"},
                 [&] { return chorus_dropout(f.queue.get(), &y, 0.5, 1, 0, &y, &y); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y"},
                 [&] { return chorus_dropout(f.queue.get(), &y, 0.5, 1, 0, &y8, nullptr); });
}
