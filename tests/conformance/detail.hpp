// detail.hpp — the suite's internal vocabulary: host tensors, the seeded
// generator, a case's description (operands, the op call, how its result is
// judged), the registry of case families and the oracle runner. Cases
// (src/ops/<family>/cases*.cpp) build CaseSpecs, the harness (harness.cpp)
// runs them, bounds turn oracle results into per-element bounds.
#pragma once

#include <chorus/chorus.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "conformance.hpp"

namespace chorus::conformance::detail {

// ------------------------------------------------------------------ seeds

// FNV-1a of the case name: stable across runs, platforms and thread counts.
uint64_t fnv1a(std::string_view text);

// xoshiro256** seeded through splitmix64: small, fast, and the same stream
// everywhere (std:: distributions are not, so none are used).
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();                         // [0, 1)
  double uniform(double lo, double hi);     // [lo, hi)
  int64_t integer(int64_t lo, int64_t hi);  // [lo, hi], inclusive
  double normal();                          // N(0, 1)
  bool chance(double p);

 private:
  uint64_t s_[4];
};

// ------------------------------------------------------------ host tensors

int64_t numel(const std::vector<int64_t>& shape);
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape);
std::string shape_text(const std::vector<int64_t>& shape);
std::string dtype_text(chorus_dtype dtype);

// Logical values of one operand, contiguous row-major, stored in its dtype.
struct HostTensor {
  chorus_dtype dtype = CHORUS_DTYPE_INVALID;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;
  bool present = true;  // false: an optional operand passed as NULL

  HostTensor() = default;
  HostTensor(chorus_dtype dtype, std::vector<int64_t> shape);  // zero-filled
  static HostTensor absent();

  int64_t numel() const;
  size_t element_size() const;
  long double get(int64_t i) const;
  void set(int64_t i, long double v);  // rounds once to dtype
  uint64_t bits(int64_t i) const;
  void set_bits(int64_t i, uint64_t bits);
};

// The same values in another dtype (exact when widening a float to f64).
HostTensor converted(const HostTensor& t, chorus_dtype dtype);

// ------------------------------------------------------------ float facts

bool is_float(chorus_dtype d);
bool is_16bit_float(chorus_dtype d);
double max_finite(chorus_dtype d);
double min_normal(chorus_dtype d);
double min_subnormal(chorus_dtype d);
// Smallest magnitude that rounds to infinity (max finite + half its ulp).
double overflow_threshold(chorus_dtype d);
int significand_digits(chorus_dtype d);  // 24 / 11 / 8 / 53
int64_t int_min(chorus_dtype d);
int64_t int_max(chorus_dtype d);

// --------------------------------------------------------------- a case

using OpCall = std::function<chorus_status(chorus_queue, const std::vector<const chorus_tensor*>&)>;

// One tensor argument of an op call.
struct Operand {
  std::string role;  // "x", "a", "bias", "out", ...
  HostTensor value;  // logical values (for a pure output only dtype and shape matter)
  // How the device under test sees it: strides in elements (empty means
  // contiguous; 0 broadcasts) and extra elements between the front guard and
  // the view's first element. The oracle always gets a contiguous copy.
  std::vector<int64_t> strides;
  int64_t extra_offset = 0;
  int alias_of = -1;  // an output that is the very view of input operand alias_of (in place)
};

enum class Check {
  exact,         // bit-exact value: ±0 equal, NaN matches NaN
  exact_signed,  // exact, and the sign of zero must match too (neg, abs, copy, fill)
  bounded,       // |got - expected| <= bound per element
};

enum class OracleKind {
  same,  // oracle output in the device's dtype: for exact classes
  wide,  // oracle computes and outputs f64 from the same (exactly widened) inputs
};

class ReferenceRunner;

struct BoundInputs {
  // Every operand as the oracle received it (an in-out output holds its
  // value before the op).
  const std::vector<HostTensor>& operands;
  size_t output;
  const HostTensor& expected;  // the oracle's result
  chorus_dtype out_dtype;      // the device's output dtype
  uint32_t numerics;           // what the device's queue reported
  ReferenceRunner& reference;
};
using BoundFn = std::function<std::vector<double>(const BoundInputs&)>;

struct CaseSpec {
  std::vector<Operand> operands;
  size_t output = 0;            // the one output operand
  bool output_is_read = false;  // the output's value is an input too (gemm with beta != 0)
  // Other operands the op writes (dropout's mask beside y): their views may
  // change, their guards and padding may not; another case checks each.
  std::vector<size_t> also_written;
  OpCall call;
  std::string call_text;  // attributes for the reproducer: "axis=1", "transpose_a=1 alpha=2", ...
  Check check = Check::exact;
  OracleKind oracle = OracleKind::same;
  BoundFn bound;                  // for Check::bounded
  bool subnormal_inputs = false;  // skipped where the queue declares flush-to-zero
};

struct CaseEntry {
  std::string name;    // unique: the seed and the handle users filter by
  std::string op;      // the matrix row: "gemm", "add", "sum", "copy", ...
  std::string family;  // the registered family that added it (set by the registry)
  std::string dtype, shape, kind;
  chorus_op_kind op_kind = CHORUS_OP_INVALID;  // the libchorus op it exercises
  Tier tier = Tier::ci;  // the lowest tier that runs it
  std::function<CaseSpec(Rng&)> build;
};

// ------------------------------------------------------------ the registry
//
// Cases come in families ("unary", "reduce", "cumsum", ...): what `--op
// <family>` selects and what the CTest driver runs as one test. Each op
// family folder src/ops/<folder>/ defines chorus::ops::<folder>::
// register_cases() in its cases*.cpp files, which registers the case
// families it provides (the elementwise folder: copy, fill, unary, binary,
// compare, where); cmake/ChorusOpFamilies.cmake generates the function that
// calls every folder's. Nothing in tests/conformance lists families or ops.

// Adds a family's cases (every tier; all_cases() selects).
using AddCases = void (*)(std::vector<CaseEntry>& cases);
// Registers a family: `name` must be new. Families keep the order in which
// they are registered, and so do their cases.
void register_family(const std::string& name, AddCases add);
// The registered families' names, in order.
std::vector<std::string> registered_families();
// Every case of every family up to `tier`, in a fixed order. Throws
// std::logic_error on a suite bug (a duplicate case name).
std::vector<CaseEntry> all_cases(Tier tier);
// Every case of every tier, listed once per process (all_cases() copies from
// it; the runner selects from it without copying the rest).
const std::vector<CaseEntry>& every_case();

// ------------------------------------------------------------- the oracle

// Runs an op on reference:0 with every operand contiguous.
class ReferenceRunner {
 public:
  ReferenceRunner(chorus_device device, chorus_queue queue) : device_(device), queue_(queue) {}
  // operands[output] receives the result; when read_output its value is
  // written to the device first. Throws std::runtime_error on any failure.
  void run(const OpCall& call, std::vector<HostTensor>& operands, size_t output, bool read_output);

 private:
  chorus_device device_;
  chorus_queue queue_;
};

// ------------------------------------------------------------ the harness

struct Device {
  chorus_device device = nullptr;
  chorus_queue queue = nullptr;
  uint32_t numerics = 0;
  std::string name;
};

// Runs one case on `dut` against `reference`; never throws.
CaseResult run_case(const CaseEntry& entry, const Device& dut, ReferenceRunner& reference);

// Element-wise judgement, shared by the harness and its self-tests.
struct Judgement {
  bool ok = true;
  double worst_ratio = 0;
  int64_t mismatches = 0;
  std::string details;  // first ten mismatches
};
// expected may be wider than got (a wide oracle); bounds == nullptr means exact.
Judgement judge(const HostTensor& expected, const HostTensor& got,
                const std::vector<double>* bounds, bool signed_zero, bool flush_to_zero);
// Empty when fine, else why the result is untrustworthy (mostly zeros where
// the reference is not).
std::string zero_heuristic(const HostTensor& expected, const HostTensor& got, bool flush_to_zero);

std::string json_escape(std::string_view text);

}  // namespace chorus::conformance::detail
