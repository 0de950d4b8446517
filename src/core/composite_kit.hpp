// composite_kit.hpp — what composites of row ops (softmax, the norms) are
// written with: temporaries shaped like the op's rows, and the primitive ops
// over the row axis (the last one, in the normal form). Values are carried
// in the compute dtype (f32 for 16-bit data), so a composite keeps the
// accuracy the op's bound assumes, and y is written once, at the end.
#pragma once

#include "core/op_schema.hpp"

namespace chorus::core {

class RowTemps {
 public:
  RowTemps(Lowering& l, const View& input)
      : l_(l), source_(input), ct_(compute_dtype(input.dtype)), x(input) {}

  // x in the compute dtype (a converted copy when x is 16-bit).
  chorus_status load_x() {
    if (source_.dtype == ct_) return CHORUS_OK;
    x = full_temp();
    return l_.run(CHORUS_OP_COPY, nullptr, {&source_, &x});
  }
  // A temporary of x's shape, or with extent 1 on the row axis.
  View full_temp() { return l_.temporary(ct_, source_.rank, source_.shape); }
  View row_temp() {
    int64_t shape[CHORUS_MAX_RANK];
    std::copy(source_.shape, source_.shape + source_.rank, shape);
    shape[source_.rank - 1] = 1;
    return l_.temporary(ct_, source_.rank, shape);
  }
  // A per-feature parameter (x's shape, stride 0 off the row axis) as one
  // row in the compute dtype.
  chorus_status load_row_param(const View& p, View* out) {
    View row = p;
    for (uint32_t i = 0; i + 1 < row.rank; ++i) {
      row.shape[i] = 1;
      row.strides[i] = 0;
    }
    if (p.dtype == ct_) {
      *out = row;
      return CHORUS_OK;
    }
    *out = l_.temporary(ct_, row.rank, row.shape);
    return l_.run(CHORUS_OP_COPY, nullptr, {&row, out});
  }
  // A one-element tensor holding value, broadcastable to anything.
  chorus_status constant(double value, View* out) {
    const int64_t one = 1;
    *out = l_.temporary(ct_, 1, &one);
    const chorus_fill_attrs attrs{sizeof attrs, 0, value};
    return l_.run(CHORUS_OP_FILL, &attrs, {out});
  }

  chorus_status reduce(chorus_reduce_op op, const View& in, const View& out) {
    const chorus_reduce_attrs attrs{sizeof attrs, op, 1u << (in.rank - 1)};
    return l_.run(CHORUS_OP_REDUCE, &attrs, {&in, &out});
  }
  chorus_status binary(chorus_binary_op op, const View& a, const View& b, const View& out) {
    const chorus_binary_attrs attrs{sizeof attrs, op};
    return l_.run(CHORUS_OP_BINARY, &attrs, {&a, &b, &out});
  }
  chorus_status unary(chorus_unary_op op, const View& in, const View& out) {
    const chorus_unary_attrs attrs{sizeof attrs, op, 0, 0};
    return l_.run(CHORUS_OP_UNARY, &attrs, {&in, &out});
  }

  // write(target) computes the result into target: y itself when y has the
  // compute dtype, else a temporary then converted into y.
  template <typename Write>
  chorus_status store_y(const View& y, Write&& write) {
    if (y.dtype == ct_) return write(y);
    const View wide = full_temp();
    if (auto s = write(wide)) return s;
    return l_.run(CHORUS_OP_COPY, nullptr, {&wide, &y});
  }

 private:
  Lowering& l_;
  View source_;
  chorus_dtype ct_;

 public:
  View x;
};

}  // namespace chorus::core
