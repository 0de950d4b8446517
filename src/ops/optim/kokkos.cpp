// kokkos.cpp — SGD and AdamW steps on the Kokkos backend: a RangePolicy over
// the elements of the parameter's collapsed layout, each work item updating
// one element of every tensor through a Walk, with optim.cl's arithmetic in
// the compute type (float, double for f64) and the constants of
// optim_host.hpp. States are stored in their dtype and read back before the
// update, as PyTorch keeps them.
#include "kokkos_ops.hpp"
#include "optim/optim_host.hpp"

namespace chorus::ops::optim {

using namespace chorus::kokkos;

template <chorus_dtype D>
void sgd_kernel(const Exec& exec, const Walk<3>& walk, const SgdConstants& c, unsigned char* param,
                const unsigned char* grad, unsigned char* buf) {
  using S = Storage<D>;
  using CT = typename S::compute;
  const CT lr = static_cast<CT>(c.lr), momentum = static_cast<CT>(c.momentum),
           damp = static_cast<CT>(c.one_minus_dampening), wd = static_cast<CT>(c.weight_decay);
  const bool has_wd = c.weight_decay != 0, has_buf = c.momentum_on, first = c.first,
             nesterov = c.nesterov;
  Kokkos::parallel_for(
      "chorus::sgd", Range(exec, 0, walk.count), KOKKOS_LAMBDA(int64_t i) {
        int64_t at[3];
        walk.locate(i, at);
        const CT p = S::load(param, at[0]);
        CT g = S::load(grad, at[1]);
        if (has_wd) g = g + wd * p;
        if (has_buf) {
          const CT b = first ? g : momentum * S::load(buf, at[2]) + damp * g;
          S::store(buf, at[2], b);
          const CT stored = S::load(buf, at[2]);
          g = nesterov ? g + momentum * stored : stored;
        }
        S::store(param, at[0], p - lr * g);
      });
}

template <chorus_dtype D>
void adamw_kernel(const Exec& exec, const Walk<5>& walk, const AdamwConstants& c,
                  unsigned char* param, const unsigned char* grad, unsigned char* exp_avg,
                  unsigned char* exp_avg_sq, unsigned char* vmax) {
  using S = Storage<D>;
  using CT = typename S::compute;
  const CT decay = static_cast<CT>(c.decay), omb1 = static_cast<CT>(c.one_minus_beta1),
           beta2 = static_cast<CT>(c.beta2), omb2 = static_cast<CT>(c.one_minus_beta2),
           step_size = static_cast<CT>(c.step_size),
           inv_bias2_sqrt = static_cast<CT>(c.inv_bias2_sqrt),
           eps = static_cast<CT>(c.eps);
  const bool amsgrad = c.amsgrad;
  Kokkos::parallel_for(
      "chorus::adamw", Range(exec, 0, walk.count), KOKKOS_LAMBDA(int64_t i) {
        int64_t at[5];
        walk.locate(i, at);
        const CT g = S::load(grad, at[1]);
        const CT p = S::load(param, at[0]) * decay;
        const CT m0 = S::load(exp_avg, at[2]);
        S::store(exp_avg, at[2], m0 + omb1 * (g - m0));
        S::store(exp_avg_sq, at[3], beta2 * S::load(exp_avg_sq, at[3]) + omb2 * g * g);
        const CT m = S::load(exp_avg, at[2]);
        CT used = S::load(exp_avg_sq, at[3]);
        if (amsgrad) {
          const CT previous = S::load(vmax, at[4]);
          used = (used != used || used > previous) ? used : previous;  // NaN wins
          S::store(vmax, at[4], used);
        }
        const CT denom = math::sqrt(used) * inv_bias2_sqrt + eps;
        S::store(param, at[0], p - step_size * m / denom);
      });
}

chorus_status check_optim(const BoundOp& op) {
  const chorus_dtype d = op[0].dtype;
  if (!is_float_dtype(d)) return unsupported_dtype(op.kind == CHORUS_OP_SGD ? "sgd" : "adamw", d);
  for (uint32_t t = 1; t < op.count; ++t)
    if (op.has(t) && op[t].dtype != d)
      return unsupported_dtype(op.kind == CHORUS_OP_SGD ? "sgd" : "adamw", op[t].dtype);
  return CHORUS_OK;
}

template <int N>
Walk<N> param_walk(const BoundOp& op) {
  const chorus_backend_tensor* views[N] = {};
  for (int t = 0; t < N; ++t) views[t] = op.has(static_cast<uint32_t>(t)) ? &op[t] : nullptr;
  return make_walk<N>(0, op[0].rank, op[0].shape, views);
}

unsigned char* data_or_null(const BoundOp& op, uint32_t t) {
  return op.has(t) ? data_of(op[t]) : nullptr;
}

// check_optim ran when the op was created (the backend's op_create).
chorus_status run_sgd(const Exec& exec, const BoundOp& op) {
  const SgdConstants c = sgd_constants(attrs_of<chorus_sgd_attrs>(op));
  const Walk<3> walk = param_walk<3>(op);
  const auto launch = [&]<chorus_dtype D>() {
    sgd_kernel<D>(exec, walk, c, data_of(op[0]), data_of(op[1]), data_or_null(op, 2));
  };
  with_float_dtype(op[0].dtype, launch);
  return CHORUS_OK;
}

chorus_status run_adamw(const Exec& exec, const BoundOp& op) {
  const AdamwConstants c = adamw_constants(attrs_of<chorus_adamw_attrs>(op));
  const Walk<5> walk = param_walk<5>(op);
  const auto launch = [&]<chorus_dtype D>() {
    adamw_kernel<D>(exec, walk, c, data_of(op[0]), data_of(op[1]), data_of(op[2]),
                    data_of(op[3]), data_or_null(op, 4));
  };
  with_float_dtype(op[0].dtype, launch);
  return CHORUS_OK;
}

void register_kokkos() {
  register_op(CHORUS_OP_SGD, {sizeof(chorus_sgd_attrs), check_optim, run_sgd});
  register_op(CHORUS_OP_ADAMW, {sizeof(chorus_adamw_attrs), check_optim, run_adamw});
}

}  // namespace chorus::ops::optim
