// vmref bench : throughput of the model itself (no trace I/O) on a kernel's random
// operations: apply only, apply + incremental invariant checks, apply + full checks.
// --decode TRACE: decoding speed of a trace file without the model (spec/trace-format.md).
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "bench_impl.hpp"
#include "commands.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/trace_reader.hpp"

namespace vmref::cli {

namespace {
struct BenchArgs {
  std::uint64_t events = 1000000, seed = 1, full_events = 20000;
  std::string impl, profile, decode;
  ImplBenchArgs ib;
};

/// Runs `n` generated events; mode 0 = apply only, 1 = + delta checks, 2 = + full checks.
double run(const std::string& profile, std::uint64_t n, std::uint64_t seed, int mode, std::uint64_t& violations) {
  const auto* k = conformance::find_conformance_kernel(vocab::resolve_profile(profile).kernel().name);
  if (!k || !k->generator) throw std::invalid_argument("profile " + profile + " has no event generator");
  auto gen = k->generator(seed, vocab::resolve_profile(profile), 2);
  std::uint64_t frames = vocab::resolve_profile(profile).kernel().campaign_frames;
  if (!frames) frames = (64ull << 20) / 4096;
  model::Model m(profile, 2, frames, 4096);
  std::vector<vocab::Event> evs;  // generate first so only the model is timed
  evs.reserve(n);
  model::Model shadow(profile, 2, frames, 4096);
  for (std::uint64_t i = 0; i < n; ++i) {
    evs.push_back(gen->next());
    gen->feedback(evs.back(), shadow.apply(evs.back()));
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
/// Reads `path` twice: its lines only (LineReader), then decoded into events
/// (TraceReader: the line reader, simdjson and every operation's strict decoder).
int bench_decode(const std::string& path) {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  trace::LineReader lines(path);
  std::string text;
  std::uint64_t n_lines = 0, bytes = 0;
  while (lines.next(text)) ++n_lines, bytes += text.size() + 1;
  double split = std::chrono::duration<double>(clock::now() - t0).count();
  t0 = clock::now();
  trace::TraceReader in(path);
  vocab::Event e;
  std::uint64_t events = 0;
  while (in.next(e)) ++events;
  double decode = std::chrono::duration<double>(clock::now() - t0).count();
  std::cout << fmt::format("lines only (read, split):    {:>10.0f} lines/s ({} lines, {:.0f} MB/s)\n", n_lines / split, n_lines,
                           bytes / split / 1e6);
  std::cout << fmt::format("decode (lines + events):     {:>10.0f} events/s ({} events, {:.3f} s)\n", events / decode, events,
                           decode);
  return kExitClean;
}
}  // namespace

Runner add_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  auto* c = app.add_subcommand("bench", "Measure model throughput (events/s) without trace I/O, or an implementation's costs (--impl)");
  c->add_option("--events", a->events, "Events for the apply and incremental-check runs")->capture_default_str();
  c->add_option("--full-events", a->full_events, "Events for the full-check run (it is O(state) per event)")->capture_default_str();
  c->add_option("--seed", a->seed, "Random seed")->capture_default_str();
  a->profile = default_profile();
  c->add_option("--profile", a->profile, "Kernel profile whose random events are run")->capture_default_str()
      ->check(CLI::IsMember(profile_choices()));
  auto* impl = c->add_option("--impl", a->impl, "Instead: benchmark the page tables of this format and the fuzz throughput")
                   ->check(CLI::IsMember(format_choices()));
  c->add_option("--decode", a->decode, "Instead: decode this trace (.jsonl or .zst) without the model and print events/s")
      ->check(CLI::ExistingFile)->excludes(impl);
  add_format_options(c, a->ib.params);
  c->add_option("--pages", a->ib.pages, "--impl: 4 KiB pages per map/protect/unmap run")->needs(impl)->capture_default_str();
  c->add_option("--runs", a->ib.runs, "--impl: runs pooled into the percentiles")->needs(impl)->capture_default_str();
  c->add_option("--fuzz-events", a->ib.events, "--impl: events for the fuzz-throughput runs")->needs(impl)->capture_default_str();
  return [a] {
    if (!a->decode.empty()) {
      try {
        return bench_decode(a->decode);
      } catch (const trace::TraceError& e) {
        std::cerr << "vmref bench: " << e.what() << "\n";
        return kExitBadInput;
      }
    }
    if (!a->impl.empty()) {
      a->ib.seed = a->seed;
      a->ib.format = a->impl;
      a->ib.profile = a->profile;
      return bench_impl(a->ib);
    }
    std::uint64_t bad = 0;
    std::cout << fmt::format("model apply only:            {:>10.0f} events/s ({} events)\n", run(a->profile, a->events, a->seed, 0, bad), a->events);
    std::cout << fmt::format("apply + incremental checks:  {:>10.0f} events/s ({} events)\n", run(a->profile, a->events, a->seed, 1, bad), a->events);
    std::cout << fmt::format("apply + full-state checks:   {:>10.0f} events/s ({} events)\n", run(a->profile, a->full_events, a->seed, 2, bad), a->full_events);
    if (bad) std::cout << bad << " invariant violations (the model is broken)\n";
    return bad ? kExitFindings : kExitClean;
  };
}

}  // namespace vmref::cli
