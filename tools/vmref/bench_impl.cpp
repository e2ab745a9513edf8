#include "vmref/conformance/draw.hpp"
#include "bench_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <vector>

#include "vmref/conformance/registry.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/diff/differential.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/radix_table.hpp"
#include "vmref/impl/vmm.hpp"
#include "vmref/model/model.hpp"

namespace vmref::cli {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kBase = 0x7f0000000000ull;

double ns_since(Clock::time_point t0) { return std::chrono::duration<double, std::nano>(Clock::now() - t0).count(); }

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

struct PageCosts { std::vector<double> map, protect, unmap, translate; };

/// One run over a fresh table: every page mapped, write-protected, translated, unmapped,
/// one page per call; each sample is the mean of `batch` consecutive calls.
void run_tables(const ImplBenchArgs& a, const impl::RadixCodec& fmt, std::mt19937_64& rng, PageCosts& c) {
  impl::SimMemory mem;
  impl::FramePool pool(mem);
  impl::RadixTable t(pool, fmt);
  impl::LeafAttrs rw;
  rw.rights = {true, true, false};
  auto timed = [&](std::vector<double>& out, auto&& one) {
    for (std::uint64_t p = 0; p < a.pages; p += a.batch) {
      auto t0 = Clock::now();
      for (std::uint64_t i = p; i < p + a.batch; ++i) one(kBase + i * 4096);
      out.push_back(ns_since(t0) / static_cast<double>(a.batch));
    }
  };
  timed(c.map, [&](std::uint64_t va) { t.map(va, 0x100000000ull + (va - kBase), 4096, rw); });
  timed(c.protect, [&](std::uint64_t va) {
    t.protect(va, 4096, [](std::uint64_t, std::uint64_t, impl::LeafAttrs& x) { x.rights.w = false; });
  });
  std::vector<std::uint64_t> probes(a.pages);
  for (auto& v : probes) v = kBase + conformance::draw(rng, a.pages) * 4096 + 0x10;
  std::uint64_t sink = 0;
  for (std::uint64_t p = 0; p < a.pages; p += a.batch) {
    auto t0 = Clock::now();
    for (std::uint64_t i = p; i < p + a.batch; ++i) sink += t.translate(probes[i], false, false).pa;
    c.translate.push_back(ns_since(t0) / static_cast<double>(a.batch));
  }
  timed(c.unmap, [&](std::uint64_t va) { t.unmap(va, 4096); });
  if (sink == 1 || t.table_pages() != 1) std::cerr << "bench: unexpected table state\n";
}

/// Data frames of the fuzz-throughput runs: the kernel's campaign memory, else 64 MiB.
std::uint64_t frames_for(const std::string& profile) {
  std::uint64_t f = vocab::resolve_profile(profile).kernel().campaign_frames;
  return f ? f : (64ull << 20) / 4096;
}

/// The bench's profile: `a.profile` with the format's implied kernel parameters (a GPU
/// format's MMU version), as a campaign on that format runs it.
struct BenchProfile {
  vocab::Profile profile;
  nlohmann::json params;
};
BenchProfile bench_profile(const ImplBenchArgs& a, const impl::FormatInfo& format) {
  const vocab::Profile base = vocab::resolve_profile(a.profile);
  nlohmann::json params = diff::with_implied_params(nlohmann::json::object(), format, base.kernel());
  return {vocab::with_params(base, params, vocab::ParamContext{"--impl", 0, 4096, frames_for(a.profile)}), params};
}

std::vector<vocab::Event> events(const ImplBenchArgs& a, const vocab::Profile& profile) {
  const auto* k = conformance::find_conformance_kernel(profile.kernel().name);
  if (!k || !k->generator) throw std::invalid_argument("profile " + a.profile + " has no event generator");
  auto gen = k->generator(a.seed, profile, a.cpus);
  model::Model shadow(profile, a.cpus, frames_for(a.profile), 4096);
  std::vector<vocab::Event> evs;
  for (std::uint64_t i = 0; i < a.events; ++i) {
    evs.push_back(gen->next());
    gen->feedback(evs.back(), shadow.apply(evs.back()));
  }
  return evs;
}

double rate(std::uint64_t n, Clock::time_point t0) { return static_cast<double>(n) / (ns_since(t0) / 1e9); }

double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

/// The kernel's own map and unmap calls (ConformanceKernelInfo::page_bench), timed per
/// page on the implementation and, as the baseline in the same run, on the model: `runs`
/// fresh runs of a.pages pages each, at 1 and 512 pages per call; medians. The model
/// runs the first kModelCalls calls only: it is written to be obviously right, not fast,
/// and some of its steps grow with what is mapped.
void page_bench(const ImplBenchArgs& a, const impl::FormatInfo& format, const impl::FormatConfig& cfg,
                const impl::RadixCodec& codec, const vocab::Profile& profile) {
  constexpr std::size_t kModelCalls = 256;
  const auto* k = conformance::find_conformance_kernel(profile.kernel().name);
  if (!k || !k->page_bench) return;
  std::cout << fmt::format("{} map and unmap calls, ns per 4 KiB page ({} pages per run, median of {} runs):\n",
                           profile.kernel().name, a.pages, a.runs);
  for (std::uint64_t per_call : {std::uint64_t{1}, std::uint64_t{512}}) {
    const conformance::PageBench b = k->page_bench(profile, per_call, std::max<std::uint64_t>(1, a.pages / per_call));
    const std::size_t model_calls = std::min(b.map.size(), kModelCalls);
    const std::vector<vocab::Event> mmaps(b.map.begin(), b.map.begin() + static_cast<long>(model_calls));
    const std::vector<vocab::Event> munmaps(b.unmap.begin(), b.unmap.begin() + static_cast<long>(model_calls));
    std::vector<double> imap, iunmap, mmap, munmap;
    for (unsigned r = 0; r < a.runs; ++r) {
      std::unique_ptr<impl::Mmu> mmu = format.mmu(a.cpus, cfg);
      impl::Vmm vmm(profile, impl::VmmConfig{frames_for(a.profile), &codec, mmu.get(), nullptr});
      model::Model m(profile, a.cpus, frames_for(a.profile), 4096);
      for (const auto& e : b.setup) vmm.apply(e), m.apply(e);
      auto timed = [&](auto& side, const std::vector<vocab::Event>& evs, std::vector<double>& out) {
        auto t0 = Clock::now();
        for (const auto& e : evs)
          if (side.apply(e).err != vocab::Err::ok) throw std::runtime_error("bench: a benchmark call failed");
        out.push_back(ns_since(t0) / static_cast<double>(evs.size() * b.pages_per_call));
      };
      timed(vmm, b.map, imap);
      timed(vmm, b.unmap, iunmap);
      timed(m, mmaps, mmap);
      timed(m, munmaps, munmap);
    }
    std::cout << fmt::format("  {:>3} pages/call  map {:7.1f}  unmap {:7.1f}   (model, first {} pages: map {:7.1f}  unmap "
                             "{:7.1f}; ratio {:.2f} / {:.2f})\n",
                             per_call, median(imap), median(iunmap), model_calls * b.pages_per_call, median(mmap),
                             median(munmap), median(imap) / median(mmap), median(iunmap) / median(munmap));
  }
}

}  // namespace

int bench_impl(const ImplBenchArgs& a) {
  const impl::FormatInfo& format = impl::format_or_throw(a.format);
  impl::FormatConfig cfg;
  cfg.params = a.params;
  std::unique_ptr<impl::RadixCodec> codec = format.codec(cfg);
  std::mt19937_64 rng(a.seed);
  PageCosts c;
  for (unsigned r = 0; r < a.runs; ++r) run_tables(a, *codec, rng, c);
  std::cout << fmt::format("{} page tables, 4 KiB pages one call each ({} pages x {} runs; samples of {} calls):\n",
                           format.name, a.pages, a.runs, a.batch);
  auto line = [&](const char* what, const std::vector<double>& v) {
    std::cout << fmt::format("  {:<10} P50 {:6.1f} ns/page   P90 {:6.1f}   P99 {:6.1f}\n", what, percentile(v, 0.5),
                             percentile(v, 0.9), percentile(v, 0.99));
  };
  line("map", c.map);
  line("protect", c.protect);
  line("unmap", c.unmap);
  line("translate", c.translate);
  const BenchProfile bp = bench_profile(a, format);
  page_bench(a, format, cfg, *codec, bp.profile);
  std::vector<vocab::Event> evs = events(a, bp.profile);
  std::uint64_t frames = frames_for(a.profile);
  auto t0 = Clock::now();
  model::Model m(bp.profile, a.cpus, frames, 4096);
  for (const auto& e : evs) m.apply(e);
  double model_rate = rate(evs.size(), t0);
  std::unique_ptr<impl::Mmu> mmu = format.mmu(a.cpus, cfg);
  t0 = Clock::now();
  impl::Vmm vmm(bp.profile, impl::VmmConfig{frames, codec.get(), mmu.get(), nullptr});
  for (const auto& e : evs) vmm.apply(e);
  double impl_rate = rate(evs.size(), t0);
  diff::DiffConfig dc;
  dc.profile = a.profile;
  dc.params = bp.params;
  dc.impl = format.name;
  dc.cpus = a.cpus;
  dc.frames = frames;
  dc.format = cfg;
  t0 = Clock::now();
  diff::Differential d(dc);
  std::uint64_t findings = 0;
  for (const auto& e : evs) findings += d.step(e).size();
  double both_rate = rate(evs.size(), t0);
  std::cout << fmt::format("differential fuzzing, profile {}, {} generated events (ops/s):\n  model alone {:>10.0f}\n  impl alone  {:>10.0f}\n"
                           "  both, compared, with the model's invariants {:>10.0f}  ({} findings)\n",
                           a.profile, evs.size(), model_rate, impl_rate, both_rate, findings);
  return findings ? 1 : 0;
}

}  // namespace vmref::cli
