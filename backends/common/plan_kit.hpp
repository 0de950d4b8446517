// plan_kit.hpp — what the op families' planners (src/ops/<family>/plan.cpp)
// share: dtype names and sizes, kernel arguments, the definitions every
// program gets, the rows form of the row ops (ck_rows, its layout class,
// grid and offset patches), attribute access, and the building blocks of
// variant ops. The argument blocks come from backends/kernels/args.h, the
// same text the kernels compile.
#pragma once

#include <chorus/backend.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "op_plan.hpp"

#ifndef CK_I64
#define CK_I64 int64_t
#endif
#include "kernels/args.h"

namespace chorus::backend_common {

using Tensor = chorus_backend_tensor;

// ------------------------------------------------------------------ dtypes

// Not chorus_dtype_size() and friends: plugins must not depend on
// libchorus's symbols (an application may load libchorus with RTLD_LOCAL).
const char* dtype_name(chorus_dtype d);
int dtype_size(chorus_dtype d);
bool is_int(chorus_dtype d);  // i32, i64, u8
inline bool present(const Tensor& t) { return t.dtype != CHORUS_DTYPE_INVALID; }
// "U8", "U16", "U32", "U64": the raw-bits type of an element of `size` bytes.
const char* bits_type(int size);

uint64_t round_up(uint64_t v, uint64_t to);
uint64_t pow2_ceil(uint64_t v);

// -------------------------------------------------------------- attributes

// The op's attributes as the struct this plugin was built with: a zeroed
// struct with the record's bytes copied over (a shorter struct from an
// older libchorus leaves the new fields at their zero "as before" value).
template <typename Attrs>
Attrs attrs_of(const chorus_op_record& op) {
  Attrs a{};
  if (op.attrs) std::memcpy(&a, op.attrs, op.attrs_size < sizeof a ? op.attrs_size : sizeof a);
  return a;
}

// CHORUS_OK, or CHORUS_ERROR_UNSUPPORTED with *why when the record is not
// the op's normal form as this planner knows it: `count` tensors, the
// attributes' unknown trailing bytes zero (backend.h), and every tensor
// within CK_MAX_RANK.
chorus_status check_record(const chorus_op_record& op, uint32_t count, uint32_t known_attrs_size,
                           std::string* why);

// ------------------------------------------------------------- kernel args

template <typename T>
KernelArg bytes_arg(const T& value) {
  KernelArg a;
  a.kind = KernelArg::Kind::bytes;
  a.bytes.resize(sizeof(T));
  std::memcpy(a.bytes.data(), &value, sizeof(T));
  return a;
}
KernelArg buffer_arg(int slot);
KernelArg scratch_arg(int which);
KernelArg null_arg();
// The accumulation type's value: double for f64 data, float otherwise.
KernelArg accumulator_arg(chorus_dtype d, double value);
// Records that bytes [field, field + 8) of argument `arg` receive tensor
// `slot`'s element offset at each execution.
void patch_offset(Launch& launch, size_t arg, size_t field, int slot);

// ---------------------------------------------------------------- programs

// A program of the common files and `file`, with the definitions every
// program gets (VW, HAS_FP64).
ProgramSpec program(const DeviceTraits& traits, std::string label, std::string file, int vw);
// DT and its class flags, for programs over one dtype.
void define_dtype(ProgramSpec& p, chorus_dtype d);
// The vector width for contiguous data of a dtype: the tuning's width for
// 4-byte lanes, halved for 8-byte lanes (so a vector is the same number of
// bytes), 1 for integer math.
int compute_vw(const Tuning& t, chorus_dtype d);
int row_vw(const Tuning& t, chorus_dtype d);

// ------------------------------------------------------------- elementwise

// Fills the walk of an argument block with count, rank, shape, offset[]
// and strides[] fields (ck_elementwise, ck_optim): every operand in the
// collapsed shape of `shape_of`, operand t in slot t of the block, absent
// ones walking nothing. Returns whether every present operand is one
// unit-stride run (the contiguous kernels' case, EW_CONTIG).
template <typename Block>
bool fill_walk(const Tensor& shape_of, const Tensor* const* operands, int count, Block* a) {
  a->rank = shape_of.rank ? shape_of.rank : 1;
  a->count = 1;
  for (int k = 0; k < a->rank; ++k) {
    a->shape[k] = shape_of.rank ? shape_of.shape[k] : 1;
    a->count *= a->shape[k];
  }
  bool contiguous = shape_of.rank == 1;
  for (int t = 0; t < count; ++t) {
    const Tensor& x = *operands[t];
    a->offset[t] = x.offset;
    for (int k = 0; k < a->rank; ++k)
      a->strides[t][k] = shape_of.rank && present(x) ? x.strides[k] : 0;
    if (present(x) && a->rank == 1 && a->shape[0] > 1 && x.strides[0] != 1) contiguous = false;
  }
  return contiguous;
}
// The argument block of an elementwise launch over operands (the output
// last, every operand in the output's collapsed shape), starting from
// `extra` (its op-specific fields); *contiguous (when asked) as fill_walk.
ck_elementwise elementwise_args(const Tensor* const* operands, int count,
                                const ck_elementwise& extra = ck_elementwise{},
                                bool* contiguous = nullptr);
// A 1-D grid of `items` work-items in work-groups of the tuning's
// elementwise size.
void linear_grid(const Tuning& t, uint64_t items, Launch* l);
// A program of kernels that address elements one at a time through walk.h:
// walk.h and `headers` before `file`, DT, and EW_CONTIG.
ProgramSpec walk_program(const DeviceTraits& traits, const std::string& label,
                         const std::string& file, chorus_dtype dtype, bool contiguous,
                         std::initializer_list<const char*> headers = {});

// -------------------------------------------------------------------- rows

// The rows form of a row op (backend.h): x's last `inner` axes are the row,
// the axes before them pick it; libchorus has collapsed both parts already,
// so their shapes and strides are copied as they are. Operand t of ck_rows
// is the record's tensor slots[t] (-1, or an absent tensor: zero strides,
// never read). The layout class is ROW_CONTIG when every operand that walks
// the row (extent > 1 there) does so with stride 1, ROW_STRIDED with one
// row axis, ROW_GENERIC with several.
struct RowLayout {
  ck_rows args{};
  int layout = 1;  // ROW_CONTIG, ROW_STRIDED, ROW_GENERIC
  int slots[CK_MAX_OPERANDS] = {-1, -1, -1, -1};
};
RowLayout row_layout(const chorus_op_record& op, std::initializer_list<int> slots, uint32_t inner);
// The offset patches of a ck_rows argument `arg` of launch l.
void patch_rows(Launch& l, size_t arg, const RowLayout& r);
// A row program: rows.h before `file`, DT, ROW_LAYOUT, ROW_THREADS, RPG.
ProgramSpec row_program(const DeviceTraits& traits, const char* family, const char* file,
                        chorus_dtype dtype, int layout, int vw);
// Grid of a row kernel: dim 0 ROW_THREADS x chunks, dim 1 the rows.
void row_grid(const Tuning& t, const ck_rows& a, Launch* l);

// ---------------------------------------------------------------- variants

// A layout for variant ops (buffer NULL, offset 0).
Tensor tensor_of(chorus_dtype dtype, std::initializer_list<int64_t> shape,
                 std::initializer_list<int64_t> strides);
inline Tensor absent() { return Tensor{}; }
VariantOp variant(chorus_op_kind kind, std::vector<Tensor> tensors);
template <typename Attrs>
VariantOp variant(chorus_op_kind kind, Attrs attrs, std::vector<Tensor> tensors) {
  attrs.struct_size = sizeof attrs;
  VariantOp v = variant(kind, std::move(tensors));
  v.attrs.resize(sizeof attrs);
  std::memcpy(v.attrs.data(), &attrs, sizeof attrs);
  return v;
}
// Every dtype chorus has, and its float and signed-integer subsets.
const std::vector<chorus_dtype>& all_dtypes();
const std::vector<chorus_dtype>& float_dtypes();

}  // namespace chorus::backend_common
