// kokkos.cpp — GEMM on the Kokkos backend, c = act(alpha * a @ b + beta * c
// + bias), in its normal form (backend.h): slots [a, b, bias?, c], rank-3
// views a[batch, M, K], b[batch, K, N], bias[batch, M, N] (absent: dtype
// INVALID) and c[batch, M, N] whose strides already carry transposes and
// batch broadcasts. K may be 0 (then c = act(beta * c + bias)).
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
// never leaks), + bias, activation, one rounding to c's dtype. The
// activations are the unary ops of the same names, generated from
// unary_table.h (kokkos_unary.hpp).
#include <string>

#include "kokkos_ops.hpp"
#include "kokkos_unary.hpp"

namespace chorus::ops::gemm {

// Kernels live in this named namespace, not an unnamed one: device compilers
// (nvcc) refuse extended lambdas in unnamed namespaces.
using namespace chorus::kokkos;

enum Slot : uint32_t { kA = 0, kB = 1, kBias = 2, kC = 3 };

// Activations check_gemm admits; the last return is unreachable.
template <typename T>
KOKKOS_INLINE_FUNCTION T activate(int activation, T x) {
  switch (activation) {
    case CHORUS_ACTIVATION_NONE:
      return x;
    case CHORUS_ACTIVATION_RELU:
      return UnaryFloat<CHORUS_UNARY_RELU>::apply(x, T(0), T(0));
    case CHORUS_ACTIVATION_GELU_ERF:
      return UnaryFloat<CHORUS_UNARY_GELU_ERF>::apply(x, T(0), T(0));
    case CHORUS_ACTIVATION_GELU_TANH:
      return UnaryFloat<CHORUS_UNARY_GELU_TANH>::apply(x, T(0), T(0));
    case CHORUS_ACTIVATION_SILU:
      return UnaryFloat<CHORUS_UNARY_SILU>::apply(x, T(0), T(0));
  }
  return x;
}

constexpr bool activation_known(int activation) {
  return activation == CHORUS_ACTIVATION_NONE || activation == CHORUS_ACTIVATION_RELU ||
         activation == CHORUS_ACTIVATION_GELU_ERF || activation == CHORUS_ACTIVATION_GELU_TANH ||
         activation == CHORUS_ACTIVATION_SILU;
}

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

chorus_status check_gemm(const BoundOp& op) {
  const auto d = attrs_of<chorus_gemm_desc>(op);
  if (op.count != 4)
    return unsupported("gemm", std::to_string(op.count) + " tensors; gemm has 4 slots");
  if (!activation_known(d.activation))
    return unsupported("gemm", "activation " + std::to_string(static_cast<int>(d.activation)) +
                                   " is not one this backend knows");
  if (d.transpose_a != 0 || d.transpose_b != 0)
    return unsupported("gemm", "transposes must arrive folded into strides (the normal form)");
  const chorus_dtype dtype = op[kC].dtype;
  if (!is_float_dtype(dtype)) return unsupported_dtype("gemm", dtype);
  for (uint32_t i = 0; i < 4; ++i) {
    if (!op.has(i)) {
      if (i != kBias) return unsupported("gemm", "a, b and c are required");
      continue;
    }
    if (op[i].dtype != dtype) return unsupported_dtype("gemm", op[i].dtype);
    if (op[i].rank != 3)
      return unsupported(
          "gemm", "a, b, c and bias must arrive normalised to rank 3 ([batch, rows, columns])");
  }
  return CHORUS_OK;
}

chorus_status run_gemm(const Exec& exec, const BoundOp& op) {
  const auto d = attrs_of<chorus_gemm_desc>(op);
  const chorus_backend_tensor& a = op[kA];
  const chorus_backend_tensor& b = op[kB];
  const chorus_backend_tensor& c = op[kC];
  const chorus_backend_tensor* bias = op.has(kBias) ? &op[kBias] : nullptr;
  GemmShape g{};
  g.m = c.shape[1];
  g.n = c.shape[2];
  g.k = a.shape[2];
  g.tiles_m = (g.m + kTileM - 1) / kTileM;
  g.tiles_n = (g.n + kTileN - 1) / kTileN;
  const chorus_backend_tensor* views[4] = {&a, &b, &c, bias};
  for (int v = 0; v < 4; ++v) {
    if (!views[v]) continue;
    g.offset[v] = views[v]->offset;
    for (int axis = 0; axis < 3; ++axis) g.stride[v][axis] = views[v]->strides[axis];
  }
  g.has_bias = bias != nullptr;
  g.activation = d.activation;
  g.alpha = d.alpha;
  g.beta = d.beta;
  const bool ok = with_float_dtype(c.dtype, [&]<chorus_dtype D>() {
    gemm_kernel<D>(exec, c.shape[0], g, data_of(a), data_of(b), data_of(c),
                   bias ? data_of(*bias) : nullptr);
  });
  if (!ok) return check_gemm(op);
  return CHORUS_OK;
}

void register_kokkos() {
  register_op(CHORUS_OP_GEMM, {sizeof(chorus_gemm_desc), check_gemm, run_gemm});
}

}  // namespace chorus::ops::gemm
