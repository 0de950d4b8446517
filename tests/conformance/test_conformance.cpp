// test_conformance.cpp — the CTest driver: runs the conformance suite on one
// device (CHORUS_CONFORMANCE_DEVICE, default reference:0) at one tier
// (CHORUS_CONFORMANCE_TIER, default ci), one section per registered case
// family (cf::family_names(): select one with -c <family>), each requiring
// zero failures and printing every failure's reproducer. A device
// whose backend is unavailable or absent exits 77 before anything runs, which
// CTest reports as skipped. Also here: self-tests of the harness's judging
// (device-independent) and, tagged [faults], proof that the suite catches the
// faults the test-double plugin plants.
//
// Other environment: CHORUS_CONFORMANCE_FAMILIES=a,b runs only those
// families (-a,-b all but those); CHORUS_CONFORMANCE_ISOLATE=1 forks per case;
// CHORUS_CONFORMANCE_REPORT_DIR=<dir> writes conformance.json and .md there.
#define CATCH_CONFIG_RUNNER
#include <chorus/chorus.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "conformance.hpp"
#include "detail.hpp"

namespace {

namespace cf = chorus::conformance;

chorus_context g_context = nullptr;
std::string g_device = "reference:0";
cf::Tier g_tier = cf::Tier::ci;
bool g_isolate = false;
cf::Report g_collected;  // every family's results, for the optional report files

std::string env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

cf::Report run_filtered(const std::string& filter, cf::Tier tier) {
  cf::Options options;
  options.device = g_device;
  options.tier = tier;
  options.op_filter = filter;
  options.isolate = g_isolate;
  return cf::run(g_context, options);
}

void run_family(const std::string& family) {
  const cf::Report report = run_filtered(family, g_tier);
  INFO("device " << g_device << ", tier " << cf::tier_name(g_tier));
  REQUIRE(report.error.empty());
  g_collected.device = report.device;
  g_collected.chorus_version = report.chorus_version;
  for (const cf::CaseResult& r : report.results) {
    g_collected.results.push_back(r);
    if (r.outcome == cf::Outcome::fail) {
      FAIL_CHECK(r.name << "\n  reproducer: " << r.reproducer << "\n" << r.details);
    }
  }
  const cf::Summary& s = report.summary;
  g_collected.summary.pass += s.pass;
  g_collected.summary.fail += s.fail;
  g_collected.summary.unsupported += s.unsupported;
  g_collected.summary.skipped += s.skipped;
  if (report.has_kernel_stats) {  // each family opens the device afresh: the sums are the run's
    g_collected.has_kernel_stats = true;
    g_collected.kernel_stats.compiled += report.kernel_stats.compiled;
    g_collected.kernel_stats.cache_hits += report.kernel_stats.cache_hits;
    g_collected.kernel_stats.cache_rejected += report.kernel_stats.cache_rejected;
    g_collected.kernel_stats.compile_ms += report.kernel_stats.compile_ms;
  }
  std::printf("conformance %-8s on %s: %d pass, %d fail, %d unsupported, %d skipped\n",
              family.c_str(), g_device.c_str(), s.pass, s.fail, s.unsupported, s.skipped);
  std::fflush(stdout);
  CHECK(s.pass + s.fail + s.unsupported + s.skipped > 0);  // a family with no cases is a suite bug
  REQUIRE(s.fail == 0);
}

}  // namespace

// ------------------------------------------------------------- families

// One section per family the registry knows: a new family (a new folder in
// src/ops/) is tested with nothing to edit here.
// CHORUS_CONFORMANCE_FAMILIES=a,b,... limits the run to those families;
// =-a,-b runs every family but those (so that two tests can split the
// suite with no family left out as families are added). A name the
// registry does not know fails the run: a typo must not pass.
TEST_CASE("conformance") {
  std::set<std::string> only, except;
  std::stringstream list(env("CHORUS_CONFORMANCE_FAMILIES", ""));
  for (std::string name; std::getline(list, name, ',');) {
    if (name.empty()) continue;
    if (name[0] == '-')
      except.insert(name.substr(1));
    else
      only.insert(name);
  }
  const std::vector<std::string> known = cf::family_names();
  for (const std::set<std::string>* names : {&only, &except})
    for (const std::string& name : *names) {
      INFO("CHORUS_CONFORMANCE_FAMILIES names " << name << ", which is not a case family");
      REQUIRE(std::find(known.begin(), known.end(), name) != known.end());
    }
  for (const std::string& family : known) {
    if (!only.empty() && !only.count(family)) continue;
    if (except.count(family)) continue;
    DYNAMIC_SECTION(family) {
      run_family(family);
    }
  }
}

// ------------------------------------------------- the harness judges right

namespace {
using chorus::conformance::detail::HostTensor;
using chorus::conformance::detail::judge;

HostTensor tensor(chorus_dtype d, std::vector<long double> values) {
  HostTensor t(d, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.set(static_cast<int64_t>(i), values[i]);
  return t;
}
bool passes(chorus_dtype d, long double expected, long double got, double bound,
            bool signed_zero = false) {
  const HostTensor e = tensor(CHORUS_DTYPE_F64, {expected}), g = tensor(d, {got});
  const std::vector<double> b = {bound};
  return judge(e, g, bound > 0 ? &b : nullptr, signed_zero, false).ok;
}
}  // namespace

TEST_CASE("harness: NaN matches only NaN", "[harness]") {
  const long double nan = std::numeric_limits<long double>::quiet_NaN();
  CHECK(passes(CHORUS_DTYPE_F32, nan, nan, 0));
  CHECK_FALSE(passes(CHORUS_DTYPE_F32, nan, 1, 1e30));
  CHECK_FALSE(passes(CHORUS_DTYPE_F32, 1, nan, 1e30));
}

TEST_CASE("harness: infinities match in sign, and only where a bounded value could round there",
          "[harness]") {
  const long double inf = std::numeric_limits<long double>::infinity();
  CHECK(passes(CHORUS_DTYPE_F32, inf, inf, 0));
  CHECK_FALSE(passes(CHORUS_DTYPE_F32, inf, -inf, 1e30));
  CHECK_FALSE(passes(CHORUS_DTYPE_F32, -inf, std::numeric_limits<float>::max(), 1e300));
  // f16: 65519 rounds to 65504, 65520 to inf; an exact oracle of 65600 must see inf.
  CHECK(passes(CHORUS_DTYPE_F16, 65600, inf, 0.0001));
  CHECK_FALSE(passes(CHORUS_DTYPE_F16, 65600, 65504, 1));
  CHECK_FALSE(passes(CHORUS_DTYPE_F16, 60000, inf, 32));
  CHECK(passes(CHORUS_DTYPE_F16, 65500, inf, 32));  // 65500 + 32 reaches the rounding threshold
}

TEST_CASE("harness: signed zero is checked only for sign operations", "[harness]") {
  CHECK(passes(CHORUS_DTYPE_F32, 0.0L, -0.0L, 0));
  CHECK_FALSE(passes(CHORUS_DTYPE_F32, 0.0L, -0.0L, 0, true));
  CHECK(passes(CHORUS_DTYPE_F32, -0.0L, -0.0L, 0, true));
}

TEST_CASE("harness: every element must be within its bound, exact means exact", "[harness]") {
  CHECK(passes(CHORUS_DTYPE_F32, 1.0L, 1.0L + 0x1p-23L, 0x1p-23));
  CHECK_FALSE(passes(CHORUS_DTYPE_F32, 1.0L, 1.0L + 0x1p-22L, 0x1p-23));
  CHECK_FALSE(passes(CHORUS_DTYPE_F32, 1.0L, 1.0L + 0x1p-23L, 0));
  {
    // A broken (NaN) bound never lets an error through.
    const HostTensor e = tensor(CHORUS_DTYPE_F64, {1.0L}),
                     g = tensor(CHORUS_DTYPE_F32, {1.0L + 0x1p-23L});
    const std::vector<double> nan_bound = {std::numeric_limits<double>::quiet_NaN()};
    CHECK_FALSE(judge(e, g, &nan_bound, false, false).ok);
  }
  // One bad element among many fails the whole tensor, and is reported.
  HostTensor e(CHORUS_DTYPE_F64, {1000}), g(CHORUS_DTYPE_F32, {1000});
  for (int64_t i = 0; i < 1000; ++i) {
    e.set(i, i);
    g.set(i, i == 617 ? 618 : i);
  }
  const std::vector<double> b(1000, 0.5);
  const auto j = judge(e, g, &b, false, false);
  CHECK_FALSE(j.ok);
  CHECK(j.mismatches == 1);
  CHECK(j.details.find("[617]") != std::string::npos);
  CHECK(j.worst_ratio == Approx(2.0));
}

TEST_CASE("harness: integers compare exactly, including i64 beyond 2^53", "[harness]") {
  HostTensor e(CHORUS_DTYPE_I64, {1}), g(CHORUS_DTYPE_I64, {1});
  e.set_bits(0, (uint64_t{1} << 60) + 1);
  g.set_bits(0, uint64_t{1} << 60);
  CHECK_FALSE(judge(e, g, nullptr, false, false).ok);
}

TEST_CASE("harness: a mostly-zero result where the reference is not is untrustworthy",
          "[harness]") {
  HostTensor e(CHORUS_DTYPE_F64, {100}), g(CHORUS_DTYPE_F32, {100});
  for (int64_t i = 0; i < 100; ++i) {
    e.set(i, i + 1);
    g.set(i, i < 40 ? 0 : i + 1);
  }
  CHECK_FALSE(chorus::conformance::detail::zero_heuristic(e, g, false).empty());
  for (int64_t i = 0; i < 100; ++i) e.set(i, i < 35 ? 0 : i + 1);  // the reference agrees: fine
  CHECK(chorus::conformance::detail::zero_heuristic(e, g, false).empty());
}

TEST_CASE("harness: JSON strings are escaped", "[harness]") {
  using chorus::conformance::detail::json_escape;
  CHECK(json_escape("a\"b\\c\nd\te\x01") == "a\\\"b\\\\c\\nd\\te\\u0001");
}

TEST_CASE("harness: seeds come from case names, not from run order", "[harness]") {
  using chorus::conformance::detail::fnv1a;
  using chorus::conformance::detail::Rng;
  CHECK(fnv1a("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a("a") == 0xaf63dc4c8601ec8cull);
  Rng a(fnv1a("gemm/f32/exact/64x96x80/nn")), b(fnv1a("gemm/f32/exact/64x96x80/nn"));
  for (int i = 0; i < 100; ++i) REQUIRE(a.next() == b.next());
}

TEST_CASE("harness: every tier holds the one below it", "[harness]") {
  using chorus::conformance::detail::all_cases;
  std::set<std::string> smoke, ci, full, ops;
  for (const auto& c : all_cases(cf::Tier::smoke)) smoke.insert(c.name);
  for (const auto& c : all_cases(cf::Tier::ci)) ci.insert(c.name);
  for (const auto& c : all_cases(cf::Tier::full)) {
    full.insert(c.name);
    ops.insert(c.op);
  }
  for (const std::string& n : smoke) CHECK(ci.count(n));
  for (const std::string& n : ci) CHECK(full.count(n));
  CHECK(smoke.size() < ci.size());
  CHECK(ci.size() < full.size());
  CHECK(cf::op_names().size() == ops.size());
  // Every family has smoke cases (the fault test samples each family there).
  std::set<std::string> smoke_families;
  for (const auto& c : all_cases(cf::Tier::smoke)) smoke_families.insert(c.family);
  for (const std::string& f : cf::family_names()) {
    INFO("family " << f);
    CHECK(smoke_families.count(f));
  }
}

// What libchorus says it has, asked at run time: no list of ops here.
TEST_CASE("harness: every op libchorus knows has cases, every unary op in each of its dtypes",
          "[harness]") {
  using chorus::conformance::detail::all_cases;
  std::map<int, std::set<std::string>> ops_of_kind;
  std::map<std::string, std::set<std::string>> dtypes_of_op;
  for (const auto& c : all_cases(cf::Tier::full)) {
    INFO("case " << c.name);
    CHECK(c.op_kind != CHORUS_OP_INVALID);
    ops_of_kind[static_cast<int>(c.op_kind)].insert(c.op);
    dtypes_of_op[c.op].insert(c.dtype);
  }
  for (int k = CHORUS_OP_INVALID + 1; k < CHORUS_OP_COUNT_; ++k) {
    chorus_op_info info{};
    info.struct_size = sizeof info;
    REQUIRE(chorus_op_info_get(static_cast<chorus_op_kind>(k), &info) == CHORUS_OK);
    INFO("op kind " << info.name);
    CHECK(ops_of_kind.count(k));
  }
  // The unary ops are unary_table.h's rows: each name, each dtype its row allows.
  chorus_op_info unary{};
  unary.struct_size = sizeof unary;
  REQUIRE(chorus_op_info_get(CHORUS_OP_UNARY, &unary) == CHORUS_OK);
  REQUIRE(unary.attr_count > 0);
  const chorus_op_attr_info& op = unary.attrs[0];
  REQUIRE(op.type == CHORUS_ATTR_ENUM);
  REQUIRE(op.enum_count == CHORUS_UNARY_COUNT_);
  for (uint32_t i = 0; i < op.enum_count; ++i) {
    const std::string name = op.enum_names[i];
    INFO("unary op " << name);
    CHECK(ops_of_kind[CHORUS_OP_UNARY].count(name));
    if (!op.enum_dtypes) continue;
    for (int d = CHORUS_DTYPE_INVALID + 1; d < CHORUS_DTYPE_COUNT_; ++d) {
      if (!(op.enum_dtypes[i] & (1u << d))) continue;
      const char* dtype = chorus_dtype_name(static_cast<chorus_dtype>(d));
      INFO("dtype " << dtype);
      CHECK(dtypes_of_op[name].count(dtype));
    }
  }
}

TEST_CASE("harness: each case reports the path its op ran by", "[harness]") {
  cf::Options options;
  options.device = "reference:0";
  options.tier = cf::Tier::smoke;
  const cf::Report report = cf::run(g_context, options);
  REQUIRE(report.error.empty());
  // Nothing runs exactly where the output is empty.
  std::map<std::string, bool> empty_output;
  for (const auto& c : chorus::conformance::detail::all_cases(cf::Tier::smoke)) {
    chorus::conformance::detail::Rng rng(chorus::conformance::detail::fnv1a(c.name));
    const auto spec = c.build(rng);
    empty_output[c.name] = spec.operands[spec.output].value.numel() == 0;
  }
  REQUIRE(report.results.size() == empty_output.size());
  for (const cf::CaseResult& r : report.results) {
    INFO("case " << r.name << ": " << r.path_description);
    REQUIRE(r.outcome == cf::Outcome::pass);
    CHECK(r.path != cf::Path::unknown);
    CHECK_FALSE(r.path_description.empty());
    CHECK((r.path == cf::Path::none) == empty_output.at(r.name));
  }
}

// Run 2 places every operand elsewhere (other buffers, other offsets): an op
// that reuses run 1's offsets, as a plan that baked them in would, must fail.
TEST_CASE("harness: run 2 moves every operand, so stale offsets fail", "[harness]") {
  namespace d = chorus::conformance::detail;
  chorus_device dut = nullptr, oracle = nullptr;
  chorus_queue dut_queue = nullptr, oracle_queue = nullptr;
  REQUIRE(chorus_device_open(g_context, "reference:0", &dut) == CHORUS_OK);
  REQUIRE(chorus_device_open(g_context, "reference:0", &oracle) == CHORUS_OK);
  const chorus_queue_desc precise{sizeof(chorus_queue_desc), CHORUS_NUMERICS_PRECISE};
  REQUIRE(chorus_queue_create(dut, &precise, &dut_queue) == CHORUS_OK);
  REQUIRE(chorus_queue_create(oracle, &precise, &oracle_queue) == CHORUS_OK);
  d::Device device;
  device.device = dut;
  device.queue = dut_queue;
  device.name = "reference:0";
  d::ReferenceRunner reference(oracle, oracle_queue);
  for (const bool stale : {false, true}) {
    d::CaseEntry e;
    e.name = stale ? "selftest/stale-offsets" : "selftest/fresh-offsets";
    e.op = "copy";
    e.op_kind = CHORUS_OP_COPY;
    e.dtype = "f32";
    e.shape = "[100]";
    e.kind = "view";
    e.build = [stale, dut_queue](d::Rng& rng) {
      d::CaseSpec s;
      d::HostTensor x(CHORUS_DTYPE_F32, {100});
      for (int64_t i = 0; i < 100; ++i) x.set(i, rng.normal());
      s.operands = {d::Operand{"src", x, {}, 0, -1},
                    d::Operand{"dst", d::HostTensor(CHORUS_DTYPE_F32, {100}), {}, 0, -1}};
      s.output = 1;
      auto first = std::make_shared<std::vector<int64_t>>();
      s.call = [stale, dut_queue, first](chorus_queue q,
                                         const std::vector<const chorus_tensor*>& t) {
        chorus_tensor src = *t[0], dst = *t[1];
        if (q == dut_queue) {
          if (first->empty()) {
            *first = {src.offset, dst.offset};
          } else if (stale) {
            src.offset = (*first)[0];
            dst.offset = (*first)[1];
          }
        }
        return chorus_copy(q, &src, &dst);
      };
      s.check = d::Check::exact_signed;
      return s;
    };
    const cf::CaseResult r = d::run_case(e, device, reference);
    INFO(r.name << ": " << r.details);
    if (stale) {
      CHECK(r.outcome == cf::Outcome::fail);
      CHECK(r.details.find("run 2 (operands moved)") != std::string::npos);
      CHECK(r.details.find("run 1") == std::string::npos);
    } else {
      CHECK(r.outcome == cf::Outcome::pass);
      CHECK(r.path == cf::Path::native);
    }
  }
  chorus_queue_destroy(dut_queue);
  chorus_queue_destroy(oracle_queue);
  chorus_device_close(dut);
  chorus_device_close(oracle);
}

TEST_CASE("harness: a stopped run reports what ran and lists the rest as skipped", "[harness]") {
  cf::Options options;
  options.device = "reference:0";
  options.tier = cf::Tier::ci;
  options.op_filter = "add";
  int asked = 0;
  options.stop = [&] { return ++asked > 3; };  // three cases run, then a stop
  const cf::Report report = cf::run(g_context, options);
  REQUIRE(report.error.empty());
  CHECK(report.interrupted);
  REQUIRE(report.results.size() > 4);
  CHECK(report.summary.pass == 3);
  CHECK(report.summary.skipped == static_cast<int>(report.results.size()) - 3);
  for (size_t i = 3; i < report.results.size(); ++i) {
    CHECK(report.results[i].outcome == cf::Outcome::skipped);
    CHECK(report.results[i].details.find("not run") != std::string::npos);
  }
  options.stop = [] { return false; };
  const cf::Report whole = cf::run(g_context, options);
  CHECK_FALSE(whole.interrupted);
  CHECK(whole.summary.skipped == 0);
  CHECK(whole.results.size() == report.results.size());
}

// ------------------------------------- the suite catches planted faults

namespace {
struct Fault {
  const char* name;
  const char* filter;
  cf::Tier tier;
  std::vector<std::string> families;  // each must have a failing case
  const char* evidence;               // text the details of one such failure must hold
};
}  // namespace

TEST_CASE("the suite catches every fault the test double plants", "[.faults]") {
  if (g_device.rfind("testdouble", 0) != 0) {
    WARN("the fault test needs CHORUS_CONFORMANCE_DEVICE=testdouble:0; skipped");
    return;
  }
  using chorus::conformance::detail::all_cases;
  using chorus::conformance::detail::CaseSpec;
  using chorus::conformance::detail::fnv1a;
  using chorus::conformance::detail::is_float;
  using chorus::conformance::detail::Rng;
  // Which families each fault must show up in, from the cases themselves:
  // every family (smoke); those with a float output among their smoke cases
  // (nan); for wrong_stride, the first op of each family at ci, and the
  // families whose cases there read an input.
  const std::vector<std::string> all = cf::family_names();
  std::vector<std::string> float_output;
  std::set<std::string> seen_float;
  for (const auto& c : all_cases(cf::Tier::smoke)) {
    Rng rng(fnv1a(c.name));
    const CaseSpec spec = c.build(rng);
    if (is_float(spec.operands[spec.output].value.dtype) && seen_float.insert(c.family).second)
      float_output.push_back(c.family);
  }
  std::string first_ops;
  std::map<std::string, std::string> first_op_of;
  for (const auto& c : all_cases(cf::Tier::ci))
    if (first_op_of.emplace(c.family, c.op).second) first_ops += (first_ops.empty() ? "" : ",") + c.op;
  std::vector<std::string> with_inputs;
  std::set<std::string> seen_input;
  for (const auto& c : all_cases(cf::Tier::ci)) {
    if (c.op != first_op_of[c.family] || seen_input.count(c.family)) continue;
    Rng rng(fnv1a(c.name));
    const CaseSpec spec = c.build(rng);
    for (size_t i = 0; i < spec.operands.size(); ++i)
      if (i != spec.output && spec.operands[i].value.present && seen_input.insert(c.family).second)
        with_inputs.push_back(c.family);
  }
  const Fault faults[] = {
      {"wrong_element", "", cf::Tier::smoke, all, "outside their bound"},
      {"oob_write", "", cf::Tier::smoke, all, "out-of-bounds write"},
      {"nan", "", cf::Tier::smoke, float_output, "nan"},
      {"wrong_stride", first_ops.c_str(), cf::Tier::ci, with_inputs, "outside their bound"},
      {"f16_accumulation", "gemm/f16", cf::Tier::ci, {"gemm"}, "outside their bound"},
      {"softmax_no_max", "softmax", cf::Tier::smoke, {"softmax"}, "outside their bound"},
  };
  std::map<std::string, std::string> family_of;
  for (const auto& c : all_cases(cf::Tier::full)) family_of[c.op] = c.family;
  for (const Fault& f : faults) {
    DYNAMIC_SECTION("fault " << f.name) {
      setenv("CHORUS_TESTDOUBLE_FAULT", f.name, 1);
      const cf::Report report = run_filtered(f.filter, f.tier);
      unsetenv("CHORUS_TESTDOUBLE_FAULT");
      REQUIRE(report.error.empty());
      for (const std::string& family : f.families) {
        INFO("fault " << f.name << " must fail a case of family " << family);
        bool caught = false;
        for (const cf::CaseResult& r : report.results) {
          if (r.outcome != cf::Outcome::fail || family_of.at(r.op) != family) continue;
          std::string details;
          for (const char c : r.details)
            details += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (details.find(f.evidence) != std::string::npos) {
            caught = true;
            break;
          }
        }
        CHECK(caught);
      }
    }
  }
}

// ------------------------------------------------------------------ main

int main(int argc, char** argv) {
  g_device = env("CHORUS_CONFORMANCE_DEVICE", "reference:0");
  if (!cf::parse_tier(env("CHORUS_CONFORMANCE_TIER", "ci"), &g_tier)) {
    std::fprintf(stderr, "CHORUS_CONFORMANCE_TIER must be smoke, ci or full\n");
    return 2;
  }
  g_isolate = env("CHORUS_CONFORMANCE_ISOLATE", "0") == "1";
  if (chorus_context_create(nullptr, &g_context) != CHORUS_OK) {
    std::fprintf(stderr, "cannot create a chorus context: %s\n", chorus_last_error_message());
    return 1;
  }
  // A device that is not here is a skip (77), not a failure; any other
  // failure to open it is a failure.
  chorus_device probe = nullptr;
  const chorus_status s = chorus_device_open(g_context, g_device.c_str(), &probe);
  if (s != CHORUS_OK) {
    std::printf("cannot open %s: %s (%s)\n", g_device.c_str(), chorus_last_error_message(),
                chorus_status_name(s));
    uint32_t plugins = 0;
    chorus_context_plugin_count(g_context, &plugins);
    for (uint32_t i = 0; i < plugins; ++i) {
      chorus_plugin_info info{};
      if (chorus_context_plugin_info(g_context, i, &info) == CHORUS_OK && !info.usable)
        std::printf("  plugin %s (%s): %s\n", info.name, info.path, info.reason);
    }
    chorus_context_destroy(g_context);
    if (s == CHORUS_ERROR_UNAVAILABLE || s == CHORUS_ERROR_NOT_FOUND) std::exit(77);
    return 1;
  }
  chorus_device_close(probe);

  const int result = Catch::Session().run(argc, argv);

  const std::string dir = env("CHORUS_CONFORMANCE_REPORT_DIR", "");
  if (!dir.empty() && !g_collected.results.empty()) {
    std::string error;
    if (!cf::write_json(g_collected, dir + "/conformance.json", &error) ||
        !cf::write_markdown(g_collected, dir + "/conformance.md", &error))
      std::fprintf(stderr, "%s\n", error.c_str());
  }
  chorus_context_destroy(g_context);
  return result;
}
