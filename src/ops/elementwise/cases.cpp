// cases.cpp — the elementwise folder's conformance layer: one case family
// per op (copy, fill, unary, binary, compare, where), each in its own file.
#include "conformance/detail.hpp"
#include "elementwise/cases_elementwise.hpp"

namespace chorus::ops::elementwise {

void register_cases() {
  using chorus::conformance::detail::register_family;
  register_family("copy", add_copy_cases);
  register_family("fill", add_fill_cases);
  register_family("unary", add_unary_cases);
  register_family("unary_backward", add_unary_backward_cases);
  register_family("binary", add_binary_cases);
  register_family("compare", add_compare_cases);
  register_family("where", add_where_cases);
}

}  // namespace chorus::ops::elementwise
