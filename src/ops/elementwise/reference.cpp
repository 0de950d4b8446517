// reference.cpp — the oracle's elementwise ops: copy/convert, fill, unary
// (the REFERENCE formulas of unary_table.h), binary, compare, where. Every
// tensor has the output's shape (broadcasts are stride 0), so each is one
// loop over the output's elements.
#include "elementwise/unary_grad_math.hpp"
#include "elementwise/unary_grad_rows.hpp"
#include "reference_common.hpp"

namespace chorus::ops::elementwise {
namespace {

using namespace chorus::reference;

chorus_status run_copy(const BoundOp& op) {
  const Tensor& src = op[0];
  const Tensor& dst = op[1];
  for_each_index(dst.rank, dst.shape, [&](const int64_t* i) {
    copy_element(dst, element_of(dst, i), src, element_of(src, i));
  });
  return CHORUS_OK;
}

chorus_status run_fill(const BoundOp& op) {
  const Tensor& dst = op[0];
  const double value = op.attrs_as<chorus_fill_attrs>().value;
  for_each_index(dst.rank, dst.shape,
                 [&](const int64_t* i) { store_rounded(dst, element_of(dst, i), value); });
  return CHORUS_OK;
}

// ------------------------------------------------------------------ unary

// The REFERENCE column of unary_table.h, in T.
template <typename T>
T unary_float(int op, T x, T alpha, T beta) {
  (void)alpha;
  (void)beta;
  switch (op) {
#define UNARY_OP(NAME, name, DTYPES, PARAMS, KERNEL, KERNEL_INT, REFERENCE, ...) \
  case CHORUS_UNARY_##NAME:                                                      \
    return REFERENCE;
#include "elementwise/unary_table.h"
#undef UNARY_OP
  }
  return std::numeric_limits<T>::quiet_NaN();  // unreachable: run_unary checks op
}

// The REFERENCE_INT column, for the rows whose DTYPES take integers.
#define INT_CASE_FLOATS(NAME, REFERENCE_INT)
#define INT_CASE_FLOATS_INTS(NAME, REFERENCE_INT) \
  case CHORUS_UNARY_##NAME:                       \
    return REFERENCE_INT;
uint64_t unary_integer(int op, int64_t x, int64_t ai, int64_t bi) {
  (void)ai;
  (void)bi;
  switch (op) {
#define UNARY_OP(NAME, name, DTYPES, PARAMS, KERNEL, KERNEL_INT, REFERENCE, REFERENCE_INT, ...) \
  INT_CASE_##DTYPES(NAME, REFERENCE_INT)
#include "elementwise/unary_table.h"
#undef UNARY_OP
  }
  return 0;  // unreachable: libchorus sends integers only to these ops
}

// Ops that are one correctly rounded IEEE operation: computed in double for
// an f64 output, since long double would round twice.
#define IS_IEEE_IEEE true
#define IS_IEEE_WIDE false
constexpr bool kIeee[] = {
#define UNARY_OP(NAME, name, DTYPES, PARAMS, K, KI, R, RI, CHECK, REF, ...) IS_IEEE_##REF,
#include "elementwise/unary_table.h"
#undef UNARY_OP
};

template <typename T>
void unary_loop(int op, const Tensor& x, const Tensor& y, double alpha, double beta) {
  for_each_index(y.rank, y.shape, [&](const int64_t* i) {
    store_rounded(y, element_of(y, i),
                  unary_float<T>(op, load_as<T>(x, element_of(x, i)), static_cast<T>(alpha),
                                 static_cast<T>(beta)));
  });
}

chorus_status run_unary(const BoundOp& op) {
  const auto& a = op.attrs_as<chorus_unary_attrs>();
  const Tensor& x = op[0];
  const Tensor& y = op[1];
  const int32_t code = a.op;
  if (code < 0 || code >= CHORUS_UNARY_COUNT_)
    return unsupported("unary op " + std::to_string(code) + " is not one the reference knows");
  if (is_integer(y.dtype)) {
    const int64_t ai = numeric::saturate_to_int<int64_t>(a.alpha);
    const int64_t bi = numeric::saturate_to_int<int64_t>(a.beta);
    for_each_index(y.rank, y.shape, [&](const int64_t* i) {
      store_wrapped(y, element_of(y, i),
                    unary_integer(code, load_integer(x, element_of(x, i)), ai, bi));
    });
    return CHORUS_OK;
  }
  // For f32/f16/bf16 outputs double carries more than twice their precision,
  // so rounding to double first never changes the final result.
  if (y.dtype == CHORUS_DTYPE_F64 && !kIeee[code])
    unary_loop<long double>(code, x, y, a.alpha, a.beta);
  else
    unary_loop<double>(code, x, y, a.alpha, a.beta);
  return CHORUS_OK;
}

// --------------------------------------------------------- unary_backward

// dx from unary_grad_table.h's REFERENCE_X (from_y false) or REFERENCE_Y
// column, in T, rounded once to dx's dtype.
template <typename T>
T unary_grad(int op, bool from_y, T v, T g, T alpha, T beta) {
  using namespace grad_math;
  (void)alpha;
  (void)beta;
#define NONE T(std::numeric_limits<T>::quiet_NaN())
  if (!from_y) {
    const T x = v;
    switch (op) {
#define UNARY_GRAD(NAME, name, FROM_Y, KX, KY, REFERENCE_X, ...) \
  case CHORUS_UNARY_##NAME:                                      \
    return REFERENCE_X;
#include "elementwise/unary_grad_table.h"
#undef UNARY_GRAD
    }
  } else {
    [[maybe_unused]] const T y = v;
    switch (op) {
#define UNARY_GRAD(NAME, name, FROM_Y, KX, KY, RX, REFERENCE_Y, ...) \
  case CHORUS_UNARY_##NAME:                                          \
    return REFERENCE_Y;
#include "elementwise/unary_grad_table.h"
#undef UNARY_GRAD
    }
  }
#undef NONE
  return std::numeric_limits<T>::quiet_NaN();  // unreachable: the caller checks op
}

template <typename T>
void unary_grad_loop(int op, bool from_y, const Tensor& in, const Tensor& dy, const Tensor& dx,
                     double alpha, double beta) {
  for_each_index(dx.rank, dx.shape, [&](const int64_t* i) {
    store_rounded(dx, element_of(dx, i),
                  unary_grad<T>(op, from_y, load_as<T>(in, element_of(in, i)),
                                load_as<T>(dy, element_of(dy, i)), static_cast<T>(alpha),
                                static_cast<T>(beta)));
  });
}

chorus_status run_unary_backward(const BoundOp& op) {
  const auto& a = op.attrs_as<chorus_unary_backward_attrs>();
  const int32_t code = a.op;
  if (code < 0 || code >= CHORUS_UNARY_COUNT_ || !grad_row(code))
    return unsupported("unary_backward op " + std::to_string(code) +
                       " is not one the reference knows");
  const Tensor& dx = op[2];
  if (dx.dtype == CHORUS_DTYPE_F64)
    unary_grad_loop<long double>(code, a.from_output != 0, op[0], op[1], dx, a.alpha, a.beta);
  else
    unary_grad_loop<double>(code, a.from_output != 0, op[0], op[1], dx, a.alpha, a.beta);
  return CHORUS_OK;
}

// ----------------------------------------------------------------- binary

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
    case CHORUS_BINARY_COUNT_:
    case CHORUS_BINARY_FORCE32:
      break;
  }
  return std::numeric_limits<T>::quiet_NaN();  // unreachable: run_binary checks op
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
    case CHORUS_BINARY_DIV:
    case CHORUS_BINARY_POW:
    case CHORUS_BINARY_COUNT_:
    case CHORUS_BINARY_FORCE32:
      break;
  }
  return 0;  // unreachable: libchorus sends div and pow floats only
}

template <typename T>
void binary_loop(chorus_binary_op op, const Tensor& a, const Tensor& b, const Tensor& out) {
  for_each_index(out.rank, out.shape, [&](const int64_t* i) {
    const T va = load_as<T>(a, element_of(a, i));
    const T vb = load_as<T>(b, element_of(b, i));
    store_rounded(out, element_of(out, i), binary_float(op, va, vb));
  });
}

chorus_status run_binary(const BoundOp& op) {
  const int32_t code = op.attrs_as<chorus_binary_attrs>().op;
  if (code < 0 || code >= CHORUS_BINARY_COUNT_)
    return unsupported("binary op " + std::to_string(code) + " is not one the reference knows");
  const auto bop = static_cast<chorus_binary_op>(code);
  const Tensor& a = op[0];
  const Tensor& b = op[1];
  const Tensor& out = op[2];
  if (is_integer(out.dtype)) {
    for_each_index(out.rank, out.shape, [&](const int64_t* i) {
      const int64_t va = load_integer(a, element_of(a, i));
      const int64_t vb = load_integer(b, element_of(b, i));
      store_wrapped(out, element_of(out, i), binary_integer(bop, va, vb));
    });
    return CHORUS_OK;
  }
  // As in run_unary: only pow, which IEEE does not round correctly, gains
  // from long double.
  if (out.dtype == CHORUS_DTYPE_F64 && bop == CHORUS_BINARY_POW)
    binary_loop<long double>(bop, a, b, out);
  else
    binary_loop<double>(bop, a, b, out);
  return CHORUS_OK;
}

// --------------------------------------------------------- compare, where

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
    case CHORUS_COMPARE_COUNT_:
    case CHORUS_COMPARE_FORCE32:
      break;
  }
  return false;  // unreachable: run_compare checks op
}

chorus_status run_compare(const BoundOp& op) {
  const int32_t code = op.attrs_as<chorus_compare_attrs>().op;
  if (code < 0 || code >= CHORUS_COMPARE_COUNT_)
    return unsupported("compare op " + std::to_string(code) + " is not one the reference knows");
  const auto cop = static_cast<chorus_compare_op>(code);
  const Tensor& a = op[0];
  const Tensor& b = op[1];
  const Tensor& out = op[2];
  const bool integers = is_integer(a.dtype) && is_integer(b.dtype);
  for_each_index(out.rank, out.shape, [&](const int64_t* i) {
    const int64_t ea = element_of(a, i);
    const int64_t eb = element_of(b, i);
    const bool result = integers
                            ? compare(cop, load_integer(a, ea), load_integer(b, eb))
                            : compare(cop, load_as<long double>(a, ea), load_as<long double>(b, eb));
    store_wrapped(out, element_of(out, i), result ? 1 : 0);
  });
  return CHORUS_OK;
}

chorus_status run_where(const BoundOp& op) {
  const Tensor& condition = op[0];
  const Tensor& a = op[1];
  const Tensor& b = op[2];
  const Tensor& out = op[3];
  for_each_index(out.rank, out.shape, [&](const int64_t* i) {
    const bool take_a = load_integer(condition, element_of(condition, i)) != 0;
    const Tensor& src = take_a ? a : b;
    copy_element(out, element_of(out, i), src, element_of(src, i));
  });
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_COPY, run_copy);
  chorus::reference::register_op(CHORUS_OP_FILL, run_fill);
  chorus::reference::register_op(CHORUS_OP_UNARY, run_unary);
  chorus::reference::register_op(CHORUS_OP_UNARY_BACKWARD, run_unary_backward);
  chorus::reference::register_op(CHORUS_OP_BINARY, run_binary);
  chorus::reference::register_op(CHORUS_OP_COMPARE, run_compare);
  chorus::reference::register_op(CHORUS_OP_WHERE, run_where);
}

}  // namespace chorus::ops::elementwise
