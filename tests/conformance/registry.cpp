// registry.cpp — the case families. Each op family folder (src/ops/<folder>/)
// registers its case families from its register_cases(); the generated
// chorus::ops::register_all_cases() (cmake/ChorusOpFamilies.cmake) calls
// every folder's, once, the first time anyone asks for cases. all_cases(),
// op_names() and family_names() all come from here, so a new family or op is
// a new folder or a new case, with no list to edit.
#include <mutex>
#include <set>
#include <stdexcept>

#include "detail.hpp"

namespace chorus::ops {
void register_all_cases();  // generated from src/ops/*/cases*.cpp
}  // namespace chorus::ops

namespace chorus::conformance {
namespace detail {
namespace {

struct Family {
  std::string name;
  AddCases add;
};

std::vector<Family>& families() {
  static std::vector<Family> registered;
  return registered;
}

const std::vector<Family>& registered() {
  static std::once_flag once;
  std::call_once(once, [] { chorus::ops::register_all_cases(); });
  return families();
}

}  // namespace

void register_family(const std::string& name, AddCases add) {
  if (name.empty() || !add) throw std::logic_error("register_family: a family needs a name and cases");
  for (const Family& f : families())
    if (f.name == name) throw std::logic_error("conformance family " + name + " registered twice");
  families().push_back({name, add});
}

std::vector<std::string> registered_families() {
  std::vector<std::string> names;
  for (const Family& f : registered()) names.push_back(f.name);
  return names;
}

// Every case of every tier, listed once per process: listing builds tens of
// thousands of closures (~8 s per listing under the sanitizers, where each
// family's run listed them all again).
const std::vector<CaseEntry>& every_case() {
  static std::vector<CaseEntry> cases;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<CaseEntry> listed;
    for (const Family& f : registered()) {
      const size_t first = listed.size();
      f.add(listed);
      for (size_t i = first; i < listed.size(); ++i) listed[i].family = f.name;
    }
    // Names are the seeds and the handles users filter by: they must be unique.
    std::set<std::string> seen;
    for (const CaseEntry& c : listed)
      if (!seen.insert(c.name).second)
        throw std::logic_error("duplicate conformance case " + c.name);
    cases = std::move(listed);
  });
  return cases;
}

std::vector<CaseEntry> all_cases(Tier tier) {
  std::vector<CaseEntry> selected;
  for (const CaseEntry& c : every_case())
    if (static_cast<int>(c.tier) <= static_cast<int>(tier)) selected.push_back(c);
  return selected;
}

}  // namespace detail

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const detail::CaseEntry& c : detail::all_cases(Tier::full))
    if (seen.insert(c.op).second) names.push_back(c.op);
  return names;
}

std::vector<std::string> family_names() {
  return detail::registered_families();
}

}  // namespace chorus::conformance
