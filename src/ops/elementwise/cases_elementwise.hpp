// cases_elementwise.hpp — the elementwise folder's case families, one
// function each, registered by register_cases() (cases.cpp).
#pragma once

#include <vector>

#include "conformance/detail.hpp"

namespace chorus::ops::elementwise {

using CaseList = std::vector<chorus::conformance::detail::CaseEntry>;

void add_copy_cases(CaseList& cases);     // cases_copy_fill.cpp
void add_fill_cases(CaseList& cases);     // cases_copy_fill.cpp
void add_unary_cases(CaseList& cases);    // cases_unary.cpp
void add_unary_backward_cases(CaseList& cases);  // cases_unary_grad.cpp

// From unary_table.h (cases_unary.cpp): the op's test attributes as the
// device uses them (alpha rounded to the compute type, clamp's bounds to the
// dtype), and its test inputs (the INPUTS column) in t's dtype.
chorus_unary_attrs unary_test_attrs(chorus_unary_op op, chorus_dtype d);
void fill_unary_inputs(chorus_unary_op op, chorus::conformance::detail::HostTensor& t,
                       chorus::conformance::detail::Rng& rng);
void add_binary_cases(CaseList& cases);   // cases_binary.cpp
void add_compare_cases(CaseList& cases);  // cases_compare_where.cpp
void add_where_cases(CaseList& cases);    // cases_compare_where.cpp

}  // namespace chorus::ops::elementwise
