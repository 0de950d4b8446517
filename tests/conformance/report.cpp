// report.cpp — a Report as JSON (one row per case, with the device, driver
// and compiler on every row so rows from many runs can be pooled, and the
// path the op ran by), as a Markdown table backend x op x dtype (with the
// paths seen), and as a terminal matrix (composites marked). Coverage
// (supported / total) always sits next to the pass rate: unsupported is never
// counted as passed.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "detail.hpp"

namespace chorus::conformance {
namespace detail {

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;  // UTF-8 passes through
        }
    }
  }
  return out;
}

}  // namespace detail

namespace {

using detail::json_escape;

std::string quoted(std::string_view s) {
  return "\"" + json_escape(s) + "\"";
}

// JSON has no infinity: a non-finite ratio is null (the status says why).
std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

struct Counts {
  int pass = 0, fail = 0, unsupported = 0, skipped = 0;
  double worst = 0;
  bool native = false, composite = false, none = false;  // the paths the cases ran by
  void add(const CaseResult& r) {
    native = native || r.path == Path::native;
    composite = composite || r.path == Path::composite;
    none = none || r.path == Path::none;
    switch (r.outcome) {
      case Outcome::pass:
        ++pass;
        break;
      case Outcome::fail:
        ++fail;
        break;
      case Outcome::unsupported:
        ++unsupported;
        break;
      case Outcome::skipped:
        ++skipped;
        break;
    }
    if (r.outcome == Outcome::pass || r.outcome == Outcome::fail)
      if (r.worst_ratio > worst || std::isnan(r.worst_ratio)) worst = r.worst_ratio;
  }
};

std::string coverage_line(const Summary& s) {
  const int supported = s.pass + s.fail;
  const int total = supported + s.unsupported;
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      "coverage: %d / %d cases supported (%.1f%%); pass rate: %d / %d (%.1f%%); %d skipped",
      supported, total, total ? 100.0 * supported / total : 0.0, s.pass, supported,
      supported ? 100.0 * s.pass / supported : 0.0, s.skipped);
  return buf;
}

// "native", "composite", "native, composite"; "none" only when nothing else
// ran (zero-size cases run nothing on any backend); "-" when no case ran.
std::string paths_text(const Counts& c) {
  std::string text;
  if (c.native) text = "native";
  if (c.composite) text += text.empty() ? "composite" : ", composite";
  if (text.empty()) text = c.none ? "none" : "-";
  return text;
}

bool write_file(const std::string& path, const std::string& text, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << text;
  if (out) out.close();
  if (!out) {
    if (error) *error = "cannot write " + path;
    return false;
  }
  return true;
}

// Rows in the order ops first appear, dtypes in the order of chorus_dtype
// (for copy: by source, then destination).
int dtype_index(const std::string& dtype) {
  static const char* order[] = {"f32", "f16", "bf16", "f64", "i32", "i64", "u8"};
  for (int i = 0; i < 7; ++i)
    if (dtype == order[i]) return i;
  return 7;
}
int dtype_rank(const std::string& dtype) {
  const size_t arrow = dtype.find("->");
  if (arrow == std::string::npos) return dtype_index(dtype);
  return dtype_index(dtype.substr(0, arrow)) * 8 + dtype_index(dtype.substr(arrow + 2));
}

}  // namespace

bool write_json(const Report& report, const std::string& path, std::string* error) {
  const chorus_device_info& d = report.device;
  std::string j = "{\n";
  j += "  \"chorus_version\": " + quoted(report.chorus_version) + ",\n";
  j += "  \"device\": {\"name\": " + quoted(d.name) + ", \"backend\": " + quoted(d.backend) +
       ", \"description\": " + quoted(d.description) + ", \"vendor\": " + quoted(d.vendor) +
       ", \"driver_version\": " + quoted(d.driver_version) +
       ", \"compiler_version\": " + quoted(d.compiler_version) + "},\n";
  if (report.has_kernel_stats) {
    const chorus_kernel_stats& k = report.kernel_stats;
    j += "  \"kernel_stats\": {\"compiled\": " + std::to_string(k.compiled) +
         ", \"cache_hits\": " + std::to_string(k.cache_hits) +
         ", \"cache_rejected\": " + std::to_string(k.cache_rejected) +
         ", \"compile_ms\": " + json_number(k.compile_ms) + "},\n";
  }
  if (!report.error.empty()) j += "  \"error\": " + quoted(report.error) + ",\n";
  if (report.interrupted) j += "  \"interrupted\": true,\n";
  const Summary& s = report.summary;
  j += "  \"summary\": {\"pass\": " + std::to_string(s.pass) +
       ", \"fail\": " + std::to_string(s.fail) +
       ", \"unsupported\": " + std::to_string(s.unsupported) +
       ", \"skipped\": " + std::to_string(s.skipped) + "},\n";
  j += "  \"results\": [";
  for (size_t i = 0; i < report.results.size(); ++i) {
    const CaseResult& r = report.results[i];
    char seed[32];
    std::snprintf(seed, sizeof seed, "0x%016" PRIx64, r.seed);
    j += i ? ",\n    {" : "\n    {";
    j += "\"name\": " + quoted(r.name) + ", \"op\": " + quoted(r.op) +
         ", \"dtype\": " + quoted(r.dtype) + ", \"shape\": " + quoted(r.shape) +
         ", \"kind\": " + quoted(r.kind) + ", \"status\": " + quoted(outcome_name(r.outcome)) +
         ", \"worst_error_over_bound\": " + json_number(r.worst_ratio) +
         // 64-bit seeds exceed a JSON double's exact range: a hex string.
         ", \"seed\": " + quoted(seed) + ", \"reproducer\": " + quoted(r.reproducer) +
         ", \"device\": " + quoted(d.name) + ", \"driver_version\": " + quoted(d.driver_version) +
         ", \"compiler_version\": " + quoted(d.compiler_version) +
         ", \"seconds\": " + json_number(r.seconds) + ", \"path\": " + quoted(path_name(r.path));
    if (!r.path_description.empty())
      j += ", \"path_description\": " + quoted(r.path_description);
    if (r.outcome != Outcome::pass) j += ", \"details\": " + quoted(r.details);
    j += "}";
  }
  j += report.results.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return write_file(path, j, error);
}

std::string kernel_stats_line(const Report& report) {
  if (!report.has_kernel_stats) return "";
  const chorus_kernel_stats& k = report.kernel_stats;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s: kernels: %" PRIu64 " compiled (%.0f ms), %" PRIu64 " from the cache, %" PRIu64
                " cache entries rejected",
                report.device.name, k.compiled, k.compile_ms, k.cache_hits, k.cache_rejected);
  return buf;
}

bool write_markdown(const Report& report, const std::string& path, std::string* error) {
  const chorus_device_info& d = report.device;
  const std::string backend = d.backend[0] ? d.backend : d.name;
  std::string m = "# chorus conformance: " + std::string(d.name) + "\n\n";
  m += "- device: " + std::string(d.description) + " (" + d.vendor + ")\n";
  m += "- driver: " + std::string(d.driver_version) + ", compiler: " + d.compiler_version + "\n";
  m += "- chorus " + report.chorus_version + "\n";
  if (!report.error.empty()) m += "- **error**: " + report.error + "\n";
  if (report.interrupted)
    m += "- **interrupted**: the run was stopped; the cases it did not reach are listed as "
         "skipped\n";
  m += "- " + coverage_line(report.summary) + "\n\n";
  m += "Max error is the worst |error| / bound over the cases run (0: bit-exact; inf: an exact "
       "case differed). Path: how the device ran the op (native: its own kernel; composite: "
       "lowered by libchorus to other ops; none: nothing to run).\n\n";
  m += "| backend | op | dtype | pass | fail | unsupported | skipped | max error / bound | path "
       "|\n";
  m += "|---|---|---|---:|---:|---:|---:|---:|---|\n";
  std::map<std::string, size_t> op_order;
  for (const CaseResult& r : report.results) op_order.emplace(r.op, op_order.size());
  std::map<std::tuple<size_t, int, std::string>, Counts> cells;
  for (const CaseResult& r : report.results)
    cells[{op_order[r.op], dtype_rank(r.dtype), r.dtype}].add(r);
  std::vector<std::string> op_by_index(op_order.size());
  for (const auto& [op, index] : op_order) op_by_index[index] = op;
  for (const auto& [key, c] : cells) {
    char worst[32];
    if (c.pass + c.fail == 0)
      std::snprintf(worst, sizeof worst, "-");
    else if (std::isfinite(c.worst))
      std::snprintf(worst, sizeof worst, "%.3g", c.worst);
    else
      std::snprintf(worst, sizeof worst, "inf");
    const std::string status = c.fail ? " **FAIL**" : "";
    m += "| " + backend + " | " + op_by_index[std::get<0>(key)] + " | " + std::get<2>(key) + " | " +
         std::to_string(c.pass) + " | " + std::to_string(c.fail) + status + " | " +
         std::to_string(c.unsupported) + " | " + std::to_string(c.skipped) + " | " + worst + " | " +
         paths_text(c) + " |\n";
  }
  // The composites, by what they lowered to.
  std::map<std::string, int> composites;
  for (const CaseResult& r : report.results)
    if (r.path == Path::composite)
      ++composites[r.path_description.empty() ? r.op : r.path_description];
  if (!composites.empty()) {
    m += "\n## Composites\n\nOps the device ran as libchorus compositions of other ops "
         "(cases):\n\n";
    for (const auto& [what, cases] : composites)
      m += "- " + what + " (" + std::to_string(cases) + ")\n";
  }
  bool any_failure = false;
  for (const CaseResult& r : report.results) {
    if (r.outcome != Outcome::fail) continue;
    if (!any_failure) m += "\n## Failures\n";
    any_failure = true;
    m += "\n### `" + r.name + "`\n\n`" + r.reproducer + "`\n\n```\n" + r.details + "\n```\n";
  }
  return write_file(path, m, error);
}

std::string matrix_text(const Report& report) {
  static const char* dtypes[] = {"f32", "f16", "bf16", "f64", "i32", "i64", "u8"};
  // Rows: ops in first-appearance order; copy gets one row per source dtype,
  // its columns being the destination.
  std::vector<std::string> rows;
  std::map<std::string, std::map<std::string, Counts>> table;
  for (const CaseResult& r : report.results) {
    std::string row = r.op, column = r.dtype;
    const size_t arrow = r.dtype.find("->");
    if (arrow != std::string::npos) {
      row = r.op + " " + r.dtype.substr(0, arrow) + "->";
      column = r.dtype.substr(arrow + 2);
    }
    if (!table.count(row)) rows.push_back(row);
    table[row][column].add(r);
  }
  char line[256];
  std::string out;
  std::snprintf(line, sizeof line, "%-16s", "op");
  out += line;
  for (const char* d : dtypes) {
    std::snprintf(line, sizeof line, " %9s", d);
    out += line;
  }
  out += "\n";
  for (const std::string& row : rows) {
    std::snprintf(line, sizeof line, "%-16s", row.c_str());
    out += line;
    for (const char* d : dtypes) {
      std::string cell = "-";
      const auto it = table[row].find(d);
      if (it != table[row].end()) {
        const Counts& c = it->second;
        const int run = c.pass + c.fail;
        if (c.fail)
          cell = "F" + std::to_string(c.fail) + "/" + std::to_string(run);
        else if (run)
          cell = std::to_string(c.pass);
        else if (c.unsupported)
          cell = "U";
        else
          cell = "S";
        if (run && c.unsupported) cell += "+U" + std::to_string(c.unsupported);
        if (c.composite) cell += "*";
      }
      std::snprintf(line, sizeof line, " %9s", cell.c_str());
      out += line;
    }
    out += "\n";
  }
  out +=
      "cells: N = all N cases passed, Fk/N = k of N failed, U = unsupported, S = skipped, - = not "
      "applicable; * = ran (in some cases) as a composite of other ops\n";
  out += coverage_line(report.summary) + "\n";
  return out;
}

}  // namespace chorus::conformance
