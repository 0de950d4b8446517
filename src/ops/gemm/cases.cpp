// cases.cpp — the gemm folder's conformance layer (family "gemm"): GEMM over the float dtypes: every transpose, alpha/beta,
// bias of each broadcast shape, the activation epilogues, batches (broadcast
// through the API, stride 0, permuted), padded and offset views, tile-edge
// and zero sizes, long K, and the special cases (overflow to inf, NaN in an
// unread C). Exact cases use small integers with at most `cap` non-zeros per
// dot product so every partial sum is representable: tolerance 0. (A cap
// rather than CONFORMANCE.md's expected fraction min(1, safe_n / K) of
// non-zeros: a random fraction can overshoot safe_n in an unlucky row.)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <tuple>

#include "conformance/bounds.hpp"
#include "conformance/cases.hpp"

namespace chorus::ops::gemm {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// ---------------------------------------------------------------- bounds

struct GemmParams {
  bool transpose_a = false, transpose_b = false;
  double alpha = 1, beta = 0;
  chorus_activation activation = CHORUS_ACTIVATION_NONE;
  int64_t k = 0;
};

// Operands a, b, bias (may be absent), c.
BoundFn gemm_bound(const GemmParams& p) {
  // c = act(alpha * sum_k a_ik b_kj + beta c + bias), K products summed in
  // any order: gamma_K on sum|a||b|; times alpha, plus beta c (one product,
  // one addition) and plus bias (one addition) make at most K + 3 roundings
  // on any term, so |err| <= (K+3) u S (1 + O(Ku)) <= c (K+2) u S + R with
  //   S = |alpha| |A||B| + |beta| |C| + |bias|,
  // computed by the reference on absolute values (no activation).
  // allow_tf32 (declared by the queue, f32 only): inputs rounded to 10
  // fraction bits, u_in = 2^-11, add c u_in S.
  // Underflow: a product that lands below the normal range is off by up to
  // half a subnormal quantum in absolute terms, which no relative bound
  // covers; K products and three more operations add (K+3) eta, taken as
  // c (K+2) eta with eta the compute type's smallest subnormal.
  // Activation: the pre-activation t carries |dt| <= the bound above; the
  // activation adds its own error, so
  //   bound = L * bound_pre + (activation's ulp bound, with its absolute floor)
  // with L = max|phi'| = 1.2 (gelu_erf 1.13, gelu_tanh 1.13, silu 1.10) and
  // L = 1, no extra error, for relu. The activation's ulp bound is the f32
  // allowance of the unary op of the same name (gelu_erf 16 ulp: it contains
  // erf, OpenCL's 16; gelu_tanh and silu 5), with the unary ops' absolute
  // floor 8 u max(1, |t|) for functions that cross zero.
  using namespace bounds;
  return [p](const BoundInputs& in) {
    const HostTensor& y = in.expected;
    const chorus_dtype out = in.out_dtype;
    const double u = accumulation_u(out);
    const chorus_gemm_desc original{
        sizeof(chorus_gemm_desc), p.transpose_a, p.transpose_b, p.alpha, p.beta,
        CHORUS_ACTIVATION_NONE};
    const auto call_with = [](chorus_gemm_desc desc) -> OpCall {
      return [desc](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
        return chorus_gemm(q, &desc, t[0], t[1], t[2], t[3]);
      };
    };
    chorus_gemm_desc magnitude = original;
    magnitude.alpha = std::fabs(p.alpha);
    magnitude.beta = std::fabs(p.beta);
    std::vector<HostTensor> scale;
    for (const HostTensor& t : in.operands) scale.push_back(absolute(t));
    const bool read_c = p.beta != 0;
    if (!read_c) scale[3] = HostTensor(y.dtype, y.shape);
    in.reference.run(call_with(magnitude), scale, 3, read_c);

    const bool smooth = p.activation == CHORUS_ACTIVATION_GELU_ERF ||
                        p.activation == CHORUS_ACTIVATION_GELU_TANH ||
                        p.activation == CHORUS_ACTIVATION_SILU;
    std::vector<HostTensor> pre;
    if (smooth) {
      pre = in.operands;
      if (!read_c) pre[3] = HostTensor(y.dtype, y.shape);
      in.reference.run(call_with(original), pre, 3, read_c);
    }
    const double tf32 = (in.numerics & CHORUS_NUMERICS_ALLOW_TF32) && out == CHORUS_DTYPE_F32
                            ? kC * std::ldexp(1.0, -11)
                            : 0.0;
    const double act_ulps = p.activation == CHORUS_ACTIVATION_GELU_ERF ? 16 : 5;
    std::vector<double> b(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i) {
      const double s = static_cast<double>(scale[3].get(i));
      const long double yi = y.get(i);
      double bound =
          kC * static_cast<double>(p.k + 2) * (u * s + min_subnormal(compute_dtype(out))) +
          tf32 * s;
      if (smooth) {
        bound = 1.2 * bound + std::max(act_ulps * ulp_of(compute_dtype(out), yi),
                                       absolute_floor(out, pre[3].get(i)));
      }
      b[static_cast<size_t>(i)] =
          bound + final_rounding(out, static_cast<double>(yi)) + oracle_rounding(out, yi);
    }
    return b;
  };
}

enum class Data { exact, normal, positive, overflow, nan_c, specials };

struct GemmLayout {
  std::string label, kind;
  Tier tier = Tier::ci;
  int64_t m = 1, n = 1, k = 1;
  bool ta = false, tb = false;
  double alpha = 1, beta = 0;
  chorus_activation activation = CHORUS_ACTIVATION_NONE;
  Data data = Data::normal;
  std::vector<int64_t> batch_a, batch_b, batch_c;  // leading batch axes of each operand
  std::vector<int64_t> bias_shape;                 // empty: no bias
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;
  int64_t off_a = 0, off_b = 0, off_c = 0;
  bool a_batch_stride0 = false;   // a's (single) batch axis broadcast by a zero stride
  bool a_batch_permuted = false;  // a stored as [M, batch, K]
  bool c_column_major = false;    // c (rank 2) stored transposed
};

std::vector<int64_t> concat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Keeps at most `cap` non-zeros along K in every row of op(A).
void thin_rows(HostTensor& a, const GemmLayout& g, int64_t cap) {
  const int64_t matrix = g.m * g.k;
  const int64_t batches = matrix ? a.numel() / matrix : 0;
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t i = 0; i < g.m; ++i) {
      int64_t count = 0;
      for (int64_t kk = 0; kk < g.k; ++kk) {
        const int64_t at = b * matrix + (g.ta ? kk * g.m + i : i * g.k + kk);
        if (a.get(at) != 0 && ++count > cap) a.set(at, 0);
      }
    }
}

CaseSpec gemm_spec(chorus_dtype d, const GemmLayout& g, Rng& rng) {
  CaseSpec s;
  const std::vector<int64_t> a_shape =
      concat(g.batch_a, g.ta ? std::vector<int64_t>{g.k, g.m} : std::vector<int64_t>{g.m, g.k});
  const std::vector<int64_t> b_shape =
      concat(g.batch_b, g.tb ? std::vector<int64_t>{g.n, g.k} : std::vector<int64_t>{g.k, g.n});
  const std::vector<int64_t> c_shape = concat(g.batch_c, {g.m, g.n});
  HostTensor a(d, a_shape), b(d, b_shape), c(d, c_shape);
  HostTensor bias = g.bias_shape.empty() ? HostTensor::absent() : HostTensor(d, g.bias_shape);
  bool read_c = g.beta != 0;
  switch (g.data) {
    case Data::exact: {
      const int64_t m = exact_magnitude(d);
      fill_integers(a, rng, -m, m, 0.1);
      fill_integers(b, rng, -m, m, 0.1);
      fill_integers(c, rng, -m, m);
      if (bias.present) fill_integers(bias, rng, -m, m);
      // |dot| <= cap m^2, plus |beta c| + |bias| <= 2m, must stay below 2^digits.
      const int64_t room = (int64_t{1} << std::min(significand_digits(d), 40)) - 2 * m;
      thin_rows(a, g, room / (m * m));
      break;
    }
    case Data::positive:
      fill_uniform(a, rng, 0, 1);
      fill_uniform(b, rng, 0, 1);
      break;
    case Data::overflow: {
      // Products far beyond the dtype's range: the result must be +inf.
      const double big = d == CHORUS_DTYPE_F16 ? 16 : d == CHORUS_DTYPE_F64 ? 1e200 : 1e20;
      fill_list(a, {big});
      fill_list(b, {big});
      break;
    }
    case Data::nan_c:
      fill_normal(a, rng, 1);
      fill_normal(b, rng, 1);
      fill_list(c, {std::numeric_limits<long double>::quiet_NaN()});
      read_c = true;  // C holds NaN on the device; beta == 0 means it must not be read
      break;
    case Data::specials: {
      fill_normal(a, rng, 1);
      fill_normal(b, rng, 1);
      const long double inf = std::numeric_limits<long double>::infinity();
      // A few rows of A carry inf, -inf or NaN; one column of B is zero, so
      // inf * 0 = NaN meets finite sums in the same output row.
      for (int64_t i = 0; i < a.numel(); i += 37)
        a.set(i, i % 3 == 0 ? inf : i % 3 == 1 ? -inf : NAN);
      for (int64_t kk = 0; kk < g.k; ++kk) b.set(g.tb ? kk : kk * g.n, 0);
      break;
    }
    case Data::normal:
      fill_normal(a, rng, 1);
      fill_normal(b, rng, 1);
      fill_normal(c, rng, 1);
      if (bias.present) fill_normal(bias, rng, 1);
      break;
  }
  if (!read_c) c = HostTensor(d, c_shape);

  std::vector<int64_t> a_strides, b_strides, c_strides;
  if (g.pad_a) a_strides = padded_strides(a_shape, g.pad_a);
  if (g.pad_b) b_strides = padded_strides(b_shape, g.pad_b);
  if (g.pad_c) c_strides = padded_strides(c_shape, g.pad_c);
  if (g.a_batch_stride0) a_strides = broadcast_strides(a_shape, 0);
  if (g.a_batch_permuted) a_strides = permuted_strides(a_shape, {1, 0, 2});
  if (g.c_column_major) c_strides = permuted_strides(c_shape, {1, 0});
  s.operands = {Operand{"a", a, a_strides, g.off_a, -1}, Operand{"b", b, b_strides, g.off_b, -1},
                Operand{"bias", bias, {}, 0, -1}, Operand{"c", c, c_strides, g.off_c, -1}};
  s.output = 3;
  s.output_is_read = read_c;
  const chorus_gemm_desc desc{sizeof(chorus_gemm_desc), g.ta, g.tb, g.alpha, g.beta, g.activation};
  s.call = [desc](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_gemm(q, &desc, t[0], t[1], t[2], t[3]);
  };
  char text[160];
  std::snprintf(text, sizeof text, "transpose_a=%d transpose_b=%d alpha=%g beta=%g activation=%d",
                g.ta ? 1 : 0, g.tb ? 1 : 0, g.alpha, g.beta, static_cast<int>(g.activation));
  s.call_text = text;
  if (g.data == Data::exact) {
    s.check = Check::exact;
  } else {
    s.check = Check::bounded;
    s.oracle = OracleKind::wide;
    s.bound = gemm_bound({g.ta, g.tb, g.alpha, g.beta, g.activation, g.k});
  }
  return s;
}

std::string dims(int64_t m, int64_t n, int64_t k) {
  return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
}
const char* transpose_label(bool ta, bool tb) {
  return ta ? (tb ? "tt" : "tn") : (tb ? "nt" : "nn");
}

std::vector<GemmLayout> layouts(chorus_dtype d) {
  std::vector<GemmLayout> v;
  auto make = [](std::string kind, int64_t m, int64_t n, int64_t k, Data data,
                 std::string variant) {
    GemmLayout g;
    g.kind = std::move(kind);
    g.m = m;
    g.n = n;
    g.k = k;
    g.data = data;
    g.label = dims(m, n, k) + (variant.empty() ? "" : "/" + variant);
    return g;
  };
  // ---- exact
  {
    GemmLayout g = make("exact", 64, 96, 80, Data::exact, "nn");
    if (d == CHORUS_DTYPE_F32 || d == CHORUS_DTYPE_F16) g.tier = Tier::smoke;
    v.push_back(g);
  }
  for (const bool ta : {false, true})
    for (const bool tb : {false, true}) {
      GemmLayout g = make("exact", 33, 17, 129, Data::exact, transpose_label(ta, tb));
      g.ta = ta;
      g.tb = tb;
      v.push_back(g);
    }
  {
    // Long K: 4097 full-density terms are exact in f32 and f64; the 16-bit
    // formats get the longest K their thinning still leaves interesting.
    const int64_t k = d == CHORUS_DTYPE_F16 ? 1023 : d == CHORUS_DTYPE_BF16 ? 257 : 4097;
    GemmLayout g = make("exact", 9, 7, k, Data::exact, "nt-long-k");
    g.tb = true;
    v.push_back(g);
  }
  {
    GemmLayout g = make("exact", 33, 40, 64, Data::exact, "alpha-1-beta1-bias");
    g.alpha = -1;
    g.beta = 1;
    g.bias_shape = {40};
    v.push_back(g);
  }
  {
    GemmLayout g = make("exact", 33, 17, 20, Data::exact, "batch3x4-b-broadcast");
    g.batch_a = {3, 4};
    g.batch_c = {3, 4};
    v.push_back(g);
  }
  for (const auto& [m, n, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 1, 1},
                                                                                  {2, 2, 2},
                                                                                  {17, 31, 33},
                                                                                  {33, 17, 31},
                                                                                  {127, 2, 129},
                                                                                  {129, 129, 17},
                                                                                  {31, 127, 1}})
    v.push_back(make("edge", m, n, k, Data::exact, "tile"));
  for (const auto& [m, n, k] :
       std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1023, 33, 1025}, {1025, 17, 1023}}) {
    GemmLayout g = make("edge", m, n, k, Data::exact, "tile");
    g.tier = Tier::full;
    v.push_back(g);
  }
  // ---- accuracy
  for (const bool ta : {false, true})
    for (const bool tb : {false, true}) {
      GemmLayout g = make("accuracy", 64, 48, 96, Data::normal, transpose_label(ta, tb));
      g.ta = ta;
      g.tb = tb;
      g.alpha = 1.5;
      g.beta = 0.5;
      g.bias_shape = {48};
      if (!ta && !tb && d == CHORUS_DTYPE_BF16) g.tier = Tier::smoke;
      v.push_back(g);
    }
  const std::pair<chorus_activation, const char*> acts[] = {
      {CHORUS_ACTIVATION_RELU, "relu"},
      {CHORUS_ACTIVATION_GELU_ERF, "gelu_erf"},
      {CHORUS_ACTIVATION_GELU_TANH, "gelu_tanh"},
      {CHORUS_ACTIVATION_SILU, "silu"}};
  for (const auto& [act, name] : acts) {
    GemmLayout g = make("accuracy", 32, 40, 64, Data::normal, name);
    g.activation = act;
    g.bias_shape = {40};
    v.push_back(g);
  }
  v.push_back(make("accuracy", 8, 8, 4096, Data::positive, "positive-long-k"));
  {
    GemmLayout g = make("accuracy", 20, 30, 40, Data::normal, "bias-column");
    g.bias_shape = {20, 1};
    v.push_back(g);
    g = make("accuracy", 20, 30, 40, Data::normal, "bias-full-beta1");
    g.bias_shape = {20, 30};
    g.beta = 1;
    v.push_back(g);
  }
  // ---- views
  {
    GemmLayout g = make("view", 40, 36, 50, Data::normal, "padded");
    g.pad_a = 5;
    g.pad_b = 3;
    g.pad_c = 7;
    g.beta = 1;
    v.push_back(g);
    if (d == CHORUS_DTYPE_F32) v.back().tier = Tier::smoke;
    g = make("view", 40, 36, 50, Data::normal, "c-column-major");
    g.c_column_major = true;
    g.beta = 0.5;
    g.bias_shape = {36};
    v.push_back(g);
    g = make("view", 40, 36, 50, Data::normal, "padded-tt");
    g.ta = g.tb = true;
    g.pad_a = 2;
    g.pad_b = 6;
    g.pad_c = 1;
    v.push_back(g);
    g = make("view", 40, 36, 50, Data::normal, "offset");
    g.off_a = 3;
    g.off_b = 1;
    g.off_c = 5;
    g.bias_shape = {36};
    v.push_back(g);
    g = make("view", 16, 24, 20, Data::normal, "batch2x3-b-batch3");
    g.batch_a = {2, 3};
    g.batch_b = {3};
    g.batch_c = {2, 3};
    g.bias_shape = {24};
    v.push_back(g);
    g = make("view", 16, 24, 20, Data::normal, "batch4-a-stride0-nt");
    g.batch_a = {4};
    g.batch_b = {4};
    g.batch_c = {4};
    g.tb = true;
    g.a_batch_stride0 = true;
    v.push_back(g);
    g = make("view", 16, 24, 20, Data::normal, "batch4-a-permuted");
    g.batch_a = {4};
    g.batch_b = {4};
    g.batch_c = {4};
    g.a_batch_permuted = true;
    v.push_back(g);
    g = make("view", 16, 24, 20, Data::normal, "batch4x3-b-4x1");
    g.batch_a = {4, 3};
    g.batch_b = {4, 1};
    g.batch_c = {4, 3};
    g.beta = 1;
    v.push_back(g);
  }
  // ---- edges
  v.push_back(make("edge", 0, 8, 16, Data::normal, "m0"));
  v.push_back(make("edge", 8, 0, 16, Data::normal, "n0"));
  {
    // K = 0: an empty sum, so c = beta c + bias.
    GemmLayout g = make("edge", 8, 8, 0, Data::normal, "k0-beta1-bias");
    g.beta = 1;
    g.bias_shape = {8};
    v.push_back(g);
  }
  {
    GemmLayout g = make("edge", 70000, 4, 8, Data::normal, "many-rows");
    g.tier = Tier::full;
    v.push_back(g);
  }
  // ---- special
  v.push_back(make("special", 4, 4, d == CHORUS_DTYPE_F16 ? 300 : 2, Data::overflow, "overflow"));
  v.push_back(make("special", 16, 16, 16, Data::nan_c, "nan-c-beta0"));
  v.push_back(make("special", 12, 10, 8, Data::specials, "inf-nan"));
  return v;
}

void add_gemm_cases(std::vector<CaseEntry>& cases) {
  for (const chorus_dtype d : kFloatDtypes) {
    const std::string dt = dtype_text(d);
    for (const GemmLayout& g : layouts(d)) {
      add_case(
          cases, "gemm/" + dt + "/" + g.kind + "/" + g.label, "gemm", CHORUS_OP_GEMM, dt,
          "M=" + std::to_string(g.m) + " N=" + std::to_string(g.n) + " K=" + std::to_string(g.k),
          g.kind, g.tier, [d, g](Rng& rng) { return gemm_spec(d, g, rng); });
    }
  }
}

}  // namespace

void register_cases() {
  register_family("gemm", add_gemm_cases);
}

}  // namespace chorus::ops::gemm
