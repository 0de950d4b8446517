// kokkos_gemm.cpp — batched GEMM, c = act(alpha * a @ b + beta * c + bias),
// on rank-3 views a[batch, M, K], b[batch, K, N], c[batch, M, N] whose
// strides already carry transposes and batch broadcasts.
//
// One TeamPolicy team per (batch, 32x32 tile of c). Per step of 32 along K the
// team loads an A tile and a B tile into team scratch memory, converted to
// the compute type (f32 for f32/f16/bf16, f64 for f64), zero outside the
// matrices; team threads own rows of the tile (TeamThreadRange) and
// accumulate a row at a time into a scratch tile; the epilogue spreads each
// row's columns over vector lanes (ThreadVectorRange).
// Every element's sum runs over k in ascending order whatever the team or
// vector size, so the result is deterministic and an exactly representable
// product sum is reproduced bit for bit. The epilogue follows the reference's
// order: alpha * sum, + beta * c (only when beta != 0, so garbage or NaN in c
// never leaks), + bias, activation, one rounding to c's dtype.
#include <string>

#include "kokkos_ops.hpp"

namespace chorus::kokkos {

namespace {
constexpr int kTileM = 32;
constexpr int kTileN = 32;
constexpr int kTileK = 32;
}  // namespace

struct GemmShape {
  int64_t m, n, k;
  int64_t tiles_m, tiles_n;
  int64_t offset[4];     // a, b, c, bias
  int64_t stride[4][3];  // per view: batch, row, column
  bool has_bias;
  int activation;
  double alpha, beta;
};

template <chorus_dtype D>
void gemm_kernel(const Exec& exec, int64_t batch, const GemmShape& g, const unsigned char* a,
                 const unsigned char* b, unsigned char* c, const unsigned char* bias) {
  using S = Storage<D>;
  using T = typename S::compute;
  const size_t scratch = Scratch<T>::shmem_size(kTileM * kTileK) +
                         Scratch<T>::shmem_size(kTileK * kTileN) +
                         Scratch<T>::shmem_size(kTileM * kTileN);
  TeamPolicy policy(exec, batch * g.tiles_m * g.tiles_n, Kokkos::AUTO);
  policy.set_scratch_size(0, Kokkos::PerTeam(scratch));
  const T alpha = static_cast<T>(g.alpha);
  const T beta = static_cast<T>(g.beta);
  Kokkos::parallel_for(
      "chorus::gemm", policy, KOKKOS_LAMBDA(const Member& team) {
        int64_t tile = team.league_rank();
        const int64_t tile_n = tile % g.tiles_n;
        tile /= g.tiles_n;
        const int64_t tile_m = tile % g.tiles_m;
        const int64_t p = tile / g.tiles_m;
        const int64_t i0 = tile_m * kTileM;
        const int64_t j0 = tile_n * kTileN;
        const int64_t a0 = g.offset[0] + p * g.stride[0][0];
        const int64_t b0 = g.offset[1] + p * g.stride[1][0];
        const int64_t c0 = g.offset[2] + p * g.stride[2][0];
        const int64_t bias0 = g.offset[3] + p * g.stride[3][0];
        const Scratch<T> a_tile(team.team_scratch(0), kTileM * kTileK);
        const Scratch<T> b_tile(team.team_scratch(0), kTileK * kTileN);
        const Scratch<T> acc(team.team_scratch(0), kTileM * kTileN);

        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, kTileM * kTileN),
                             [&](int e) { acc(e) = T(0); });
        for (int64_t k0 = 0; k0 < g.k; k0 += kTileK) {
          const int depth = g.k - k0 < kTileK ? static_cast<int>(g.k - k0) : kTileK;
          team.team_barrier();  // the previous tiles are consumed
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, kTileM * kTileK), [&](int e) {
            const int i = e / kTileK;
            const int kk = e - i * kTileK;
            const int64_t row = i0 + i;
            a_tile(e) = row < g.m && kk < depth
                            ? S::load(a, a0 + row * g.stride[0][1] + (k0 + kk) * g.stride[0][2])
                            : T(0);
          });
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, kTileK * kTileN), [&](int e) {
            const int kk = e / kTileN;
            const int j = e - kk * kTileN;
            const int64_t col = j0 + j;
            b_tile(e) = col < g.n && kk < depth
                            ? S::load(b, b0 + (k0 + kk) * g.stride[1][1] + col * g.stride[1][2])
                            : T(0);
          });
          team.team_barrier();
          // A row of the tile lives in a local array for the whole K step: a
          // fixed-length loop the compiler keeps in registers and vectorises.
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, kTileM), [&](int i) {
            T row[kTileN];
            T* const acc_row = acc.data() + i * kTileN;
            const T* const a_row = a_tile.data() + i * kTileK;
            for (int j = 0; j < kTileN; ++j) row[j] = acc_row[j];
            for (int kk = 0; kk < depth; ++kk) {
              const T av = a_row[kk];
              const T* const b_row = b_tile.data() + kk * kTileN;
              for (int j = 0; j < kTileN; ++j) row[j] += av * b_row[j];
            }
            for (int j = 0; j < kTileN; ++j) acc_row[j] = row[j];
          });
        }
        team.team_barrier();
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, kTileM), [&](int i) {
          const int64_t row = i0 + i;
          Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, kTileN), [&](int j) {
            const int64_t col = j0 + j;
            if (row >= g.m || col >= g.n) return;
            const int64_t at = c0 + row * g.stride[2][1] + col * g.stride[2][2];
            T v = alpha * acc(i * kTileN + j);
            if (g.beta != 0) v += beta * S::load(c, at);
            if (g.has_bias) v += S::load(bias, bias0 + row * g.stride[3][1] + col * g.stride[3][2]);
            S::store(c, at, activate(g.activation, v));
          });
        });
      });
}

chorus_status run_gemm(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& a = d.tensors[0];
  const chorus_backend_tensor& b = d.tensors[1];
  const chorus_backend_tensor& c = d.tensors[2];
  const bool has_bias = d.has_bias && d.tensor_count > 3 && d.tensors[3].buffer;
  if (d.activation < CHORUS_ACTIVATION_NONE || d.activation >= CHORUS_ACTIVATION_COUNT_)
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  "kokkos: gemm: activation " + std::to_string(static_cast<int>(d.activation)) +
                      " is not a chorus_activation");
  if (a.rank != 3 || b.rank != 3 || c.rank != 3 || (has_bias && d.tensors[3].rank != 3))
    return report(
        CHORUS_ERROR_INVALID_ARGUMENT,
        "kokkos: gemm: a, b, c and bias must arrive normalised to rank 3 ([batch, rows, columns])");
  GemmShape g{};
  g.m = c.shape[1];
  g.n = c.shape[2];
  g.k = a.shape[2];
  g.tiles_m = (g.m + kTileM - 1) / kTileM;
  g.tiles_n = (g.n + kTileN - 1) / kTileN;
  const chorus_backend_tensor* views[4] = {&a, &b, &c, has_bias ? &d.tensors[3] : nullptr};
  for (int v = 0; v < 4; ++v) {
    if (!views[v]) continue;
    g.offset[v] = views[v]->offset;
    for (int axis = 0; axis < 3; ++axis) g.stride[v][axis] = views[v]->strides[axis];
  }
  g.has_bias = has_bias;
  g.activation = d.activation;
  g.alpha = d.alpha;
  g.beta = d.beta;
  const bool ok = with_float_dtype(c.dtype, [&]<chorus_dtype D>() {
    gemm_kernel<D>(exec, c.shape[0], g, data_of(a), data_of(b), data_of(c),
                   has_bias ? data_of(d.tensors[3]) : nullptr);
  });
  if (!ok)
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  std::string("kokkos: gemm needs a float dtype, got ") + dtype_name(c.dtype));
  return CHORUS_OK;
}

}  // namespace chorus::kokkos
