/* c_callers.c — calls into chorus.h from C, where an enum parameter is an
 * int and may hold any value (C++ may not even form such an enum value):
 * what the "enums are checked as integers" tests need to pass. */
#include <chorus/chorus.h>

chorus_status test_call_unary(chorus_queue queue, int op, const chorus_tensor* x,
                              const chorus_tensor* y) {
  return chorus_unary(queue, (chorus_unary_op)op, x, y);
}

chorus_status test_call_binary(chorus_queue queue, int op, const chorus_tensor* a,
                               const chorus_tensor* b, const chorus_tensor* out) {
  return chorus_binary(queue, (chorus_binary_op)op, a, b, out);
}

chorus_status test_call_op_run(chorus_queue queue, int kind, const void* attrs, uint32_t count,
                               const chorus_tensor* const* tensors) {
  return chorus_op_run(queue, (chorus_op_kind)kind, attrs, count, tensors);
}
