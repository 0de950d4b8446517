// reference_ops.cpp — the oracle's arithmetic: every chorus op as plain loops
// over a generic rank-<=8 index, loading each element through
// chorus::numeric::load, computing in double (long double when the output is
// f64) and rounding once on store. Correctness and readability come first;
// the only concession to speed is that GEMM loads its operands once per batch.
// docs/ops.md states the semantics; this file is meant to read as that
// document turned into code.
#include <chorus/backend.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <new>
#include <numbers>
#include <string>
#include <vector>

#include "common/numeric.hpp"
#include "reference.hpp"

namespace chorus::reference {
namespace {

using numeric::is_float;
using numeric::is_integer;
using Tensor = chorus_backend_tensor;

// ------------------------------------------------------------ tensor access

using chorus::numeric::dtype_name;
using chorus::numeric::dtype_size;

// Element number (in units of the dtype) of the element at `index`.
int64_t element_of(const Tensor& t, const int64_t* index) {
  int64_t element = t.offset;
  for (uint32_t k = 0; k < t.rank; ++k) element += index[k] * t.strides[k];
  return element;
}

// Calls visit(index) for every index of `shape` in row-major order (once for
// rank 0). Entries of index past `rank` stay 0, so walking only the leading
// axes of a tensor yields the start of each of its rows.
template <typename Visit>
void for_each_index(uint32_t rank, const int64_t* shape, Visit&& visit) {
  int64_t index[CHORUS_MAX_RANK] = {};
  for (;;) {
    visit(static_cast<const int64_t*>(index));
    int k = static_cast<int>(rank) - 1;
    for (; k >= 0; --k) {
      if (++index[k] < shape[k]) break;
      index[k] = 0;
    }
    if (k < 0) return;
  }
}

template <typename T>
T load_as(const Tensor& t, int64_t element) {
  return static_cast<T>(numeric::load(t.buffer, t.dtype, element));
}

int64_t load_integer(const Tensor& t, int64_t element) {
  const long double v = numeric::load(t.buffer, t.dtype, element);
  return is_float(t.dtype) ? numeric::saturate_to_int<int64_t>(v) : static_cast<int64_t>(v);
}

// numeric::store reaches f16/bf16 through double, which would round twice for
// a long double that is not already a double (an i64 copied to bf16, say).
// Rounding to double *to odd* first keeps the final rounding correct, since
// double has more than two bits beyond either format's significand.
double to_double_round_to_odd(long double v) {
  double d = static_cast<double>(v);
  if (!std::isfinite(d) || static_cast<long double>(d) == v) return d;
  if (std::fabs(static_cast<long double>(d)) > std::fabs(v)) d = std::nextafter(d, 0.0);
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  bits |= 1;
  std::memcpy(&d, &bits, sizeof bits);
  return d;
}

void store_rounded(const Tensor& t, int64_t element, long double v) {
  if (t.dtype == CHORUS_DTYPE_F16 || t.dtype == CHORUS_DTYPE_BF16) v = to_double_round_to_odd(v);
  numeric::store(t.buffer, t.dtype, element, v);
}

// Stores the low bits of a two's-complement result: integer ops wrap.
void store_wrapped(const Tensor& t, int64_t element, uint64_t bits) {
  unsigned char* at = static_cast<unsigned char*>(t.buffer) + element * dtype_size(t.dtype);
  switch (t.dtype) {
    case CHORUS_DTYPE_I32: {
      const auto v = static_cast<int32_t>(static_cast<uint32_t>(bits));
      std::memcpy(at, &v, sizeof v);
      break;
    }
    case CHORUS_DTYPE_I64: {
      const auto v = static_cast<int64_t>(bits);
      std::memcpy(at, &v, sizeof v);
      break;
    }
    case CHORUS_DTYPE_U8:
      *at = static_cast<unsigned char>(bits);
      break;
    default:
      store_rounded(t, element, static_cast<long double>(static_cast<int64_t>(bits)));
      break;
  }
}

// Copies one element: its bits when the dtypes match (NaN payloads survive),
// a single rounding otherwise.
void copy_element(const Tensor& dst, int64_t dst_element, const Tensor& src, int64_t src_element) {
  if (dst.dtype == src.dtype) {
    const size_t size = dtype_size(dst.dtype);
    std::memcpy(static_cast<unsigned char*>(dst.buffer) + dst_element * size,
                static_cast<const unsigned char*>(src.buffer) + src_element * size, size);
  } else {
    store_rounded(dst, dst_element, numeric::load(src.buffer, src.dtype, src_element));
  }
}

// ------------------------------------------------------------- scalar math

// IEEE 754-2019 maximum/minimum: NaN wins, and +0 is above -0, so the result
// is one definite bit pattern whatever the order of the operands.
template <typename T>
T maximum(T a, T b) {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

template <typename T>
T minimum(T a, T b) {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

template <typename T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

template <typename T>
T relu(T x) {
  return std::isnan(x) || x > T(0) ? x : T(0);
}

template <typename T>
T gelu_erf(T x) {
  // erfc, not 1 + erf: for large negative x, 1 + erf(x/√2) cancels to 0 long
  // before x·Φ(x) underflows.
  return T(0.5) * x * std::erfc(-x / std::numbers::sqrt2_v<T>);
}

template <typename T>
T gelu_tanh(T x) {
  const T z = std::sqrt(T(2) / std::numbers::pi_v<T>) * (x + T(0.044715L) * x * x * x);
  // 0.5·(1 + tanh z) == sigmoid(2z), which does not cancel for negative z.
  return x * sigmoid(T(2) * z);
}

template <typename T>
T silu(T x) {
  return x * sigmoid(x);
}

template <typename T>
T unary_float(chorus_unary_op op, T x) {
  switch (op) {
    case CHORUS_UNARY_NEG:
      return -x;
    case CHORUS_UNARY_ABS:
      return std::fabs(x);
    case CHORUS_UNARY_EXP:
      return std::exp(x);
    case CHORUS_UNARY_LOG:
      return std::log(x);
    case CHORUS_UNARY_SQRT:
      return std::sqrt(x);
    case CHORUS_UNARY_RSQRT:
      return T(1) / std::sqrt(x);
    case CHORUS_UNARY_TANH:
      return std::tanh(x);
    case CHORUS_UNARY_SIGMOID:
      return sigmoid(x);
    case CHORUS_UNARY_RELU:
      return relu(x);
    case CHORUS_UNARY_GELU_ERF:
      return gelu_erf(x);
    case CHORUS_UNARY_GELU_TANH:
      return gelu_tanh(x);
    case CHORUS_UNARY_SILU:
      return silu(x);
    default:
      return std::numeric_limits<T>::quiet_NaN();  // rejected before the loop
  }
}

// Two's complement on uint64: the low bits are right for every width.
uint64_t unary_integer(chorus_unary_op op, int64_t x) {
  const auto bits = static_cast<uint64_t>(x);
  switch (op) {
    case CHORUS_UNARY_NEG:
      return 0 - bits;
    case CHORUS_UNARY_ABS:
      return x < 0 ? 0 - bits : bits;
    case CHORUS_UNARY_RELU:
      return x > 0 ? bits : 0;
    default:
      return 0;  // rejected before the loop
  }
}

template <typename T>
T binary_float(chorus_binary_op op, T a, T b) {
  switch (op) {
    case CHORUS_BINARY_ADD:
      return a + b;
    case CHORUS_BINARY_SUB:
      return a - b;
    case CHORUS_BINARY_MUL:
      return a * b;
    case CHORUS_BINARY_DIV:
      return a / b;
    case CHORUS_BINARY_MAX:
      return maximum(a, b);
    case CHORUS_BINARY_MIN:
      return minimum(a, b);
    case CHORUS_BINARY_POW:
      return std::pow(a, b);
    default:
      return std::numeric_limits<T>::quiet_NaN();  // rejected before the loop
  }
}

uint64_t binary_integer(chorus_binary_op op, int64_t a, int64_t b) {
  const auto ua = static_cast<uint64_t>(a);
  const auto ub = static_cast<uint64_t>(b);
  switch (op) {
    case CHORUS_BINARY_ADD:
      return ua + ub;
    case CHORUS_BINARY_SUB:
      return ua - ub;
    case CHORUS_BINARY_MUL:
      return ua * ub;
    case CHORUS_BINARY_MAX:
      return a > b ? ua : ub;
    case CHORUS_BINARY_MIN:
      return a < b ? ua : ub;
    default:
      return 0;  // rejected before the loop
  }
}

// NaN compares false except under ne: exactly what the C++ operators do.
template <typename V>
bool compare(chorus_compare_op op, V a, V b) {
  switch (op) {
    case CHORUS_COMPARE_EQ:
      return a == b;
    case CHORUS_COMPARE_NE:
      return a != b;
    case CHORUS_COMPARE_LT:
      return a < b;
    case CHORUS_COMPARE_LE:
      return a <= b;
    case CHORUS_COMPARE_GT:
      return a > b;
    case CHORUS_COMPARE_GE:
      return a >= b;
    default:
      return false;  // rejected before the loop
  }
}

template <typename T>
T activate(chorus_activation activation, T x) {
  switch (activation) {
    case CHORUS_ACTIVATION_RELU:
      return relu(x);
    case CHORUS_ACTIVATION_GELU_ERF:
      return gelu_erf(x);
    case CHORUS_ACTIVATION_GELU_TANH:
      return gelu_tanh(x);
    case CHORUS_ACTIVATION_SILU:
      return silu(x);
    default:
      return x;
  }
}

// ------------------------------------------------------------------- errors

chorus_status invalid(const std::string& message) {
  return report(CHORUS_ERROR_INVALID_ARGUMENT, "reference: " + message);
}

chorus_status unknown_subop(const char* op, const char* enum_name, int32_t subop) {
  return invalid(std::string(op) + ": subop " + std::to_string(subop) + " is not a " + enum_name);
}

chorus_status needs_float(const char* op, const Tensor& t) {
  return invalid(std::string(op) + " needs a float dtype, got " + dtype_name(t.dtype));
}

// ---------------------------------------------------------------------- ops

chorus_status run_copy(const chorus_op_desc& d) {
  const Tensor& src = d.tensors[0];
  const Tensor& dst = d.tensors[1];
  for_each_index(dst.rank, dst.shape, [&](const int64_t* i) {
    copy_element(dst, element_of(dst, i), src, element_of(src, i));
  });
  return CHORUS_OK;
}

chorus_status run_fill(const chorus_op_desc& d) {
  const Tensor& dst = d.tensors[0];
  for_each_index(dst.rank, dst.shape,
                 [&](const int64_t* i) { store_rounded(dst, element_of(dst, i), d.value); });
  return CHORUS_OK;
}

template <typename T>
void unary_float_loop(chorus_unary_op op, const Tensor& x, const Tensor& y) {
  for_each_index(y.rank, y.shape, [&](const int64_t* i) {
    store_rounded(y, element_of(y, i), unary_float(op, load_as<T>(x, element_of(x, i))));
  });
}

chorus_status run_unary(const chorus_op_desc& d) {
  const auto op = static_cast<chorus_unary_op>(d.subop);
  const Tensor& x = d.tensors[0];
  const Tensor& y = d.tensors[1];
  if (d.subop < 0 || d.subop >= CHORUS_UNARY_COUNT_)
    return unknown_subop("unary", "chorus_unary_op", d.subop);
  if (is_integer(y.dtype)) {
    if (op != CHORUS_UNARY_NEG && op != CHORUS_UNARY_ABS && op != CHORUS_UNARY_RELU)
      return invalid("unary op " + std::to_string(d.subop) +
                     " needs a float dtype (integers have only neg, abs and relu), got " +
                     dtype_name(y.dtype));
    for_each_index(y.rank, y.shape, [&](const int64_t* i) {
      store_wrapped(y, element_of(y, i), unary_integer(op, load_integer(x, element_of(x, i))));
    });
    return CHORUS_OK;
  }
  // Ops IEEE rounds correctly are computed in double for an f64 output:
  // through long double they would round twice and can land one ulp off. For
  // f32/f16/bf16, double carries more than twice their precision, so rounding
  // to double first never changes the final result.
  const bool exact_in_double = op == CHORUS_UNARY_NEG || op == CHORUS_UNARY_ABS ||
                               op == CHORUS_UNARY_SQRT || op == CHORUS_UNARY_RELU;
  if (y.dtype == CHORUS_DTYPE_F64 && !exact_in_double)
    unary_float_loop<long double>(op, x, y);
  else
    unary_float_loop<double>(op, x, y);
  return CHORUS_OK;
}

template <typename T>
void binary_float_loop(chorus_binary_op op, const Tensor& a, const Tensor& b, const Tensor& out) {
  for_each_index(out.rank, out.shape, [&](const int64_t* i) {
    const T va = load_as<T>(a, element_of(a, i));
    const T vb = load_as<T>(b, element_of(b, i));
    store_rounded(out, element_of(out, i), binary_float(op, va, vb));
  });
}

chorus_status run_binary(const chorus_op_desc& d) {
  const auto op = static_cast<chorus_binary_op>(d.subop);
  const Tensor& a = d.tensors[0];
  const Tensor& b = d.tensors[1];
  const Tensor& out = d.tensors[2];
  if (d.subop < 0 || d.subop >= CHORUS_BINARY_COUNT_)
    return unknown_subop("binary", "chorus_binary_op", d.subop);
  if (is_integer(out.dtype)) {
    if (op == CHORUS_BINARY_DIV || op == CHORUS_BINARY_POW)
      return invalid("binary op " + std::to_string(d.subop) +
                     " (div or pow) needs a float dtype, got " + dtype_name(out.dtype));
    for_each_index(out.rank, out.shape, [&](const int64_t* i) {
      const int64_t va = load_integer(a, element_of(a, i));
      const int64_t vb = load_integer(b, element_of(b, i));
      store_wrapped(out, element_of(out, i), binary_integer(op, va, vb));
    });
    return CHORUS_OK;
  }
  // As in run_unary: only pow, which IEEE does not round correctly, gains
  // from long double.
  if (out.dtype == CHORUS_DTYPE_F64 && op == CHORUS_BINARY_POW)
    binary_float_loop<long double>(op, a, b, out);
  else
    binary_float_loop<double>(op, a, b, out);
  return CHORUS_OK;
}

chorus_status run_compare(const chorus_op_desc& d) {
  const auto op = static_cast<chorus_compare_op>(d.subop);
  const Tensor& a = d.tensors[0];
  const Tensor& b = d.tensors[1];
  const Tensor& out = d.tensors[2];
  if (d.subop < 0 || d.subop >= CHORUS_COMPARE_COUNT_)
    return unknown_subop("compare", "chorus_compare_op", d.subop);
  const bool integers = is_integer(a.dtype) && is_integer(b.dtype);
  for_each_index(out.rank, out.shape, [&](const int64_t* i) {
    const int64_t ea = element_of(a, i);
    const int64_t eb = element_of(b, i);
    const bool result = integers
                            ? compare(op, load_integer(a, ea), load_integer(b, eb))
                            : compare(op, load_as<long double>(a, ea), load_as<long double>(b, eb));
    store_wrapped(out, element_of(out, i), result ? 1 : 0);
  });
  return CHORUS_OK;
}

chorus_status run_where(const chorus_op_desc& d) {
  const Tensor& condition = d.tensors[0];
  const Tensor& a = d.tensors[1];
  const Tensor& b = d.tensors[2];
  const Tensor& out = d.tensors[3];
  for_each_index(out.rank, out.shape, [&](const int64_t* i) {
    const bool take_a = load_integer(condition, element_of(condition, i)) != 0;
    const Tensor& src = take_a ? a : b;
    copy_element(out, element_of(out, i), src, element_of(src, i));
  });
  return CHORUS_OK;
}

template <typename T>
void reduce_float_loop(chorus_reduce_op op, uint32_t reduced, const Tensor& x, const Tensor& out) {
  const uint32_t first = x.rank - reduced;  // the reduced axes are the last ones
  int64_t n = 1;
  for (uint32_t k = first; k < x.rank; ++k) n *= x.shape[k];
  for_each_index(out.rank, out.shape, [&](const int64_t* o) {
    // o is 0 on the reduced axes (extent 1 in out), so it indexes x's first
    // element of this reduction too.
    const int64_t base = element_of(x, o);
    T acc = op == CHORUS_REDUCE_MAX   ? -std::numeric_limits<T>::infinity()
            : op == CHORUS_REDUCE_MIN ? std::numeric_limits<T>::infinity()
                                      : T(0);
    for_each_index(reduced, x.shape + first, [&](const int64_t* r) {
      int64_t element = base;
      for (uint32_t k = 0; k < reduced; ++k) element += r[k] * x.strides[first + k];
      const T v = load_as<T>(x, element);
      if (op == CHORUS_REDUCE_MAX)
        acc = maximum(acc, v);
      else if (op == CHORUS_REDUCE_MIN)
        acc = minimum(acc, v);
      else
        acc += v;
    });
    if (op == CHORUS_REDUCE_MEAN) acc /= static_cast<T>(n);
    store_rounded(out, element_of(out, o), acc);
  });
}

void reduce_integer_loop(chorus_reduce_op op, uint32_t reduced, const Tensor& x,
                         const Tensor& out) {
  const uint32_t first = x.rank - reduced;
  for_each_index(out.rank, out.shape, [&](const int64_t* o) {
    const int64_t base = element_of(x, o);
    uint64_t sum = 0;  // wraps, like integer add
    int64_t extreme = op == CHORUS_REDUCE_MAX ? std::numeric_limits<int64_t>::min()
                                              : std::numeric_limits<int64_t>::max();
    for_each_index(reduced, x.shape + first, [&](const int64_t* r) {
      int64_t element = base;
      for (uint32_t k = 0; k < reduced; ++k) element += r[k] * x.strides[first + k];
      const int64_t v = load_integer(x, element);
      sum += static_cast<uint64_t>(v);
      if (op == CHORUS_REDUCE_MAX ? v > extreme : v < extreme) extreme = v;
    });
    store_wrapped(out, element_of(out, o),
                  op == CHORUS_REDUCE_SUM ? sum : static_cast<uint64_t>(extreme));
  });
}

chorus_status run_reduce(const chorus_op_desc& d) {
  const auto op = static_cast<chorus_reduce_op>(d.subop);
  const Tensor& x = d.tensors[0];
  const Tensor& out = d.tensors[1];
  if (d.subop < 0 || d.subop >= CHORUS_REDUCE_COUNT_)
    return unknown_subop("reduce", "chorus_reduce_op", d.subop);
  const auto reduced = static_cast<uint32_t>(std::popcount(d.axes_mask));
  if (reduced > x.rank || out.rank != x.rank)
    return invalid("reduce: axes_mask " + std::to_string(d.axes_mask) + " does not fit x of rank " +
                   std::to_string(x.rank) + " and out of rank " + std::to_string(out.rank));
  if (is_integer(x.dtype)) {
    if (op == CHORUS_REDUCE_MEAN) return needs_float("reduce mean", x);
    reduce_integer_loop(op, reduced, x, out);
  } else if (out.dtype == CHORUS_DTYPE_F64) {
    reduce_float_loop<long double>(op, reduced, x, out);
  } else {
    reduce_float_loop<double>(op, reduced, x, out);
  }
  return CHORUS_OK;
}

// Index of the first largest of n values; the first NaN beats everything.
template <typename V, typename Load>
int64_t first_largest(int64_t n, Load load) {
  int64_t best = 0;
  V best_value = load(0);
  if (std::isnan(best_value)) return 0;
  for (int64_t j = 1; j < n; ++j) {
    const V v = load(j);
    if (std::isnan(v)) return j;
    if (v > best_value) {
      best = j;
      best_value = v;
    }
  }
  return best;
}

chorus_status run_argmax(const chorus_op_desc& d) {
  const Tensor& x = d.tensors[0];
  const Tensor& out = d.tensors[1];
  if (x.rank == 0 || d.axis != static_cast<int32_t>(x.rank) - 1)
    return invalid("argmax: axis " + std::to_string(d.axis) + " is not the last axis of x (rank " +
                   std::to_string(x.rank) + ")");
  const uint32_t last = x.rank - 1;
  const int64_t n = x.shape[last];
  for_each_index(last, x.shape, [&](const int64_t* row) {
    const int64_t start = element_of(x, row);
    const int64_t stride = x.strides[last];
    const int64_t index =
        is_integer(x.dtype) ? first_largest<int64_t>(
                                  n, [&](int64_t j) { return load_integer(x, start + j * stride); })
                            : first_largest<long double>(n, [&](int64_t j) {
                                return load_as<long double>(x, start + j * stride);
                              });
    store_wrapped(out, element_of(out, row), static_cast<uint64_t>(index));
  });
  return CHORUS_OK;
}

template <typename T>
chorus_status gemm_loop(const chorus_op_desc& d) {
  const Tensor& a = d.tensors[0];
  const Tensor& b = d.tensors[1];
  const Tensor& c = d.tensors[2];
  const Tensor* bias = d.has_bias ? &d.tensors[3] : nullptr;
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

chorus_status run_gemm(const chorus_op_desc& d) {
  const Tensor& a = d.tensors[0];
  const Tensor& b = d.tensors[1];
  const Tensor& c = d.tensors[2];
  if (d.activation < CHORUS_ACTIVATION_NONE || d.activation >= CHORUS_ACTIVATION_COUNT_)
    return invalid("gemm: activation " + std::to_string(static_cast<int>(d.activation)) +
                   " is not a chorus_activation");
  if (a.rank != 3 || b.rank != 3 || c.rank != 3 || (d.has_bias && d.tensors[3].rank != 3))
    return invalid(
        "gemm: a, b, c and bias must arrive normalised to rank 3 ([batch, rows, columns])");
  for (const Tensor* t : {&a, &b, &c})
    if (!is_float(t->dtype)) return needs_float("gemm", *t);
  return c.dtype == CHORUS_DTYPE_F64 ? gemm_loop<long double>(d) : gemm_loop<double>(d);
}

template <typename T>
void softmax_loop(bool log_softmax, const Tensor& x, const Tensor& y) {
  const uint32_t last = x.rank - 1;
  const int64_t n = x.shape[last];
  for_each_index(last, x.shape, [&](const int64_t* row) {
    const int64_t x0 = element_of(x, row);
    const int64_t y0 = element_of(y, row);
    const auto x_at = [&](int64_t j) { return load_as<T>(x, x0 + j * x.strides[last]); };
    // No special cases: an infinite max gives inf - inf = NaN in s, and so
    // does a NaN anywhere in the row, so such a row comes out all NaN.
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < n; ++j) m = maximum(m, x_at(j));
    T s = 0;
    for (int64_t j = 0; j < n; ++j) s += std::exp(x_at(j) - m);
    for (int64_t j = 0; j < n; ++j) {
      const T shifted = x_at(j) - m;
      store_rounded(y, y0 + j * y.strides[last],
                    log_softmax ? shifted - std::log(s) : std::exp(shifted) / s);
    }
  });
}

chorus_status run_softmax(const chorus_op_desc& d) {
  const Tensor& x = d.tensors[0];
  const Tensor& y = d.tensors[1];
  if (d.subop != 0 && d.subop != 1)
    return invalid("softmax: subop " + std::to_string(d.subop) +
                   " is neither 0 (softmax) nor 1 (log-softmax)");
  if (x.rank == 0 || d.axis != static_cast<int32_t>(x.rank) - 1)
    return invalid("softmax: axis " + std::to_string(d.axis) + " is not the last axis of x (rank " +
                   std::to_string(x.rank) + ")");
  if (!is_float(y.dtype)) return needs_float("softmax", y);
  if (y.dtype == CHORUS_DTYPE_F64)
    softmax_loop<long double>(d.subop == 1, x, y);
  else
    softmax_loop<double>(d.subop == 1, x, y);
  return CHORUS_OK;
}

// Layer norm (subtract_mean) and RMS norm share the row walk and the scaling;
// they differ only in the centre and the spread.
template <typename T>
void norm_loop(const chorus_op_desc& d, bool subtract_mean) {
  const Tensor& x = d.tensors[0];
  const Tensor& y = d.tensors[1];
  const Tensor* gamma = d.has_gamma ? &d.tensors[2] : nullptr;
  const Tensor* beta = subtract_mean && d.has_beta ? &d.tensors[3] : nullptr;
  const uint32_t last = x.rank - 1;
  const int64_t n = x.shape[last];
  const T eps = static_cast<T>(d.eps);
  for_each_index(last, x.shape, [&](const int64_t* row) {
    const int64_t x0 = element_of(x, row);
    const auto x_at = [&](int64_t j) { return load_as<T>(x, x0 + j * x.strides[last]); };
    T centre = 0;
    if (subtract_mean) {
      for (int64_t j = 0; j < n; ++j) centre += x_at(j);
      centre /= static_cast<T>(n);
    }
    // Second pass around the mean: E[x²] - E[x]² would cancel catastrophically.
    T squares = 0;
    for (int64_t j = 0; j < n; ++j) squares += (x_at(j) - centre) * (x_at(j) - centre);
    const T spread = std::sqrt(squares / static_cast<T>(n) + eps);
    for (int64_t j = 0; j < n; ++j) {
      T v = (x_at(j) - centre) / spread;
      if (gamma != nullptr)
        v *= load_as<T>(*gamma, element_of(*gamma, row) + j * gamma->strides[last]);
      if (beta != nullptr) v += load_as<T>(*beta, element_of(*beta, row) + j * beta->strides[last]);
      store_rounded(y, element_of(y, row) + j * y.strides[last], v);
    }
  });
}

chorus_status run_norm(const chorus_op_desc& d, bool subtract_mean) {
  const char* name = subtract_mean ? "layer_norm" : "rms_norm";
  const Tensor& x = d.tensors[0];
  const Tensor& y = d.tensors[1];
  if (x.rank == 0) return invalid(std::string(name) + ": x has rank 0; it needs a last axis");
  if (!is_float(y.dtype)) return needs_float(name, y);
  if (y.dtype == CHORUS_DTYPE_F64)
    norm_loop<long double>(d, subtract_mean);
  else
    norm_loop<double>(d, subtract_mean);
  return CHORUS_OK;
}

// ------------------------------------------------------------- validation

struct TensorSlots {
  uint32_t required;    // tensors[0 .. required) must be present
  int32_t optional[2];  // further slots, present when their has_* flag is set (-1: none)
};

TensorSlots slots_of(const chorus_op_desc& d) {
  switch (d.kind) {
    case CHORUS_OP_COPY:
      return {2, {-1, -1}};
    case CHORUS_OP_FILL:
      return {1, {-1, -1}};
    case CHORUS_OP_UNARY:
      return {2, {-1, -1}};
    case CHORUS_OP_BINARY:
      return {3, {-1, -1}};
    case CHORUS_OP_COMPARE:
      return {3, {-1, -1}};
    case CHORUS_OP_WHERE:
      return {4, {-1, -1}};
    case CHORUS_OP_REDUCE:
      return {2, {-1, -1}};
    case CHORUS_OP_ARGMAX:
      return {2, {-1, -1}};
    case CHORUS_OP_GEMM:
      return {3, {d.has_bias ? 3 : -1, -1}};
    case CHORUS_OP_SOFTMAX:
      return {2, {-1, -1}};
    case CHORUS_OP_LAYER_NORM:
      return {2, {d.has_gamma ? 2 : -1, d.has_beta ? 3 : -1}};
    case CHORUS_OP_RMS_NORM:
      return {2, {d.has_gamma ? 2 : -1, -1}};
    default:
      return {0, {-1, -1}};
  }
}

// The checks that keep a malformed descriptor from reading wild memory; the
// semantic checks (shapes agree, dtypes allowed) are libchorus's.
chorus_status check_tensor(const chorus_op_desc& d, uint32_t slot) {
  const std::string name = "tensors[" + std::to_string(slot) + "]";
  if (slot >= d.tensor_count)
    return invalid(name + " is needed by op kind " + std::to_string(static_cast<int>(d.kind)) +
                   " but tensor_count is " + std::to_string(d.tensor_count));
  const Tensor& t = d.tensors[slot];
  if (t.buffer == nullptr) return invalid(name + " has no buffer");
  if (dtype_size(t.dtype) == 0)
    return invalid(name + " has dtype " + std::to_string(static_cast<int>(t.dtype)) +
                   ", not a chorus_dtype");
  if (t.rank > CHORUS_MAX_RANK)
    return invalid(name + " has rank " + std::to_string(t.rank) + ", above CHORUS_MAX_RANK");
  if (t.offset < 0) return invalid(name + " has a negative offset");
  // Only GEMM's a and b may be empty (K == 0, see backend.h).
  const bool may_be_empty = d.kind == CHORUS_OP_GEMM && slot < 2;
  for (uint32_t k = 0; k < t.rank; ++k) {
    if (t.shape[k] < (may_be_empty ? 0 : 1) || t.strides[k] < 0)
      return invalid(name + " axis " + std::to_string(k) +
                     " has an empty extent or a negative stride; libchorus never sends those");
  }
  return CHORUS_OK;
}

}  // namespace

chorus_status execute(const chorus_op_desc* desc) {
  if (desc == nullptr) return invalid("execute: desc is NULL");
  if (desc->struct_size < sizeof(chorus_op_desc))
    return invalid("execute: desc->struct_size is " + std::to_string(desc->struct_size) +
                   ", smaller than sizeof(chorus_op_desc)");
  const chorus_op_desc& d = *desc;
  const TensorSlots slots = slots_of(d);
  if (slots.required == 0)
    return invalid("execute: op kind " + std::to_string(static_cast<int>(d.kind)) +
                   " is not a chorus_op_kind");
  if (d.tensor_count > CHORUS_OP_MAX_TENSORS)
    return invalid("execute: tensor_count is " + std::to_string(d.tensor_count) +
                   ", more than CHORUS_OP_MAX_TENSORS");
  for (uint32_t slot = 0; slot < slots.required; ++slot)
    if (const chorus_status s = check_tensor(d, slot); s != CHORUS_OK) return s;
  for (const int32_t slot : slots.optional)
    if (slot >= 0)
      if (const chorus_status s = check_tensor(d, static_cast<uint32_t>(slot)); s != CHORUS_OK)
        return s;

  try {
    switch (d.kind) {
      case CHORUS_OP_COPY:
        return run_copy(d);
      case CHORUS_OP_FILL:
        return run_fill(d);
      case CHORUS_OP_UNARY:
        return run_unary(d);
      case CHORUS_OP_BINARY:
        return run_binary(d);
      case CHORUS_OP_COMPARE:
        return run_compare(d);
      case CHORUS_OP_WHERE:
        return run_where(d);
      case CHORUS_OP_REDUCE:
        return run_reduce(d);
      case CHORUS_OP_ARGMAX:
        return run_argmax(d);
      case CHORUS_OP_GEMM:
        return run_gemm(d);
      case CHORUS_OP_SOFTMAX:
        return run_softmax(d);
      case CHORUS_OP_LAYER_NORM:
        return run_norm(d, true);
      case CHORUS_OP_RMS_NORM:
        return run_norm(d, false);
      default:
        break;
    }
  } catch (const std::bad_alloc&) {
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "reference: op kind " +
                                                  std::to_string(static_cast<int>(d.kind)) +
                                                  " ran out of host memory for its scratch space");
  }
  return invalid("execute: op kind " + std::to_string(static_cast<int>(d.kind)) +
                 " is not a chorus_op_kind");
}

}  // namespace chorus::reference
