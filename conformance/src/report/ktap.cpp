// KTAP version 1 (the Linux kernel's test output format, Documentation/dev-tools/ktap.rst,
// read by kunit.py and kselftest tooling) for replay and prove results: one test per
// trace, each with one subtest per ID the reports list for it; proofs as one more test.
#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "report_ids.hpp"
#include "vmref/conformance/report.hpp"

namespace vmref::conformance {

namespace {
/// KTAP test names and diagnostics are one line each: no line breaks, no '#'.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '#') c = ' ';
  return s;
}

void trace_test(std::ostringstream& o, std::size_t n, const ReplayResult& r) {
  std::string name = one_line(std::filesystem::path(r.file).filename().string());
  std::vector<std::string> ids = report_ids::ids_of({r});
  o << "    KTAP version 1\n    # Subtest: " << name << "\n    1.." << ids.size() + 2 << "\n";
  std::size_t k = 0;
  o << fmt::format("    {} {} input\n", r.error.empty() ? "ok" : "not ok", ++k);
  if (!r.error.empty()) o << "    # " << one_line(r.error) << "\n";
  for (const std::string& id : ids) {
    auto it = r.by_id.find(id);
    std::uint64_t count = it == r.by_id.end() ? 0 : it->second;
    if (!r.error.empty()) {
      o << fmt::format("    ok {} {} # SKIP bad input\n", ++k, id);
      continue;
    }
    o << fmt::format("    {} {} {}\n", count ? "not ok" : "ok", ++k, id);
    for (const Finding& f : r.findings)
      if (f.id == id) o << fmt::format("    # line {} event {} ({}): {}\n", f.line, f.event, f.op, one_line(f.message));
  }
  if (r.undetermined_total)
    o << fmt::format("    ok {} undetermined # SKIP the model could not decide {} of its cases\n", ++k, r.undetermined_total);
  else
    o << fmt::format("    ok {} undetermined\n", ++k);
  if (r.verdict() == Verdict::findings) o << "    # reproduce: " << one_line(reproduce_command(r)) << "\n";
  o << fmt::format("{} {} {}\n", r.verdict() == Verdict::clean ? "ok" : "not ok", n, name);
}

void proof_test(std::ostringstream& o, std::size_t n, const std::vector<ProofRow>& proofs) {
  o << "    KTAP version 1\n    # Subtest: proofs\n    1.." << proofs.size() << "\n";
  bool all = true;
  for (std::size_t i = 0; i < proofs.size(); ++i) {
    const ProofRow& p = proofs[i];
    std::string name = one_line(report_ids::proof_name(p) + " " + p.profile);
    if (p.status == "proved") {
      o << fmt::format("    ok {} {}\n", i + 1, name);
    } else if (p.status == "unknown") {
      o << fmt::format("    ok {} {} # SKIP unknown: {}\n", i + 1, name, one_line(p.detail));
    } else {
      all = false;
      o << fmt::format("    not ok {} {}\n    # {}\n", i + 1, name, one_line(report_ids::proof_text(p)));
    }
  }
  o << fmt::format("{} {} proofs\n", all ? "ok" : "not ok", n);
}
}  // namespace

std::string report_ktap(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs) {
  std::ostringstream o;
  o << "KTAP version 1\n1.." << rs.size() + (proofs.empty() ? 0 : 1) << "\n";
  for (std::size_t i = 0; i < rs.size(); ++i) trace_test(o, i + 1, rs[i]);
  if (!proofs.empty()) proof_test(o, rs.size() + 1, proofs);
  return o.str();
}

}  // namespace vmref::conformance
