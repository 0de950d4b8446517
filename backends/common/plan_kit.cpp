// plan_kit.cpp — see plan_kit.hpp.
#include "plan_kit.hpp"

#include <algorithm>

#include "common/numeric.hpp"

namespace chorus::backend_common {

const char* dtype_name(chorus_dtype d) { return numeric::dtype_name(d); }
int dtype_size(chorus_dtype d) { return static_cast<int>(numeric::dtype_size(d)); }
bool is_int(chorus_dtype d) { return numeric::is_integer(d); }

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

chorus_status check_record(const chorus_op_record& op, uint32_t count, uint32_t known_attrs_size,
                           std::string* why) {
  if (op.tensor_count != count || !op.tensors) {
    *why = "the op has " + std::to_string(op.tensor_count) + " tensors; this backend knows it with " +
           std::to_string(count);
    return CHORUS_ERROR_UNSUPPORTED;
  }
  if (!chorus_backend_attrs_known(&op, known_attrs_size)) {
    *why = "the op's attributes use fields this backend does not know";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  for (uint32_t t = 0; t < count; ++t) {
    if (op.tensors[t].rank > CK_MAX_RANK) {
      *why = "tensor " + std::to_string(t) + " has rank " + std::to_string(op.tensors[t].rank) +
             ", more than the kernels' " + std::to_string(CK_MAX_RANK);
      return CHORUS_ERROR_UNSUPPORTED;
    }
  }
  return CHORUS_OK;
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

KernelArg accumulator_arg(chorus_dtype d, double value) {
  if (d == CHORUS_DTYPE_F64) return bytes_arg(value);
  return bytes_arg(static_cast<float>(value));
}

void patch_offset(Launch& launch, size_t arg, size_t field, int slot) {
  OffsetPatch p;
  p.arg = static_cast<uint32_t>(arg);
  p.byte = static_cast<uint32_t>(field);
  p.slot = static_cast<uint32_t>(slot);
  launch.patches.push_back(p);
}

ProgramSpec program(const DeviceTraits& traits, std::string label, std::string file, int vw) {
  ProgramSpec p;
  p.label = std::move(label);
  p.files = common_kernel_files();
  p.files.push_back(std::move(file));
  p.defines.push_back({"VW", std::to_string(vw)});
  p.defines.push_back({"HAS_FP64", traits.has_fp64 ? "1" : "0"});
  return p;
}

void define_dtype(ProgramSpec& p, chorus_dtype d) {
  p.defines.push_back({"DT", dtype_name(d)});
  if (is_int(d)) p.defines.push_back({"DT_IS_INT", "1"});
  if (d == CHORUS_DTYPE_F64) p.defines.push_back({"DT_IS_F64", "1"});
  if (d == CHORUS_DTYPE_U8) p.defines.push_back({"DT_IS_U8", "1"});
}

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

ck_elementwise elementwise_args(const Tensor* const* operands, int count,
                                const ck_elementwise& extra, bool* contiguous) {
  ck_elementwise a = extra;
  const bool contig = fill_walk(*operands[count - 1], operands, count, &a);
  if (contiguous) *contiguous = contig;
  a.outer = 1;
  for (int i = 0; i + 2 < a.rank; ++i) a.outer *= a.shape[i];
  return a;
}

void linear_grid(const Tuning& t, uint64_t items, Launch* l) {
  const auto group = static_cast<uint64_t>(t.elementwise_local);
  l->dims = 1;
  l->local[0] = group;
  l->global[0] = round_up(items, group);
}

ProgramSpec walk_program(const DeviceTraits& traits, const std::string& label,
                         const std::string& file, chorus_dtype dtype, bool contiguous,
                         std::initializer_list<const char*> headers) {
  ProgramSpec p = program(traits, label, file, 1);
  p.files.insert(p.files.end() - 1, "walk.h");
  for (const char* h : headers) p.files.insert(p.files.end() - 1, h);
  define_dtype(p, dtype);
  p.defines.push_back({"EW_CONTIG", contiguous ? "1" : "0"});
  return p;
}

RowLayout row_layout(const chorus_op_record& op, std::initializer_list<int> slots, uint32_t inner) {
  RowLayout r;
  ck_rows& a = r.args;
  int count = 0;
  for (int s : slots) {
    const bool here = s >= 0 && static_cast<uint32_t>(s) < op.tensor_count && present(op.tensors[s]);
    r.slots[count++] = here ? s : -1;
  }
  const Tensor& x = op.tensors[r.slots[0]];
  const uint32_t split = x.rank - inner;
  a.outer_rank = split;
  a.inner_rank = inner;
  a.rows = 1;
  a.n = 1;
  for (uint32_t i = 0; i < split; ++i) {
    a.outer_shape[i] = x.shape[i];
    a.rows *= x.shape[i];
  }
  for (uint32_t i = 0; i < inner; ++i) {
    a.inner_shape[i] = x.shape[split + i];
    a.n *= x.shape[split + i];
  }
  bool unit = true;
  for (int t = 0; t < count; ++t) {
    if (r.slots[t] < 0) continue;
    const Tensor& v = op.tensors[r.slots[t]];
    for (uint32_t i = 0; i < split; ++i) a.outer_strides[t][i] = v.strides[i];
    for (uint32_t i = 0; i < inner; ++i) {
      a.inner_strides[t][i] = v.strides[split + i];
      if (v.shape[split + i] != 1 && v.strides[split + i] != 1) unit = false;
    }
  }
  r.layout = inner > 1 ? 3 : unit ? 1 : 2;
  a.chunk = a.n;
  a.chunks = 1;
  return r;
}

void patch_rows(Launch& l, size_t arg, const RowLayout& r) {
  for (int t = 0; t < CK_MAX_OPERANDS; ++t)
    if (r.slots[t] >= 0) patch_offset(l, arg, offsetof(ck_rows, offset) + 8 * t, r.slots[t]);
}

ProgramSpec row_program(const DeviceTraits& traits, const char* family, const char* file,
                        chorus_dtype dtype, int layout, int vw) {
  const Tuning& t = traits.tuning;
  ProgramSpec p = program(traits, std::string(family) + " " + dtype_name(dtype), file, vw);
  p.files.insert(p.files.end() - 1, "rows.h");
  define_dtype(p, dtype);
  p.defines.push_back({"ROW_LAYOUT", std::to_string(layout)});
  p.defines.push_back({"ROW_THREADS", std::to_string(t.row_threads)});
  p.defines.push_back({"RPG", std::to_string(t.rows_per_group)});
  return p;
}

void row_grid(const Tuning& t, const ck_rows& a, Launch* l) {
  l->dims = 2;
  l->local[0] = static_cast<uint64_t>(t.row_threads);
  l->local[1] = static_cast<uint64_t>(t.rows_per_group);
  l->global[0] = l->local[0] * static_cast<uint64_t>(a.chunks);
  l->global[1] = round_up(static_cast<uint64_t>(a.rows), l->local[1]);
}

Tensor tensor_of(chorus_dtype dtype, std::initializer_list<int64_t> shape,
                 std::initializer_list<int64_t> strides) {
  Tensor t{};
  t.dtype = dtype;
  t.rank = static_cast<uint32_t>(shape.size());
  std::copy(shape.begin(), shape.end(), t.shape);
  std::copy(strides.begin(), strides.end(), t.strides);
  return t;
}

VariantOp variant(chorus_op_kind kind, std::vector<Tensor> tensors) {
  VariantOp v;
  v.kind = kind;
  v.tensors = std::move(tensors);
  return v;
}

const std::vector<chorus_dtype>& all_dtypes() {
  static const std::vector<chorus_dtype> d = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16,
                                              CHORUS_DTYPE_BF16, CHORUS_DTYPE_F64,
                                              CHORUS_DTYPE_I32, CHORUS_DTYPE_I64,
                                              CHORUS_DTYPE_U8};
  return d;
}

const std::vector<chorus_dtype>& float_dtypes() {
  static const std::vector<chorus_dtype> d = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16,
                                              CHORUS_DTYPE_BF16, CHORUS_DTYPE_F64};
  return d;
}

}  // namespace chorus::backend_common
