// reference.cpp — the oracle's SGD and AdamW steps: PyTorch's single-tensor
// formulas per element, in double (long double for f64 data) from the
// double constants of optim_host.hpp, each state and the parameter rounded
// once to its dtype on store.
#include <algorithm>
#include <cmath>

#include "optim/optim_host.hpp"
#include "reference_common.hpp"

namespace chorus::ops::optim {
namespace {

using namespace chorus::reference;

template <typename T>
void sgd_loop(const BoundOp& op, const SgdConstants& c) {
  const Tensor& param = op[0];
  const Tensor& grad = op[1];
  const bool has_buf = c.momentum_on;
  for_each_index(param.rank, param.shape, [&](const int64_t* index) {
    const int64_t pe = element_of(param, index);
    const T p = load_as<T>(param, pe);
    T g = load_as<T>(grad, element_of(grad, index));
    if (c.weight_decay != 0) g = g + static_cast<T>(c.weight_decay) * p;
    if (has_buf) {
      const Tensor& buf = op[2];
      const int64_t be = element_of(buf, index);
      T b = c.first ? g
                    : static_cast<T>(c.momentum) * load_as<T>(buf, be) +
                          static_cast<T>(c.one_minus_dampening) * g;
      store_rounded(buf, be, b);
      b = load_as<T>(buf, be);  // the state as stored is what the next step reads
      g = c.nesterov ? g + static_cast<T>(c.momentum) * b : b;
    }
    store_rounded(param, pe, p - static_cast<T>(c.lr) * g);
  });
}

template <typename T>
void adamw_loop(const BoundOp& op, const AdamwConstants& c) {
  const Tensor& param = op[0];
  const Tensor& grad = op[1];
  const Tensor& m_t = op[2];
  const Tensor& v_t = op[3];
  for_each_index(param.rank, param.shape, [&](const int64_t* index) {
    const int64_t pe = element_of(param, index), me = element_of(m_t, index),
                  ve = element_of(v_t, index);
    const T g = load_as<T>(grad, element_of(grad, index));
    const T p = load_as<T>(param, pe) * static_cast<T>(c.decay);
    const T m0 = load_as<T>(m_t, me);
    store_rounded(m_t, me, m0 + static_cast<T>(c.one_minus_beta1) * (g - m0));
    store_rounded(v_t, ve, static_cast<T>(c.beta2) * load_as<T>(v_t, ve) +
                               static_cast<T>(c.one_minus_beta2) * g * g);
    // The states as stored (in the parameter's dtype, as PyTorch keeps
    // them) are what the update reads.
    const T m = load_as<T>(m_t, me);
    T used = load_as<T>(v_t, ve);
    if (c.amsgrad) {
      const Tensor& vmax_t = op[4];
      const int64_t xe = element_of(vmax_t, index);
      // max of the stored values (the running maximum is itself state);
      // NaN wins, as in torch.maximum.
      const T previous = load_as<T>(vmax_t, xe);
      used = (std::isnan(used) || used > previous) ? used : previous;
      store_rounded(vmax_t, xe, used);
    }
    const T denom = std::sqrt(used) / static_cast<T>(c.bias2_sqrt) + static_cast<T>(c.eps);
    store_rounded(param, pe, p - static_cast<T>(c.step_size) * m / denom);
  });
}

chorus_status run_sgd(const BoundOp& op) {
  const SgdConstants c = sgd_constants(op.attrs_as<chorus_sgd_attrs>());
  if (op[0].dtype == CHORUS_DTYPE_F64)
    sgd_loop<long double>(op, c);
  else
    sgd_loop<double>(op, c);
  return CHORUS_OK;
}

chorus_status run_adamw(const BoundOp& op) {
  const AdamwConstants c = adamw_constants(op.attrs_as<chorus_adamw_attrs>());
  if (op[0].dtype == CHORUS_DTYPE_F64)
    adamw_loop<long double>(op, c);
  else
    adamw_loop<double>(op, c);
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_SGD, run_sgd);
  chorus::reference::register_op(CHORUS_OP_ADAMW, run_adamw);
}

}  // namespace chorus::ops::optim
