// op_plan.cpp — see op_plan.hpp. The layout work that every backend would
// otherwise repeat: collapsing axes so that contiguous tensors become one
// run (the vectorised kernels) and views become as few strided axes as
// possible, splitting row ops into outer (which row) and inner (within a
// row) axes, choosing two-stage reductions for few long rows, and sizing
// GEMM's packing buffers and grid from the tuning table.
#include "op_plan.hpp"

#include <algorithm>
#include <cstring>

#include "common/numeric.hpp"

#define CK_I64 int64_t
#include "kernels/args.h"

namespace chorus::backend_common {
namespace {

using Tensor = chorus_backend_tensor;

const char* dtype_name(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_F32:
      return "f32";
    case CHORUS_DTYPE_F16:
      return "f16";
    case CHORUS_DTYPE_BF16:
      return "bf16";
    case CHORUS_DTYPE_F64:
      return "f64";
    case CHORUS_DTYPE_I32:
      return "i32";
    case CHORUS_DTYPE_I64:
      return "i64";
    case CHORUS_DTYPE_U8:
      return "u8";
    default:
      return "invalid";
  }
}

// Not chorus_dtype_size(): plugins must not depend on libchorus's symbols
// (an application may load libchorus with RTLD_LOCAL).
int dtype_size(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_F16:
    case CHORUS_DTYPE_BF16:
      return 2;
    case CHORUS_DTYPE_F32:
    case CHORUS_DTYPE_I32:
      return 4;
    case CHORUS_DTYPE_F64:
    case CHORUS_DTYPE_I64:
      return 8;
    default:
      return 1;
  }
}
bool is_int(chorus_dtype d) {
  return numeric::is_integer(d);
}

const char* bits_type(int size) {
  switch (size) {
    case 1:
      return "U8";
    case 2:
      return "U16";
    case 4:
      return "U32";
    default:
      return "U64";
  }
}

uint64_t round_up(uint64_t v, uint64_t to) {
  return (v + to - 1) / to * to;
}
uint64_t pow2_ceil(uint64_t v) {
  uint64_t p = 1;
  while (p < v) p *= 2;
  return p;
}

template <typename T>
KernelArg bytes_arg(const T& value) {
  KernelArg a;
  a.kind = KernelArg::Kind::bytes;
  a.bytes.resize(sizeof(T));
  std::memcpy(a.bytes.data(), &value, sizeof(T));
  return a;
}
KernelArg buffer_arg(int slot) {
  KernelArg a;
  a.kind = KernelArg::Kind::buffer;
  a.index = slot;
  return a;
}
KernelArg scratch_arg(int which) {
  KernelArg a;
  a.kind = KernelArg::Kind::scratch;
  a.index = which;
  return a;
}
KernelArg null_arg() {
  KernelArg a;
  a.kind = KernelArg::Kind::null_buffer;
  return a;
}

// Definitions every program gets.
ProgramSpec program(const DeviceTraits& traits, std::string label, std::string file, int vw) {
  ProgramSpec p;
  p.label = std::move(label);
  p.files = common_kernel_files();
  p.files.push_back(std::move(file));
  p.defines.push_back({"VW", std::to_string(vw)});
  p.defines.push_back({"HAS_FP64", traits.has_fp64 ? "1" : "0"});
  return p;
}

// DT and its class flags, for programs over one dtype.
void define_dtype(ProgramSpec& p, chorus_dtype d) {
  p.defines.push_back({"DT", dtype_name(d)});
  if (is_int(d)) p.defines.push_back({"DT_IS_INT", "1"});
  if (d == CHORUS_DTYPE_F64) p.defines.push_back({"DT_IS_F64", "1"});
  if (d == CHORUS_DTYPE_U8) p.defines.push_back({"DT_IS_U8", "1"});
}

// The vector width for contiguous data of a dtype: the tuning's width for
// 4-byte lanes, halved for 8-byte lanes (so a vector is the same number of
// bytes), 1 for integer math.
int compute_vw(const Tuning& t, chorus_dtype d) {
  if (is_int(d)) return 1;
  if (d == CHORUS_DTYPE_F64) return std::max(1, t.elementwise_vw / 2);
  return t.elementwise_vw;
}
int row_vw(const Tuning& t, chorus_dtype d) {
  if (is_int(d)) return 1;
  if (d == CHORUS_DTYPE_F64) return std::max(1, t.row_vw / 2);
  return t.row_vw;
}

// ------------------------------------------------------------ elementwise

// Axes of an elementwise op after dropping extent-1 axes and merging
// neighbours that every operand walks as one run.
struct Collapsed {
  int rank = 0;
  int64_t shape[CHORUS_MAX_RANK] = {};
  int64_t strides[CK_MAX_OPERANDS][CHORUS_MAX_RANK] = {};
};

Collapsed collapse(const Tensor* const* operands, int count) {
  const Tensor& out = *operands[count - 1];
  Collapsed c;
  for (uint32_t axis = 0; axis < out.rank; ++axis) {
    if (out.shape[axis] == 1) continue;
    bool merge = c.rank > 0;
    for (int t = 0; t < count && merge; ++t)
      if (c.strides[t][c.rank - 1] != operands[t]->strides[axis] * out.shape[axis]) merge = false;
    if (merge) {
      c.shape[c.rank - 1] *= out.shape[axis];
      for (int t = 0; t < count; ++t) c.strides[t][c.rank - 1] = operands[t]->strides[axis];
    } else {
      c.shape[c.rank] = out.shape[axis];
      for (int t = 0; t < count; ++t) c.strides[t][c.rank] = operands[t]->strides[axis];
      ++c.rank;
    }
  }
  if (c.rank == 0) {  // a single element
    c.rank = 1;
    c.shape[0] = 1;
    for (int t = 0; t < count; ++t) c.strides[t][0] = 1;
  }
  return c;
}

bool contiguous(const Collapsed& c, int count) {
  if (c.rank != 1) return false;
  for (int t = 0; t < count; ++t)
    if (c.strides[t][0] != 1 && c.shape[0] != 1) return false;
  return true;
}

// One elementwise launch: `per_item` elements per work-item in the
// contiguous kernel (VW for the vectorised ones, 1 for the rest).
Launch elementwise_launch(const DeviceTraits& traits, ProgramSpec prog, const std::string& stem,
                          const Tensor* const* operands, const int* slots, int count, int per_item,
                          int64_t value) {
  const Collapsed c = collapse(operands, count);
  ck_elementwise a{};
  a.rank = c.rank;
  a.count = 1;
  for (int i = 0; i < c.rank; ++i) {
    a.shape[i] = c.shape[i];
    a.count *= c.shape[i];
  }
  a.outer = 1;
  for (int i = 0; i + 2 < c.rank; ++i) a.outer *= c.shape[i];
  a.value = value;
  for (int t = 0; t < count; ++t) {
    a.offset[t] = operands[t]->offset;
    for (int i = 0; i < c.rank; ++i) a.strides[t][i] = c.strides[t][i];
  }
  Launch l;
  l.program = std::move(prog);
  const uint64_t group = static_cast<uint64_t>(traits.tuning.elementwise_local);
  if (contiguous(c, count)) {
    l.kernel = stem + "_contig";
    l.dims = 1;
    const uint64_t items = (static_cast<uint64_t>(a.count) + per_item - 1) / per_item;
    l.local[0] = group;
    l.global[0] = round_up(items, group);
  } else {
    l.kernel = stem + "_strided";
    l.dims = 3;
    const uint64_t last = static_cast<uint64_t>(c.shape[c.rank - 1]);
    const uint64_t next = c.rank >= 2 ? static_cast<uint64_t>(c.shape[c.rank - 2]) : 1;
    l.local[0] = std::min(group, pow2_ceil(last));
    l.local[1] = std::min(group / l.local[0], pow2_ceil(next));
    l.local[2] = 1;
    l.global[0] = round_up(last, l.local[0]);
    l.global[1] = round_up(next, l.local[1]);
    l.global[2] = static_cast<uint64_t>(a.outer);
  }
  for (int t = 0; t < count; ++t) l.args.push_back(buffer_arg(slots[t]));
  l.args.push_back(bytes_arg(a));
  return l;
}

const char* unary_name(int op) {
  static const char* names[] = {"neg",  "abs",     "exp",  "log",      "sqrt",      "rsqrt",
                                "tanh", "sigmoid", "relu", "gelu_erf", "gelu_tanh", "silu"};
  return op >= 0 && op < CHORUS_UNARY_COUNT_ ? names[op] : nullptr;
}
const char* binary_name(int op) {
  static const char* names[] = {"add", "sub", "mul", "div", "max", "min", "pow"};
  return op >= 0 && op < CHORUS_BINARY_COUNT_ ? names[op] : nullptr;
}
const char* compare_name(int op) {
  static const char* names[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  return op >= 0 && op < CHORUS_COMPARE_COUNT_ ? names[op] : nullptr;
}

ProgramSpec bits_program(const DeviceTraits& traits, int size) {
  // 64-byte vectors on a 16-lane tuning, whatever the element size.
  const int vw = std::clamp(traits.tuning.elementwise_vw * 4 / size, 1, 16);
  ProgramSpec p = program(traits, std::string("bits ") + bits_type(size), "elementwise.cl", vw);
  p.defines.push_back({"EW_BITS", "1"});
  p.defines.push_back({"BITS", bits_type(size)});
  return p;
}

int bits_vw(const ProgramSpec& p) {
  return std::stoi(p.defines[0].second);
}

chorus_status plan_elementwise(const chorus_op_desc& d, const DeviceTraits& traits, Plan* plan,
                               std::string* why) {
  const Tensor* ops[CK_MAX_OPERANDS];
  int slots[CK_MAX_OPERANDS];
  const uint32_t count = d.kind == CHORUS_OP_FILL                                ? 1
                         : d.kind == CHORUS_OP_COPY || d.kind == CHORUS_OP_UNARY ? 2
                         : d.kind == CHORUS_OP_WHERE                             ? 4
                                                                                 : 3;
  for (uint32_t i = 0; i < count; ++i) {
    ops[i] = &d.tensors[i];
    slots[i] = static_cast<int>(i);
  }
  const Tensor& out = *ops[count - 1];
  switch (d.kind) {
    case CHORUS_OP_COPY: {
      const Tensor& src = *ops[0];
      if (src.dtype == out.dtype) {
        ProgramSpec p = bits_program(traits, dtype_size(out.dtype));
        const int vw = bits_vw(p);
        plan->launches.push_back(
            elementwise_launch(traits, std::move(p), "copy_bits", ops, slots, 2, vw, 0));
      } else {
        ProgramSpec p = program(
            traits,
            std::string("convert ") + dtype_name(src.dtype) + " to " + dtype_name(out.dtype),
            "elementwise.cl", 1);
        p.defines.push_back({"EW_CONVERT", "1"});
        p.defines.push_back({"SRC", dtype_name(src.dtype)});
        p.defines.push_back({"DST", dtype_name(out.dtype)});
        plan->launches.push_back(
            elementwise_launch(traits, std::move(p), "convert", ops, slots, 2, 1, 0));
      }
      return CHORUS_OK;
    }
    case CHORUS_OP_FILL: {
      // The value is converted once, on the host, by the very code the
      // reference uses, and the kernel writes its bits.
      uint64_t bits = 0;
      numeric::store(&bits, out.dtype, 0, static_cast<long double>(d.value));
      plan->launches.push_back(
          elementwise_launch(traits, bits_program(traits, dtype_size(out.dtype)), "fill", ops,
                             slots, 1, 1, static_cast<int64_t>(bits)));
      return CHORUS_OK;
    }
    case CHORUS_OP_WHERE: {
      plan->launches.push_back(elementwise_launch(
          traits, bits_program(traits, dtype_size(out.dtype)), "where", ops, slots, 4, 1, 0));
      return CHORUS_OK;
    }
    case CHORUS_OP_UNARY:
    case CHORUS_OP_BINARY: {
      const bool unary = d.kind == CHORUS_OP_UNARY;
      const char* name = unary ? unary_name(d.subop) : binary_name(d.subop);
      if (!name) {
        *why = std::string(unary ? "unary" : "binary") + " subop " + std::to_string(d.subop) +
               " is unknown";
        return CHORUS_ERROR_INVALID_ARGUMENT;
      }
      if (is_int(out.dtype)) {
        const bool allowed = unary ? (d.subop == CHORUS_UNARY_NEG || d.subop == CHORUS_UNARY_ABS ||
                                      d.subop == CHORUS_UNARY_RELU)
                                   : (d.subop != CHORUS_BINARY_DIV && d.subop != CHORUS_BINARY_POW);
        if (!allowed) {
          *why = std::string(name) + " needs a float dtype, got " + dtype_name(out.dtype);
          return CHORUS_ERROR_INVALID_ARGUMENT;
        }
      }
      const int vw = compute_vw(traits.tuning, out.dtype);
      ProgramSpec p =
          program(traits, std::string(unary ? "unary " : "binary ") + dtype_name(out.dtype),
                  "elementwise.cl", vw);
      p.defines.push_back({unary ? "EW_UNARY" : "EW_BINARY", "1"});
      define_dtype(p, out.dtype);
      plan->launches.push_back(elementwise_launch(traits, std::move(p),
                                                  std::string(unary ? "unary_" : "binary_") + name,
                                                  ops, slots, static_cast<int>(count), vw, 0));
      return CHORUS_OK;
    }
    case CHORUS_OP_COMPARE: {
      const char* name = compare_name(d.subop);
      if (!name) {
        *why = "compare subop " + std::to_string(d.subop) + " is unknown";
        return CHORUS_ERROR_INVALID_ARGUMENT;
      }
      ProgramSpec p =
          program(traits, std::string("compare ") + dtype_name(ops[0]->dtype), "elementwise.cl", 1);
      p.defines.push_back({"EW_COMPARE", "1"});
      define_dtype(p, ops[0]->dtype);
      plan->launches.push_back(elementwise_launch(
          traits, std::move(p), std::string("compare_") + name, ops, slots, 3, 1, 0));
      return CHORUS_OK;
    }
    default:
      break;
  }
  *why = "not an elementwise op";
  return CHORUS_ERROR_INTERNAL;
}

// ------------------------------------------------------------------ rows

// Merges the axes [first, last) of the given operands (the first operand's
// shape decides extents) the way collapse() does; returns the rank.
int merge_axes(const Tensor* const* operands, int count, uint32_t first, uint32_t last,
               int64_t* shape, int64_t (*strides)[CK_MAX_RANK]) {
  const Tensor& ref = *operands[0];
  int rank = 0;
  for (uint32_t axis = first; axis < last; ++axis) {
    if (ref.shape[axis] == 1) continue;
    bool merge = rank > 0;
    for (int t = 0; t < count && merge; ++t)
      if (strides[t][rank - 1] != operands[t]->strides[axis] * ref.shape[axis]) merge = false;
    if (merge) {
      shape[rank - 1] *= ref.shape[axis];
      for (int t = 0; t < count; ++t) strides[t][rank - 1] = operands[t]->strides[axis];
    } else {
      shape[rank] = ref.shape[axis];
      for (int t = 0; t < count; ++t) strides[t][rank] = operands[t]->strides[axis];
      ++rank;
    }
  }
  return rank;
}

struct RowLayout {
  ck_rows args{};
  int layout = 1;  // ROW_CONTIG, ROW_STRIDED, ROW_GENERIC
};

// x's last `inner` axes form a row; the axes before them pick the row.
// operands[0] is x; the others share its outer axes (outputs of a reduction
// have extent 1 on the inner axes, which they never walk). inner_operands
// of them walk the row (x alone for reductions; x, y, gamma, beta for
// norms).
RowLayout row_layout(const Tensor* const* operands, int count, uint32_t inner, int inner_operands) {
  const Tensor& x = *operands[0];
  RowLayout r;
  ck_rows& a = r.args;
  const uint32_t split = x.rank - inner;
  a.outer_rank = merge_axes(operands, count, 0, split, a.outer_shape, a.outer_strides);
  a.inner_rank =
      merge_axes(operands, inner_operands, split, x.rank, a.inner_shape, a.inner_strides);
  a.rows = 1;
  for (int i = 0; i < a.outer_rank; ++i) a.rows *= a.outer_shape[i];
  a.n = 1;
  for (int i = 0; i < a.inner_rank; ++i) a.n *= a.inner_shape[i];
  if (a.inner_rank == 0) {  // a row of one element
    a.inner_rank = 1;
    a.inner_shape[0] = 1;
    for (int t = 0; t < inner_operands; ++t) a.inner_strides[t][0] = 1;
  }
  for (int t = 0; t < count; ++t) a.offset[t] = operands[t]->offset;
  r.layout = 1;
  if (a.inner_rank > 1) {
    r.layout = 3;
  } else {
    for (int t = 0; t < inner_operands; ++t)
      if (a.inner_strides[t][0] != 1) r.layout = 2;
  }
  a.chunk = a.n;
  a.chunks = 1;
  return r;
}

ProgramSpec row_program(const DeviceTraits& traits, const char* family, const char* file,
                        chorus_dtype dtype, int layout) {
  const Tuning& t = traits.tuning;
  ProgramSpec p =
      program(traits, std::string(family) + " " + dtype_name(dtype), file, row_vw(t, dtype));
  p.files.insert(p.files.end() - 1, "rows.h");
  define_dtype(p, dtype);
  p.defines.push_back({"ROW_LAYOUT", std::to_string(layout)});
  p.defines.push_back({"ROW_THREADS", std::to_string(t.row_threads)});
  p.defines.push_back({"RPG", std::to_string(t.rows_per_group)});
  return p;
}

// Grid of a row kernel: dim 0 ROW_THREADS x chunks, dim 1 the rows.
void row_grid(const Tuning& t, const ck_rows& a, Launch* l) {
  l->dims = 2;
  l->local[0] = static_cast<uint64_t>(t.row_threads);
  l->local[1] = static_cast<uint64_t>(t.rows_per_group);
  l->global[0] = l->local[0] * static_cast<uint64_t>(a.chunks);
  l->global[1] = round_up(static_cast<uint64_t>(a.rows), l->local[1]);
}

// Few long rows: split each into chunks so every compute unit has work;
// the partial results are combined by a second kernel in chunk order.
void choose_chunks(const Tuning& t, ck_rows* a, int vw) {
  const int64_t wanted_groups = 64;
  const int64_t min_chunk = 16384;
  if (a->rows >= wanted_groups || a->n < 2 * min_chunk) return;
  int64_t chunks = std::min<int64_t>((wanted_groups + a->rows - 1) / a->rows, a->n / min_chunk);
  chunks = std::min<int64_t>(chunks, 1024);
  if (chunks <= 1) return;
  const int64_t step = static_cast<int64_t>(t.row_threads) * vw;
  a->chunk = static_cast<int64_t>(
      round_up(static_cast<uint64_t>((a->n + chunks - 1) / chunks), static_cast<uint64_t>(step)));
  a->chunks = (a->n + a->chunk - 1) / a->chunk;
}

int accumulator_size(chorus_dtype d) {
  if (is_int(d) || d == CHORUS_DTYPE_F64) return 8;
  return 4;
}

chorus_status plan_reduce(const chorus_op_desc& d, const DeviceTraits& traits, Plan* plan,
                          std::string* why) {
  const bool argmax = d.kind == CHORUS_OP_ARGMAX;
  const Tensor& x = d.tensors[0];
  const Tensor* ops[2] = {&d.tensors[0], &d.tensors[1]};
  const uint32_t inner = argmax ? 1u : static_cast<uint32_t>(__builtin_popcount(d.axes_mask));
  if (inner == 0 || inner > x.rank) {
    *why = "the reduced axes do not fit x's rank";
    return CHORUS_ERROR_INVALID_ARGUMENT;
  }
  static const char* names[] = {"sum", "mean", "max", "min"};
  if (!argmax && (d.subop < 0 || d.subop >= CHORUS_REDUCE_COUNT_)) {
    *why = "reduce subop " + std::to_string(d.subop) + " is unknown";
    return CHORUS_ERROR_INVALID_ARGUMENT;
  }
  RowLayout r = row_layout(ops, 2, inner, 1);
  const int vw = row_vw(traits.tuning, x.dtype);
  choose_chunks(traits.tuning, &r.args, vw);
  ProgramSpec p = row_program(traits, "reduce", "reduce.cl", x.dtype, r.layout);
  Launch l;
  l.program = p;
  l.kernel = argmax ? "argmax" : std::string("reduce_") + names[d.subop];
  row_grid(traits.tuning, r.args, &l);
  l.args = {buffer_arg(0), buffer_arg(1), scratch_arg(0)};
  if (argmax) l.args.push_back(scratch_arg(1));
  l.args.push_back(bytes_arg(r.args));
  plan->launches.push_back(l);
  if (r.args.chunks > 1) {
    const uint64_t parts = static_cast<uint64_t>(r.args.rows * r.args.chunks);
    plan->scratch_bytes[0] = parts * accumulator_size(x.dtype);
    if (argmax) plan->scratch_bytes[1] = parts * 8;
    Launch f;
    f.program = p;
    f.kernel = argmax ? "argmax_finish" : std::string("reduce_") + names[d.subop] + "_finish";
    f.dims = 1;
    f.local[0] = 64;
    f.global[0] = round_up(static_cast<uint64_t>(r.args.rows), 64);
    f.args = {scratch_arg(0)};
    if (argmax) f.args.push_back(scratch_arg(1));
    f.args.push_back(buffer_arg(1));
    f.args.push_back(bytes_arg(r.args));
    plan->launches.push_back(f);
  }
  return CHORUS_OK;
}

KernelArg accumulator_arg(chorus_dtype d, double value) {
  if (d == CHORUS_DTYPE_F64) return bytes_arg(value);
  return bytes_arg(static_cast<float>(value));
}

chorus_status plan_softmax_norm(const chorus_op_desc& d, const DeviceTraits& traits, Plan* plan) {
  const Tensor& x = d.tensors[0];
  const bool softmax = d.kind == CHORUS_OP_SOFTMAX;
  const bool layer = d.kind == CHORUS_OP_LAYER_NORM;
  // Absent gamma/beta ride along as x (they are never read), so they never
  // spoil the contiguity or the axis merging.
  const Tensor* ops[4] = {&d.tensors[0], &d.tensors[1], &d.tensors[0], &d.tensors[0]};
  const bool has_gamma = !softmax && d.has_gamma;
  const bool has_beta = layer && d.has_beta;
  if (has_gamma) ops[2] = &d.tensors[2];
  if (has_beta) ops[3] = &d.tensors[3];
  const int count = softmax ? 2 : 4;
  RowLayout r = row_layout(ops, count, 1, count);
  if (!has_gamma) r.args.offset[2] = 0;
  if (!has_beta) r.args.offset[3] = 0;
  const char* family = softmax ? "softmax" : "norm";
  ProgramSpec p =
      row_program(traits, family, softmax ? "softmax.cl" : "norm.cl", x.dtype, r.layout);
  if (softmax) {
    // Keep e^(x-m) in y between passes only when y holds it unrounded.
    const bool cache = x.dtype == CHORUS_DTYPE_F32 || x.dtype == CHORUS_DTYPE_F64;
    p.defines.push_back({"CACHE_EXP", cache ? "1" : "0"});
  }
  Launch l;
  l.program = std::move(p);
  row_grid(traits.tuning, r.args, &l);
  if (softmax) {
    l.kernel = d.subop == 1 ? "log_softmax" : "softmax";
    l.args = {buffer_arg(0), buffer_arg(1), bytes_arg(r.args)};
  } else if (layer) {
    l.kernel = "layer_norm";
    l.args = {buffer_arg(0),
              buffer_arg(1),
              has_gamma ? buffer_arg(2) : null_arg(),
              has_beta ? buffer_arg(3) : null_arg(),
              bytes_arg(r.args),
              accumulator_arg(x.dtype, d.eps),
              bytes_arg(int32_t{has_gamma}),
              bytes_arg(int32_t{has_beta})};
  } else {
    l.kernel = "rms_norm";
    l.args = {buffer_arg(0),
              buffer_arg(1),
              has_gamma ? buffer_arg(2) : null_arg(),
              bytes_arg(r.args),
              accumulator_arg(x.dtype, d.eps),
              bytes_arg(int32_t{has_gamma})};
  }
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// ------------------------------------------------------------------ GEMM

chorus_status plan_gemm(const chorus_op_desc& d, const DeviceTraits& traits, Plan* plan,
                        std::string* why) {
  const Tensor& a = d.tensors[0];
  const Tensor& b = d.tensors[1];
  const Tensor& c = d.tensors[2];
  const Tensor& bias = d.tensors[3];
  if (a.rank != 3 || b.rank != 3 || c.rank != 3) {
    *why = "gemm operands must arrive normalised to rank 3";
    return CHORUS_ERROR_INTERNAL;
  }
  const bool f64 = c.dtype == CHORUS_DTYPE_F64;
  const GemmTiles& tiles = f64 ? traits.tuning.gemm_f64 : traits.tuning.gemm_f32;
  const int acc = f64 ? 8 : 4;
  ck_gemm g{};
  g.batch = c.shape[0];
  g.m = c.shape[1];
  g.n = c.shape[2];
  g.k = a.shape[2];
  g.m_padded = static_cast<int64_t>(round_up(static_cast<uint64_t>(g.m), tiles.mr * tiles.lm));
  g.n_padded = static_cast<int64_t>(round_up(static_cast<uint64_t>(g.n), tiles.nr * tiles.ln));
  g.a_offset = a.offset;
  g.b_offset = b.offset;
  g.c_offset = c.offset;
  g.bias_offset = d.has_bias ? bias.offset : 0;
  for (int i = 0; i < 3; ++i) {
    g.a_strides[i] = a.strides[i];
    g.b_strides[i] = b.strides[i];
    g.c_strides[i] = c.strides[i];
    g.bias_strides[i] = d.has_bias ? bias.strides[i] : 0;
  }
  // A batch that every c batch shares (stride 0) is packed once.
  const int64_t a_batches = a.strides[0] == 0 ? 1 : g.batch;
  const int64_t b_batches = b.strides[0] == 0 ? 1 : g.batch;
  g.a_packed_batch_stride = a_batches == 1 ? 0 : g.m_padded * g.k;
  g.b_packed_batch_stride = b_batches == 1 ? 0 : g.n_padded * g.k;
  g.a_batches = a_batches;
  g.b_batches = b_batches;
  g.has_bias = d.has_bias ? 1 : 0;
  g.activation = d.activation;
  g.read_c = d.beta != 0.0 ? 1 : 0;
  plan->scratch_bytes[0] = static_cast<uint64_t>(a_batches * g.m_padded * g.k) * acc;
  plan->scratch_bytes[1] = static_cast<uint64_t>(b_batches * g.n_padded * g.k) * acc;

  ProgramSpec p = program(traits, std::string("gemm ") + dtype_name(c.dtype), "gemm.cl", tiles.vw);
  define_dtype(p, c.dtype);
  p.defines.push_back({"MR", std::to_string(tiles.mr)});
  p.defines.push_back({"NR", std::to_string(tiles.nr)});
  p.defines.push_back({"LM", std::to_string(tiles.lm)});
  p.defines.push_back({"LN", std::to_string(tiles.ln)});
  p.defines.push_back({"GEMM_LOCAL", std::to_string(tiles.use_local)});
  p.defines.push_back({"KC", std::to_string(std::max(tiles.kc, 1))});

  const uint64_t pack_group = static_cast<uint64_t>(traits.tuning.pack_local);
  if (g.k > 0) {
    Launch pack;
    pack.program = p;
    pack.kernel = "gemm_pack";
    pack.dims = 3;
    pack.local[0] = pack_group;
    pack.global[0] = round_up(static_cast<uint64_t>(g.k), pack_group);
    pack.global[1] = static_cast<uint64_t>(g.m_padded / tiles.mr + g.n_padded / tiles.nr);
    pack.global[2] = static_cast<uint64_t>(std::max(a_batches, b_batches));
    pack.args = {buffer_arg(0), buffer_arg(1), scratch_arg(0), scratch_arg(1), bytes_arg(g)};
    plan->launches.push_back(std::move(pack));
  }
  Launch mul;
  mul.program = std::move(p);
  mul.kernel = "gemm_multiply";
  mul.dims = 3;
  mul.local[0] = static_cast<uint64_t>(tiles.lm);
  mul.local[1] = static_cast<uint64_t>(tiles.ln);
  mul.global[0] = static_cast<uint64_t>(g.m_padded / tiles.mr);
  mul.global[1] = static_cast<uint64_t>(g.n_padded / tiles.nr);
  mul.global[2] = static_cast<uint64_t>(g.batch);
  mul.args = {scratch_arg(0),
              scratch_arg(1),
              buffer_arg(2),
              d.has_bias ? buffer_arg(3) : null_arg(),
              bytes_arg(g),
              accumulator_arg(c.dtype, d.alpha),
              accumulator_arg(c.dtype, d.beta)};
  plan->launches.push_back(std::move(mul));
  return CHORUS_OK;
}

}  // namespace

const std::vector<std::string>& common_kernel_files() {
  static const std::vector<std::string> files = {"common.h", "args.h"};
  return files;
}

std::string ProgramSpec::key() const {
  std::string k;
  for (const auto& f : files) k += f + ";";
  for (const auto& [name, value] : defines) k += name + "=" + value + ";";
  return k;
}

std::string ProgramSpec::options() const {
  std::string o;
  for (const auto& [name, value] : defines) o += (o.empty() ? "-D" : " -D") + name + "=" + value;
  return o;
}

chorus_status plan_op(const chorus_op_desc& desc, const DeviceTraits& traits, Plan* plan,
                      std::string* why) {
  *plan = Plan{};
  switch (desc.kind) {
    case CHORUS_OP_COPY:
    case CHORUS_OP_FILL:
    case CHORUS_OP_UNARY:
    case CHORUS_OP_BINARY:
    case CHORUS_OP_COMPARE:
    case CHORUS_OP_WHERE:
      return plan_elementwise(desc, traits, plan, why);
    case CHORUS_OP_REDUCE:
    case CHORUS_OP_ARGMAX:
      return plan_reduce(desc, traits, plan, why);
    case CHORUS_OP_SOFTMAX:
    case CHORUS_OP_LAYER_NORM:
    case CHORUS_OP_RMS_NORM:
      return plan_softmax_norm(desc, traits, plan);
    case CHORUS_OP_GEMM:
      return plan_gemm(desc, traits, plan, why);
    default:
      *why = "op kind " + std::to_string(static_cast<int>(desc.kind)) +
             " is not one this backend knows";
      return CHORUS_ERROR_UNSUPPORTED;
  }
}

Plan plan_buffer_copy(const DeviceTraits& traits, uint64_t src_offset, uint64_t dst_offset,
                      uint64_t bytes) {
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
  const int slots[2] = {0, 1};
  ProgramSpec p = bits_program(traits, size);
  const int vw = bits_vw(p);
  Plan plan;
  plan.launches.push_back(
      elementwise_launch(traits, std::move(p), "copy_bits", ops, slots, 2, vw, 0));
  return plan;
}

Plan plan_buffer_fill(const DeviceTraits& traits, uint64_t offset, uint64_t bytes,
                      const void* pattern, uint32_t pattern_size) {
  Tensor dst{};
  dst.rank = 1;
  dst.shape[0] = static_cast<int64_t>(bytes / pattern_size);
  dst.strides[0] = 1;
  dst.offset = static_cast<int64_t>(offset / pattern_size);
  uint64_t value = 0;
  std::memcpy(&value, pattern, pattern_size);
  const Tensor* ops[1] = {&dst};
  const int slots[1] = {0};
  Plan plan;
  plan.launches.push_back(
      elementwise_launch(traits, bits_program(traits, static_cast<int>(pattern_size)), "fill", ops,
                         slots, 1, 1, static_cast<int64_t>(value)));
  return plan;
}

}  // namespace chorus::backend_common
