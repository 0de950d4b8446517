// reference.cpp — the oracle's GEMM on the normal form (rank 3: a [batch, M,
// K], b [batch, K, N], bias [batch, M, N] or absent, c [batch, M, N]): k-
// ordered dot products in double (long double for f64), then alpha, beta,
// bias and the activation, rounded once.
#include <vector>

#include "reference_common.hpp"

namespace chorus::ops::gemm {
namespace {

using namespace chorus::reference;

enum Slot : uint32_t { kA = 0, kB = 1, kBias = 2, kC = 3 };

// The activations are the unary ops of the same names.
template <typename T>
T activate(int32_t activation, T x) {
  switch (activation) {
    case CHORUS_ACTIVATION_RELU:
      return ref_relu(x);
    case CHORUS_ACTIVATION_GELU_ERF:
      return ref_gelu_erf(x);
    case CHORUS_ACTIVATION_GELU_TANH:
      return ref_gelu_tanh(x);
    case CHORUS_ACTIVATION_SILU:
      return x * ref_sigmoid(x);
    default:
      return x;  // CHORUS_ACTIVATION_NONE (run_gemm refuses the rest)
  }
}

template <typename T>
chorus_status gemm_loop(const BoundOp& op) {
  const auto& d = op.attrs_as<chorus_gemm_desc>();
  const Tensor& a = op[kA];
  const Tensor& b = op[kB];
  const Tensor& c = op[kC];
  const Tensor* bias = op.has(kBias) ? &op[kBias] : nullptr;
  const int64_t batch = c.shape[0], m = c.shape[1], n = c.shape[2], k_len = a.shape[2];
  const T alpha = static_cast<T>(d.alpha);
  const T beta = static_cast<T>(d.beta);
  // Each operand is loaded once per batch into T, B transposed, so that every
  // dot product runs over two contiguous arrays instead of a dtype switch per
  // multiply. The sum still runs over k in order.
  std::vector<T> a_rows(static_cast<size_t>(m * k_len));
  std::vector<T> b_columns(static_cast<size_t>(n * k_len));
  for (int64_t p = 0; p < batch; ++p) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t k = 0; k < k_len; ++k)
        a_rows[i * k_len + k] =
            load_as<T>(a, a.offset + p * a.strides[0] + i * a.strides[1] + k * a.strides[2]);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < k_len; ++k)
        b_columns[j * k_len + k] =
            load_as<T>(b, b.offset + p * b.strides[0] + k * b.strides[1] + j * b.strides[2]);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        const T* a_row = a_rows.data() + i * k_len;
        const T* b_column = b_columns.data() + j * k_len;
        T dot = 0;
        for (int64_t k = 0; k < k_len; ++k) dot += a_row[k] * b_column[k];
        const int64_t at = c.offset + p * c.strides[0] + i * c.strides[1] + j * c.strides[2];
        T v = alpha * dot;
        // beta == 0 means "overwrite": c may hold garbage, NaN included.
        if (beta != T(0)) v += beta * load_as<T>(c, at);
        if (bias != nullptr)
          v += load_as<T>(*bias, bias->offset + p * bias->strides[0] + i * bias->strides[1] +
                                     j * bias->strides[2]);
        store_rounded(c, at, activate(d.activation, v));
      }
    }
  }
  return CHORUS_OK;
}

chorus_status run_gemm(const BoundOp& op) {
  const int32_t activation = op.attrs_as<chorus_gemm_desc>().activation;
  if (activation < CHORUS_ACTIVATION_NONE || activation >= CHORUS_ACTIVATION_COUNT_)
    return unsupported("gemm activation " + std::to_string(activation) +
                       " is not one the reference knows");
  return op[kC].dtype == CHORUS_DTYPE_F64 ? gemm_loop<long double>(op) : gemm_loop<double>(op);
}

}  // namespace

void register_reference() { chorus::reference::register_op(CHORUS_OP_GEMM, run_gemm); }

}  // namespace chorus::ops::gemm
