// reference.cpp — the oracle's random and dropout: element i (row-major)
// takes word i % 4 of Philox block i / 4 (philox.h, through
// random_host.hpp), and its value is computed with the very float (double
// for f64) operations of the kernels, in the same order, each rounded on its
// own. Random numbers have no "more exact" value to compare with: the
// suite demands the same bits from every backend, and the reference is the
// definition.
#include "random/random_host.hpp"
#include "reference_common.hpp"

namespace chorus::ops::random {
namespace {

using namespace chorus::reference;
using host::ck_philox_block;
using host::U32;

// Calls visit(element i, index) for every element of t's shape, row-major.
template <typename Visit>
void for_each_element(const Tensor& t, Visit&& visit) {
  int64_t i = 0;
  for_each_index(t.rank, t.shape, [&](const int64_t* index) { visit(i++, index); });
}

// The block of element i (and its normals, when asked for), computed once
// per four elements.
struct Blocks {
  uint64_t seed, offset;
  bool normals = false;
  uint64_t current = ~uint64_t{0};
  ck_philox_block block{};
  float z[4] = {};
  void reach(int64_t i) {
    const auto j = static_cast<uint64_t>(i) / 4;
    if (j == current) return;
    block = host::ck_random_block(seed, offset, j);
    if (normals) host::ck_normal_block(block, z);
    current = j;
  }
  U32 word(int64_t i) {
    reach(i);
    return block.w[i % 4];
  }
  float normal(int64_t i) {
    reach(i);
    return z[i % 4];
  }
};

template <typename CT>
void random_loop(const Tensor& y, const chorus_random_attrs& a) {
  Blocks blocks{a.seed, a.offset, a.distribution == CHORUS_RANDOM_NORMAL};
  const auto lo = static_cast<CT>(a.a), hi = static_cast<CT>(a.b);
  const U32 threshold = host::threshold_of(a.a);
  for_each_element(y, [&](int64_t i, const int64_t* index) {
    const int64_t e = element_of(y, index);
    switch (a.distribution) {
      case CHORUS_RANDOM_UNIFORM: {
        const CT u = static_cast<CT>(host::ck_uniform01(blocks.word(i)));
        const CT width = hi - lo;
        const CT scaled = width * u;
        store_rounded(y, e, lo + scaled);
        break;
      }
      case CHORUS_RANDOM_NORMAL: {
        const CT z = static_cast<CT>(blocks.normal(i));
        const CT scaled = hi * z;
        store_rounded(y, e, lo + scaled);
        break;
      }
      default:  // bernoulli
        store_rounded(y, e, host::ck_below(blocks.word(i), threshold) ? 1 : 0);
        break;
    }
  });
}

chorus_status run_random(const BoundOp& op) {
  const auto& a = op.attrs_as<chorus_random_attrs>();
  if (op[0].dtype == CHORUS_DTYPE_F64)
    random_loop<double>(op[0], a);
  else
    random_loop<float>(op[0], a);
  return CHORUS_OK;
}

template <typename CT>
void dropout_loop(const Tensor& x, const Tensor& y, const Tensor* mask, double p, uint64_t seed,
                  uint64_t offset) {
  Blocks blocks{seed, offset};
  const U32 threshold = host::threshold_of(p);
  const auto scale = static_cast<CT>(host::dropout_scale(p));
  for_each_element(y, [&](int64_t i, const int64_t* index) {
    const bool keep = !host::ck_below(blocks.word(i), threshold);
    const CT v = load_as<CT>(x, element_of(x, index));
    const CT m = keep ? scale : CT(0);
    store_rounded(y, element_of(y, index), v * m);
    if (mask) store_wrapped(*mask, element_of(*mask, index), keep ? 1 : 0);
  });
}

chorus_status run_dropout(const BoundOp& op) {
  const auto& a = op.attrs_as<chorus_dropout_attrs>();
  const Tensor* mask = op.has(2) ? &op[2] : nullptr;
  // y may be x itself: each element is read before it is written, and no
  // other element reads it.
  if (op[1].dtype == CHORUS_DTYPE_F64)
    dropout_loop<double>(op[0], op[1], mask, a.p, a.seed, a.offset);
  else
    dropout_loop<float>(op[0], op[1], mask, a.p, a.seed, a.offset);
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_RANDOM, run_random);
  chorus::reference::register_op(CHORUS_OP_DROPOUT, run_dropout);
}

}  // namespace chorus::ops::random
