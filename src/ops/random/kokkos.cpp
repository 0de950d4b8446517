// kokkos.cpp — random and dropout on the Kokkos backend, in the elementwise
// normal form: a RangePolicy over Philox blocks, block j writing elements
// 4j .. 4j+3 (row-major) through a Walk of the collapsed layout. Values come
// from philox.h (through random_host.hpp) with the float (double for f64)
// operations of the reference, so every execution space gives the same bits.
#include "kokkos_ops.hpp"
#include "random/random_host.hpp"

namespace chorus::ops::random {

using namespace chorus::kokkos;

struct RandomArgs {
  uint64_t seed, offset;
  int32_t distribution;
  double a, b;
  uint32_t threshold;
};

template <chorus_dtype D>
void random_kernel(const Exec& exec, const Walk<1>& walk, const RandomArgs& r, unsigned char* y) {
  using S = Storage<D>;
  using CT = typename S::compute;
  const int64_t count = walk.count;
  const uint64_t seed = r.seed, offset = r.offset;
  const int32_t distribution = r.distribution;
  const uint32_t threshold = r.threshold;
  const CT lo = static_cast<CT>(r.a), hi = static_cast<CT>(r.b);
  Kokkos::parallel_for(
      "chorus::random", Range(exec, 0, (count + 3) / 4), KOKKOS_LAMBDA(int64_t j) {
        const host::ck_philox_block b = host::ck_random_block(seed, offset, static_cast<uint64_t>(j));
        float z[4] = {};
        if (distribution == CHORUS_RANDOM_NORMAL) host::ck_normal_block(b, z);
        for (int lane = 0; lane < 4 && 4 * j + lane < count; ++lane) {
          int64_t at[1];
          walk.locate(4 * j + lane, at);
          if constexpr (is_integer_dtype(D)) {
            S::store(y, at[0], host::ck_below(b.w[lane], threshold) ? 1 : 0);
          } else {
            CT v;
            if (distribution == CHORUS_RANDOM_UNIFORM) {
              const CT u = static_cast<CT>(host::ck_uniform01(b.w[lane]));
              const CT width = hi - lo;
              const CT scaled = width * u;
              v = lo + scaled;
            } else if (distribution == CHORUS_RANDOM_NORMAL) {
              const CT scaled = hi * static_cast<CT>(z[lane]);
              v = lo + scaled;
            } else {
              v = host::ck_below(b.w[lane], threshold) ? CT(1) : CT(0);
            }
            S::store(y, at[0], v);
          }
        }
      });
}

chorus_status check_random(const BoundOp& op) {
  const auto a = attrs_of<chorus_random_attrs>(op);
  const int32_t dist = static_cast<int32_t>(a.distribution);
  const chorus_dtype d = op[0].dtype;
  if (dist < CHORUS_RANDOM_UNIFORM || dist > CHORUS_RANDOM_BERNOULLI)
    return unsupported("random", "distribution " + std::to_string(dist) + " is not one it knows");
  if (!is_known_dtype(d) || (!is_float_dtype(d) && dist != CHORUS_RANDOM_BERNOULLI))
    return unsupported_dtype("random", d);
  return CHORUS_OK;
}

// check_random ran when the op was created (the backend's op_create).
chorus_status run_random(const Exec& exec, const BoundOp& op) {
  const auto a = attrs_of<chorus_random_attrs>(op);
  const chorus_backend_tensor& y = op[0];
  const chorus_backend_tensor* const views[1] = {&y};
  const Walk<1> walk = make_walk<1>(0, y.rank, y.shape, views);
  const RandomArgs r{a.seed, a.offset, static_cast<int32_t>(a.distribution), a.a, a.b,
                     host::threshold_of(a.distribution == CHORUS_RANDOM_BERNOULLI ? a.a : 0.0)};
  const auto launch = [&]<chorus_dtype D>() { random_kernel<D>(exec, walk, r, data_of(y)); };
  if (!with_float_dtype(y.dtype, launch)) with_integer_dtype(y.dtype, launch);
  return CHORUS_OK;
}

struct DropoutArgs {
  uint64_t seed, offset;
  uint32_t threshold;
  double scale;
  bool has_mask;
};

// Walk views: 0 x, 1 y, 2 mask.
template <chorus_dtype D>
void dropout_kernel(const Exec& exec, const Walk<3>& walk, const DropoutArgs& r,
                    const unsigned char* x, unsigned char* y, unsigned char* mask) {
  using S = Storage<D>;
  using CT = typename S::compute;
  const int64_t count = walk.count;
  Kokkos::parallel_for(
      "chorus::dropout", Range(exec, 0, (count + 3) / 4), KOKKOS_LAMBDA(int64_t j) {
        const host::ck_philox_block b =
            host::ck_random_block(r.seed, r.offset, static_cast<uint64_t>(j));
        const CT scale = static_cast<CT>(r.scale);
        for (int lane = 0; lane < 4 && 4 * j + lane < count; ++lane) {
          int64_t at[3];
          walk.locate(4 * j + lane, at);
          const bool keep = !host::ck_below(b.w[lane], r.threshold);
          const CT v = S::load(x, at[0]);
          const CT m = keep ? scale : CT(0);
          S::store(y, at[1], v * m);
          if (r.has_mask) mask[at[2]] = keep ? 1 : 0;
        }
      });
}

chorus_status check_dropout(const BoundOp& op) {
  const chorus_dtype d = op[1].dtype;
  if (!is_float_dtype(d) || op[0].dtype != d) return unsupported_dtype("dropout", d);
  if (op.has(2) && op[2].dtype != CHORUS_DTYPE_U8) return unsupported_dtype("dropout", op[2].dtype);
  return CHORUS_OK;
}

// check_dropout ran when the op was created.
chorus_status run_dropout(const Exec& exec, const BoundOp& op) {
  const auto a = attrs_of<chorus_dropout_attrs>(op);
  const bool has_mask = op.has(2);
  const chorus_backend_tensor* const views[3] = {&op[0], &op[1], has_mask ? &op[2] : nullptr};
  const Walk<3> walk = make_walk<3>(0, op[1].rank, op[1].shape, views);
  const DropoutArgs r{a.seed, a.offset, host::threshold_of(a.p), host::dropout_scale(a.p),
                      has_mask};
  unsigned char* mask = has_mask ? data_of(op[2]) : nullptr;
  const auto launch = [&]<chorus_dtype D>() {
    dropout_kernel<D>(exec, walk, r, data_of(op[0]), data_of(op[1]), mask);
  };
  with_float_dtype(op[1].dtype, launch);
  return CHORUS_OK;
}

void register_kokkos() {
  register_op(CHORUS_OP_RANDOM, {sizeof(chorus_random_attrs), check_random, run_random});
  register_op(CHORUS_OP_DROPOUT, {sizeof(chorus_dropout_attrs), check_dropout, run_dropout});
}

}  // namespace chorus::ops::random
