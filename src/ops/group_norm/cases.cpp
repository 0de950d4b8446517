// cases.cpp — the group_norm folder's conformance layer (families
// "group_norm" and "group_norm_backward"): each output its own case (y; dx,
// dgamma, dbeta), on the float dtypes; G = 1 (layer norm over C and the
// positions), G = C (instance norm) and between; rank 2 to 5; no affine;
// channels-last and padded views (copied by the composite), in place, an
// empty batch and empty positions; data with a large mean (a one-pass
// variance loses every digit) and constant groups (variance 0).
//
// Bounds, per (sample, group) over its m = C/G x positions values (long
// double from the inputs the oracle got; mean, var, r = 1/sqrt(var + eps),
// z = (x - mean) r, e = mean|x| r, U = (m + 10) u), batch norm's training
// bounds of src/ops/norm/cases.cpp with the group for the channel (the
// statistics are batch_norm's on the grouped view), plus what the affine
// part adds as separate operations:
//  - y: c (U (|z| + e (1 + |z|)) |gamma_c| + u (2 |z gamma_c| + 2 |beta_c|)) + R
//    (the product with gamma and the sum with beta each round once);
//  - dx: the norm gradients' bound with h = dy gamma_c per element (h's own
//    rounding, u |h|, is inside U's ten spare roundings);
//  - dgamma_c = sum over samples and positions of dy z: each term carries
//    z's error U (1 + e)(1 + |z|) of its own group, and the sum of its
//    n = N x positions terms (n + 1) u sum |dy z|:
//    c (sum |dy| U_g (1 + e_g)(1 + |z|) + (n + 1) u sum |dy z|) + R;
//  - dbeta_c = sum of dy: c (n + 1) u sum |dy| + R.
#include "conformance/cases.hpp"

#include <cmath>
#include <string>

#include "conformance/bounds.hpp"

namespace chorus::ops::group_norm {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

enum class Out { y, dx, dgamma, dbeta };
enum class Data { normal, large_mean, constant };

struct Layout {
  std::string label, kind;
  Tier tier = Tier::ci;
  std::vector<int64_t> shape;  // [N, C, ...]
  int32_t groups = 1;
  bool gamma = true, beta = true, channels_last = false, padded = false, in_place = false;
  Data data = Data::normal;
};

int64_t positions(const std::vector<int64_t>& shape) {
  int64_t p = 1;
  for (size_t k = 2; k < shape.size(); ++k) p *= shape[k];
  return p;
}

// Flat index of (sample i, channel c, position q) in a logical [N, C, ...] tensor.
int64_t flat(const std::vector<int64_t>& shape, int64_t i, int64_t c, int64_t q) {
  return (i * shape[1] + c) * positions(shape) + q;
}

BoundFn group_norm_bound(Out out, int32_t groups, double eps) {
  using namespace bounds;
  return [=](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& gamma = in.operands[1];
    const bool backward = out != Out::y;
    const HostTensor* beta = backward ? nullptr : &in.operands[2];
    const HostTensor* dy = backward ? &in.operands[2] : nullptr;
    const HostTensor& res = in.expected;
    const chorus_dtype od = in.out_dtype;
    const double u = accumulation_u(od);
    const int64_t n = x.shape[0], channels = x.shape[1], pos = positions(x.shape);
    const int64_t per = channels / groups, m = per * pos;
    std::vector<double> b(static_cast<size_t>(res.numel()), 0.0);
    const auto put = [&](int64_t index, long double bound) {
      double v = static_cast<double>(bound);
      if (!(v >= 0)) v = 0;  // NaN: checked exactly
      b[static_cast<size_t>(index)] = v + final_rounding(od, static_cast<double>(res.get(index)));
    };
    const auto gam = [&](int64_t c) { return gamma.present ? gamma.get(c) : 1.0L; };
    std::vector<long double> sum_dgamma(static_cast<size_t>(channels)),
        sum_dyz(static_cast<size_t>(channels)), sum_dy(static_cast<size_t>(channels));
    const double big_u = (static_cast<double>(m) + 10) * u;
    for (int64_t i = 0; i < n && m > 0; ++i)
      for (int64_t g = 0; g < groups; ++g) {
        long double mean = 0, mean_abs = 0, var = 0;
        for (int64_t c = g * per; c < (g + 1) * per; ++c)
          for (int64_t q = 0; q < pos; ++q) {
            const long double v = x.get(flat(x.shape, i, c, q));
            mean += v / m;
            mean_abs += std::fabs(v) / m;
          }
        for (int64_t c = g * per; c < (g + 1) * per; ++c)
          for (int64_t q = 0; q < pos; ++q) {
            const long double d = x.get(flat(x.shape, i, c, q)) - mean;
            var += d * d / m;
          }
        const long double r = 1 / std::sqrt(var + eps), e = mean_abs * r;
        const auto z_of = [&](int64_t c, int64_t q) {
          return (x.get(flat(x.shape, i, c, q)) - mean) * r;
        };
        long double mean_h = 0, mean_hz = 0;
        for (int64_t c = g * per; c < (g + 1) * per; ++c)
          for (int64_t q = 0; q < pos; ++q) {
            const long double z = std::fabs(z_of(c, q));
            const int64_t k = flat(x.shape, i, c, q);
            if (out == Out::y) {
              const long double ga = std::fabs(gam(c));
              const long double be = beta->present ? std::fabs(beta->get(c)) : 0.0L;
              put(k, kC * (big_u * (z + e * (1 + z)) * ga + u * (2 * z * ga + 2 * be)));
              continue;
            }
            const long double d = std::fabs(dy->get(k));
            mean_h += d * std::fabs(gam(c)) / m;
            mean_hz += d * std::fabs(gam(c)) * z / m;
            sum_dgamma[static_cast<size_t>(c)] += d * big_u * (1 + e) * (1 + z);
            sum_dyz[static_cast<size_t>(c)] += d * z;
            sum_dy[static_cast<size_t>(c)] += d;
          }
        if (out != Out::dx) continue;
        for (int64_t c = g * per; c < (g + 1) * per; ++c)
          for (int64_t q = 0; q < pos; ++q) {
            const long double z = std::fabs(z_of(c, q));
            const int64_t k = flat(x.shape, i, c, q);
            const long double hk = std::fabs(dy->get(k) * gam(c));
            put(k, kC * big_u * (1 + e) * r *
                       (2 * hk + 2 * mean_h + (1 + 4 * z) * mean_hz + z * mean_h));
          }
      }
    if (out == Out::dgamma || out == Out::dbeta) {
      const double terms = static_cast<double>(n * pos) + 1;
      for (int64_t c = 0; c < channels; ++c) {
        const auto at = static_cast<size_t>(c);
        put(c, out == Out::dgamma ? kC * (sum_dgamma[at] + terms * u * sum_dyz[at])
                                  : kC * terms * u * sum_dy[at]);
      }
    }
    return b;
  };
}

void fill_x(HostTensor& x, Data data, Rng& rng) {
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
  }
}

std::vector<int64_t> strides_of(const Layout& l, int64_t extra) {
  if (l.channels_last) {
    std::vector<size_t> order{0};
    for (size_t k = 2; k < l.shape.size(); ++k) order.push_back(k);
    order.push_back(1);
    return permuted_strides(l.shape, order);
  }
  if (l.padded) return padded_strides(l.shape, extra);
  return {};
}

CaseSpec group_norm_spec(chorus_dtype d, const Layout& l, Out out, Rng& rng) {
  CaseSpec s;
  const int64_t channels = l.shape[1];
  HostTensor x(d, l.shape);
  fill_x(x, l.data, rng);
  HostTensor gamma = l.gamma ? HostTensor(d, {channels}) : HostTensor::absent();
  if (gamma.present) fill_normal(gamma, rng, 0.5, 1);
  const int32_t groups = l.groups;
  const double eps = 1e-5;
  if (out == Out::y) {
    HostTensor beta = l.beta ? HostTensor(d, {channels}) : HostTensor::absent();
    if (beta.present) fill_normal(beta, rng, 0.5);
    Operand y{"y", HostTensor(d, l.shape), strides_of(l, 3), 1, -1};
    if (l.in_place) y.alias_of = 0;
    s.operands = {Operand{"x", x, strides_of(l, 2), 2, -1}, Operand{"gamma", gamma, {}, 1, -1},
                  Operand{"beta", beta, {}, 2, -1}, y};
    s.output = 3;
    s.call = [groups, eps](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_group_norm(q, t[0], groups, t[1], t[2], eps, t[3]);
    };
  } else {
    HostTensor dy(d, l.shape);
    fill_normal(dy, rng, 1);
    Operand dx{"dx", out == Out::dgamma ? HostTensor::absent() : HostTensor(d, l.shape),
               strides_of(l, 1), 1, -1};
    if (l.in_place) dx.alias_of = 2;
    const bool params = out != Out::dx || l.in_place;
    s.operands = {
        Operand{"x", x, strides_of(l, 2), 2, -1},
        Operand{"gamma", gamma, {}, 1, -1},
        Operand{"dy", dy, strides_of(l, 3), 3, -1},
        dx,
        Operand{"dgamma",
                params && out != Out::dbeta ? HostTensor(d, {channels}) : HostTensor::absent(),
                {},
                2,
                -1},
        Operand{"dbeta", params ? HostTensor(d, {channels}) : HostTensor::absent(), {}, 1, -1}};
    s.output = out == Out::dx ? 3 : out == Out::dgamma ? 4 : 5;
    for (size_t k = 3; k < 6; ++k)
      if (k != s.output && s.operands[k].value.present) s.also_written.push_back(k);
    s.call = [groups, eps](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_group_norm_backward(q, t[0], groups, t[1], t[2], eps, t[3], t[4], t[5]);
    };
  }
  s.bound = group_norm_bound(out, groups, eps);
  s.call_text = "num_groups=" + std::to_string(groups) + " eps=1e-05";
  s.check = Check::bounded;
  s.oracle = OracleKind::wide;
  return s;
}

Layout make(std::string label, std::string kind, std::vector<int64_t> shape, int32_t groups) {
  Layout l;
  l.label = std::move(label);
  l.kind = std::move(kind);
  l.shape = std::move(shape);
  l.groups = groups;
  return l;
}

std::vector<Layout> layouts() {
  std::vector<Layout> v;
  v.push_back(make("4x6x5x7/g3", "accuracy", {4, 6, 5, 7}, 3));
  v.push_back(make("2x32x8x8/g8", "accuracy", {2, 32, 8, 8}, 8));
  v.push_back(make("3x8x6x6/g1-layer", "accuracy", {3, 8, 6, 6}, 1));
  v.push_back(make("3x8x6x6/g8-instance", "accuracy", {3, 8, 6, 6}, 8));
  v.push_back(make("8x12/g4-rank2", "accuracy", {8, 12}, 4));
  v.push_back(make("5x6/g6-one-value", "edge", {5, 6}, 6));  // z = 0: y = beta
  v.push_back(make("3x4x1x1/g4-one-value", "edge", {3, 4, 1, 1}, 4));
  v.push_back(make("2x8x100/g2-rank3", "accuracy", {2, 8, 100}, 2));
  v.push_back(make("2x4x3x4x5/g2-rank5", "accuracy", {2, 4, 3, 4, 5}, 2));
  {
    Layout l = make("3x6x5x5/g2-no-affine", "accuracy", {3, 6, 5, 5}, 2);
    l.gamma = l.beta = false;
    v.push_back(l);
    l = make("1x16x33x33/g4-one-sample", "edge", {1, 16, 33, 33}, 4);
    v.push_back(l);
    l = make("0x6x4x4/g3-empty-batch", "edge", {0, 6, 4, 4}, 3);
    v.push_back(l);
    l = make("2x6x0x4/g3-empty-positions", "edge", {2, 6, 0, 4}, 3);
    v.push_back(l);
    l = make("4x8x5x5/g4-channels-last", "view", {4, 8, 5, 5}, 4);
    l.channels_last = true;
    v.push_back(l);
    l = make("3x6x7x9/g2-padded", "view", {3, 6, 7, 9}, 2);
    l.padded = true;
    v.push_back(l);
    l = make("4x8x6x6/g2-inplace", "view", {4, 8, 6, 6}, 2);
    l.in_place = true;
    v.push_back(l);
    l = make("4x6x8x8/g3-large-mean", "special", {4, 6, 8, 8}, 3);
    l.data = Data::large_mean;
    v.push_back(l);
    l = make("4x6x4x4/g3-constant", "special", {4, 6, 4, 4}, 3);
    l.data = Data::constant;
    v.push_back(l);
  }
  return v;
}

void add_cases(std::vector<CaseEntry>& cases, bool backward) {
  const std::vector<Layout> all = layouts();
  for (const chorus_dtype d : kFloatDtypes)
    for (size_t i = 0; i < all.size(); ++i)
      for (const Out out : {Out::y, Out::dx, Out::dgamma, Out::dbeta}) {
        if ((out != Out::y) != backward) continue;
        Layout l = all[i];
        if (l.in_place && out != Out::y && out != Out::dx) continue;
        // The smoke case has over 1024 outputs (the suite's fault tests
        // plant a wrong element only in outputs that large).
        if (i == 1 && d == CHORUS_DTYPE_F32) l.tier = Tier::smoke;
        static const char* const names[] = {"y", "dx", "dgamma", "dbeta"};
        const std::string op = backward ? "group_norm_backward" : "group_norm";
        add_case(cases,
                 op + "/" + dtype_text(d) + "/" + l.kind + "/" + l.label + "/" +
                     names[static_cast<int>(out)],
                 op, backward ? CHORUS_OP_GROUP_NORM_BACKWARD : CHORUS_OP_GROUP_NORM, dtype_text(d),
                 shape_text(l.shape), l.kind, l.tier,
                 [d, l, out](Rng& rng) { return group_norm_spec(d, l, out, rng); });
      }
}

void add_forward(std::vector<CaseEntry>& cases) {
  add_cases(cases, false);
}
void add_backward(std::vector<CaseEntry>& cases) {
  add_cases(cases, true);
}

}  // namespace

void register_cases() {
  register_family("group_norm", add_forward);
  register_family("group_norm_backward", add_backward);
}

}  // namespace chorus::ops::group_norm
