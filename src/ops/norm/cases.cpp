// cases.cpp — the norm folder's conformance layer (families "norm" and
// "norm_backward"): layer norm and RMS norm, and their gradients (dx, dgamma,
// dbeta), over the float dtypes: with and without gamma/beta, tile-edge and
// long rows, views (permuted, padded, offset, in place, a strided gamma),
// and the rows that break naive kernels:
// a large mean with a small spread (one-pass variance cancels), constant rows
// (zero variance, eps decides) and values far below eps.
#include <cmath>
#include <cstdio>
#include <limits>

#include "conformance/bounds.hpp"
#include "conformance/cases.hpp"

namespace chorus::ops::norm {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// ---------------------------------------------------------------- bounds

// x, gamma, beta (either may be absent), y over the last axis.
BoundFn layer_norm_bound(double eps) {
  // y = z gamma + beta, z = (x - mu) / sigma, sigma = sqrt(var + eps), over n.
  //  - mu: a sum of n terms over n, |d mu| <= n u mean|x| (as for mean);
  //  - x_i - mu: |d mu| + u |x_i - mu|, i.e. in units of sigma
  //    n u mean|x|/sigma + u |z_i|;
  //  - var from a second pass around mu (one-pass E[x^2] - mu^2 cancels, and
  //    that is what the large-mean cases catch): relative n u, plus the
  //    squared mean error (n u mean|x|/sigma)^2, which is below
  //    n u mean|x|/sigma while that is below 1;
  //  - rsqrt (<= 2 ulp) or sqrt + divide (<= 3 + 2.5 ulp): <= 11 u, and
  //    half the variance's relative error;
  //  - times gamma, plus beta: u |z gamma| + u |y| <= 2u|z gamma| + u|beta|.
  //  Collecting, with n + 10 covering the n-proportional terms and the
  //  constant ones (11 u + 3 u):
  //    |err_i| <= c (n + 10) u (|z_i| + mean|x|/sigma (1 + |z_i|)) |gamma_i|
  //               + c u |beta_i| + R,
  //  z from the reference (no gamma/beta), mean|x| and sigma over the row.
  using namespace bounds;
  return [eps](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& gamma = in.operands[1];
    const HostTensor& beta = in.operands[2];
    const HostTensor& y = in.expected;
    const chorus_dtype out = in.out_dtype;
    const double u = accumulation_u(out);
    std::vector<HostTensor> normalised{x, HostTensor::absent(), HostTensor::absent(),
                                       HostTensor(y.dtype, y.shape)};
    const OpCall call = [eps](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_layer_norm(q, t[0], nullptr, nullptr, eps, t[3]);
    };
    in.reference.run(call, normalised, 3, false);
    const HostTensor& z = normalised[3];
    std::vector<double> b(static_cast<size_t>(y.numel()), 0.0);
    for_each_row(x.shape, x.shape.size() - 1, [&](int64_t first, int64_t, int64_t n) {
      long double mean = 0, mean_abs = 0;
      for (int64_t j = 0; j < n; ++j) {
        mean += x.get(first + j);
        mean_abs += std::fabs(x.get(first + j));
      }
      mean /= n;
      mean_abs /= n;
      long double var = 0;
      for (int64_t j = 0; j < n; ++j) var += (x.get(first + j) - mean) * (x.get(first + j) - mean);
      const long double sigma = std::sqrt(var / n + eps);
      const double dn = static_cast<double>(n);
      for (int64_t j = 0; j < n; ++j) {
        const long double zi = std::fabs(z.get(first + j));
        const long double g = gamma.present ? std::fabs(gamma.get(j)) : 1.0L;
        const long double be = beta.present ? std::fabs(beta.get(j)) : 0.0L;
        const long double spread = zi + mean_abs / sigma * (1 + zi);
        double bound = static_cast<double>(kC * (dn + 10) * u * spread * g + kC * u * be);
        if (!(bound >= 0)) bound = 0;  // NaN rows: checked exactly
        const long double yi = y.get(first + j);
        b[static_cast<size_t>(first + j)] = bound + final_rounding(out, static_cast<double>(yi));
      }
    });
    return b;
  };
}

// x, gamma (may be absent), y over the last axis.
BoundFn rms_norm_bound() {
  // y = x r gamma, r = 1 / sqrt(mean(x^2) + eps): mean of n non-negative
  // squares, relative (n + 1) u; the root halves it; rsqrt <= 2 ulp or
  // sqrt + divide <= 5.5 ulp, <= 11 u; times x and gamma, 2u. All relative,
  // so |err_i| <= ((n + 1)/2 + 13) u |y_i| <= c (n + 10) u |y_i| + R.
  using namespace bounds;
  return [](const BoundInputs& in) {
    const HostTensor& y = in.expected;
    const chorus_dtype out = in.out_dtype;
    const double u = accumulation_u(out);
    const double n = static_cast<double>(y.shape.back());
    std::vector<double> b(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i) {
      const long double yi = y.get(i);
      double bound = times(kC * (n + 10) * u, yi);
      if (!(bound >= 0)) bound = 0;
      b[static_cast<size_t>(i)] = bound + final_rounding(out, static_cast<double>(yi));
    }
    return b;
  };
}

enum class Data { normal, large_mean, constant, tiny, nan_row };

struct NormLayout {
  std::string label, kind;
  Tier tier = Tier::ci;
  std::vector<int64_t> shape;
  bool gamma = true, beta = true;
  Data data = Data::normal;
  double eps = 1e-5;
  std::vector<int64_t> x_strides, y_strides;
  int64_t x_offset = 0, y_offset = 0;
  std::vector<int64_t> gamma_strides;
  bool in_place = false;
};

void fill_rows(HostTensor& x, Data data, Rng& rng) {
  const chorus_dtype d = x.dtype;
  switch (data) {
    case Data::normal:
      fill_normal(x, rng, 2, 0.5);
      break;
    case Data::large_mean:
      // The spread is small next to the mean, but still resolved by the
      // format: E[x^2] - E[x]^2 loses every digit of it.
      if (d == CHORUS_DTYPE_F16)
        fill_normal(x, rng, 4, 1000);
      else if (d == CHORUS_DTYPE_BF16)
        fill_normal(x, rng, 256, 1e4);
      else
        fill_normal(x, rng, 1, 1e4);
      break;
    case Data::constant:
      fill_list(x, {3.25L});
      break;
    case Data::tiny:
      fill_normal(x, rng, d == CHORUS_DTYPE_F16 ? 1e-4 : 1e-20);
      break;
    case Data::nan_row:
      fill_normal(x, rng, 1);
      x.set(x.shape.back() + 2, std::numeric_limits<long double>::quiet_NaN());  // row 1
      break;
  }
}

CaseSpec norm_spec(chorus_dtype d, bool rms, const NormLayout& l, Rng& rng) {
  CaseSpec s;
  const int64_t n = l.shape.back();
  HostTensor x(d, l.shape);
  fill_rows(x, l.data, rng);
  HostTensor gamma = l.gamma ? HostTensor(d, {n}) : HostTensor::absent();
  HostTensor beta = l.beta && !rms ? HostTensor(d, {n}) : HostTensor::absent();
  if (gamma.present) fill_normal(gamma, rng, 0.5, 1);
  if (beta.present) fill_normal(beta, rng, 0.5);
  Operand y{"y", HostTensor(d, l.shape), l.y_strides, l.y_offset, -1};
  if (l.in_place) y.alias_of = 0;
  const double eps = l.eps;
  if (rms) {
    s.operands = {Operand{"x", x, l.x_strides, l.x_offset, -1},
                  Operand{"gamma", gamma, l.gamma_strides, 1, -1}, y};
    s.output = 2;
    s.call = [eps](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_rms_norm(q, t[0], t[1], eps, t[2]);
    };
    s.bound = rms_norm_bound();
  } else {
    s.operands = {Operand{"x", x, l.x_strides, l.x_offset, -1},
                  Operand{"gamma", gamma, l.gamma_strides, 1, -1}, Operand{"beta", beta, {}, 2, -1},
                  y};
    s.output = 3;
    s.call = [eps](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_layer_norm(q, t[0], t[1], t[2], eps, t[3]);
    };
    s.bound = layer_norm_bound(eps);
  }
  char text[48];
  std::snprintf(text, sizeof text, "eps=%g", eps);
  s.call_text = text;
  s.check = Check::bounded;
  s.oracle = OracleKind::wide;
  return s;
}

std::vector<NormLayout> layouts() {
  std::vector<NormLayout> v;
  auto make = [](std::string label, std::string kind, std::vector<int64_t> shape) {
    NormLayout l;
    l.label = std::move(label);
    l.kind = std::move(kind);
    l.shape = std::move(shape);
    return l;
  };
  v.push_back(make("32x256", "accuracy", {32, 256}));
  {
    NormLayout l = make("17x33/no-affine", "accuracy", {17, 33});
    l.gamma = l.beta = false;
    v.push_back(l);
    l = make("16x64/gamma-only", "accuracy", {16, 64});
    l.beta = false;
    v.push_back(l);
    l = make("4x3x40/rank3", "accuracy", {4, 3, 40});
    v.push_back(l);
  }
  for (const int64_t n : kTileSizes) v.push_back(make("4x" + std::to_string(n), "edge", {4, n}));
  for (const int64_t n : kFullTileSizes) {
    v.push_back(make("4x" + std::to_string(n), "edge", {4, n}));
    v.back().tier = Tier::full;
  }
  v.push_back(make("2x4097", "edge", {2, 4097}));
  v.push_back(make("1x65537", "edge", {1, 65537}));
  v.back().tier = Tier::full;
  v.push_back(make("70000x3", "edge", {70000, 3}));
  v.back().tier = Tier::full;
  v.push_back(make("0x8", "edge", {0, 8}));
  {
    NormLayout l = make("40x50/permuted", "view", {40, 50});
    l.x_strides = permuted_strides(l.shape, {1, 0});
    v.push_back(l);
    l = make("40x50/permuted-out", "view", {40, 50});
    l.y_strides = permuted_strides(l.shape, {1, 0});
    v.push_back(l);
    l = make("33x65/padded", "view", {33, 65});
    l.x_strides = padded_strides(l.shape, 3);
    l.y_strides = padded_strides(l.shape, 5);
    v.push_back(l);
    l = make("31x45/offset-gamma-strided", "view", {31, 45});
    l.x_offset = 3;
    l.y_offset = 1;
    l.gamma_strides = {2};
    v.push_back(l);
    l = make("40x64/broadcast-rows", "view", {40, 64});
    l.x_strides = broadcast_strides(l.shape, 0);
    v.push_back(l);
    l = make("50x70/inplace", "view", {50, 70});
    l.in_place = true;
    v.push_back(l);
  }
  {
    NormLayout l = make("16x64/large-mean", "special", {16, 64});
    l.data = Data::large_mean;
    v.push_back(l);
    l = make("8x32/constant-rows", "special", {8, 32});
    l.data = Data::constant;
    v.push_back(l);
    l = make("8x32/below-eps", "special", {8, 32});
    l.data = Data::tiny;
    v.push_back(l);
    l = make("4x16/nan-row", "special", {4, 16});
    l.data = Data::nan_row;
    v.push_back(l);
    l = make("8x32/eps0", "special", {8, 32});
    l.eps = 0;
    v.push_back(l);
  }
  return v;
}

void add_norm_cases(std::vector<CaseEntry>& cases) {
  for (const bool rms : {false, true}) {
    const std::string op = rms ? "rms_norm" : "layer_norm";
    for (const chorus_dtype d : kFloatDtypes) {
      const std::string dt = dtype_text(d);
      std::vector<NormLayout> all = layouts();
      for (size_t i = 0; i < all.size(); ++i) {
        NormLayout l = all[i];
        if (i == 0 && (d == CHORUS_DTYPE_F32 || d == CHORUS_DTYPE_BF16)) l.tier = Tier::smoke;
        if (l.data == Data::large_mean && d == CHORUS_DTYPE_F32 && !rms) l.tier = Tier::smoke;
        if (l.label == "33x65/padded" && d == CHORUS_DTYPE_F32) l.tier = Tier::smoke;
        add_case(cases, op + "/" + dt + "/" + l.kind + "/" + l.label, op,
                 rms ? CHORUS_OP_RMS_NORM : CHORUS_OP_LAYER_NORM, dt,
                 shape_text(l.shape), l.kind, l.tier,
                 [d, rms, l](Rng& rng) { return norm_spec(d, rms, l, rng); });
      }
    }
  }
}

// ------------------------------------------------------------ gradients
//
// layer_norm_backward and rms_norm_backward: each output (dx, dgamma and,
// for layer norm, dbeta) checked by a case of its own, the others written
// beside it or absent (each combination plans differently: dx alone is one
// launch, the parameter gradients three more, in place dx = dy last).

// What the gradient bounds need of a row, in long double from the inputs
// the oracle got: d = x - mean (RMS norm: x), r = 1 / sqrt(var + eps),
// z = d r, g = dy gamma, e = mean|x| r (the mean's error in units of sigma;
// 0 for RMS norm), mean|g| and mean|g z|.
struct GradRow {
  std::vector<long double> z, g;
  long double r = 0, e = 0, mean_g = 0, mean_gz = 0;
};

GradRow grad_row(const HostTensor& x, const HostTensor& gamma, const HostTensor& dy, int64_t first,
                 int64_t n, double eps, bool layer) {
  GradRow w;
  w.z.resize(static_cast<size_t>(n));
  w.g.resize(static_cast<size_t>(n));
  long double mean = 0, mean_abs = 0;
  for (int64_t j = 0; j < n; ++j) {
    mean += x.get(first + j);
    mean_abs += std::fabs(x.get(first + j));
  }
  mean = layer ? mean / n : 0;
  long double var = 0;
  for (int64_t j = 0; j < n; ++j) var += (x.get(first + j) - mean) * (x.get(first + j) - mean);
  w.r = 1 / std::sqrt(var / n + eps);
  w.e = layer ? mean_abs / n * w.r : 0;
  for (int64_t j = 0; j < n; ++j) {
    const size_t k = static_cast<size_t>(j);
    w.z[k] = (x.get(first + j) - mean) * w.r;
    w.g[k] = dy.get(first + j) * (gamma.present ? gamma.get(j) : 1.0L);
    w.mean_g += std::fabs(w.g[k]) / n;
    w.mean_gz += std::fabs(w.g[k] * w.z[k]) / n;
  }
  return w;
}

enum class GradOut { dx, dgamma, dbeta };

// Operands: x, gamma, dy, dx, dgamma, dbeta (layer norm) as the case
// builds them; `out` the one checked.
BoundFn norm_grad_bound(GradOut out, double eps, bool layer) {
  // dx = r (g - c1 - z w), c1 = sum(g)/n (layer norm only), w = mean(g z)
  // computed as r^2 sum(g d)/n. With U = (n + 10) u, and the forward's
  // analysis (layer_norm_bound): |d mean| <= n u mean|x|, so d_j is off by
  // n u e/r + u |d_j|; r is off relatively by e_r <= U (1 + e) (the
  // variance's n u and the squared mean error, halved by the root, with
  // rsqrt or sqrt and divide <= 11 u). Then, in units of r:
  //  - g_j = dy_j gamma_j: u |g_j|; c1: a sum of n terms, n u mean|g| + u;
  //  - sum(g d): n u mean|x| sum|g| from the mean, (n + 1) u sum|g d| from
  //    the products and the sum, so r^2/n that times |d_j| is
  //    |z_j| (n u e mean|g| + (n + 1) u mean|g z|); r^2 (relative 2 e_r)
  //    times w z_j; w times d_j's error: mean|g z| (n u e + u |z_j|);
  //  - the outer r: e_r + 3u of |g_j| + mean|g| + |z_j| mean|g z|.
  //  Collected (each term <= U (1 + e) times):
  //    |err_j| <= c U (1 + e) r (2 |g_j| + 2 mean|g| + (1 + 4 |z_j|) mean|gz|
  //                              + |z_j| mean|g|) + R,
  //  mean|g| dropped for RMS norm (no c1, no mean). PyTorch's CPU form,
  //  sum(g x) - mean sum(g) in one pass, also fits: its cancellation,
  //  n u mean|x| sum|g|, is the size of the mean's own error term, so the
  //  bound prefers neither. A wrong term does not fit: sum(g d)/(n + 1) for
  //  /n in the OpenCL kernel failed 160 of the 456 tier-ci cases.
  // dgamma_j = sum over rows of dy z: each term's z off by U (1 + e)(1 +
  //  |z|) (above) and the product by u |dy z|; the fixed-order sum of R rows
  //  in parts adds at most (R + 1) u sum|dy z|:
  //    |err_j| <= c u (sum |dy| U/u (1 + e)(1 + |z|) + (R + 1) sum |dy z|) + R.
  // dbeta_j = sum over rows of dy: |err_j| <= c (R + 1) u sum |dy| + R.
  using namespace bounds;
  return [out, eps, layer](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& gamma = in.operands[1];
    const HostTensor& dy = in.operands[2];
    const HostTensor& y = in.expected;
    const chorus_dtype od = in.out_dtype;
    const double u = accumulation_u(od);
    const int64_t n = x.shape.back();
    const double big_u = (static_cast<double>(n) + 10) * u;
    std::vector<double> b(static_cast<size_t>(y.numel()), 0.0);
    std::vector<long double> col_dy(static_cast<size_t>(n), 0), col_dyz(static_cast<size_t>(n), 0),
        col_z(static_cast<size_t>(n), 0);
    int64_t rows = 0;
    for_each_row(x.shape, x.shape.size() - 1, [&](int64_t first, int64_t, int64_t) {
      ++rows;
      const GradRow w = grad_row(x, gamma, dy, first, n, eps, layer);
      for (int64_t j = 0; j < n; ++j) {
        const size_t k = static_cast<size_t>(j);
        const long double az = std::fabs(w.z[k]), ady = std::fabs(dy.get(first + j));
        if (out == GradOut::dx) {
          const long double lm = layer ? w.mean_g : 0.0L;
          const long double scale = 2 * std::fabs(w.g[k]) + 2 * lm + (1 + 4 * az) * w.mean_gz +
                                    az * lm;
          double bound = static_cast<double>(kC * big_u * (1 + w.e) * w.r * scale);
          if (!(bound >= 0)) bound = 0;  // NaN rows: checked exactly
          b[static_cast<size_t>(first + j)] =
              bound + final_rounding(od, static_cast<double>(y.get(first + j)));
        }
        col_dy[k] += ady;
        col_dyz[k] += ady * az;
        col_z[k] += ady * (1 + w.e) * (1 + az);
      }
    });
    if (out != GradOut::dx)
      for (int64_t j = 0; j < n; ++j) {
        const size_t k = static_cast<size_t>(j);
        const long double sum_terms = static_cast<long double>(rows + 1) * u;
        long double v = out == GradOut::dbeta
                            ? kC * sum_terms * col_dy[k]
                            : kC * (big_u * col_z[k] + sum_terms * col_dyz[k]);
        double bound = static_cast<double>(v);
        if (!(bound >= 0)) bound = 0;
        b[k] = bound + final_rounding(od, static_cast<double>(y.get(j)));
      }
    return b;
  };
}

CaseSpec norm_grad_spec(chorus_dtype d, bool rms, const NormLayout& l, GradOut out, Rng& rng) {
  CaseSpec s;
  const bool layer = !rms;
  const int64_t n = l.shape.back();
  HostTensor x(d, l.shape), dy(d, l.shape);
  fill_rows(x, l.data, rng);
  fill_normal(dy, rng, 1);
  HostTensor gamma = l.gamma ? HostTensor(d, {n}) : HostTensor::absent();
  if (gamma.present) fill_normal(gamma, rng, 0.5, 1);
  // Which outputs the call gets (see the section comment).
  const bool want_dx = out != GradOut::dgamma;
  const bool want_params = out != GradOut::dx || l.in_place;
  const bool want_dgamma = out == GradOut::dgamma || (want_params && out != GradOut::dbeta);
  const bool want_dbeta = layer && (out == GradOut::dbeta || want_params);
  Operand dx{"dx", want_dx ? HostTensor(d, l.shape) : HostTensor::absent(), l.y_strides,
             l.y_offset, -1};
  if (l.in_place) dx.alias_of = 2;
  s.operands = {Operand{"x", x, l.x_strides, l.x_offset, -1},
                Operand{"gamma", gamma, l.gamma_strides, 1, -1},
                Operand{"dy", dy, l.x_strides, 2, -1},
                dx,
                Operand{"dgamma", want_dgamma ? HostTensor(d, {n}) : HostTensor::absent(),
                        l.gamma_strides, 3, -1}};
  if (layer)
    s.operands.push_back(Operand{"dbeta", want_dbeta ? HostTensor(d, {n}) : HostTensor::absent(),
                                 l.gamma_strides, 1, -1});
  s.output = out == GradOut::dx ? 3 : out == GradOut::dgamma ? 4 : 5;
  for (size_t k = 3; k < s.operands.size(); ++k)
    if (k != s.output && s.operands[k].value.present) s.also_written.push_back(k);
  const double eps = l.eps;
  if (rms)
    s.call = [eps](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_rms_norm_backward(q, t[0], t[1], t[2], eps, t[3], t[4]);
    };
  else
    s.call = [eps](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_layer_norm_backward(q, t[0], t[1], t[2], eps, t[3], t[4], t[5]);
    };
  s.bound = norm_grad_bound(out, eps, layer);
  char text[48];
  std::snprintf(text, sizeof text, "eps=%g", eps);
  s.call_text = text;
  s.check = Check::bounded;
  s.oracle = OracleKind::wide;
  return s;
}

void add_norm_backward_cases(std::vector<CaseEntry>& cases) {
  for (const bool rms : {false, true}) {
    const std::string op = rms ? "rms_norm_backward" : "layer_norm_backward";
    const chorus_op_kind kind = rms ? CHORUS_OP_RMS_NORM_BACKWARD : CHORUS_OP_LAYER_NORM_BACKWARD;
    for (const chorus_dtype d : kFloatDtypes) {
      const std::string dt = dtype_text(d);
      std::vector<NormLayout> all = layouts();
      for (size_t i = 0; i < all.size(); ++i) {
        for (const GradOut out : {GradOut::dx, GradOut::dgamma, GradOut::dbeta}) {
          if (rms && out == GradOut::dbeta) continue;
          NormLayout l = all[i];
          // dx's own layout changes nothing the parameter gradients read;
          // in place, the dx case writes (and so orders) dgamma and dbeta
          // too, and the harness checks only an output that is the alias.
          if (out != GradOut::dx && (l.label == "40x50/permuted-out" || l.in_place)) continue;
          if (i == 0 && (d == CHORUS_DTYPE_F32 || d == CHORUS_DTYPE_BF16)) l.tier = Tier::smoke;
          if (l.data == Data::large_mean && d == CHORUS_DTYPE_F32) l.tier = Tier::smoke;
          if (l.in_place && d == CHORUS_DTYPE_F32 && out == GradOut::dx) l.tier = Tier::smoke;
          const char* what = out == GradOut::dx ? "/dx" : out == GradOut::dgamma ? "/dgamma" : "/dbeta";
          add_case(cases, op + "/" + dt + "/" + l.kind + "/" + l.label + what, op, kind, dt,
                   shape_text(l.shape), l.kind, l.tier,
                   [d, rms, l, out](Rng& rng) { return norm_grad_spec(d, rms, l, out, rng); });
        }
      }
    }
  }
}

}  // namespace

void register_cases() {
  register_family("norm", add_norm_cases);
  register_family("norm_backward", add_norm_backward_cases);
}

}  // namespace chorus::ops::norm
