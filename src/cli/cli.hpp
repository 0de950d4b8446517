// cli.hpp — shared pieces of the `chorus` command's subcommands.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace chorus::cli {

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  bool has(const std::string& key) const;
  std::string get(const std::string& key, const std::string& fallback) const;
};

bool parse_args(int argc, char** argv, const std::vector<std::string>& flags, Args* args,
                std::string* error);

int bench(const Args& args);
int ops_command(const Args& args);  // ops.cpp
int kernels_command(const Args& args);  // kernels_check.cpp, when the GPU plugins are built

}  // namespace chorus::cli
