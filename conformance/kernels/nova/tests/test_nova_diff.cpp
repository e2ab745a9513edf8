// The nova implementation in lock step with the model (spec/differential.md §4.3,
// spec/kernels/nova.md §13): campaigns on both MMU versions, the seed's flows and
// defects replayed through it, format mutants reaching the GPU tables, and the MMU
// version the other NVIDIA format refuses.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "helpers.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/diff/differential.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/trace/hex.hpp"

using namespace vmref;

namespace {
/// The NVIDIA format of GMMU version `v` (found in the registry, not named here).
std::string gpu(unsigned v) {
  const impl::FormatInfo* f = impl::find_gpu_format(v);
  return f ? f->name : "";
}

diff::CampaignResult campaign(const std::string& profile, const std::string& impl, unsigned mmu, std::uint64_t ops,
                              std::uint64_t episode = 2000) {
  diff::CampaignOptions o;
  o.profile = profile;
  o.impl = impl;
  o.params = {{"mmu", mmu}};
  o.ops = ops;
  o.episode = episode;
  o.seed = 11;
  o.table_layer = false;
  return diff::run_campaign(o);
}

std::string first(const diff::CampaignResult& r) {
  return r.examples.empty() ? "" : r.examples[0].id + ": " + r.examples[0].message;
}

conformance::ReplayResult replay(const std::string& path, const std::string& impl, const std::string& mutant = "",
                                 unsigned mmu = 0) {
  conformance::ReplayOptions o;
  o.impl = impl;
  o.mutant = mutant;
  if (mmu) o.params = {{"mmu", mmu}};  // over the header's, as --param mmu=N
  return conformance::replay_file(test::source_dir() + "/" + path, o);
}

/// Writes `text` as trace `name` in the temporary directory and replays it in lock step
/// with the NVIDIA format of GMMU version `mmu`.
conformance::ReplayResult replay_text(const std::string& name, const std::string& text, unsigned mmu) {
  const std::filesystem::path p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p) << text;
  conformance::ReplayOptions o;
  o.impl = gpu(mmu);
  return conformance::replay_file(p.string(), o);
}

bool any_diff(const conformance::ReplayResult& r) {
  for (const auto& [id, n] : r.by_id)
    if (id.rfind("DIFF-", 0) == 0) return true;
  return false;
}
}  // namespace

TEST(Differential_4_3_Nova, FixedCampaignsAreCleanOnBothMmuVersions) {
  for (unsigned mmu : {2u, 3u}) {
    const std::string impl = gpu(mmu);
    ASSERT_FALSE(impl.empty()) << "no NVIDIA format of version " << mmu;
    diff::CampaignResult r = campaign("nova:fixed", impl, mmu, 4000);
    EXPECT_EQ(r.findings, 0u) << impl << ": " << first(r);
    EXPECT_TRUE(r.first_error.empty()) << r.first_error;
    EXPECT_GT(r.op_kinds["nova_map"] + r.op_kinds["nova_execute"], 500u) << impl;
    EXPECT_GT(r.op_kinds["nova_access"], 100u) << impl;
  }
}

// The implementation follows the seed's defects as the model does: on `posted` only the
// model's INV-NOVA-* findings, never a DIFF-*.
TEST(Differential_4_3_Nova, PostedCampaignsDisagreeOnNothing) {
  for (unsigned mmu : {2u, 3u}) {
    const std::string impl = gpu(mmu);
    diff::CampaignResult r = campaign("nova", impl, mmu, 6000, 40);
    EXPECT_GT(r.findings, 0u) << impl;
    for (const auto& [id, n] : r.by_id) EXPECT_EQ(id.rfind("INV-NOVA-", 0), 0u) << impl << ": " << id;
  }
}

TEST(Differential_4_3_Nova, ScenariosReplayInLockStepWithTheirDeclaredFindingsOnly) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::source_dir() + "/traces/scenarios/nova")) {
    const std::string name = "traces/scenarios/nova/" + entry.path().filename().string();
    const bool v3 = name.find("/v3-") != std::string::npos;
    conformance::ReplayResult r = replay(name, gpu(v3 ? 3 : 2));
    EXPECT_TRUE(r.error.empty() || r.error.find("no mapped range") != std::string::npos) << name << ": " << r.error;
    EXPECT_FALSE(any_diff(r)) << name;
    EXPECT_GE(r.events, 3u) << name;
    ++n;
  }
  EXPECT_GE(n, 13u);
}

// The format's codec writes nova's tables, so its mutants break what nova writes.
TEST(Differential_4_3_Nova, FormatMutantsReachTheGpuTables) {
  const std::string flows = "traces/scenarios/nova/map-unmap-1-511-512-513.jsonl";
  // Every codec mutant of each GPU format that the seed's flows reach (those naming a
  // profile need big PTE states, 2 MiB leaves or targeted flushes; ACK NONE counted as
  // complete needs a flush that drops something) breaks what the kernel writes: on v3
  // tables with --param mmu=3 too.
  std::size_t codec_mutants = 0;
  for (unsigned mmu : {2u, 3u}) {
    EXPECT_FALSE(any_diff(replay(flows, gpu(mmu), "", mmu))) << gpu(mmu);
    for (const impl::MutantInfo* m : impl::all_mutants()) {
      const std::string name = m->name;
      if (m->owner != gpu(mmu) || *m->profile || name.find("ack-none") != std::string::npos) continue;
      EXPECT_TRUE(replay(flows, gpu(mmu), name, mmu).by_id.count("DIFF-PTE")) << name;
      ++codec_mutants;
    }
  }
  EXPECT_GE(codec_mutants, 6u);
}

TEST(Differential_4_3_Nova, TheOtherNvidiaVersionIsRefusedNamingParamsMmu) {
  diff::DiffConfig c;
  c.profile = "nova:fixed";
  c.impl = gpu(3);
  try {
    diff::Differential d(c);
    ADD_FAILURE() << c.impl << " accepted params.mmu = 2";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("params.mmu"), std::string::npos) << e.what();
  }
  c.params = {{"mmu", 3}};
  EXPECT_NO_THROW(diff::Differential{c});
  for (const impl::FormatInfo* f : impl::all_formats())
    if (!f->gmmu) {  // a CPU format: the GPU tables get a codec of their own
      c.impl = f->name;
      EXPECT_NO_THROW(diff::Differential{c}) << f->name;
    }
}

// nova_flush (spec/kernels/nova.md §8.1): its fields are checked when decoded, and its
// range against the version's VA by both sides.
TEST(Differential_4_3_Nova, DriverFlushRefusesBadFieldsNamingThem) {
  auto field_of = [](const std::string& line) {
    try {
      test::ev(line);
    } catch (const trace::TraceError& e) {
      return e.field;
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"va":"0x1000"})"), "size");
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"size":"0x1000"})"), "va");
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"va":"0x0","size":"0x0"})"), "size");
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"va":"0xffffffffffffffff","size":"0x2"})"), "size");
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"ack":"eventually"})"), "ack");
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"ack":"intranode","va":"0x0","size":"0x1"})"), "(accepted)");
  const std::string beyond = R"({"vmref_trace":1,"profile":"nova:fixed"}
{"op":"as_create","as":1}
{"op":"nova_new","as":1}
{"op":"nova_flush","as":1,"va":"0x1fffffffff000","size":"0x2000"})";
  EXPECT_TRUE(test::names_field(test::replay_error("flush-beyond", beyond), "va")) << test::replay_error("flush-beyond", beyond);
}

namespace {
/// A mechanism-level trace (spec/kernels/nova.md §15) that builds one path of zeroed
/// table pages from PDB 0x20000 down to a small and a big page table over VA 2 MiB,
/// writes `words` raw into the small PTEs and `bigs` into the big PTEs, and reads and
/// writes every page: the model's own decoder and the format's walk must agree on all.
std::string raw_word_trace(unsigned mmu, const std::vector<std::uint64_t>& words, const std::vector<std::uint64_t>& bigs) {
  const std::vector<unsigned> shift = mmu == 2 ? std::vector<unsigned>{47, 38, 29, 21, 12}
                                               : std::vector<unsigned>{56, 47, 38, 29, 21, 12};
  const std::vector<unsigned> width = mmu == 2 ? std::vector<unsigned>{2, 9, 9, 8, 9} : std::vector<unsigned>{1, 9, 9, 9, 8, 9};
  const unsigned pt = static_cast<unsigned>(shift.size()) - 1, dual = pt - 1;
  const std::uint64_t base = 0x20000, va = 0x200000, big = base + 0x10;
  auto idx = [&](unsigned l) { return (va >> shift[l]) & ((1ull << width[l]) - 1); };
  auto pde = [&](std::uint64_t p) { return mmu == 2 ? (p << 8) | 2 : (p << 12) | 2; };  // aperture VIDEO
  std::ostringstream t;
  t << R"({"vmref_trace":1,"profile":"nova:fixed","params":{"mmu":)" << mmu << "}}\n"
    << R"({"op":"as_create","as":1})" << "\n"
    << R"({"op":"nova_new","as":1,"pdb":")" << trace::hex(base) << "\"}\n"
    << R"({"op":"nova_va_alloc","as":1,"va":")" << trace::hex(va) << R"(","size":"0x200000"})" << "\n";
  auto line = [&](const std::string& op, const std::string& fields) { t << R"({"op":")" << op << R"(","as":1,)" << fields << "}\n"; };
  auto write = [&](const char* op, std::uint64_t addr, std::uint64_t v) {
    line(op, R"("addr":")" + trace::hex(addr) + R"(","value":")" + trace::hex(v) + "\"");
  };
  for (unsigned l = 1; l <= pt; ++l) {
    line("nova_pt_alloc", R"("pfn":")" + trace::hex(base + l) + R"(","level":)" + std::to_string(l));
    line("nova_pt_zero", R"("pfn":")" + trace::hex(base + l) + "\"");
  }
  line("nova_pt_alloc", R"("pfn":")" + trace::hex(big) + R"(","level":)" + std::to_string(pt) + R"(,"big":true)");
  line("nova_pt_zero", R"("pfn":")" + trace::hex(big) + "\"");
  for (unsigned l = 0; l < pt; ++l) {
    const std::uint64_t slot = ((base + l) << 12) + idx(l) * (l == dual ? 16 : 8);
    write("nova_pde_write", slot + (l == dual ? 8 : 0), pde(base + l + 1));
  }
  const std::uint64_t dual_slot = ((base + dual) << 12) + idx(dual) * 16;
  write("nova_pde_write", dual_slot, mmu == 2 ? ((big << 12) >> 8 << 4) | 2 : ((big << 12) >> 8 << 8) | 2);
  for (std::size_t i = 0; i < words.size(); ++i) write("nova_pte_write", ((base + pt) << 12) + i * 8, words[i]);
  for (std::size_t c = 0; c < bigs.size(); ++c) write("nova_pte_write", (big << 12) + c * 8, bigs[c]);
  for (std::size_t i = 0; i < words.size(); ++i)
    for (const char* kind : {"read", "write", "atomic"})
      line("nova_access", R"("va":")" + trace::hex(va + i * 4096) + R"(","kind":")" + kind + "\"");
  return t.str();
}
}  // namespace

// The model reads raw words with its own decoder (model/kernels/nova/raw_words.cpp), the
// implementation stores them untouched and its format's walk reads them: random valid
// and invalid VIDEO PTEs (every bit random but the aperture, PRIVILEGE and the peer ID,
// which the model refuses: Nova_15_Mechanism) and random big PTE states must give the
// same accesses, tables and TLB on both sides.
TEST(Differential_4_3_Nova, RawWordsReadTheSameByTheModelAndTheFormatsWalk) {
  std::mt19937_64 rng(5);
  for (unsigned mmu : {2u, 3u}) {
    std::size_t valid = 0, hidden = 0;
    for (int round = 0; round < 8; ++round) {
      std::vector<std::uint64_t> words(48), bigs(3);
      for (std::uint64_t& w : words) {
        w = rng() & ~std::uint64_t{6};  // aperture VIDEO: the model maps VRAM pages only
        w &= ~std::uint64_t{mmu == 2 ? 0x20u : 0x10u};  // PRIVILEGE clear: nova maps user pages (§15)
        if (mmu == 2) w &= ~(std::uint64_t{7} << 33);  // no peer ID in a VIDEO PTE (V2-C8)
        else w &= ~(std::uint64_t{7} << 61);           // (V3-C8)
        valid += w & 1;
      }
      for (std::uint64_t& b : bigs) {
        b = rng() & ~std::uint64_t{1};  // invalid: a U, I or S state
        if (rng() % 3 == 0) b = 0;
      }
      const std::string name = "vmref-raw-words-" + std::to_string(mmu) + "-" + std::to_string(round) + ".jsonl";
      conformance::ReplayResult r = replay_text(name, raw_word_trace(mmu, words, bigs), mmu);
      EXPECT_TRUE(r.error.empty()) << name << ": " << r.error;
      EXPECT_FALSE(any_diff(r)) << name << ": " << (r.findings.empty() ? "" : r.findings[0].message);
      EXPECT_GT(r.events, 150u) << name;
      if (r.by_id.count("INV-NOVA-8")) hidden += r.by_id.at("INV-NOVA-8");  // a valid small PTE under I or S
    }
    EXPECT_GT(valid, 100u) << "both kinds of PTE word";
    EXPECT_GT(hidden, 0u) << "some big states hide small PTEs";
  }
}

// `--images-out DIR` never replaces the trace it replays (a trace named vram.img in DIR),
// and refuses before writing any image.
TEST(Differential_4_3_Nova, ImagesOutRefusesToOverwriteTheReplayedTrace) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "vmref-images-same-file";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::filesystem::path trace = dir / "vram.img";
  std::filesystem::copy_file(test::source_dir() + "/traces/scenarios/nova/live-mappings-for-walk.jsonl", trace);
  const auto before = std::filesystem::file_size(trace);
  conformance::ReplayOptions o;
  o.impl = gpu(2);
  o.images_out = dir.string();
  conformance::ReplayResult r = conformance::replay_file(trace.string(), o);
  EXPECT_NE(r.error.find("refusing to overwrite"), std::string::npos) << r.error;
  EXPECT_EQ(std::filesystem::file_size(trace), before);
  EXPECT_FALSE(std::filesystem::exists(dir / "phys.img")) << "an image was written before the refusal";
}

// A recording may link one table page from every slot of the level above (INV-NOVA-4).
// The model's TLB fill, the checker's walk and the format's walk each enter a table once
// per level, so 512 x 512 x 256 aliased paths to 512 PTEs stay a bounded replay: the
// aliases are findings, not a hang or an exhausted memory.
TEST(Differential_4_3_Nova, TablesLinkedFromEverySlotStayBounded) {
  std::ostringstream t;
  const std::uint64_t b = 0x20000;
  auto ev = [&](const std::string& fields) { t << fields << "\n"; };
  ev(R"({"vmref_trace":1,"profile":"nova:fixed"})");
  ev(R"({"op":"as_create","as":1})");
  ev(R"({"op":"nova_new","as":1,"pdb":"0x20000"})");
  for (unsigned l = 1; l <= 4; ++l) {
    ev(R"({"op":"nova_pt_alloc","as":1,"pfn":")" + trace::hex(b + l) + R"(","level":)" + std::to_string(l) + "}");
    ev(R"({"op":"nova_pt_zero","as":1,"pfn":")" + trace::hex(b + l) + "\"}");
  }
  auto write = [&](const char* op, std::uint64_t addr, std::uint64_t v) {
    ev(std::string(R"({"op":")") + op + R"(","as":1,"addr":")" + trace::hex(addr) + R"(","value":")" + trace::hex(v) + "\"}");
  };
  for (unsigned i = 0; i < 512; ++i) write("nova_pte_write", ((b + 4) << 12) + i * 8, ((0x30000 + i) << 8) | 1);
  for (unsigned i = 0; i < 256; ++i) write("nova_pde_write", ((b + 3) << 12) + i * 16 + 8, ((b + 4) << 8) | 2);
  for (unsigned i = 0; i < 512; ++i) write("nova_pde_write", ((b + 2) << 12) + i * 8, ((b + 3) << 8) | 2);
  for (unsigned i = 0; i < 512; ++i) write("nova_pde_write", ((b + 1) << 12) + i * 8, ((b + 2) << 8) | 2);
  for (unsigned i = 0; i < 4; ++i) write("nova_pde_write", (b << 12) + i * 8, ((b + 1) << 8) | 2);
  ev(R"({"op":"nova_access","as":1,"va":"0x123456789000"})");
  // A PTE written into a table no path reaches: the search for its VA must give up after
  // entering each table once, not try every aliased path.
  ev(R"({"op":"nova_pt_alloc","as":1,"pfn":"0x20005","level":4})");
  write("nova_pte_write", (b + 5) << 12, (0x40000 << 8) | 1);
  conformance::ReplayResult r = replay_text("vmref-nova-aliased-tables.jsonl", t.str(), 2);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.events, 1809u);
  EXPECT_TRUE(r.by_id.count("INV-NOVA-4"));
}
