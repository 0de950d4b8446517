// kokkos_rows.hpp — what the row-wise families (softmax, norm) share: one
// TeamPolicy team per row, with a fixed-order sum over the row.
//
// A row's sums (softmax's denominator, the norms' mean and variance) are
// fixed-chunk sums: the row is cut into at most kRowChunks chunks by its
// length alone, team threads sum whole chunks in order into team scratch
// memory, and one thread adds the partials in order. So the result does not
// depend on the team size, and every execution space gives the same bits run
// after run (Kokkos's own parallel_reduce promises neither, so no float sum
// of the backend uses it).
#pragma once

#include "kokkos_device.hpp"

namespace chorus::kokkos {

constexpr int64_t kRowChunks = 32;

// Sum of term(j) for j in [0, n), in a fixed order (see the file comment).
// Every thread of the team gets the total.
template <typename T, typename Term>
KOKKOS_INLINE_FUNCTION T chunked_sum(const Member& team, const Scratch<T>& partial, int64_t n,
                                     const Term& term) {
  const int64_t chunks = n < kRowChunks ? n : kRowChunks;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, chunks), [&](int64_t c) {
    // Four interleaved sums per chunk, joined in a fixed order: independent
    // dependency chains, and the order still depends on n alone.
    const int64_t end = (c + 1) * n / chunks;
    T s0 = T(0), s1 = T(0), s2 = T(0), s3 = T(0);
    int64_t j = c * n / chunks;
    for (; j + 4 <= end; j += 4) {
      s0 += term(j);
      s1 += term(j + 1);
      s2 += term(j + 2);
      s3 += term(j + 3);
    }
    for (; j < end; ++j) s0 += term(j);
    partial(c) = (s0 + s1) + (s2 + s3);
  });
  team.team_barrier();
  T total = T(0);
  Kokkos::single(
      Kokkos::PerTeam(team),
      [&](T& sum) {
        sum = T(0);
        for (int64_t c = 0; c < chunks; ++c) sum += partial(c);
      },
      total);
  return total;
}

// The IEEE maximum (a NaN wins) of term(j) for j in [0, n): exact, so the
// team's join order does not matter. Every thread of the team gets it.
template <typename T>
struct MaxCombine {
  using value_type = Boxed<T>;
  KOKKOS_INLINE_FUNCTION static Boxed<T> identity() { return Boxed<T>{-infinity<T>()}; }
  KOKKOS_INLINE_FUNCTION static Boxed<T> combine(const Boxed<T>& a, const Boxed<T>& b) {
    return Boxed<T>{maximum(a.value, b.value)};
  }
};

template <typename T, typename Term>
KOKKOS_INLINE_FUNCTION T row_max(const Member& team, int64_t n, const Term& term) {
  Boxed<T> m = MaxCombine<T>::identity();
  Kokkos::parallel_reduce(
      Kokkos::TeamThreadRange(team, n),
      [&](int64_t j, Boxed<T>& local) { local.value = maximum(local.value, term(j)); },
      ExactReducer<MaxCombine<T>>(m));
  return m.value;
}

// One team per row, with scratch for chunked_sum's partials.
template <typename T>
TeamPolicy row_policy(const Exec& exec, int64_t rows) {
  TeamPolicy policy(exec, rows, Kokkos::AUTO);
  policy.set_scratch_size(0, Kokkos::PerTeam(Scratch<T>::shmem_size(kRowChunks)));
  return policy;
}

}  // namespace chorus::kokkos
