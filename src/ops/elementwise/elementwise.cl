/* elementwise.cl — copy and convert, fill, unary and binary math, compare
 * and where: every op that maps one output element to the same element of
 * its (broadcast) inputs. Each op comes in two kernels:
 *   <op>_contig: every operand is one run of `count` elements (after
 *     libchorus collapsed the axes); each work-item handles VW consecutive
 *     elements with vector loads and stores, the last one a scalar tail;
 *   <op>_strided: any strides (broadcasts are stride 0, transposes are
 *     permuted strides); a 3-D grid over last axis, next axis, and the rest.
 * One program serves one family and dtype; the definitions select it:
 *   EW_UNARY, EW_UNARY_GRAD, EW_BINARY, EW_COMPARE with DT and DT_IS_INT /
 *   DT_IS_F64 (their kernels are generated from unary_table.h,
 *   unary_grad_table.h and binary_table.h);
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

/* Rows of the op tables whose DTYPES say integers have the op. No macro of
 * the kernel text is variadic: OpenCL C before 2.0 has none (NVIDIA's
 * OpenCL compiler rejects them), so the table rows are taken whole. */
#define EW_IF_FLOATS(kernels)
#define EW_IF_FLOATS_INTS(kernels) kernels

/* ------------------------------------------------------------ unary */
/* Generated from unary_table.h: its KERNEL column (floats) or KERNEL_INT
 * (integers) is the op, an expression in x, the parameters P0 and P1, and
 * K(c) constants, valid for a scalar and a VW-lane vector alike. */
#if EW_UNARY || EW_UNARY_GRAD
#define T STORAGE(DT)
#define CT COMPUTE(DT)
#define VCT VCOMPUTE(DT)
#define VSPLAT(x) CAT(vsplat_, CLASS(DT))(x)
/* ck_elementwise.param[k] in the compute type. */
#if DT_IS_INT
#define UNARY_PARAM(a, k) ((a).param[k])
#elif DT_IS_F64
#define UNARY_PARAM(a, k) f64_from_bits((U64)(a).param[k])
#else
#define UNARY_PARAM(a, k) f32_from_bits((U32)(a).param[k])
#endif
/* P0 and P1 are locals of each kernel: vectors where x is one, scalars
 * where it is a scalar (OpenCL C would not mix them in ?:). */
#define P0 ck_p0
#define P1 ck_p1
#define UNARY_PARAMS_VECTOR                         \
  const VCT ck_p0 = VSPLAT(UNARY_PARAM(a, 0));      \
  const VCT ck_p1 = VSPLAT(UNARY_PARAM(a, 1));      \
  (void)ck_p0;                                      \
  (void)ck_p1;
#define UNARY_PARAMS_SCALAR                         \
  const CT ck_p0 = UNARY_PARAM(a, 0);               \
  const CT ck_p1 = UNARY_PARAM(a, 1);               \
  (void)ck_p0;                                      \
  (void)ck_p1;
#endif

#if EW_UNARY
#define UNARY_KERNELS(contig, strided, EXPR)                                             \
  KERNEL void contig(GLOBAL const T* x_, GLOBAL T* y_, ck_elementwise a GRID_PARAMS) {   \
    const I64 i = global_id(0) * VW;                                                     \
    if (i + VW <= a.count) {                                                             \
      UNARY_PARAMS_VECTOR                                                                \
      const VCT x = LOADV(DT, x_, a.offset[0] + i);                                      \
      STOREV(DT, y_, a.offset[1] + i, EXPR);                                             \
    } else {                                                                             \
      UNARY_PARAMS_SCALAR                                                                \
      for (I64 j = i; j < a.count; ++j) {                                                \
        const CT x = LOAD(DT, x_, a.offset[0] + j);                                      \
        STORE(DT, y_, a.offset[1] + j, EXPR);                                            \
      }                                                                                  \
    }                                                                                    \
  }                                                                                      \
  KERNEL void strided(GLOBAL const T* x_, GLOBAL T* y_, ck_elementwise a GRID_PARAMS) {  \
    I64 o[2];                                                                            \
    if (!ew_offsets(&a, 2, o)) return;                                                   \
    UNARY_PARAMS_SCALAR                                                                  \
    const CT x = LOAD(DT, x_, o[0]);                                                     \
    STORE(DT, y_, o[1], EXPR);                                                           \
  }

#if DT_IS_INT
/* Two's complement on 64-bit unsigned bits; the store keeps the low bits. */
#define UNARY_OP(NAME, name, DTYPES, PARAMS, KERNEL, KERNEL_INT, R, RI, CHECK, REF, INPUTS) \
  CAT(EW_IF_, DTYPES)(UNARY_KERNELS(unary_##name##_contig, unary_##name##_strided, KERNEL_INT))
#else
#define UNARY_OP(NAME, name, DTYPES, PARAMS, KERNEL, KI, R, RI, CHECK, REF, INPUTS) \
  UNARY_KERNELS(unary_##name##_contig, unary_##name##_strided, KERNEL)
#endif
#include "unary_table.h"
#undef UNARY_OP
#endif

/* ---------------------------------------------------- unary_backward */
/* Generated from unary_grad_table.h: KERNEL_X (kernels unary_grad_<op>_x_*)
 * and, for the rows whose FROM_Y allows it, KERNEL_Y (unary_grad_<op>_y_*):
 * expressions in x or y, g (dy), P0, P1 and K(c), for a scalar and a
 * VW-lane vector alike. Operands: the forward's input or output, dy, dx. */
#if EW_UNARY_GRAD
#define UNARY_GRAD_KERNELS(contig, strided, V, EXPR)                                       \
  KERNEL void contig(GLOBAL const T* v_, GLOBAL const T* g_, GLOBAL T* dx_,                \
                     ck_elementwise a GRID_PARAMS) {                                       \
    const I64 i = global_id(0) * VW;                                                       \
    if (i + VW <= a.count) {                                                               \
      UNARY_PARAMS_VECTOR                                                                  \
      const VCT V = LOADV(DT, v_, a.offset[0] + i);                                        \
      const VCT g = LOADV(DT, g_, a.offset[1] + i);                                        \
      STOREV(DT, dx_, a.offset[2] + i, EXPR);                                              \
    } else {                                                                               \
      UNARY_PARAMS_SCALAR                                                                  \
      for (I64 j = i; j < a.count; ++j) {                                                  \
        const CT V = LOAD(DT, v_, a.offset[0] + j);                                        \
        const CT g = LOAD(DT, g_, a.offset[1] + j);                                        \
        STORE(DT, dx_, a.offset[2] + j, EXPR);                                             \
      }                                                                                    \
    }                                                                                      \
  }                                                                                        \
  KERNEL void strided(GLOBAL const T* v_, GLOBAL const T* g_, GLOBAL T* dx_,               \
                      ck_elementwise a GRID_PARAMS) {                                      \
    I64 o[3];                                                                              \
    if (!ew_offsets(&a, 3, o)) return;                                                     \
    UNARY_PARAMS_SCALAR                                                                    \
    const CT V = LOAD(DT, v_, o[0]);                                                       \
    const CT g = LOAD(DT, g_, o[1]);                                                       \
    STORE(DT, dx_, o[2], EXPR);                                                            \
  }

/* The y kernels of the rows that have a y form. */
#define UG_IF_Y_NONE(kernels)
#define UG_IF_Y_ANY(kernels) kernels
#define UG_IF_Y_ALPHA_POSITIVE(kernels) kernels
#define UG_IF_Y_ALPHA_NONNEGATIVE(kernels) kernels
#define UNARY_GRAD(NAME, name, FROM_Y, KERNEL_X, KERNEL_Y, RX, RY, CHECK, SX, SY)                           \
  UNARY_GRAD_KERNELS(unary_grad_##name##_x_contig, unary_grad_##name##_x_strided, x, KERNEL_X) \
  CAT(UG_IF_, FROM_Y)(UNARY_GRAD_KERNELS(unary_grad_##name##_y_contig,                     \
                                         unary_grad_##name##_y_strided, y, KERNEL_Y))
#include "unary_grad_table.h"
#undef UNARY_GRAD
#endif

/* ----------------------------------------------------------- binary */
/* Generated from binary_table.h: KERNEL (floats) or KERNEL_INT (integers),
 * an expression in u and v. */
#if EW_BINARY
#define T STORAGE(DT)
#define CT COMPUTE(DT)
#define VCT VCOMPUTE(DT)

#define BINARY_KERNELS(contig, strided, EXPR)                                             \
  KERNEL void contig(GLOBAL const T* a_, GLOBAL const T* b_, GLOBAL T* out,               \
                     ck_elementwise a GRID_PARAMS) {                                      \
    const I64 i = global_id(0) * VW;                                                      \
    if (i + VW <= a.count) {                                                              \
      const VCT u = LOADV(DT, a_, a.offset[0] + i);                                       \
      const VCT v = LOADV(DT, b_, a.offset[1] + i);                                       \
      STOREV(DT, out, a.offset[2] + i, EXPR);                                             \
    } else {                                                                              \
      for (I64 j = i; j < a.count; ++j) {                                                 \
        const CT u = LOAD(DT, a_, a.offset[0] + j);                                       \
        const CT v = LOAD(DT, b_, a.offset[1] + j);                                       \
        STORE(DT, out, a.offset[2] + j, EXPR);                                            \
      }                                                                                   \
    }                                                                                     \
  }                                                                                       \
  KERNEL void strided(GLOBAL const T* a_, GLOBAL const T* b_, GLOBAL T* out,              \
                      ck_elementwise a GRID_PARAMS) {                                     \
    I64 o[3];                                                                             \
    if (!ew_offsets(&a, 3, o)) return;                                                    \
    const CT u = LOAD(DT, a_, o[0]);                                                      \
    const CT v = LOAD(DT, b_, o[1]);                                                      \
    STORE(DT, out, o[2], EXPR);                                                           \
  }

#if DT_IS_F64
/* PoCL 3.1's vector double pow is wrong for subnormal bases (pow(1e-310, 1)
 * gives 0.575; its scalar pow is right). Scaling such a base by 2^64 and the
 * result by 2^(-64 v) is exact in the scaling and within pow's bound
 * elsewhere, so it is done on every device. */
#define EW_POW(u, v)                                                                     \
  ((fabs(u) < 2.2250738585072014e-308 && (u) != 0.0)                                      \
       ? pow((u) * 18446744073709551616.0, (v)) * exp2(-64.0 * (v))                       \
       : pow((u), (v)))
#else
#define EW_POW(u, v) pow(u, v)
#endif

#if DT_IS_INT
#define BINARY_OP(NAME, name, DTYPES, KERNEL, KERNEL_INT) \
  CAT(EW_IF_, DTYPES)(BINARY_KERNELS(binary_##name##_contig, binary_##name##_strided, KERNEL_INT))
#else
#define BINARY_OP(NAME, name, DTYPES, KERNEL, KERNEL_INT) \
  BINARY_KERNELS(binary_##name##_contig, binary_##name##_strided, KERNEL)
#endif
#include "binary_table.h"
#undef BINARY_OP
#endif

/* ---------------------------------------------------------- compare */
/* Generated from binary_table.h's COMPARE_OP rows. NaN compares false
 * except under ne, as the C operators do. */
#if EW_COMPARE
#define T STORAGE(DT)
#define CT COMPUTE(DT)

#define COMPARE_KERNELS(contig, strided, REL)                                               \
  KERNEL void contig(GLOBAL const T* a_, GLOBAL const T* b_, GLOBAL U8* out,                \
                     ck_elementwise a GRID_PARAMS) {                                        \
    const I64 i = global_id(0);                                                             \
    if (i >= a.count) return;                                                               \
    const CT u = LOAD(DT, a_, a.offset[0] + i);                                             \
    const CT v = LOAD(DT, b_, a.offset[1] + i);                                             \
    out[a.offset[2] + i] = (U8)((u REL v) ? 1 : 0);                                         \
  }                                                                                         \
  KERNEL void strided(GLOBAL const T* a_, GLOBAL const T* b_, GLOBAL U8* out,               \
                      ck_elementwise a GRID_PARAMS) {                                       \
    I64 o[3];                                                                               \
    if (!ew_offsets(&a, 3, o)) return;                                                      \
    const CT u = LOAD(DT, a_, o[0]);                                                        \
    const CT v = LOAD(DT, b_, o[1]);                                                        \
    out[o[2]] = (U8)((u REL v) ? 1 : 0);                                                    \
  }
#define COMPARE_OP(NAME, name, REL) \
  COMPARE_KERNELS(compare_##name##_contig, compare_##name##_strided, REL)
#include "binary_table.h"
#undef COMPARE_OP
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
