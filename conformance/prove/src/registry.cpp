#include <stdexcept>

#include "vmref/prove/obligation.hpp"

namespace vmref::prove {

const char* to_string(Kind k) {
  switch (k) {
    case Kind::lemma: return "lemma";
    case Kind::inductive: return "inductive";
    case Kind::bmc: return "bmc";
  }
  return "?";
}

const char* to_string(Status s) {
  switch (s) {
    case Status::proved: return "proved";
    case Status::counterexample: return "counterexample";
    case Status::unknown: return "unknown";
  }
  return "?";
}

std::string Obligation::name() const {
  std::string n = std::string(to_string(kind)) + " " + owner + " " + id;
  return op.empty() ? n : n + " " + op;
}

namespace {
std::vector<ProverInfo>& table() {
  static std::vector<ProverInfo> t;
  return t;
}
}  // namespace

void add_prover(ProverInfo p) {
  if (find_prover(p.owner)) throw std::logic_error("prover registered twice: " + p.owner);
  table().push_back(std::move(p));
}

const std::vector<ProverInfo>& provers() { return table(); }

const ProverInfo* find_prover(std::string_view owner) {
  for (const ProverInfo& p : table())
    if (p.owner == owner) return &p;
  return nullptr;
}

}  // namespace vmref::prove
