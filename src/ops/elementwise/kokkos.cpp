// kokkos.cpp — the elementwise family on the Kokkos backend (copy/convert,
// fill, unary, binary, compare, where) as one Kokkos pattern: a flat
// RangePolicy over the output's elements, each work item locating its
// element in every view through a Walk. The normal form (backend.h) does the
// rest: every tensor has the output's shape, broadcasts are stride-0 axes,
// and the axes arrive collapsed, so a dense call is rank 1. Kernels are
// templates on the dtype and the sub-op, so none carries a per-element
// switch, and a dense walk runs as a plain indexed loop. In-place calls are
// safe because each work item reads its own input element before writing the
// same output element.
//
// The unary ops are generated from unary_table.h (kokkos_unary.hpp): nothing
// here names one of them.
#include <string>

#include "kokkos_ops.hpp"
#include "kokkos_unary.hpp"

namespace chorus::ops::elementwise {

// Kernels live in this named namespace, not an unnamed one: device compilers
// (nvcc) refuse extended lambdas in unnamed namespaces.
using namespace chorus::kokkos;

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

// The walk of every tensor of an elementwise op over the output's (last)
// shape.
template <int N>
Walk<N> walk_of(const BoundOp& op) {
  const chorus_backend_tensor* views[N];
  for (int v = 0; v < N; ++v) views[v] = &op[v];
  const chorus_backend_tensor& out = op[N - 1];
  return make_walk<N>(0, out.rank, out.shape, views);
}

// Calls body.template operator()<Op>() for the runtime sub-op in [0, Count),
// so that each kernel is compiled for one op and carries no per-element
// switch; false, with nothing called, for any other value.
template <int Count, int Op = 0, typename Body>
bool with_subop(int32_t op, Body&& body) {
  if constexpr (Op < Count) {
    if (op == Op) {
      body.template operator()<Op>();
      return true;
    }
    return with_subop<Count, Op + 1>(op, body);
  } else {
    return false;
  }
}

// Calls body.template operator()<Bytes>() for an element size of 1, 2, 4 or
// 8 bytes; false otherwise.
template <typename Body>
bool with_element_bytes(int bytes, Body&& body) {
  switch (bytes) {
    case 1:
      body.template operator()<1>();
      return true;
    case 2:
      body.template operator()<2>();
      return true;
    case 4:
      body.template operator()<4>();
      return true;
    case 8:
      body.template operator()<8>();
      return true;
    default:
      return false;
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

// Runtime dtypes, all validated by check_copy (is_known_dtype).
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

chorus_status check_copy(const BoundOp& op) {
  for (uint32_t i = 0; i < 2; ++i)
    if (!is_known_dtype(op[i].dtype)) return unsupported_dtype("copy", op[i].dtype);
  return CHORUS_OK;
}

chorus_status run_copy(const Exec& exec, const BoundOp& op) {
  const chorus_backend_tensor& src = op[0];
  const chorus_backend_tensor& dst = op[1];
  const Walk<2> w = walk_of<2>(op);
  if (src.dtype == dst.dtype && w.rank == 1 && w.stride[0][0] == 1 && w.stride[1][0] == 1) {
    // Dense to dense, no conversion: a plain memory copy.
    const int64_t size = dtype_bytes(dst.dtype);
    using Raw = Kokkos::View<unsigned char*, Memory, Kokkos::MemoryUnmanaged>;
    Kokkos::deep_copy(exec,
                      Raw(data_of(dst) + w.offset[1] * size, static_cast<size_t>(w.count * size)),
                      Raw(data_of(src) + w.offset[0] * size, static_cast<size_t>(w.count * size)));
  } else if (src.dtype == dst.dtype) {
    if (!with_element_bytes(dtype_bytes(dst.dtype), [&]<int Bytes>() {
          copy_bits<Bytes>(exec, w, data_of(src), data_of(dst));
        }))
      return unsupported_dtype("copy", dst.dtype);
  } else {
    copy_converting(exec, w, data_of(src), src.dtype, data_of(dst), dst.dtype);
  }
  return CHORUS_OK;
}

chorus_status check_fill(const BoundOp& op) {
  if (!is_known_dtype(op[0].dtype)) return unsupported_dtype("fill", op[0].dtype);
  return CHORUS_OK;
}

chorus_status run_fill(const Exec& exec, const BoundOp& op) {
  const chorus_backend_tensor& dst = op[0];
  const Walk<1> w = walk_of<1>(op);
  // One value for every element: converted once here, by the same rules as
  // copy, and then only its bits travel to the device.
  const uint64_t bits = encode_double(attrs_of<chorus_fill_attrs>(op).value, dst.dtype);
  if (!with_element_bytes(dtype_bytes(dst.dtype),
                          [&]<int Bytes>() { fill_bits<Bytes>(exec, w, data_of(dst), bits); }))
    return unsupported_dtype("fill", dst.dtype);
  return CHORUS_OK;
}

// ------------------------------------------------------------------ unary

// P0 and P1 are the op's normalised parameters (backend.h): leaky_relu's and
// elu's alpha already rounded to the compute type, clamp's bounds to the
// dtype, so their conversion to T here is exact; 0 for the other ops.
template <chorus_dtype D, int Op>
void unary_float_kernel(const Exec& exec, const Walk<2>& w, const unsigned char* x,
                        unsigned char* y, double alpha, double beta) {
  using S = Storage<D>;
  using T = typename S::compute;
  const T p0 = static_cast<T>(alpha);
  const T p1 = static_cast<T>(beta);
  for_each_element(
      "chorus::unary", exec, w, KOKKOS_LAMBDA(const int64_t(&at)[2]) {
        S::store(y, at[1], UnaryFloat<Op>::template apply<T>(S::load(x, at[0]), p0, p1));
      });
}

// The integer column computes the result's 64-bit two's-complement bits; the
// store keeps the dtype's low bits, so integer results wrap.
template <chorus_dtype D, int Op>
void unary_integer_kernel(const Exec& exec, const Walk<2>& w, const unsigned char* x,
                          unsigned char* y, int64_t p0, int64_t p1) {
  using S = Storage<D>;
  for_each_element(
      "chorus::unary", exec, w, KOKKOS_LAMBDA(const int64_t(&at)[2]) {
        S::store(y, at[1],
                 static_cast<int64_t>(UnaryInteger<Op>::apply(S::load(x, at[0]), p0, p1)));
      });
}

chorus_status check_unary(const BoundOp& op) {
  const int32_t code = attrs_of<chorus_unary_attrs>(op).op;
  bool takes_integers = false;
  if (!unary_op_known(code, &takes_integers))
    return unsupported("unary", "op " + std::to_string(code) + " is not one this backend knows");
  const chorus_dtype dtype = op[1].dtype;
  if (op[0].dtype != dtype)
    return unsupported(
        "unary", std::string("x is ") + dtype_name(op[0].dtype) + " but y is " + dtype_name(dtype));
  if (is_float_dtype(dtype) || (takes_integers && is_signed_int_dtype(dtype))) return CHORUS_OK;
  return unsupported("unary",
                     std::string(unary_op_name(code)) + " does not take " + dtype_name(dtype));
}

chorus_status run_unary(const Exec& exec, const BoundOp& op) {
  const auto a = attrs_of<chorus_unary_attrs>(op);
  const chorus_backend_tensor& x = op[0];
  const chorus_backend_tensor& y = op[1];
  const Walk<2> w = walk_of<2>(op);
  bool launched = false;
  with_unary_op(a.op, [&]<int Op, bool TakesIntegers>() {
    launched = with_float_dtype(y.dtype, [&]<chorus_dtype D>() {
      unary_float_kernel<D, Op>(exec, w, data_of(x), data_of(y), a.alpha, a.beta);
    });
    if constexpr (TakesIntegers) {
      // Integer parameters (clamp's bounds) arrive as integer-valued
      // doubles; the conversion saturates like copy's, never a plain cast.
      const int64_t p0 = numeric::saturate_to_int<int64_t>(a.alpha);
      const int64_t p1 = numeric::saturate_to_int<int64_t>(a.beta);
      if (!launched)
        launched = with_signed_int_dtype(y.dtype, [&]<chorus_dtype D>() {
          unary_integer_kernel<D, Op>(exec, w, data_of(x), data_of(y), p0, p1);
        });
    }
  });
  if (!launched) return check_unary(op);  // says which of op and dtype it lacks
  return CHORUS_OK;
}

// --------------------------------------------------------- unary_backward

// dx = the row's KERNEL_X or KERNEL_Y of unary_grad_table.h, in T.
template <chorus_dtype D, int Op, bool FromY>
void unary_grad_kernel(const Exec& exec, const Walk<3>& w, const unsigned char* v,
                       const unsigned char* g, unsigned char* dx, double alpha, double beta) {
  using S = Storage<D>;
  using T = typename S::compute;
  const T p0 = static_cast<T>(alpha);
  const T p1 = static_cast<T>(beta);
  for_each_element(
      "chorus::unary_backward", exec, w, KOKKOS_LAMBDA(const int64_t(&at)[3]) {
        S::store(dx, at[2],
                 UnaryGrad<Op, FromY>::template apply<T>(S::load(v, at[0]), S::load(g, at[1]),
                                                         p0, p1));
      });
}

chorus_status check_unary_backward(const BoundOp& op) {
  const auto a = attrs_of<chorus_unary_backward_attrs>(op);
  const bool known = with_unary_grad_op(a.op, a.from_output != 0, []<int, bool>() {});
  if (!known)
    return unsupported("unary_backward", "op " + std::to_string(a.op) +
                                             (a.from_output ? " from y" : "") +
                                             " is not one this backend knows");
  if (is_float_dtype(op[2].dtype)) return CHORUS_OK;
  return unsupported_dtype("unary_backward", op[2].dtype);
}

chorus_status run_unary_backward(const Exec& exec, const BoundOp& op) {
  const auto a = attrs_of<chorus_unary_backward_attrs>(op);
  const Walk<3> w = walk_of<3>(op);
  bool launched = false;
  with_unary_grad_op(a.op, a.from_output != 0, [&]<int Op, bool FromY>() {
    launched = with_float_dtype(op[2].dtype, [&]<chorus_dtype D>() {
      unary_grad_kernel<D, Op, FromY>(exec, w, data_of(op[0]), data_of(op[1]), data_of(op[2]),
                                      a.alpha, a.beta);
    });
  });
  if (!launched) return check_unary_backward(op);
  return CHORUS_OK;
}

// ----------------------------------------------------------------- binary

template <int op, typename T>
KOKKOS_INLINE_FUNCTION T binary_float(T a, T b) {
  if constexpr (op == CHORUS_BINARY_ADD)
    return a + b;
  else if constexpr (op == CHORUS_BINARY_SUB)
    return a - b;
  else if constexpr (op == CHORUS_BINARY_MUL)
    return a * b;
  else if constexpr (op == CHORUS_BINARY_DIV)
    return a / b;
  else if constexpr (op == CHORUS_BINARY_MAX)
    return maximum(a, b);
  else if constexpr (op == CHORUS_BINARY_MIN)
    return minimum(a, b);
  else if constexpr (op == CHORUS_BINARY_POW)
    return math::pow(a, b);
  else
    static_assert(op < 0, "binary_float: an op with no kernel");
}

// Integers wrap: computed on uint64 bits, stored as the dtype's low bits.
template <int op>
KOKKOS_INLINE_FUNCTION int64_t binary_integer(int64_t a, int64_t b) {
  const uint64_t ua = static_cast<uint64_t>(a);
  const uint64_t ub = static_cast<uint64_t>(b);
  if constexpr (op == CHORUS_BINARY_ADD)
    return static_cast<int64_t>(ua + ub);
  else if constexpr (op == CHORUS_BINARY_SUB)
    return static_cast<int64_t>(ua - ub);
  else if constexpr (op == CHORUS_BINARY_MUL)
    return static_cast<int64_t>(ua * ub);
  else if constexpr (op == CHORUS_BINARY_MAX)
    return a > b ? a : b;
  else if constexpr (op == CHORUS_BINARY_MIN)
    return a < b ? a : b;
  else
    static_assert(op < 0, "binary_integer: an op with no integer kernel");
}

constexpr bool binary_takes_integers(int op) {
  return op != CHORUS_BINARY_DIV && op != CHORUS_BINARY_POW;
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

chorus_status check_binary(const BoundOp& op) {
  const int32_t code = attrs_of<chorus_binary_attrs>(op).op;
  if (code < 0 || code >= CHORUS_BINARY_COUNT_)
    return unsupported("binary", "op " + std::to_string(code) + " is not one this backend knows");
  const chorus_dtype dtype = op[2].dtype;
  if (op[0].dtype != dtype || op[1].dtype != dtype)
    return unsupported("binary", "a, b and out must share one dtype");
  if (is_float_dtype(dtype) || (binary_takes_integers(code) && is_signed_int_dtype(dtype)))
    return CHORUS_OK;
  return unsupported("binary",
                     "op " + std::to_string(code) + " does not take " + dtype_name(dtype));
}

chorus_status run_binary(const Exec& exec, const BoundOp& op) {
  const int32_t code = attrs_of<chorus_binary_attrs>(op).op;
  const chorus_backend_tensor& out = op[2];
  const Walk<3> w = walk_of<3>(op);
  bool launched = false;
  with_subop<CHORUS_BINARY_COUNT_>(code, [&]<int Op>() {
    const auto launch = [&]<chorus_dtype D>() {
      binary_kernel<D, Op>(exec, w, data_of(op[0]), data_of(op[1]), data_of(out));
    };
    launched = with_float_dtype(out.dtype, launch);
    if constexpr (binary_takes_integers(Op))
      if (!launched) launched = with_signed_int_dtype(out.dtype, launch);
  });
  if (!launched) return check_binary(op);
  return CHORUS_OK;
}

// ---------------------------------------------------------------- compare

// NaN compares false except under ne: exactly what the C++ operators do.
template <int op, typename V>
KOKKOS_INLINE_FUNCTION bool compare(V a, V b) {
  if constexpr (op == CHORUS_COMPARE_EQ)
    return a == b;
  else if constexpr (op == CHORUS_COMPARE_NE)
    return a != b;
  else if constexpr (op == CHORUS_COMPARE_LT)
    return a < b;
  else if constexpr (op == CHORUS_COMPARE_LE)
    return a <= b;
  else if constexpr (op == CHORUS_COMPARE_GT)
    return a > b;
  else if constexpr (op == CHORUS_COMPARE_GE)
    return a >= b;
  else
    static_assert(op < 0, "compare: an op with no kernel");
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

chorus_status check_compare(const BoundOp& op) {
  const int32_t code = attrs_of<chorus_compare_attrs>(op).op;
  if (code < 0 || code >= CHORUS_COMPARE_COUNT_)
    return unsupported("compare", "op " + std::to_string(code) + " is not one this backend knows");
  if (op[0].dtype != op[1].dtype)
    return unsupported("compare", std::string("a is ") + dtype_name(op[0].dtype) + " but b is " +
                                      dtype_name(op[1].dtype));
  if (!is_known_dtype(op[0].dtype)) return unsupported_dtype("compare", op[0].dtype);
  if (op[2].dtype != CHORUS_DTYPE_U8) return unsupported_dtype("compare", op[2].dtype);
  return CHORUS_OK;
}

chorus_status run_compare(const Exec& exec, const BoundOp& op) {
  const int32_t code = attrs_of<chorus_compare_attrs>(op).op;
  const chorus_backend_tensor& a = op[0];
  const Walk<3> w = walk_of<3>(op);
  bool launched = false;
  with_subop<CHORUS_COMPARE_COUNT_>(code, [&]<int Op>() {
    const auto launch = [&]<chorus_dtype D>() {
      compare_kernel<D, Op>(exec, w, data_of(a), data_of(op[1]), data_of(op[2]));
    };
    launched = with_float_dtype(a.dtype, launch) || with_integer_dtype(a.dtype, launch);
  });
  if (!launched) return check_compare(op);
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

chorus_status check_where(const BoundOp& op) {
  if (op[0].dtype != CHORUS_DTYPE_U8) return unsupported_dtype("where", op[0].dtype);
  const chorus_dtype dtype = op[3].dtype;
  if (!is_known_dtype(dtype)) return unsupported_dtype("where", dtype);
  if (op[1].dtype != dtype || op[2].dtype != dtype)
    return unsupported("where", "a, b and out must share one dtype");
  return CHORUS_OK;
}

chorus_status run_where(const Exec& exec, const BoundOp& op) {
  const chorus_backend_tensor& out = op[3];
  const Walk<4> w = walk_of<4>(op);
  if (!with_element_bytes(dtype_bytes(out.dtype), [&]<int Bytes>() {
        where_kernel<Bytes>(exec, w, data_of(op[0]), data_of(op[1]), data_of(op[2]), data_of(out));
      }))
    return unsupported_dtype("where", out.dtype);
  return CHORUS_OK;
}

void register_kokkos() {
  register_op(CHORUS_OP_COPY, {0, check_copy, run_copy});
  register_op(CHORUS_OP_FILL, {sizeof(chorus_fill_attrs), check_fill, run_fill});
  register_op(CHORUS_OP_UNARY, {sizeof(chorus_unary_attrs), check_unary, run_unary});
  register_op(CHORUS_OP_UNARY_BACKWARD,
              {sizeof(chorus_unary_backward_attrs), check_unary_backward, run_unary_backward});
  register_op(CHORUS_OP_BINARY, {sizeof(chorus_binary_attrs), check_binary, run_binary});
  register_op(CHORUS_OP_COMPARE, {sizeof(chorus_compare_attrs), check_compare, run_compare});
  register_op(CHORUS_OP_WHERE, {0, check_where, run_where});
}

}  // namespace chorus::ops::elementwise
