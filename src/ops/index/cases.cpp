// cases.cpp — the index folder's conformance layer: families "gather",
// "scatter_add", "embedding" and "embedding_backward".
//
// gather and embedding copy bits: checked exactly (the sign of zero and NaN
// payloads included, Check::exact_signed), on every dtype (embedding:
// floats and i32), with i32 and i64 indices, indices out of range (negative,
// = extent, far beyond: 0 is the answer), the axis first, middle and last,
// index shorter than x off the axis, every view (permuted, padded, offset,
// broadcast index), tile edges and zero sizes.
//
// scatter_add and embedding_backward sum. Exact cases use small integers
// (exact_magnitude) with few enough terms per element that every partial
// sum is representable, so any order gives the same bits; integer dtypes
// wrap and are exact too. Accuracy cases (normal data) use the bound of a
// sum (bounds::magnitude_sum): an element is out + the k <= M src values
// aimed at it (M: index's extent along the axis; embedding_backward: the
// number of indices N, out = 0), summed in the compute type and added to
// out once: at most M + 1 roundings to first order relative to
// |out| + sum |src| (the reference's result on magnitudes, with index kept as
// given since it selects), plus the final rounding R. Elements nothing aims
// at are the old value, which the same bound (scale |out|) admits, and the
// exact cases pin bit for bit.
#include "conformance/cases.hpp"

#include <algorithm>
#include <string>

#include "conformance/bounds.hpp"

namespace chorus::ops::index {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

enum class Values { regular, exact, special };

struct Layout {
  std::string label, kind;
  Tier tier = Tier::ci;
  int32_t axis = 0;
  // gather: a = x, b = index (= out); scatter_add: a = out, b = index, c = src.
  // embedding: a = table [V, D], b = index; embedding_backward likewise.
  std::vector<int64_t> a, b, c;
  std::vector<int64_t> a_strides, b_strides, c_strides, out_strides;
  int64_t a_offset = 0, b_offset = 0, out_offset = 0;
  double out_of_range = 0;  // fraction of indices outside the extent
  Values values = Values::regular;
};

Layout make(std::string label, std::string kind, int32_t axis, std::vector<int64_t> a,
            std::vector<int64_t> b, Tier tier = Tier::ci) {
  Layout l;
  l.label = std::move(label);
  l.kind = std::move(kind);
  l.axis = axis;
  l.a = std::move(a);
  l.b = std::move(b);
  l.tier = tier;
  return l;
}

size_t axis_of(int32_t axis, size_t rank) {
  return rank == 0 ? 0 : static_cast<size_t>(axis < 0 ? axis + static_cast<int32_t>(rank) : axis);
}

// Indices into an extent: uniform in [0, extent), a fraction of them out of
// range (-1, -extent - 3, extent, extent + 5, a large value).
HostTensor indices(chorus_dtype it, const std::vector<int64_t>& shape, int64_t extent,
                   double out_of_range, Rng& rng) {
  HostTensor t(it, shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    int64_t v = 0;
    if (extent == 0 || rng.chance(out_of_range)) {
      const int64_t bad[] = {-1, -extent - 3, extent, extent + 5, int64_t{1} << 30};
      v = bad[rng.integer(0, 4)];
    } else {
      v = rng.integer(0, extent - 1);
    }
    t.set(i, static_cast<long double>(v));
  }
  return t;
}

void fill_data(HostTensor& t, Values values, Rng& rng) {
  switch (values) {
    case Values::regular:
      fill_typical(t, rng, 1);
      break;
    case Values::exact:
      fill_integers(t, rng, -exact_magnitude(t.dtype), exact_magnitude(t.dtype), 0.1);
      break;
    case Values::special:
      fill_list(t, special_values(t.dtype));
      break;
  }
}

// Whether `terms` small integers (exact_magnitude m at most) have every
// partial sum exact in d: terms * m <= 2^digits, the safe_n rule of
// CONFORMANCE.md (scatter-add: M src terms and out; bf16: 63 of them).
bool exact_sum(chorus_dtype d, int64_t terms) {
  return terms * exact_magnitude(d) <= (int64_t{1} << std::min(significand_digits(d), 48));
}

std::string index_text(chorus_dtype it) {
  return it == CHORUS_DTYPE_I64 ? "i64" : "i32";
}

// ------------------------------------------------------------------ gather

std::vector<Layout> gather_layouts() {
  std::vector<Layout> v;
  v.push_back(make("4x10-to-4x6", "exact", 1, {4, 10}, {4, 6}));
  v.push_back(make("48x50-to-48x30", "exact", 1, {48, 50}, {48, 30}));
  v.push_back(make("10x5-to-7x5/axis0", "exact", 0, {10, 5}, {7, 5}));
  v.push_back(make("3x9x5-to-2x4x3/axis1-cut", "exact", 1, {3, 9, 5}, {2, 4, 3}));
  v.push_back(make("6x5x7/axis-1", "exact", -1, {6, 5, 7}, {6, 5, 11}));
  v.push_back(make("17-to-40/rank1", "exact", 0, {17}, {40}));
  v.push_back(make("scalar/rank0", "exact", 0, {}, {}));
  v.push_back(make("64x1000-to-64x4097", "edge", 1, {64, 1000}, {64, 4097}));
  for (const int64_t n : kTileSizes)
    v.push_back(make("3x" + std::to_string(n), "edge", 1, {3, n}, {3, n + 2}));
  v.push_back(make("3x0-index", "edge", 1, {3, 5}, {3, 0}));
  v.push_back(make("4x0-x", "edge", 1, {4, 0}, {4, 3}));  // every index out of range
  {
    Layout l = make("20x30/out-of-range", "exact", 1, {20, 30}, {20, 40});
    l.out_of_range = 0.3;
    v.push_back(l);
    l = make("30x40/permuted", "view", 1, {30, 40}, {30, 25});
    l.a_strides = permuted_strides(l.a, {1, 0});
    l.b_strides = permuted_strides(l.b, {1, 0});
    l.out_strides = padded_strides(l.b, 3);
    v.push_back(l);
    l = make("5x6x7/permuted3", "view", 2, {5, 6, 7}, {5, 6, 9});
    l.a_strides = permuted_strides(l.a, {2, 0, 1});
    l.out_strides = permuted_strides(l.b, {1, 2, 0});
    v.push_back(l);
    l = make("31x45/offset-padded", "view", 0, {31, 45}, {20, 45});
    l.a_strides = padded_strides(l.a, 5);
    l.a_offset = 3;
    l.b_offset = 2;
    l.out_offset = 1;
    v.push_back(l);
    l = make("40x64/broadcast-index", "view", 1, {40, 64}, {40, 50});
    l.b_strides = broadcast_strides(l.b, 0);  // every row picks the same columns
    v.push_back(l);
    l = make("special", "special", 1, {4, 32}, {4, 32});
    l.values = Values::special;
    v.push_back(l);
  }
  return v;
}

CaseSpec gather_spec(chorus_dtype d, chorus_dtype it, const Layout& l, Rng& rng) {
  HostTensor x(d, l.a);
  fill_data(x, l.values, rng);
  const size_t axis = axis_of(l.axis, l.a.size());
  const int64_t extent = l.a.empty() ? 1 : l.a[axis];
  CaseSpec s;
  s.operands = {
      Operand{"x", x, l.a_strides, l.a_offset, -1},
      Operand{"index", indices(it, l.b, extent, l.out_of_range, rng), l.b_strides, l.b_offset, -1},
      Operand{"out", HostTensor(d, l.b), l.out_strides, l.out_offset, -1}};
  s.output = 2;
  const int32_t a = l.axis;
  s.call = [a](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_gather(q, t[0], a, t[1], t[2]);
  };
  s.call_text = "axis=" + std::to_string(a);
  s.check = Check::exact_signed;
  s.subnormal_inputs = l.values == Values::special;
  return s;
}

void add_gather_cases(std::vector<CaseEntry>& cases) {
  for (const chorus_dtype d : kAllDtypes)
    for (const Layout& l : gather_layouts())
      for (const chorus_dtype it : {CHORUS_DTYPE_I64, CHORUS_DTYPE_I32}) {
        // i32 indices on the first layouts (their program is the other one).
        if (it == CHORUS_DTYPE_I32 && l.kind != "exact") continue;
        Tier tier = l.tier;
        // The smoke case has over 1024 outputs (the suite's fault tests
        // plant a wrong element only in outputs that large).
        if (d == CHORUS_DTYPE_F32 && it == CHORUS_DTYPE_I64 && l.label == "48x50-to-48x30")
          tier = Tier::smoke;
        add_case(cases,
                 "gather/" + dtype_text(d) + "/" + index_text(it) + "/" + l.kind + "/" + l.label,
                 "gather", CHORUS_OP_GATHER, dtype_text(d), shape_text(l.b), l.kind, tier,
                 [d, it, l](Rng& rng) { return gather_spec(d, it, l, rng); });
      }
}

// ------------------------------------------------------------- scatter_add

std::vector<Layout> scatter_layouts() {
  std::vector<Layout> v;
  const auto same = [](Layout l) {
    if (l.c.empty()) l.c = l.b;
    return l;
  };
  v.push_back(same(make("4x10-from-4x30", "", 1, {4, 10}, {4, 30})));
  v.push_back(same(make("40x30-from-40x60", "", 1, {40, 30}, {40, 60})));
  v.push_back(same(make("12x5-from-40x5/axis0", "", 0, {12, 5}, {40, 5})));
  {
    Layout l = make("3x9x5-from-2x6x3/axis1-cut", "", 1, {3, 9, 5}, {2, 6, 3});
    l.c = {3, 8, 4};  // src larger than index: its leading part is used
    v.push_back(l);
  }
  v.push_back(same(make("6x5x7/axis-1", "", -1, {6, 5, 7}, {6, 5, 20})));
  v.push_back(same(make("17-from-60/rank1", "", 0, {17}, {60})));
  v.push_back(same(make("1-from-500/one-target", "", 0, {1}, {500})));  // every term to one element
  v.push_back(same(make("64x100-from-64x4097", "edge", 1, {64, 100}, {64, 4097})));
  for (const int64_t n : kTileSizes)
    v.push_back(same(make("3x" + std::to_string(n), "edge", 1, {3, n}, {3, n + 2})));
  v.push_back(same(make("3x5-from-3x0/empty", "edge", 1, {3, 5}, {3, 0})));
  {
    Layout l = same(make("20x30/out-of-range", "", 1, {20, 30}, {20, 40}));
    l.out_of_range = 0.3;
    v.push_back(l);
    l = same(make("30x40/permuted", "view", 1, {30, 40}, {30, 60}));
    l.a_strides = permuted_strides(l.a, {1, 0});
    l.b_strides = permuted_strides(l.b, {1, 0});
    l.c_strides = padded_strides(l.c, 3);
    v.push_back(l);
    l = same(make("5x6x7/permuted3", "view", 2, {5, 6, 7}, {5, 6, 9}));
    l.a_strides = permuted_strides(l.a, {2, 0, 1});
    l.c_strides = permuted_strides(l.c, {1, 2, 0});
    v.push_back(l);
    l = same(make("31x45/offset-padded", "view", 0, {31, 45}, {50, 45}));
    l.a_strides = padded_strides(l.a, 5);
    l.a_offset = 3;
    l.b_offset = 2;
    v.push_back(l);
    l = same(make("16x64/broadcast-index", "view", 0, {16, 64}, {40, 64}));
    l.b_strides = broadcast_strides(l.b, 1);  // embedding's backward: one index per row
    v.push_back(l);
  }
  return v;
}

CaseSpec scatter_spec(chorus_dtype d, chorus_dtype it, const Layout& l, Values values, Rng& rng) {
  HostTensor out(d, l.a), src(d, l.c);
  fill_data(out, values, rng);
  fill_data(src, values, rng);
  const size_t axis = axis_of(l.axis, l.a.size());
  CaseSpec s;
  s.operands = {Operand{"index", indices(it, l.b, l.a[axis], l.out_of_range, rng), l.b_strides,
                        l.b_offset, -1},
                Operand{"src", src, l.c_strides, 0, -1},
                Operand{"out", out, l.a_strides, l.a_offset, -1}};
  s.output = 2;
  s.output_is_read = true;
  const int32_t a = l.axis;
  s.call = [a](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_scatter_add(q, t[0], a, t[1], t[2]);
  };
  s.call_text = "axis=" + std::to_string(a);
  if (!is_float(d) || values == Values::exact) {
    s.check = Check::exact;
  } else {
    s.check = Check::bounded;
    s.oracle = OracleKind::wide;
    s.bound = bounds::magnitude_sum(l.b[axis] + 1, s.call, false, {0}, true);
  }
  return s;
}

void add_scatter_cases(std::vector<CaseEntry>& cases) {
  const chorus_dtype dtypes[] = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16, CHORUS_DTYPE_BF16,
                                 CHORUS_DTYPE_F64, CHORUS_DTYPE_I32, CHORUS_DTYPE_I64};
  for (const chorus_dtype d : dtypes)
    for (const Layout& base : scatter_layouts())
      for (const Values values : {Values::regular, Values::exact}) {
        if (values == Values::exact && !is_float(d)) continue;  // integers are exact anyway
        Layout l = base;
        const size_t axis = axis_of(l.axis, l.a.size());
        if (values == Values::exact && !exact_sum(d, l.b[axis] + 1)) continue;
        const std::string kind =
            !l.kind.empty() ? l.kind
                            : (values == Values::exact || !is_float(d) ? "exact" : "accuracy");
        for (const chorus_dtype it : {CHORUS_DTYPE_I64, CHORUS_DTYPE_I32}) {
          if (it == CHORUS_DTYPE_I32 && (!l.kind.empty() || values != Values::regular)) continue;
          Tier tier = l.tier;
          if (d == CHORUS_DTYPE_F32 && it == CHORUS_DTYPE_I64 && l.label == "40x30-from-40x60" &&
              values == Values::regular)
            tier = Tier::smoke;
          add_case(cases,
                   "scatter_add/" + dtype_text(d) + "/" + index_text(it) + "/" + kind + "/" +
                       l.label + (values == Values::exact && !l.kind.empty() ? "/exact" : ""),
                   "scatter_add", CHORUS_OP_SCATTER_ADD, dtype_text(d), shape_text(l.a), kind, tier,
                   [d, it, l, values](Rng& rng) { return scatter_spec(d, it, l, values, rng); });
        }
      }
}
// --------------------------------------------------------------- embedding

std::vector<Layout> embedding_layouts() {
  std::vector<Layout> v;
  v.push_back(make("50x16/index-4x7", "exact", 0, {50, 16}, {4, 7}));
  v.push_back(make("50x16/index-scalar", "exact", 0, {50, 16}, {}));
  v.push_back(make("65x128/index-33", "exact", 0, {65, 128}, {33}));
  v.push_back(make("20x5/index-2x3x5", "exact", 0, {20, 5}, {2, 3, 5}));
  v.push_back(make("1000x129/index-8x65", "edge", 0, {1000, 129}, {8, 65}));
  v.push_back(make("10x16/index-0x5", "edge", 0, {10, 16}, {0, 5}));
  v.push_back(make("10x0/index-3", "edge", 0, {10, 0}, {3}));
  {
    Layout l = make("30x8/out-of-range", "exact", 0, {30, 8}, {6, 9});
    l.out_of_range = 0.3;
    v.push_back(l);
    l = make("40x24/permuted", "view", 0, {40, 24}, {5, 6});
    l.a_strides = permuted_strides(l.a, {1, 0});  // a transposed table
    l.b_strides = permuted_strides(l.b, {1, 0});
    l.out_strides = permuted_strides({5, 6, 24}, {2, 0, 1});
    v.push_back(l);
    l = make("40x24/offset-padded", "view", 0, {40, 24}, {7, 3});
    l.a_strides = padded_strides(l.a, 3);
    l.a_offset = 2;
    l.b_strides = padded_strides(l.b, 2);
    l.b_offset = 1;
    l.out_offset = 4;
    v.push_back(l);
  }
  return v;
}

std::vector<int64_t> rows_shape(const Layout& l) {
  std::vector<int64_t> s = l.b;
  s.push_back(l.a[1]);
  return s;
}

CaseSpec embedding_spec(chorus_dtype d, chorus_dtype it, const Layout& l, Rng& rng) {
  HostTensor table(d, l.a);
  fill_data(table, l.values, rng);
  CaseSpec s;
  s.operands = {
      Operand{"table", table, l.a_strides, l.a_offset, -1},
      Operand{"index", indices(it, l.b, l.a[0], l.out_of_range, rng), l.b_strides, l.b_offset, -1},
      Operand{"out", HostTensor(d, rows_shape(l)), l.out_strides, l.out_offset, -1}};
  s.output = 2;
  s.call = [](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_embedding(q, t[0], t[1], t[2]);
  };
  s.check = Check::exact_signed;
  return s;
}

void add_embedding_cases(std::vector<CaseEntry>& cases) {
  const chorus_dtype dtypes[] = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16, CHORUS_DTYPE_BF16,
                                 CHORUS_DTYPE_F64, CHORUS_DTYPE_I32};
  for (const chorus_dtype d : dtypes)
    for (const Layout& l : embedding_layouts())
      for (const chorus_dtype it : {CHORUS_DTYPE_I64, CHORUS_DTYPE_I32}) {
        if (it == CHORUS_DTYPE_I32 && l.kind != "exact") continue;
        Tier tier = l.tier;
        if (d == CHORUS_DTYPE_F32 && it == CHORUS_DTYPE_I64 && l.label == "65x128/index-33")
          tier = Tier::smoke;
        add_case(cases,
                 "embedding/" + dtype_text(d) + "/" + index_text(it) + "/" + l.kind + "/" + l.label,
                 "embedding", CHORUS_OP_EMBEDDING, dtype_text(d), shape_text(rows_shape(l)), l.kind,
                 tier, [d, it, l](Rng& rng) { return embedding_spec(d, it, l, rng); });
      }
}

// ------------------------------------------------------ embedding_backward

std::vector<Layout> embedding_backward_layouts() {
  std::vector<Layout> v;
  v.push_back(make("10x16/index-4x7", "", 0, {10, 16}, {4, 7}));
  v.push_back(make("1000x33/index-64", "", 0, {1000, 33}, {64}));
  v.push_back(make("65x128/index-8x64", "", 0, {65, 128}, {8, 64}));
  v.push_back(make("5x3/index-scalar", "", 0, {5, 3}, {}));
  v.push_back(make("3x9/index-2x3x5", "", 0, {3, 9}, {2, 3, 5}));
  v.push_back(make("7x4/index-0x5", "edge", 0, {7, 4}, {0, 5}));  // dtable all zeros
  {
    Layout l = make("12x8/out-of-range", "", 0, {12, 8}, {6, 9});
    l.out_of_range = 0.3;
    v.push_back(l);
    // Index and dy whose index axes are not one run: the composite copies them.
    l = make("20x24/permuted", "view", 0, {20, 24}, {5, 6});
    l.b_strides = permuted_strides(l.b, {1, 0});
    l.c_strides = permuted_strides({5, 6, 24}, {2, 1, 0});
    l.a_strides = permuted_strides(l.a, {1, 0});
    v.push_back(l);
    l = make("20x24/padded", "view", 0, {20, 24}, {7, 3});
    l.b_strides = padded_strides(l.b, 2);
    l.c_strides = padded_strides({7, 3, 24}, 5);
    l.a_strides = padded_strides(l.a, 3);
    l.a_offset = 2;
    v.push_back(l);
  }
  return v;
}

CaseSpec embedding_backward_spec(chorus_dtype d, chorus_dtype it, const Layout& l, Values values,
                                 Rng& rng) {
  HostTensor dy(d, rows_shape(l));
  fill_data(dy, values, rng);
  CaseSpec s;
  s.operands = {Operand{"index", indices(it, l.b, l.a[0], l.out_of_range, rng), l.b_strides, 0, -1},
                Operand{"dy", dy, l.c_strides, 0, -1},
                Operand{"dtable", HostTensor(d, l.a), l.a_strides, l.a_offset, -1}};
  s.output = 2;
  s.call = [](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_embedding_backward(q, t[0], t[1], t[2]);
  };
  if (values == Values::exact) {
    s.check = Check::exact;
  } else {
    s.check = Check::bounded;
    s.oracle = OracleKind::wide;
    s.bound = bounds::magnitude_sum(numel(l.b) + 1, s.call, false, {0});
  }
  return s;
}

void add_embedding_backward_cases(std::vector<CaseEntry>& cases) {
  for (const chorus_dtype d : kFloatDtypes)
    for (const Layout& l : embedding_backward_layouts())
      for (const Values values : {Values::regular, Values::exact}) {
        if (values == Values::exact && !exact_sum(d, numel(l.b))) continue;
        const std::string kind =
            !l.kind.empty() ? l.kind : (values == Values::exact ? "exact" : "accuracy");
        for (const chorus_dtype it : {CHORUS_DTYPE_I64, CHORUS_DTYPE_I32}) {
          if (it == CHORUS_DTYPE_I32 && (!l.kind.empty() || values != Values::regular)) continue;
          Tier tier = l.tier;
          if (d == CHORUS_DTYPE_F32 && it == CHORUS_DTYPE_I64 && l.label == "65x128/index-8x64" &&
              values == Values::regular)
            tier = Tier::smoke;
          add_case(cases,
                   "embedding_backward/" + dtype_text(d) + "/" + index_text(it) + "/" + kind + "/" +
                       l.label + (values == Values::exact && !l.kind.empty() ? "/exact" : ""),
                   "embedding_backward", CHORUS_OP_EMBEDDING_BACKWARD, dtype_text(d),
                   shape_text(l.a), kind, tier, [d, it, l, values](Rng& rng) {
                     return embedding_backward_spec(d, it, l, values, rng);
                   });
        }
      }
}

}  // namespace

void register_cases() {
  register_family("gather", add_gather_cases);
  register_family("scatter_add", add_scatter_cases);
  register_family("embedding", add_embedding_cases);
  register_family("embedding_backward", add_embedding_backward_cases);
}

}  // namespace chorus::ops::index
