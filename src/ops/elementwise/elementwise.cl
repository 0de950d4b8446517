/* elementwise.cl — copy and convert, fill, unary and binary math, compare
 * and where: every op that maps one output element to the same element of
 * its (broadcast) inputs. Each op comes in two kernels:
 *   <op>_contig: every operand is one run of `count` elements (after the
 *     host collapsed the axes); each work-item handles VW consecutive
 *     elements with vector loads and stores, the last one a scalar tail;
 *   <op>_strided: any strides (broadcasts are stride 0, transposes are
 *     permuted strides); a 3-D grid over last axis, next axis, and the rest.
 * One program serves one family and dtype; the definitions select it:
 *   EW_UNARY, EW_BINARY, EW_COMPARE with DT and DT_IS_INT / DT_IS_F64;
 *   EW_CONVERT with SRC, DST;
 *   EW_BITS with BITS (U8, U16, U32, U64): copies, fills and where as raw
 *   bits, so a same-dtype copy keeps NaN payloads and -0.
 * Ops are written once as expressions that are valid for a scalar and a
 * VW-lane vector (the math builtins and ?: work lane-wise).
 */

/* Offsets of the element this work-item owns in a strided kernel, for the
 * first `operands` operands; 0 when the work-item lies outside the shape
 * (the grid is rounded up to whole work-groups). */
DEVICE_FN int ew_offsets_at(const ck_elementwise* a, int operands, I64* off, I64 i0, I64 i1,
                            I64 outer) {
  const I64 r = a->rank;
  if (i0 >= a->shape[r - 1]) return 0;
  if (r >= 2) {
    if (i1 >= a->shape[r - 2]) return 0;
  } else {
    i1 = 0;
  }
  if (outer >= a->outer) return 0;
  for (int t = 0; t < operands; ++t) {
    off[t] = a->offset[t] + i0 * a->strides[t][r - 1];
    if (r >= 2) off[t] += i1 * a->strides[t][r - 2];
  }
  for (I64 d = r - 3; d >= 0; --d) {
    const I64 q = outer % a->shape[d];
    outer /= a->shape[d];
    for (int t = 0; t < operands; ++t) off[t] += q * a->strides[t][d];
  }
  return 1;
}
/* A macro, so that the grid indices are read in the kernel itself (the CUDA
 * and HIP preludes need the kernel's GRID_PARAMS for them). */
#define ew_offsets(a, operands, off) \
  ew_offsets_at((a), (operands), (off), global_id(0), global_id(1), global_id(2))

/* ------------------------------------------------------------ unary */
#if EW_UNARY
#define T STORAGE(DT)
#define CT COMPUTE(DT)
#define VCT VCOMPUTE(DT)

#define UNARY_KERNELS(name, OP)                                                          \
  KERNEL void unary_##name##_contig(GLOBAL const T* x, GLOBAL T* y, ck_elementwise a GRID_PARAMS) {  \
    const I64 i = global_id(0) * VW;                                                     \
    if (i + VW <= a.count) {                                                             \
      const VCT v = LOADV(DT, x, a.offset[0] + i);                                       \
      STOREV(DT, y, a.offset[1] + i, OP(v));                                             \
    } else {                                                                             \
      for (I64 j = i; j < a.count; ++j) {                                                \
        const CT v = LOAD(DT, x, a.offset[0] + j);                                       \
        STORE(DT, y, a.offset[1] + j, OP(v));                                            \
      }                                                                                  \
    }                                                                                    \
  }                                                                                      \
  KERNEL void unary_##name##_strided(GLOBAL const T* x, GLOBAL T* y, ck_elementwise a GRID_PARAMS) { \
    I64 o[2];                                                                            \
    if (!ew_offsets(&a, 2, o)) return;                                                   \
    const CT v = LOAD(DT, x, o[0]);                                                      \
    STORE(DT, y, o[1], OP(v));                                                           \
  }

#if DT_IS_INT
/* Two's complement on 64-bit unsigned bits; the store keeps the low bits. */
#define UI_NEG(x) ((U64)0 - (U64)(x))
#define UI_ABS(x) ((x) < 0 ? (U64)0 - (U64)(x) : (U64)(x))
#define UI_RELU(x) ((x) > 0 ? (U64)(x) : (U64)0)
UNARY_KERNELS(neg, UI_NEG)
UNARY_KERNELS(abs, UI_ABS)
UNARY_KERNELS(relu, UI_RELU)
#else
UNARY_KERNELS(neg, U_NEG)
UNARY_KERNELS(abs, U_ABS)
UNARY_KERNELS(exp, U_EXP)
UNARY_KERNELS(log, U_LOG)
UNARY_KERNELS(sqrt, U_SQRT)
UNARY_KERNELS(rsqrt, U_RSQRT)
UNARY_KERNELS(tanh, U_TANH)
UNARY_KERNELS(sigmoid, U_SIGMOID)
UNARY_KERNELS(relu, U_RELU)
UNARY_KERNELS(gelu_erf, U_GELU_ERF)
UNARY_KERNELS(gelu_tanh, U_GELU_TANH)
UNARY_KERNELS(silu, U_SILU)
#endif
#endif

/* ----------------------------------------------------------- binary */
#if EW_BINARY
#define T STORAGE(DT)
#define CT COMPUTE(DT)
#define VCT VCOMPUTE(DT)

#define BINARY_KERNELS(name, OP)                                                          \
  KERNEL void binary_##name##_contig(GLOBAL const T* a_, GLOBAL const T* b_, GLOBAL T* out, \
                                     ck_elementwise a GRID_PARAMS) {                                  \
    const I64 i = global_id(0) * VW;                                                      \
    if (i + VW <= a.count) {                                                              \
      const VCT u = LOADV(DT, a_, a.offset[0] + i);                                       \
      const VCT v = LOADV(DT, b_, a.offset[1] + i);                                       \
      STOREV(DT, out, a.offset[2] + i, OP(u, v));                                         \
    } else {                                                                              \
      for (I64 j = i; j < a.count; ++j) {                                                 \
        const CT u = LOAD(DT, a_, a.offset[0] + j);                                       \
        const CT v = LOAD(DT, b_, a.offset[1] + j);                                       \
        STORE(DT, out, a.offset[2] + j, OP(u, v));                                        \
      }                                                                                   \
    }                                                                                     \
  }                                                                                       \
  KERNEL void binary_##name##_strided(GLOBAL const T* a_, GLOBAL const T* b_, GLOBAL T* out, \
                                      ck_elementwise a GRID_PARAMS) {                                 \
    I64 o[3];                                                                             \
    if (!ew_offsets(&a, 3, o)) return;                                                    \
    const CT u = LOAD(DT, a_, o[0]);                                                      \
    const CT v = LOAD(DT, b_, o[1]);                                                      \
    STORE(DT, out, o[2], OP(u, v));                                                       \
  }

#if DT_IS_INT
#define B_ADD(u, v) ((U64)(u) + (U64)(v))
#define B_SUB(u, v) ((U64)(u) - (U64)(v))
#define B_MUL(u, v) ((U64)(u) * (U64)(v))
#define B_MAX(u, v) ((U64)((u) > (v) ? (u) : (v)))
#define B_MIN(u, v) ((U64)((u) < (v) ? (u) : (v)))
BINARY_KERNELS(add, B_ADD)
BINARY_KERNELS(sub, B_SUB)
BINARY_KERNELS(mul, B_MUL)
BINARY_KERNELS(max, B_MAX)
BINARY_KERNELS(min, B_MIN)
#else
#define B_ADD(u, v) ((u) + (v))
#define B_SUB(u, v) ((u) - (v))
#define B_MUL(u, v) ((u) * (v))
#define B_DIV(u, v) ((u) / (v))
#define B_MAX(u, v) CK_MAXIMUM(u, v)
#define B_MIN(u, v) CK_MINIMUM(u, v)
#if DT_IS_F64
/* PoCL 3.1's vector double pow is wrong for subnormal bases (pow(1e-310, 1)
 * gives 0.575; its scalar pow is right). Scaling such a base by 2^64 and the
 * result by 2^(-64 v) is exact in the scaling and within pow's bound
 * elsewhere, so it is done on every device. */
#define B_POW(u, v)                                                                      \
  ((fabs(u) < 2.2250738585072014e-308 && (u) != 0.0)                                      \
       ? pow((u) * 18446744073709551616.0, (v)) * exp2(-64.0 * (v))                       \
       : pow((u), (v)))
#else
#define B_POW(u, v) pow(u, v)
#endif
BINARY_KERNELS(add, B_ADD)
BINARY_KERNELS(sub, B_SUB)
BINARY_KERNELS(mul, B_MUL)
BINARY_KERNELS(div, B_DIV)
BINARY_KERNELS(max, B_MAX)
BINARY_KERNELS(min, B_MIN)
BINARY_KERNELS(pow, B_POW)
#endif
#endif

/* ---------------------------------------------------------- compare */
#if EW_COMPARE
#define T STORAGE(DT)
#define CT COMPUTE(DT)

/* NaN compares false except under ne, as the C operators do. */
#define COMPARE_KERNELS(name, REL)                                                          \
  KERNEL void compare_##name##_contig(GLOBAL const T* a_, GLOBAL const T* b_, GLOBAL U8* out, \
                                      ck_elementwise a GRID_PARAMS) {                                   \
    const I64 i = global_id(0);                                                             \
    if (i >= a.count) return;                                                               \
    const CT u = LOAD(DT, a_, a.offset[0] + i);                                             \
    const CT v = LOAD(DT, b_, a.offset[1] + i);                                             \
    out[a.offset[2] + i] = (U8)((u REL v) ? 1 : 0);                                         \
  }                                                                                         \
  KERNEL void compare_##name##_strided(GLOBAL const T* a_, GLOBAL const T* b_, GLOBAL U8* out, \
                                       ck_elementwise a GRID_PARAMS) {                                  \
    I64 o[3];                                                                               \
    if (!ew_offsets(&a, 3, o)) return;                                                      \
    const CT u = LOAD(DT, a_, o[0]);                                                        \
    const CT v = LOAD(DT, b_, o[1]);                                                        \
    out[o[2]] = (U8)((u REL v) ? 1 : 0);                                                    \
  }
COMPARE_KERNELS(eq, ==)
COMPARE_KERNELS(ne, !=)
COMPARE_KERNELS(lt, <)
COMPARE_KERNELS(le, <=)
COMPARE_KERNELS(gt, >)
COMPARE_KERNELS(ge, >=)
#endif

/* ---------------------------------------------------------- convert */
#if EW_CONVERT
#define TS STORAGE(SRC)
#define TD STORAGE(DST)

KERNEL void convert_contig(GLOBAL const TS* x, GLOBAL TD* y, ck_elementwise a GRID_PARAMS) {
  const I64 i = global_id(0);
  if (i >= a.count) return;
  CONVERT_STORE(DST, CLASS(SRC), y, a.offset[1] + i, LOAD(SRC, x, a.offset[0] + i));
}
KERNEL void convert_strided(GLOBAL const TS* x, GLOBAL TD* y, ck_elementwise a GRID_PARAMS) {
  I64 o[2];
  if (!ew_offsets(&a, 2, o)) return;
  CONVERT_STORE(DST, CLASS(SRC), y, o[1], LOAD(SRC, x, o[0]));
}
#endif

/* ------------------------------------------- raw bits: copy, fill, where */
#if EW_BITS
#define B BITS
#define LOADV_BITS CAT(loadv_, CAT(bits_suffix_, BITS))
#define STOREV_BITS CAT(storev_, CAT(bits_suffix_, BITS))
#define bits_suffix_U8 u8
#define bits_suffix_U16 u16
#define bits_suffix_U32 u32
#define bits_suffix_U64 u64

KERNEL void copy_bits_contig(GLOBAL const B* x, GLOBAL B* y, ck_elementwise a GRID_PARAMS) {
  const I64 i = global_id(0) * VW;
  if (i + VW <= a.count) {
    STOREV_BITS(y, a.offset[1] + i, LOADV_BITS(x, a.offset[0] + i));
  } else {
    for (I64 j = i; j < a.count; ++j) y[a.offset[1] + j] = x[a.offset[0] + j];
  }
}
KERNEL void copy_bits_strided(GLOBAL const B* x, GLOBAL B* y, ck_elementwise a GRID_PARAMS) {
  I64 o[2];
  if (!ew_offsets(&a, 2, o)) return;
  y[o[1]] = x[o[0]];
}
KERNEL void fill_contig(GLOBAL B* y, ck_elementwise a GRID_PARAMS) {
  const I64 i = global_id(0);
  if (i < a.count) y[a.offset[0] + i] = (B)(U64)a.value;
}
KERNEL void fill_strided(GLOBAL B* y, ck_elementwise a GRID_PARAMS) {
  I64 o[1];
  if (!ew_offsets(&a, 1, o)) return;
  y[o[0]] = (B)(U64)a.value;
}
KERNEL void where_contig(GLOBAL const U8* c, GLOBAL const B* x, GLOBAL const B* z, GLOBAL B* y,
                         ck_elementwise a GRID_PARAMS) {
  const I64 i = global_id(0);
  if (i >= a.count) return;
  y[a.offset[3] + i] = c[a.offset[0] + i] != 0 ? x[a.offset[1] + i] : z[a.offset[2] + i];
}
KERNEL void where_strided(GLOBAL const U8* c, GLOBAL const B* x, GLOBAL const B* z, GLOBAL B* y,
                          ck_elementwise a GRID_PARAMS) {
  I64 o[4];
  if (!ew_offsets(&a, 4, o)) return;
  y[o[3]] = c[o[0]] != 0 ? x[o[1]] : z[o[2]];
}
#endif
