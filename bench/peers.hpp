// peers.hpp — what the peer programs share: how a call is timed (the same
// for chorus and every library it is measured against), their input data
// and how their table is written.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace chorus_bench {

inline double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median seconds of `reps` runs of f after a warm-up of at least two runs
// and half a second: the first runs pay for compiles, page faults on fresh
// buffers and thread pools waking up, in every library alike.
inline double median_seconds(int reps, const std::function<void()>& f) {
  const double warm_until = seconds_now() + 0.5;
  for (int i = 0; i < 2 || seconds_now() < warm_until; ++i) f();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double start = seconds_now();
    f();
    t.push_back(seconds_now() - start);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// n values in [-1, 1) from a fixed-seed LCG (the same data every run).
inline std::vector<float> random_values(int64_t n, uint64_t seed) {
  std::vector<float> m(static_cast<size_t>(n));
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& v : m) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<float>((s >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
  }
  return m;
}

// Prints the table, and writes it to `markdown` when that is not empty:
// 0, or 2 when the file cannot be written.
inline int emit_table(const std::string& table, const std::string& markdown) {
  std::printf("%s", table.c_str());
  if (markdown.empty()) return 0;
  FILE* f = std::fopen(markdown.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", markdown.c_str());
    return 2;
  }
  std::fputs(table.c_str(), f);
  std::fclose(f);
  return 0;
}

}  // namespace chorus_bench
