// cases.cpp — the cumsum folder's conformance layer (family "cumsum"):
// running sums over the float dtypes and i32/i64, every layout in all four
// modes (inclusive or exclusive, forwards or reversed; the long rows in
// fewer). Float scans are checked twice over: exactly, on small integers
// thinned so that every partial sum of a row is representable (any
// association gives the same bits, CONFORMANCE.md's safe_n rule), and
// against the derived c k u S_i bound (below) on random, all-positive and
// wide-magnitude rows. Integer scans are exact and wrap (full-range values). Shapes: regular and odd,
// the scan axis first, middle or last (and negative), tile edges, long rows
// (1e5 in ci, 1e6 in full), more than 65,535 rows, zero sizes; views:
// permuted (the scan axis strided), padded, offset, broadcast, in place.
#include <algorithm>
#include <cmath>
#include <string>

#include "conformance/bounds.hpp"
#include "conformance/cases.hpp"

namespace chorus::ops::cumsum {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// ---------------------------------------------------------------- bounds

size_t normal_axis(int32_t axis, size_t rank) {
  return static_cast<size_t>(axis < 0 ? axis + static_cast<int32_t>(rank) : axis);
}

// x, y (x's shape) along axis.
BoundFn cumsum_bound(int32_t axis, bool exclusive, bool reverse) {
  // y_i sums the k_i elements of its row that reach position i (inclusive)
  // or precede it (exclusive), counted from the row's start, or from its end
  // when reversed: for position j of n, k = j + 1 (inclusive) or j
  // (exclusive), and n - j or n - 1 - j reversed. However a scan associates
  // those k terms (sequentially, in blocks, as a tree like Blelloch's, or
  // with a decoupled look-back), y_i is a binary tree of k - 1 additions
  // over exactly its k terms, each rounding relative to a partial sum
  // bounded by S_i = sum of |x| over those terms:
  //   |err_i| <= gamma_(k-1) S_i, plus the final rounding of an f32 output,
  //   u |y_i| <= u S_i. Total <= k u S_i (1 + O(ku)), so
  //   |err_i| <= c k u S_i + R,
  // the reduction's bound with n = k (u of the f32 accumulator for f16/bf16
  // outputs, R for them; the f64 oracle's own half-ulp rounding is at most
  // u S_i, inside the factor c). S_i is the reference's cumsum of |x| with
  // the same axis, exclusive and reverse. k = 0 (an exclusive first element)
  // is the empty sum: exactly 0. A scan that forms a prefix by subtraction
  // (exclusive as inclusive minus x_i, reversed as the total minus a
  // prefix) cancels, its error relative to the larger sum rather than S_i:
  // this bound rejects it, as it should.
  using namespace bounds;
  return [axis, exclusive, reverse](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& y = in.expected;
    std::vector<HostTensor> scale{absolute(x), HostTensor(y.dtype, y.shape)};
    const OpCall call = [axis, exclusive, reverse](chorus_queue q,
                                                   const std::vector<const chorus_tensor*>& t) {
      return chorus_cumsum(q, t[0], axis, exclusive ? 1 : 0, reverse ? 1 : 0, t[1]);
    };
    in.reference.run(call, scale, 1, false);
    const HostTensor& s = scale[1];
    const double u = accumulation_u(in.out_dtype);
    std::vector<double> b(static_cast<size_t>(y.numel()), 0.0);
    for_each_row(y.shape, normal_axis(axis, y.shape.size()),
                 [&](int64_t first, int64_t stride, int64_t n) {
                   for (int64_t j = 0; j < n; ++j) {
                     const int64_t i = first + j * stride;
                     const int64_t k = (reverse ? n - j : j + 1) - (exclusive ? 1 : 0);
                     double bound = kC * static_cast<double>(k) * u * static_cast<double>(s.get(i));
                     if (!(bound >= 0)) bound = 0;  // a NaN in the row: checked exactly
                     b[static_cast<size_t>(i)] =
                         bound + final_rounding(in.out_dtype, static_cast<double>(y.get(i)));
                   }
                 });
    return b;
  };
}

// ------------------------------------------------------------ the layouts

enum class Data { regular, exact, positive, wide_magnitude, special };

struct ScanLayout {
  std::string label, kind;  // kind empty: "accuracy" for floats, "exact" for integers
  Tier tier = Tier::ci;
  std::vector<int64_t> shape;
  int32_t axis = -1;
  Data data = Data::regular;
  std::vector<int64_t> x_strides, y_strides;
  int64_t x_offset = 0, y_offset = 0;
  bool in_place = false;
  bool floats_only = false;
  // Modes run: 4 all (every layout but the long rows), 2 inclusive and
  // exclusive-reverse (long rows: both flags, half the time), 1 inclusive
  // (the long exact rows: exactness does not depend on the mode).
  int modes = 4;
};

ScanLayout make(std::string label, std::string kind, std::vector<int64_t> shape, int32_t axis,
                Tier tier = Tier::ci) {
  ScanLayout l;
  l.label = std::move(label);
  l.kind = std::move(kind);
  l.shape = std::move(shape);
  l.axis = axis;
  l.tier = tier;
  return l;
}

std::vector<ScanLayout> layouts() {
  std::vector<ScanLayout> v;
  v.push_back(make("64x200", "", {64, 200}, 1));
  v.push_back(make("17x33", "", {17, 33}, -1));
  v.push_back(make("200x64/axis0", "", {200, 64}, 0));
  v.push_back(make("8x50x9/axis1", "", {8, 50, 9}, 1));
  v.push_back(make("6x5x7/axis-3", "", {6, 5, 7}, -3));
  for (const int64_t n : kTileSizes)
    v.push_back(make("3x" + std::to_string(n), "edge", {3, n}, 1));
  for (const int64_t n : kFullTileSizes)
    v.push_back(make("3x" + std::to_string(n), "edge", {3, n}, 1, Tier::full));
  v.push_back(make("2x4097", "edge", {2, 4097}, 1));
  v.push_back(make("1x100003/long", "edge", {1, 100003}, 1));
  v.back().modes = 2;
  v.push_back(make("1x1000000/long", "edge", {1, 1000000}, 1, Tier::full));
  v.back().modes = 2;
  v.push_back(make("70000x3", "edge", {70000, 3}, 1, Tier::full));  // rows above a 65535 grid
  v.push_back(make("3x70000/axis0", "edge", {3, 70000}, 0, Tier::full));
  v.push_back(make("0x5", "edge", {0, 5}, 1));
  v.push_back(make("5x0/empty-axis", "edge", {5, 0}, 1));
  {
    ScanLayout l = make("40x50/permuted", "view", {40, 50}, 1);
    l.x_strides = permuted_strides(l.shape, {1, 0});  // the scan axis strided
    v.push_back(l);
    l = make("40x50/permuted-axis0", "view", {40, 50}, 0);
    l.x_strides = permuted_strides(l.shape, {1, 0});  // the scan axis contiguous, not last
    v.push_back(l);
    l = make("40x50/permuted-out", "view", {40, 50}, 1);
    l.y_strides = permuted_strides(l.shape, {1, 0});
    v.push_back(l);
    l = make("6x5x7/permuted3", "view", {6, 5, 7}, 1);
    l.x_strides = permuted_strides(l.shape, {2, 0, 1});
    l.y_strides = permuted_strides(l.shape, {1, 2, 0});
    v.push_back(l);
    l = make("33x65/padded", "view", {33, 65}, 1);
    l.x_strides = padded_strides(l.shape, 3);
    l.y_strides = padded_strides(l.shape, 5);
    v.push_back(l);
    l = make("31x45/offset", "view", {31, 45}, 1);
    l.x_offset = 3;
    l.y_offset = 1;
    v.push_back(l);
    l = make("40x64/broadcast-axis", "view", {40, 64}, 1);
    l.x_strides = broadcast_strides(l.shape, 1);  // each row one repeated value
    v.push_back(l);
    l = make("40x64/broadcast-rows", "view", {40, 64}, 1);
    l.x_strides = broadcast_strides(l.shape, 0);  // every row the same
    v.push_back(l);
    l = make("50x70/inplace", "view", {50, 70}, 1);
    l.in_place = true;
    v.push_back(l);
    l = make("70x50/inplace-axis0", "view", {70, 50}, 0);
    l.in_place = true;
    v.push_back(l);
  }
  {
    // Exact twins: small integers, safe_n non-zeros at most per row.
    ScanLayout l = make("64x256", "exact", {64, 256}, 1);
    l.data = Data::exact;
    l.floats_only = true;
    v.push_back(l);
    l = make("256x48/axis0", "exact", {256, 48}, 0);
    l.data = Data::exact;
    l.floats_only = true;
    v.push_back(l);
    l = make("3x4097", "exact", {3, 4097}, 1);
    l.data = Data::exact;
    l.floats_only = true;
    v.push_back(l);
    l = make("1x100003/long", "exact", {1, 100003}, 1);
    l.data = Data::exact;
    l.floats_only = true;
    l.modes = 1;
    v.push_back(l);
    l.modes = 4;
    l = make("33x65/permuted-padded", "exact", {33, 65}, 1);
    l.data = Data::exact;
    l.floats_only = true;
    l.x_strides = permuted_strides(l.shape, {1, 0});
    l.y_strides = padded_strides(l.shape, 2);
    v.push_back(l);
  }
  {
    // All-positive long rows: an f16 accumulator stalls on them.
    ScanLayout l = make("4x4096/positive", "accuracy", {4, 4096}, 1);
    l.data = Data::positive;
    l.floats_only = true;
    v.push_back(l);
    // Terms over many binades: a prefix formed by subtraction cancels.
    l = make("16x256/wide-magnitude", "accuracy", {16, 256}, 1);
    l.data = Data::wide_magnitude;
    l.floats_only = true;
    v.push_back(l);
  }
  return v;
}

// ---------------------------------------------------------------- values

// Small integers (f32/f64 in [-32, 32], f16/bf16 in [-4, 4]) with a
// fraction min(1, safe_n / n) of non-zeros per row of n and never more than
// safe_n = 2^digits / m of them: every partial sum of a row, in any order,
// is an integer of magnitude <= safe_n m = 2^digits, exact in the dtype.
void fill_exact_scan(HostTensor& t, Rng& rng, size_t axis) {
  const int64_t m = exact_magnitude(t.dtype);
  const int64_t safe_n = (int64_t{1} << std::min(significand_digits(t.dtype), 48)) / m;
  bounds::for_each_row(t.shape, axis, [&](int64_t first, int64_t stride, int64_t n) {
    const double p = std::min(1.0, static_cast<double>(safe_n) / static_cast<double>(n));
    int64_t nonzeros = 0;
    for (int64_t j = 0; j < n; ++j) {
      int64_t v = 0;
      if (nonzeros < safe_n && rng.chance(p) && !rng.chance(0.1)) v = rng.integer(-m, m);
      if (v != 0) ++nonzeros;
      t.set(first + j * stride, static_cast<long double>(v));
    }
  });
}

void fill_special_rows(HostTensor& t, const std::vector<long double>& specials) {
  const int64_t n = static_cast<int64_t>(specials.size());
  const int64_t row = t.shape.back();
  for (int64_t i = 0; i < t.numel(); ++i)
    t.set(i, specials[static_cast<size_t>((i / row + (i % row) * 7) % n)]);
}

std::string mode_label(bool exclusive, bool reverse) {
  return std::string(exclusive ? "exclusive" : "inclusive") + (reverse ? "-reverse" : "");
}

CaseSpec cumsum_spec(chorus_dtype d, const ScanLayout& l, bool exclusive, bool reverse,
                     Rng& rng) {
  CaseSpec s;
  HostTensor x(d, l.shape);
  switch (l.data) {
    case Data::regular:
      if (is_float(d))
        fill_normal(x, rng, 1);
      else
        fill_typical(x, rng, 0);  // half small, half anywhere: sums that wrap
      break;
    case Data::exact:
      fill_exact_scan(x, rng, normal_axis(l.axis, l.shape.size()));
      break;
    case Data::positive:
      fill_uniform(x, rng, 0, 1);
      break;
    case Data::wide_magnitude: {
      const double spread = is_16bit_float(d) ? 4 : 12;
      for (int64_t i = 0; i < x.numel(); ++i)
        x.set(i, rng.normal() * std::exp2(rng.uniform(-spread, spread)));
      break;
    }
    case Data::special:
      fill_special_rows(x, special_values(d));
      s.subnormal_inputs = true;
      break;
  }
  Operand y{"y", HostTensor(d, l.shape), l.y_strides, l.y_offset, -1};
  if (l.in_place) y.alias_of = 0;
  s.operands = {Operand{"x", x, l.x_strides, l.x_offset, -1}, y};
  s.output = 1;
  const int32_t axis = l.axis;
  s.call = [axis, exclusive, reverse](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_cumsum(q, t[0], axis, exclusive ? 1 : 0, reverse ? 1 : 0, t[1]);
  };
  s.call_text = "axis=" + std::to_string(axis) + " exclusive=" + (exclusive ? "1" : "0") +
                " reverse=" + (reverse ? "1" : "0");
  if (!is_float(d) || l.data == Data::exact) {
    s.check = Check::exact;
  } else {
    s.check = Check::bounded;
    s.oracle = OracleKind::wide;
    s.bound = cumsum_bound(axis, exclusive, reverse);
  }
  return s;
}

void add_cumsum_cases(std::vector<CaseEntry>& cases) {
  const chorus_dtype dtypes[] = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16, CHORUS_DTYPE_BF16,
                                 CHORUS_DTYPE_F64, CHORUS_DTYPE_I32, CHORUS_DTYPE_I64};
  for (const chorus_dtype d : dtypes) {
    const std::string dt = dtype_text(d);
    std::vector<ScanLayout> all = layouts();
    {
      ScanLayout l = make("special", "special", {static_cast<int64_t>(special_values(d).size()), 4}, 1);
      l.data = Data::special;
      all.push_back(l);
    }
    for (ScanLayout l : all) {
      if (l.floats_only && !is_float(d)) continue;
      if (l.kind.empty()) l.kind = is_float(d) ? "accuracy" : "exact";
      for (const bool exclusive : {false, true})
        for (const bool reverse : {false, true}) {
          if ((l.modes == 2 && exclusive != reverse) || (l.modes == 1 && (exclusive || reverse)))
            continue;
          Tier tier = l.tier;
          const bool first_mode = !exclusive && !reverse;
          if ((d == CHORUS_DTYPE_F32 && l.label == "64x200" && (first_mode || (exclusive && reverse))) ||
              (d == CHORUS_DTYPE_F32 && l.label == "33x65/padded" && l.kind == "view" && first_mode) ||
              (d == CHORUS_DTYPE_F16 && l.label == "64x256" && first_mode) ||
              (d == CHORUS_DTYPE_I32 && l.label == "64x200" && first_mode))
            tier = Tier::smoke;
          add_case(cases,
                   "cumsum/" + dt + "/" + l.kind + "/" + l.label + "/" + mode_label(exclusive, reverse),
                   "cumsum", CHORUS_OP_CUMSUM, dt, shape_text(l.shape), l.kind, tier,
                   [d, l, exclusive, reverse](Rng& rng) {
                     return cumsum_spec(d, l, exclusive, reverse, rng);
                   });
        }
    }
  }
}

}  // namespace

void register_cases() {
  register_family("cumsum", add_cumsum_cases);
}

}  // namespace chorus::ops::cumsum
