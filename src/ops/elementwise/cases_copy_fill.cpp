// cases_copy_fill.cpp — copy/convert between every pair of dtypes, and fill.
// Both are bit-exact classes (sign of zero included): a conversion has one
// correctly rounded answer, and the special cases aim at the places where
// implementations find a different one (round-to-nearest-even ties, double
// rounding through f32, truncation, saturation, NaN to integer).
#include <cmath>
#include <cstdio>
#include <limits>

#include "conformance/cases.hpp"
#include "elementwise/cases_elementwise.hpp"

namespace chorus::ops::elementwise {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// Values of `src` whose conversion to `dst` is easy to get wrong.
std::vector<long double> conversion_edges(chorus_dtype src, chorus_dtype dst) {
  std::vector<long double> v;
  const auto p = [](int e) { return std::ldexp(1.0L, e); };
  if (is_float(src) && is_float(dst)) {
    // Ties and near-ties of the destination's significand just above 1 and
    // in its subnormal range: round-to-nearest-even, not truncation.
    const int digits = significand_digits(dst);
    if (significand_digits(src) > digits) {
      for (const int k : {1, 3, 5}) {
        const long double tie = 1 + k * p(-digits);  // exactly between two dst values
        v.push_back(tie);
        v.push_back(-tie);
        v.push_back(tie + p(-significand_digits(src) + 1));  // just above: rounds up
      }
      v.push_back(1 + p(-digits) + p(-digits - 1));  // above the tie: truncation gives 1
      const long double sub = min_subnormal(dst);
      for (const long double x : {sub / 2, 3 * sub / 2, sub / 4, 5 * sub / 2}) v.push_back(x);
      v.push_back(max_finite(dst));
      v.push_back(max_finite(dst) +
                  0.5L * (overflow_threshold(dst) - max_finite(dst)));  // rounds down
      v.push_back(overflow_threshold(dst));  // the tie at the top rounds to infinity
    }
    // From f64, a detour through f32 rounds twice: 1 + 2^-digits + 2^-40 is
    // above the tie (rounds up) but becomes the tie itself in f32.
    if (src == CHORUS_DTYPE_F64 && is_16bit_float(dst)) {
      v.push_back(1 + p(-digits) + p(-40));
      v.push_back(1 + p(-digits) - p(-40));
    }
  }
  if (!is_float(src) && is_float(dst)) {
    // Integers just past the destination's exact range: ties go to even.
    const int digits = significand_digits(dst);
    for (const long double x : {p(digits) + 1, p(digits) + 3, -(p(digits) + 1), p(digits) - 1,
                                65504.0L, 65519.0L, 65520.0L, 2147483647.0L, -2147483648.0L})
      v.push_back(x);
    if (src == CHORUS_DTYPE_I64 && dst == CHORUS_DTYPE_F32)
      v.push_back(p(53) + p(29) + 1);  // via double: two ties, the wrong neighbour
    if (src == CHORUS_DTYPE_I64) {
      v.push_back(p(53) + 1);
      v.push_back(p(62) + 1);
    }
  }
  if (is_float(src) && !is_float(dst)) {
    // Truncation toward zero, saturation at the range, NaN -> 0.
    for (const long double x : {0.99L,
                                -0.99L,
                                1.5L,
                                -1.5L,
                                2.5L,
                                -2.5L,
                                127.5L,
                                255.5L,
                                256.0L,
                                300.0L,
                                -1.0L,
                                -300.0L,
                                2147483520.0L,
                                2147483647.5L,
                                2147483648.0L,
                                -2147483649.0L,
                                1e19L,
                                -1e19L,
                                9.2233720368547758e18L,
                                1e300L})
      v.push_back(x);
  }
  if (!is_float(src) && !is_float(dst)) {
    for (const long double x :
         {256.0L, -1.0L, 255.0L, 2147483648.0L, -2147483649.0L, 4294967296.0L})
      v.push_back(x);
  }
  return v;
}

void fill_copy_source(HostTensor& t, Rng& rng, chorus_dtype dst) {
  if (!is_float(t.dtype)) {
    fill_typical(t, rng, 0);
    return;
  }
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v;
    if (!is_float(dst)) {
      // Mostly within the integer's range, with fractions to truncate.
      v = dst == CHORUS_DTYPE_U8 ? rng.uniform(-20, 300) : 200 * rng.normal();
    } else if (rng.chance(0.7)) {
      v = 100 * rng.normal();
    } else {
      // Wide magnitudes: underflow and overflow of the narrower formats.
      v = std::exp2(rng.uniform(-30, 30)) * (rng.chance(0.5) ? -1 : 1);
    }
    t.set(i, v);
  }
}

bool copy_tile_pair(chorus_dtype src, chorus_dtype dst) {
  if (src == dst) return true;
  const auto is = [&](chorus_dtype a, chorus_dtype b) { return src == a && dst == b; };
  return is(CHORUS_DTYPE_F32, CHORUS_DTYPE_F16) || is(CHORUS_DTYPE_F16, CHORUS_DTYPE_F32) ||
         is(CHORUS_DTYPE_F32, CHORUS_DTYPE_BF16) || is(CHORUS_DTYPE_BF16, CHORUS_DTYPE_F32) ||
         is(CHORUS_DTYPE_F32, CHORUS_DTYPE_I32) || is(CHORUS_DTYPE_I32, CHORUS_DTYPE_F32);
}

}  // namespace

void add_copy_cases(std::vector<CaseEntry>& cases) {
  for (const chorus_dtype src : kAllDtypes) {
    for (const chorus_dtype dst : kAllDtypes) {
      ElementwiseOp op;
      op.op = "copy";
      op.op_kind = CHORUS_OP_COPY;
      op.dtype_label = dtype_text(src) + "->" + dtype_text(dst);
      op.inputs = {src};
      op.roles = {"src", "dst"};
      op.output = dst;
      op.call = [](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
        return chorus_copy(q, t[0], t[1]);
      };
      op.check = Check::exact_signed;
      op.regular_kind = "exact";
      op.fill = [dst](size_t, HostTensor& t, Rng& rng) { fill_copy_source(t, rng, dst); };
      std::vector<long double> specials = special_values(src);
      for (const long double x : conversion_edges(src, dst)) specials.push_back(x);
      if (src == CHORUS_DTYPE_U8)
        for (int i = 0; i < 256; ++i) specials.push_back(i);  // every u8 value
      op.special_count = static_cast<int64_t>(specials.size());
      op.fill_special = [specials](std::vector<HostTensor>& in) { fill_list(in[0], specials); };
      op.in_place_input = 0;
      op.tile_sizes = copy_tile_pair(src, dst);
      const bool smoke =
          (src == CHORUS_DTYPE_F32 && (dst == CHORUS_DTYPE_F16 || dst == CHORUS_DTYPE_BF16)) ||
          (src == CHORUS_DTYPE_I64 && dst == CHORUS_DTYPE_F64);
      op.smoke_tier = smoke ? Tier::smoke : Tier::ci;
      add_elementwise_sweep(cases, op);
    }
  }
}

// ---------------------------------------------------------------- fill

namespace {

struct FillValue {
  const char* label;
  double value;
};

const FillValue kFillValues[] = {
    {"0", 0.0},
    {"-0", -0.0},
    {"1.5", 1.5},
    {"-2.75", -2.75},
    {"third", 1.0 / 3},
    {"1e10", 1e10},
    {"-1e10", -1e10},
    {"nan", NAN},
    {"inf", INFINITY},
    {"-inf", -INFINITY},
    {"65519", 65519.0},
    {"65520", 65520.0},
    {"300", 300.0},
    {"-1", -1.0},
    {"3.99", 3.99},
    {"-3.99", -3.99},
    {"2^31", 2147483648.0},
    {"1e300", 1e300},
    {"f32_min_subnormal", 0x1p-149},
    {"f64_min_subnormal", 0x1p-1074},
};

CaseSpec fill_spec(chorus_dtype dtype, std::vector<int64_t> shape, std::vector<int64_t> strides,
                   int64_t offset, double value) {
  CaseSpec s;
  Operand dst;
  dst.role = "dst";
  dst.value = HostTensor(dtype, std::move(shape));
  dst.strides = std::move(strides);
  dst.extra_offset = offset;
  s.operands.push_back(std::move(dst));
  s.output = 0;
  s.call = [value](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_fill(q, t[0], value);
  };
  char text[64];
  std::snprintf(text, sizeof text, "value=%.17g", value);
  s.call_text = text;
  s.check = Check::exact_signed;
  return s;
}

}  // namespace

void add_fill_cases(std::vector<CaseEntry>& cases) {
  for (const chorus_dtype d : kAllDtypes) {
    const std::string dt = dtype_text(d);
    for (const FillValue& f : kFillValues) {
      const double value = f.value;
      const bool smoke = std::string(f.label) == "1.5" || std::string(f.label) == "nan";
      add_case(cases, "fill/" + dt + "/special/64x96/value=" + f.label, "fill", CHORUS_OP_FILL, dt,
               "[64,96]", "special", smoke ? Tier::smoke : Tier::ci, [d, value](Rng&) {
                 return fill_spec(d, {64, 96}, {}, 0, value);
               });
    }
    for (const int64_t size : kTileSizes)
      add_case(cases, "fill/" + dt + "/edge/" + std::to_string(size), "fill", CHORUS_OP_FILL, dt,
               "[" + std::to_string(size) + "]", "edge", Tier::ci,
               [d, size](Rng&) { return fill_spec(d, {size}, {}, 0, -7.25); });
    add_case(cases, "fill/" + dt + "/edge/0x7", "fill", CHORUS_OP_FILL, dt, "[0,7]", "edge", Tier::ci,
             [d](Rng&) {
               return fill_spec(d, {0, 7}, {}, 0, 2.0);
             });
    add_case(cases, "fill/" + dt + "/view/33x65/padded", "fill", CHORUS_OP_FILL, dt, "[33,65]", "view",
             Tier::ci, [d](Rng&) {
               return fill_spec(d, {33, 65}, padded_strides({33, 65}, 5), 0, 5.5);
             });
    add_case(cases, "fill/" + dt + "/view/48x40/permuted", "fill", CHORUS_OP_FILL, dt, "[48,40]", "view",
             Tier::ci, [d](Rng&) {
               return fill_spec(d, {48, 40}, permuted_strides({48, 40}, {1, 0}), 0, -3.0);
             });
    add_case(cases, "fill/" + dt + "/view/31x45/offset", "fill", CHORUS_OP_FILL, dt, "[31,45]", "view",
             Tier::ci, [d](Rng&) {
               return fill_spec(d, {31, 45}, {}, 3, 9.0);
             });
    add_case(cases, "fill/" + dt + "/edge/70000x3", "fill", CHORUS_OP_FILL, dt, "[70000,3]", "edge",
             Tier::full, [d](Rng&) {
               return fill_spec(d, {70000, 3}, {}, 0, 1.25);
             });
  }
}

}  // namespace chorus::ops::elementwise
