// conformance.hpp — the chorus conformance suite as a library: the `chorus
// conformance` command and the CTest driver both call run() and then print or
// write the Report. Every case runs one op on the device under test and on
// reference:0 (the oracle, always with contiguous inputs), and judges every
// element against a bound derived beside the op's cases
// (src/ops/<family>/cases*.cpp); the rules are
// /work/shared/CONFORMANCE.md (docs/conformance.md in the tree).
#pragma once

#include <chorus/chorus.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chorus::conformance {

// smoke: a handful of cases per op family (seconds); ci: the whole op x dtype
// matrix at modest sizes; full: adds big shapes (1023/1025 tiles, >65535 rows).
enum class Tier { smoke, ci, full };
enum class Outcome { pass, fail, unsupported, skipped };
// How the device under test ran a case's op, from chorus_queue_last_op right
// after its first run: its backend's own kernel (native), lowered by
// libchorus to other ops (composite, e.g. softmax on a backend without a
// softmax kernel, or CHORUS_COMPOSITES), nothing (none: a zero-size output),
// or unknown (the op never ran: unsupported, failed, not run).
enum class Path { unknown, none, native, composite };

struct CaseResult {
  std::string name;   // unique, e.g. "gemm/f16/accuracy/33x17x129/nt"
  std::string op;     // op-level name for the matrix: "gemm", "add", "sum", "copy", ...
  std::string dtype;  // "f32", ...; for copy "f32->f16"
  std::string shape;  // human string
  std::string kind;   // "exact" | "accuracy" | "special" | "view" | "edge"
  Outcome outcome = Outcome::fail;
  double worst_ratio = 0;  // max |err| / bound (0 when exact; any exact mismatch gives inf)
  uint64_t seed = 0;
  std::string reproducer;  // one line: op, dtypes, shape, strides, seed, device
  std::string details;     // the first ten mismatches, or the error / unsupported reason
  double seconds = 0;
  Path path = Path::unknown;
  std::string path_description;  // chorus_plan_info::description, e.g. "softmax = max, sub, exp, sum, div"
};

struct Options {
  std::string device = "reference:0";
  Tier tier = Tier::ci;
  // Empty: every case. Otherwise comma-separated op names ("gemm", "add"),
  // family names ("unary", "reduce") or case-name prefixes (anything with a
  // '/', e.g. "gemm/f16/exact").
  std::string op_filter;
  // Run each case in a forked child: a crash fails that case and the run goes
  // on. The child inherits the context, so this suits backends whose runtime
  // survives fork() (reference, CPU plugins); see runner.cpp.
  bool isolate = false;
  std::function<void(size_t done, size_t total, const CaseResult&)> progress;  // may be empty
  // May be empty. Asked before each case; once it says true, no further
  // case runs: the rest are reported as skipped and Report::interrupted is
  // set (the CLI's answer to SIGINT/SIGTERM: a report of what did run).
  std::function<bool()> stop;
};

struct Summary {
  int pass = 0, fail = 0, unsupported = 0, skipped = 0;
};

struct Report {
  chorus_device_info device{};
  std::string chorus_version;
  std::vector<CaseResult> results;
  Summary summary;
  std::string error;  // non-empty when the device (or the oracle) could not be opened
  chorus_status error_status = CHORUS_OK;  // the status behind error
  bool interrupted = false;  // Options::stop ended the run: skipped cases were never run
  // chorus_device_kernel_stats of the device under test at the end of the
  // run. The C API gives zeros for a backend without run-time compilation, so
  // all zeros means "nothing to report": has_kernel_stats stays false and
  // neither the CLI nor the JSON shows them. (With isolate the cases run in
  // children, whose compilations the parent's device does not see.)
  bool has_kernel_stats = false;
  chorus_kernel_stats kernel_stats{};
};

// Runs every selected case on options.device, with reference:0 of the same
// context as the oracle.
Report run(chorus_context context, const Options& options);

// Every op name the suite covers (the rows of the matrix), in case order.
std::vector<std::string> op_names();
// The case families, in registration order (each src/ops/<folder>/ registers
// its own: "copy", "fill", "unary", ... from elementwise, "cumsum", "gemm",
// ...); what Options::op_filter and the CTest driver select by.
std::vector<std::string> family_names();

bool write_json(const Report& report, const std::string& path, std::string* error);
// "opencl:0: kernels: 12 compiled (3400 ms), 95 from the cache, 0 cache
// entries rejected"; empty when the report has no kernel statistics.
std::string kernel_stats_line(const Report& report);
bool write_markdown(const Report& report, const std::string& path, std::string* error);
// op x dtype -> pass/fail/unsupported counts plus a coverage line, for a terminal.
std::string matrix_text(const Report& report);

const char* outcome_name(Outcome outcome);
const char* path_name(Path path);  // "native", "composite", "none", "unknown"
const char* tier_name(Tier tier);
bool parse_tier(const std::string& text, Tier* tier);

}  // namespace chorus::conformance
