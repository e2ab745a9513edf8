// JUnit XML for replay and prove results, written with pugixml and valid against the
// Jenkins xunit plugin's junit-10.xsd (conformance/tests/data/junit-10.xsd checks it).
// One <testsuite> per trace with one <testcase> per invariant of its profile's kernel,
// "input" and "expectations"; proofs form one more suite.
#include "vmref/conformance/report.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "report_ids.hpp"

namespace vmref::conformance {

namespace {

/// `s` as XML 1.0 text: control characters other than tab, LF and CR, and bytes that
/// are not part of a valid UTF-8 sequence, become "\xNN" (XML cannot carry them at all).
std::string xml_text(std::string_view s) {
  std::string o;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size() && (c >= 0x20 || c == '\t' || c == '\n' || c == '\r');
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (!ok) {
      o += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    o.append(s.substr(i, n));
    i += n;
  }
  return o;
}

/// Tallies of one <testsuite> (and of the whole file).
struct Counts {
  std::uint64_t tests = 0, failures = 0, errors = 0, skipped = 0;
  double time = 0;
  void add(const Counts& o) {
    tests += o.tests, failures += o.failures, errors += o.errors, skipped += o.skipped;
    time += o.time;
  }
};

void set_counts(pugi::xml_node n, const Counts& c, bool with_skipped) {
  n.append_attribute("tests") = std::to_string(c.tests).c_str();
  n.append_attribute("failures") = std::to_string(c.failures).c_str();
  n.append_attribute("errors") = std::to_string(c.errors).c_str();
  if (with_skipped) n.append_attribute("skipped") = std::to_string(c.skipped).c_str();
  n.append_attribute("time") = fmt::format("{:.3f}", c.time).c_str();
}

pugi::xml_node add_case(pugi::xml_node suite, const std::string& classname, const std::string& name, Counts& c) {
  ++c.tests;
  pugi::xml_node t = suite.append_child("testcase");
  t.append_attribute("classname") = xml_text(classname).c_str();
  t.append_attribute("name") = xml_text(name).c_str();
  return t;
}

/// Marks `t` failed (`tag` "failure"), in error ("error") or skipped ("skipped").
void mark(pugi::xml_node t, const char* tag, const std::string& type, const std::string& message,
          const std::string& text, Counts& c) {
  ++(tag[0] == 'f' ? c.failures : tag[0] == 'e' ? c.errors : c.skipped);
  pugi::xml_node m = t.append_child(tag);
  m.append_attribute("type") = xml_text(type).c_str();
  m.append_attribute("message") = xml_text(message).c_str();
  if (!text.empty()) m.text().set(xml_text(text).c_str());
}

void add_output(pugi::xml_node t, const std::string& text) {
  if (!text.empty()) t.append_child("system-out").text().set(xml_text(text).c_str());
}

/// "<profile>.<trace name>": Jenkins reads the part before the last dot as a package.
std::string classname_of(const ReplayResult& r) {
  std::string stem = std::filesystem::path(r.file).filename().string();
  for (const char* ext : {".zst", ".jsonl"})
    if (stem.size() > std::strlen(ext) && stem.ends_with(ext)) stem.resize(stem.size() - std::strlen(ext));
  return (r.header.profile.empty() ? std::string("vmref") : r.header.profile) + "." + stem;
}

/// The kept findings `which` selects, one per line with event, line and op.
std::string findings_text(const std::vector<Finding>& fs, const std::function<bool(const std::string&)>& which) {
  std::string text;
  for (const auto& f : fs)
    if (which(f.id)) text += fmt::format("{} event {} line {} ({}): {}\n{}", f.id, f.event, f.line, f.op, f.message, f.diff);
  return text;
}

/// One trace's suite. Under `expect_declared` the suite passes or fails as the exit code
/// does: its "declared verdict" case carries check_declared_verdict's answer, and what
/// the trace declares (findings, bad input) is reported as output, not as failures.
void add_trace_suite(pugi::xml_node root, const ReplayResult& r, const JunitOptions& opt, Counts& total) {
  pugi::xml_node suite = root.append_child("testsuite");
  suite.append_attribute("name") = xml_text(r.file).c_str();
  const std::string cls = classname_of(r);
  Counts c;
  c.time = r.seconds;
  pugi::xml_node in = add_case(suite, cls, "input", c);
  if (!r.error.empty()) {
    if (opt.expect_declared) add_output(in, "bad input: " + r.error);
    else mark(in, "error", "bad-input", r.error.substr(0, r.error.find('\n')), r.error, c);
  }
  auto report_id = [&](const std::string& name, const std::function<bool(const std::string&)>& which,
                       const std::string& rule) {
    pugi::xml_node t = add_case(suite, cls, name, c);
    std::uint64_t n = 0;
    for (const auto& [id, k] : r.by_id)
      if (which(id)) n += k;
    if (n == 0) return;
    std::string text = "reproduce: " + reproduce_command(r) + "\n" + findings_text(r.findings, which);
    std::uint64_t kept = std::count_if(r.findings.begin(), r.findings.end(), [&](const Finding& f) { return which(f.id); });
    if (n > kept) text += fmt::format("({} finding(s) in all; {} kept: a replay keeps the first ones of the trace)\n", n, kept);
    std::string msg = fmt::format("{} finding(s){}", n, rule.empty() ? "" : ": " + rule);
    if (opt.expect_declared) add_output(t, msg + "\n" + text);
    else mark(t, "failure", name, msg, text, c);
  };
  std::set<std::string> listed;
  for (const model::InvariantInfo* inv : report_ids::invariants_of(r.header.profile)) {
    listed.insert(inv->id);
    report_id(inv->id, [&](const std::string& id) { return id == inv->id; }, inv->rule);
  }
  auto is_expect = [](const std::string& id) { return id.rfind("EXPECT-", 0) == 0; };
  report_id("expectations", is_expect, "the recorded outcomes differ from the model's (spec/trace-format.md §5)");
  for (const auto& seen : r.by_id) {  // anything else seen: DIFF-* with --impl, an ID of another kernel
    const std::string& id = seen.first;
    if (!listed.count(id) && !is_expect(id)) report_id(id, [&](const std::string& x) { return x == id; }, report_ids::rule_of(id));
  }
  if (r.undetermined_total > 0) {
    pugi::xml_node t = add_case(suite, cls, "undetermined", c);
    mark(t, "skipped", "undetermined", fmt::format("{} case(s) the model could not decide from the trace", r.undetermined_total),
         findings_text(r.undetermined, [](const std::string&) { return true; }), c);
  }
  if (opt.expect_declared) {
    pugi::xml_node t = add_case(suite, cls, "declared verdict", c);
    if (std::string why = check_declared_verdict(r); !why.empty()) mark(t, "failure", "declared-verdict", why, why, c);
  }
  set_counts(suite, c, true);
  total.add(c);
}

void add_proof_suite(pugi::xml_node root, const std::vector<ProofRow>& proofs, Counts& total) {
  pugi::xml_node suite = root.append_child("testsuite");
  suite.append_attribute("name") = "vmref prove";
  Counts c;
  for (const ProofRow& p : proofs) {
    c.time += p.seconds;
    pugi::xml_node t = add_case(suite, "prove." + p.profile + "." + p.kind, report_ids::proof_name(p), c);
    t.append_attribute("time") = fmt::format("{:.3f}", p.seconds).c_str();
    if (p.status != "proved")
      mark(t, p.status == "counterexample" ? "failure" : "error", p.status, p.id, report_ids::proof_text(p), c);
  }
  set_counts(suite, c, true);
  total.add(c);
}

}  // namespace

std::string report_junit(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs,
                         const JunitOptions& opt) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("testsuites");
  root.append_attribute("name") = "vmref";
  Counts total;
  for (const auto& r : rs) add_trace_suite(root, r, opt, total);
  if (!proofs.empty()) add_proof_suite(root, proofs, total);
  set_counts(root, total, false);  // junit-10.xsd has no `skipped` on <testsuites>
  std::ostringstream o;
  doc.save(o, "  ", pugi::format_default, pugi::encoding_utf8);
  return o.str();
}

}  // namespace vmref::conformance
