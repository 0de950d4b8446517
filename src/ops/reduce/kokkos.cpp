// kokkos.cpp — the reduce family on the Kokkos backend: reductions over the
// trailing axes (sum, mean, max, min) and argmax over the last axis, in the
// rows normal form (backend.h): the reduced axes are the last ones, collapsed
// apart from the outer axes by libchorus, and out has extent 1, stride 0
// there.
//
// reduce: two RangePolicy passes. Each row (one output element) is cut into
// chunks of a fixed length; the first pass folds every (row, chunk) pair in
// order into a partial, the second folds a row's partials in order and
// stores. The cut depends only on the row length, never on the number of
// threads or the execution space, so float sums come out bit-identical on
// every run and every Kokkos build (which Kokkos's own parallel_reduce does
// not promise). Rows of at most one chunk skip the first pass.
//
// argmax: a TeamPolicy, one team per row, with a nested parallel_reduce over
// TeamThreadRange and a reducer whose combine (largest value, NaN largest,
// lowest index on ties) is exact, hence independent of join order.
#include <string>

#include "kokkos_ops.hpp"

namespace chorus::ops::reduce {

// Kernels live in this named namespace, not an unnamed one: device compilers
// (nvcc) refuse extended lambdas in unnamed namespaces.
using namespace chorus::kokkos;

namespace {
// Elements one work item folds sequentially.
constexpr int64_t kChunk = 4096;
}  // namespace

// Folds: an accumulator, its identity, and how a value (or another partial)
// enters it.
template <typename T>
struct SumFold {
  using acc = T;
  KOKKOS_INLINE_FUNCTION static T identity() { return T(0); }
  KOKKOS_INLINE_FUNCTION static void add(T& a, T v) { a += v; }
};
template <typename T>
struct MaxFold {
  using acc = T;
  KOKKOS_INLINE_FUNCTION static T identity() { return -infinity<T>(); }
  KOKKOS_INLINE_FUNCTION static void add(T& a, T v) { a = maximum(a, v); }
};
template <typename T>
struct MinFold {
  using acc = T;
  KOKKOS_INLINE_FUNCTION static T identity() { return infinity<T>(); }
  KOKKOS_INLINE_FUNCTION static void add(T& a, T v) { a = minimum(a, v); }
};
// Integer sums wrap modulo 2^64; the store keeps the dtype's low bits.
struct WrappingSumFold {
  using acc = int64_t;
  KOKKOS_INLINE_FUNCTION static int64_t identity() { return 0; }
  KOKKOS_INLINE_FUNCTION static void add(int64_t& a, int64_t v) {
    a = static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(v));
  }
};
struct IntMaxFold {
  using acc = int64_t;
  KOKKOS_INLINE_FUNCTION static int64_t identity() { return INT64_MIN; }
  KOKKOS_INLINE_FUNCTION static void add(int64_t& a, int64_t v) { a = v > a ? v : a; }
};
struct IntMinFold {
  using acc = int64_t;
  KOKKOS_INLINE_FUNCTION static int64_t identity() { return INT64_MAX; }
  KOKKOS_INLINE_FUNCTION static void add(int64_t& a, int64_t v) { a = v < a ? v : a; }
};

// Folds the row elements [begin, end) that start at `base`. A dense or
// single-strided row goes into four interleaved accumulators, joined in a
// fixed order at the end: still one order for a given row length, but four
// independent dependency chains instead of one.
template <chorus_dtype D, class Fold>
KOKKOS_INLINE_FUNCTION typename Fold::acc fold_range(const Walk<1>& inner, const unsigned char* x,
                                                     int64_t base, int64_t begin, int64_t end) {
  using S = Storage<D>;
  using A = typename Fold::acc;
  if (inner.rank > 1) {
    A acc = Fold::identity();
    walk_range(inner, base, begin, end, [&](int64_t e) { Fold::add(acc, S::load(x, e)); });
    return acc;
  }
  const int64_t s = inner.rank == 1 ? inner.stride[0][0] : 0;
  A a0 = Fold::identity(), a1 = Fold::identity(), a2 = Fold::identity(), a3 = Fold::identity();
  int64_t j = begin;
  for (; j + 4 <= end; j += 4) {
    Fold::add(a0, S::load(x, base + j * s));
    Fold::add(a1, S::load(x, base + (j + 1) * s));
    Fold::add(a2, S::load(x, base + (j + 2) * s));
    Fold::add(a3, S::load(x, base + (j + 3) * s));
  }
  for (; j < end; ++j) Fold::add(a0, S::load(x, base + j * s));
  Fold::add(a0, a1);
  Fold::add(a2, a3);
  Fold::add(a0, a2);
  return a0;
}

template <chorus_dtype D, class Fold>
void reduce_kernel(const Exec& exec, const Walk<2>& rows, const Walk<1>& inner, bool mean,
                   const unsigned char* x, unsigned char* out) {
  using S = Storage<D>;
  using A = typename Fold::acc;
  const int64_t n = inner.count;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  if (chunks <= 1) {
    Kokkos::parallel_for(
        "chorus::reduce", Range(exec, 0, rows.count), KOKKOS_LAMBDA(int64_t r) {
          int64_t at[2];
          rows.locate(r, at);
          A acc = fold_range<D, Fold>(inner, x, at[0], 0, n);
          if (mean) acc /= static_cast<A>(n);
          S::store(out, at[1], acc);
        });
    return;
  }
  Kokkos::View<A*, Memory> partial(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "chorus::reduce partials"),
      rows.count * chunks);
  Kokkos::parallel_for(
      "chorus::reduce_chunks", Range(exec, 0, rows.count * chunks), KOKKOS_LAMBDA(int64_t item) {
        const int64_t r = item / chunks;
        const int64_t c = item - r * chunks;
        int64_t at[2];
        rows.locate(r, at);
        const int64_t end = (c + 1) * kChunk < n ? (c + 1) * kChunk : n;
        partial(item) = fold_range<D, Fold>(inner, x, at[0], c * kChunk, end);
      });
  Kokkos::parallel_for(
      "chorus::reduce_rows", Range(exec, 0, rows.count), KOKKOS_LAMBDA(int64_t r) {
        int64_t at[2];
        rows.locate(r, at);
        A acc = Fold::identity();
        for (int64_t c = 0; c < chunks; ++c) Fold::add(acc, partial(r * chunks + c));
        if (mean) acc /= static_cast<A>(n);
        S::store(out, at[1], acc);
      });
  // The partials are freed on return; a device space may still be running.
  exec.fence();
}

// How many trailing axes reduce's axes_mask names: the normal form's mask is
// the last k axes of x, out has x's rank; anything else is a layout this
// backend does not take (0).
uint32_t reduced_axes(const BoundOp& op) {
  const uint32_t mask = attrs_of<chorus_reduce_attrs>(op).axes_mask;
  const uint32_t rank = op[0].rank;
  const uint32_t k = static_cast<uint32_t>(__builtin_popcount(mask));
  if (k == 0 || k > rank || op[1].rank != rank) return 0;
  return mask == ((1u << k) - 1u) << (rank - k) ? k : 0;
}

chorus_status check_reduce(const BoundOp& op) {
  const int32_t code = attrs_of<chorus_reduce_attrs>(op).op;
  const chorus_dtype dtype = op[0].dtype;
  if (code < 0 || code >= CHORUS_REDUCE_COUNT_)
    return unsupported("reduce", "op " + std::to_string(code) + " is not one this backend knows");
  if (reduced_axes(op) == 0)
    return unsupported("reduce", "axes_mask " +
                                     std::to_string(attrs_of<chorus_reduce_attrs>(op).axes_mask) +
                                     " does not name the last axes of x (rank " +
                                     std::to_string(op[0].rank) + ")");
  if (op[1].dtype != dtype) return unsupported("reduce", "x and out must share one dtype");
  const bool ok = code == CHORUS_REDUCE_MEAN  ? is_float_dtype(dtype)
                  : code == CHORUS_REDUCE_SUM ? is_float_dtype(dtype) || is_signed_int_dtype(dtype)
                                              : is_known_dtype(dtype);  // max, min
  if (!ok)
    return unsupported("reduce",
                       "op " + std::to_string(code) + " does not take " + dtype_name(dtype));
  return CHORUS_OK;
}

chorus_status run_reduce(const Exec& exec, const BoundOp& op) {
  const chorus_backend_tensor& x = op[0];
  const chorus_backend_tensor& out = op[1];
  const int32_t code = attrs_of<chorus_reduce_attrs>(op).op;
  const uint32_t reduced = reduced_axes(op);
  if (reduced == 0) return check_reduce(op);
  const uint32_t kept = x.rank - reduced;
  // Output elements walk the kept (leading) axes of x and out alike; each
  // one's reduction walks x's trailing axes from there.
  const chorus_backend_tensor* const both[2] = {&x, &out};
  const Walk<2> rows = make_walk<2>(0, kept, x.shape, both);
  chorus_backend_tensor x_inner = x;
  x_inner.offset = 0;
  const chorus_backend_tensor* const only_x[1] = {&x_inner};
  const Walk<1> inner = make_walk<1>(kept, reduced, x.shape, only_x);

  bool launched = false;
  if (code == CHORUS_REDUCE_SUM || code == CHORUS_REDUCE_MEAN) {
    const bool mean = code == CHORUS_REDUCE_MEAN;
    launched = with_float_dtype(x.dtype, [&]<chorus_dtype D>() {
      using T = typename Storage<D>::compute;
      reduce_kernel<D, SumFold<T>>(exec, rows, inner, mean, data_of(x), data_of(out));
    });
    if (!launched && !mean)
      launched = with_signed_int_dtype(x.dtype, [&]<chorus_dtype D>() {
        reduce_kernel<D, WrappingSumFold>(exec, rows, inner, false, data_of(x), data_of(out));
      });
  } else if (code == CHORUS_REDUCE_MAX || code == CHORUS_REDUCE_MIN) {
    const bool max = code == CHORUS_REDUCE_MAX;
    launched = with_float_dtype(x.dtype, [&]<chorus_dtype D>() {
      using T = typename Storage<D>::compute;
      if (max)
        reduce_kernel<D, MaxFold<T>>(exec, rows, inner, false, data_of(x), data_of(out));
      else
        reduce_kernel<D, MinFold<T>>(exec, rows, inner, false, data_of(x), data_of(out));
    });
    if (!launched)
      launched = with_integer_dtype(x.dtype, [&]<chorus_dtype D>() {
        if (max)
          reduce_kernel<D, IntMaxFold>(exec, rows, inner, false, data_of(x), data_of(out));
        else
          reduce_kernel<D, IntMinFold>(exec, rows, inner, false, data_of(x), data_of(out));
      });
  }
  if (!launched) return check_reduce(op);
  return CHORUS_OK;
}

// ----------------------------------------------------------------- argmax

template <typename K>
struct Best {
  K value;
  int64_t index;  // -1: the identity, no element seen yet
  KOKKOS_INLINE_FUNCTION static Best copy(const volatile Best& from) {
    return Best{from.value, from.index};
  }
  KOKKOS_INLINE_FUNCTION void assign(const Best& from) volatile {
    value = from.value;
    index = from.index;
  }
};

// The first largest element; NaN beats everything, the first NaN the rest.
template <typename K>
struct BestCombine {
  using value_type = Best<K>;
  KOKKOS_INLINE_FUNCTION static Best<K> identity() { return Best<K>{K(0), -1}; }
  KOKKOS_INLINE_FUNCTION static Best<K> combine(const Best<K>& a, const Best<K>& b) {
    if (a.index < 0) return b;
    if (b.index < 0) return a;
    const bool a_nan = is_nan(a.value);
    const bool b_nan = is_nan(b.value);
    if (a_nan != b_nan) return a_nan ? a : b;
    if (!a_nan && a.value != b.value) return a.value > b.value ? a : b;
    return a.index < b.index ? a : b;
  }
};

template <chorus_dtype D>
void argmax_kernel(const Exec& exec, const Walk<2>& rows, int64_t n, int64_t stride,
                   const unsigned char* x, unsigned char* out) {
  using S = Storage<D>;
  using K = typename S::compute;
  Kokkos::parallel_for(
      "chorus::argmax", TeamPolicy(exec, rows.count, Kokkos::AUTO),
      KOKKOS_LAMBDA(const Member& team) {
        int64_t at[2];
        rows.locate(team.league_rank(), at);
        Best<K> best = BestCombine<K>::identity();
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, n),
            [&](int64_t j, Best<K>& local) {
              local = BestCombine<K>::combine(local, Best<K>{S::load(x, at[0] + j * stride), j});
            },
            ExactReducer<BestCombine<K>>(best));
        Kokkos::single(Kokkos::PerTeam(team),
                       [&]() { store_bits<int64_t>(out, at[1], best.index); });
      });
}

chorus_status check_argmax(const BoundOp& op) {
  const chorus_backend_tensor& x = op[0];
  const int32_t axis = attrs_of<chorus_argmax_attrs>(op).axis;
  if (x.rank == 0 || axis != static_cast<int32_t>(x.rank) - 1 || op[1].rank != x.rank)
    return unsupported("argmax", "axis " + std::to_string(axis) +
                                     " is not the last axis of x (rank " + std::to_string(x.rank) +
                                     ")");
  if (!is_known_dtype(x.dtype)) return unsupported_dtype("argmax", x.dtype);
  if (op[1].dtype != CHORUS_DTYPE_I64) return unsupported_dtype("argmax", op[1].dtype);
  return CHORUS_OK;
}

chorus_status run_argmax(const Exec& exec, const BoundOp& op) {
  const chorus_backend_tensor& x = op[0];
  const chorus_backend_tensor& out = op[1];
  const uint32_t last = x.rank - 1;
  const chorus_backend_tensor* const both[2] = {&x, &out};
  const Walk<2> rows = make_walk<2>(0, last, x.shape, both);
  const auto launch = [&]<chorus_dtype D>() {
    argmax_kernel<D>(exec, rows, x.shape[last], x.strides[last], data_of(x), data_of(out));
  };
  if (!with_float_dtype(x.dtype, launch) && !with_integer_dtype(x.dtype, launch))
    return check_argmax(op);
  return CHORUS_OK;
}

void register_kokkos() {
  register_op(CHORUS_OP_REDUCE, {sizeof(chorus_reduce_attrs), check_reduce, run_reduce});
  register_op(CHORUS_OP_ARGMAX, {sizeof(chorus_argmax_attrs), check_argmax, run_argmax});
}

}  // namespace chorus::ops::reduce
