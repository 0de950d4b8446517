/* rows.h — addressing shared by the row kernels (reduce, argmax, softmax,
 * layer norm, RMS norm). A row op sees `rows` independent rows of `n`
 * elements; the definitions fix how rows are walked:
 *   ROW_LAYOUT   ROW_CONTIG (one inner axis of stride 1 for every operand:
 *                vector loads), ROW_STRIDED (one inner axis, any stride),
 *                ROW_GENERIC (several inner axes, reduce and argmax only);
 *   ROW_THREADS  work-items that share one row (a power of two; 1 on CPUs,
 *                where a work-item walks its row with VW-lane vectors and
 *                no barrier is ever needed);
 *   RPG          rows per work-group when ROW_THREADS is 1.
 * Work-item (tid, row) visits the row's full VW-vectors k*VW with
 * k = tid, tid + ROW_THREADS, ...; the elements after the last full vector
 * (fewer than VW) go to threads 0, 1, ... in turn. Every combination
 * happens in one fixed order, so results are bitwise reproducible.
 */
#define T STORAGE(DT)
#define CT COMPUTE(DT)
#define VCT VCOMPUTE(DT)
#define vfrom_f VF_FROM_ARRAY
#define vfrom_d VD_FROM_ARRAY
#define vto_f VF_TO_ARRAY
#define vto_d VD_TO_ARRAY
#define VCT_FROM_ARRAY(a) CAT(vfrom_, CLASS(DT))(a)
#define VCT_TO_ARRAY(v, a) CAT(vto_, CLASS(DT))((v), (a))

/* The row this work-item works on, and its thread index within the row.
 * ROW_SKIP_PAST_END leaves work-items of the last group that have no row.
 * With several threads per row the grid has exactly one group per row and
 * nothing may return before the barriers (PoCL 3.1 hangs or corrupts memory
 * on a return that precedes a barrier, even a uniform one). */
#if ROW_THREADS > 1
#define ROW_INDEX() group_id(1)
#define ROW_SKIP_PAST_END(row)
#else
#define ROW_INDEX() (group_id(1) * RPG + local_id(1))
#define ROW_SKIP_PAST_END(row) \
  if ((row) >= a.rows) return;
#endif
#define ROW_THREAD() (local_id(0))

/* Element offsets of the start of `row` for operands 0 .. operands-1. */
DEVICE_FN void row_bases(const ck_rows* a, I64 row, int operands, I64* base) {
  for (int t = 0; t < operands; ++t) base[t] = a->offset[t];
  for (I64 d = a->outer_rank - 1; d >= 0; --d) {
    const I64 q = row % a->outer_shape[d];
    row /= a->outer_shape[d];
    for (int t = 0; t < operands; ++t) base[t] += q * a->outer_strides[t][d];
  }
}

/* Offset of element j of operand t's row that starts at base. */
DEVICE_FN I64 row_at(const ck_rows* a, int t, I64 base, I64 j) {
#if ROW_LAYOUT == ROW_CONTIG
  return base + j;
#elif ROW_LAYOUT == ROW_STRIDED
  return base + j * a->inner_strides[t][0];
#else
  I64 off = base;
  for (I64 d = a->inner_rank - 1; d >= 0; --d) {
    const I64 q = j % a->inner_shape[d];
    j /= a->inner_shape[d];
    off += q * a->inner_strides[t][d];
  }
  return off;
#endif
}

/* VW consecutive row elements j .. j+VW-1 as a vector. */
DEVICE_FN VCT row_loadv(const GLOBAL T* p, const ck_rows* a, int t, I64 base, I64 j) {
#if ROW_LAYOUT == ROW_CONTIG
  return LOADV(DT, p, base + j);
#else
  CT lanes[VW];
  PRAGMA_UNROLL
  for (int l = 0; l < VW; ++l) lanes[l] = LOAD(DT, p, row_at(a, t, base, j + l));
  return VCT_FROM_ARRAY(lanes);
#endif
}

DEVICE_FN void row_storev(GLOBAL T* p, const ck_rows* a, int t, I64 base, I64 j, VCT v) {
#if ROW_LAYOUT == ROW_CONTIG
  STOREV(DT, p, base + j, v);
#else
  CT lanes[VW];
  VCT_TO_ARRAY(v, lanes);
  PRAGMA_UNROLL
  for (int l = 0; l < VW; ++l) STORE(DT, p, row_at(a, t, base, j + l), lanes[l]);
#endif
}

/* Loop over this thread's full vectors of [begin, end): j is the first
 * element of each. Then over this thread's share of the tail, the fewer
 * than VW elements after the last full vector. (Every thread runs the same
 * loops: PoCL 3.1 miscompiles a tail walked by thread 0 alone between
 * barriers, and GPUs prefer it this way too.) */
#define FOR_ROW_VECTORS(j, begin, end) \
  for (I64 j = (begin) + ROW_THREAD() * VW; j + VW <= (end); j += ROW_THREADS * VW)
#define ROW_TAIL_BEGIN(begin, end) ((begin) + ((end) - (begin)) / VW * VW)
#define FOR_ROW_TAIL(j, begin, end) \
  for (I64 j = ROW_TAIL_BEGIN(begin, end) + ROW_THREAD(); j < (end); j += ROW_THREADS)

/* Combines one value per thread of the row into thread 0's, in a fixed
 * tree order, through `shared` (ROW_THREADS entries of local memory).
 * Every thread of the row must reach it. */
#if ROW_THREADS > 1
#define ROW_COMBINE(TYPE, shared, value, COMBINE)                 \
  do {                                                            \
    (shared)[ROW_THREAD()] = (value);                             \
    barrier_local();                                              \
    for (I64 w_ = ROW_THREADS / 2; w_ > 0; w_ /= 2) {             \
      if (ROW_THREAD() < w_) {                                    \
        TYPE a_ = (shared)[ROW_THREAD()];                         \
        TYPE b_ = (shared)[ROW_THREAD() + w_];                    \
        (shared)[ROW_THREAD()] = COMBINE(a_, b_);                 \
      }                                                           \
      barrier_local();                                            \
    }                                                             \
    (value) = (shared)[0];                                        \
    barrier_local();                                              \
  } while (0)
#else
#define ROW_COMBINE(TYPE, shared, value, COMBINE) \
  do {                                            \
  } while (0)
#endif

/* Combines the VW lanes of a vector into one value, pairwise. */
#define LANES_COMBINE(TYPE, vec, out, COMBINE)          \
  do {                                                  \
    TYPE l_[VW];                                        \
    VCT_TO_ARRAY(vec, l_);                              \
    PRAGMA_UNROLL                                       \
    for (int w_ = VW / 2; w_ > 0; w_ /= 2) {            \
      PRAGMA_UNROLL                                     \
      for (int i_ = 0; i_ < w_; ++i_) {                 \
        TYPE a_ = l_[i_];                               \
        TYPE b_ = l_[i_ + w_];                          \
        l_[i_] = COMBINE(a_, b_);                       \
      }                                                 \
    }                                                   \
    (out) = l_[0];                                      \
  } while (0)
