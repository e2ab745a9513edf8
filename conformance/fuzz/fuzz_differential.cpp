// Fuzz target: the differential itself (spec/differential.md). The input's bytes are the
// generator's draws (conformance::Random::from_bytes: one to eight bytes per choice), so
// libFuzzer's mutations steer which operation, address, length and CPU comes next; the
// model and the implementation run in lock step (diff::run_episode) for up to kMaxEvents
// events or until the bytes run out, and any finding, DIFF-* or invariant, aborts with
// its ID and message. An event the harness cannot apply is not a finding here (the
// campaigns report those as harness errors).
//
// Configured once from the environment (libFuzzer passes no arguments of its own):
//   VMREF_FUZZ_PROFILE  kernel[:variant]; default: the mutant's profile or kernel, else the first kernel
//   VMREF_FUZZ_IMPL     page-table format; default: the mutant's format, else the first registered
//   VMREF_FUZZ_MUTANT   a deliberately broken variant (`vmref fuzz --list-mutants`): the
//                       target must then crash, which is how it shows it catches one (a
//                       mutant of the VMM layer: table-layer mutants need `vmref fuzz`)
// A bad setting is printed and exits 2 before the first input.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_support.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/impl/mutant.hpp"
#include "vmref/vocab/registry.hpp"

using namespace vmref;

namespace {

constexpr std::uint64_t kMaxEvents = 400;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

/// The campaign options every input runs under, resolved and checked once (unknown
/// names, a format too narrow for the profile).
const diff::CampaignOptions& options() {
  static const diff::CampaignOptions o = [] {
    diff::CampaignOptions c;
    try {
      c.format.mutant = impl::find_mutant(env("VMREF_FUZZ_MUTANT"));
      if (!env("VMREF_FUZZ_MUTANT").empty() && !c.format.mutant)
        throw std::invalid_argument("VMREF_FUZZ_MUTANT: no mutant '" + env("VMREF_FUZZ_MUTANT") + "'");
      c.profile = env("VMREF_FUZZ_PROFILE");
      c.impl = env("VMREF_FUZZ_IMPL");
      if (impl::Mutant m = c.format.mutant) {  // the system the mutant lives in, unless told
        const std::string owner = m->owner;
        if (c.impl.empty() && impl::find_format(owner)) c.impl = owner;
        if (c.profile.empty() && m->profile) c.profile = m->profile;
        for (const vocab::KernelInfo* k : vocab::kernels())
          if (c.profile.empty() && k->name == owner) c.profile = owner;
      }
      diff::resolve_defaults(c);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz_differential: %s\n", e.what());
      std::exit(2);
    }
    return c;
  }();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::init();
  std::vector<conformance::Finding> found;
  try {
    found = diff::run_episode(options(), conformance::Random::from_bytes(data, size), kMaxEvents);
  } catch (const std::exception&) {
    return 0;  // not applicable: no verdict on this input
  }
  if (!found.empty()) fuzz::broken(found.front().id + " in " + found.front().op + ": " + found.front().message);
  return 0;
}
