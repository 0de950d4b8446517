// cases.cpp — the random folder's conformance layer (family "random"):
// random (uniform, normal, bernoulli) and dropout (its output and its mask).
// Every case is exact: random numbers have one right answer, the bits the
// reference computes from (seed, offset, element index) (philox.h), so each
// device matching the reference bit for bit is what "the same bits on every
// backend" means. Layouts: contiguous, Philox-block edges (counts around
// multiples of 4), odd and 2-D shapes, permuted, padded and offset views
// (an element's value depends on its row-major index, never on where it is
// stored), in place (dropout), zero size, long runs; seeds and offsets with
// both 32-bit halves set. Statistics and the Philox known answers are unit
// tests (tests/unit/test_random.cpp).
#include <string>

#include "conformance/cases.hpp"

namespace chorus::ops::random {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

struct Layout {
  std::string label, kind;
  std::vector<int64_t> shape;
  Tier tier = Tier::ci;
  std::vector<int64_t> strides;  // of the output (and of x and the mask for dropout)
  int64_t offset = 0;
  bool in_place = false;  // dropout: y is x
};

Layout make(std::string label, std::string kind, std::vector<int64_t> shape, Tier tier = Tier::ci) {
  Layout l;
  l.label = std::move(label);
  l.kind = std::move(kind);
  l.shape = std::move(shape);
  l.tier = tier;
  return l;
}

std::vector<Layout> layouts() {
  std::vector<Layout> v;
  v.push_back(make("4096", "exact", {4096}));
  v.push_back(make("64x33", "exact", {64, 33}));
  v.push_back(make("5x6x7", "exact", {5, 6, 7}));
  for (const int64_t n : {1, 2, 3, 5, 7, 9, 17, 127, 129, 1023, 1025})
    v.push_back(make(std::to_string(n), "edge", {n}));
  v.push_back(make("0x5", "edge", {0, 5}));
  v.push_back(make("1x65537", "edge", {1, 65537}));
  v.push_back(make("1x1000003", "edge", {1, 1000003}, Tier::full));
  {
    Layout l = make("40x50/permuted", "view", {40, 50});
    l.strides = permuted_strides(l.shape, {1, 0});
    v.push_back(l);
    l = make("6x5x7/permuted3", "view", {6, 5, 7});
    l.strides = permuted_strides(l.shape, {2, 0, 1});
    v.push_back(l);
    l = make("33x65/padded", "view", {33, 65});
    l.strides = padded_strides(l.shape, 3);
    v.push_back(l);
    l = make("31x45/offset", "view", {31, 45});
    l.offset = 5;
    v.push_back(l);
  }
  return v;
}

// Seeds and stream offsets: zero, small, and values with both 32-bit
// halves set (a backend that drops a high word fails these).
struct Key {
  const char* label;
  uint64_t seed, offset;
};
constexpr Key kKeys[] = {{"seed0", 0, 0},
                         {"seed42/offset7", 42, 7},
                         {"seed-wide/offset-wide", 0x9E3779B97F4A7C15ull, 0x0000000100000003ull}};

Operand output_operand(const char* role, chorus_dtype d, const Layout& l) {
  return Operand{role, HostTensor(d, l.shape), l.strides, l.offset, -1};
}

CaseSpec random_spec(chorus_dtype d, const Layout& l, chorus_random_attrs a) {
  CaseSpec s;
  s.operands = {output_operand("y", d, l)};
  s.output = 0;
  s.call = [a](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_random(q, &a, t[0]);
  };
  s.call_text = std::string("distribution=") + std::to_string(a.distribution) +
                " seed=" + std::to_string(a.seed) + " offset=" + std::to_string(a.offset) +
                " a=" + std::to_string(a.a) + " b=" + std::to_string(a.b);
  s.check = Check::exact;
  return s;
}

const char* distribution_name(chorus_random_distribution d) {
  return d == CHORUS_RANDOM_UNIFORM ? "uniform" : d == CHORUS_RANDOM_NORMAL ? "normal" : "bernoulli";
}

void add_random_cases(std::vector<CaseEntry>& cases) {
  struct Params {
    chorus_random_distribution distribution;
    const char* label;
    double a, b;
  };
  const Params params[] = {{CHORUS_RANDOM_UNIFORM, "0-1", 0, 1},
                           {CHORUS_RANDOM_UNIFORM, "-2-3", -2, 3},
                           {CHORUS_RANDOM_NORMAL, "0-1", 0, 1},
                           {CHORUS_RANDOM_NORMAL, "1-2.5", 1, 2.5},
                           {CHORUS_RANDOM_BERNOULLI, "p0.3", 0.3, 0},
                           {CHORUS_RANDOM_BERNOULLI, "p0", 0, 0},
                           {CHORUS_RANDOM_BERNOULLI, "p1", 1, 0}};
  for (const chorus_dtype d : kAllDtypes) {
    const std::string dt = dtype_text(d);
    for (const Params& p : params) {
      if (p.distribution != CHORUS_RANDOM_BERNOULLI && !is_float(d)) continue;
      const std::string op = distribution_name(p.distribution);
      // Every layout with one key; the first layout with every key.
      const bool extreme_p = p.distribution == CHORUS_RANDOM_BERNOULLI && p.a != 0.3;
      const bool second_params = std::string(p.label) == "-2-3" || std::string(p.label) == "1-2.5";
      for (const Layout& l : layouts()) {
        const bool first_layout = l.label == "4096";
        if ((extreme_p || second_params) && !first_layout && l.kind != "view") continue;
        for (const Key& k : kKeys) {
          if (!first_layout && k.seed != 42) continue;
          chorus_random_attrs a{};
          a.struct_size = sizeof a;
          a.distribution = p.distribution;
          a.seed = k.seed;
          a.offset = k.offset;
          a.a = p.a;
          a.b = p.b;
          Tier tier = l.tier;
          if (first_layout && k.seed == 42 && d == CHORUS_DTYPE_F32 &&
              std::string(p.label) == (p.distribution == CHORUS_RANDOM_BERNOULLI ? "p0.3" : "0-1"))
            tier = Tier::smoke;
          add_case(cases,
                   "random/" + op + "/" + dt + "/" + l.kind + "/" + l.label + "/" + p.label + "/" +
                       k.label,
                   op, CHORUS_OP_RANDOM, dt, shape_text(l.shape), l.kind, tier,
                   [d, l, a](Rng&) { return random_spec(d, l, a); });
        }
      }
    }
  }
}

// Dropout's x: normal values, with special values (NaN, infinities, -0,
// subnormals) in every tenth element: a dropped NaN stays NaN (x * 0).
void fill_dropout_input(HostTensor& x, Rng& rng) {
  fill_normal(x, rng, 1);
  const std::vector<long double> specials = special_values(x.dtype);
  for (int64_t i = 0; i < x.numel(); i += 10)
    x.set(i, specials[static_cast<size_t>(i / 10) % specials.size()]);
}

// output 1 checks y, output 2 the mask; output 0 checks y with no mask
// given (the backward pass's form).
CaseSpec dropout_spec(chorus_dtype d, const Layout& l, chorus_dropout_attrs a, size_t output,
                      Rng& rng) {
  const bool no_mask = output == 0;
  if (no_mask) output = 1;
  CaseSpec s;
  HostTensor x(d, l.shape);
  fill_dropout_input(x, rng);
  Operand y = output_operand("y", d, l);
  if (l.in_place) y.alias_of = 0;
  s.operands = {Operand{"x", x, l.strides, l.offset, -1}, y,
                no_mask ? Operand{"mask", HostTensor::absent(), {}, 0, -1}
                        : output_operand("mask", CHORUS_DTYPE_U8, l)};
  s.output = output;
  if (!no_mask) s.also_written = {output == 1 ? size_t{2} : size_t{1}};
  s.call = [a](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_dropout(q, t[0], a.p, a.seed, a.offset, t[1], t[2]);
  };
  s.call_text = "p=" + std::to_string(a.p) + " seed=" + std::to_string(a.seed) +
                " offset=" + std::to_string(a.offset);
  s.check = Check::exact;
  s.subnormal_inputs = true;
  return s;
}

void add_dropout_cases(std::vector<CaseEntry>& cases) {
  std::vector<Layout> all = layouts();
  {
    Layout l = make("50x70/inplace", "view", {50, 70});
    l.in_place = true;
    all.push_back(l);
  }
  for (const chorus_dtype d : kFloatDtypes) {
    const std::string dt = dtype_text(d);
    for (const double p : {0.0, 0.1, 0.5, 1.0}) {
      const std::string pl = "p" + std::to_string(p).substr(0, 3);
      for (const Layout& l : all) {
        const bool first_layout = l.label == "4096";
        if (p != 0.5 && !first_layout) continue;
        for (const Key& k : kKeys) {
          if (!first_layout && k.seed != 42) continue;
          chorus_dropout_attrs a{};
          a.struct_size = sizeof a;
          a.seed = k.seed;
          a.offset = k.offset;
          a.p = p;
          for (const size_t output : {size_t{0}, size_t{1}, size_t{2}}) {
            if (output == 2 && l.in_place) continue;
            if (output == 0 && k.seed != 42) continue;
            Tier tier = l.tier;
            if (first_layout && k.seed == 42 && d == CHORUS_DTYPE_F32 && p == 0.5) tier = Tier::smoke;
            add_case(cases,
                     "dropout/" + dt + "/" + l.kind + "/" + l.label + "/" + pl + "/" + k.label +
                         (output == 0 ? "/y-no-mask" : output == 1 ? "/y" : "/mask"),
                     "dropout", CHORUS_OP_DROPOUT, dt, shape_text(l.shape), l.kind, tier,
                     [d, l, a, output](Rng& rng) { return dropout_spec(d, l, a, output, rng); });
          }
        }
      }
    }
  }
}

}  // namespace

void register_cases() {
  register_family("random", add_random_cases);
  register_family("dropout", add_dropout_cases);
}

}  // namespace chorus::ops::random
