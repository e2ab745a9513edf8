#include "images.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/conformance/rule_coverage.hpp"

#include <chrono>
#include <optional>
#include <unordered_map>

#include "vmref/conformance/expect.hpp"
#include "vmref/diff/differential.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/trace_reader.hpp"

namespace vmref::conformance {

using nlohmann::json;

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::clean: return "clean";
    case Verdict::findings: return "findings";
    case Verdict::bad_input: return "bad-input";
  }
  return "?";
}

Verdict ReplayResult::verdict() const {
  if (!error.empty()) return Verdict::bad_input;
  return findings_total ? Verdict::findings : Verdict::clean;
}

namespace {

void record(ReplayResult& r, const ReplayOptions& opt, Finding f) {
  ++r.findings_total;
  ++r.by_id[f.id];
  if (r.findings.size() < opt.keep_findings) r.findings.push_back(std::move(f));
}

diff::DiffConfig diff_config(const trace::Header& h, const ReplayOptions& opt) {
  impl::format_or_throw(opt.impl);
  if (h.page_size != 4096) throw std::invalid_argument("the " + opt.impl + " implementation needs page_size 4096");
  diff::DiffConfig c;
  c.profile = h.profile;
  c.params = h.params;
  c.impl = opt.impl;
  c.cpus = h.cpus;
  c.frames = h.phys_mem / h.page_size;
  c.format.params = opt.format_params;
  c.check_invariants = false;  // replay runs them itself
  if (!opt.mutant.empty()) {
    c.format.mutant = impl::find_mutant(opt.mutant);
    if (!c.format.mutant) throw std::invalid_argument("unknown mutant '" + opt.mutant + "'");
  }
  return c;
}

/// A fuzz counterexample's header names the implementation, parameters and mutant it
/// failed on (provenance.replay), so that a plain replay reproduces it.
ReplayOptions with_header_defaults(const ReplayOptions& opt, const trace::Header& h) {
  ReplayOptions o = opt;
  const nlohmann::json& p = h.provenance;
  if (!opt.impl.empty() || opt.model_only || !p.contains("replay")) return o;
  const nlohmann::json& run = p["replay"];
  o.impl = run["impl"].get<std::string>();
  if (run.contains("mutant")) o.mutant = run["mutant"].get<std::string>();
  if (run.contains("params"))
    for (auto it = run["params"].begin(); it != run["params"].end(); ++it) o.format_params[it.key()] = it->get<unsigned>();
  return o;
}

/// Rewrites the model's frame numbers in `fs` as the trace's labels (name_frames): the
/// labels of mechanism events (the model's) and of observes (`seen`), for the allocation
/// each names now. DIFF-* messages, which may name the implementation's frames, are left.
void name_frames_in(std::vector<Finding>& fs, const model::Model& m, const FrameLabels& seen) {
  bool any = false;
  for (const Finding& f : fs) any = any || (f.id.rfind("DIFF-", 0) != 0 && f.message.find("frame ") != std::string::npos);
  if (!any) return;
  std::unordered_map<std::uint64_t, const std::string*> by_frame;
  auto add = [&](const std::string& label, const std::pair<model::FrameId, std::uint64_t>& fg) {
    if (m.frames().valid(fg.first) && m.frames()[fg.first].generation == fg.second) by_frame.emplace(fg.first, &label);
  };
  for (const auto& [label, fg] : m.core().labels) add(label, fg);
  for (const auto& [label, fg] : seen.labels) add(label, fg);
  auto label_of = [&](std::uint64_t f) -> const std::string* {
    auto it = by_frame.find(f);
    return it == by_frame.end() ? nullptr : it->second;
  };
  for (Finding& f : fs)
    if (f.id.rfind("DIFF-", 0) != 0) f.message = name_frames(f.message, label_of);
}

void run(ReplayResult& r, const ReplayOptions& given) {
  trace::TraceReader in(r.file);
  r.header = in.header();
  std::uint64_t line = in.line();
  ReplayOptions opt = with_header_defaults(given, r.header);
  r.impl = opt.impl;
  r.mutant = opt.mutant;
  r.format_params = opt.format_params;
  r.model_only = given.model_only;
  r.params = given.params;
  if (!opt.profile.empty()) r.header.profile = opt.profile;
  for (auto it = opt.params.begin(); it != opt.params.end(); ++it) r.header.params[it.key()] = *it;
  std::optional<model::Model> built;
  std::unique_ptr<diff::Differential> both;
  try {
    vocab::Profile profile = trace::profile_of(r.header, r.file, line);  // the header's params, checked again
    if (opt.impl.empty()) {                                               // (--profile may name another kernel)
      built.emplace(profile, r.header.cpus, r.header.phys_mem / r.header.page_size, r.header.page_size);
    } else {
      both = std::make_unique<diff::Differential>(diff_config(r.header, opt));
    }
  } catch (const model::ModelError& e) {  // a header value the kernel cannot boot with
    throw trace::TraceError(r.file, line, e.field, e.what());
  } catch (const std::invalid_argument& e) {
    throw trace::TraceError(r.file, line, opt.impl.empty() ? "profile" : "impl", e.what());
  }
  model::Model& m = both ? both->model_mut() : *built;
  std::vector<model::Violation> viol;
  std::vector<Finding> found, undetermined;
  FrameLabels labels;
  vocab::Event e;
  while (in.next(e)) {
    line = in.line();
    vocab::Outcome o;
    found.clear();
    try {
      if (both) {
        found = both->step(e);
        o = both->last_outcome();
      } else {
        o = m.apply(e);
      }
    } catch (const model::ModelError& err) {
      throw trace::TraceError(r.file, line, err.field, std::string("impossible event: ") + err.what());
    } catch (const impl::Unsupported& err) {
      throw trace::TraceError(r.file, line, err.field, "implementation " + opt.impl + ": " + err.what());
    } catch (const std::invalid_argument& err) {
      throw trace::TraceError(r.file, line, "", "implementation " + opt.impl + ": " + err.what());
    }
    std::uint64_t index = r.events++;
    for (auto& f : found) {
      f.event = index;
      f.line = line;
    }
    if (!e.cont) {
      viol.clear();
      r.checks += model::check_invariants(m, opt.full_checks, viol);
      for (auto& v : viol) found.push_back({v.id, index, line, e.op_name(), v.message, ""});
    }
    undetermined.clear();
    r.expectations += compare_expect(m, e, o, r.file, index, found, undetermined, labels);
    name_frames_in(found, m, labels);
    name_frames_in(undetermined, m, labels);
    for (auto& f : found) record(r, opt, std::move(f));
    for (auto& u : undetermined) {
      ++r.undetermined_total;
      if (r.undetermined.size() < opt.keep_findings) r.undetermined.push_back(std::move(u));
    }
    if (opt.stop_at_first && r.findings_total) break;
  }
  r.rules = m.rule_coverage();
  if (both && !opt.images_out.empty()) r.images = write_images(both->vmm(), opt.images_out, opt.impl, r.file);
}

}  // namespace

ReplayResult replay_file(const std::string& path, const ReplayOptions& opt) {
  ReplayResult r;
  r.file = path;
  auto t0 = std::chrono::steady_clock::now();
  try {
    run(r, opt);
  } catch (const trace::HeaderError& e) {  // bad params: the header's provenance still counts
    r.header = e.header;
    r.error = e.what();
  } catch (const trace::TraceError& e) {
    r.error = e.what();
  } catch (const std::exception& e) {  // e.g. allocation failure: still a clear message
    r.error = path + ": " + e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string check_declared_verdict(const ReplayResult& r) {
  const json& p = r.header.provenance;
  if (!p.contains("expected")) return "the trace header declares no provenance.expected verdict";
  const json& x = p["expected"];
  std::string want = x.value("verdict", "clean");
  if (want != to_string(r.verdict()))
    return std::string("declared verdict '") + want + "', got '" + to_string(r.verdict()) + "'" +
           (r.error.empty() ? "" : " (" + r.error + ")");
  if (want == "bad-input") {  // which error: a different malformation must not pass
    if (!x.contains("error")) return "a declared bad-input verdict must name its error (provenance.expected.error)";
    if (r.error.find(x["error"].get<std::string>()) == std::string::npos)
      return "declared error '" + x["error"].get<std::string>() + "', got '" + r.error + "'";
  }
  if (x.contains("ids"))
    for (const json& id : x["ids"])
      if (!r.by_id.count(id.get<std::string>())) return "declared finding " + id.get<std::string>() + " was not reported";
  if (x.contains("undetermined") && x["undetermined"].get<std::uint64_t>() != r.undetermined_total)
    return "declared " + std::to_string(x["undetermined"].get<std::uint64_t>()) + " undetermined cases, got " +
           std::to_string(r.undetermined_total);
  return "";
}

}  // namespace vmref::conformance
