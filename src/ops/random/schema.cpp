// schema.cpp — the random family in libchorus: random (uniform, normal,
// bernoulli into any layout) and dropout (docs/ops.md, "Random numbers").
// Both are elementwise in the normal form: the core's axis collapse keeps
// the row-major order of the elements, and element i's value depends only on
// (seed, offset, i), so the collapsed call draws exactly what the user's
// layout would have. The distribution's parameters are rounded here to the
// type the kernels compute in (float, double for f64), so every backend
// starts from the same values.
#include <cmath>

#include "common/numeric.hpp"
#include "core/dispatch.hpp"
#include "core/op_schema.hpp"

namespace chorus::ops::random {
namespace {

using namespace chorus::core;

double to_compute_type(double v, chorus_dtype d) {
  return d == CHORUS_DTYPE_F64 ? v : static_cast<double>(static_cast<float>(v));
}

chorus_status normalise_random(Call& call) {
  auto& a = call.attrs_as<chorus_random_attrs>();
  const chorus_dtype d = call.views[0].dtype;
  switch (a.distribution) {
    case CHORUS_RANDOM_UNIFORM:
      if (!std::isfinite(a.a) || !std::isfinite(a.b) || a.a > a.b)
        return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                         "uniform needs finite a <= b (the range [a, b)); got a = %g, b = %g", a.a,
                         a.b);
      a.a = to_compute_type(a.a, d);
      a.b = to_compute_type(a.b, d);
      break;
    case CHORUS_RANDOM_NORMAL:
      if (!std::isfinite(a.a) || !std::isfinite(a.b) || a.b < 0)
        return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                         "normal needs a finite mean a and standard deviation b >= 0; got a = %g, "
                         "b = %g",
                         a.a, a.b);
      a.a = to_compute_type(a.a, d);
      a.b = to_compute_type(a.b, d);
      break;
    default:  // CHORUS_RANDOM_BERNOULLI (the enum was checked before)
      if (!(a.a >= 0 && a.a <= 1))
        return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                         "bernoulli needs a probability a in [0, 1]; got a = %g", a.a);
      a.b = 0;
      break;
  }
  return CHORUS_OK;
}

chorus_status normalise_dropout(Call& call) {
  auto& a = call.attrs_as<chorus_dropout_attrs>();
  if (!(a.p >= 0 && a.p <= 1))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "p is %g; it must be in [0, 1]", a.p);
  a.reserved = 0;
  return require_same_shapes(call);
}

}  // namespace

void register_schema() {
  {
    const uint32_t floats = kAnyFloat;
    OpSchema s;
    s.kind = CHORUS_OP_RANDOM;
    s.name = "random";
    s.family = "random";
    s.summary = "y = random numbers (uniform, normal, bernoulli): Philox4x32-10 keyed by seed, "
                "stream offset, element index";
    s.slots = {{"y", Role::output, false, kAnyDtype}};
    s.attrs_size = sizeof(chorus_random_attrs);
    s.attrs = {{"distribution", CHORUS_ATTR_ENUM, offsetof(chorus_random_attrs, distribution), 0,
                {"uniform", "normal", "bernoulli"}, {floats, floats, kAnyDtype},
                "chorus_random_distribution"},
               {"seed", CHORUS_ATTR_UINT64, offsetof(chorus_random_attrs, seed)},
               {"offset", CHORUS_ATTR_UINT64, offsetof(chorus_random_attrs, offset)},
               {"a", CHORUS_ATTR_DOUBLE, offsetof(chorus_random_attrs, a), 0},
               {"b", CHORUS_ATTR_DOUBLE, offsetof(chorus_random_attrs, b), 1}};
    s.variant_attr = 0;
    s.form = NormalForm::elementwise;
    s.normalise = normalise_random;
    register_op(std::move(s));
  }
  {
    OpSchema s;
    s.kind = CHORUS_OP_DROPOUT;
    s.name = "dropout";
    s.family = "random";
    s.summary = "y = x * (keep ? 1/(1-p) : 0), keep drawn per element from (seed, offset, index); "
                "mask = keep";
    s.slots = {{"x", Role::input, false, kAnyFloat},
               {"y", Role::output, false, kAnyFloat, 0, 1u << 0},
               {"mask", Role::output, true, dtype_bit(CHORUS_DTYPE_U8)}};
    s.attrs_size = sizeof(chorus_dropout_attrs);
    s.attrs = {{"reserved", CHORUS_ATTR_UINT32, offsetof(chorus_dropout_attrs, reserved)},
               {"seed", CHORUS_ATTR_UINT64, offsetof(chorus_dropout_attrs, seed)},
               {"offset", CHORUS_ATTR_UINT64, offsetof(chorus_dropout_attrs, offset)},
               {"p", CHORUS_ATTR_DOUBLE, offsetof(chorus_dropout_attrs, p), 0.5}};
    s.form = NormalForm::elementwise;
    s.normalise = normalise_dropout;
    register_op(std::move(s));
  }
}

}  // namespace chorus::ops::random

extern "C" CHORUS_API chorus_status chorus_random(chorus_queue queue,
                                                  const chorus_random_attrs* attrs,
                                                  const chorus_tensor* y) {
  return chorus::core::run_op(queue, CHORUS_OP_RANDOM, attrs, {y});
}

extern "C" CHORUS_API chorus_status chorus_dropout(chorus_queue queue, const chorus_tensor* x,
                                                   double p, uint64_t seed, uint64_t offset,
                                                   const chorus_tensor* y,
                                                   const chorus_tensor* mask) {
  const chorus_dropout_attrs attrs{sizeof attrs, 0, seed, offset, p};
  return chorus::core::run_op(queue, CHORUS_OP_DROPOUT, &attrs, {x, y, mask});
}

extern "C" CHORUS_API chorus_status chorus_dropout_backward(chorus_queue queue,
                                                            const chorus_tensor* dy, double p,
                                                            uint64_t seed, uint64_t offset,
                                                            const chorus_tensor* dx) {
  // The keep decisions are a function of (seed, offset, index): the
  // backward pass is the forward op applied to dy.
  const chorus_dropout_attrs attrs{sizeof attrs, 0, seed, offset, p};
  return chorus::core::run_op(queue, CHORUS_OP_DROPOUT, &attrs, {dy, dx, nullptr});
}
