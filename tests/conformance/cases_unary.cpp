// cases_unary.cpp — the twelve unary ops: every float dtype (neg, abs and relu
// also i32 and i64), each through the elementwise sweep, plus every one of
// the 65,536 inputs of f16 and bf16.
#include <cmath>

#include "bounds.hpp"
#include "cases.hpp"

namespace chorus::conformance::detail {
namespace {

struct UnaryInfo {
  chorus_unary_op op;
  const char* name;
};
const UnaryInfo kUnary[] = {
    {CHORUS_UNARY_NEG, "neg"},
    {CHORUS_UNARY_ABS, "abs"},
    {CHORUS_UNARY_EXP, "exp"},
    {CHORUS_UNARY_LOG, "log"},
    {CHORUS_UNARY_SQRT, "sqrt"},
    {CHORUS_UNARY_RSQRT, "rsqrt"},
    {CHORUS_UNARY_TANH, "tanh"},
    {CHORUS_UNARY_SIGMOID, "sigmoid"},
    {CHORUS_UNARY_RELU, "relu"},
    {CHORUS_UNARY_GELU_ERF, "gelu_erf"},
    {CHORUS_UNARY_GELU_TANH, "gelu_tanh"},
    {CHORUS_UNARY_SILU, "silu"},
};

bool exact_class(chorus_unary_op op) {
  return op == CHORUS_UNARY_NEG || op == CHORUS_UNARY_ABS || op == CHORUS_UNARY_RELU;
}

// Inputs over the part of the domain where each function is interesting
// (and, for exp, where its result stays finite in the dtype).
void fill_domain(chorus_unary_op op, HostTensor& t, Rng& rng) {
  const chorus_dtype d = t.dtype;
  const bool f16 = d == CHORUS_DTYPE_F16;
  switch (op) {
    case CHORUS_UNARY_NEG:
    case CHORUS_UNARY_ABS:
    case CHORUS_UNARY_RELU:
      fill_typical(t, rng, 10);
      break;
    case CHORUS_UNARY_EXP:
      if (f16)
        fill_uniform(t, rng, -17, 11);
      else if (d == CHORUS_DTYPE_F64)
        fill_uniform(t, rng, -700, 700);
      else
        fill_uniform(t, rng, -87, 88);
      break;
    case CHORUS_UNARY_LOG:
    case CHORUS_UNARY_SQRT:
    case CHORUS_UNARY_RSQRT:
      if (f16)
        fill_log_uniform(t, rng, -14, 15);
      else
        fill_log_uniform(t, rng, -60, 60);
      break;
    case CHORUS_UNARY_TANH:
      fill_normal(t, rng, 3);
      break;
    case CHORUS_UNARY_SIGMOID:
      fill_normal(t, rng, 8);
      break;
    default:
      fill_normal(t, rng, 4);
      break;  // gelu, silu: the bend around 0 and both tails
  }
}

void add_exhaustive(std::vector<CaseEntry>& cases, const UnaryInfo& u, chorus_dtype d) {
  const std::string dt = dtype_text(d);
  const chorus_unary_op op = u.op;
  add_case(cases, std::string(u.name) + "/" + dt + "/special/65536/exhaustive", u.name, "unary", dt,
           "[256,256]", "special", Tier::ci, [op, d](Rng&) {
             CaseSpec s;
             Operand x;
             x.role = "x";
             x.value = HostTensor(d, {256, 256});
             for (int64_t i = 0; i < 65536; ++i) x.value.set_bits(i, static_cast<uint64_t>(i));
             Operand y;
             y.role = "y";
             y.value = HostTensor(d, {256, 256});
             s.operands = {x, y};
             s.output = 1;
             s.call = [op](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
               return chorus_unary(q, op, t[0], t[1]);
             };
             if (exact_class(op)) {
               s.check = op == CHORUS_UNARY_RELU ? Check::exact : Check::exact_signed;
             } else {
               s.check = Check::bounded;
               s.oracle = OracleKind::wide;
               s.bound = bounds::unary(op);
             }
             // bf16 subnormals are f32 subnormals: flushed under declared FTZ.
             s.subnormal_inputs = d == CHORUS_DTYPE_BF16;
             return s;
           });
}

}  // namespace

void add_unary_cases(std::vector<CaseEntry>& cases) {
  for (const UnaryInfo& u : kUnary) {
    std::vector<chorus_dtype> dtypes = kFloatDtypes;
    if (exact_class(u.op)) {
      dtypes.push_back(CHORUS_DTYPE_I32);
      dtypes.push_back(CHORUS_DTYPE_I64);
    }
    for (const chorus_dtype d : dtypes) {
      const chorus_unary_op op = u.op;
      ElementwiseOp e;
      e.op = u.name;
      e.family = "unary";
      e.dtype_label = dtype_text(d);
      e.inputs = {d};
      e.roles = {"x", "y"};
      e.output = d;
      e.call = [op](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
        return chorus_unary(q, op, t[0], t[1]);
      };
      if (exact_class(op)) {
        // neg and abs are sign operations: the sign of zero is checked.
        e.check = op == CHORUS_UNARY_RELU ? Check::exact : Check::exact_signed;
        e.regular_kind = "exact";
      } else {
        e.check = Check::bounded;
        e.oracle = OracleKind::wide;
        e.bound = [op] { return bounds::unary(op); };
        e.regular_kind = "accuracy";
      }
      e.fill = [op](size_t, HostTensor& t, Rng& rng) { fill_domain(op, t, rng); };
      const std::vector<long double> specials = special_values(d);
      e.special_count = static_cast<int64_t>(specials.size());
      e.fill_special = [specials](std::vector<HostTensor>& in) { fill_list(in[0], specials); };
      e.in_place_input = 0;
      const bool smoke =
          (d == CHORUS_DTYPE_F32 &&
           (op == CHORUS_UNARY_EXP || op == CHORUS_UNARY_NEG || op == CHORUS_UNARY_GELU_ERF)) ||
          (d == CHORUS_DTYPE_F16 && op == CHORUS_UNARY_TANH);
      e.smoke_tier = smoke ? Tier::smoke : Tier::ci;
      add_elementwise_sweep(cases, e);
      if (is_16bit_float(d)) add_exhaustive(cases, u, d);
    }
  }
}

}  // namespace chorus::conformance::detail
