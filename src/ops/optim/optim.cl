/* optim.cl — fused optimizer steps (walk.h before this file), one work-item
 * per element, every tensor read and written once. Operands are the op's
 * slots in ck_optim: sgd 0 param, 1 grad, 2 momentum_buffer; adamw 0 param,
 * 1 grad, 2 exp_avg, 3 exp_avg_sq, 4 max_exp_avg_sq. The constants arrive in
 * the compute type (CT: float, double for f64), computed on the host in
 * double (src/ops/optim/optim_host.hpp). A state is stored in its dtype and
 * read back before the update uses it, as PyTorch keeps states in the
 * parameter's dtype.
 */
#ifndef T
#define T STORAGE(DT)
#define CT COMPUTE(DT)
#endif

/* flags: 1 momentum, 2 first step (the buffer starts as the gradient),
 * 4 Nesterov, 8 weight decay. */
KERNEL void sgd_step(GLOBAL T* param, GLOBAL const T* grad, GLOBAL T* buf, ck_optim a, CT lr,
                     CT momentum, CT one_minus_dampening, CT weight_decay, I32 flags GRID_PARAMS) {
  const I64 i = global_id(0);
  if (i >= a.count) return;
  const I64 pe = ew_element_at(&a, 0, i);
  const CT p = LOAD(DT, param, pe);
  CT g = LOAD(DT, grad, ew_element_at(&a, 1, i));
  if (flags & 8) g = g + weight_decay * p;
  if (flags & 1) {
    const I64 be = ew_element_at(&a, 2, i);
    const CT b = (flags & 2) ? g : momentum * LOAD(DT, buf, be) + one_minus_dampening * g;
    STORE(DT, buf, be, b);
    const CT stored = LOAD(DT, buf, be);
    g = (flags & 4) ? g + momentum * stored : stored;
  }
  STORE(DT, param, pe, p - lr * g);
}

KERNEL void adamw_step(GLOBAL T* param, GLOBAL const T* grad, GLOBAL T* exp_avg,
                       GLOBAL T* exp_avg_sq, GLOBAL T* max_exp_avg_sq, ck_optim a, CT decay,
                       CT one_minus_beta1, CT beta2, CT one_minus_beta2, CT step_size,
                       CT inv_bias2_sqrt, CT eps, I32 amsgrad GRID_PARAMS) {
  const I64 i = global_id(0);
  if (i >= a.count) return;
  const I64 pe = ew_element_at(&a, 0, i);
  const I64 me = ew_element_at(&a, 2, i);
  const I64 ve = ew_element_at(&a, 3, i);
  const CT g = LOAD(DT, grad, ew_element_at(&a, 1, i));
  const CT p = LOAD(DT, param, pe) * decay;
  const CT m0 = LOAD(DT, exp_avg, me);
  STORE(DT, exp_avg, me, m0 + one_minus_beta1 * (g - m0));
  STORE(DT, exp_avg_sq, ve, beta2 * LOAD(DT, exp_avg_sq, ve) + one_minus_beta2 * g * g);
  const CT m = LOAD(DT, exp_avg, me);
  CT used = LOAD(DT, exp_avg_sq, ve);
  if (amsgrad) {
    const I64 xe = ew_element_at(&a, 4, i);
    const CT previous = LOAD(DT, max_exp_avg_sq, xe);
    /* torch.maximum: NaN wins */
    used = (used != used || used > previous) ? used : previous;
    STORE(DT, max_exp_avg_sq, xe, used);
  }
  const CT denom = sqrt(used) * inv_bias2_sqrt + eps;
  STORE(DT, param, pe, p - step_size * m / denom);
}
