# Known-answer tests of the reference backend (the oracle), included from
# tests/CMakeLists.txt. They call chorus::reference::execute() directly, so
# they need only the static library, not libchorus.
add_executable(chorus_unit_reference ${CMAKE_CURRENT_LIST_DIR}/test_reference_known_answers.cpp)
target_link_libraries(chorus_unit_reference PRIVATE chorus_reference Catch2::Catch2)
chorus_warnings(chorus_unit_reference)
add_test(NAME unit.reference_known_answers COMMAND chorus_unit_reference)
