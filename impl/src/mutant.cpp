#include "vmref/impl/mutant.hpp"

#include <stdexcept>

#include "vmref/impl/engine_mutants.hpp"

namespace vmref::impl {

namespace {
std::vector<const MutantInfo*>& rows() {
  static std::vector<const MutantInfo*> k;
  return k;
}
}  // namespace

void add_mutant(const MutantInfo& m) {
  if (find_mutant(m.name)) throw std::logic_error(std::string("mutant '") + m.name + "' registered twice");
  rows().push_back(&m);
}

const std::vector<const MutantInfo*>& all_mutants() { return rows(); }

Mutant find_mutant(std::string_view name) {
  for (const MutantInfo* m : rows())
    if (name == m->name) return m;
  return nullptr;
}

std::vector<std::string> mutant_names() {
  std::vector<std::string> out;
  for (const MutantInfo* m : rows()) out.push_back(m->name);
  return out;
}

const char* to_string(Mutant m) { return m ? m->name : "none"; }

const MutantInfo kSplitLosesLast{"split-loses-last", "engine", "splitting a large page writes all but its last entry", "",
                                 true};
const MutantInfo kReclaimLiveTable{"reclaim-live-table", "engine",
                                   "a table page is reclaimed while it still holds one live entry", "", true};
const MutantInfo kTableLeak{"table-leak", "engine", "emptied table pages are never reclaimed", "", true};
const MutantInfo kNoAccessedBit{"no-accessed-bit", "engine", "the hardware walk never sets A", ""};

void register_engine_mutants() {
  for (const MutantInfo* m : {&kSplitLosesLast, &kReclaimLiveTable, &kTableLeak, &kNoAccessedBit}) add_mutant(*m);
}

}  // namespace vmref::impl
