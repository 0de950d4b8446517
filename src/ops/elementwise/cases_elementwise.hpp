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
void add_binary_cases(CaseList& cases);   // cases_binary.cpp
void add_compare_cases(CaseList& cases);  // cases_compare_where.cpp
void add_where_cases(CaseList& cases);    // cases_compare_where.cpp

}  // namespace chorus::ops::elementwise
