// kokkos_elementwise.cpp — the elementwise op families (copy/convert, fill,
// unary, binary, compare, where) as one Kokkos pattern: a flat RangePolicy
// over the output's elements, each work item locating its element in every
// view through a Walk (broadcasts are stride-0 axes, so they need nothing
// extra). Kernels are templates on the dtype and the sub-op, so none carries
// a per-element switch, and a dense walk runs as a plain indexed loop. In-place
// calls are safe because each work item reads its own input element before
// writing the same output element.
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

// Runs body(at) for every element of a walk, `at` holding the element's
// number in each view. A dense walk (one axis, unit strides everywhere, the
// common case) gets a loop with no index arithmetic at all, which compilers
// vectorise; anything else locates each element through the walk.
template <int N, class Body>
void for_each_element(const char* label, const Exec& exec, const Walk<N>& w, const Body& body) {
  bool dense = w.rank == 1;
  for (int v = 0; v < N; ++v) dense = dense && w.stride[v][0] == 1;
  if (dense) {
    Kokkos::parallel_for(
        label, Range(exec, 0, w.count), KOKKOS_LAMBDA(int64_t i) {
          int64_t at[N];
          for (int v = 0; v < N; ++v) at[v] = w.offset[v] + i;
          body(at);
        });
  } else {
    Kokkos::parallel_for(
        label, Range(exec, 0, w.count), KOKKOS_LAMBDA(int64_t i) {
          int64_t at[N];
          w.locate(i, at);
          body(at);
        });
  }
}

// Calls body.template operator()<Op>() for the runtime sub-op, so that each
// kernel is compiled for one op and carries no per-element switch.
template <int Count, int Op = 0, typename Body>
void with_subop(int op, Body&& body) {
  if constexpr (Op < Count) {
    if (op == Op)
      body.template operator()<Op>();
    else
      with_subop<Count, Op + 1>(op, body);
  }
}

template <int Bytes>
void copy_bits(const Exec& exec, const Walk<2>& w, const unsigned char* src, unsigned char* dst) {
  using W = typename Word<Bytes>::type;
  for_each_element(
      "chorus::copy", exec, w, KOKKOS_LAMBDA(const int64_t(&at)[2]) {
        store_bits<W>(dst, at[1], load_bits<W>(src, at[0]));
      });
}

void copy_converting(const Exec& exec, const Walk<2>& w, const unsigned char* src, int src_dtype,
                     unsigned char* dst, int dst_dtype) {
  for_each_element(
      "chorus::convert", exec, w, KOKKOS_LAMBDA(const int64_t(&at)[2]) {
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
  for_each_element(
      "chorus::fill", exec, w,
      KOKKOS_LAMBDA(const int64_t(&at)[1]) { store_bits<W>(dst, at[0], word); });
}

template <typename Body>
void with_element_bytes(int bytes, Body&& body) {
  switch (bytes) {
    case 1:
      body.template operator()<1>();
      break;
    case 2:
      body.template operator()<2>();
      break;
    case 4:
      body.template operator()<4>();
      break;
    default:
      body.template operator()<8>();
      break;
  }
}

chorus_status run_copy(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& src = d.tensors[0];
  const chorus_backend_tensor& dst = d.tensors[1];
  const chorus_backend_tensor* const views[2] = {&src, &dst};
  const Walk<2> w = make_walk<2>(0, dst.rank, dst.shape, views);
  if (src.dtype == dst.dtype && w.rank == 1 && w.stride[0][0] == 1 && w.stride[1][0] == 1) {
    // Dense to dense, no conversion: a plain memory copy.
    const int64_t size = dtype_bytes(dst.dtype);
    using Raw = Kokkos::View<unsigned char*, Memory, Kokkos::MemoryUnmanaged>;
    Kokkos::deep_copy(exec,
                      Raw(data_of(dst) + w.offset[1] * size, static_cast<size_t>(w.count * size)),
                      Raw(data_of(src) + w.offset[0] * size, static_cast<size_t>(w.count * size)));
  } else if (src.dtype == dst.dtype) {
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

template <int op, typename T>
KOKKOS_INLINE_FUNCTION T unary_float(T x) {
  switch (op) {
    case CHORUS_UNARY_NEG:
      return -x;
    case CHORUS_UNARY_ABS:
      return math::fabs(x);
    case CHORUS_UNARY_EXP:
      return math::exp(x);
    case CHORUS_UNARY_LOG:
      return math::log(x);
    case CHORUS_UNARY_SQRT:
      return math::sqrt(x);
    case CHORUS_UNARY_RSQRT:
      return T(1) / math::sqrt(x);
    case CHORUS_UNARY_TANH:
      return math::tanh(x);
    case CHORUS_UNARY_SIGMOID:
      return sigmoid(x);
    case CHORUS_UNARY_RELU:
      return relu(x);
    case CHORUS_UNARY_GELU_ERF:
      return gelu_erf(x);
    case CHORUS_UNARY_GELU_TANH:
      return gelu_tanh(x);
    default:
      return silu(x);
  }
}

// Two's complement on uint64: the low bits are right for every width.
template <int op>
KOKKOS_INLINE_FUNCTION int64_t unary_integer(int64_t x) {
  const uint64_t bits = static_cast<uint64_t>(x);
  switch (op) {
    case CHORUS_UNARY_NEG:
      return static_cast<int64_t>(uint64_t{0} - bits);
    case CHORUS_UNARY_ABS:
      return x < 0 ? static_cast<int64_t>(uint64_t{0} - bits) : x;
    default:
      return x > 0 ? x : 0;  // relu
  }
}

template <chorus_dtype D, int op>
void unary_kernel(const Exec& exec, const Walk<2>& w, const unsigned char* x, unsigned char* y) {
  using S = Storage<D>;
  for_each_element(
      "chorus::unary", exec, w, KOKKOS_LAMBDA(const int64_t(&at)[2]) {
        if constexpr (is_integer_dtype(D))
          S::store(y, at[1], unary_integer<op>(S::load(x, at[0])));
        else
          S::store(y, at[1], unary_float<op>(S::load(x, at[0])));
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
                      dtype_name(y.dtype));
  const chorus_backend_tensor* const views[2] = {&x, &y};
  const Walk<2> w = make_walk<2>(0, y.rank, y.shape, views);
  const auto launch = [&]<chorus_dtype D>() {
    with_subop<CHORUS_UNARY_COUNT_>(d.subop, [&]<int Op>() {
      constexpr bool integer_ok =
          Op == CHORUS_UNARY_NEG || Op == CHORUS_UNARY_ABS || Op == CHORUS_UNARY_RELU;
      if constexpr (!is_integer_dtype(D) || integer_ok)
        unary_kernel<D, Op>(exec, w, data_of(x), data_of(y));
    });
  };
  if (!with_float_dtype(y.dtype, launch)) with_integer_dtype(y.dtype, launch);
  return CHORUS_OK;
}

// ----------------------------------------------------------------- binary

template <int op, typename T>
KOKKOS_INLINE_FUNCTION T binary_float(T a, T b) {
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
    default:
      return math::pow(a, b);
  }
}

template <int op>
KOKKOS_INLINE_FUNCTION int64_t binary_integer(int64_t a, int64_t b) {
  const uint64_t ua = static_cast<uint64_t>(a);
  const uint64_t ub = static_cast<uint64_t>(b);
  switch (op) {
    case CHORUS_BINARY_ADD:
      return static_cast<int64_t>(ua + ub);
    case CHORUS_BINARY_SUB:
      return static_cast<int64_t>(ua - ub);
    case CHORUS_BINARY_MUL:
      return static_cast<int64_t>(ua * ub);
    case CHORUS_BINARY_MAX:
      return a > b ? a : b;
    default:
      return a < b ? a : b;  // min
  }
}

template <chorus_dtype D, int op>
void binary_kernel(const Exec& exec, const Walk<3>& w, const unsigned char* a,
                   const unsigned char* b, unsigned char* out) {
  using S = Storage<D>;
  for_each_element(
      "chorus::binary", exec, w, KOKKOS_LAMBDA(const int64_t(&at)[3]) {
        if constexpr (is_integer_dtype(D))
          S::store(out, at[2], binary_integer<op>(S::load(a, at[0]), S::load(b, at[1])));
        else
          S::store(out, at[2], binary_float<op>(S::load(a, at[0]), S::load(b, at[1])));
      });
}

chorus_status run_binary(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& a = d.tensors[0];
  const chorus_backend_tensor& b = d.tensors[1];
  const chorus_backend_tensor& out = d.tensors[2];
  if (d.subop < 0 || d.subop >= CHORUS_BINARY_COUNT_)
    return report(
        CHORUS_ERROR_INVALID_ARGUMENT,
        "kokkos: binary: subop " + std::to_string(d.subop) + " is not a chorus_binary_op");
  if (is_integer_dtype(out.dtype) && (d.subop == CHORUS_BINARY_DIV || d.subop == CHORUS_BINARY_POW))
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  std::string("kokkos: binary op ") + std::to_string(d.subop) +
                      " (div or pow) needs a float dtype, got " + dtype_name(out.dtype));
  const chorus_backend_tensor* const views[3] = {&a, &b, &out};
  const Walk<3> w = make_walk<3>(0, out.rank, out.shape, views);
  const auto launch = [&]<chorus_dtype D>() {
    with_subop<CHORUS_BINARY_COUNT_>(d.subop, [&]<int Op>() {
      if constexpr (!is_integer_dtype(D) || (Op != CHORUS_BINARY_DIV && Op != CHORUS_BINARY_POW))
        binary_kernel<D, Op>(exec, w, data_of(a), data_of(b), data_of(out));
    });
  };
  if (!with_float_dtype(out.dtype, launch)) with_integer_dtype(out.dtype, launch);
  return CHORUS_OK;
}

// ---------------------------------------------------------------- compare

// NaN compares false except under ne: exactly what the C++ operators do.
template <int op, typename V>
KOKKOS_INLINE_FUNCTION bool compare(V a, V b) {
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
    default:
      return a >= b;
  }
}

template <chorus_dtype D, int op>
void compare_kernel(const Exec& exec, const Walk<3>& w, const unsigned char* a,
                    const unsigned char* b, unsigned char* out) {
  using S = Storage<D>;
  for_each_element(
      "chorus::compare", exec, w, KOKKOS_LAMBDA(const int64_t(&at)[3]) {
        out[at[2]] = compare<op>(S::load(a, at[0]), S::load(b, at[1])) ? 1 : 0;
      });
}

chorus_status run_compare(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& a = d.tensors[0];
  const chorus_backend_tensor& b = d.tensors[1];
  const chorus_backend_tensor& out = d.tensors[2];
  if (d.subop < 0 || d.subop >= CHORUS_COMPARE_COUNT_)
    return report(
        CHORUS_ERROR_INVALID_ARGUMENT,
        "kokkos: compare: subop " + std::to_string(d.subop) + " is not a chorus_compare_op");
  if (a.dtype != b.dtype)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, std::string("kokkos: compare: a is ") +
                                                     dtype_name(a.dtype) + " but b is " +
                                                     dtype_name(b.dtype));
  const chorus_backend_tensor* const views[3] = {&a, &b, &out};
  const Walk<3> w = make_walk<3>(0, out.rank, out.shape, views);
  const auto launch = [&]<chorus_dtype D>() {
    with_subop<CHORUS_COMPARE_COUNT_>(d.subop, [&]<int Op>() {
      compare_kernel<D, Op>(exec, w, data_of(a), data_of(b), data_of(out));
    });
  };
  if (!with_float_dtype(a.dtype, launch)) with_integer_dtype(a.dtype, launch);
  return CHORUS_OK;
}

// ------------------------------------------------------------------ where

template <int Bytes>
void where_kernel(const Exec& exec, const Walk<4>& w, const unsigned char* condition,
                  const unsigned char* a, const unsigned char* b, unsigned char* out) {
  using W = typename Word<Bytes>::type;
  for_each_element(
      "chorus::where", exec, w, KOKKOS_LAMBDA(const int64_t(&at)[4]) {
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
