// gradcheck.hpp — finite-difference checks for the unit tests of backward
// ops: an op's gradient of a scalar loss against central differences of that
// loss, computed with the forward op. Written for float64 on reference:0,
// where the differences are accurate far below any bug; and check_close,
// the element-wise comparison the backward ops' tests share.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chorus_test {

// sum(a * b), accumulated in long double: the loss L = sum(dy * y) whose
// gradients with respect to an op's inputs its backward ops compute.
inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  long double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<long double>(a[i]) * b[i];
  return static_cast<double>(s);
}

// Values in [-1, 1) from a fixed 64-bit LCG: the same on every platform
// (std:: distributions are not).
inline std::vector<double> random_values(size_t n, uint64_t seed) {
  std::vector<double> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (double& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<double>(s >> 11) * 0x1.0p-52 - 1.0;
  }
  return v;
}

// Checks `grad`, the gradient of a scalar loss with respect to `param` as a
// backward op computed it, against central differences
//   (L(p + h e_k) - L(p - h e_k)) / (2h)
// for every element k. loss() evaluates L at param's current values (it
// captures param by reference); each element is restored after its two
// evaluations. The quotient is divided by the step as actually stored
// (p_k + h and p_k - h round). Its error: the rounding of the two losses,
// about eps sum|terms of L| / h, plus, for a loss that is not linear in p_k,
// h^2 |L'''| / 6; `tolerance` (relative to max(1, |grad_k|)) must cover
// both for the caller's loss and h. Every element must pass; the message
// shows the worst.
inline void check_gradient(const std::string& what, std::vector<double>& param,
                           const std::vector<double>& grad, const std::function<double()>& loss,
                           double step, double tolerance) {
  REQUIRE(param.size() == grad.size());
  size_t failures = 0, worst_at = 0;
  double worst = 0, worst_numeric = 0;
  for (size_t k = 0; k < param.size(); ++k) {
    const double saved = param[k];
    const double up_at = saved + step, down_at = saved - step;
    param[k] = up_at;
    const double up = loss();
    param[k] = down_at;
    const double down = loss();
    param[k] = saved;
    const double numeric = (up - down) / (up_at - down_at);
    const double error = std::fabs(numeric - grad[k]) / std::max(1.0, std::fabs(grad[k]));
    if (!(error <= tolerance)) ++failures;
    if (!(error <= worst)) {
      worst = error;
      worst_at = k;
      worst_numeric = numeric;
    }
  }
  INFO(what << ": " << failures << " of " << param.size() << " elements off; worst at element "
            << worst_at << ": analytic " << (grad.empty() ? 0.0 : grad[worst_at])
            << ", central difference " << worst_numeric << ", relative error " << worst
            << " (tolerance " << tolerance << ")");
  CHECK(failures == 0);
}

// Equal within `tolerance` relative to max(1, |want|); NaN matches NaN and
// infinities match themselves.
inline void check_close(const char* what, const std::vector<double>& got,
                        const std::vector<double>& want, double tolerance) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  size_t off = 0;
  std::string first;
  for (size_t i = 0; i < got.size(); ++i) {
    const bool same = (std::isnan(got[i]) && std::isnan(want[i])) || got[i] == want[i] ||
                      std::fabs(got[i] - want[i]) <= tolerance * std::max(1.0, std::fabs(want[i]));
    if (!same && off++ < 5)
      first += "element " + std::to_string(i) + ": got " + std::to_string(got[i]) + ", want " +
               std::to_string(want[i]) + "\n";
  }
  INFO(first);
  CHECK(off == 0);
}

}  // namespace chorus_test
