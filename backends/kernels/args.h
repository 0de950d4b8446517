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

/* Gather and scatter-add (src/ops/index/index.cl) in their normal form:
 * three operands of one rank, the op's axis last. One work-item per element
 * of out (operand 2), numbered row-major in out's shape; walk.h's fields
 * (count, rank, shape, offset[t], strides[t]) find each operand's element
 * at the same position, with the axis's stride zeroed for the operands the
 * kernel indexes along the axis itself (gather: x; scatter-add: index and
 * src), whose strides there are axis_stride[t]. extent: gather, x's extent
 * along the axis; scatter-add, index's (the terms each element scans). */
typedef struct ck_index {
  CK_I64 count;
  CK_I64 rank;
  CK_I64 extent;
  CK_I64 axis_stride[3];
  CK_I64 shape[CK_MAX_RANK];
  CK_I64 offset[3];
  CK_I64 strides[3][CK_MAX_RANK];
} ck_index;

/* embedding_backward's own kernel (index.cl): the n = numel(index)
 * indices one run (element k at offset[0] + k * index_stride), dy's rows
 * likewise (row k at offset[1] + k * dy_row_stride, column j at
 * + j * dy_col_stride), dtable [v, d]. One work-item per table row and
 * block of `block` columns. */
typedef struct ck_embedding {
  CK_I64 n, v, d, block, blocks;
  CK_I64 index_stride, dy_row_stride, dy_col_stride;
  CK_I64 table_row_stride, table_col_stride;
  CK_I64 offset[3];
} ck_embedding;

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

/* Batch norm's per-channel tensors (gamma, beta, running statistics, their
 * gradients): element c of tensor t at offset[t] + c * stride[t]. */
#define CK_MAX_CHANNEL_TENSORS 6
typedef struct ck_channels {
  CK_I64 offset[CK_MAX_CHANNEL_TENSORS];
  CK_I64 stride[CK_MAX_CHANNEL_TENSORS];
} ck_channels;

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

/* Convolution (src/ops/conv/conv.cl). The forward and the data gradient are
 * one "virtual" convolution, an implicit GEMM per group:
 *   out[n][g*m + i][oh][ow] = bias + sum over c < cin, kh, kw of
 *     A[g][i][(c, kh, kw)] * src[n][g*cin + c][oh*sh + kh*dh][ow*sw + kw*dw]
 * where src is the input already padded (or, for the data gradient, dy
 * spread out by the stride and padded), A the packed weights
 * ([g][m_panels][k][MR], flipped and transposed for the data gradient).
 * The weight gradient reads the same padded src and dy (the "a" operand):
 *   dw[g*m + i][c][kh][kw] = sum over n, oh, ow of a[g*m + i][n][oh][ow] *
 *     src[n][g*cin + c][oh*sh + kh*dh][ow*sw + kw*dw]. */
typedef struct ck_conv {
  CK_I64 n, groups, m, cin, kh, kw, k; /* k = cin * kh * kw */
  CK_I64 sh, sw, dh, dw, oh, ow;
  CK_I64 m_panels;          /* panels of MR rows per group */
  CK_I64 tiles;             /* pixel tiles of NR per image */
  CK_I64 q_count;           /* pixels per image: oh * pitch (CONV_LINEAR) or oh * ow */
  CK_I64 pitch;             /* CONV_LINEAR: src's row stride, the virtual row width */
  CK_I64 src_offset, src_strides[4];
  CK_I64 out_offset, out_strides[4]; /* y, dx or dw */
  CK_I64 bias_offset, bias_stride, has_bias; /* bias or dbias */
  CK_I64 w_offset, w_strides[4], flip;       /* weight packing */
  CK_I64 a_offset, a_strides[4];             /* weight gradient: dy as [c_out, n, oh, ow] */
  CK_I64 rows;              /* weight gradient: n * oh */
  CK_I64 chunks, rows_per_chunk, partial_offset; /* its split over rows */
  CK_I64 vector_tail;       /* a and src padded for whole-vector row tails */
} ck_conv;

/* A copy into a dense scratch array [d0][d1][d2][d3] in the accumulation
 * type: element (i0, i1, i2, i3) = src at (i0, i1, (i2 - off_h) / up_h,
 * (i3 - off_w) / up_w) where that is a whole position inside the source
 * (src_h x src_w), else 0: padding, and the stride's holes. */
typedef struct ck_conv_pack {
  CK_I64 d[4];
  CK_I64 src_offset, src_strides[4]; /* per dst axis */
  CK_I64 src_h, src_w, off_h, off_w, up_h, up_w;
} ck_conv_pack;

/* Pooling (src/ops/pool): sizes, attributes and the tensors' offsets and
 * strides in logical NCHW order. A launch has one work-item per element of
 * the tensor it writes (y, or dx), numbered with order[0] the fastest axis
 * (the plan sorts the axes by that tensor's strides, so neighbouring
 * work-items write neighbouring memory in NCHW and NHWC alike). */
typedef struct ck_pool {
  CK_I64 n, c, h, w, oh, ow;
  CK_I64 kh, kw, sh, sw, pt, pb, pl, pr, dh, dw;
  CK_I64 is_max, include_pad, divisor_override, has_indices;
  CK_I64 order[4];
  CK_I64 big_offset, big_strides[4];     /* x (forward) or dx */
  CK_I64 small_offset, small_strides[4]; /* y or dy */
  CK_I64 index_offset, index_strides[4]; /* indices */
  CK_I64 x_offset, x_strides[4];         /* backward: x, for a recomputed argmax */
} ck_pool;

#endif
