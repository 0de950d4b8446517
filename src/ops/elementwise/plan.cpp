// plan.cpp — the elementwise family on the run-time-compiled backends
// (OpenCL, CUDA, HIP): copy, fill, unary, binary, compare and where as
// launches of elementwise.cl, and the raw byte copies and fills of the
// vtable's buffer_copy and buffer_fill. libchorus hands every tensor with
// the output's rank and shape, broadcasts as stride 0 and the axes already
// collapsed (backend.h), so one run of stride-1 operands is the vectorised
// <op>_contig kernel and anything else the 3-D <op>_strided one.
//
// The unary kernels' names are unary_table.h's name column, the binary and
// compare ones binary_table.h's: the very rows elementwise.cl generates its
// kernels from.
#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>

#include "common/numeric.hpp"
#include "elementwise/unary_grad_rows.hpp"
#include "plan_kit.hpp"

namespace chorus::ops::elementwise {
namespace {

using namespace chorus::backend_common;

// ---------------------------------------------------------------- tables

struct Row {
  const char* name;
  bool ints;  // integers have the op too
};

#define FLOATS false
#define FLOATS_INTS true
#define UNARY_OP(NAME, name, DTYPES, ...) {#name, DTYPES},
constexpr Row kUnary[] = {
#include "elementwise/unary_table.h"
};
#undef UNARY_OP
#define BINARY_OP(NAME, name, DTYPES, ...) {#name, DTYPES},
constexpr Row kBinary[] = {
#include "elementwise/binary_table.h"
};
#undef BINARY_OP
#undef FLOATS
#undef FLOATS_INTS
#define COMPARE_OP(NAME, name, REL) #name,
constexpr const char* kCompare[] = {
#include "elementwise/binary_table.h"
};
#undef COMPARE_OP

// The rows are in enum order: row i is op i.
#define UNARY_OP(NAME, ...) CHORUS_UNARY_##NAME,
constexpr int kUnaryOrder[] = {
#include "elementwise/unary_table.h"
};
#undef UNARY_OP
#define BINARY_OP(NAME, ...) CHORUS_BINARY_##NAME,
constexpr int kBinaryOrder[] = {
#include "elementwise/binary_table.h"
};
#undef BINARY_OP
#define COMPARE_OP(NAME, ...) CHORUS_COMPARE_##NAME,
constexpr int kCompareOrder[] = {
#include "elementwise/binary_table.h"
};
#undef COMPARE_OP

template <size_t N>
constexpr bool in_enum_order(const int (&order)[N]) {
  for (size_t i = 0; i < N; ++i)
    if (order[i] != static_cast<int>(i)) return false;
  return true;
}
static_assert(std::size(kUnary) == CHORUS_UNARY_COUNT_, "a unary_table.h row per unary op");
static_assert(std::size(kBinary) == CHORUS_BINARY_COUNT_, "a binary_table.h row per binary op");
static_assert(std::size(kCompare) == CHORUS_COMPARE_COUNT_, "a compare row per compare op");
static_assert(in_enum_order(kUnaryOrder) && in_enum_order(kBinaryOrder) &&
              in_enum_order(kCompareOrder));

// ---------------------------------------------------------------- launches

// One elementwise launch over operands (slot order: operand t is tensor
// slot t, the output last); `per_item` elements per work-item in the
// contiguous kernel (VW for the vectorised ones, 1 for the rest). With
// `patch`, each execution's offsets go into the argument block; without,
// the operands' own offsets are the plan's (buffer copies and fills).
Launch elementwise_launch(const DeviceTraits& traits, ProgramSpec prog, const std::string& stem,
                          const Tensor* const* operands, int count, int per_item, bool patch,
                          const ck_elementwise& extra = ck_elementwise{}) {
  bool contiguous = false;
  const ck_elementwise a = elementwise_args(operands, count, extra, &contiguous);
  Launch l;
  l.program = std::move(prog);
  const uint64_t group = static_cast<uint64_t>(traits.tuning.elementwise_local);
  if (contiguous) {
    l.kernel = stem + "_contig";
    linear_grid(traits.tuning, (static_cast<uint64_t>(a.count) + per_item - 1) / per_item, &l);
  } else {
    l.kernel = stem + "_strided";
    l.dims = 3;
    const uint64_t last = static_cast<uint64_t>(a.shape[a.rank - 1]);
    const uint64_t next = a.rank >= 2 ? static_cast<uint64_t>(a.shape[a.rank - 2]) : 1;
    l.local[0] = std::min(group, pow2_ceil(last));
    l.local[1] = std::min(group / l.local[0], pow2_ceil(next));
    l.local[2] = 1;
    l.global[0] = round_up(last, l.local[0]);
    l.global[1] = round_up(next, l.local[1]);
    l.global[2] = static_cast<uint64_t>(a.outer);
  }
  for (int t = 0; t < count; ++t) l.args.push_back(buffer_arg(t));
  l.args.push_back(bytes_arg(a));
  if (patch)
    for (int t = 0; t < count; ++t)
      patch_offset(l, count, offsetof(ck_elementwise, offset) + 8 * t, t);
  return l;
}

ProgramSpec bits_program(const DeviceTraits& traits, int size, int* vw) {
  // 64-byte vectors on a 16-lane tuning, whatever the element size.
  *vw = std::clamp(traits.tuning.elementwise_vw * 4 / size, 1, 16);
  ProgramSpec p = program(traits, std::string("bits ") + bits_type(size), "elementwise.cl", *vw);
  p.defines.push_back({"EW_BITS", "1"});
  p.defines.push_back({"BITS", bits_type(size)});
  return p;
}

// ---------------------------------------------------------------- planners

chorus_status plan_copy(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                        std::string* why) {
  if (const chorus_status s = check_record(op, 2, 0, why)) return s;
  const Tensor* ops[2] = {&op.tensors[0], &op.tensors[1]};
  const Tensor& src = *ops[0];
  const Tensor& dst = *ops[1];
  if (src.dtype == dst.dtype) {
    int vw = 1;
    ProgramSpec p = bits_program(traits, dtype_size(dst.dtype), &vw);
    plan->launches.push_back(elementwise_launch(traits, std::move(p), "copy_bits", ops, 2, vw, true));
    return CHORUS_OK;
  }
  ProgramSpec p = program(
      traits, std::string("convert ") + dtype_name(src.dtype) + " to " + dtype_name(dst.dtype),
      "elementwise.cl", 1);
  p.defines.push_back({"EW_CONVERT", "1"});
  p.defines.push_back({"SRC", dtype_name(src.dtype)});
  p.defines.push_back({"DST", dtype_name(dst.dtype)});
  plan->launches.push_back(elementwise_launch(traits, std::move(p), "convert", ops, 2, 1, true));
  return CHORUS_OK;
}

chorus_status plan_fill(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                        std::string* why) {
  if (const chorus_status s = check_record(op, 1, sizeof(chorus_fill_attrs), why)) return s;
  const Tensor* ops[1] = {&op.tensors[0]};
  // The value is converted once, on the host, by the very code the
  // reference uses, and the kernel writes its bits.
  uint64_t bits = 0;
  numeric::store(&bits, ops[0]->dtype, 0,
                 static_cast<long double>(attrs_of<chorus_fill_attrs>(op).value));
  ck_elementwise extra{};
  extra.value = static_cast<int64_t>(bits);
  int vw = 1;
  plan->launches.push_back(elementwise_launch(
      traits, bits_program(traits, dtype_size(ops[0]->dtype), &vw), "fill", ops, 1, 1, true, extra));
  return CHORUS_OK;
}

chorus_status plan_where(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                         std::string* why) {
  if (const chorus_status s = check_record(op, 4, 0, why)) return s;
  const Tensor* ops[4] = {&op.tensors[0], &op.tensors[1], &op.tensors[2], &op.tensors[3]};
  int vw = 1;
  plan->launches.push_back(elementwise_launch(
      traits, bits_program(traits, dtype_size(ops[3]->dtype), &vw), "where", ops, 4, 1, true));
  return CHORUS_OK;
}

// The parameter in a unary program's compute type, as the bits
// ck_elementwise.param carries (elementwise.cl's UNARY_PARAM).
int64_t unary_param(chorus_dtype d, double value) {
  if (is_int(d)) return numeric::saturate_to_int<int64_t>(value);
  if (d == CHORUS_DTYPE_F64) {
    int64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
  }
  const float f = static_cast<float>(value);
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

chorus_status plan_unary(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                         std::string* why) {
  if (const chorus_status s = check_record(op, 2, sizeof(chorus_unary_attrs), why)) return s;
  const auto attrs = attrs_of<chorus_unary_attrs>(op);
  const Tensor* ops[2] = {&op.tensors[0], &op.tensors[1]};
  const chorus_dtype d = ops[1]->dtype;
  const int u = static_cast<int>(attrs.op);
  if (u < 0 || u >= CHORUS_UNARY_COUNT_) {
    *why = "unary op " + std::to_string(u) + " is not one this backend knows";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  if ((is_int(d) && !kUnary[u].ints) || d == CHORUS_DTYPE_U8) {
    *why = std::string("unary ") + kUnary[u].name + " has no kernel for " + dtype_name(d);
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const int vw = compute_vw(traits.tuning, d);
  ProgramSpec p = program(traits, std::string("unary ") + dtype_name(d), "elementwise.cl", vw);
  p.defines.push_back({"EW_UNARY", "1"});
  define_dtype(p, d);
  ck_elementwise extra{};
  extra.param[0] = unary_param(d, attrs.alpha);
  extra.param[1] = unary_param(d, attrs.beta);
  plan->launches.push_back(elementwise_launch(
      traits, std::move(p), std::string("unary_") + kUnary[u].name, ops, 2, vw, true, extra));
  return CHORUS_OK;
}

chorus_status plan_unary_backward(const chorus_op_record& op, const DeviceTraits& traits,
                                  Plan* plan, std::string* why) {
  if (const chorus_status s = check_record(op, 3, sizeof(chorus_unary_backward_attrs), why))
    return s;
  const auto attrs = attrs_of<chorus_unary_backward_attrs>(op);
  const Tensor* ops[3] = {&op.tensors[0], &op.tensors[1], &op.tensors[2]};
  const chorus_dtype d = ops[2]->dtype;
  const GradRow* g = grad_row(static_cast<int>(attrs.op));
  if (!g || (attrs.from_output && g->from_y == GradFromY::none)) {
    *why = "unary_backward op " + std::to_string(static_cast<int>(attrs.op)) +
           (attrs.from_output ? " from y" : "") + " is not one this backend knows";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  if (is_int(d)) {
    *why = std::string("unary_backward has no kernel for ") + dtype_name(d);
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const int vw = compute_vw(traits.tuning, d);
  ProgramSpec p =
      program(traits, std::string("unary_backward ") + dtype_name(d), "elementwise.cl", vw);
  p.defines.push_back({"EW_UNARY_GRAD", "1"});
  define_dtype(p, d);
  ck_elementwise extra{};
  extra.param[0] = unary_param(d, attrs.alpha);
  extra.param[1] = unary_param(d, attrs.beta);
  plan->launches.push_back(elementwise_launch(
      traits, std::move(p),
      std::string("unary_grad_") + g->name + (attrs.from_output ? "_y" : "_x"), ops, 3, vw, true,
      extra));
  return CHORUS_OK;
}

chorus_status plan_binary(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                          std::string* why) {
  if (const chorus_status s = check_record(op, 3, sizeof(chorus_binary_attrs), why)) return s;
  const int b = static_cast<int>(attrs_of<chorus_binary_attrs>(op).op);
  const Tensor* ops[3] = {&op.tensors[0], &op.tensors[1], &op.tensors[2]};
  const chorus_dtype d = ops[2]->dtype;
  if (b < 0 || b >= CHORUS_BINARY_COUNT_) {
    *why = "binary op " + std::to_string(b) + " is not one this backend knows";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  if ((is_int(d) && !kBinary[b].ints) || d == CHORUS_DTYPE_U8) {
    *why = std::string("binary ") + kBinary[b].name + " has no kernel for " + dtype_name(d);
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const int vw = compute_vw(traits.tuning, d);
  ProgramSpec p = program(traits, std::string("binary ") + dtype_name(d), "elementwise.cl", vw);
  p.defines.push_back({"EW_BINARY", "1"});
  define_dtype(p, d);
  plan->launches.push_back(elementwise_launch(
      traits, std::move(p), std::string("binary_") + kBinary[b].name, ops, 3, vw, true));
  return CHORUS_OK;
}

chorus_status plan_compare(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                           std::string* why) {
  if (const chorus_status s = check_record(op, 3, sizeof(chorus_compare_attrs), why)) return s;
  const int c = static_cast<int>(attrs_of<chorus_compare_attrs>(op).op);
  if (c < 0 || c >= CHORUS_COMPARE_COUNT_) {
    *why = "compare op " + std::to_string(c) + " is not one this backend knows";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const Tensor* ops[3] = {&op.tensors[0], &op.tensors[1], &op.tensors[2]};
  ProgramSpec p =
      program(traits, std::string("compare ") + dtype_name(ops[0]->dtype), "elementwise.cl", 1);
  p.defines.push_back({"EW_COMPARE", "1"});
  define_dtype(p, ops[0]->dtype);
  plan->launches.push_back(elementwise_launch(
      traits, std::move(p), std::string("compare_") + kCompare[c], ops, 3, 1, true));
  return CHORUS_OK;
}

// ------------------------------------------------ raw byte copies and fills

chorus_status plan_bytes_copy(const DeviceTraits& traits, uint64_t src_offset, uint64_t dst_offset,
                              uint64_t bytes, Plan* plan) {
  int size = 8;
  while (size > 1 && ((src_offset | dst_offset | bytes) % static_cast<uint64_t>(size)) != 0)
    size /= 2;
  Tensor src{}, dst{};
  src.rank = dst.rank = 1;
  src.shape[0] = dst.shape[0] = static_cast<int64_t>(bytes / size);
  src.strides[0] = dst.strides[0] = 1;
  src.offset = static_cast<int64_t>(src_offset / size);
  dst.offset = static_cast<int64_t>(dst_offset / size);
  const Tensor* ops[2] = {&src, &dst};
  int vw = 1;
  ProgramSpec p = bits_program(traits, size, &vw);
  plan->launches.push_back(elementwise_launch(traits, std::move(p), "copy_bits", ops, 2, vw, false));
  return CHORUS_OK;
}

chorus_status plan_bytes_fill(const DeviceTraits& traits, uint64_t offset, uint64_t bytes,
                              const void* pattern, uint32_t pattern_size, Plan* plan) {
  Tensor dst{};
  dst.rank = 1;
  dst.shape[0] = static_cast<int64_t>(bytes / pattern_size);
  dst.strides[0] = 1;
  dst.offset = static_cast<int64_t>(offset / pattern_size);
  uint64_t value = 0;
  std::memcpy(&value, pattern, pattern_size);
  const Tensor* ops[1] = {&dst};
  ck_elementwise extra{};
  extra.value = static_cast<int64_t>(value);
  int vw = 1;
  plan->launches.push_back(elementwise_launch(
      traits, bits_program(traits, static_cast<int>(pattern_size), &vw), "fill", ops, 1, 1, false,
      extra));
  return CHORUS_OK;
}

// ---------------------------------------------------------------- variants

// Every elementwise program: each op and dtype over a contiguous run and
// over a transposed view (the two kernels of each program).
void variants(std::vector<VariantOp>* out) {
  enum Layout { contiguous_run, transposed };
  const auto view = [](Layout l, chorus_dtype d) {
    return l == transposed ? tensor_of(d, {8, 16}, {1, 8}) : tensor_of(d, {128}, {1});
  };
  // The output of a transposed case is an ordinary [8, 16].
  const auto out_view = [](Layout l, chorus_dtype d) {
    return l == transposed ? tensor_of(d, {8, 16}, {16, 1}) : tensor_of(d, {128}, {1});
  };
  for (Layout l : {contiguous_run, transposed}) {
    for (chorus_dtype s : all_dtypes())
      for (chorus_dtype d : all_dtypes())
        out->push_back(variant(CHORUS_OP_COPY, {view(l, s), out_view(l, d)}));
    for (chorus_dtype d : all_dtypes()) {
      chorus_fill_attrs fill{};
      fill.value = 1;
      out->push_back(variant(CHORUS_OP_FILL, fill, {out_view(l, d)}));
      for (int c = 0; c < CHORUS_COMPARE_COUNT_; ++c) {
        chorus_compare_attrs a{};
        a.op = static_cast<chorus_compare_op>(c);
        out->push_back(variant(CHORUS_OP_COMPARE, a,
                               {view(l, d), view(l, d), out_view(l, CHORUS_DTYPE_U8)}));
      }
      out->push_back(variant(CHORUS_OP_WHERE, {view(l, CHORUS_DTYPE_U8), view(l, d), view(l, d),
                                               out_view(l, d)}));
      if (d == CHORUS_DTYPE_U8) continue;  // masks take no math
      for (int u = 0; u < CHORUS_UNARY_COUNT_; ++u) {
        if (is_int(d) && !kUnary[u].ints) continue;
        chorus_unary_attrs a{};
        a.op = static_cast<chorus_unary_op>(u);
        out->push_back(variant(CHORUS_OP_UNARY, a, {view(l, d), out_view(l, d)}));
      }
      if (!is_int(d))
        for (const GradRow& g : kGradRows)
          for (int from_y = 0; from_y <= (g.from_y != GradFromY::none ? 1 : 0); ++from_y) {
            chorus_unary_backward_attrs a{};
            a.op = static_cast<chorus_unary_op>(g.op);
            a.from_output = from_y;
            a.alpha = 1;
            out->push_back(variant(CHORUS_OP_UNARY_BACKWARD, a,
                                   {view(l, d), view(l, d), out_view(l, d)}));
          }
      for (int b = 0; b < CHORUS_BINARY_COUNT_; ++b) {
        if (is_int(d) && !kBinary[b].ints) continue;
        chorus_binary_attrs a{};
        a.op = static_cast<chorus_binary_op>(b);
        out->push_back(variant(CHORUS_OP_BINARY, a, {view(l, d), view(l, d), out_view(l, d)}));
      }
    }
  }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_COPY, plan_copy);
  register_planner(CHORUS_OP_FILL, plan_fill);
  register_planner(CHORUS_OP_UNARY, plan_unary);
  register_planner(CHORUS_OP_UNARY_BACKWARD, plan_unary_backward);
  register_planner(CHORUS_OP_BINARY, plan_binary);
  register_planner(CHORUS_OP_COMPARE, plan_compare);
  register_planner(CHORUS_OP_WHERE, plan_where);
  register_buffer_planners(plan_bytes_copy, plan_bytes_fill);
  register_variants(variants);
}

}  // namespace chorus::ops::elementwise
