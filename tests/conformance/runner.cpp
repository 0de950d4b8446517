// runner.cpp — run(): opens the device under test and the oracle, selects the
// cases of the tier and filter, and runs each one, in this process or (with
// Options::isolate) in a forked child whose crash or hang fails only that
// case.
//
// Isolation forks after the context exists, so the child inherits every
// loaded backend. That is sound for runtimes that tolerate fork() (the
// reference backend, host-memory plugins). A probe child checks this first:
// where the runtime hangs or fails after fork() (PoCL's worker threads,
// CUDA after cuInit), the run is refused with that reason instead of every
// case waiting out its timeout; isolation never hides a wrong answer.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "detail.hpp"

namespace chorus::conformance {
namespace detail {
namespace {

constexpr int kIsolatedTimeoutSeconds = 600;

// ---- a CaseResult through a pipe: length-prefixed fields
void put(std::string& out, const std::string& s) {
  const uint64_t n = s.size();
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out += s;
}
template <typename T>
void put_raw(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
bool get(const std::string& in, size_t& at, std::string& s) {
  uint64_t n = 0;
  if (at + sizeof n > in.size()) return false;
  std::memcpy(&n, in.data() + at, sizeof n);
  at += sizeof n;
  if (at + n > in.size()) return false;
  s.assign(in, at, n);
  at += n;
  return true;
}
template <typename T>
bool get_raw(const std::string& in, size_t& at, T& v) {
  if (at + sizeof v > in.size()) return false;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return true;
}

std::string serialise(const CaseResult& r) {
  std::string out;
  for (const std::string* s : {&r.name, &r.op, &r.dtype, &r.shape, &r.kind, &r.reproducer,
                               &r.details, &r.path_description})
    put(out, *s);
  put_raw(out, static_cast<int32_t>(r.outcome));
  put_raw(out, static_cast<int32_t>(r.path));
  put_raw(out, r.worst_ratio);
  put_raw(out, r.seed);
  put_raw(out, r.seconds);
  return out;
}

bool deserialise(const std::string& in, CaseResult& r) {
  size_t at = 0;
  int32_t outcome = 0, path = 0;
  for (std::string* s : {&r.name, &r.op, &r.dtype, &r.shape, &r.kind, &r.reproducer, &r.details,
                         &r.path_description})
    if (!get(in, at, *s)) return false;
  if (!get_raw(in, at, outcome) || !get_raw(in, at, path) || !get_raw(in, at, r.worst_ratio) ||
      !get_raw(in, at, r.seed) || !get_raw(in, at, r.seconds))
    return false;
  r.outcome = static_cast<Outcome>(outcome);
  r.path = static_cast<Path>(path);
  return at == in.size();
}

// The result of a case judged without running it here: crashed in its child
// process, or never run because the run was stopped.
CaseResult result_without_run(const CaseEntry& entry, const std::string& device,
                              Outcome outcome, const std::string& why, const char* note,
                              double seconds) {
  CaseResult r;
  r.name = entry.name;
  r.op = entry.op;
  r.dtype = entry.dtype;
  r.shape = entry.shape;
  r.kind = entry.kind;
  r.seed = fnv1a(entry.name);
  r.outcome = outcome;
  r.details = why;
  char seed[32];
  std::snprintf(seed, sizeof seed, "0x%016" PRIx64, r.seed);
  r.reproducer = "op=" + entry.op + " dtype=" + entry.dtype + " kind=" + entry.kind +
                 " shape=" + entry.shape + " seed=" + seed + " device=" + device +
                 " case=" + entry.name + " (" + note + ")";
  r.seconds = seconds;
  return r;
}

CaseResult crashed(const CaseEntry& entry, const std::string& device, const std::string& why,
                   double seconds) {
  return result_without_run(entry, device, Outcome::fail, why,
                            "isolated; rerun without isolation for its views", seconds);
}

CaseResult run_isolated(const CaseEntry& entry, const Device& dut, ReferenceRunner& reference) {
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  int fds[2];
  if (pipe(fds) != 0)
    return crashed(entry, dut.name, std::string("pipe() failed: ") + std::strerror(errno), 0);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return crashed(entry, dut.name, std::string("fork() failed: ") + std::strerror(errno), 0);
  }
  if (pid == 0) {
    close(fds[0]);
    const std::string bytes = serialise(run_case(entry, dut, reference));
    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t w = write(fds[1], bytes.data() + written, bytes.size() - written);
      if (w <= 0) _exit(3);
      written += static_cast<size_t>(w);
    }
    _exit(0);  // no atexit handlers, no second flush of the parent's buffers
  }
  close(fds[1]);
  std::string bytes;
  bool timed_out = false;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    const double left = kIsolatedTimeoutSeconds - elapsed();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    const int ready = poll(&p, 1, static_cast<int>(std::min(left, 1.0) * 1000) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[65536];
    const ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return crashed(entry, dut.name,
                   "timed out after " + std::to_string(kIsolatedTimeoutSeconds) + " s", elapsed());
  if (WIFSIGNALED(status))
    return crashed(entry, dut.name,
                   "crashed: signal " + std::to_string(WTERMSIG(status)) + " (" +
                       strsignal(WTERMSIG(status)) + ")",
                   elapsed());
  CaseResult r;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !deserialise(bytes, r))
    return crashed(entry, dut.name,
                   "the isolated case exited with status " + std::to_string(WEXITSTATUS(status)) +
                       " without a result",
                   elapsed());
  return r;
}

// Whether the device still works in a forked child: a fill and a read in a
// child that must finish within 20 s. Drivers with worker threads (PoCL)
// or with per-process state (CUDA) do not, and every isolated case would
// then wait out its timeout; the run is refused instead.
bool survives_fork(const Device& dut, std::string* why) {
  const pid_t pid = fork();
  if (pid < 0) {
    *why = std::string("fork() failed: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    chorus_buffer buffer = nullptr;
    const uint32_t pattern = 0x3f800000u;
    uint32_t back = 0;
    const bool ok = chorus_buffer_create(dut.device, 4, &buffer) == CHORUS_OK &&
                    chorus_buffer_fill(dut.queue, buffer, 0, 4, &pattern, 4) == CHORUS_OK &&
                    chorus_buffer_read(dut.queue, buffer, 0, &back, 4) == CHORUS_OK &&
                    back == pattern;
    _exit(ok ? 0 : 1);
  }
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      *why = std::string("waitpid() failed: ") + std::strerror(errno);
      return false;
    }
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(20)) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      *why = "its runtime hangs in a forked process";
      return false;
    }
    poll(nullptr, 0, 20);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  *why = "its runtime does not work in a forked process";
  return false;
}

bool selected(const CaseEntry& c, const std::vector<std::string>& filters) {
  if (filters.empty()) return true;
  for (const std::string& f : filters) {
    if (f == c.op || f == c.family) return true;
    if (f.find('/') != std::string::npos && c.name.compare(0, f.size(), f) == 0) return true;
  }
  return false;
}

std::vector<std::string> split_filter(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string token;
  while (std::getline(in, token, ',')) {
    token.erase(0, token.find_first_not_of(" \t"));
    token.erase(token.find_last_not_of(" \t") + 1);
    if (!token.empty()) out.push_back(token);
  }
  return out;
}

std::string last_error() {
  const char* m = chorus_last_error_message();
  return m && *m ? m : "(no message)";
}

}  // namespace
}  // namespace detail

Report run(chorus_context context, const Options& options) {
  using namespace detail;
  Report report;
  report.chorus_version = chorus_version_string();
  std::snprintf(report.device.name, sizeof report.device.name, "%s", options.device.c_str());

  chorus_device dut = nullptr, oracle = nullptr;
  chorus_queue dut_queue = nullptr, oracle_queue = nullptr;
  auto cleanup = [&] {
    if (dut_queue) chorus_queue_destroy(dut_queue);
    if (oracle_queue) chorus_queue_destroy(oracle_queue);
    if (dut) chorus_device_close(dut);
    if (oracle) chorus_device_close(oracle);
  };
  auto fail = [&](chorus_status s, const std::string& what) {
    report.error = what + ": " + last_error();
    report.error_status = s;
    cleanup();
    return report;
  };
  if (chorus_status s = chorus_device_open(context, options.device.c_str(), &dut); s != CHORUS_OK)
    return fail(s, "cannot open device " + options.device);
  chorus_device_info_get(dut, &report.device);
  if (chorus_status s = chorus_device_open(context, "reference:0", &oracle); s != CHORUS_OK)
    return fail(s, "cannot open the oracle reference:0");
  // Precise numerics: the bounds of CONFORMANCE.md. The queue says what it
  // really does and the judgement follows its declaration, never the
  // device's name: deterministic adds the bitwise check of the two runs,
  // flush-to-zero accepts zeros for subnormal results (and skips cases built
  // on subnormal inputs), allow_tf32 widens GEMM inputs' u to 2^-11. A queue
  // that reports fast_math is still judged by the precise bounds the suite
  // asked for: relaxed bounds belong to fast_math queues, which the suite does
  // not request.
  const chorus_queue_desc precise{sizeof(chorus_queue_desc), CHORUS_NUMERICS_PRECISE};
  if (chorus_status s = chorus_queue_create(dut, &precise, &dut_queue); s != CHORUS_OK)
    return fail(s, "cannot create a precise queue on " + options.device);
  if (chorus_status s = chorus_queue_create(oracle, &precise, &oracle_queue); s != CHORUS_OK)
    return fail(s, "cannot create a queue on reference:0");
  Device device;
  device.device = dut;
  device.queue = dut_queue;
  device.name = report.device.name;
  if (chorus_status s = chorus_queue_numerics(dut_queue, &device.numerics); s != CHORUS_OK)
    return fail(s, "cannot read the queue's numerics on " + options.device);
  ReferenceRunner reference(oracle, oracle_queue);
  if (std::string why; options.isolate && !survives_fork(device, &why)) {
    report.error =
        "cannot isolate cases on " + options.device + ": " + why + "; run without isolation";
    report.error_status = CHORUS_ERROR_UNSUPPORTED;
    cleanup();
    return report;
  }

  std::vector<CaseEntry> cases;
  try {
    const std::vector<std::string> filters = split_filter(options.op_filter);
    for (const CaseEntry& c : every_case())
      if (static_cast<int>(c.tier) <= static_cast<int>(options.tier) && selected(c, filters))
        cases.push_back(c);
  } catch (const std::exception& e) {
    report.error = std::string("the suite could not list its cases: ") + e.what();
    report.error_status = CHORUS_ERROR_INTERNAL;
    cleanup();
    return report;
  }
  report.results.reserve(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    if (!report.interrupted && options.stop && options.stop()) report.interrupted = true;
    CaseResult r = report.interrupted
                       ? result_without_run(cases[i], device.name, Outcome::skipped,
                                            "not run: the run was stopped before this case",
                                            "not run", 0)
                   : options.isolate ? run_isolated(cases[i], device, reference)
                                     : run_case(cases[i], device, reference);
    switch (r.outcome) {
      case Outcome::pass:
        ++report.summary.pass;
        break;
      case Outcome::fail:
        ++report.summary.fail;
        break;
      case Outcome::unsupported:
        ++report.summary.unsupported;
        break;
      case Outcome::skipped:
        ++report.summary.skipped;
        break;
    }
    report.results.push_back(std::move(r));
    if (options.progress) options.progress(i + 1, cases.size(), report.results.back());
  }
  chorus_kernel_stats stats{};
  if (chorus_device_kernel_stats(dut, &stats) == CHORUS_OK &&
      (stats.compiled || stats.cache_hits || stats.cache_rejected || stats.compile_ms > 0)) {
    report.has_kernel_stats = true;
    report.kernel_stats = stats;
  }
  cleanup();
  return report;
}

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::pass:
      return "pass";
    case Outcome::fail:
      return "fail";
    case Outcome::unsupported:
      return "unsupported";
    case Outcome::skipped:
      return "skipped";
  }
  return "fail";
}

const char* path_name(Path path) {
  switch (path) {
    case Path::native:
      return "native";
    case Path::composite:
      return "composite";
    case Path::none:
      return "none";
    case Path::unknown:
      break;
  }
  return "unknown";
}

const char* tier_name(Tier tier) {
  switch (tier) {
    case Tier::smoke:
      return "smoke";
    case Tier::ci:
      return "ci";
    case Tier::full:
      return "full";
  }
  return "ci";
}

bool parse_tier(const std::string& text, Tier* tier) {
  for (const Tier t : {Tier::smoke, Tier::ci, Tier::full})
    if (text == tier_name(t)) {
      *tier = t;
      return true;
    }
  return false;
}

}  // namespace chorus::conformance
