// vmref gen : write a synthetic, always-applicable trace (benchmarks, smoke tests).
#include <iostream>

#include "commands.hpp"
#include "vmref/conformance/random_trace.hpp"
#include "vmref/model/model.hpp"
#include "vmref/trace/line_io.hpp"

namespace vmref::cli {

namespace {
struct GenArgs {
  std::uint64_t events = 100000, seed = 1;
  unsigned cpus = 2;
  std::string out;
  bool expect = false;
};

nlohmann::json outcome_json(const model::Event& e, const model::Outcome& o) {
  if (e.op == model::Op::access) {
    if (o.err != model::Err::ok) return {{"errno", to_string(o.err)}};
    return {{"result", to_string(o.access)}};
  }
  if (o.err != model::Err::ok) return {{"errno", to_string(o.err)}};
  if (e.op == model::Op::mmap) return {{"ret", trace::hex(o.ret)}};
  return {{"errno", "ok"}};
}
}  // namespace

Runner add_gen(CLI::App& app) {
  auto a = std::make_shared<GenArgs>();
  auto* c = app.add_subcommand("gen", "Generate a synthetic linux-profile trace of random operations");
  c->add_option("--events", a->events, "Number of events")->capture_default_str();
  c->add_option("--seed", a->seed, "Random seed")->capture_default_str();
  c->add_option("--cpus", a->cpus, "CPUs")->capture_default_str()->check(CLI::Range(1, 64));
  c->add_option("-o,--out", a->out, "Output trace (.jsonl, or .zst to compress)")->required();
  c->add_flag("--expect", a->expect, "Record the model's outcome of each event as its expectation");
  return [a] {
    conformance::RandomTraceParams p;
    p.cpus = a->cpus;
    conformance::RandomTrace gen(a->seed, p);
    trace::Header h = gen.header();
    model::Model m = trace::model_for(h);
    trace::LineWriter w(a->out, trace::wants_zstd(a->out));
    w.write(trace::header_to_json(h).dump());
    for (std::uint64_t i = 0; i < a->events; ++i) {
      model::Event e = gen.next();
      model::Outcome o = m.apply(e);
      gen.feedback(e, o);
      if (a->expect && e.op != model::Op::observe && e.op != model::Op::switch_as) e.expect = outcome_json(e, o);
      w.write(trace::event_to_json(e).dump());
    }
    w.close();
    std::cout << a->out << ": " << a->events << " events\n";
    return kExitClean;
  };
}

}  // namespace vmref::cli
