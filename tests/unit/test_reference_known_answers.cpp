// test_reference_known_answers.cpp — pins the reference backend, the oracle
// every other backend is compared with, to answers worked out by hand from
// the op definitions in docs/ops.md: rounding of f16/bf16, integer wrapping,
// NaN rules, strided and broadcast views, and the numerically careful
// formulas (erfc-based GELU, max-shifted softmax, two-pass layer norm), and
// every unary op of unary_table.h and cumsum at points worked out by hand.
// The ops run through chorus::reference::execute() on host arrays, as the
// normalised records libchorus hands a backend (docs/writing-a-backend.md);
// the last few cases drive the vtable the way libchorus does.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "common/numeric.hpp"
#include "reference.hpp"

namespace {

using chorus::reference::execute;

constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kTwo53 = int64_t{1} << 53;

// A fake host api, so the error paths have somewhere to leave their message.
chorus_status g_last_status = CHORUS_OK;
std::string g_last_message;

chorus_status record_error(chorus_status status, const char* message) {
  g_last_status = status;
  g_last_message = message;
  return status;
}

void install_fake_host() {
  static const chorus_host_api host = {sizeof(chorus_host_api), CHORUS_BACKEND_ABI_VERSION,
                                       record_error, nullptr, nullptr};
  static void* plugin = nullptr;
  if (plugin == nullptr)
    REQUIRE(chorus::reference::vtable()->plugin_create(&host, &plugin) == CHORUS_OK);
  g_last_status = CHORUS_OK;
  g_last_message.clear();
}

// A view of host memory; empty strides mean contiguous row-major.
chorus_backend_tensor view(void* data, chorus_dtype dtype, std::initializer_list<int64_t> shape,
                           std::initializer_list<int64_t> strides = {}, int64_t offset = 0) {
  chorus_backend_tensor t{};
  t.buffer = data;
  t.dtype = dtype;
  t.rank = static_cast<uint32_t>(shape.size());
  t.offset = offset;
  uint32_t k = 0;
  for (const int64_t extent : shape) t.shape[k++] = extent;
  if (strides.size() == 0) {
    int64_t stride = 1;
    for (int i = static_cast<int>(t.rank) - 1; i >= 0; --i) {
      t.strides[i] = stride;
      stride *= t.shape[i];
    }
  } else {
    k = 0;
    for (const int64_t stride : strides) t.strides[k++] = stride;
  }
  return t;
}

// A normalised op on host memory: its tensors in slot order and its
// attributes struct, the subop (unary op, reduce op, log flag) in place and
// gemm's alpha at 1. An absent optional tensor is `absent()`.
struct Op {
  chorus::BoundOp op;
  alignas(8) unsigned char attrs[128] = {};
  template <typename A>
  A& attrs_as() {
    return *reinterpret_cast<A*>(attrs);
  }
  // The op as execute() takes it (attrs pointing into this object).
  chorus::BoundOp bound() const {
    chorus::BoundOp b = op;
    b.attrs = op.attrs_size ? attrs : nullptr;
    return b;
  }
};

chorus_backend_tensor absent() { return chorus_backend_tensor{}; }

template <typename A>
void set_attrs(Op& d, A a) {
  a.struct_size = sizeof a;
  std::memcpy(d.attrs, &a, sizeof a);
  d.op.attrs_size = sizeof a;
}

Op make_op(chorus_op_kind kind, int32_t subop, std::initializer_list<chorus_backend_tensor> tensors) {
  Op d;
  d.op.kind = kind;
  for (const chorus_backend_tensor& t : tensors) d.op.tensors[d.op.count++] = t;
  switch (kind) {
    case CHORUS_OP_FILL: set_attrs(d, chorus_fill_attrs{}); break;
    case CHORUS_OP_UNARY: set_attrs(d, chorus_unary_attrs{0, static_cast<chorus_unary_op>(subop), 0, 0}); break;
    case CHORUS_OP_BINARY: set_attrs(d, chorus_binary_attrs{0, static_cast<chorus_binary_op>(subop)}); break;
    case CHORUS_OP_COMPARE: set_attrs(d, chorus_compare_attrs{0, static_cast<chorus_compare_op>(subop)}); break;
    case CHORUS_OP_REDUCE: set_attrs(d, chorus_reduce_attrs{0, static_cast<chorus_reduce_op>(subop), 1}); break;
    case CHORUS_OP_ARGMAX: set_attrs(d, chorus_argmax_attrs{0, 0}); break;
    case CHORUS_OP_GEMM: set_attrs(d, chorus_gemm_desc{0, 0, 0, 1.0, 0.0, CHORUS_ACTIVATION_NONE}); break;
    case CHORUS_OP_SOFTMAX: set_attrs(d, chorus_softmax_attrs{0, 0, subop}); break;
    case CHORUS_OP_LAYER_NORM:
    case CHORUS_OP_RMS_NORM: set_attrs(d, chorus_norm_attrs{0, 0, 0.0}); break;
    case CHORUS_OP_CUMSUM: set_attrs(d, chorus_cumsum_attrs{0, 0, 0, 0}); break;
    default: break;
  }
  return d;
}

void run(const Op& d) {
  REQUIRE(execute(d.bound()) == CHORUS_OK);
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

uint64_t bits_of(double f) {
  uint64_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

float float_from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

// Converts doubles to f16 (or bf16) through the reference's COPY.
std::vector<uint16_t> copy_f64_to(chorus_dtype dtype, std::vector<double> values) {
  std::vector<uint16_t> out(values.size());
  const auto n = static_cast<int64_t>(values.size());
  run(make_op(CHORUS_OP_COPY, 0,
              {view(values.data(), CHORUS_DTYPE_F64, {n}), view(out.data(), dtype, {n})}));
  return out;
}

double unary_f64(chorus_unary_op op, double x, double alpha = 0, double beta = 0) {
  double y = 0;
  auto d = make_op(CHORUS_OP_UNARY, op,
                   {view(&x, CHORUS_DTYPE_F64, {1}), view(&y, CHORUS_DTYPE_F64, {1})});
  d.attrs_as<chorus_unary_attrs>().alpha = alpha;
  d.attrs_as<chorus_unary_attrs>().beta = beta;
  run(d);
  return y;
}

// f32 results of a unary op, as a backend gets the op (alpha already rounded).
std::vector<float> unary_f32(chorus_unary_op op, std::vector<float> x, double alpha = 0,
                             double beta = 0) {
  std::vector<float> y(x.size(), -7.0f);
  const auto n = static_cast<int64_t>(x.size());
  auto d = make_op(CHORUS_OP_UNARY, op,
                   {view(x.data(), CHORUS_DTYPE_F32, {n}), view(y.data(), CHORUS_DTYPE_F32, {n})});
  d.attrs_as<chorus_unary_attrs>().alpha = alpha;
  d.attrs_as<chorus_unary_attrs>().beta = beta;
  run(d);
  return y;
}

// Within `ulps` units in the last place of a double.
bool near_ulps(double got, double want, double ulps) {
  return std::fabs(got - want) <= ulps * chorus::numeric::ulp(CHORUS_DTYPE_F64, want);
}

}  // namespace

// ------------------------------------------------------------ conversions

TEST_CASE("f16 keeps its largest finite value 65504") {
  const auto h = copy_f64_to(CHORUS_DTYPE_F16, {65504.0, 65519.0, -65504.0});
  CHECK(h[0] == 0x7BFF);
  CHECK(h[1] == 0x7BFF);  // just below the halfway point to 65536
  CHECK(h[2] == 0xFBFF);
}

TEST_CASE("f16 rounds 65520 and above to infinity") {
  const auto h = copy_f64_to(CHORUS_DTYPE_F16, {65520.0, -65520.0, 1e6});
  CHECK(h[0] == 0x7C00);
  CHECK(h[1] == 0xFC00);
  CHECK(h[2] == 0x7C00);
}

TEST_CASE("f16 rounds halfway cases to even") {
  const auto h =
      copy_f64_to(CHORUS_DTYPE_F16, {1 + 0x1p-11, 1 + 3 * 0x1p-11, 1 + 0x1p-11 + 0x1p-30});
  CHECK(h[0] == 0x3C00);  // 1 + half an ulp: down to 1 (even)
  CHECK(h[1] == 0x3C02);  // 1 + 1.5 ulp: up to 1 + 2^-9 (even)
  CHECK(h[2] == 0x3C01);  // just past halfway: up
}

TEST_CASE("f16 subnormals round to even at the bottom of the range") {
  const auto h = copy_f64_to(CHORUS_DTYPE_F16, {0x1p-24, 0x1p-25, 3 * 0x1p-25});
  CHECK(h[0] == 0x0001);
  CHECK(h[1] == 0x0000);
  CHECK(h[2] == 0x0002);
}

TEST_CASE("bf16 rounds to nearest even, not by truncation") {
  std::vector<float> x = {1 + 3 * 0x1p-9f, 1 + 0x1p-8f, 1 + 3 * 0x1p-8f};
  std::vector<uint16_t> y(3);
  run(make_op(CHORUS_OP_COPY, 0,
              {view(x.data(), CHORUS_DTYPE_F32, {3}), view(y.data(), CHORUS_DTYPE_BF16, {3})}));
  CHECK(y[0] == 0x3F81);  // truncation would give 0x3F80
  CHECK(y[1] == 0x3F80);  // tie: to even
  CHECK(y[2] == 0x3F82);  // tie: to even
}

TEST_CASE("i64 to bf16 rounds once, not through double") {
  // 2^60 + 2^52 + 1 is just above the halfway point between 2^60 and the next
  // bf16 (2^60 + 2^53); via double it would first become exactly halfway and
  // then round down to even.
  int64_t x = (int64_t{1} << 60) + (int64_t{1} << 52) + 1;
  uint16_t y = 0;
  run(make_op(CHORUS_OP_COPY, 0,
              {view(&x, CHORUS_DTYPE_I64, {1}), view(&y, CHORUS_DTYPE_BF16, {1})}));
  CHECK(y == 0x5D81);
}

TEST_CASE("int to f32 rounds to nearest even") {
  std::vector<int32_t> x = {16777217, 16777219, -16777217};
  std::vector<float> y(3);
  run(make_op(CHORUS_OP_COPY, 0,
              {view(x.data(), CHORUS_DTYPE_I32, {3}), view(y.data(), CHORUS_DTYPE_F32, {3})}));
  CHECK(y[0] == 16777216.0f);
  CHECK(y[1] == 16777220.0f);
  CHECK(y[2] == -16777216.0f);
}

TEST_CASE("float to int truncates toward zero, saturates, and maps NaN to 0") {
  std::vector<float> x = {-2.7f, 2.7f, 3e9f, -3e9f, NAN, INFINITY};
  std::vector<int32_t> y(6, 99);
  run(make_op(CHORUS_OP_COPY, 0,
              {view(x.data(), CHORUS_DTYPE_F32, {6}), view(y.data(), CHORUS_DTYPE_I32, {6})}));
  CHECK(y == std::vector<int32_t>{-2, 2, kInt32Max, kInt32Min, 0, kInt32Max});
}

TEST_CASE("copy within one dtype keeps the bits, NaN payloads included") {
  std::vector<uint16_t> x = {0x7C01, 0xFE42, 0x8000};  // f16 signalling NaN, negative NaN, -0
  std::vector<uint16_t> y(3);
  run(make_op(CHORUS_OP_COPY, 0,
              {view(x.data(), CHORUS_DTYPE_F16, {3}), view(y.data(), CHORUS_DTYPE_F16, {3})}));
  CHECK(y == x);
}

TEST_CASE("fill writes the rounded value into exactly the elements of a strided view") {
  std::vector<float> y(6, -1.0f);
  auto d = make_op(CHORUS_OP_FILL, 0, {view(y.data(), CHORUS_DTYPE_F32, {3}, {2}, 1)});
  d.attrs_as<chorus_fill_attrs>().value = 0.1;
  run(d);
  CHECK(bits_of(y[1]) == 0x3DCCCCCDu);  // 0.1 rounded once to f32
  CHECK(y == std::vector<float>{-1.0f, 0.1f, -1.0f, 0.1f, -1.0f, 0.1f});
}

// ------------------------------------------------------------------ unary

TEST_CASE("gelu_erf(1) is x times the normal CDF") {
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_GELU_ERF, 1.0), 0.84134474606854294859, 1));
}

TEST_CASE("gelu_erf keeps its far negative tail (erfc, not 1 + erf)") {
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_GELU_ERF, -10.0), -7.619853024160526066e-23, 4));
}

TEST_CASE("gelu_tanh uses the tanh approximation and keeps its negative tail") {
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_GELU_TANH, 1.0), 0.84119199060827670478, 2));
  // 0.5·x·(1 + tanh z) would cancel to exactly 0 here.
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_GELU_TANH, -10.0), -1.2040923482098059937e-37, 8));
}

TEST_CASE("silu is x times sigmoid(x)") {
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_SILU, 1.0), 0.73105857863000487925, 1));
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_SILU, -1.0), -0.26894142136999512075, 1));
  CHECK(unary_f64(CHORUS_UNARY_SIGMOID, 0.0) == 0.5);
}

TEST_CASE("relu zeroes negatives and -0 but keeps NaN") {
  std::vector<float> x = {-1.0f, -0.0f, 2.0f, NAN};
  std::vector<float> y(4, 7.0f);
  run(make_op(CHORUS_OP_UNARY, CHORUS_UNARY_RELU,
              {view(x.data(), CHORUS_DTYPE_F32, {4}), view(y.data(), CHORUS_DTYPE_F32, {4})}));
  CHECK(bits_of(y[0]) == 0u);
  CHECK(bits_of(y[1]) == 0u);
  CHECK(y[2] == 2.0f);
  CHECK(std::isnan(y[3]));
}

TEST_CASE("f64 sqrt is correctly rounded (no double rounding through long double)") {
  // For these inputs sqrt rounded first to 64 bits, then to 53, is one ulp low.
  CHECK(bits_of(unary_f64(CHORUS_UNARY_SQRT, 0x1.6692bbdce7f1cp+0)) ==
        bits_of(0x1.2ef9f91f81ca3p+0));
  CHECK(bits_of(unary_f64(CHORUS_UNARY_SQRT, 0x1.6173c07dccb28p+0)) ==
        bits_of(0x1.2cce1fcc34f35p+0));
}

TEST_CASE("integer neg and abs wrap at the most negative value") {
  std::vector<int32_t> x = {kInt32Min, -5, 7};
  std::vector<int32_t> negated(3), absolute(3);
  run(make_op(
      CHORUS_OP_UNARY, CHORUS_UNARY_NEG,
      {view(x.data(), CHORUS_DTYPE_I32, {3}), view(negated.data(), CHORUS_DTYPE_I32, {3})}));
  run(make_op(
      CHORUS_OP_UNARY, CHORUS_UNARY_ABS,
      {view(x.data(), CHORUS_DTYPE_I32, {3}), view(absolute.data(), CHORUS_DTYPE_I32, {3})}));
  CHECK(negated == std::vector<int32_t>{kInt32Min, 5, -7});
  CHECK(absolute == std::vector<int32_t>{kInt32Min, 5, 7});

  int64_t x64 = kInt64Min, y64 = 0;
  run(make_op(CHORUS_OP_UNARY, CHORUS_UNARY_NEG,
              {view(&x64, CHORUS_DTYPE_I64, {1}), view(&y64, CHORUS_DTYPE_I64, {1})}));
  CHECK(y64 == kInt64Min);
}

TEST_CASE("unary reads a transposed view with an offset") {
  // storage: [pad, 1, 2, 3, 4, 5, 6] holding a 2x3 matrix at offset 1; read it
  // as its 3x2 transpose.
  std::vector<double> x = {99, 1, 2, 3, 4, 5, 6};
  std::vector<double> y(6);
  run(make_op(CHORUS_OP_UNARY, CHORUS_UNARY_NEG,
              {view(x.data(), CHORUS_DTYPE_F64, {3, 2}, {1, 3}, 1),
               view(y.data(), CHORUS_DTYPE_F64, {3, 2})}));
  CHECK(y == std::vector<double>{-1, -4, -2, -5, -3, -6});
}

// ------------------------------------------- the unary ops of ABI 2.1

TEST_CASE("leaky_relu scales negatives by alpha and keeps positives") {
  CHECK(unary_f64(CHORUS_UNARY_LEAKY_RELU, -5.0, 0.2) == -1.0);
  CHECK(unary_f64(CHORUS_UNARY_LEAKY_RELU, 3.0, 0.2) == 3.0);
  CHECK(std::signbit(unary_f64(CHORUS_UNARY_LEAKY_RELU, -0.0, 0.2)));
  CHECK(std::isnan(unary_f64(CHORUS_UNARY_LEAKY_RELU, NAN, 0.2)));
}

TEST_CASE("elu is alpha * expm1(x) below 0") {
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_ELU, -1.0, 1.0), -0.63212055882855767840, 1));
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_ELU, -1.0, 2.0), -1.2642411176571153568, 1));
  CHECK(unary_f64(CHORUS_UNARY_ELU, 2.0, 1.0) == 2.0);
  // expm1, not exp - 1: near 0 the result keeps its digits.
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_ELU, -1e-10, 1.0), -9.9999999995000000000e-11, 1));
}

TEST_CASE("softplus is log(1 + e^x) without overflow or cancellation") {
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_SOFTPLUS, 0.0), 0.69314718055994530942, 1));
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_SOFTPLUS, -50.0), 1.9287498479639177830e-22, 1));
  CHECK(unary_f64(CHORUS_UNARY_SOFTPLUS, 50.0) == 50.0);
  CHECK(unary_f64(CHORUS_UNARY_SOFTPLUS, 1000.0) == 1000.0);  // e^1000 would be inf
}

TEST_CASE("hardsigmoid is relu6(x + 3) / 6") {
  CHECK(unary_f64(CHORUS_UNARY_HARDSIGMOID, -4.0) == 0.0);
  CHECK(unary_f64(CHORUS_UNARY_HARDSIGMOID, -3.0) == 0.0);
  CHECK(unary_f64(CHORUS_UNARY_HARDSIGMOID, 0.0) == 0.5);
  CHECK(unary_f64(CHORUS_UNARY_HARDSIGMOID, 1.5) == 0.75);
  CHECK(unary_f64(CHORUS_UNARY_HARDSIGMOID, 3.0) == 1.0);
}

TEST_CASE("hardswish is x * relu6(x + 3) / 6") {
  CHECK(unary_f64(CHORUS_UNARY_HARDSWISH, -3.0) == 0.0);
  CHECK(unary_f64(CHORUS_UNARY_HARDSWISH, 3.0) == 3.0);
  CHECK(unary_f64(CHORUS_UNARY_HARDSWISH, 5.0) == 5.0);
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_HARDSWISH, 1.0), 2.0 / 3.0, 1));
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_HARDSWISH, -1.0), -1.0 / 3.0, 1));
}

TEST_CASE("sin, cos, erf, log1p and expm1 at known points") {
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_SIN, 0.5), 0.47942553860420300027, 1));
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_COS, 0.5), 0.87758256189037271612, 1));
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_ERF, 1.0), 0.84270079294971486934, 1));
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_ERF, -0.5), -0.52049987781304653768, 1));
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_LOG1P, 1e-10), 9.9999999995000000000e-11, 1));
  CHECK(near_ulps(unary_f64(CHORUS_UNARY_EXPM1, 1e-10), 1.00000000005e-10, 1));
  CHECK(unary_f64(CHORUS_UNARY_LOG1P, -1.0) == -INFINITY);
}

TEST_CASE("floor, ceil and round keep the sign of zero; round ties to even") {
  const std::vector<float> x = {-0.5f, 0.5f, 1.5f, 2.5f, -1.5f, -0.4f, 2.1f};
  const auto floor = unary_f32(CHORUS_UNARY_FLOOR, x);
  const auto ceil = unary_f32(CHORUS_UNARY_CEIL, x);
  const auto round = unary_f32(CHORUS_UNARY_ROUND, x);
  CHECK(floor == std::vector<float>{-1, 0, 1, 2, -2, -1, 2});
  CHECK(ceil == std::vector<float>{-0.0f, 1, 2, 3, -1, -0.0f, 3});
  CHECK(std::signbit(ceil[0]));
  CHECK(std::signbit(ceil[5]));
  CHECK(round == std::vector<float>{-0.0f, 0, 2, 2, -2, -0.0f, 2});
  CHECK(std::signbit(round[0]));
  CHECK(!std::signbit(round[1]));
}

TEST_CASE("sign is -1, 0 or 1, keeps the sign of zero and NaN") {
  const auto y = unary_f32(CHORUS_UNARY_SIGN, {-3.0f, 0.0f, -0.0f, 5.0f, NAN, -INFINITY});
  CHECK(y[0] == -1.0f);
  CHECK((y[1] == 0.0f && !std::signbit(y[1])));
  CHECK((y[2] == 0.0f && std::signbit(y[2])));
  CHECK(y[3] == 1.0f);
  CHECK(std::isnan(y[4]));
  CHECK(y[5] == -1.0f);
  std::vector<int32_t> xi = {-7, 0, 9, kInt32Min}, yi(4);
  run(make_op(CHORUS_OP_UNARY, CHORUS_UNARY_SIGN,
              {view(xi.data(), CHORUS_DTYPE_I32, {4}), view(yi.data(), CHORUS_DTYPE_I32, {4})}));
  CHECK(yi == std::vector<int32_t>{-1, 0, 1, -1});
}

TEST_CASE("square is one rounding, and wraps on integers") {
  CHECK(unary_f32(CHORUS_UNARY_SQUARE, {3.0f, -1.5f}) == std::vector<float>{9.0f, 2.25f});
  // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: a tie in f32, rounded to even once.
  CHECK(unary_f32(CHORUS_UNARY_SQUARE, {1.0f + 0x1p-12f})[0] == 1.0f + 0x1p-11f);
  std::vector<int32_t> xi = {65536, 46341, -3}, yi(3);
  run(make_op(CHORUS_OP_UNARY, CHORUS_UNARY_SQUARE,
              {view(xi.data(), CHORUS_DTYPE_I32, {3}), view(yi.data(), CHORUS_DTYPE_I32, {3})}));
  CHECK(yi == std::vector<int32_t>{0, -2147479015, 9});
}

TEST_CASE("reciprocal is 1 / x with IEEE zeros and infinities") {
  const auto y = unary_f32(CHORUS_UNARY_RECIPROCAL, {4.0f, -0.0f, 0.0f, INFINITY, 3.0f});
  CHECK(y[0] == 0.25f);
  CHECK(y[1] == -INFINITY);
  CHECK(y[2] == INFINITY);
  CHECK((y[3] == 0.0f && !std::signbit(y[3])));
  CHECK(y[4] == 1.0f / 3.0f);
}

TEST_CASE("clamp is min(max(x, min), max), NaN kept, max wins when min > max") {
  const auto y = unary_f32(CHORUS_UNARY_CLAMP, {-3.0f, 0.0f, 5.0f, NAN, 1.0f}, -1.5, 2.25);
  CHECK(y[0] == -1.5f);
  CHECK(y[1] == 0.0f);
  CHECK(y[2] == 2.25f);
  CHECK(std::isnan(y[3]));
  CHECK(y[4] == 1.0f);
  CHECK(unary_f32(CHORUS_UNARY_CLAMP, {-3.0f, 0.0f, 5.0f}, 2.0, 1.0) ==
        std::vector<float>{1.0f, 1.0f, 1.0f});
  std::vector<int32_t> xi = {-5, 0, 7}, yi(3);
  auto d = make_op(CHORUS_OP_UNARY, CHORUS_UNARY_CLAMP,
                   {view(xi.data(), CHORUS_DTYPE_I32, {3}), view(yi.data(), CHORUS_DTYPE_I32, {3})});
  d.attrs_as<chorus_unary_attrs>().alpha = -1;
  d.attrs_as<chorus_unary_attrs>().beta = 2;
  run(d);
  CHECK(yi == std::vector<int32_t>{-1, 0, 2});
}

// ----------------------------------------------------------------- cumsum

namespace {
std::vector<float> cumsum_f32(std::vector<float> x, int32_t exclusive, int32_t reverse) {
  std::vector<float> y(x.size(), -7.0f);
  const auto n = static_cast<int64_t>(x.size());
  auto d = make_op(CHORUS_OP_CUMSUM, 0,
                   {view(x.data(), CHORUS_DTYPE_F32, {n}), view(y.data(), CHORUS_DTYPE_F32, {n})});
  d.attrs_as<chorus_cumsum_attrs>().exclusive = exclusive;
  d.attrs_as<chorus_cumsum_attrs>().reverse = reverse;
  run(d);
  return y;
}
}  // namespace

TEST_CASE("cumsum: inclusive, exclusive, reversed") {
  const std::vector<float> x = {1, 2, 3, 4};
  CHECK(cumsum_f32(x, 0, 0) == std::vector<float>{1, 3, 6, 10});
  CHECK(cumsum_f32(x, 1, 0) == std::vector<float>{0, 1, 3, 6});
  CHECK(cumsum_f32(x, 0, 1) == std::vector<float>{10, 9, 7, 4});
  CHECK(cumsum_f32(x, 1, 1) == std::vector<float>{9, 7, 4, 0});
}

TEST_CASE("cumsum accumulates wider than f16 and rounds each output once") {
  std::vector<uint16_t> x = {chorus::numeric::f16_from_double(2048),
                             chorus::numeric::f16_from_double(1),
                             chorus::numeric::f16_from_double(1)};
  std::vector<uint16_t> y(3);
  run(make_op(CHORUS_OP_CUMSUM, 0,
              {view(x.data(), CHORUS_DTYPE_F16, {3}), view(y.data(), CHORUS_DTYPE_F16, {3})}));
  // 2049 has no f16 (it rounds to even, 2048); the running sum itself is exact.
  CHECK(chorus::numeric::f16_to_double(y[0]) == 2048.0);
  CHECK(chorus::numeric::f16_to_double(y[1]) == 2048.0);
  CHECK(chorus::numeric::f16_to_double(y[2]) == 2050.0);
}

TEST_CASE("cumsum of integers wraps, and follows strides row by row") {
  std::vector<int32_t> x = {kInt32Max, 1, 1}, y(3);
  run(make_op(CHORUS_OP_CUMSUM, 0,
              {view(x.data(), CHORUS_DTYPE_I32, {3}), view(y.data(), CHORUS_DTYPE_I32, {3})}));
  CHECK(y == std::vector<int32_t>{kInt32Max, kInt32Min, kInt32Min + 1});
  // A 3x2 matrix stored transposed, scanned along its rows.
  std::vector<double> m = {1, 2, 3, 10, 20, 30}, out(6);
  run(make_op(CHORUS_OP_CUMSUM, 0,
              {view(m.data(), CHORUS_DTYPE_F64, {3, 2}, {1, 3}),
               view(out.data(), CHORUS_DTYPE_F64, {3, 2})}));
  CHECK(out == std::vector<double>{1, 11, 2, 22, 3, 33});
}

TEST_CASE("cumsum in place reads each element before writing it") {
  std::vector<float> x = {1, 2, 3, 4};
  auto d = make_op(CHORUS_OP_CUMSUM, 0,
                   {view(x.data(), CHORUS_DTYPE_F32, {4}), view(x.data(), CHORUS_DTYPE_F32, {4})});
  d.attrs_as<chorus_cumsum_attrs>().exclusive = 1;
  run(d);
  CHECK(x == std::vector<float>{0, 1, 3, 6});
}

// ----------------------------------------------------------------- binary

TEST_CASE("integer add, sub and mul wrap") {
  std::vector<int32_t> a = {kInt32Max, kInt32Min}, b = {1, 1}, sum(2), difference(2);
  run(make_op(CHORUS_OP_BINARY, CHORUS_BINARY_ADD,
              {view(a.data(), CHORUS_DTYPE_I32, {2}), view(b.data(), CHORUS_DTYPE_I32, {2}),
               view(sum.data(), CHORUS_DTYPE_I32, {2})}));
  run(make_op(CHORUS_OP_BINARY, CHORUS_BINARY_SUB,
              {view(a.data(), CHORUS_DTYPE_I32, {2}), view(b.data(), CHORUS_DTYPE_I32, {2}),
               view(difference.data(), CHORUS_DTYPE_I32, {2})}));
  CHECK(sum == std::vector<int32_t>{kInt32Min, kInt32Min + 1});
  CHECK(difference == std::vector<int32_t>{kInt32Max - 1, kInt32Max});

  int64_t a64 = int64_t{1} << 62, b64 = 4, product = -1;
  run(make_op(CHORUS_OP_BINARY, CHORUS_BINARY_MUL,
              {view(&a64, CHORUS_DTYPE_I64, {1}), view(&b64, CHORUS_DTYPE_I64, {1}),
               view(&product, CHORUS_DTYPE_I64, {1})}));
  CHECK(product == 0);
}

TEST_CASE("max and min return NaN when either input is NaN, and order signed zeros") {
  std::vector<float> a = {NAN, 1.0f, -0.0f, 0.0f};
  std::vector<float> b = {1.0f, NAN, 0.0f, -0.0f};
  std::vector<float> largest(4), smallest(4);
  run(make_op(CHORUS_OP_BINARY, CHORUS_BINARY_MAX,
              {view(a.data(), CHORUS_DTYPE_F32, {4}), view(b.data(), CHORUS_DTYPE_F32, {4}),
               view(largest.data(), CHORUS_DTYPE_F32, {4})}));
  run(make_op(CHORUS_OP_BINARY, CHORUS_BINARY_MIN,
              {view(a.data(), CHORUS_DTYPE_F32, {4}), view(b.data(), CHORUS_DTYPE_F32, {4}),
               view(smallest.data(), CHORUS_DTYPE_F32, {4})}));
  CHECK(std::isnan(largest[0]));
  CHECK(std::isnan(largest[1]));
  CHECK(std::isnan(smallest[0]));
  CHECK(std::isnan(smallest[1]));
  CHECK(bits_of(largest[2]) == 0x00000000u);  // +0 either way round
  CHECK(bits_of(largest[3]) == 0x00000000u);
  CHECK(bits_of(smallest[2]) == 0x80000000u);  // -0 either way round
  CHECK(bits_of(smallest[3]) == 0x80000000u);
}

TEST_CASE("binary broadcasts an input through stride 0") {
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<float> b = {10, 20, 30};
  std::vector<float> out(6);
  run(make_op(
      CHORUS_OP_BINARY, CHORUS_BINARY_ADD,
      {view(a.data(), CHORUS_DTYPE_F32, {2, 3}), view(b.data(), CHORUS_DTYPE_F32, {2, 3}, {0, 1}),
       view(out.data(), CHORUS_DTYPE_F32, {2, 3})}));
  CHECK(out == std::vector<float>{11, 22, 33, 14, 25, 36});
}

TEST_CASE("f64 add is correctly rounded (no double rounding through long double)") {
  std::vector<double> a = {0x1.385e2c3a1087cp+0, 0x1.595ef8315f3cap+0};
  std::vector<double> b = {0x1.387f7ded000e2p-21, 0x1.0df5270bffd78p-23};
  std::vector<double> out(2);
  run(make_op(CHORUS_OP_BINARY, CHORUS_BINARY_ADD,
              {view(a.data(), CHORUS_DTYPE_F64, {2}), view(b.data(), CHORUS_DTYPE_F64, {2}),
               view(out.data(), CHORUS_DTYPE_F64, {2})}));
  CHECK(bits_of(out[0]) == bits_of(0x1.385e35fe0c773p+0));
  CHECK(bits_of(out[1]) == bits_of(0x1.595efa4d498abp+0));
}

// ---------------------------------------------------------- compare, where

TEST_CASE("comparisons with NaN are false except ne") {
  std::vector<float> a = {NAN, NAN}, b = {1.0f, NAN};
  const std::vector<std::vector<uint8_t>> expected = {{0, 0}, {1, 1}, {0, 0},
                                                      {0, 0}, {0, 0}, {0, 0}};  // eq ne lt le gt ge
  for (int op = CHORUS_COMPARE_EQ; op <= CHORUS_COMPARE_GE; ++op) {
    std::vector<uint8_t> out(2, 7);
    run(make_op(CHORUS_OP_COMPARE, op,
                {view(a.data(), CHORUS_DTYPE_F32, {2}), view(b.data(), CHORUS_DTYPE_F32, {2}),
                 view(out.data(), CHORUS_DTYPE_U8, {2})}));
    INFO("compare op " << op);
    CHECK(out == expected[static_cast<size_t>(op)]);
  }
}

TEST_CASE("compare orders ordinary values and treats -0 as equal to +0") {
  std::vector<float> a = {1, 2, 3, -0.0f}, b = {2, 2, 2, 0.0f};
  const std::vector<std::vector<uint8_t>> expected = {{0, 1, 0, 1}, {1, 0, 1, 0}, {1, 0, 0, 0},
                                                      {1, 1, 0, 1}, {0, 0, 1, 0}, {0, 1, 1, 1}};
  for (int op = CHORUS_COMPARE_EQ; op <= CHORUS_COMPARE_GE; ++op) {
    std::vector<uint8_t> out(4, 7);
    run(make_op(CHORUS_OP_COMPARE, op,
                {view(a.data(), CHORUS_DTYPE_F32, {4}), view(b.data(), CHORUS_DTYPE_F32, {4}),
                 view(out.data(), CHORUS_DTYPE_U8, {4})}));
    INFO("compare op " << op);
    CHECK(out == expected[static_cast<size_t>(op)]);
  }
}

TEST_CASE("i64 compare is exact beyond 2^53") {
  int64_t a = kTwo53 + 1, b = kTwo53;
  uint8_t eq = 7, gt = 7;
  run(make_op(CHORUS_OP_COMPARE, CHORUS_COMPARE_EQ,
              {view(&a, CHORUS_DTYPE_I64, {1}), view(&b, CHORUS_DTYPE_I64, {1}),
               view(&eq, CHORUS_DTYPE_U8, {1})}));
  run(make_op(CHORUS_OP_COMPARE, CHORUS_COMPARE_GT,
              {view(&a, CHORUS_DTYPE_I64, {1}), view(&b, CHORUS_DTYPE_I64, {1}),
               view(&gt, CHORUS_DTYPE_U8, {1})}));
  CHECK(eq == 0);
  CHECK(gt == 1);
}

TEST_CASE("where copies the chosen element's bits, signalling NaN included") {
  std::vector<uint8_t> condition = {1, 0, 2, 0};
  const float signalling_nan = float_from_bits(0x7F800001u);
  std::vector<float> a = {signalling_nan, 2, 3, 4};
  std::vector<float> b = {-1, -2, -3, -4};
  std::vector<float> out(4);
  run(make_op(CHORUS_OP_WHERE, 0,
              {view(condition.data(), CHORUS_DTYPE_U8, {4}), view(a.data(), CHORUS_DTYPE_F32, {4}),
               view(b.data(), CHORUS_DTYPE_F32, {4}), view(out.data(), CHORUS_DTYPE_F32, {4})}));
  CHECK(bits_of(out[0]) == 0x7F800001u);  // a conversion would have quieted it
  CHECK(out[1] == -2.0f);
  CHECK(out[2] == 3.0f);
  CHECK(out[3] == -4.0f);
}

// ----------------------------------------------------------------- reduce

TEST_CASE("reduce sum covers the last axes named by axes_mask") {
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<double> out(2);
  auto d = make_op(
      CHORUS_OP_REDUCE, CHORUS_REDUCE_SUM,
      {view(x.data(), CHORUS_DTYPE_F64, {2, 2, 3}), view(out.data(), CHORUS_DTYPE_F64, {2, 1, 1})});
  d.attrs_as<chorus_reduce_attrs>().axes_mask = 0b110;
  run(d);
  CHECK(out == std::vector<double>{21, 57});
}

TEST_CASE("reduce follows a transposed view") {
  std::vector<float> x = {1, 2, 3, 4, 5, 6};  // 2x3, read as its 3x2 transpose
  std::vector<float> out(3);
  auto d = make_op(CHORUS_OP_REDUCE, CHORUS_REDUCE_SUM,
                   {view(x.data(), CHORUS_DTYPE_F32, {3, 2}, {1, 3}),
                    view(out.data(), CHORUS_DTYPE_F32, {3, 1})});
  d.attrs_as<chorus_reduce_attrs>().axes_mask = 0b10;
  run(d);
  CHECK(out == std::vector<float>{5, 7, 9});
}

TEST_CASE("reduce mean divides the sum by the element count") {
  std::vector<float> x = {1, 2, 3, 4};
  float out = 0;
  auto d =
      make_op(CHORUS_OP_REDUCE, CHORUS_REDUCE_MEAN,
              {view(x.data(), CHORUS_DTYPE_F32, {1, 4}), view(&out, CHORUS_DTYPE_F32, {1, 1})});
  d.attrs_as<chorus_reduce_attrs>().axes_mask = 0b10;
  run(d);
  CHECK(out == 2.5f);
}

TEST_CASE("reduce max and min propagate NaN") {
  std::vector<float> x = {1, NAN, 3};
  float largest = 0, smallest = 0;
  auto d = make_op(CHORUS_OP_REDUCE, CHORUS_REDUCE_MAX,
                   {view(x.data(), CHORUS_DTYPE_F32, {3}), view(&largest, CHORUS_DTYPE_F32, {1})});
  d.attrs_as<chorus_reduce_attrs>().axes_mask = 0b1;
  run(d);
  d.attrs_as<chorus_reduce_attrs>().op = CHORUS_REDUCE_MIN;
  d.op.tensors[1].buffer = &smallest;
  run(d);
  CHECK(std::isnan(largest));
  CHECK(std::isnan(smallest));
}

TEST_CASE("reduce max and min of i64 are exact beyond 2^53") {
  std::vector<int64_t> x = {kTwo53, kTwo53 + 1, kTwo53 - 1};
  int64_t largest = 0, smallest = 0;
  auto d = make_op(CHORUS_OP_REDUCE, CHORUS_REDUCE_MAX,
                   {view(x.data(), CHORUS_DTYPE_I64, {3}), view(&largest, CHORUS_DTYPE_I64, {1})});
  d.attrs_as<chorus_reduce_attrs>().axes_mask = 0b1;
  run(d);
  d.attrs_as<chorus_reduce_attrs>().op = CHORUS_REDUCE_MIN;
  d.op.tensors[1].buffer = &smallest;
  run(d);
  CHECK(largest == kTwo53 + 1);
  CHECK(smallest == kTwo53 - 1);
}

TEST_CASE("reduce sum of i32 wraps") {
  std::vector<int32_t> x = {kInt32Max, 1};
  int32_t out = 0;
  auto d = make_op(CHORUS_OP_REDUCE, CHORUS_REDUCE_SUM,
                   {view(x.data(), CHORUS_DTYPE_I32, {2}), view(&out, CHORUS_DTYPE_I32, {1})});
  d.attrs_as<chorus_reduce_attrs>().axes_mask = 0b1;
  run(d);
  CHECK(out == kInt32Min);
}

TEST_CASE("reduce sum accumulates wider than the dtype and rounds once") {
  // 2^p + 1 + 1 summed in a p-bit format rounds back to 2^p twice over.
  auto d = make_op(CHORUS_OP_REDUCE, CHORUS_REDUCE_SUM, {absent(), absent()});
  d.attrs_as<chorus_reduce_attrs>().axes_mask = 0b1;

  std::vector<uint16_t> x16 = {chorus::numeric::f16_from_double(2048),
                               chorus::numeric::f16_from_double(1),
                               chorus::numeric::f16_from_double(1)};
  uint16_t out16 = 0;
  d.op.tensors[0] = view(x16.data(), CHORUS_DTYPE_F16, {3});
  d.op.tensors[1] = view(&out16, CHORUS_DTYPE_F16, {1});
  run(d);
  CHECK(chorus::numeric::f16_to_double(out16) == 2050.0);

  std::vector<float> x32 = {16777216.0f, 1.0f, 1.0f};
  float out32 = 0;
  d.op.tensors[0] = view(x32.data(), CHORUS_DTYPE_F32, {3});
  d.op.tensors[1] = view(&out32, CHORUS_DTYPE_F32, {1});
  run(d);
  CHECK(out32 == 16777218.0f);
}

// ----------------------------------------------------------------- argmax

TEST_CASE("argmax picks the first of tied maxima in each row") {
  std::vector<float> x = {1, 3, 3, 2, 5, 4, 5, 5};
  std::vector<int64_t> out(2, -1);
  auto d = make_op(
      CHORUS_OP_ARGMAX, 0,
      {view(x.data(), CHORUS_DTYPE_F32, {2, 4}), view(out.data(), CHORUS_DTYPE_I64, {2, 1})});
  d.attrs_as<chorus_argmax_attrs>().axis = 1;
  run(d);
  CHECK(out == std::vector<int64_t>{1, 0});
}

TEST_CASE("argmax treats the first NaN as the largest") {
  std::vector<float> x = {1, NAN, 5, NAN, NAN, 9, INFINITY, 0};
  std::vector<int64_t> out(2, -1);
  auto d = make_op(
      CHORUS_OP_ARGMAX, 0,
      {view(x.data(), CHORUS_DTYPE_F32, {2, 4}), view(out.data(), CHORUS_DTYPE_I64, {2, 1})});
  d.attrs_as<chorus_argmax_attrs>().axis = 1;
  run(d);
  CHECK(out == std::vector<int64_t>{1, 0});
}

TEST_CASE("argmax of i64 is exact beyond 2^53") {
  std::vector<int64_t> x = {kTwo53, kTwo53 + 1, kTwo53};
  int64_t out = -1;
  auto d = make_op(CHORUS_OP_ARGMAX, 0,
                   {view(x.data(), CHORUS_DTYPE_I64, {3}), view(&out, CHORUS_DTYPE_I64, {1})});
  d.attrs_as<chorus_argmax_attrs>().axis = 0;
  run(d);
  CHECK(out == 1);
}

// ------------------------------------------------------------------- gemm

TEST_CASE("gemm multiplies small integer matrices") {
  std::vector<float> a = {1, 2, 3, 4, 5, 6};     // 2x3
  std::vector<float> b = {7, 8, 9, 10, 11, 12};  // 3x2
  std::vector<float> c(4, -1);
  run(make_op(
      CHORUS_OP_GEMM, 0,
      {view(a.data(), CHORUS_DTYPE_F32, {1, 2, 3}), view(b.data(), CHORUS_DTYPE_F32, {1, 3, 2}),
       absent(), view(c.data(), CHORUS_DTYPE_F32, {1, 2, 2})}));
  CHECK(c == std::vector<float>{58, 64, 139, 154});
}

TEST_CASE("gemm applies alpha, beta, a broadcast bias and then the activation") {
  std::vector<double> a = {1, 2, 3, 4}, b = {5, 6, 7, 8};  // a·b = [[19, 22], [43, 50]]
  std::vector<double> c = {1, 1, 1, 1};
  std::vector<double> bias = {-40, -100};  // one row, broadcast over M
  auto d = make_op(
      CHORUS_OP_GEMM, 0,
      {view(a.data(), CHORUS_DTYPE_F64, {1, 2, 2}), view(b.data(), CHORUS_DTYPE_F64, {1, 2, 2}),
       view(bias.data(), CHORUS_DTYPE_F64, {1, 2, 2}, {0, 0, 1}),
       view(c.data(), CHORUS_DTYPE_F64, {1, 2, 2})});
  d.attrs_as<chorus_gemm_desc>().alpha = 2;
  d.attrs_as<chorus_gemm_desc>().beta = -3;
  SECTION("no activation") {
    run(d);
    CHECK(c == std::vector<double>{-5, -59, 43, -3});
  }
  SECTION("relu") {
    d.attrs_as<chorus_gemm_desc>().activation = CHORUS_ACTIVATION_RELU;
    run(d);
    CHECK(c == std::vector<double>{0, 0, 43, 0});
  }
}

TEST_CASE("gemm with beta 0 does not read c") {
  std::vector<float> a = {1, 2}, b = {3, 4};  // 1x2 · 2x1 = 11
  float c = NAN;
  auto d =
      make_op(CHORUS_OP_GEMM, 0,
              {view(a.data(), CHORUS_DTYPE_F32, {1, 1, 2}),
               view(b.data(), CHORUS_DTYPE_F32, {1, 2, 1}), absent(),
               view(&c, CHORUS_DTYPE_F32, {1, 1, 1})});
  d.attrs_as<chorus_gemm_desc>().beta = 0;
  run(d);
  CHECK(c == 11.0f);
}

TEST_CASE("gemm reads a transposed B shared by every batch through strides") {
  std::vector<float> a = {1, 2, 3, 4};  // batch 0: [1, 2], batch 1: [3, 4]
  std::vector<float> b_transposed = {1, 2, 3,
                                     4};  // B^T = [[1, 2], [3, 4]], so B = [[1, 3], [2, 4]]
  std::vector<float> c(4);
  run(make_op(CHORUS_OP_GEMM, 0,
              {view(a.data(), CHORUS_DTYPE_F32, {2, 1, 2}),
               view(b_transposed.data(), CHORUS_DTYPE_F32, {2, 2, 2}, {0, 1, 2}), absent(),
               view(c.data(), CHORUS_DTYPE_F32, {2, 1, 2})}));
  CHECK(c == std::vector<float>{5, 11, 11, 25});
}

TEST_CASE("gemm accumulates wider than the dtype and rounds once") {
  // [2^p, 1, 1]·[1, 1, 1] accumulated in a p-bit format stays at 2^p.
  const uint16_t one = chorus::numeric::f16_from_double(1);
  std::vector<uint16_t> a16 = {chorus::numeric::f16_from_double(2048), one, one};
  std::vector<uint16_t> b16 = {one, one, one};
  uint16_t c16 = 0;
  run(make_op(
      CHORUS_OP_GEMM, 0,
      {view(a16.data(), CHORUS_DTYPE_F16, {1, 1, 3}), view(b16.data(), CHORUS_DTYPE_F16, {1, 3, 1}),
       absent(), view(&c16, CHORUS_DTYPE_F16, {1, 1, 1})}));
  CHECK(chorus::numeric::f16_to_double(c16) == 2050.0);

  std::vector<float> a32 = {16777216.0f, 1.0f, 1.0f};
  std::vector<float> b32 = {1.0f, 1.0f, 1.0f};
  float c32 = 0;
  run(make_op(
      CHORUS_OP_GEMM, 0,
      {view(a32.data(), CHORUS_DTYPE_F32, {1, 1, 3}), view(b32.data(), CHORUS_DTYPE_F32, {1, 3, 1}),
       absent(), view(&c32, CHORUS_DTYPE_F32, {1, 1, 1})}));
  CHECK(c32 == 16777218.0f);
}

TEST_CASE("gemm activation is the same function as the unary op") {
  double a = 1, b = 1, c = 0;
  auto d = make_op(CHORUS_OP_GEMM, 0,
                   {view(&a, CHORUS_DTYPE_F64, {1, 1, 1}), view(&b, CHORUS_DTYPE_F64, {1, 1, 1}),
                    absent(), view(&c, CHORUS_DTYPE_F64, {1, 1, 1})});
  d.attrs_as<chorus_gemm_desc>().activation = CHORUS_ACTIVATION_GELU_ERF;
  run(d);
  CHECK(near_ulps(c, 0.84134474606854294859, 1));
  CHECK(c == unary_f64(CHORUS_UNARY_GELU_ERF, 1.0));
}

// ---------------------------------------------------------------- softmax

TEST_CASE("softmax of [0, ln 2] is [1/3, 2/3]") {
  std::vector<double> x = {0, std::log(2.0)};
  std::vector<double> y(2);
  auto d = make_op(CHORUS_OP_SOFTMAX, 0,
                   {view(x.data(), CHORUS_DTYPE_F64, {2}), view(y.data(), CHORUS_DTYPE_F64, {2})});
  run(d);
  CHECK(y[0] == 1.0 / 3.0);
  CHECK(y[1] == 2.0 / 3.0);
}

TEST_CASE("log-softmax of [0, ln 2] is [-ln 3, ln 2 - ln 3]") {
  std::vector<double> x = {0, std::log(2.0)};
  std::vector<double> y(2);
  run(make_op(CHORUS_OP_SOFTMAX, 1,
              {view(x.data(), CHORUS_DTYPE_F64, {2}), view(y.data(), CHORUS_DTYPE_F64, {2})}));
  CHECK(near_ulps(y[0], -1.0986122886681096914, 1));
  CHECK(near_ulps(y[1], -0.40546510810816438198, 2));
}

TEST_CASE("softmax subtracts the row max, so large inputs do not overflow") {
  std::vector<float> x = {1000, 1000, 1000, 1000};
  std::vector<float> y(4);
  auto d =
      make_op(CHORUS_OP_SOFTMAX, 0,
              {view(x.data(), CHORUS_DTYPE_F32, {2, 2}), view(y.data(), CHORUS_DTYPE_F32, {2, 2})});
  d.attrs_as<chorus_softmax_attrs>().axis = 1;
  run(d);
  CHECK(y == std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f});
}

TEST_CASE("softmax of a row of -inf is NaN, and other rows are unaffected") {
  std::vector<float> x = {-INFINITY, -INFINITY, 0, 0};
  std::vector<float> y(4);
  auto d =
      make_op(CHORUS_OP_SOFTMAX, 0,
              {view(x.data(), CHORUS_DTYPE_F32, {2, 2}), view(y.data(), CHORUS_DTYPE_F32, {2, 2})});
  d.attrs_as<chorus_softmax_attrs>().axis = 1;
  run(d);
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(y[1]));
  CHECK(y[2] == 0.5f);
  CHECK(y[3] == 0.5f);
}

TEST_CASE("softmax of a row holding NaN or +inf is NaN throughout") {
  std::vector<float> x = {NAN, 0, 1, INFINITY, 0, 1};
  std::vector<float> y(6);
  for (const int32_t log_softmax : {0, 1}) {
    auto d = make_op(
        CHORUS_OP_SOFTMAX, log_softmax,
        {view(x.data(), CHORUS_DTYPE_F32, {2, 3}), view(y.data(), CHORUS_DTYPE_F32, {2, 3})});
    d.attrs_as<chorus_softmax_attrs>().axis = 1;
    run(d);
    INFO("log-softmax: " << log_softmax);
    for (const float v : y) CHECK(std::isnan(v));
  }
}

// ------------------------------------------------------------------ norms

TEST_CASE("layer norm of [1, 2, 3, 4] with eps 0") {
  std::vector<double> x = {1, 2, 3, 4};
  std::vector<double> y(4);
  run(make_op(CHORUS_OP_LAYER_NORM, 0,
              {view(x.data(), CHORUS_DTYPE_F64, {4}), absent(), absent(),
               view(y.data(), CHORUS_DTYPE_F64, {4})}));
  CHECK(y == std::vector<double>{-1.3416407864998738, -0.4472135954999579, 0.4472135954999579,
                                 1.3416407864998738});
}

TEST_CASE("layer norm subtracts the mean before squaring") {
  // With E[x²] - E[x]², squares near 1e24 would drown a variance of 1.25 even
  // in long double.
  std::vector<double> x = {1e12 + 1, 1e12 + 2, 1e12 + 3, 1e12 + 4};
  std::vector<double> y(4);
  run(make_op(CHORUS_OP_LAYER_NORM, 0,
              {view(x.data(), CHORUS_DTYPE_F64, {4}), absent(), absent(),
               view(y.data(), CHORUS_DTYPE_F64, {4})}));
  CHECK(y == std::vector<double>{-1.3416407864998738, -0.4472135954999579, 0.4472135954999579,
                                 1.3416407864998738});
}

TEST_CASE("layer norm adds eps to the variance inside the square root") {
  std::vector<float> x = {1, -1};  // mean 0, variance 1
  std::vector<float> y(2);
  auto d = make_op(CHORUS_OP_LAYER_NORM, 0,
                   {view(x.data(), CHORUS_DTYPE_F32, {2}), absent(), absent(),
                    view(y.data(), CHORUS_DTYPE_F32, {2})});
  d.attrs_as<chorus_norm_attrs>().eps = 3;
  run(d);
  CHECK(y == std::vector<float>{0.5f, -0.5f});
}

TEST_CASE("layer norm applies gamma and beta broadcast over rows") {
  // Row 1 is row 0 doubled, so both normalise to the same values.
  std::vector<double> x = {1, 2, 3, 4, 2, 4, 6, 8};
  std::vector<double> gamma = {1, 0, 2, -1}, beta = {0, 10, 0, 1};
  std::vector<double> y(8);
  auto d =
      make_op(CHORUS_OP_LAYER_NORM, 0,
              {view(x.data(), CHORUS_DTYPE_F64, {2, 4}),
               view(gamma.data(), CHORUS_DTYPE_F64, {2, 4}, {0, 1}),
               view(beta.data(), CHORUS_DTYPE_F64, {2, 4}, {0, 1}),
               view(y.data(), CHORUS_DTYPE_F64, {2, 4})});
  run(d);
  const std::vector<double> expected = {-1.3416407864998738, 10, 2 * 0.4472135954999579,
                                        1 - 1.3416407864998738};
  for (size_t i = 0; i < 8; ++i) {
    INFO("element " << i);
    CHECK(near_ulps(y[i], expected[i % 4], 1));
  }
}

TEST_CASE("rms norm divides by the root mean square and scales by gamma") {
  std::vector<double> x = {3, 4};  // mean square 12.5
  std::vector<double> gamma = {2, 0.5};
  std::vector<double> y(2);
  auto d = make_op(CHORUS_OP_RMS_NORM, 0,
                   {view(x.data(), CHORUS_DTYPE_F64, {2}), view(gamma.data(), CHORUS_DTYPE_F64, {2}),
                    view(y.data(), CHORUS_DTYPE_F64, {2})});
  run(d);
  CHECK(near_ulps(y[0], 1.6970562748477140586, 1));
  CHECK(near_ulps(y[1], 0.56568542494923801952, 1));
}

TEST_CASE("rms norm adds eps to the mean square and does not subtract the mean") {
  std::vector<float> x = {1, 1};  // mean square 1
  std::vector<float> y(2);
  auto d = make_op(CHORUS_OP_RMS_NORM, 0,
                   {view(x.data(), CHORUS_DTYPE_F32, {2}), absent(),
                    view(y.data(), CHORUS_DTYPE_F32, {2})});
  d.attrs_as<chorus_norm_attrs>().eps = 3;
  run(d);
  CHECK(y == std::vector<float>{0.5f, 0.5f});
}

// ----------------------------------------------------------------- errors
// Validation is libchorus's (tests/unit/test_api.cpp); a backend answers
// UNSUPPORTED for what it does not know, as every backend must.

TEST_CASE("an unknown op kind is unsupported, with a message") {
  install_fake_host();
  float x = 0;
  auto d = make_op(static_cast<chorus_op_kind>(99), 0, {view(&x, CHORUS_DTYPE_F32, {1})});
  CHECK(execute(d.bound()) == CHORUS_ERROR_UNSUPPORTED);
  CHECK(g_last_status == CHORUS_ERROR_UNSUPPORTED);
  CHECK_THAT(g_last_message, Catch::Contains("op kind 99"));
}

TEST_CASE("an unknown unary op is unsupported, naming the op") {
  install_fake_host();
  float x = 1, y = 0;
  auto d = make_op(CHORUS_OP_UNARY, 42,
                   {view(&x, CHORUS_DTYPE_F32, {1}), view(&y, CHORUS_DTYPE_F32, {1})});
  CHECK(execute(d.bound()) == CHORUS_ERROR_UNSUPPORTED);
  CHECK_THAT(g_last_message, Catch::Contains("unary op 42"));
  CHECK(y == 0);
}

// ----------------------------------------------------------------- vtable

TEST_CASE("the reference device describes itself") {
  install_fake_host();
  const chorus_backend_vtable* vt = chorus::reference::vtable();
  CHECK(std::string(vt->name) == "reference");
  CHECK(vt->device_count(nullptr) == 1);
  chorus_device_info info{};
  REQUIRE(vt->device_info(nullptr, 0, &info) == CHORUS_OK);
  CHECK(info.kind == CHORUS_DEVICE_KIND_REFERENCE);
  CHECK(info.usable == 1);
  CHECK(info.memory_bytes > 0);
  CHECK(info.max_allocation_bytes == info.memory_bytes);
  CHECK(info.dtype_mask == 0xFEu);  // bits 1..7: every dtype
  CHECK(info.has_fp64 == 1);
  CHECK(info.numerics_default == CHORUS_NUMERICS_DETERMINISTIC);
  CHECK(std::string(info.driver_version) == std::to_string(CHORUS_VERSION_MAJOR) + "." +
                                                std::to_string(CHORUS_VERSION_MINOR) + "." +
                                                std::to_string(CHORUS_VERSION_PATCH));
  CHECK(vt->device_info(nullptr, 1, &info) == CHORUS_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("a buffer larger than memory is out of memory, naming the byte count") {
  install_fake_host();
  const chorus_backend_vtable* vt = chorus::reference::vtable();
  void* buffer = nullptr;
  CHECK(vt->buffer_create(nullptr, uint64_t{1} << 62, &buffer) == CHORUS_ERROR_OUT_OF_MEMORY);
  CHECK(buffer == nullptr);
  CHECK_THAT(g_last_message, Catch::Contains(std::to_string(uint64_t{1} << 62)));
  REQUIRE(vt->buffer_create(nullptr, 0, &buffer) == CHORUS_OK);  // empty buffers are fine
  vt->buffer_destroy(nullptr, buffer);
}

TEST_CASE("buffer fill repeats the pattern from the offset, cutting the tail") {
  const chorus_backend_vtable* vt = chorus::reference::vtable();
  void* buffer = nullptr;
  REQUIRE(vt->buffer_create(nullptr, 10, &buffer) == CHORUS_OK);
  const std::vector<uint8_t> zeros(10, 0);
  REQUIRE(vt->buffer_write(nullptr, buffer, 0, zeros.data(), 10) == CHORUS_OK);
  const uint8_t pattern[2] = {0xAB, 0xCD};
  REQUIRE(vt->buffer_fill(nullptr, buffer, 1, 7, pattern, 2) == CHORUS_OK);
  std::vector<uint8_t> out(10);
  REQUIRE(vt->buffer_read(nullptr, buffer, 0, out.data(), 10) == CHORUS_OK);
  CHECK(out == std::vector<uint8_t>{0, 0xAB, 0xCD, 0xAB, 0xCD, 0xAB, 0xCD, 0xAB, 0, 0});
  vt->buffer_destroy(nullptr, buffer);
}

TEST_CASE("elapsed time needs both events recorded") {
  install_fake_host();
  const chorus_backend_vtable* vt = chorus::reference::vtable();
  void *start = nullptr, *end = nullptr;
  REQUIRE(vt->event_create(nullptr, &start) == CHORUS_OK);
  REQUIRE(vt->event_create(nullptr, &end) == CHORUS_OK);
  REQUIRE(vt->event_record(start, nullptr) == CHORUS_OK);
  double ms = -1;
  CHECK(vt->event_elapsed_ms(start, end, &ms) == CHORUS_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(g_last_message, Catch::Contains("end"));
  REQUIRE(vt->event_record(end, nullptr) == CHORUS_OK);
  CHECK(vt->event_elapsed_ms(start, end, &ms) == CHORUS_OK);
  CHECK(ms >= 0);
  vt->event_destroy(start);
  vt->event_destroy(end);
}

TEST_CASE("op_create keeps the layouts; op_execute binds buffers and offsets") {
  const chorus_backend_vtable* vt = chorus::reference::vtable();
  void *a = nullptr, *out = nullptr;
  REQUIRE(vt->buffer_create(nullptr, 4 * sizeof(float), &a) == CHORUS_OK);
  REQUIRE(vt->buffer_create(nullptr, 4 * sizeof(float), &out) == CHORUS_OK);
  const float values[4] = {9, 1, 2, 3};
  REQUIRE(vt->buffer_write(nullptr, a, 0, values, sizeof values) == CHORUS_OK);
  // The record holds layouts only: no buffers, offset 0.
  chorus_backend_tensor tensors[3] = {view(nullptr, CHORUS_DTYPE_F32, {3}),
                                      view(nullptr, CHORUS_DTYPE_F32, {3}),
                                      view(nullptr, CHORUS_DTYPE_F32, {3})};
  const chorus_binary_attrs attrs{sizeof attrs, CHORUS_BINARY_MUL};
  const chorus_op_record record{sizeof(chorus_op_record), CHORUS_OP_BINARY, 0, 3, tensors,
                                &attrs, sizeof attrs, 0};
  REQUIRE(vt->op_supports(nullptr, &record) == CHORUS_OK);
  void* prepared = nullptr;
  REQUIRE(vt->op_create(nullptr, &record, &prepared) == CHORUS_OK);
  const chorus_backend_binding bindings[3] = {{a, 1}, {a, 1}, {out, 0}};
  REQUIRE(vt->op_execute(nullptr, prepared, bindings, 3) == CHORUS_OK);
  float got[4] = {};
  REQUIRE(vt->buffer_read(nullptr, out, 0, got, sizeof got) == CHORUS_OK);
  CHECK(got[0] == 1.0f);
  CHECK(got[1] == 4.0f);
  CHECK(got[2] == 9.0f);
  vt->op_destroy(nullptr, prepared);
  vt->buffer_destroy(nullptr, a);
  vt->buffer_destroy(nullptr, out);
}
