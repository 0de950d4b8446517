// peer_timing.hpp — how the peer programs time a call, the same for chorus
// and for every library it is measured against.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
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

}  // namespace chorus_bench
