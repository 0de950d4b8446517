/* binary_table.h — the binary and compare ops as the portable kernels and
 * their planner know them, one row each, in enum order (chorus_binary_op,
 * chorus_compare_op): the kernels of elementwise.cl and the kernel names of
 * plan.cpp both come from here, so they cannot drift apart. Plain
 * preprocessor text, valid in OpenCL C, CUDA/HIP C++ and host C++: a
 * consumer defines BINARY_OP(...) and/or COMPARE_OP(...) and includes this
 * file; a list whose macro is not defined is skipped.
 *
 * BINARY_OP(NAME, name, DTYPES, KERNEL, KERNEL_INT)
 *  NAME, name  CHORUS_BINARY_<NAME>; kernels binary_<name>_contig/_strided.
 *  DTYPES      FLOATS, or FLOATS_INTS when integers have the op too (their
 *              result is computed exactly and wraps).
 *  KERNEL      the value in the compute type from u and v (scalars or, in
 *              OpenCL, vectors); EW_POW is elementwise.cl's pow.
 *  KERNEL_INT  on integers (u, v 64-bit): the result's 64-bit two's-
 *              complement bits (a U64); NONE when DTYPES is FLOATS.
 *
 * COMPARE_OP(NAME, name, REL)
 *  NAME, name  CHORUS_COMPARE_<NAME>; kernels compare_<name>_contig/_strided.
 *  REL         the C operator: NaN compares false except under !=.
 */
#ifdef BINARY_OP
BINARY_OP(ADD, add, FLOATS_INTS, ((u) + (v)), ((U64)(u) + (U64)(v)))
BINARY_OP(SUB, sub, FLOATS_INTS, ((u) - (v)), ((U64)(u) - (U64)(v)))
BINARY_OP(MUL, mul, FLOATS_INTS, ((u) * (v)), ((U64)(u) * (U64)(v)))
BINARY_OP(DIV, div, FLOATS, ((u) / (v)), NONE)
BINARY_OP(MAX, max, FLOATS_INTS, CK_MAXIMUM(u, v), ((U64)((u) > (v) ? (u) : (v))))
BINARY_OP(MIN, min, FLOATS_INTS, CK_MINIMUM(u, v), ((U64)((u) < (v) ? (u) : (v))))
BINARY_OP(POW, pow, FLOATS, EW_POW(u, v), NONE)
#endif

#ifdef COMPARE_OP
COMPARE_OP(EQ, eq, ==)
COMPARE_OP(NE, ne, !=)
COMPARE_OP(LT, lt, <)
COMPARE_OP(LE, le, <=)
COMPARE_OP(GT, gt, >)
COMPARE_OP(GE, ge, >=)
#endif
