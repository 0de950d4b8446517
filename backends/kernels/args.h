/* args.h — the argument blocks kernels receive by value, shared by the host
 * (which includes it with CK_I64 defined as int64_t) and every kernel text
 * (CK_I64 is the prelude's 64-bit integer). Only 64-bit fields, so the layout
 * is the same on every host and device compiler. Shapes, strides and offsets
 * travel here at run time: a new shape never means a new compile.
 * Offsets and strides are in elements of the operand's dtype.
 */
#ifndef CHORUS_KERNEL_ARGS_H
#define CHORUS_KERNEL_ARGS_H

#ifndef CK_I64
#define CK_I64 I64
#endif
#define CK_MAX_RANK 8
#define CK_MAX_OPERANDS 4

/* Elementwise ops (copy, fill, unary, binary, compare, where). Axes arrive
 * collapsed by libchorus (rank >= 1, axis 0 outermost). The contiguous
 * kernels use count and offset only; the strided ones run a 3-D grid: dim 0
 * the last axis, dim 1 the axis before it, dim 2 all outer axes flattened. */
typedef struct ck_elementwise {
  CK_I64 count;
  CK_I64 rank;
  CK_I64 outer; /* product of shape[0 .. rank-3] */
  CK_I64 value; /* fill: the element's bits */
  /* unary: the op's two parameters (P0, P1 of unary_table.h) in the compute
   * type, as bits: a float's for f32/f16/bf16 programs, a double's for f64,
   * the integer itself for integer programs */
  CK_I64 param[2];
  CK_I64 shape[CK_MAX_RANK];
  CK_I64 offset[CK_MAX_OPERANDS];
  CK_I64 strides[CK_MAX_OPERANDS][CK_MAX_RANK];
} ck_elementwise;

/* Optimizer steps: up to six operands (the tensor slots of the op, in
 * order; an absent one has zero strides and is never touched), every one in
 * the collapsed shape of the parameter. */
#define CK_OPTIM_OPERANDS 6
typedef struct ck_optim {
  CK_I64 count;
  CK_I64 rank;
  CK_I64 shape[CK_MAX_RANK];
  CK_I64 offset[CK_OPTIM_OPERANDS];
  CK_I64 strides[CK_OPTIM_OPERANDS][CK_MAX_RANK];
} ck_optim;

/* Row ops: `rows` independent rows of `n` elements. outer_* index the rows
 * (per operand), inner_* walk one row (ROW_GENERIC may use several inner
 * axes; the other layouts one); both parts arrive collapsed by libchorus.
 * Operands: 0 x, 1 y (output), 2 gamma, 3 beta. A long row may be split into `chunks` pieces of `chunk` elements
 * that write partial results (two-stage reductions). */
typedef struct ck_rows {
  CK_I64 rows;
  CK_I64 n;
  CK_I64 chunk;
  CK_I64 chunks;
  CK_I64 outer_rank;
  CK_I64 inner_rank;
  CK_I64 outer_shape[CK_MAX_RANK];
  CK_I64 inner_shape[CK_MAX_RANK];
  CK_I64 offset[CK_MAX_OPERANDS];
  CK_I64 outer_strides[CK_MAX_OPERANDS][CK_MAX_RANK];
  CK_I64 inner_strides[CK_MAX_OPERANDS][CK_MAX_RANK];
} ck_rows;

/* GEMM on packed operands. Packing writes A as panels of MR rows
 * ([batch][M/MR][K][MR]) and B as panels of NR columns ([batch][N/NR][K][NR]),
 * zero-padded, converted to the accumulation type; the multiply kernel then
 * never checks a bound or a stride, and the epilogue writes c through its
 * own strides. */
typedef struct ck_gemm {
  CK_I64 batch, m, n, k;
  CK_I64 m_padded, n_padded;       /* multiples of the work-group tile */
  CK_I64 a_offset, a_strides[3];   /* source of pack_a: [batch, M, K] */
  CK_I64 b_offset, b_strides[3];   /* source of pack_b: [batch, K, N] */
  CK_I64 c_offset, c_strides[3];
  CK_I64 bias_offset, bias_strides[3];
  CK_I64 a_packed_batch_stride;    /* 0 when every batch shares one A */
  CK_I64 b_packed_batch_stride;
  CK_I64 a_batches, b_batches;     /* batches packed: 1 when shared */
  CK_I64 has_bias;
  CK_I64 activation;               /* chorus_activation */
  CK_I64 read_c;                   /* beta != 0 */
} ck_gemm;

#endif
