// broken.cpp — a plugin built only for tests: a shared library named like a
// chorus plugin but exporting no chorus_backend_entry. libchorus must list it
// as unusable and carry on.
extern "C" __attribute__((visibility("default"))) int chorus_not_an_entry(void) { return 42; }
