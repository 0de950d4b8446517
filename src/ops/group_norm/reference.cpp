// reference.cpp — the oracle's group norm and its gradient, computed
// directly from the formulas of docs/ops.md in long double (not through the
// batch_norm view the composites use). The tensors arrive as the caller
// passed them: x, y, dy and dx [N, C, ...]; gamma, beta, dgamma, dbeta [C].
// Per sample n and group g, over the C/G channels of the group and every
// spatial position (m values): mean, var (biased), r = 1/sqrt(var + eps),
// z = (x - mean) r;
//   y = z gamma_c + beta_c
//   dx = r (h - mean(h) - z mean(h z)), h = dy gamma_c
//   dgamma_c = sum over n and positions of dy z,  dbeta_c = sum of dy.
#include <cmath>
#include <vector>

#include "reference_common.hpp"

namespace chorus::ops::group_norm {
namespace {

using namespace chorus::reference;
using Real = long double;

struct Geometry {
  int64_t n = 0, c = 0, spatial = 1, groups = 1, per = 0;
  explicit Geometry(const Tensor& x, int32_t g) : n(x.shape[0]), c(x.shape[1]), groups(g) {
    for (uint32_t k = 2; k < x.rank; ++k) spatial *= x.shape[k];
    per = c / groups;
  }
};

// Element number of (sample i, channel ch, spatial position q) of t.
int64_t at(const Tensor& t, int64_t i, int64_t ch, int64_t q) {
  int64_t index[CHORUS_MAX_RANK] = {i, ch};
  for (uint32_t k = t.rank; k-- > 2;) {
    index[k] = q % t.shape[k];
    q /= t.shape[k];
  }
  return element_of(t, index);
}

Real channel_value(const BoundOp& op, uint32_t slot, int64_t ch, Real absent) {
  if (!op.has(slot)) return absent;
  return load_as<Real>(op[slot], op[slot].offset + ch * op[slot].strides[0]);
}

// Calls f(ch, q, k) for the k-th value of group (i, g), and returns mean
// and r of the group.
template <typename F>
void each_value(const Geometry& geo, int64_t g, F&& f) {
  int64_t k = 0;
  for (int64_t ch = g * geo.per; ch < (g + 1) * geo.per; ++ch)
    for (int64_t q = 0; q < geo.spatial; ++q) f(ch, q, k++);
}

struct Stats {
  Real mean = 0, r = 0;
};

Stats stats_of(const Tensor& x, const Geometry& geo, int64_t i, int64_t g, double eps) {
  const Real m = static_cast<Real>(geo.per * geo.spatial);
  Real sum = 0;
  each_value(geo, g,
             [&](int64_t ch, int64_t q, int64_t) { sum += load_as<Real>(x, at(x, i, ch, q)); });
  Stats s;
  s.mean = sum / m;
  Real var = 0;
  each_value(geo, g, [&](int64_t ch, int64_t q, int64_t) {
    const Real d = load_as<Real>(x, at(x, i, ch, q)) - s.mean;
    var += d * d;
  });
  s.r = 1 / std::sqrt(var / m + static_cast<Real>(eps));
  return s;
}

chorus_status run_forward(const BoundOp& op) {
  const auto& a = op.attrs_as<chorus_group_norm_attrs>();
  const Tensor& x = op[0];
  const Tensor& y = op[3];
  const Geometry geo(x, a.num_groups);
  if (geo.per * geo.spatial == 0) return CHORUS_OK;
  std::vector<Real> out(static_cast<size_t>(geo.per * geo.spatial));
  for (int64_t i = 0; i < geo.n; ++i)
    for (int64_t g = 0; g < geo.groups; ++g) {
      const Stats s = stats_of(x, geo, i, g, a.eps);
      each_value(geo, g, [&](int64_t ch, int64_t q, int64_t k) {
        const Real z = (load_as<Real>(x, at(x, i, ch, q)) - s.mean) * s.r;
        out[static_cast<size_t>(k)] = z * channel_value(op, 1, ch, 1) + channel_value(op, 2, ch, 0);
      });
      // Written after the group is read: y may be x.
      each_value(geo, g, [&](int64_t ch, int64_t q, int64_t k) {
        store_rounded(y, at(y, i, ch, q), out[static_cast<size_t>(k)]);
      });
    }
  return CHORUS_OK;
}

chorus_status run_backward(const BoundOp& op) {
  const auto& a = op.attrs_as<chorus_group_norm_attrs>();
  const Tensor& x = op[0];
  const Tensor& dy = op[2];
  const Geometry geo(x, a.num_groups);
  std::vector<Real> dgamma(static_cast<size_t>(geo.c)), dbeta(static_cast<size_t>(geo.c));
  const int64_t m = geo.per * geo.spatial;
  std::vector<Real> dx(static_cast<size_t>(m));
  for (int64_t i = 0; i < geo.n && m > 0; ++i)
    for (int64_t g = 0; g < geo.groups; ++g) {
      const Stats s = stats_of(x, geo, i, g, a.eps);
      Real mean_h = 0, mean_hz = 0;
      each_value(geo, g, [&](int64_t ch, int64_t q, int64_t) {
        const Real z = (load_as<Real>(x, at(x, i, ch, q)) - s.mean) * s.r;
        const Real d = load_as<Real>(dy, at(dy, i, ch, q));
        const Real h = d * channel_value(op, 1, ch, 1);
        mean_h += h;
        mean_hz += h * z;
        dgamma[static_cast<size_t>(ch)] += d * z;
        dbeta[static_cast<size_t>(ch)] += d;
      });
      mean_h /= static_cast<Real>(m);
      mean_hz /= static_cast<Real>(m);
      each_value(geo, g, [&](int64_t ch, int64_t q, int64_t k) {
        const Real z = (load_as<Real>(x, at(x, i, ch, q)) - s.mean) * s.r;
        const Real h = load_as<Real>(dy, at(dy, i, ch, q)) * channel_value(op, 1, ch, 1);
        dx[static_cast<size_t>(k)] = s.r * (h - mean_h - z * mean_hz);
      });
      // Written after the group is read: dx may be dy.
      if (op.has(3))
        each_value(geo, g, [&](int64_t ch, int64_t q, int64_t k) {
          store_rounded(op[3], at(op[3], i, ch, q), dx[static_cast<size_t>(k)]);
        });
    }
  for (int64_t ch = 0; ch < geo.c; ++ch) {
    if (op.has(4))
      store_rounded(op[4], op[4].offset + ch * op[4].strides[0], dgamma[static_cast<size_t>(ch)]);
    if (op.has(5))
      store_rounded(op[5], op[5].offset + ch * op[5].strides[0], dbeta[static_cast<size_t>(ch)]);
  }
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_GROUP_NORM, run_forward);
  chorus::reference::register_op(CHORUS_OP_GROUP_NORM_BACKWARD, run_backward);
}

}  // namespace chorus::ops::group_norm
