// cases.cpp — the helpers every family's cases share: value generators,
// special values, view layouts and the elementwise sweep.
#include "cases.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/numeric.hpp"

namespace chorus::conformance::detail {

const std::vector<chorus_dtype> kFloatDtypes = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16,
                                                CHORUS_DTYPE_BF16, CHORUS_DTYPE_F64};
const std::vector<chorus_dtype> kAllDtypes = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16, CHORUS_DTYPE_BF16,
                                              CHORUS_DTYPE_F64, CHORUS_DTYPE_I32, CHORUS_DTYPE_I64,
                                              CHORUS_DTYPE_U8};
const std::vector<int64_t> kTileSizes = {1, 2, 17, 31, 33, 127, 129};
const std::vector<int64_t> kFullTileSizes = {1023, 1025};

void add_case(std::vector<CaseEntry>& cases, std::string name, std::string op,
              chorus_op_kind op_kind, std::string dtype, std::string shape, std::string kind,
              Tier tier, std::function<CaseSpec(Rng&)> build) {
  CaseEntry e;
  e.name = std::move(name);
  e.op = std::move(op);
  e.op_kind = op_kind;
  e.dtype = std::move(dtype);
  e.shape = std::move(shape);
  e.kind = std::move(kind);
  e.tier = tier;
  e.build = std::move(build);
  cases.push_back(std::move(e));
}

// ------------------------------------------------------------- values

void fill_normal(HostTensor& t, Rng& rng, double sigma, double mean) {
  for (int64_t i = 0; i < t.numel(); ++i) t.set(i, mean + sigma * rng.normal());
}

void fill_uniform(HostTensor& t, Rng& rng, double lo, double hi) {
  for (int64_t i = 0; i < t.numel(); ++i) t.set(i, rng.uniform(lo, hi));
}

void fill_integers(HostTensor& t, Rng& rng, int64_t lo, int64_t hi, double zero_fraction) {
  for (int64_t i = 0; i < t.numel(); ++i)
    t.set(i, zero_fraction > 0 && rng.chance(zero_fraction) ? 0 : rng.integer(lo, hi));
}

void fill_log_uniform(HostTensor& t, Rng& rng, double lo, double hi, double negative_fraction) {
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double v = std::exp2(rng.uniform(lo, hi));
    t.set(i, negative_fraction > 0 && rng.chance(negative_fraction) ? -v : v);
  }
}

void fill_large_mean(HostTensor& t, Rng& rng) {
  if (t.dtype == CHORUS_DTYPE_F16)
    fill_normal(t, rng, 4, 1000);
  else if (t.dtype == CHORUS_DTYPE_BF16)
    fill_normal(t, rng, 256, 1e4);
  else
    fill_normal(t, rng, 1, 1e4);
}

void fill_typical(HostTensor& t, Rng& rng, double sigma) {
  switch (t.dtype) {
    case CHORUS_DTYPE_I32:
    case CHORUS_DTYPE_I64:
      // Half small values (the common case), half anywhere in the range
      // (high bits, wrap-around).
      for (int64_t i = 0; i < t.numel(); ++i)
        t.set_bits(i,
                   rng.chance(0.5) ? static_cast<uint64_t>(rng.integer(-1000, 1000)) : rng.next());
      break;
    case CHORUS_DTYPE_U8:
      for (int64_t i = 0; i < t.numel(); ++i) t.set_bits(i, rng.next() & 0xFF);
      break;
    default:
      fill_normal(t, rng, sigma);
  }
}

void fill_list(HostTensor& t, const std::vector<long double>& values) {
  for (int64_t i = 0; i < t.numel(); ++i) t.set(i, values[static_cast<size_t>(i) % values.size()]);
}

int64_t exact_magnitude(chorus_dtype d) {
  return is_16bit_float(d) ? 4 : 32;
}

std::vector<long double> special_values(chorus_dtype d) {
  if (!is_float(d)) {
    std::vector<long double> v = {0, 1, 2, 3, 100, 127, 128, 255};
    if (d != CHORUS_DTYPE_U8) {
      const long double lo = static_cast<long double>(int_min(d));
      const long double hi = static_cast<long double>(int_max(d));
      for (const long double x :
           {-1.0L, -2.0L, -100.0L, hi, hi - 1, lo, lo + 1, 65536.0L, -65537.0L})
        v.push_back(x);
    }
    return v;
  }
  const long double inf = std::numeric_limits<long double>::infinity();
  const long double nan = std::numeric_limits<long double>::quiet_NaN();
  const long double sub = min_subnormal(d), normal = min_normal(d), big = max_finite(d);
  const long double eps = numeric::ulp(d, 1.0);
  std::vector<long double> v = {0.0L,       -0.0L,        sub,
                                -sub,       normal - sub, -(normal - sub),
                                normal,     -normal,      big,
                                -big,       inf,          -inf,
                                nan,        1.0L,         -1.0L,
                                1 + eps,    1 - eps / 2,  -(1 + eps),
                                0.5L,       2.0L,         -2.0L,
                                3.0L,       0.1L,         -0.1L,
                                10.0L,      -10.0L,       20.0L,
                                -20.0L,     88.0L,        89.0L,
                                90.0L,      -88.0L,       -89.0L,
                                -90.0L,     100.0L,       -100.0L,
                                1e-7L,      -1e-7L,       3.14159265358979L,
                                2 * normal, 0.75L,        -0.75L};
  // Edges of exp: the largest argument with a finite result, the smallest
  // with a normal and with a non-zero one, and ln(max) of each format.
  if (d == CHORUS_DTYPE_F16) {
    for (const long double x : {11.089L, 11.09L, -9.704L, -16.636L, -17.33L, 65504.0L, 4.0L, -4.0L})
      v.push_back(x);
  } else if (d == CHORUS_DTYPE_F64) {
    for (const long double x : {709.782L, 709.79L, -708.396L, -744.44L, -745.2L, 1e300L, 1e-300L})
      v.push_back(x);
  } else {
    for (const long double x : {88.7228L, 88.7229L, -87.3365L, -103.278L, -104.0L, 1e30L, 1e-30L})
      v.push_back(x);
  }
  return v;
}

std::vector<long double> pair_special_values(chorus_dtype d) {
  if (!is_float(d)) return special_values(d);
  const long double inf = std::numeric_limits<long double>::infinity();
  const long double nan = std::numeric_limits<long double>::quiet_NaN();
  const long double sub = min_subnormal(d), normal = min_normal(d), big = max_finite(d);
  const long double eps = numeric::ulp(d, 1.0);
  return {0.0L,  -0.0L,   sub,  -sub, normal, -normal, big,   -big, inf,   -inf,  nan,   1.0L,
          -1.0L, 1 + eps, 0.5L, 2.0L, -2.0L,  3.0L,    -3.0L, 0.1L, -2.5L, 10.0L, 0.75L, 1e-3L};
}

// ------------------------------------------------------------- layouts

std::vector<int64_t> padded_strides(const std::vector<int64_t>& shape, int64_t pad) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1) + (i + 1 == shape.size() ? pad : 0);
  }
  return strides;
}

std::vector<int64_t> permuted_strides(const std::vector<int64_t>& shape,
                                      const std::vector<size_t>& storage_order) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = storage_order.size(); i-- > 0;) {
    strides[storage_order[i]] = stride;
    stride *= std::max<int64_t>(shape[storage_order[i]], 1);
  }
  return strides;
}

std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape, size_t axis) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (i == axis) {
      strides[i] = 0;
      continue;
    }
    strides[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

HostTensor image_to_caller(const HostTensor& t, bool nhwc, bool one_d) {
  if (t.shape.size() != 4) return t;
  HostTensor out = t;
  if (nhwc) {
    const int64_t s0 = t.shape[0], s1 = t.shape[1], s2 = t.shape[2], s3 = t.shape[3];
    out = HostTensor(t.dtype, {s0, s2, s3, s1});
    for (int64_t a = 0; a < s0; ++a)
      for (int64_t b = 0; b < s1; ++b)
        for (int64_t c = 0; c < s2; ++c)
          for (int64_t d = 0; d < s3; ++d)
            out.set_bits(((a * s2 + c) * s3 + d) * s1 + b,
                         t.bits(((a * s1 + b) * s2 + c) * s3 + d));
  }
  if (one_d) out.shape.erase(out.shape.begin() + (nhwc ? 1 : 2));
  return out;
}

namespace {
std::vector<int64_t> image_view_strides(const HostTensor& t, ImageView view, bool nhwc,
                                        int64_t pad) {
  switch (view) {
    case ImageView::padded:
      return padded_strides(t.shape, pad);
    case ImageView::permuted:
      if (t.shape.size() == 4)
        return permuted_strides(
            t.shape, nhwc ? std::vector<size_t>{0, 3, 1, 2} : std::vector<size_t>{0, 2, 3, 1});
      if (t.shape.size() == 3) return permuted_strides(t.shape, {0, 2, 1});
      return {};
    default:
      return {};
  }
}
}  // namespace

Operand image_operand(const char* role, const HostTensor& logical, bool nhwc, bool one_d,
                      ImageView view, int64_t pad, int64_t extra) {
  if (!logical.present) return Operand{role, logical, {}, 0, -1};
  HostTensor t = image_to_caller(logical, nhwc, one_d);
  std::vector<int64_t> strides = image_view_strides(t, view, nhwc, pad);
  return Operand{role, std::move(t), std::move(strides), view == ImageView::offset ? extra : 0,
                 -1};
}

// --------------------------------------------------------- elementwise

namespace {

std::string shape_label(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

struct Variant {
  std::string kind, suffix;
  Tier tier = Tier::ci;
  std::vector<int64_t> out_shape;
  std::vector<std::vector<int64_t>> input_shapes;   // empty entry: out_shape
  std::vector<std::vector<int64_t>> input_strides;  // empty entry: contiguous
  std::vector<int64_t> input_offsets;
  std::vector<int64_t> out_strides;
  int64_t out_offset = 0;
  bool in_place = false;
  bool special = false;
};

CaseSpec build_elementwise(const ElementwiseOp& op, const Variant& v, Rng& rng) {
  CaseSpec s;
  const size_t n = op.inputs.size();
  std::vector<HostTensor> values;
  for (size_t k = 0; k < n; ++k) {
    const std::vector<int64_t>& shape =
        k < v.input_shapes.size() && !v.input_shapes[k].empty() ? v.input_shapes[k] : v.out_shape;
    values.emplace_back(op.inputs[k], shape);
  }
  if (v.special) {
    op.fill_special(values);
    s.subnormal_inputs = true;
  } else {
    for (size_t k = 0; k < n; ++k) op.fill(k, values[k], rng);
  }
  for (size_t k = 0; k < n; ++k) {
    Operand o;
    o.role = op.roles[k];
    o.value = std::move(values[k]);
    if (k < v.input_strides.size()) o.strides = v.input_strides[k];
    if (k < v.input_offsets.size()) o.extra_offset = v.input_offsets[k];
    s.operands.push_back(std::move(o));
  }
  Operand out;
  out.role = op.roles.back();
  out.value = HostTensor(op.output, v.out_shape);
  out.strides = v.out_strides;
  out.extra_offset = v.out_offset;
  if (v.in_place) out.alias_of = op.in_place_input;
  s.operands.push_back(std::move(out));
  s.output = n;
  s.call = op.call;
  s.call_text = op.call_text;
  s.check = op.check;
  s.oracle = op.oracle;
  if (op.check == Check::bounded) s.bound = op.bound();
  return s;
}

}  // namespace

void add_elementwise_sweep(std::vector<CaseEntry>& cases, const ElementwiseOp& op) {
  const size_t n = op.inputs.size();
  std::vector<Variant> variants;
  auto add = [&](Variant v) { variants.push_back(std::move(v)); };
  {
    Variant v;
    v.kind = op.regular_kind;
    v.tier = op.smoke_tier;
    v.out_shape = {64, 96};
    add(v);
    v.tier = Tier::ci;
    v.out_shape = {17, 33};
    add(v);
  }
  if (op.tile_sizes) {
    for (const int64_t size : kTileSizes) {
      Variant v;
      v.kind = "edge";
      v.out_shape = {size};
      add(v);
    }
    for (const int64_t size : kFullTileSizes) {
      Variant v;
      v.kind = "edge";
      v.tier = Tier::full;
      v.out_shape = {size};
      add(v);
    }
  }
  {
    Variant v;  // zero-size: a no-op that must leave the poisoned output alone
    v.kind = "edge";
    v.out_shape = {0, 7};
    add(v);
  }
  {
    Variant v;  // every input stored transposed
    v.kind = "view";
    v.suffix = "permuted";
    v.out_shape = {48, 40};
    for (size_t k = 0; k < n; ++k) v.input_strides.push_back(permuted_strides(v.out_shape, {1, 0}));
    add(v);
  }
  {
    Variant v;  // rank 3, a different axis order per input
    v.kind = "view";
    v.suffix = "permuted3";
    v.out_shape = {6, 5, 7};
    const std::vector<std::vector<size_t>> orders = {{2, 0, 1}, {1, 2, 0}, {2, 1, 0}};
    for (size_t k = 0; k < n; ++k)
      v.input_strides.push_back(permuted_strides(v.out_shape, orders[k % 3]));
    v.out_strides = permuted_strides(v.out_shape, {1, 0, 2});  // the output is a permuted view too
    add(v);
  }
  {
    Variant v;  // padded rows everywhere, the output's padding must stay poisoned
    v.kind = "view";
    v.suffix = "padded";
    v.tier = op.smoke_tier;  // smoke runs one view per op it samples
    v.out_shape = {33, 65};
    for (size_t k = 0; k < n; ++k) v.input_strides.push_back(padded_strides(v.out_shape, 3));
    v.out_strides = padded_strides(v.out_shape, 5);
    add(v);
  }
  {
    Variant v;  // element offsets that break every vector alignment
    v.kind = "view";
    v.suffix = "offset";
    v.out_shape = {31, 45};
    for (size_t k = 0; k < n; ++k) v.input_offsets.push_back(static_cast<int64_t>(3 + 2 * k));
    v.out_offset = 1;
    add(v);
  }
  {
    // Input 0 is a stride-0 view along the rows; input 1 broadcasts through
    // the API as a row vector; input 2 as a column.
    Variant v;
    v.kind = "view";
    v.suffix = "broadcast";
    v.out_shape = {40, 64};
    v.input_strides.push_back(broadcast_strides(v.out_shape, 0));
    if (n > 1) {
      v.input_shapes = {{}, {64}};
      v.input_strides.push_back({});
    }
    if (n > 2) v.input_shapes.push_back({40, 1});
    add(v);
  }
  if (op.in_place_input >= 0 && op.inputs[static_cast<size_t>(op.in_place_input)] == op.output) {
    Variant v;
    v.kind = "view";
    v.suffix = "inplace";
    v.out_shape = {50, 70};
    add(v);
    variants.back().in_place = true;
  }
  {
    Variant v;  // more rows than a 65535 grid dimension
    v.kind = "edge";
    v.tier = Tier::full;
    v.out_shape = {70000, 3};
    add(v);
  }
  if (op.fill_special) {
    Variant v;
    v.kind = "special";
    v.out_shape = {op.special_count};
    v.special = true;
    add(v);
  }
  // views_tier: the views but in-place, and the tile sizes (rank 1 edges).
  for (Variant& v : variants) {
    const bool tile_or_view =
        (v.kind == "view" && !v.in_place) || (v.kind == "edge" && v.out_shape.size() == 1);
    if (op.views_tier == Tier::full && tile_or_view) v.tier = Tier::full;
  }
  for (const Variant& v : variants) {
    std::string name = op.op + "/" + op.dtype_label + "/" + v.kind + "/" + shape_label(v.out_shape);
    if (!v.suffix.empty()) name += "/" + v.suffix;
    ElementwiseOp copy = op;
    add_case(cases, name, op.op, op.op_kind, op.dtype_label, shape_text(v.out_shape), v.kind, v.tier,
             [copy, v](Rng& rng) { return build_elementwise(copy, v, rng); });
  }
}

}  // namespace chorus::conformance::detail
