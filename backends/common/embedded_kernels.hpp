// embedded_kernels.hpp — the portable kernel sources (backends/kernels/) as
// string constants inside a plugin, generated at build time by
// EmbedKernels.cmake. Plugins look files up by name and assemble a program
// text from a prelude and the family's files.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::kernels {

struct EmbeddedFile {
  const char* name;  // file name without folder, e.g. "gemm.cl"
  const char* text;
};

// Every embedded file, in the order they were listed.
std::span<const EmbeddedFile> embedded_files();

// The text of `name`, or an empty view when no such file was embedded.
inline std::string_view embedded_file(std::string_view name) {
  for (const EmbeddedFile& f : embedded_files())
    if (name == f.name) return f.text;
  return {};
}

// A program's text: each file in order, preludes first, every one behind a
// #line marker so compiler messages name the kernel file and line. Empty,
// with *missing set to the first absent file, when a file is not embedded.
inline std::string assemble_program(const std::vector<std::string>& files, std::string* missing) {
  std::string source;
  for (const std::string& name : files) {
    const std::string_view text = embedded_file(name);
    if (text.empty()) {
      *missing = name;
      return {};
    }
    source += "#line 1 \"" + name + "\"\n";
    source += text;
    source += "\n";
  }
  return source;
}

}  // namespace chorus::kernels
