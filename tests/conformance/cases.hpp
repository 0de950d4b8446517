// cases.hpp — what every family's cases (src/ops/<family>/cases*.cpp, which
// include it as "conformance/cases.hpp") share: adding a case, value
// generators, special-value lists, view layouts, and the variant sweep every
// elementwise op goes through (regular, odd, tile edges, zero-size, views,
// in place, big shapes).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "detail.hpp"

namespace chorus::conformance::detail {

extern const std::vector<chorus_dtype> kFloatDtypes;  // f32 f16 bf16 f64
extern const std::vector<chorus_dtype> kAllDtypes;    // the seven storage dtypes
extern const std::vector<int64_t> kTileSizes;         // 1 2 17 31 33 127 129
extern const std::vector<int64_t> kFullTileSizes;     // 1023 1025 (full tier)

// One case; the registry records its family. `op_kind` is the libchorus op
// it exercises, `op` its row in the matrix.
void add_case(std::vector<CaseEntry>& cases, std::string name, std::string op,
              chorus_op_kind op_kind, std::string dtype, std::string shape, std::string kind,
              Tier tier, std::function<CaseSpec(Rng&)> build);

// ---- values (every generator rounds into t's dtype; logical order)
void fill_normal(HostTensor& t, Rng& rng, double sigma, double mean = 0);
void fill_uniform(HostTensor& t, Rng& rng, double lo, double hi);
// Integers in [lo, hi]; each element is 0 with probability zero_fraction.
void fill_integers(HostTensor& t, Rng& rng, int64_t lo, int64_t hi, double zero_fraction = 0);
// +-2^U(lo, hi); negative with probability negative_fraction.
void fill_log_uniform(HostTensor& t, Rng& rng, double lo, double hi, double negative_fraction = 0);
// Random values that fit any dtype's range and exercise its integer part:
// full-range integers for i32/i64/u8, normal(0, sigma) for floats.
void fill_typical(HostTensor& t, Rng& rng, double sigma);
// A large mean with a spread the dtype still resolves (f32/f64: mean 1e4,
// sigma 1; f16: 1000, 4; bf16: 1e4, 256): E[x^2] - E[x]^2 loses every digit
// of the spread, so the norms' cases catch a one-pass variance with it.
void fill_large_mean(HostTensor& t, Rng& rng);
// Writes values cyclically (the tensor may be larger than the list).
void fill_list(HostTensor& t, const std::vector<long double>& values);
// Integers an exact test may use: f32/f64 in [-32, 32], f16/bf16 in [-4, 4].
int64_t exact_magnitude(chorus_dtype d);

// ±0, subnormals, ±min normal, ±max finite, ±inf, NaN, 1±ulp and friends for
// floats; 0, ±1, extremes for integers.
std::vector<long double> special_values(chorus_dtype d);
// A shorter list for pairwise (binary, compare) special cases.
std::vector<long double> pair_special_values(chorus_dtype d);

// ---- layouts (strides in elements)
// Row-major with `pad` extra elements after every row of the last axis.
std::vector<int64_t> padded_strides(const std::vector<int64_t>& shape, int64_t pad);
// Stored with axes in `storage_order` (outermost first), so the view is a
// permutation of a contiguous tensor.
std::vector<int64_t> permuted_strides(const std::vector<int64_t>& shape,
                                      const std::vector<size_t>& storage_order);
// Contiguous except stride 0 on `axis` (a broadcast view).
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape, size_t axis);

// ---- image layouts (conv2d, pool2d): cases build logical NCHW tensors
// The caller's tensor for a logical NCHW one of rank 4: NHWC moves the
// channel axis last ([N, H, W, C]; a weight [C_out, KH, KW, C/g]), a 1-D
// op drops the H axis (extent 1). Other ranks pass as they are.
HostTensor image_to_caller(const HostTensor& t, bool nhwc, bool one_d);
// How the device sees an image operand: contiguous, every row padded, at an
// offset, or stored in the other layout's order (NCHW tensors
// channels-last, NHWC ones channels-first).
enum class ImageView { plain, padded, offset, permuted };
// The operand `role` of a logical NCHW tensor: in the caller's layout
// (image_to_caller), laid out by `view`: rows padded by `pad` elements, or
// `extra` elements of offset. An absent tensor passes as it is.
Operand image_operand(const char* role, const HostTensor& logical, bool nhwc, bool one_d,
                      ImageView view, int64_t pad, int64_t extra);

// ---- the elementwise sweep
struct ElementwiseOp {
  std::string op, dtype_label;
  chorus_op_kind op_kind = CHORUS_OP_INVALID;
  std::vector<chorus_dtype> inputs;  // input dtypes, in call order
  std::vector<std::string> roles;    // input roles, then the output's
  chorus_dtype output = CHORUS_DTYPE_INVALID;
  OpCall call;
  std::string call_text;
  Check check = Check::exact;
  OracleKind oracle = OracleKind::same;
  std::function<BoundFn()> bound;  // when check is bounded
  std::string regular_kind;        // "exact" or "accuracy"
  // Fills input k for the regular kind.
  std::function<void(size_t k, HostTensor&, Rng&)> fill;
  // Fills the inputs of the special case (shape chosen by the sweep from
  // special_count); empty: no special case.
  std::function<void(std::vector<HostTensor>&)> fill_special;
  int64_t special_count = 0;
  int in_place_input = 0;  // -1: no in-place case
  bool tile_sizes = true;
  Tier smoke_tier = Tier::ci;  // Tier::smoke puts the regular case in smoke
  // The tier of the tile-edge sizes and the views (permuted, padded, offset,
  // broadcast): Tier::full keeps tier ci to the regular, odd, zero-size,
  // in-place and special cases (for dtypes another dtype's sweep covers).
  Tier views_tier = Tier::ci;
};
void add_elementwise_sweep(std::vector<CaseEntry>& cases, const ElementwiseOp& op);

}  // namespace chorus::conformance::detail
