// unary_grad_rows.hpp — unary_grad_table.h's rows as host data, for the
// layers that need only which ops have a gradient, under which name, from
// which inputs, and how they are judged: the core's schema, the
// run-time-compiled backends' planner (kernel names), the conformance cases.
#pragma once

#include <chorus/chorus.h>

namespace chorus::ops::elementwise {

// Whether the row's gradient may take the forward's output y (from_output).
enum class GradFromY { none, any, alpha_positive, alpha_nonnegative };

struct GradRow {
  chorus_unary_op op;
  const char* name;   // the unary op's: kernels unary_grad_<name>_x/_y
  const char* label;  // "<name>_backward": messages, case rows
  GradFromY from_y;
  bool exact;  // CHECK is EXACT (a selection of dy or 0)
};

#define Y_NONE GradFromY::none
#define Y_ANY GradFromY::any
#define Y_ALPHA_POSITIVE GradFromY::alpha_positive
#define Y_ALPHA_NONNEGATIVE GradFromY::alpha_nonnegative
#define EXACT true
#define BOUND false
#define UNARY_GRAD(NAME, name, FROM_Y, KX, KY, RX, RY, CHECK, ...) \
  GradRow{CHORUS_UNARY_##NAME, #name, #name "_backward", FROM_Y, CHECK},
inline constexpr GradRow kGradRows[] = {
#include "elementwise/unary_grad_table.h"
};
#undef UNARY_GRAD
#undef EXACT
#undef BOUND
#undef Y_NONE
#undef Y_ANY
#undef Y_ALPHA_POSITIVE
#undef Y_ALPHA_NONNEGATIVE

// The row of op, or nullptr when op has no gradient.
inline const GradRow* grad_row(int op) {
  for (const GradRow& g : kGradRows)
    if (g.op == op) return &g;
  return nullptr;
}

}  // namespace chorus::ops::elementwise
