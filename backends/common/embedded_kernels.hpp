// embedded_kernels.hpp — the portable kernel sources (the infrastructure of
// backends/kernels/ and every op family's kernel files in src/ops/<family>/)
// as string constants inside a plugin, generated at build time by
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

namespace detail {

// The file name of a line `#include "name"` (spaces allowed around the
// tokens), or an empty view for any other line.
inline std::string_view quoted_include(std::string_view line) {
  size_t at = line.find_first_not_of(" \t");
  if (at == std::string_view::npos || line[at] != '#') return {};
  at = line.find_first_not_of(" \t", at + 1);
  if (at == std::string_view::npos || line.compare(at, 7, "include") != 0) return {};
  at = line.find_first_not_of(" \t", at + 7);
  if (at == std::string_view::npos || line[at] != '"') return {};
  const size_t end = line.find('"', at + 1);
  if (end == std::string_view::npos) return {};
  return line.substr(at + 1, end - at - 1);
}

// Appends `text` (the file `name`) to *out behind a #line marker, with every
// `#include "file"` of an embedded file replaced by that file's text (the
// way a compiler with the kernel folders on its include path would read it:
// no compiler here has those folders). False with *missing on an include of
// a file that is not embedded, or on includes nested too deep.
inline bool append_expanded(std::string_view name, std::string_view text, int depth,
                            std::string* out, std::string* missing) {
  if (depth > 8) {
    *missing = std::string(name) + " (includes nested too deeply)";
    return false;
  }
  *out += "#line 1 \"" + std::string(name) + "\"\n";
  size_t line_number = 1;
  for (size_t begin = 0; begin < text.size(); ++line_number) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(begin, end - begin);
    const std::string_view included = quoted_include(line);
    if (included.empty()) {
      *out += line;
      *out += '\n';
    } else {
      const std::string_view body = embedded_file(included);
      if (body.empty()) {
        *missing = std::string(included);
        return false;
      }
      if (!append_expanded(included, body, depth + 1, out, missing)) return false;
      *out += "#line " + std::to_string(line_number + 1) + " \"" + std::string(name) + "\"\n";
    }
    begin = end + 1;
  }
  return true;
}

}  // namespace detail

// A program's text: each file in order, preludes first, every one behind a
// #line marker so compiler messages name the kernel file and line, and the
// files a kernel file includes with `#include "name"` (unary_table.h)
// expanded in place. Empty, with *missing set to the first absent file,
// when a file is not embedded.
inline std::string assemble_program(const std::vector<std::string>& files, std::string* missing) {
  std::string source;
  for (const std::string& name : files) {
    const std::string_view text = embedded_file(name);
    if (text.empty()) {
      *missing = name;
      return {};
    }
    if (!detail::append_expanded(name, text, 0, &source, missing)) return {};
  }
  return source;
}

}  // namespace chorus::kernels
