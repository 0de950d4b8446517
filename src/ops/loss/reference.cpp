// reference.cpp — the oracle's cross-entropy and its gradient, in the rows
// normal form (the class axis last; target and a per-sample loss with
// extent 1 there, a reduced loss extent 1 everywhere), computed in double
// (long double for f64) and rounded once. Per sample, x its row of C
// logits, t its target, s the label smoothing:
//   lse = m + log(sum(exp(x - m))), m = max(x);
//   loss = (1 - s)(lse - x_t) + s (lse - mean(x)), each term left out when
//          its weight is 0; 0 when t is ignore_index, NaN when t is outside
//          [0, C);
//   dlogits_c = w ((exp(x_c - lse) - (1 - s)[c = t] - s/C)), w the sample's
//          dloss (none), dloss (sum) or dloss / count (mean), 0 ignored.
#include <cmath>
#include <vector>

#include "reference_common.hpp"

namespace chorus::ops::loss {
namespace {

using namespace chorus::reference;

template <typename T>
struct Sample {
  bool ignored = false, valid = false;  // valid: t in [0, C)
  int64_t t = 0;
  T m = 0, lse = 0, mean = 0;
};

// The row's statistics; x_at(c) loads logit c.
template <typename T, typename X>
Sample<T> sample_of(int64_t target, int32_t ignore_index, int64_t classes, X&& x_at) {
  Sample<T> s;
  s.t = target;
  s.ignored = target == ignore_index;
  s.valid = !s.ignored && target >= 0 && target < classes;
  s.m = x_at(0);
  for (int64_t c = 1; c < classes; ++c) s.m = std::fmax(s.m, x_at(c));
  // NaN anywhere makes the row NaN (fmax skips NaN; the sums do not).
  T sum = 0, total = 0;
  for (int64_t c = 0; c < classes; ++c) {
    sum += std::exp(x_at(c) - s.m);
    total += x_at(c);
  }
  s.lse = s.m + std::log(sum);
  s.mean = total / static_cast<T>(classes);
  return s;
}

template <typename T>
void cross_entropy_loop(const BoundOp& op, bool backward) {
  const auto& a = op.attrs_as<chorus_cross_entropy_attrs>();
  const Tensor& x = op[0];
  const Tensor& target = op[1];
  const Tensor& dl = op[2];  // loss (forward) or dloss (backward)
  const uint32_t last = x.rank - 1;
  const int64_t classes = x.shape[last];
  const T smoothing = static_cast<T>(a.label_smoothing);
  int64_t rows = 1;
  for (uint32_t k = 0; k < last; ++k) rows *= x.shape[k];
  const int64_t zero[CHORUS_MAX_RANK] = {};
  const auto each_row = [&](auto&& visit) {
    if (rows > 0)
      for_each_index(last, x.shape, [&](const int64_t* row) {
        const int64_t x0 = element_of(x, row);
        const auto x_at = [&](int64_t c) { return load_as<T>(x, x0 + c * x.strides[last]); };
        const auto t = static_cast<int64_t>(load_as<long double>(target, element_of(target, row)));
        visit(row, sample_of<T>(t, a.ignore_index, classes, x_at), x_at);
      });
  };
  // The per-sample loss of a row.
  const auto loss_of = [&](const Sample<T>& s, const auto& x_at) -> T {
    if (s.ignored) return 0;
    if (!s.valid) return std::numeric_limits<T>::quiet_NaN();
    // A term whose weight is 0 is left out: -inf logits (a mask) give a
    // finite loss without smoothing, not 0 * inf.
    T l = 0;
    if (smoothing < 1) l = (1 - smoothing) * (s.lse - x_at(s.t));
    if (smoothing > 0) l += smoothing * (s.lse - s.mean);
    return l;
  };
  if (!backward) {
    if (a.reduction == CHORUS_REDUCTION_NONE) {
      each_row([&](const int64_t* row, const Sample<T>& s, const auto& x_at) {
        store_rounded(dl, element_of(dl, row), loss_of(s, x_at));
      });
      return;
    }
    T total = 0;
    int64_t count = 0;
    each_row([&](const int64_t*, const Sample<T>& s, const auto& x_at) {
      total += loss_of(s, x_at);
      if (!s.ignored) ++count;
    });
    store_rounded(dl, element_of(dl, zero),
                  a.reduction == CHORUS_REDUCTION_MEAN ? total / static_cast<T>(count) : total);
    return;
  }
  const Tensor& dx = op[3];
  int64_t count = 0;
  if (a.reduction == CHORUS_REDUCTION_MEAN)
    each_row([&](const int64_t*, const Sample<T>& s, const auto&) {
      if (!s.ignored) ++count;
    });
  std::vector<T> out(static_cast<size_t>(classes));
  each_row([&](const int64_t* row, const Sample<T>& s, const auto& x_at) {
    T w = load_as<T>(dl, element_of(dl, a.reduction == CHORUS_REDUCTION_NONE ? row : zero));
    if (a.reduction == CHORUS_REDUCTION_MEAN) w /= static_cast<T>(count);
    for (int64_t c = 0; c < classes; ++c) {
      T v = 0;
      if (!s.ignored) {
        if (!s.valid) {
          v = std::numeric_limits<T>::quiet_NaN();
        } else {
          const T p = std::exp(x_at(c) - s.lse);
          v = w * (p - (c == s.t ? 1 - smoothing : T(0)) - smoothing / static_cast<T>(classes));
        }
      }
      out[static_cast<size_t>(c)] = v;  // dlogits may be logits itself: stored after the row
    }
    const int64_t d0 = element_of(dx, row);
    for (int64_t c = 0; c < classes; ++c)
      store_rounded(dx, d0 + c * dx.strides[last], out[static_cast<size_t>(c)]);
  });
}

template <bool kBackward>
chorus_status run_cross_entropy(const BoundOp& op) {
  if (op[0].dtype == CHORUS_DTYPE_F64)
    cross_entropy_loop<long double>(op, kBackward);
  else
    cross_entropy_loop<double>(op, kBackward);
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_CROSS_ENTROPY, run_cross_entropy<false>);
  chorus::reference::register_op(CHORUS_OP_CROSS_ENTROPY_BACKWARD, run_cross_entropy<true>);
}

}  // namespace chorus::ops::loss
