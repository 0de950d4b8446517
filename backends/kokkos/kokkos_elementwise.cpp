// kokkos_elementwise.cpp — the elementwise op families (copy/convert, fill,
// unary, binary, compare, where) as one Kokkos pattern: a flat RangePolicy
// over the output's elements, each work item locating its element in every
// view through a Walk (broadcasts are stride-0 axes, so they need nothing
// extra). Kernels are templates on the dtype; the sub-op is a runtime switch,
// uniform across a launch. In-place calls are safe because each work item
// reads its own input element before writing the same output element.
#include <string>

#include "kokkos_ops.hpp"

namespace chorus::kokkos {

// --------------------------------------------------------- copy and fill

// Same-dtype copy and where move bits, never values, so NaN payloads and
// signed zeros survive exactly.
template <int Bytes>
struct Word;
template <>
struct Word<1> {
  using type = uint8_t;
};
template <>
struct Word<2> {
  using type = uint16_t;
};
template <>
struct Word<4> {
  using type = uint32_t;
};
template <>
struct Word<8> {
  using type = uint64_t;
};

template <int Bytes>
void copy_bits(const Exec& exec, const Walk<2>& w, const unsigned char* src, unsigned char* dst) {
  using W = typename Word<Bytes>::type;
  Kokkos::parallel_for("chorus::copy", Range(exec, 0, w.count), KOKKOS_LAMBDA(int64_t i) {
    int64_t at[2];
    w.locate(i, at);
    store_bits<W>(dst, at[1], load_bits<W>(src, at[0]));
  });
}

void copy_converting(const Exec& exec, const Walk<2>& w, const unsigned char* src, int src_dtype,
                     unsigned char* dst, int dst_dtype) {
  Kokkos::parallel_for("chorus::convert", Range(exec, 0, w.count), KOKKOS_LAMBDA(int64_t i) {
    int64_t at[2];
    w.locate(i, at);
    const uint64_t bits = is_integer_dtype(src_dtype)
                              ? encode_int(load_as_int(src, src_dtype, at[0]), dst_dtype)
                              : encode_double(load_as_double(src, src_dtype, at[0]), dst_dtype);
    store_encoded(dst, dst_dtype, at[1], bits);
  });
}

template <int Bytes>
void fill_bits(const Exec& exec, const Walk<1>& w, unsigned char* dst, uint64_t bits) {
  using W = typename Word<Bytes>::type;
  const W word = static_cast<W>(bits);
  Kokkos::parallel_for("chorus::fill", Range(exec, 0, w.count), KOKKOS_LAMBDA(int64_t i) {
    int64_t at[1];
    w.locate(i, at);
    store_bits<W>(dst, at[0], word);
  });
}

template <typename Body>
void with_element_bytes(int bytes, Body&& body) {
  switch (bytes) {
    case 1: body.template operator()<1>(); break;
    case 2: body.template operator()<2>(); break;
    case 4: body.template operator()<4>(); break;
    default: body.template operator()<8>(); break;
  }
}

chorus_status run_copy(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& src = d.tensors[0];
  const chorus_backend_tensor& dst = d.tensors[1];
  const chorus_backend_tensor* const views[2] = {&src, &dst};
  const Walk<2> w = make_walk<2>(0, dst.rank, dst.shape, views);
  if (src.dtype == dst.dtype) {
    with_element_bytes(dtype_bytes(dst.dtype),
                       [&]<int Bytes>() { copy_bits<Bytes>(exec, w, data_of(src), data_of(dst)); });
  } else {
    copy_converting(exec, w, data_of(src), src.dtype, data_of(dst), dst.dtype);
  }
  return CHORUS_OK;
}

chorus_status run_fill(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& dst = d.tensors[0];
  const chorus_backend_tensor* const views[1] = {&dst};
  const Walk<1> w = make_walk<1>(0, dst.rank, dst.shape, views);
  // One value for every element: converted once here, by the same rules as
  // copy, and then only its bits travel to the device.
  const uint64_t bits = encode_double(d.value, dst.dtype);
  with_element_bytes(dtype_bytes(dst.dtype),
                     [&]<int Bytes>() { fill_bits<Bytes>(exec, w, data_of(dst), bits); });
  return CHORUS_OK;
}

// ------------------------------------------------------------------ unary

template <typename T>
KOKKOS_INLINE_FUNCTION T unary_float(int op, T x) {
  switch (op) {
    case CHORUS_UNARY_NEG: return -x;
    case CHORUS_UNARY_ABS: return math::fabs(x);
    case CHORUS_UNARY_EXP: return math::exp(x);
    case CHORUS_UNARY_LOG: return math::log(x);
    case CHORUS_UNARY_SQRT: return math::sqrt(x);
    case CHORUS_UNARY_RSQRT: return T(1) / math::sqrt(x);
    case CHORUS_UNARY_TANH: return math::tanh(x);
    case CHORUS_UNARY_SIGMOID: return sigmoid(x);
    case CHORUS_UNARY_RELU: return relu(x);
    case CHORUS_UNARY_GELU_ERF: return gelu_erf(x);
    case CHORUS_UNARY_GELU_TANH: return gelu_tanh(x);
    default: return silu(x);
  }
}

// Two's complement on uint64: the low bits are right for every width.
KOKKOS_INLINE_FUNCTION int64_t unary_integer(int op, int64_t x) {
  const uint64_t bits = static_cast<uint64_t>(x);
  switch (op) {
    case CHORUS_UNARY_NEG: return static_cast<int64_t>(uint64_t{0} - bits);
    case CHORUS_UNARY_ABS: return x < 0 ? static_cast<int64_t>(uint64_t{0} - bits) : x;
    default: return x > 0 ? x : 0;  // relu
  }
}

template <chorus_dtype D>
void unary_kernel(const Exec& exec, const Walk<2>& w, int op, const unsigned char* x, unsigned char* y) {
  using S = Storage<D>;
  Kokkos::parallel_for("chorus::unary", Range(exec, 0, w.count), KOKKOS_LAMBDA(int64_t i) {
    int64_t at[2];
    w.locate(i, at);
    if constexpr (is_integer_dtype(D))
      S::store(y, at[1], unary_integer(op, S::load(x, at[0])));
    else
      S::store(y, at[1], unary_float(op, S::load(x, at[0])));
  });
}

chorus_status run_unary(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& x = d.tensors[0];
  const chorus_backend_tensor& y = d.tensors[1];
  if (d.subop < 0 || d.subop >= CHORUS_UNARY_COUNT_)
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  "kokkos: unary: subop " + std::to_string(d.subop) + " is not a chorus_unary_op");
  const bool integer_op =
      d.subop == CHORUS_UNARY_NEG || d.subop == CHORUS_UNARY_ABS || d.subop == CHORUS_UNARY_RELU;
  if (is_integer_dtype(y.dtype) && !integer_op)
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  "kokkos: unary op " + std::to_string(d.subop) +
                      " needs a float dtype (integers have only neg, abs and relu), got " +
                      dtype_label(y.dtype));
  const chorus_backend_tensor* const views[2] = {&x, &y};
  const Walk<2> w = make_walk<2>(0, y.rank, y.shape, views);
  const auto launch = [&]<chorus_dtype D>() { unary_kernel<D>(exec, w, d.subop, data_of(x), data_of(y)); };
  if (!with_float_dtype(y.dtype, launch)) with_integer_dtype(y.dtype, launch);
  return CHORUS_OK;
}

// ----------------------------------------------------------------- binary

template <typename T>
KOKKOS_INLINE_FUNCTION T binary_float(int op, T a, T b) {
  switch (op) {
    case CHORUS_BINARY_ADD: return a + b;
    case CHORUS_BINARY_SUB: return a - b;
    case CHORUS_BINARY_MUL: return a * b;
    case CHORUS_BINARY_DIV: return a / b;
    case CHORUS_BINARY_MAX: return maximum(a, b);
    case CHORUS_BINARY_MIN: return minimum(a, b);
    default: return math::pow(a, b);
  }
}

KOKKOS_INLINE_FUNCTION int64_t binary_integer(int op, int64_t a, int64_t b) {
  const uint64_t ua = static_cast<uint64_t>(a);
  const uint64_t ub = static_cast<uint64_t>(b);
  switch (op) {
    case CHORUS_BINARY_ADD: return static_cast<int64_t>(ua + ub);
    case CHORUS_BINARY_SUB: return static_cast<int64_t>(ua - ub);
    case CHORUS_BINARY_MUL: return static_cast<int64_t>(ua * ub);
    case CHORUS_BINARY_MAX: return a > b ? a : b;
    default: return a < b ? a : b;  // min
  }
}

template <chorus_dtype D>
void binary_kernel(const Exec& exec, const Walk<3>& w, int op, const unsigned char* a,
                   const unsigned char* b, unsigned char* out) {
  using S = Storage<D>;
  Kokkos::parallel_for("chorus::binary", Range(exec, 0, w.count), KOKKOS_LAMBDA(int64_t i) {
    int64_t at[3];
    w.locate(i, at);
    if constexpr (is_integer_dtype(D))
      S::store(out, at[2], binary_integer(op, S::load(a, at[0]), S::load(b, at[1])));
    else
      S::store(out, at[2], binary_float(op, S::load(a, at[0]), S::load(b, at[1])));
  });
}

chorus_status run_binary(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& a = d.tensors[0];
  const chorus_backend_tensor& b = d.tensors[1];
  const chorus_backend_tensor& out = d.tensors[2];
  if (d.subop < 0 || d.subop >= CHORUS_BINARY_COUNT_)
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  "kokkos: binary: subop " + std::to_string(d.subop) + " is not a chorus_binary_op");
  if (is_integer_dtype(out.dtype) && (d.subop == CHORUS_BINARY_DIV || d.subop == CHORUS_BINARY_POW))
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  std::string("kokkos: binary op ") + std::to_string(d.subop) +
                      " (div or pow) needs a float dtype, got " + dtype_label(out.dtype));
  const chorus_backend_tensor* const views[3] = {&a, &b, &out};
  const Walk<3> w = make_walk<3>(0, out.rank, out.shape, views);
  const auto launch = [&]<chorus_dtype D>() {
    binary_kernel<D>(exec, w, d.subop, data_of(a), data_of(b), data_of(out));
  };
  if (!with_float_dtype(out.dtype, launch)) with_integer_dtype(out.dtype, launch);
  return CHORUS_OK;
}

// ---------------------------------------------------------------- compare

// NaN compares false except under ne: exactly what the C++ operators do.
template <typename V>
KOKKOS_INLINE_FUNCTION bool compare(int op, V a, V b) {
  switch (op) {
    case CHORUS_COMPARE_EQ: return a == b;
    case CHORUS_COMPARE_NE: return a != b;
    case CHORUS_COMPARE_LT: return a < b;
    case CHORUS_COMPARE_LE: return a <= b;
    case CHORUS_COMPARE_GT: return a > b;
    default: return a >= b;
  }
}

template <chorus_dtype D>
void compare_kernel(const Exec& exec, const Walk<3>& w, int op, const unsigned char* a,
                    const unsigned char* b, unsigned char* out) {
  using S = Storage<D>;
  Kokkos::parallel_for("chorus::compare", Range(exec, 0, w.count), KOKKOS_LAMBDA(int64_t i) {
    int64_t at[3];
    w.locate(i, at);
    out[at[2]] = compare(op, S::load(a, at[0]), S::load(b, at[1])) ? 1 : 0;
  });
}

chorus_status run_compare(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& a = d.tensors[0];
  const chorus_backend_tensor& b = d.tensors[1];
  const chorus_backend_tensor& out = d.tensors[2];
  if (d.subop < 0 || d.subop >= CHORUS_COMPARE_COUNT_)
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  "kokkos: compare: subop " + std::to_string(d.subop) + " is not a chorus_compare_op");
  if (a.dtype != b.dtype)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, std::string("kokkos: compare: a is ") +
                                                     dtype_label(a.dtype) + " but b is " +
                                                     dtype_label(b.dtype));
  const chorus_backend_tensor* const views[3] = {&a, &b, &out};
  const Walk<3> w = make_walk<3>(0, out.rank, out.shape, views);
  const auto launch = [&]<chorus_dtype D>() {
    compare_kernel<D>(exec, w, d.subop, data_of(a), data_of(b), data_of(out));
  };
  if (!with_float_dtype(a.dtype, launch)) with_integer_dtype(a.dtype, launch);
  return CHORUS_OK;
}

// ------------------------------------------------------------------ where

template <int Bytes>
void where_kernel(const Exec& exec, const Walk<4>& w, const unsigned char* condition,
                  const unsigned char* a, const unsigned char* b, unsigned char* out) {
  using W = typename Word<Bytes>::type;
  Kokkos::parallel_for("chorus::where", Range(exec, 0, w.count), KOKKOS_LAMBDA(int64_t i) {
    int64_t at[4];
    w.locate(i, at);
    const W v = condition[at[0]] != 0 ? load_bits<W>(a, at[1]) : load_bits<W>(b, at[2]);
    store_bits<W>(out, at[3], v);
  });
}

chorus_status run_where(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& condition = d.tensors[0];
  const chorus_backend_tensor& a = d.tensors[1];
  const chorus_backend_tensor& b = d.tensors[2];
  const chorus_backend_tensor& out = d.tensors[3];
  const chorus_backend_tensor* const views[4] = {&condition, &a, &b, &out};
  const Walk<4> w = make_walk<4>(0, out.rank, out.shape, views);
  with_element_bytes(dtype_bytes(out.dtype), [&]<int Bytes>() {
    where_kernel<Bytes>(exec, w, data_of(condition), data_of(a), data_of(b), data_of(out));
  });
  return CHORUS_OK;
}

}  // namespace chorus::kokkos
