// vmref gen : write a synthetic, always-applicable trace of a kernel's random events
// (benchmarks, smoke tests), from the kernel's generator (conformance/registry.hpp).
#include <iostream>

#include "commands.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/model/model.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/line_io.hpp"
#include "vmref/vocab/core_ops.hpp"

namespace vmref::cli {

namespace {
struct GenArgs {
  std::uint64_t events = 100000, seed = 1;
  unsigned cpus = 2;
  std::string out, profile;
  bool expect = false;
};

nlohmann::json outcome_json(const vocab::Event& e, const vocab::Outcome& o) {
  if (o.err != vocab::Err::ok) return {{"errno", to_string(o.err)}};
  if (e.op == &vocab::ops::access) return {{"result", to_string(o.access)}};
  if (e.op->flags & vocab::kReturnsValue) return {{"ret", trace::hex(o.ret)}};
  return {{"errno", "ok"}};
}

/// The header of a synthetic trace: the kernel's campaign memory, else 64 MiB.
trace::Header header_for(const GenArgs& a) {
  trace::Header h;
  h.profile = a.profile;
  h.cpus = a.cpus;
  std::uint64_t frames = vocab::resolve_profile(a.profile).kernel().campaign_frames;
  h.phys_mem = frames ? frames * 4096 : 64ull << 20;
  h.provenance = {{"source", "vmref gen (synthetic)"}, {"seed", a.seed}};
  return h;
}
}  // namespace

Runner add_gen(CLI::App& app) {
  auto a = std::make_shared<GenArgs>();
  a->profile = default_profile();
  auto* c = app.add_subcommand("gen", "Generate a synthetic trace of a kernel's random operations");
  c->add_option("--profile", a->profile, "Kernel profile (see `vmref fuzz --list-profiles`)")->capture_default_str()
      ->check(CLI::IsMember(profile_choices()));
  c->add_option("--events", a->events, "Number of events")->capture_default_str();
  c->add_option("--seed", a->seed, "Random seed")->capture_default_str();
  c->add_option("--cpus", a->cpus, "CPUs (clusters, for a kernel that names them so)")->capture_default_str()->check(CLI::Range(1, 64));
  c->add_option("-o,--out", a->out, "Output trace (.jsonl, or .zst to compress)")->required();
  c->add_flag("--expect", a->expect, "Record the model's outcome of each event as its expectation");
  return [a] {
    trace::Header h = header_for(*a);
    const auto* k = conformance::find_conformance_kernel(vocab::resolve_profile(a->profile).kernel().name);
    if (!k || !k->generator) throw std::invalid_argument("profile " + a->profile + " has no event generator");
    auto gen = k->generator(a->seed, vocab::resolve_profile(a->profile), a->cpus);
    model::Model m = trace::model_for(h);
    trace::LineWriter w(a->out, trace::wants_zstd(a->out));
    w.write(trace::header_to_json(h).dump());
    for (std::uint64_t i = 0; i < a->events; ++i) {
      vocab::Event e = gen->next();
      vocab::Outcome o = m.apply(e);
      gen->feedback(e, o);
      if (a->expect && e.op != &vocab::ops::observe && e.op != &vocab::ops::switch_as) e.expect = outcome_json(e, o);
      w.write(trace::event_to_json(e).dump());
    }
    w.close();
    std::cout << a->out << ": " << a->events << " events\n";
    return kExitClean;
  };
}

}  // namespace vmref::cli
