// cases.cpp — the reduce folder's conformance layer (family "reduce"): sum
// (floats, i32, i64), mean (floats), max and min (all dtypes) over one,
// several or all axes, and argmax. Float sums are checked twice over:
// exactly, on small integers thinned so that every partial sum is
// representable (any order gives the same bits), and against the derived
// c n u sum|x| bound (below, with its derivation) on random and all-positive
// rows.
#include <cmath>
#include <map>

#include "conformance/bounds.hpp"
#include "conformance/cases.hpp"

namespace chorus::ops::reduce {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// ---------------------------------------------------------------- bounds

// Sum or mean of x (operand 0) over axes_mask into the output (operand 1).
BoundFn reduce_bound(chorus_reduce_op op, uint32_t axes_mask) {
  // sum of n terms in any order (sequential, pairwise, tree, atomics):
  //   |err| <= gamma_(n-1) sum|x|  (n-1 additions, each rounding relative to
  //   a partial sum bounded by sum|x|), plus the final rounding of an f32
  //   output, u |y| <= u sum|x|. Total <= n u sum|x| (1 + O(nu)), so
  //   |err| <= c n u sum|x| + R, the R for 16-bit outputs.
  // mean = sum / n: the sum's error divided by n plus one more rounding,
  //   u |mean| <= u mean|x|: (n-1) u mean|x| + 2u mean|x| <= c n u mean|x| + R
  //   (n >= 1). The reference's mean of |x| is that scale.
  // S (sum|x| or mean|x|) comes from the reference run on |x|.
  return [op, axes_mask](const BoundInputs& in) {
    const HostTensor& y = in.expected;
    std::vector<HostTensor> scale{bounds::absolute(in.operands[0]), HostTensor(y.dtype, y.shape)};
    const OpCall call = [op, axes_mask](chorus_queue q,
                                        const std::vector<const chorus_tensor*>& t) {
      return chorus_reduce(q, op, t[0], axes_mask, t[1]);
    };
    in.reference.run(call, scale, 1, false);
    const double n =
        y.numel() ? static_cast<double>(in.operands[0].numel()) / static_cast<double>(y.numel())
                  : 0;
    const double u = bounds::accumulation_u(in.out_dtype);
    std::vector<double> b(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i)
      b[static_cast<size_t>(i)] = bounds::kC * n * u * static_cast<double>(scale[1].get(i)) +
                                  bounds::final_rounding(in.out_dtype, static_cast<double>(y.get(i)));
    return b;
  };
}

enum class Data { regular, exact, positive, special };

struct Layout {
  Layout(std::string label_, std::string kind_, Tier tier_, std::vector<int64_t> shape_,
         uint32_t mask_, int32_t axis_ = 0, bool keepdims_ = false)
      : label(std::move(label_)),
        kind(std::move(kind_)),
        tier(tier_),
        shape(std::move(shape_)),
        mask(mask_),
        axis(axis_),
        keepdims(keepdims_) {}
  std::string label, kind;
  Tier tier = Tier::ci;
  std::vector<int64_t> shape;
  uint32_t mask = 0;  // reduce: axes; argmax: bit of the one axis
  int32_t axis = 0;   // argmax's axis argument as passed (may be negative)
  bool keepdims = false;
  std::vector<int64_t> x_strides;
  int64_t x_offset = 0;
  std::vector<int64_t> out_strides;
  int64_t out_offset = 0;
  Data data = Data::regular;
};

std::vector<int64_t> output_shape(const std::vector<int64_t>& shape, uint32_t mask, bool keepdims) {
  std::vector<int64_t> out;
  for (size_t k = 0; k < shape.size(); ++k) {
    if (mask & (1u << k)) {
      if (keepdims) out.push_back(1);
    } else {
      out.push_back(shape[k]);
    }
  }
  return out;
}

// Flat index of the output element that x's element `flat` reduces into.
int64_t reduced_index(const std::vector<int64_t>& shape, uint32_t mask, int64_t flat) {
  int64_t out = 0, stride = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    const int64_t index = flat % shape[k];
    flat /= shape[k];
    if (mask & (1u << k)) continue;
    out += index * stride;
    stride *= shape[k];
  }
  return out;
}

// Small integers with at most `cap` non-zeros per reduction, so that every
// partial sum, in any order, is an integer below 2^digits: exact.
void fill_exact_sum(HostTensor& t, Rng& rng, uint32_t mask) {
  const int64_t m = exact_magnitude(t.dtype);
  const int64_t cap = (int64_t{1} << significand_digits(t.dtype)) / m;
  fill_integers(t, rng, -m, m, 0.1);
  std::map<int64_t, int64_t> nonzeros;
  for (int64_t i = 0; i < t.numel(); ++i)
    if (t.get(i) != 0 && ++nonzeros[reduced_index(t.shape, mask, i)] > cap) t.set(i, 0);
}

void fill_ties(HostTensor& t, Rng& rng) {
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (t.dtype == CHORUS_DTYPE_U8)
      t.set(i, rng.integer(0, 5));
    else if (!is_float(t.dtype))
      t.set(i, rng.chance(0.1) ? static_cast<long double>(rng.next() % 1000000) - 500000
                               : rng.integer(-3, 3));
    else
      t.set(i, rng.chance(0.8) ? static_cast<double>(rng.integer(-6, 6)) / 2 : rng.normal());
  }
}

void fill_special_rows(HostTensor& t, const std::vector<long double>& specials) {
  const int64_t n = static_cast<int64_t>(specials.size());
  const int64_t row = t.shape.back();
  for (int64_t i = 0; i < t.numel(); ++i)
    t.set(i, specials[static_cast<size_t>((i / row + (i % row) * 7) % n)]);
}

// The layouts every reduction (and, with the axis in mask, argmax) runs.
std::vector<Layout> layouts(bool argmax) {
  std::vector<Layout> v;
  auto add = [&](Layout l) { v.push_back(std::move(l)); };
  add({"64x200/axis1", "", Tier::ci, {64, 200}, 0b10, 1});
  add({"200x64/axis0", "", Tier::ci, {200, 64}, 0b01, 0});
  add({"1030x9/axis1", "", Tier::ci, {1030, 9}, 0b10, 1});  // many short rows, a large output
  add({"8x50x9/axis1/keepdims", "", Tier::ci, {8, 50, 9}, 0b010, 1, true});
  if (argmax) {
    add({"20x30/axis-1", "", Tier::ci, {20, 30}, 0b10, -1});
  } else {
    add({"33x17/all", "", Tier::ci, {33, 17}, 0b11});
    add({"33x17/all/keepdims", "", Tier::ci, {33, 17}, 0b11, 0, true});
    add({"6x7x8x9/axes1,3", "", Tier::ci, {6, 7, 8, 9}, 0b1010});
  }
  for (const int64_t n : kTileSizes)
    add({"3x" + std::to_string(n), "edge", Tier::ci, {3, n}, 0b10, 1});
  for (const int64_t n : kFullTileSizes)
    add({"3x" + std::to_string(n), "edge", Tier::full, {3, n}, 0b10, 1});
  add({"2x4097", "edge", Tier::ci, {2, 4097}, 0b10, 1});
  add({"1x1048576", "edge", Tier::full, {1, 1048576}, 0b10, 1});
  add({"70000x3", "edge", Tier::full, {70000, 3}, 0b10, 1});
  add({"0x5", "edge", Tier::ci, {0, 5}, 0b10, 1});
  {
    Layout l{"40x50/permuted", "view", Tier::ci, {40, 50}, 0b10, 1};
    l.x_strides = permuted_strides(l.shape, {1, 0});
    add(l);
  }
  {
    Layout l{"33x65/padded", "view", Tier::ci, {33, 65}, 0b10, 1};
    l.x_strides = padded_strides(l.shape, 3);
    l.out_strides = {2};  // every other output element is padding that must stay poisoned
    add(l);
  }
  {
    Layout l{"31x45/offset", "view", Tier::ci, {31, 45}, 0b01, 0};
    l.x_offset = 5;
    l.out_offset = 3;
    add(l);
  }
  {
    Layout l{"40x64/broadcast-reduced", "view", Tier::ci, {40, 64}, 0b10, 1};
    l.x_strides = broadcast_strides(l.shape, 1);  // each row one repeated value
    add(l);
  }
  {
    Layout l{"40x64/broadcast-kept", "view", Tier::ci, {40, 64}, 0b10, 1};
    l.x_strides = broadcast_strides(l.shape, 0);  // every row the same
    add(l);
  }
  return v;
}

CaseSpec reduce_spec(chorus_reduce_op op, chorus_dtype d, const Layout& l, Rng& rng) {
  CaseSpec s;
  HostTensor x(d, l.shape);
  switch (l.data) {
    case Data::exact:
      fill_exact_sum(x, rng, l.mask);
      break;
    case Data::positive:
      fill_uniform(x, rng, 0, 1);
      break;
    case Data::special:
      fill_special_rows(x, special_values(d));
      s.subnormal_inputs = true;
      break;
    case Data::regular:
      if (op == CHORUS_REDUCE_SUM && !is_float(d))
        fill_typical(x, rng, 0);  // wrap-around sums
      else if (op == CHORUS_REDUCE_SUM || op == CHORUS_REDUCE_MEAN)
        fill_normal(x, rng, 1);
      else
        fill_ties(x, rng);
      break;
  }
  s.operands = {Operand{"x", x, l.x_strides, l.x_offset, -1},
                Operand{"out", HostTensor(d, output_shape(l.shape, l.mask, l.keepdims)),
                        l.out_strides, l.out_offset, -1}};
  s.output = 1;
  const uint32_t mask = l.mask;
  s.call = [op, mask](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_reduce(q, op, t[0], mask, t[1]);
  };
  s.call_text = "axes_mask=" + std::to_string(mask) + (l.keepdims ? " keepdims" : "");
  const bool summing = op == CHORUS_REDUCE_SUM || op == CHORUS_REDUCE_MEAN;
  if (summing && is_float(d) && l.data != Data::exact) {
    s.check = Check::bounded;
    s.oracle = OracleKind::wide;
    s.bound = reduce_bound(op, mask);
  } else {
    s.check = Check::exact;
  }
  return s;
}

struct ReduceInfo {
  chorus_reduce_op op;
  const char* name;
};

void add_reductions(std::vector<CaseEntry>& cases) {
  const ReduceInfo ops[] = {{CHORUS_REDUCE_SUM, "sum"},
                            {CHORUS_REDUCE_MEAN, "mean"},
                            {CHORUS_REDUCE_MAX, "reduce_max"},
                            {CHORUS_REDUCE_MIN, "reduce_min"}};
  for (const ReduceInfo& r : ops) {
    std::vector<chorus_dtype> dtypes;
    if (r.op == CHORUS_REDUCE_SUM)
      dtypes = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16, CHORUS_DTYPE_BF16,
                CHORUS_DTYPE_F64, CHORUS_DTYPE_I32, CHORUS_DTYPE_I64};
    else if (r.op == CHORUS_REDUCE_MEAN)
      dtypes = kFloatDtypes;
    else
      dtypes = kAllDtypes;
    const bool summing = r.op == CHORUS_REDUCE_SUM || r.op == CHORUS_REDUCE_MEAN;
    for (const chorus_dtype d : dtypes) {
      const std::string dt = dtype_text(d);
      std::vector<Layout> all = layouts(false);
      const bool float_sum = summing && is_float(d);
      if (float_sum) {
        // Exact twins of the two main layouts (power-of-two n keeps the mean exact).
        all.push_back({"64x256/axis1", "exact", Tier::ci, {64, 256}, 0b10, 1});
        all.back().data = Data::exact;
        all.push_back({"128x64/axis0", "exact", Tier::ci, {128, 64}, 0b01, 0});
        all.back().data = Data::exact;
        // All-positive long rows: an f16 accumulator stalls on them.
        all.push_back({"4x4096/positive", "accuracy", Tier::ci, {4, 4096}, 0b10, 1});
        all.back().data = Data::positive;
      }
      if (summing) {
        // A sum over an empty axis is 0, a mean NaN; max and min have no answer.
        all.push_back({"5x0/empty-axis", "edge", Tier::ci, {5, 0}, 0b10, 1});
      }
      all.push_back({"special",
                     "special",
                     Tier::ci,
                     {static_cast<int64_t>(special_values(d).size()), 4},
                     0b10,
                     1});
      all.back().data = Data::special;
      for (size_t i = 0; i < all.size(); ++i) {
        Layout l = all[i];
        if (l.kind.empty()) l.kind = float_sum ? "accuracy" : "exact";
        if ((i == 0 || (d == CHORUS_DTYPE_F32 && (i == 2 || l.label == "33x65/padded"))) &&
            ((r.op == CHORUS_REDUCE_SUM && (d == CHORUS_DTYPE_F32 || d == CHORUS_DTYPE_F16)) ||
             (r.op == CHORUS_REDUCE_MAX && d == CHORUS_DTYPE_I32) ||
             (r.op == CHORUS_REDUCE_MEAN && d == CHORUS_DTYPE_BF16)))
          l.tier = Tier::smoke;
        const chorus_reduce_op op = r.op;
        add_case(cases, std::string(r.name) + "/" + dt + "/" + l.kind + "/" + l.label, r.name,
                 CHORUS_OP_REDUCE, dt, shape_text(l.shape), l.kind, l.tier,
                 [op, d, l](Rng& rng) { return reduce_spec(op, d, l, rng); });
      }
    }
  }
}

CaseSpec argmax_spec(chorus_dtype d, const Layout& l, Rng& rng) {
  CaseSpec s;
  HostTensor x(d, l.shape);
  if (l.data == Data::special) {
    fill_special_rows(x, special_values(d));
    s.subnormal_inputs = true;
  } else {
    fill_ties(x, rng);
  }
  s.operands = {
      Operand{"x", x, l.x_strides, l.x_offset, -1},
      Operand{"out", HostTensor(CHORUS_DTYPE_I64, output_shape(l.shape, l.mask, l.keepdims)),
              l.out_strides, l.out_offset, -1}};
  s.output = 1;
  const int32_t axis = l.axis;
  s.call = [axis](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_argmax(q, t[0], axis, t[1]);
  };
  s.call_text = "axis=" + std::to_string(axis) + (l.keepdims ? " keepdims" : "");
  s.check = Check::exact;
  return s;
}

void add_argmax(std::vector<CaseEntry>& cases) {
  for (const chorus_dtype d : kAllDtypes) {
    const std::string dt = dtype_text(d);
    std::vector<Layout> all = layouts(true);
    all.push_back({"special",
                   "special",
                   Tier::ci,
                   {static_cast<int64_t>(special_values(d).size()), 5},
                   0b10,
                   1});
    all.back().data = Data::special;
    for (size_t i = 0; i < all.size(); ++i) {
      Layout l = all[i];
      if (l.kind.empty()) l.kind = "exact";
      if ((i == 0 || i == 2 || l.label == "33x65/padded") &&
          (d == CHORUS_DTYPE_F32 || d == CHORUS_DTYPE_U8))
        l.tier = Tier::smoke;
      add_case(cases, "argmax/" + dt + "/" + l.kind + "/" + l.label, "argmax", CHORUS_OP_ARGMAX, dt,
               shape_text(l.shape), l.kind, l.tier,
               [d, l](Rng& rng) { return argmax_spec(d, l, rng); });
    }
  }
}

void add_reduce_cases(std::vector<CaseEntry>& cases) {
  add_reductions(cases);
  add_argmax(cases);
}

}  // namespace

void register_cases() {
  register_family("reduce", add_reduce_cases);
}

}  // namespace chorus::ops::reduce
