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
      fill_large_mean(x, rng);
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

// ------------------------------------------------------------ batch norm
//
// batch_norm and batch_norm_backward over [N, C, ...] (channels on axis 1):
// each output its own case (y, running_mean, running_var; dx, dgamma,
// dbeta), training and inference, BatchNorm1d/2d/3d shapes, C = 1, a
// permuted (channels-last) x, in place, large means, an empty batch.
//
// Bounds, per channel over its n = N * spatial values (long double from the
// inputs the oracle got; mean, var, sigma = sqrt(var + eps), r = 1/sigma,
// z = (x - mean) r, e = mean|x| r, U = (n + 10) u):
//  - y in training: layer norm's bound over the channel (layer_norm_bound):
//    c U (|z| + e (1 + |z|)) |gamma| + c u |beta| + R;
//  - y in inference (running statistics, no sums): x - mean, the root and
//    the division, times gamma, plus beta: c u (8 |z gamma| + |beta|) + R;
//  - running_mean: (1 - m) rm + m mean: m n u mean|x| from the sum, and
//    three roundings: c u (m (n + 2) mean|x| + 2 (|(1 - m) rm| + |m mean|)
//    + |result|) + R;
//  - running_var: (1 - m) rv + m var n/(n - 1), var off by (n + 3) u var +
//    2 n u mean|x| mean|x - mean| (the mean's error through the squares):
//    c u (m n/(n-1) ((n + 4) var + 2 n mean|x| mean|d|) + 2 (|(1 - m) rv| +
//    |m var n/(n-1)|) + |result|) + R;
//  - dx in training: the norm gradients' bound (norm_grad_bound) with g =
//    dy gamma; in inference dx = gamma r dy: c 6u |dx| + R;
//  - dgamma = r sum(dy d): c u (U/u (1 + e) sum|dy| (1 + |z|) + (n + 1)
//    sum|dy z|) + R (e = 0 in inference); dbeta = sum(dy): c (n + 1) u
//    sum|dy| + R.

struct BnLayout {
  std::string label, kind;
  Tier tier = Tier::ci;
  std::vector<int64_t> shape;  // [N, C, ...]
  bool gamma = true, beta = true, running = true, channels_last = false, in_place = false;
  Data data = Data::normal;
};

enum class BnOut { y, running_mean, running_var, dx, dgamma, dbeta };

// The values one channel has per sample: the product of the spatial extents
// (not numel / (N C), which divides by 0 for an empty batch).
int64_t spatial_count(const HostTensor& t) {
  int64_t inner = 1;
  for (size_t k = 2; k < t.shape.size(); ++k) inner *= t.shape[k];
  return inner;
}

// Channel c's values of a logical [N, C, ...] host tensor, in order.
std::vector<long double> channel_values(const HostTensor& t, int64_t c) {
  const int64_t n = t.shape[0], channels = t.shape[1];
  const int64_t inner = spatial_count(t);
  std::vector<long double> v;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t q = 0; q < inner; ++q) v.push_back(t.get((i * channels + c) * inner + q));
  return v;
}
// Element k of channel_values(t, c)'s flat index in t.
int64_t channel_index(const HostTensor& t, int64_t c, int64_t k) {
  const int64_t channels = t.shape[1];
  const int64_t inner = spatial_count(t);  // > 0: channel k exists
  return ((k / inner) * channels + c) * inner + k % inner;
}

BoundFn batch_norm_bound(BnOut out, bool training, double eps, double momentum, bool layout_backward) {
  using namespace bounds;
  return [=](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& gamma = in.operands[1];
    const HostTensor& beta = in.operands[2];  // forward only
    const size_t rm_slot = layout_backward ? 2 : 3;
    const HostTensor& rm = in.operands[rm_slot];
    const HostTensor& rv = in.operands[rm_slot + 1];
    const HostTensor* dy = layout_backward ? &in.operands[4] : nullptr;
    const HostTensor& y = in.expected;
    const chorus_dtype od = in.out_dtype;
    const double u = accumulation_u(od);
    const int64_t channels = x.shape[1];
    std::vector<double> b(static_cast<size_t>(y.numel()), 0.0);
    for (int64_t c = 0; c < channels; ++c) {
      const std::vector<long double> xs = channel_values(x, c);
      const int64_t n = static_cast<int64_t>(xs.size());
      long double mean = 0, mean_abs = 0, var = 0, mean_d = 0;
      for (long double v : xs) {
        mean += v / n;
        mean_abs += std::fabs(v) / n;
      }
      for (long double v : xs) var += (v - mean) * (v - mean) / n;
      for (long double v : xs) mean_d += std::fabs(v - mean) / n;
      if (!training) {
        mean = rm.get(c);
        var = rv.get(c);
      }
      const long double r = 1 / std::sqrt(var + eps);
      const long double e = training ? mean_abs * r : 0;
      const long double g = gamma.present ? gamma.get(c) : 1.0L;
      const long double be = !layout_backward && beta.present ? std::fabs(beta.get(c)) : 0.0L;
      const double big_u = (static_cast<double>(n) + 10) * u;
      const auto put = [&](int64_t index, long double bound) {
        double v = static_cast<double>(bound);
        if (!(v >= 0)) v = 0;  // NaN: checked exactly
        b[static_cast<size_t>(index)] = v + final_rounding(od, static_cast<double>(y.get(index)));
      };
      if (out == BnOut::running_mean || out == BnOut::running_var) {
        const long double m = momentum;
        const long double unbiased = n > 1 ? var * n / (n - 1) : 0;
        const long double result = std::fabs(y.get(c));
        if (out == BnOut::running_mean)
          put(c, kC * u * (m * (n + 2) * mean_abs + 2 * (std::fabs((1 - m) * in.operands[rm_slot].get(c)) + std::fabs(m * mean)) + result));
        else
          put(c, kC * u * (m * n / std::max<int64_t>(n - 1, 1) * ((n + 4) * var + 2 * n * mean_abs * mean_d) +
                           2 * (std::fabs((1 - m) * in.operands[rm_slot + 1].get(c)) + std::fabs(m * unbiased)) + result));
        continue;
      }
      if (out == BnOut::y) {
        for (int64_t k = 0; k < n; ++k) {
          const long double z = std::fabs((xs[static_cast<size_t>(k)] - mean) * r);
          const long double bound = training
                                        ? kC * big_u * (z + e * (1 + z)) * std::fabs(g) + kC * u * be
                                        : kC * u * (8 * z * std::fabs(g) + be);
          put(channel_index(x, c, k), bound);
        }
        continue;
      }
      const std::vector<long double> dys = channel_values(*dy, c);
      long double mean_g = 0, mean_gz = 0, sum_dy = 0, sum_dyz = 0, sum_z = 0;
      for (int64_t k = 0; k < n; ++k) {
        const long double z = (xs[static_cast<size_t>(k)] - mean) * r;
        const long double dv = dys[static_cast<size_t>(k)];
        mean_g += std::fabs(dv * g) / n;
        mean_gz += std::fabs(dv * g * z) / n;
        sum_dy += std::fabs(dv);
        sum_dyz += std::fabs(dv * z);
        sum_z += std::fabs(dv) * (1 + e) * (1 + std::fabs(z));
      }
      if (out == BnOut::dgamma) {
        put(c, kC * (big_u * sum_z + (n + 1) * u * sum_dyz));
      } else if (out == BnOut::dbeta) {
        put(c, kC * (n + 1) * u * sum_dy);
      } else {
        for (int64_t k = 0; k < n; ++k) {
          const int64_t index = channel_index(x, c, k);
          const long double z = std::fabs((xs[static_cast<size_t>(k)] - mean) * r);
          const long double gk = std::fabs(dys[static_cast<size_t>(k)] * g);
          const long double bound =
              training ? kC * big_u * (1 + e) * r *
                             (2 * gk + 2 * mean_g + (1 + 4 * z) * mean_gz + z * mean_g)
                       : kC * 6 * u * std::fabs(y.get(index));
          put(index, bound);
        }
      }
    }
    return b;
  };
}

CaseSpec batch_norm_spec(chorus_dtype d, const BnLayout& l, bool training, BnOut out, Rng& rng) {
  CaseSpec s;
  const bool backward = out == BnOut::dx || out == BnOut::dgamma || out == BnOut::dbeta;
  const int64_t channels = l.shape[1];
  HostTensor x(d, l.shape);
  // fill_rows' data kinds, over the whole tensor.
  fill_rows(x, l.data == Data::nan_row ? Data::normal : l.data, rng);
  HostTensor gamma = l.gamma ? HostTensor(d, {channels}) : HostTensor::absent();
  HostTensor beta = l.beta && !backward ? HostTensor(d, {channels}) : HostTensor::absent();
  if (gamma.present) fill_normal(gamma, rng, 0.5, 1);
  if (beta.present) fill_normal(beta, rng, 0.5);
  const bool running = l.running || !training;
  HostTensor rm = running ? HostTensor(d, {channels}) : HostTensor::absent();
  HostTensor rv = running ? HostTensor(d, {channels}) : HostTensor::absent();
  if (running) {
    fill_normal(rm, rng, 0.5);
    fill_uniform(rv, rng, 0.5, 2);
    if (!training && l.data == Data::large_mean)  // statistics the data has
      for (int64_t c = 0; c < channels; ++c) {
        const std::vector<long double> v = channel_values(x, c);
        long double m = 0;
        for (long double e : v) m += e / static_cast<long double>(v.size());
        rm.set(c, m);
      }
  }
  std::vector<int64_t> strides;
  if (l.channels_last) {
    std::vector<size_t> order{0};
    for (size_t k = 2; k < l.shape.size(); ++k) order.push_back(k);
    order.push_back(1);
    strides = permuted_strides(l.shape, order);
  }
  const chorus_batch_norm_attrs attrs{sizeof attrs, training ? 1 : 0, 1e-5, 0.1};
  if (!backward) {
    Operand y{"y", HostTensor(d, l.shape), strides, 1, -1};
    if (l.in_place) y.alias_of = 0;
    s.operands = {Operand{"x", x, strides, 2, -1}, Operand{"gamma", gamma, {}, 1, -1},
                  Operand{"beta", beta, {}, 2, -1}, Operand{"running_mean", rm, {}, 3, -1},
                  Operand{"running_var", rv, {}, 1, -1}, y};
    s.output = out == BnOut::y ? 5 : out == BnOut::running_mean ? 3 : 4;
    s.output_is_read = out != BnOut::y;
    // Training updates the running statistics beside y.
    if (out == BnOut::y && training && running) s.also_written = {3, 4};
    if (out != BnOut::y) s.also_written = {out == BnOut::running_mean ? size_t{4} : size_t{3}, 5};
    s.call = [attrs](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_batch_norm(q, &attrs, t[0], t[1], t[2], t[3], t[4], t[5]);
    };
  } else {
    HostTensor dy(d, l.shape);
    fill_normal(dy, rng, 1);
    Operand dx{"dx", out == BnOut::dgamma ? HostTensor::absent() : HostTensor(d, l.shape), strides,
               1, -1};
    if (l.in_place) dx.alias_of = 4;
    const bool params = out != BnOut::dx || l.in_place;
    s.operands = {Operand{"x", x, strides, 2, -1},
                  Operand{"gamma", gamma, {}, 1, -1},
                  Operand{"running_mean", training ? HostTensor::absent() : rm, {}, 3, -1},
                  Operand{"running_var", training ? HostTensor::absent() : rv, {}, 1, -1},
                  Operand{"dy", dy, strides, 3, -1},
                  dx,
                  Operand{"dgamma", params && out != BnOut::dbeta ? HostTensor(d, {channels}) : HostTensor::absent(), {}, 2, -1},
                  Operand{"dbeta", params ? HostTensor(d, {channels}) : HostTensor::absent(), {}, 1, -1}};
    s.output = out == BnOut::dx ? 5 : out == BnOut::dgamma ? 6 : 7;
    for (size_t k = 5; k < 8; ++k)
      if (k != s.output && s.operands[k].value.present) s.also_written.push_back(k);
    s.call = [attrs](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_batch_norm_backward(q, &attrs, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
    };
  }
  s.bound = batch_norm_bound(out, training, 1e-5, 0.1, backward);
  s.call_text = training ? "training=1 eps=1e-05 momentum=0.1" : "training=0 eps=1e-05";
  s.check = Check::bounded;
  s.oracle = OracleKind::wide;
  return s;
}

std::vector<BnLayout> bn_layouts() {
  std::vector<BnLayout> v;
  auto make = [](std::string label, std::string kind, std::vector<int64_t> shape) {
    BnLayout l;
    l.label = std::move(label);
    l.kind = std::move(kind);
    l.shape = std::move(shape);
    return l;
  };
  v.push_back(make("8x16x5x5", "accuracy", {8, 16, 5, 5}));
  v.push_back(make("32x10/1d", "accuracy", {32, 10}));
  v.push_back(make("4x6x17/1d-length", "accuracy", {4, 6, 17}));
  v.push_back(make("2x3x4x3x5/3d", "accuracy", {2, 3, 4, 3, 5}));
  {
    BnLayout l = make("5x4x6x6/no-affine-no-running", "accuracy", {5, 4, 6, 6});
    l.gamma = l.beta = l.running = false;
    v.push_back(l);
    l = make("3x1x7x7/one-channel", "edge", {3, 1, 7, 7});
    v.push_back(l);
    l = make("1x8x33x33/one-sample", "edge", {1, 8, 33, 33});
    v.push_back(l);
    l = make("2x3/two-values", "edge", {2, 3});
    v.push_back(l);
    // Zero-size: an empty batch (no statistics, running ones kept, dgamma
    // and dbeta empty sums, 0) and an empty spatial axis.
    l = make("0x3x4x4/empty-batch", "edge", {0, 3, 4, 4});
    v.push_back(l);
    l = make("2x3x0x4/empty-spatial", "edge", {2, 3, 0, 4});
    v.push_back(l);
    l = make("4x8x5x5/channels-last", "view", {4, 8, 5, 5});
    l.channels_last = true;
    v.push_back(l);
    l = make("4x8x6x6/inplace", "view", {4, 8, 6, 6});
    l.in_place = true;
    v.push_back(l);
    l = make("4x6x8x8/large-mean", "special", {4, 6, 8, 8});
    l.data = Data::large_mean;
    v.push_back(l);
    l = make("4x6x4x4/constant", "special", {4, 6, 4, 4});
    l.data = Data::constant;
    v.push_back(l);
  }
  return v;
}

void add_batch_norm_cases(std::vector<CaseEntry>& cases) {
  const std::vector<BnLayout> all = bn_layouts();
  for (const chorus_dtype d : kFloatDtypes) {
    const std::string dt = dtype_text(d);
    for (size_t i = 0; i < all.size(); ++i)
      for (const bool training : {true, false})
        for (const BnOut out : {BnOut::y, BnOut::running_mean, BnOut::running_var, BnOut::dx,
                                BnOut::dgamma, BnOut::dbeta}) {
          BnLayout l = all[i];
          const bool backward = out == BnOut::dx || out == BnOut::dgamma || out == BnOut::dbeta;
          const bool stats = out == BnOut::running_mean || out == BnOut::running_var;
          if (stats && (!training || !l.running)) continue;
          if (l.in_place && out != BnOut::y && out != BnOut::dx) continue;
          if ((l.kind == "view") && d != CHORUS_DTYPE_F32) l.tier = Tier::full;
          if (i == 0 && d == CHORUS_DTYPE_F32) l.tier = Tier::smoke;
          static const char* const names[] = {"y", "running_mean", "running_var", "dx", "dgamma", "dbeta"};
          const std::string op = backward ? "batch_norm_backward" : "batch_norm";
          add_case(cases,
                   op + "/" + dt + "/" + l.kind + "/" + l.label + (training ? "/train/" : "/eval/") +
                       names[static_cast<int>(out)],
                   op, backward ? CHORUS_OP_BATCH_NORM_BACKWARD : CHORUS_OP_BATCH_NORM, dt,
                   shape_text(l.shape), l.kind, l.tier,
                   [d, l, training, out](Rng& rng) { return batch_norm_spec(d, l, training, out, rng); });
        }
  }
}

}  // namespace

void register_cases() {
  register_family("norm", add_norm_cases);
  register_family("norm_backward", add_norm_backward_cases);
  register_family("batch_norm", add_batch_norm_cases);
}

}  // namespace chorus::ops::norm
