// schema.cpp — the elementwise family in libchorus: copy, fill, unary,
// binary, compare and where. Every output element depends on the same
// element of each (broadcast) input, so one normal form serves them all:
// inputs broadcast to the output's shape as stride-0 axes, then every tensor
// collapsed jointly (NormalForm::elementwise, backend.h). The output may be
// exactly the view of any input (in place).
//
// The unary ops' names, dtype rule and parameters come from unary_table.h,
// their one definition.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/numeric.hpp"
#include "core/dispatch.hpp"
#include "core/error.hpp"
#include "core/op_schema.hpp"
#include "elementwise/unary_grad_rows.hpp"

namespace chorus::ops::elementwise {
namespace {

using namespace chorus::core;

enum class Params { none, alpha, min_max };

struct UnaryInfo {
  const char* name;
  uint32_t dtypes;
  Params params;
  double alpha, beta;  // defaults of chorus_unary()
};

constexpr uint32_t FLOATS = kAnyFloat;
constexpr uint32_t FLOATS_INTS = kAnyFloat | kSignedInts;
#define NO_PARAMS Params::none, 0.0, 0.0
#define ALPHA(default_value, test) Params::alpha, default_value, 0.0
#define MIN_MAX(test_min, test_max) \
  Params::min_max, -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()
#define UNARY_OP(NAME, name, DTYPES, PARAMS, ...) {#name, DTYPES, PARAMS},
const UnaryInfo kUnary[] = {
#include "elementwise/unary_table.h"
};
#undef UNARY_OP
static_assert(sizeof kUnary / sizeof kUnary[0] == CHORUS_UNARY_COUNT_,
              "unary_table.h has a row for every chorus_unary_op");

#define UNARY_OP(NAME, name, ...) static_assert(CHORUS_UNARY_##NAME >= 0);
#include "elementwise/unary_table.h"
#undef UNARY_OP

const char* const kBinaryNames[] = {"add", "sub", "mul", "div", "max", "min", "pow"};
static_assert(sizeof kBinaryNames / sizeof kBinaryNames[0] == CHORUS_BINARY_COUNT_);
const char* const kCompareNames[] = {"eq", "ne", "lt", "le", "gt", "ge"};
static_assert(sizeof kCompareNames / sizeof kCompareNames[0] == CHORUS_COMPARE_COUNT_);

// Inputs broadcast to the output (the last slot).
chorus_status broadcast_inputs(Call& call) {
  const uint32_t out = call.slot_count - 1;
  const View& o = call.views[out];
  for (uint32_t i = 0; i < out; ++i)
    if (auto s = broadcast_to(call, i, o.rank, o.shape, call.schema->slots[out].name)) return s;
  return CHORUS_OK;
}

// leaky_relu's and elu's alpha rounded to the compute type, clamp's bounds
// to the dtype (docs/ops.md); unused parameters zeroed, so a plugin built
// before they existed still recognises the call. Shared by unary and
// unary_backward, whose attributes hold the same op, alpha and beta.
chorus_status normalise_params(Call& call, int32_t op, double& alpha, double& beta) {
  const UnaryInfo& u = kUnary[op];
  const chorus_dtype dtype = call.views[0].dtype;
  switch (u.params) {
    case Params::none:
      alpha = beta = 0;
      break;
    case Params::alpha:
      if (!std::isfinite(alpha))
        return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "alpha is %g; it must be finite", alpha);
      if (dtype != CHORUS_DTYPE_F64) alpha = static_cast<float>(alpha);
      beta = 0;
      break;
    case Params::min_max:
      if (std::isnan(alpha) || std::isnan(beta))
        return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "min and max must not be NaN");
      for (double* bound : {&alpha, &beta}) {
        if (numeric::is_integer(dtype)) {
          *bound = static_cast<double>(
              dtype == CHORUS_DTYPE_I32 ? numeric::saturate_to_int<int32_t>(*bound)
                                        : numeric::saturate_to_int<int64_t>(*bound));
        } else {
          unsigned char bits[8];
          numeric::store(bits, dtype, 0, *bound);
          *bound = static_cast<double>(numeric::load(bits, dtype, 0));
        }
      }
      break;
  }
  return CHORUS_OK;
}

chorus_status normalise_unary(Call& call) {
  auto& a = call.attrs_as<chorus_unary_attrs>();
  if (auto s = normalise_params(call, a.op, a.alpha, a.beta)) return s;
  return broadcast_inputs(call);
}

// ---- unary_backward: the rows of unary_grad_table.h

std::string grad_op_list() {
  std::string names;
  for (const GradRow& g : kGradRows) names += (names.empty() ? "" : ", ") + std::string(g.name);
  return names;
}

// "relu_backward": the gradient's name in messages.
const char* unary_backward_label(const unsigned char* attrs) {
  const GradRow* g = grad_row(attr_i32(attrs, offsetof(chorus_unary_backward_attrs, op)));
  return g ? g->label : "unary_backward";
}

chorus_status normalise_unary_backward(Call& call) {
  auto& a = call.attrs_as<chorus_unary_backward_attrs>();
  const GradRow* g = grad_row(a.op);
  if (!g)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "op %s has no gradient op; unary_backward takes %s (docs/ops.md shows the "
                     "others' gradients composed of unary and binary ops)",
                     kUnary[a.op].name, grad_op_list().c_str());
  if (a.reserved != 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "reserved is %d; it must be 0", a.reserved);
  if (auto s = normalise_params(call, a.op, a.alpha, a.beta)) return s;
  if (a.from_output) {
    const char* name = kUnary[a.op].name;
    switch (g->from_y) {
      case GradFromY::none:
        return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                         "from_output is 1, but %s's gradient needs the forward's input x "
                         "(from_output 0)",
                         name);
      case GradFromY::alpha_positive:
        if (!(a.alpha > 0))
          return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                           "from_output is 1, but with alpha %g <= 0 %s's output does not tell "
                           "which side of 0 x was: pass x (from_output 0)",
                           a.alpha, name);
        break;
      case GradFromY::alpha_nonnegative:
        if (!(a.alpha >= 0))
          return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                           "from_output is 1, but with alpha %g < 0 %s's output does not tell "
                           "which side of 0 x was: pass x (from_output 0)",
                           a.alpha, name);
        break;
      case GradFromY::any:
        break;
    }
  }
  return broadcast_inputs(call);
}

std::vector<const char*> unary_names() {
  std::vector<const char*> names;
  for (const UnaryInfo& u : kUnary) names.push_back(u.name);
  return names;
}
std::vector<uint32_t> unary_dtypes() {
  std::vector<uint32_t> masks;
  for (const UnaryInfo& u : kUnary) masks.push_back(u.dtypes);
  return masks;
}

constexpr uint32_t kAllInputs = 0xffffu;  // the output may be any input's very view

void register_copy_fill_where() {
  OpSchema copy;
  copy.kind = CHORUS_OP_COPY;
  copy.name = "copy";
  copy.family = "elementwise";
  copy.summary = "dst = src converted to dst's dtype (broadcast)";
  copy.slots = {{"src", Role::input}, {"dst", Role::output, false, kAnyDtype, -1, kAllInputs}};
  copy.normalise = broadcast_inputs;
  register_op(std::move(copy));

  OpSchema fill;
  fill.kind = CHORUS_OP_FILL;
  fill.name = "fill";
  fill.family = "elementwise";
  fill.summary = "every element of dst = value converted to its dtype";
  fill.slots = {{"dst", Role::output}};
  fill.attrs_size = sizeof(chorus_fill_attrs);
  fill.attrs = {{"value", CHORUS_ATTR_DOUBLE, offsetof(chorus_fill_attrs, value)}};
  register_op(std::move(fill));

  OpSchema where;
  where.kind = CHORUS_OP_WHERE;
  where.name = "where";
  where.family = "elementwise";
  where.summary = "out = condition != 0 ? a : b, bit for bit";
  where.slots = {{"condition", Role::input, false, dtype_bit(CHORUS_DTYPE_U8)},
                 {"a", Role::input},
                 {"b", Role::input, false, kAnyDtype, 1},
                 {"out", Role::output, false, kAnyDtype, 1, kAllInputs}};
  where.normalise = broadcast_inputs;
  register_op(std::move(where));
}

void register_math() {
  OpSchema unary;
  unary.kind = CHORUS_OP_UNARY;
  unary.name = "unary";
  unary.family = "elementwise";
  unary.summary = "y = f(x) for one of the unary functions (unary_table.h)";
  unary.slots = {{"x", Role::input, false, FLOATS_INTS},
                 {"y", Role::output, false, FLOATS_INTS, 0, kAllInputs}};
  unary.attrs_size = sizeof(chorus_unary_attrs);
  unary.attrs = {{"op", CHORUS_ATTR_ENUM, offsetof(chorus_unary_attrs, op), 0, unary_names(),
                  unary_dtypes(), "chorus_unary_op"},
                 {"alpha", CHORUS_ATTR_DOUBLE, offsetof(chorus_unary_attrs, alpha)},
                 {"beta", CHORUS_ATTR_DOUBLE, offsetof(chorus_unary_attrs, beta)}};
  unary.variant_attr = 0;
  unary.normalise = normalise_unary;
  register_op(std::move(unary));

  OpSchema grad;
  grad.kind = CHORUS_OP_UNARY_BACKWARD;
  grad.name = "unary_backward";
  grad.family = "elementwise";
  grad.summary = "dx = dy * f'(x) for an activation f, from x or from y = f(x) (unary_grad_table.h)";
  grad.slots = {{"input", Role::input, false, FLOATS},
                {"dy", Role::input, false, FLOATS, 0},
                {"dx", Role::output, false, FLOATS, 0, kAllInputs}};
  grad.attrs_size = sizeof(chorus_unary_backward_attrs);
  // Per op: floats where unary_grad_table.h has a row, none elsewhere (for
  // chorus_op_info and the op table; normalise refuses those ops by name).
  std::vector<uint32_t> grad_dtypes(CHORUS_UNARY_COUNT_, 0);
  for (const GradRow& g : kGradRows) grad_dtypes[static_cast<size_t>(g.op)] = FLOATS;
  grad.attrs = {{"op", CHORUS_ATTR_ENUM, offsetof(chorus_unary_backward_attrs, op), 0,
                 unary_names(), grad_dtypes, "chorus_unary_op"},
                {"from_output", CHORUS_ATTR_BOOL,
                 offsetof(chorus_unary_backward_attrs, from_output), 0},
                {"alpha", CHORUS_ATTR_DOUBLE, offsetof(chorus_unary_backward_attrs, alpha)},
                {"beta", CHORUS_ATTR_DOUBLE, offsetof(chorus_unary_backward_attrs, beta)}};
  grad.label = unary_backward_label;
  grad.normalise = normalise_unary_backward;
  register_op(std::move(grad));

  const auto per_op = [](size_t count, uint32_t mask) { return std::vector<uint32_t>(count, mask); };
  std::vector<uint32_t> binary_dtypes = per_op(CHORUS_BINARY_COUNT_, FLOATS_INTS);
  binary_dtypes[CHORUS_BINARY_DIV] = binary_dtypes[CHORUS_BINARY_POW] = FLOATS;
  OpSchema binary;
  binary.kind = CHORUS_OP_BINARY;
  binary.name = "binary";
  binary.family = "elementwise";
  binary.summary = "out = a OP b (broadcast): add, sub, mul, div, max, min, pow";
  binary.slots = {{"a", Role::input, false, FLOATS_INTS},
                  {"b", Role::input, false, FLOATS_INTS, 0},
                  {"out", Role::output, false, FLOATS_INTS, 0, kAllInputs}};
  binary.attrs_size = sizeof(chorus_binary_attrs);
  binary.attrs = {{"op", CHORUS_ATTR_ENUM, offsetof(chorus_binary_attrs, op), 0,
                   {std::begin(kBinaryNames), std::end(kBinaryNames)}, binary_dtypes,
                   "chorus_binary_op"}};
  binary.variant_attr = 0;
  binary.normalise = broadcast_inputs;
  register_op(std::move(binary));

  OpSchema compare;
  compare.kind = CHORUS_OP_COMPARE;
  compare.name = "compare";
  compare.family = "elementwise";
  compare.summary = "out (u8) = a OP b ? 1 : 0: eq, ne, lt, le, gt, ge";
  compare.slots = {{"a", Role::input},
                   {"b", Role::input, false, kAnyDtype, 0},
                   {"out", Role::output, false, dtype_bit(CHORUS_DTYPE_U8), -1, kAllInputs}};
  compare.attrs_size = sizeof(chorus_compare_attrs);
  compare.attrs = {{"op", CHORUS_ATTR_ENUM, offsetof(chorus_compare_attrs, op), 0,
                    {std::begin(kCompareNames), std::end(kCompareNames)}, {},
                    "chorus_compare_op"}};
  compare.variant_attr = 0;
  compare.normalise = broadcast_inputs;
  register_op(std::move(compare));
}

int32_t raw_enum(const void* value) {
  int32_t v;
  std::memcpy(&v, value, sizeof v);
  return v;
}

}  // namespace

void register_schema() {
  register_copy_fill_where();
  register_math();
}

}  // namespace chorus::ops::elementwise

using chorus::core::run_op;
using chorus::ops::elementwise::kUnary;
using chorus::ops::elementwise::raw_enum;

extern "C" {

CHORUS_API chorus_status chorus_copy(chorus_queue queue, const chorus_tensor* src,
                                     const chorus_tensor* dst) {
  return run_op(queue, CHORUS_OP_COPY, nullptr, {src, dst});
}

CHORUS_API chorus_status chorus_fill(chorus_queue queue, const chorus_tensor* dst, double value) {
  const chorus_fill_attrs attrs{sizeof attrs, 0, value};
  return run_op(queue, CHORUS_OP_FILL, &attrs, {dst});
}

CHORUS_API chorus_status chorus_unary(chorus_queue queue, chorus_unary_op op,
                                      const chorus_tensor* x, const chorus_tensor* y) {
  // The op is copied as an int32: a C caller may pass any value, and the
  // core checks it as an integer (loading it as the enum would be UB).
  chorus_unary_attrs attrs{sizeof attrs, CHORUS_UNARY_NEG, 0, 0};
  std::memcpy(&attrs.op, &op, sizeof attrs.op);
  const int32_t v = raw_enum(&op);
  if (v >= 0 && v < CHORUS_UNARY_COUNT_) {
    attrs.alpha = kUnary[v].alpha;
    attrs.beta = kUnary[v].beta;
  }
  return run_op(queue, CHORUS_OP_UNARY, &attrs, {x, y});
}

CHORUS_API chorus_status chorus_unary_ex(chorus_queue queue, const chorus_unary_attrs* attrs,
                                         const chorus_tensor* x, const chorus_tensor* y) {
  return chorus::core::run_op_with_attrs(queue, CHORUS_OP_UNARY, attrs, "chorus_unary_attrs",
                                         {x, y});
}

CHORUS_API chorus_status chorus_unary_backward(chorus_queue queue,
                                               const chorus_unary_backward_attrs* attrs,
                                               const chorus_tensor* input,
                                               const chorus_tensor* dy, const chorus_tensor* dx) {
  return chorus::core::run_op_with_attrs(queue, CHORUS_OP_UNARY_BACKWARD, attrs,
                                         "chorus_unary_backward_attrs", {input, dy, dx});
}

CHORUS_API chorus_status chorus_clamp(chorus_queue queue, const chorus_tensor* x, double min,
                                      double max, const chorus_tensor* y) {
  const chorus_unary_attrs attrs{sizeof attrs, CHORUS_UNARY_CLAMP, min, max};
  return run_op(queue, CHORUS_OP_UNARY, &attrs, {x, y});
}

CHORUS_API chorus_status chorus_binary(chorus_queue queue, chorus_binary_op op,
                                       const chorus_tensor* a, const chorus_tensor* b,
                                       const chorus_tensor* out) {
  chorus_binary_attrs attrs{sizeof attrs, CHORUS_BINARY_ADD};
  std::memcpy(&attrs.op, &op, sizeof attrs.op);  // as an int32 (see chorus_unary)
  return run_op(queue, CHORUS_OP_BINARY, &attrs, {a, b, out});
}

CHORUS_API chorus_status chorus_compare(chorus_queue queue, chorus_compare_op op,
                                        const chorus_tensor* a, const chorus_tensor* b,
                                        const chorus_tensor* out) {
  chorus_compare_attrs attrs{sizeof attrs, CHORUS_COMPARE_EQ};
  std::memcpy(&attrs.op, &op, sizeof attrs.op);  // as an int32 (see chorus_unary)
  return run_op(queue, CHORUS_OP_COMPARE, &attrs, {a, b, out});
}

CHORUS_API chorus_status chorus_where(chorus_queue queue, const chorus_tensor* condition,
                                      const chorus_tensor* a, const chorus_tensor* b,
                                      const chorus_tensor* out) {
  return run_op(queue, CHORUS_OP_WHERE, nullptr, {condition, a, b, out});
}

}  // extern "C"
