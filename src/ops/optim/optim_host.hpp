// optim_host.hpp — the per-step constants of the optimizers, computed once
// on the host in double from an op's attributes, exactly as PyTorch's
// single-tensor implementations compute them in Python floats. The planner,
// the Kokkos backend and the reference all take them from here (the kernels
// then round each to their compute type).
#pragma once

#include <chorus/chorus.h>

#include <cmath>

namespace chorus::ops::optim {

struct SgdConstants {
  double lr, momentum, one_minus_dampening, weight_decay;
  bool first;     // step 1: the momentum buffer starts as the gradient
  bool momentum_on;
  bool nesterov;
};

inline SgdConstants sgd_constants(const chorus_sgd_attrs& a) {
  return {a.lr, a.momentum, 1.0 - a.dampening, a.weight_decay, a.step <= 1, a.momentum != 0,
          a.nesterov != 0};
}

struct AdamwConstants {
  double decay;            // 1 - lr * weight_decay
  double one_minus_beta1;  // exp_avg.lerp_(grad, 1 - beta1)
  double beta2, one_minus_beta2;
  double step_size;        // lr / (1 - beta1^step)
  double bias2_sqrt;       // sqrt(1 - beta2^step)
  // Its reciprocal: the kernels multiply by it instead of dividing (one
  // division per element fewer; on PoCL a dozen times faster), one more
  // rounding that the bounds count.
  double inv_bias2_sqrt;
  double eps;
  bool amsgrad;
};

inline AdamwConstants adamw_constants(const chorus_adamw_attrs& a) {
  const auto t = static_cast<double>(a.step);
  const double bias2_sqrt = std::sqrt(1.0 - std::pow(a.beta2, t));
  return {1.0 - a.lr * a.weight_decay,
          1.0 - a.beta1,
          a.beta2,
          1.0 - a.beta2,
          a.lr / (1.0 - std::pow(a.beta1, t)),
          bias2_sqrt,
          1.0 / bias2_sqrt,
          a.eps,
          a.amsgrad != 0};
}

}  // namespace chorus::ops::optim
