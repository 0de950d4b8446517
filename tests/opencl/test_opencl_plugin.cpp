// test_opencl_plugin.cpp — end-to-end tests of the OpenCL plugin's kernel
// cache and error reporting, each step in its own process (as the cache's
// users are): two processes compiling the same kernels at once into an empty
// CHORUS_CACHE_DIR both succeed; a later process compiles nothing and loads
// everything from the cache; truncated entries are rejected, recompiled and
// rewritten; a machine without an OpenCL platform gets a reason, not a crash.
// The parent never touches OpenCL itself (drivers do not survive fork()).
// Exits 77 (skipped) when this machine has no usable opencl:0. With
// CHORUS_OPENCL_NO_LINKER=1 the plugin builds programs and caches
// executable binaries instead of compiled objects: CTest runs both.
#include <sys/wait.h>
#include <unistd.h>

#include <chorus/chorus.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
  }
}

// Runs body in a child process; its exit code.
int in_child(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    int code = 1;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    }
    std::fflush(nullptr);
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

// A few ops across program families, on opencl:0 and on the reference;
// returns the largest difference relative to 1 + |expected|.
double workload(const chorus::Context& ctx, chorus_kernel_stats* stats) {
  using namespace chorus;
  auto run = [&](const char* name, std::vector<float>* out, chorus_kernel_stats* stats_out) {
    Device dev = ctx.open(name);
    Queue q = dev.queue();
    const int64_t m = 33, k = 17, n = 29;
    std::vector<float> a(m * k), b(k * n), x(7 * 100);
    for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.3f * i);
    for (size_t i = 0; i < b.size(); ++i) b[i] = std::cos(0.7f * i);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 3 * std::sin(0.11f * i);
    Buffer ab = dev.buffer(a.size() * 4), bb = dev.buffer(b.size() * 4), cb = dev.buffer(m * n * 4);
    Buffer xb = dev.buffer(x.size() * 4), yb = dev.buffer(x.size() * 4);
    q.write<float>(ab, a);
    q.write<float>(bb, b);
    q.write<float>(xb, x);
    Tensor at(ab, CHORUS_DTYPE_F32, {m, k}), bt(bb, CHORUS_DTYPE_F32, {k, n}),
        ct(cb, CHORUS_DTYPE_F32, {m, n});
    Tensor xt(xb, CHORUS_DTYPE_F32, {7, 100}), yt(yb, CHORUS_DTYPE_F32, {7, 100});
    ops::gemm(q, at, bt, ct);
    ops::softmax(q, xt, yt);
    std::vector<float> c(m * n), y(x.size());
    q.read<float>(cb, c);
    q.read<float>(yb, y);
    ops::unary(q, CHORUS_UNARY_EXP, xt, yt);
    std::vector<float> e(x.size());
    q.read<float>(yb, e);
    out->insert(out->end(), c.begin(), c.end());
    out->insert(out->end(), y.begin(), y.end());
    out->insert(out->end(), e.begin(), e.end());
    if (stats_out) check(chorus_device_kernel_stats(dev.get(), stats_out));
  };
  std::vector<float> got, want;
  run("opencl:0", &got, stats);
  run("reference:0", &want, nullptr);
  double worst = 0;  // relative to 1 + |want|: these values are O(1) to O(10)
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::fabs(double(got[i]) - want[i]) / (1 + std::fabs(double(want[i]))));
  return worst;
}

// Child body: run the workload; 0 when the results are right and the kernel
// statistics satisfy `ok`.
int checked_workload(const char* label, const std::function<bool(const chorus_kernel_stats&)>& ok) {
  chorus::Context ctx;
  chorus_kernel_stats s{};
  const double worst = workload(ctx, &s);
  std::printf(
      "  %s: compiled %llu, from cache %llu, rejected %llu, compile %.0f ms, worst rel. diff "
      "%.2g\n",
      label, static_cast<unsigned long long>(s.compiled),
      static_cast<unsigned long long>(s.cache_hits),
      static_cast<unsigned long long>(s.cache_rejected), s.compile_ms, worst);
  if (worst > 1e-4) return 2;
  return ok(s) ? 0 : 3;
}

size_t count_entries(const fs::path& folder) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(folder, ec))
    if (e.path().extension() == ".chorusbin") ++n;
  return n;
}

}  // namespace

int main() {
  const fs::path cache =
      fs::temp_directory_path() / ("chorus-opencl-cache-test-" + std::to_string(getpid()));
  fs::remove_all(cache);
  setenv("CHORUS_CACHE_DIR", cache.c_str(), 1);

  const int available = in_child([] {
    chorus::Context ctx;
    for (const auto& d : ctx.devices())
      if (std::string(d.name) == "opencl:0" && d.usable) return 0;
    return 1;
  });
  if (available != 0) {
    std::printf("opencl:0 is not usable here; skipping\n");
    return 77;
  }

  std::printf("two processes compile the same kernels at once into an empty cache\n");
  {
    int go[2];
    if (pipe(go) != 0) return 1;
    std::vector<pid_t> children;
    for (int c = 0; c < 2; ++c) {
      std::fflush(nullptr);
      const pid_t pid = fork();
      if (pid == 0) {
        close(go[1]);
        char byte;
        if (read(go[0], &byte, 1) < 0) _exit(4);
        int code = 1;
        try {
          code = checked_workload(c == 0 ? "first" : "second",
                                  [](const chorus_kernel_stats& s) { return s.compiled > 0; });
        } catch (const std::exception& e) {
          std::fprintf(stderr, "child: %s\n", e.what());
        }
        std::fflush(nullptr);
        _exit(code);
      }
      children.push_back(pid);
    }
    close(go[0]);
    close(go[1]);
    for (pid_t pid : children) {
      int status = 0;
      waitpid(pid, &status, 0);
      expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "a concurrent compiling process failed");
    }
  }
  const size_t entries = count_entries(cache);
  expect(entries > 0, "the cache holds entries after the first run");

  std::printf("a later process compiles nothing\n");
  expect(in_child([] {
           return checked_workload("warm", [](const chorus_kernel_stats& s) {
             return s.compiled == 0 && s.cache_hits > 0 && s.cache_rejected == 0;
           });
         }) == 0,
         "a warm process compiled kernels or rejected entries");

  std::printf("truncated entries are rejected and rebuilt\n");
  for (const auto& e : fs::recursive_directory_iterator(cache))
    if (e.path().extension() == ".chorusbin")
      fs::resize_file(e.path(), fs::file_size(e.path()) / 2);
  expect(in_child([] {
           return checked_workload("after truncation", [](const chorus_kernel_stats& s) {
             return s.cache_rejected > 0 && s.compiled == s.cache_rejected;
           });
         }) == 0,
         "truncated entries were not detected and rebuilt");
  expect(in_child([] {
           return checked_workload("rebuilt", [](const chorus_kernel_stats& s) {
             return s.compiled == 0 && s.cache_rejected == 0 && s.cache_hits > 0;
           });
         }) == 0,
         "the rebuilt entries are not valid");
  expect(count_entries(cache) == entries, "rebuilding changed the number of entries");

  std::printf("no OpenCL platform: the plugin is listed as unavailable, with the reason\n");
  expect(in_child([] {
           setenv("OCL_ICD_VENDORS", "/nonexistent-chorus-test", 1);
           setenv("OPENCL_VENDOR_PATH", "/nonexistent-chorus-test", 1);
           chorus::Context ctx;
           for (const auto& p : ctx.plugins()) {
             if (std::string(p.name) != "opencl") continue;
             std::printf("  opencl plugin: usable %d, %s: %s\n", p.usable,
                         chorus_status_name(p.status), p.reason);
             return !p.usable && p.status == CHORUS_ERROR_UNAVAILABLE &&
                            std::string(p.reason).find("no OpenCL platform") != std::string::npos
                        ? 0
                        : 1;
           }
           return 1;
         }) == 0,
         "a machine without a platform did not report 'no OpenCL platform'");

  fs::remove_all(cache);
  std::printf(failures ? "%d check(s) failed\n" : "all checks passed\n", failures);
  return failures ? 1 : 0;
}
