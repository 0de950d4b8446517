// reference.cpp — the oracle's index ops. gather and scatter_add arrive in
// their normal form (schema.cpp: the axis last); embedding and
// embedding_backward as the caller passed them (table [V, D], index of any
// rank, out or dy index's shape + [D]): the reference computes them
// directly, not as the gather and scatter-add views the other backends run,
// so the suite checks those views against an independent answer.
//
// Copies are bit copies. Sums are formed in long double,
// rounded once when stored; integers wrap. An index outside the
// indexed extent reads as 0 (gather, embedding) or is skipped (scatter_add,
// embedding_backward).
#include <vector>

#include "reference_common.hpp"

namespace chorus::ops::index {
namespace {

using namespace chorus::reference;

bool in_range(int64_t i, int64_t extent) {
  return i >= 0 && i < extent;
}

void store_zero(const Tensor& t, int64_t element) {
  if (is_integer(t.dtype))
    store_wrapped(t, element, 0);
  else
    store_rounded(t, element, 0.0L);
}

// One sum per element of a row of `n` destinations: floats in long double, integers
// as wrapping uint64 bits; `hit` says whether anything reached it.
struct Sums {
  std::vector<long double> value;
  std::vector<uint64_t> bits;
  std::vector<char> hit;
  explicit Sums(int64_t n)
      : value(static_cast<size_t>(n)), bits(static_cast<size_t>(n)), hit(static_cast<size_t>(n)) {}
  void add(int64_t j, const Tensor& src, int64_t element) {
    const auto at = static_cast<size_t>(j);
    hit[at] = 1;
    if (is_integer(src.dtype)) {
      bits[at] += static_cast<uint64_t>(load_integer(src, element));
    } else {
      value[at] += load_as<long double>(src, element);
    }
  }
  // out = out + sum, once, where anything arrived.
  void store(int64_t j, const Tensor& out, int64_t element, bool accumulate) const {
    const auto at = static_cast<size_t>(j);
    if (!hit[at]) {
      if (!accumulate) store_zero(out, element);
      return;
    }
    if (is_integer(out.dtype)) {
      const uint64_t old = accumulate ? static_cast<uint64_t>(load_integer(out, element)) : 0;
      store_wrapped(out, element, old + bits[at]);
    } else {
      store_rounded(out, element,
                    (accumulate ? load_as<long double>(out, element) : 0) + value[at]);
    }
  }
};

chorus_status run_gather(const BoundOp& op) {
  const Tensor& x = op[0];
  const Tensor& ix = op[1];
  const Tensor& out = op[2];
  const uint32_t last = out.rank - 1;
  for_each_index(out.rank, out.shape, [&](const int64_t* i) {
    const int64_t j = load_integer(ix, element_of(ix, i));
    const int64_t o = element_of(out, i);
    if (!in_range(j, x.shape[last])) return store_zero(out, o);
    int64_t at[CHORUS_MAX_RANK];
    for (uint32_t k = 0; k < out.rank; ++k) at[k] = i[k];
    at[last] = j;
    copy_element(out, o, x, element_of(x, at));
  });
  return CHORUS_OK;
}

chorus_status run_scatter_add(const BoundOp& op) {
  const Tensor& ix = op[0];
  const Tensor& src = op[1];
  const Tensor& out = op[2];
  const uint32_t last = out.rank - 1;
  for_each_index(last, out.shape, [&](const int64_t* p) {
    int64_t at[CHORUS_MAX_RANK];
    for (uint32_t k = 0; k < last; ++k) at[k] = p[k];
    Sums sums(out.shape[last]);
    for (int64_t m = 0; m < ix.shape[last]; ++m) {
      at[last] = m;
      const int64_t j = load_integer(ix, element_of(ix, at));
      if (in_range(j, out.shape[last])) sums.add(j, src, element_of(src, at));
    }
    for (int64_t j = 0; j < out.shape[last]; ++j) {
      at[last] = j;
      sums.store(j, out, element_of(out, at), true);
    }
  });
  return CHORUS_OK;
}

// table [V, D], index (rank r), out [index..., D].
chorus_status run_embedding(const BoundOp& op) {
  const Tensor& table = op[0];
  const Tensor& ix = op[1];
  const Tensor& out = op[2];
  const uint32_t r = ix.rank;
  for_each_index(out.rank, out.shape, [&](const int64_t* i) {
    const int64_t v = load_integer(ix, element_of(ix, i));
    const int64_t o = element_of(out, i);
    if (!in_range(v, table.shape[0])) return store_zero(out, o);
    const int64_t at[2] = {v, i[r]};
    copy_element(out, o, table, element_of(table, at));
  });
  return CHORUS_OK;
}

// index (rank r), dy [index..., D], dtable [V, D].
chorus_status run_embedding_backward(const BoundOp& op) {
  const Tensor& ix = op[0];
  const Tensor& dy = op[1];
  const Tensor& dtable = op[2];
  const int64_t rows = dtable.shape[0], d = dtable.shape[1];
  int64_t terms = 1;
  for (uint32_t k = 0; k < ix.rank; ++k) terms *= ix.shape[k];
  for (int64_t col = 0; col < d; ++col) {
    Sums sums(rows);
    // for_each_index visits one index even of an empty shape.
    if (terms != 0)
      for_each_index(ix.rank, ix.shape, [&](const int64_t* i) {
        const int64_t v = load_integer(ix, element_of(ix, i));
        if (!in_range(v, rows)) return;
        int64_t at[CHORUS_MAX_RANK];
        for (uint32_t k = 0; k < ix.rank; ++k) at[k] = i[k];
        at[ix.rank] = col;
        sums.add(v, dy, element_of(dy, at));
      });
    for (int64_t v = 0; v < rows; ++v) {
      const int64_t at[2] = {v, col};
      sums.store(v, dtable, element_of(dtable, at), false);
    }
  }
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_GATHER, run_gather);
  chorus::reference::register_op(CHORUS_OP_SCATTER_ADD, run_scatter_add);
  chorus::reference::register_op(CHORUS_OP_EMBEDDING, run_embedding);
  chorus::reference::register_op(CHORUS_OP_EMBEDDING_BACKWARD, run_embedding_backward);
}

}  // namespace chorus::ops::index
