// program_cache.hpp — how the run-time-compiling plugins (OpenCL, CUDA,
// HIP) use the kernel cache, written once: look a program up, hand a hit to
// the driver, count hits and rejections, store what was compiled, and say
// so in the log. The plugins differ only in what a binary is and how a
// driver loads one, which they pass in.
#pragma once

#include <chorus/backend.h>
#include <chorus/chorus.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "kernel_cache.hpp"

namespace chorus::backend_common {

// log(level, message) as the plugins' own log functions take it.
using LogFn = void (*)(int level, const std::string& message);

// The disk cache in the folder libchorus names (host->cache_dir); a
// disabled one, said in the log, when there is none.
inline KernelCache open_kernel_cache(const chorus_host_api* host, LogFn log) {
  char folder[4096] = {};
  if (host && host->cache_dir && host->cache_dir(folder, sizeof folder) == CHORUS_OK)
    return KernelCache(folder);
  log(1, "no kernel cache folder; every program will be compiled");
  return KernelCache("");
}

// Looks `key` up; a hit's payload goes to accept(payload), which loads it
// into the driver and returns false when the driver refuses it. Counts the
// outcome in stats. True when the program now comes from the cache.
template <typename Accept>
bool load_cached_program(const KernelCache& cache, const std::string& key, const std::string& label,
                         chorus_kernel_stats& stats, LogFn log, Accept&& accept) {
  std::vector<uint8_t> payload;
  std::string why;
  switch (cache.load(key, &payload, &why)) {
    case KernelCache::Lookup::hit: {
      const auto start = std::chrono::steady_clock::now();
      if (accept(payload)) {
        ++stats.cache_hits;
        log(3, label + " from the kernel cache in " +
                   std::to_string(std::chrono::duration<double, std::milli>(
                                      std::chrono::steady_clock::now() - start)
                                      .count()) +
                   " ms");
        return true;
      }
      ++stats.cache_rejected;
      log(1, "the driver refused the cached binary of " + label + "; recompiling");
      return false;
    }
    case KernelCache::Lookup::rejected:
      ++stats.cache_rejected;
      log(1, "corrupt kernel cache entry removed (" + why + "); recompiling " + label);
      return false;
    case KernelCache::Lookup::miss:
      break;
  }
  return false;
}

// Keeps a compiled program's binary; an empty one or a failed write is
// logged, never an error (the cache is an optimisation).
inline void store_compiled_program(const KernelCache& cache, const std::string& key,
                                   const std::string& label, const std::vector<uint8_t>& payload,
                                   LogFn log) {
  if (!cache.enabled()) return;
  std::string why;
  if (payload.empty())
    log(2, "the driver gives no binary for " + label + "; it will not be cached");
  else if (!cache.store(key, payload, &why))
    log(1, "kernel cache: " + why);
}

// "12 program(s) compiled in 3400 ms, 95 loaded from the kernel cache, 0
// cache entries rejected", for a device's closing log line.
inline std::string kernel_stats_text(const chorus_kernel_stats& s) {
  return std::to_string(s.compiled) + " program(s) compiled in " +
         std::to_string(static_cast<long long>(s.compile_ms)) + " ms, " +
         std::to_string(s.cache_hits) + " loaded from the kernel cache, " +
         std::to_string(s.cache_rejected) + " cache entries rejected";
}

// "0.1.0": part of every cache key, so a new chorus never loads old binaries.
inline std::string chorus_version_text() {
  return std::to_string(CHORUS_VERSION_MAJOR) + "." + std::to_string(CHORUS_VERSION_MINOR) + "." +
         std::to_string(CHORUS_VERSION_PATCH);
}

}  // namespace chorus::backend_common
