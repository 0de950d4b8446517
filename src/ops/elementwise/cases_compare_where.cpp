// cases_compare_where.cpp — the six comparisons and where, over all seven
// dtypes. Both are bit-exact: comparisons are judged on data full of ties,
// ±0, NaN and i64 values that differ only below double's precision; where
// must move the selected element's bits untouched.
#include "conformance/cases.hpp"
#include "elementwise/cases_elementwise.hpp"

namespace chorus::ops::elementwise {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

struct CompareInfo {
  chorus_compare_op op;
  const char* name;
};
const CompareInfo kCompare[] = {
    {CHORUS_COMPARE_EQ, "eq"}, {CHORUS_COMPARE_NE, "ne"}, {CHORUS_COMPARE_LT, "lt"},
    {CHORUS_COMPARE_LE, "le"}, {CHORUS_COMPARE_GT, "gt"}, {CHORUS_COMPARE_GE, "ge"},
};

// Values drawn from a handful, so most pairs tie or differ by one step; i64
// adds pairs around 2^62 that a comparison through double cannot tell apart.
void fill_ties(HostTensor& t, Rng& rng) {
  for (int64_t i = 0; i < t.numel(); ++i) {
    switch (t.dtype) {
      case CHORUS_DTYPE_U8:
        t.set(i, rng.integer(0, 5));
        break;
      case CHORUS_DTYPE_I32:
        t.set(i, rng.integer(-3, 3));
        break;
      case CHORUS_DTYPE_I64:
        if (rng.chance(0.5))
          t.set_bits(i, (uint64_t{1} << 62) + static_cast<uint64_t>(rng.integer(0, 3)));
        else
          t.set(i, rng.integer(-3, 3));
        break;
      default:
        t.set(i, static_cast<double>(rng.integer(-6, 6)) / 2);
        break;
    }
  }
}

}  // namespace

void add_compare_cases(std::vector<CaseEntry>& cases) {
  for (const CompareInfo& c : kCompare) {
    for (const chorus_dtype d : kAllDtypes) {
      const chorus_compare_op op = c.op;
      ElementwiseOp e;
      e.op = c.name;
      e.op_kind = CHORUS_OP_COMPARE;
      e.dtype_label = dtype_text(d);
      e.inputs = {d, d};
      e.roles = {"a", "b", "out"};
      e.output = CHORUS_DTYPE_U8;
      e.call = [op](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
        return chorus_compare(q, op, t[0], t[1], t[2]);
      };
      e.check = Check::exact;
      e.regular_kind = "exact";
      e.fill = [](size_t, HostTensor& t, Rng& rng) { fill_ties(t, rng); };
      const std::vector<long double> specials = pair_special_values(d);
      const int64_t n = static_cast<int64_t>(specials.size());
      e.special_count = n * n;
      e.fill_special = [specials, n](std::vector<HostTensor>& in) {
        for (int64_t i = 0; i < n * n; ++i) {
          in[0].set(i, specials[static_cast<size_t>(i / n)]);
          in[1].set(i, specials[static_cast<size_t>(i % n)]);
        }
      };
      e.in_place_input = 0;  // only where a is u8, like the output
      e.smoke_tier = op == CHORUS_COMPARE_LT && d == CHORUS_DTYPE_F32 ? Tier::smoke : Tier::ci;
      add_elementwise_sweep(cases, e);
    }
  }
}

void add_where_cases(std::vector<CaseEntry>& cases) {
  for (const chorus_dtype d : kAllDtypes) {
    ElementwiseOp e;
    e.op = "where";
    e.op_kind = CHORUS_OP_WHERE;
    e.dtype_label = dtype_text(d);
    e.inputs = {CHORUS_DTYPE_U8, d, d};
    e.roles = {"condition", "a", "b", "out"};
    e.output = d;
    e.call = [](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_where(q, t[0], t[1], t[2], t[3]);
    };
    // A selection moves bits: the sign of zero must survive it.
    e.check = Check::exact_signed;
    e.regular_kind = "exact";
    e.fill = [](size_t k, HostTensor& t, Rng& rng) {
      if (k == 0) {
        // Any non-zero byte is true, not just 1.
        static const int kConditions[] = {0, 1, 2, 255, 0, 1};
        for (int64_t i = 0; i < t.numel(); ++i) t.set(i, kConditions[rng.integer(0, 5)]);
      } else {
        fill_typical(t, rng, 100);
      }
    };
    std::vector<long double> specials = special_values(d);
    const int64_t n = static_cast<int64_t>(specials.size());
    e.special_count = 2 * n;
    e.fill_special = [specials, n](std::vector<HostTensor>& in) {
      for (int64_t i = 0; i < 2 * n; ++i) {
        in[0].set(i, i % 2 == 0 ? 1 : (i % 4 == 1 ? 0 : 128));
        in[1].set(i, specials[static_cast<size_t>(i % n)]);
        in[2].set(i, specials[static_cast<size_t>((n - 1) - i % n)]);
      }
    };
    e.in_place_input = 1;
    e.smoke_tier = d == CHORUS_DTYPE_F16 ? Tier::smoke : Tier::ci;
    add_elementwise_sweep(cases, e);
  }
}

}  // namespace chorus::ops::elementwise
