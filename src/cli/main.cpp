// main.cpp — the `chorus` command: list devices, run the conformance suite,
// benchmark ops, manage the kernel cache. Every subcommand works on any
// backend the registry finds; none has a backend-specific branch.
#include <signal.h>
#include <unistd.h>

#include <chorus/chorus.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "conformance.hpp"

namespace chorus::cli {
namespace {

const char* kind_name(chorus_device_kind kind) {
  switch (kind) {
    case CHORUS_DEVICE_KIND_REFERENCE: return "reference";
    case CHORUS_DEVICE_KIND_CPU: return "cpu";
    case CHORUS_DEVICE_KIND_INTEGRATED_GPU: return "integrated-gpu";
    case CHORUS_DEVICE_KIND_DISCRETE_GPU: return "discrete-gpu";
    case CHORUS_DEVICE_KIND_ACCELERATOR: return "accelerator";
    default: return "unknown";
  }
}

std::string dtypes_text(uint32_t mask) {
  std::string s;
  for (int d = 1; d < CHORUS_DTYPE_COUNT_; ++d)
    if (mask & (1u << d)) s += (s.empty() ? "" : " ") + std::string(chorus_dtype_name(static_cast<chorus_dtype>(d)));
  return s;
}

std::string numerics_text(uint32_t flags) {
  std::string s;
  if (flags & CHORUS_NUMERICS_FAST_MATH) s += " fast_math";
  if (flags & CHORUS_NUMERICS_ALLOW_TF32) s += " tf32";
  if (flags & CHORUS_NUMERICS_DETERMINISTIC) s += " deterministic";
  if (flags & CHORUS_NUMERICS_FLUSH_TO_ZERO) s += " flush_to_zero";
  return s.empty() ? "precise" : "precise" + s;
}

int devices(const Args&) {
  Context ctx;
  std::printf("chorus %s\n\nplugins:\n", chorus_version_string());
  for (const auto& p : ctx.plugins()) {
    if (p.usable)
      std::printf("  %-12s usable    %u device(s)   %s\n", p.name, p.device_count, p.path);
    else
      std::printf("  %-12s UNUSABLE  %s\n               (%s: %s)\n", p.name, p.path,
                  chorus_status_name(p.status), p.reason);
  }
  std::printf("\ndevices:\n");
  for (const auto& d : ctx.devices()) {
    std::printf("  %s  %s%s\n", d.name, d.description, d.usable ? "" : "  [UNUSABLE]");
    if (!d.usable) std::printf("      reason: %s\n", d.reason);
    std::printf("      kind %s, vendor %s, score %d\n", kind_name(d.kind), d.vendor, d.score);
    std::printf("      driver %s, compiler %s\n", d.driver_version, d.compiler_version);
    std::printf("      memory %.1f GiB (largest allocation %.1f GiB), local memory %llu B, "
                "max work-group %u, compute units %u\n",
                d.memory_bytes / 1073741824.0, d.max_allocation_bytes / 1073741824.0,
                static_cast<unsigned long long>(d.local_memory_bytes), d.max_work_group_size,
                d.compute_units);
    std::printf("      dtypes %s; fp64 %s, f16 arithmetic %s, subgroups %s\n",
                dtypes_text(d.dtype_mask).c_str(), d.has_fp64 ? "yes" : "no",
                d.has_f16_arithmetic ? "yes" : "no", d.has_subgroups ? "yes" : "no");
    std::printf("      numerics: supports %s; default %s\n", numerics_text(d.numerics_supported).c_str(),
                numerics_text(d.numerics_default).c_str());
  }
  return 0;
}

conformance::Tier parse_tier(const std::string& s, bool* ok) {
  *ok = true;
  if (s == "smoke") return conformance::Tier::smoke;
  if (s == "ci") return conformance::Tier::ci;
  if (s == "full") return conformance::Tier::full;
  *ok = false;
  return conformance::Tier::ci;
}

// SIGINT or SIGTERM during `chorus conformance`: the case under way
// finishes, the rest are reported as skipped, and the report and files are
// still written. The handler is one-shot: a second signal ends the process.
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int signal_number) { g_stop_signal = signal_number; }

void catch_stop_signals() {
  struct sigaction action = {};
  action.sa_handler = on_stop_signal;
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int conformance_command(const Args& args) {
  bool ok = true;
  conformance::Options options;
  options.tier = parse_tier(args.get("tier", "ci"), &ok);
  if (!ok) {
    std::fprintf(stderr, "chorus conformance: --tier must be smoke, ci or full\n");
    return 2;
  }
  options.op_filter = args.get("op", "");
  options.isolate = args.has("isolate");
  Context ctx;
  std::vector<std::string> targets;
  const std::string wanted = args.get("device", "all");
  if (wanted == "all") {
    for (const auto& d : ctx.devices())
      if (d.usable) targets.push_back(d.name);
  } else {
    targets.push_back(wanted);
  }
  const bool tty = isatty(fileno(stderr));
  int failures = 0;
  std::vector<conformance::Report> reports;
  catch_stop_signals();
  options.stop = [] { return g_stop_signal != 0; };
  for (const auto& device : targets) {
    if (g_stop_signal) break;
    options.device = device;
    size_t last_percent = 101;
    options.progress = [&](size_t done, size_t total, const conformance::CaseResult& r) {
      const size_t percent = total ? done * 100 / total : 100;
      if (tty) {
        std::fprintf(stderr, "\r  %s: %zu/%zu cases (%zu%%) %-40.40s", device.c_str(), done, total,
                     percent, r.name.c_str());
        if (done == total) std::fprintf(stderr, "\n");
      } else if (percent / 10 != last_percent / 10 || done == total) {
        std::fprintf(stderr, "  %s: %zu/%zu cases (%zu%%)\n", device.c_str(), done, total, percent);
      }
      last_percent = percent;
      if (r.outcome == conformance::Outcome::fail)
        std::fprintf(stderr, "%sFAIL %s\n  %s\n%s\n", tty ? "\n" : "", r.name.c_str(),
                     r.reproducer.c_str(), r.details.c_str());
    };
    std::fprintf(stderr, "conformance on %s (tier %s)\n", device.c_str(), args.get("tier", "ci").c_str());
    conformance::Report report = conformance::run(ctx.get(), options);
    if (!report.error.empty()) {
      std::fprintf(stderr, "chorus conformance: %s: %s\n", device.c_str(), report.error.c_str());
      ++failures;
      reports.push_back(std::move(report));
      continue;
    }
    if (report.interrupted)
      std::fprintf(stderr,
                   "chorus conformance: %s: stopped by signal %d; the cases not reached are "
                   "reported as skipped\n",
                   device.c_str(), static_cast<int>(g_stop_signal));
    std::string text = conformance::matrix_text(report);  // ends with the coverage line
    if (const std::string stats = conformance::kernel_stats_line(report); !stats.empty())
      text += stats + "\n";
    std::printf("%s\n", text.c_str());
    failures += report.summary.fail;
    reports.push_back(std::move(report));
  }
  // One file per run; several devices get the device name appended.
  auto output_name = [&](const std::string& base, const conformance::Report& r) {
    if (reports.size() == 1) return base;
    std::string name = r.device.name;
    for (char& c : name)
      if (c == ':') c = '_';
    const size_t dot = base.rfind('.');
    return dot == std::string::npos ? base + "-" + name : base.substr(0, dot) + "-" + name + base.substr(dot);
  };
  for (const auto& r : reports) {
    std::string error;
    if (args.has("json") && !conformance::write_json(r, output_name(args.get("json", ""), r), &error)) {
      std::fprintf(stderr, "chorus conformance: %s\n", error.c_str());
      return 2;
    }
    if (args.has("markdown") &&
        !conformance::write_markdown(r, output_name(args.get("markdown", ""), r), &error)) {
      std::fprintf(stderr, "chorus conformance: %s\n", error.c_str());
      return 2;
    }
  }
  if (targets.empty()) {
    std::fprintf(stderr, "chorus conformance: no usable device\n");
    return 1;
  }
  if (g_stop_signal) return 128 + g_stop_signal;  // the shell's code for "ended by a signal"
  return failures ? 1 : 0;
}

int cache(const Args& args) {
  const std::string action = args.positional.size() > 1 ? args.positional[1] : "dir";
  char path[4096];
  check(chorus_cache_dir(path, sizeof path));
  if (action == "dir") {
    std::printf("%s\n", path);
    return 0;
  }
  if (action == "clear") {
    uint64_t removed = 0;
    check(chorus_cache_clear(&removed));
    std::printf("removed %llu cached kernel(s) from %s\n", static_cast<unsigned long long>(removed), path);
    return 0;
  }
  std::fprintf(stderr, "chorus cache: unknown action '%s' (dir, clear)\n", action.c_str());
  return 2;
}

void usage(FILE* out) {
  std::fprintf(out,
               "usage: chorus <command> [options]\n\n"
               "  devices                         every plugin (usable or not, with the reason) and device\n"
               "  conformance [--device D|all] [--op OP[,OP]] [--tier smoke|ci|full]\n"
               "              [--json FILE] [--markdown FILE] [--isolate]\n"
               "                                  run the conformance suite against the reference;\n"
               "                                  on SIGINT/SIGTERM the cases not yet run are\n"
               "                                  reported as skipped and the files still written\n"
               "  bench [--device D] [--op OP[,OP]] [--mb N] [--gemm N] [--reps N] [--json FILE]\n"
               "        [--conv-layout nchw|nhwc|nchw,nhwc] [--conv-batch N]\n"
               "                                  time ops; report GB/s, GFLOP/s and the fraction\n"
               "                                  of the copy bandwidth measured in the same run\n"
               "                                  (ops: copy add exp relu_backward gelu_tanh_backward\n"
               "                                  sum softmax log_softmax\n"
               "                                  softmax_backward log_softmax_backward layer_norm\n"
               "                                  rms_norm layer_norm_backward rms_norm_backward\n"
               "                                  batch_norm batch_norm_backward group_norm\n"
               "                                  group_norm_backward gather scatter_add embedding\n"
               "                                  embedding_backward\n"
               "                                  cross_entropy cross_entropy_backward cumsum random\n"
               "                                  dropout sgd adamw gemm conv2d conv2d_backward_data\n"
               "                                  conv2d_backward_weight pool2d\n"
               "                                  pool2d_backward overhead;\n"
               "                                  the table on stdout is Markdown and says which path\n"
               "                                  ran: native or composite)\n"
               "  ops [--format text|markdown] [--check FILE]\n"
               "                                  every op's tensors, dtypes, attributes and\n"
               "                                  composites, from the op schemas (--check: does\n"
               "                                  FILE's generated op table match them?)\n"
               "  cache dir | cache clear         the kernel cache folder / empty it\n"
               "  kernels check --target T [--tuning NAME|all] [--jobs N]\n"
               "                                  compile every kernel variant for T (sm_75, sm_90,\n"
               "                                  gfx90a, gfx1030, ..., opencl:N, or opencl-c: clang\n"
               "                                  as a strict OpenCL C 1.2 compiler) without a GPU; print\n"
               "                                  registers, spills and shared memory per kernel\n"
               "                                  (GPU targets: the tuning entries a GPU gets;\n"
               "                                  all adds the cpu entry)\n"
               "  version\n\n"
               "environment: CHORUS_DEVICE (default device), CHORUS_PLUGIN_PATH (extra plugin folders),\n"
               "             CHORUS_DISABLE_PLUGINS (plugins not to load, e.g. opencl,hip),\n"
               "             CHORUS_CACHE_DIR (kernel cache), CHORUS_LOG (error|warning|info|debug),\n"
               "             CHORUS_COMPOSITES (ops to run as composites even where a backend has\n"
               "             its own kernel, e.g. softmax,layer_norm or all: for testing)\n");
}

}  // namespace

bool Args::has(const std::string& key) const { return options.count(key) != 0; }
std::string Args::get(const std::string& key, const std::string& fallback) const {
  auto it = options.find(key);
  return it == options.end() ? fallback : it->second;
}

// --key value, --key=value, or a bare --flag.
bool parse_args(int argc, char** argv, const std::vector<std::string>& flags, Args* args,
                std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      args->positional.push_back(a);
      continue;
    }
    a = a.substr(2);
    const size_t eq = a.find('=');
    if (eq != std::string::npos) {
      args->options[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (std::find(flags.begin(), flags.end(), a) != flags.end()) {
      args->options[a] = "1";
    } else if (i + 1 < argc) {
      args->options[a] = argv[++i];
    } else {
      *error = "--" + a + " needs a value";
      return false;
    }
  }
  return true;
}

}  // namespace chorus::cli

int main(int argc, char** argv) {
  using namespace chorus::cli;
  Args args;
  std::string error;
  if (!parse_args(argc, argv, {"isolate", "help"}, &args, &error)) {
    std::fprintf(stderr, "chorus: %s\n", error.c_str());
    return 2;
  }
  if (args.positional.empty() || args.has("help")) {
    usage(args.positional.empty() && !args.has("help") ? stderr : stdout);
    return args.has("help") ? 0 : 2;
  }
  const std::string command = args.positional[0];
  try {
    if (command == "devices") return devices(args);
    if (command == "conformance") return conformance_command(args);
    if (command == "bench") return bench(args);
    if (command == "ops") return ops_command(args);
    if (command == "cache") return cache(args);
#if CHORUS_HAVE_KERNELS_CHECK
    if (command == "kernels") return kernels_command(args);
#endif
    if (command == "version") {
      std::printf("chorus %s\n", chorus_version_string());
      return 0;
    }
    if (command == "help") {
      usage(stdout);
      return 0;
    }
  } catch (const chorus::Error& e) {
    std::fprintf(stderr, "chorus %s: %s\n", command.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "chorus: unknown command '%s'\n", command.c_str());
  usage(stderr);
  return 2;
}
