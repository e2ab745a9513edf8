// vmref bench : throughput of the model itself (no trace I/O) on random linux-profile
// operations: apply only, apply + incremental invariant checks, apply + full checks.
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "bench_impl.hpp"
#include "commands.hpp"
#include "vmref/conformance/random_trace.hpp"
#include "vmref/model/invariants.hpp"

namespace vmref::cli {

namespace {
struct BenchArgs {
  std::uint64_t events = 1000000, seed = 1, full_events = 20000;
  std::string impl;
  ImplBenchArgs ib;
};

/// Runs `n` generated events; mode 0 = apply only, 1 = + delta checks, 2 = + full checks.
double run(std::uint64_t n, std::uint64_t seed, int mode, std::uint64_t& violations) {
  conformance::RandomTrace gen(seed);
  trace::Header h = gen.header();
  model::Model m = trace::model_for(h);
  std::vector<model::Event> evs;  // generate first so only the model is timed
  evs.reserve(n);
  model::Model shadow = trace::model_for(h);
  for (std::uint64_t i = 0; i < n; ++i) {
    evs.push_back(gen.next());
    gen.feedback(evs.back(), shadow.apply(evs.back()));
  }
  std::vector<model::Violation> v;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& e : evs) {
    m.apply(e);
    if (mode > 0) model::check_invariants(m, mode == 2, v);
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  violations += v.size();
  return n / s;
}
}  // namespace

Runner add_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  auto* c = app.add_subcommand("bench", "Measure model throughput (events/s) without trace I/O, or an implementation's costs (--impl)");
  c->add_option("--events", a->events, "Events for the apply and incremental-check runs")->capture_default_str();
  c->add_option("--full-events", a->full_events, "Events for the full-check run (it is O(state) per event)")->capture_default_str();
  c->add_option("--seed", a->seed, "Random seed")->capture_default_str();
  auto* impl = c->add_option("--impl", a->impl, "Instead: benchmark this implementation's page tables and fuzz throughput: x86_64")
                   ->check(CLI::IsMember({"x86_64"}));
  c->add_option("--pages", a->ib.pages, "--impl: 4 KiB pages per map/protect/unmap run")->needs(impl)->capture_default_str();
  c->add_option("--runs", a->ib.runs, "--impl: runs pooled into the percentiles")->needs(impl)->capture_default_str();
  c->add_option("--fuzz-events", a->ib.events, "--impl: events for the fuzz-throughput runs")->needs(impl)->capture_default_str();
  return [a] {
    if (!a->impl.empty()) {
      a->ib.seed = a->seed;
      return bench_impl(a->ib);
    }
    std::uint64_t bad = 0;
    std::cout << fmt::format("model apply only:            {:>10.0f} events/s ({} events)\n", run(a->events, a->seed, 0, bad), a->events);
    std::cout << fmt::format("apply + incremental checks:  {:>10.0f} events/s ({} events)\n", run(a->events, a->seed, 1, bad), a->events);
    std::cout << fmt::format("apply + full-state checks:   {:>10.0f} events/s ({} events)\n", run(a->full_events, a->seed, 2, bad), a->full_events);
    if (bad) std::cout << bad << " invariant violations (the model is broken)\n";
    return bad ? kExitFindings : kExitClean;
  };
}

}  // namespace vmref::cli
