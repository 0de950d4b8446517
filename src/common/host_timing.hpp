// host_timing.hpp — the one way chorus measures host time per submission,
// shared by `chorus bench --op overhead` (one chorus op) and
// chorus-launch-peer (one bare kernel launch), so the two figures that the
// "at most 2 µs over a bare launch" target compares are taken alike.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace chorus {

// `count` submissions in a row on the host clock, then drain() outside the
// timing (the device work must not pile up across rounds); the median over
// `rounds` rounds, in microseconds per submission. submit() and drain()
// return false on failure, which ends the measurement with -1.
template <typename Submit, typename Drain>
double host_us_per_submission(Submit&& submit, Drain&& drain, int count = 1000, int rounds = 5) {
  std::vector<double> per_submission;
  for (int round = 0; round < rounds; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i)
      if (!submit()) return -1;
    const auto t1 = std::chrono::steady_clock::now();
    if (!drain()) return -1;
    per_submission.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / count);
  }
  std::sort(per_submission.begin(), per_submission.end());
  return per_submission[per_submission.size() / 2];
}

}  // namespace chorus
