// op_schema.hpp — what an op is inside libchorus: one schema per op kind
// (tensor slots, attributes, aliasing rule, normal form) and the family code
// that turns a validated call into the normalised record a backend gets.
//
// Every op runs through one pipeline (dispatch.cpp):
//   attributes copied into the full struct, defaults filled, enums checked as
//   integers  ->  each tensor checked (overflow-safe fit in its buffer, dtype
//   rules of its slot and variant, same device)  ->  the family's normalise()
//   (shapes, broadcasting, moving the row axes last, GEMM's batch fold)  ->
//   aliasing rules  ->  axis collapse by normal form  ->  backend op_create,
//   or, when the backend answers UNSUPPORTED, one of the op's composites.
// A family (src/ops/<family>/schema.cpp) therefore writes only what is its
// own: the schema and normalise(), and the C entry points of chorus.h.
#pragma once

#include <chorus/backend.h>
#include <chorus/chorus.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace chorus::core {

constexpr uint32_t kMaxSlots = 16;
constexpr uint32_t kMaxAttrsSize = 128;
constexpr uint32_t kAnyFloat = (1u << CHORUS_DTYPE_F32) | (1u << CHORUS_DTYPE_F16) |
                               (1u << CHORUS_DTYPE_BF16) | (1u << CHORUS_DTYPE_F64);
constexpr uint32_t kSignedInts = (1u << CHORUS_DTYPE_I32) | (1u << CHORUS_DTYPE_I64);
constexpr uint32_t kAnyDtype = kAnyFloat | kSignedInts | (1u << CHORUS_DTYPE_U8);
constexpr uint32_t dtype_bit(chorus_dtype d) { return 1u << static_cast<uint32_t>(d); }

// Where a view's memory comes from: a tensor argument of the user's call
// (slot index), or a temporary of a composite in the queue's scratch.
constexpr int32_t kNoSource = -1;
constexpr int32_t kTempSource = 1000;  // kTempSource + temporary index

// A tensor argument as the core validates and normalises it. offset is the
// element offset at plan creation; an execution may move it (dispatch.cpp).
struct View {
  bool present = false;
  chorus_dtype dtype = CHORUS_DTYPE_INVALID;
  uint32_t rank = 0;
  int64_t shape[CHORUS_MAX_RANK] = {};
  int64_t strides[CHORUS_MAX_RANK] = {};
  int64_t offset = 0;
  int32_t source = kNoSource;

  int64_t numel() const;  // validated views never overflow
};

enum class Role { input, output, inout };

struct Slot {
  const char* name;
  Role role;
  bool optional = false;
  uint32_t dtypes = kAnyDtype;  // what the slot may hold (the variant may narrow slot 0)
  int same_dtype_as = -1;       // a slot whose dtype this one must equal
  uint32_t in_place_with = 0;   // outputs: bit i: may be the very view of input slot i
};

struct Attr {
  const char* name;
  chorus_attr_type type;
  uint32_t offset;
  double default_value = 0;
  std::vector<const char*> enum_names = {};
  std::vector<uint32_t> enum_dtypes = {};  // per enum value: slot 0's dtypes (empty: the slot's)
  const char* enum_type = "";              // its C enum, for messages: "chorus_unary_op"
};

// How the core collapses axes after normalise() (backend.h states each).
enum class NormalForm {
  elementwise,  // every tensor has the output's shape: collapsed jointly, rank >= 1
  rows,         // Call::inner_rank trailing row axes: outer and inner collapsed apart
  custom,       // normalise() leaves the final form (GEMM)
};

struct Call;
class Lowering;
using NormaliseFn = chorus_status (*)(Call& call);
using ComposeFn = chorus_status (*)(Lowering& lowering);

// An op written as other ops, for backends without a native kernel.
struct Composite {
  const char* description;  // "max, sub, exp, sum, log, sub"
  ComposeFn lower;
};

struct OpSchema {
  chorus_op_kind kind = CHORUS_OP_INVALID;
  const char* name = "";     // "unary"
  const char* family = "";   // its folder in src/ops/
  const char* summary = "";  // one line for chorus_op_info and the docs table
  std::vector<Slot> slots;
  uint32_t attrs_size = 0;  // sizeof its attributes struct, 0 when it has none
  std::vector<Attr> attrs;
  int variant_attr = -1;  // the enum attribute that picks a variant (unary's op), or -1
  // The op's name in messages when it is not the variant's or the schema's
  // ("log_softmax"). May be null.
  const char* (*label)(const unsigned char* attrs) = nullptr;
  NormalForm form = NormalForm::elementwise;
  NormaliseFn normalise = nullptr;
  // After the collapse: rewrites attributes that name axes (reduce's
  // axes_mask, the row ops' axis) for the collapsed views. May be null.
  void (*finish)(Call& call) = nullptr;
  std::vector<Composite> composites;
};

// Registration: each family's register_schema() calls register_op once per
// kind (src/ops/<family>/schema.cpp, gathered by the generated registrar).
void register_op(OpSchema schema);
const OpSchema* find_op(chorus_op_kind kind);
std::vector<const OpSchema*> all_ops();

// Reads an attribute struct field that may hold any int32 bit pattern (an
// out-of-range enum value must never be loaded as the enum type).
inline int32_t attr_i32(const void* attrs, uint32_t offset) {
  int32_t v;
  std::memcpy(&v, static_cast<const unsigned char*>(attrs) + offset, sizeof v);
  return v;
}

// One op as it passes through the pipeline.
struct Call {
  const OpSchema* schema = nullptr;
  std::string label;  // for messages: "leaky_relu", "layer_norm"
  alignas(8) unsigned char attrs[kMaxAttrsSize] = {};
  uint32_t slot_count = 0;
  View views[kMaxSlots];
  const chorus_device_info* device = nullptr;
  uint32_t numerics = 0;

  // Set by normalise():
  uint32_t inner_rank = 1;  // NormalForm::rows: trailing axes that form a row
  bool no_op = false;       // nothing to run (not even a backend call)
  // A loop over axes the normal form cannot fold (GEMM's batch axes): the
  // backend op runs loop_count times, slot t's offset advanced by
  // sum_k index_k * loop_strides[t][k] (index in loop_shape, row-major).
  uint32_t loop_rank = 0;
  int64_t loop_shape[CHORUS_MAX_RANK] = {};
  int64_t loop_strides[kMaxSlots][CHORUS_MAX_RANK] = {};
  // When set, the op is these other ops in this case (a sum over an empty
  // axis is a fill) instead of a backend op of its own.
  ComposeFn replace_with = nullptr;

  template <typename A>
  A& attrs_as() {
    static_assert(sizeof(A) <= kMaxAttrsSize);
    return *reinterpret_cast<A*>(attrs);
  }
  View& view(uint32_t slot) { return views[slot]; }
  // chorus_status failf(...) with "<label>: " in front.
  chorus_status fail(chorus_status status, const char* format, ...)
      __attribute__((format(printf, 3, 4)));
};

// ---- helpers for normalise() (views.cpp)

std::string shape_text(uint32_t rank, const int64_t* shape);
// numpy broadcasting of `view` to (rank, shape), aligned at the last axis.
chorus_status broadcast_to(Call& call, uint32_t slot, uint32_t rank, const int64_t* shape,
                           const char* target);
// Same shape (rank and extents) as slot `other`, else a message naming both.
chorus_status require_same_shape(Call& call, uint32_t slot, uint32_t other);
// The same for every present slot against slot 0.
chorus_status require_same_shapes(Call& call);
// axis (negative from the end) as an index of a rank-`rank` tensor.
chorus_status normalise_axis(Call& call, const char* what, int32_t axis, uint32_t rank,
                             uint32_t* out);
// Reorders the axes of `view`: new axis i is old axis order[i].
void permute(View& view, const uint32_t* order);
// The image layouts of conv2d and pool2d: a rank-4 view in NCHW or NHWC
// order ([N, H, W, C]; a weight [C_out, KH, KW, C/g] likewise), or rank 3
// for 1-D (no H axis), becomes logical NCHW rank 4: 1-D views get an H axis
// of extent 1 and NHWC views their last axis moved to position 1.
void to_logical_nchw(View& view, bool nhwc);
// The order that moves the axes in `mask` last, both groups in order.
void axes_last_order(uint32_t rank, uint32_t mask, uint32_t* order);

// ---- composites: an op written as other ops on the same tensors and on
// temporaries in the queue's scratch memory.
class Lowering {
 public:
  virtual ~Lowering() = default;
  // The normalised op being lowered.
  virtual const Call& op() const = 0;
  // A contiguous temporary of the op's queue.
  virtual View temporary(chorus_dtype dtype, uint32_t rank, const int64_t* shape) = 0;
  // Appends another op on these views (validated and normalised like a call).
  virtual chorus_status run(chorus_op_kind kind, const void* attrs,
                            std::initializer_list<const View*> views) = 0;
};

// The dtype a composite computes 16-bit floats in (f32), else the dtype.
chorus_dtype compute_dtype(chorus_dtype d);

}  // namespace chorus::core
