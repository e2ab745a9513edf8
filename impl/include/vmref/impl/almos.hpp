// ALMOS-MKH's VMM (profiles.md §2) over real x86-64 page tables: per process a reference
// GPT in the owner cluster and one GPT copy per cluster that faulted, each a RadixTable in
// simulated physical memory; the STACK slot bitmap and the MMAP power-of-two allocator
// with its zombie lists; physical pages with reference and pending-fork counts.
// TSAR's GPT layout is not available here, so the tables use the x86-64 format: MAPPED is
// P, WRITABLE is R/W, COW is software bit 9 (LeafAttrs::soft bit 0), all pages U/S = 1.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "vmref/impl/frame_pool.hpp"
#include "vmref/impl/radix_table.hpp"
#include "vmref/model/almos.hpp"
#include "vmref/model/event.hpp"
#include "vmref/model/profile.hpp"

namespace vmref::impl {

class Almos {
 public:
  /// One vseg, in pages: [base, base + pages). MMAP vsegs keep their allocator block.
  struct Vseg {
    model::AType type = model::AType::anon;
    model::Vpn base = 0;
    std::uint64_t pages = 0, ltid = 0;
    model::Vpn block = 0;
    unsigned order = 0;
  };
  struct Process {
    unsigned ref_cluster = 0;
    std::map<model::Vpn, Vseg> vsl;                          ///< the reference VSL, by base
    std::map<unsigned, std::unique_ptr<RadixTable>> gpt;     ///< cluster -> GPT (reference included)
    std::map<unsigned, std::set<model::Vpn>> local_vsl;      ///< cluster -> vseg bases registered there
    std::vector<std::uint64_t> stack_bits;                   ///< one bit per STACK slot (LTID)
    model::Vpn first_free_vpn = 0;
    std::array<std::vector<model::Vpn>, 64> zombies;         ///< order -> released blocks
  };
  /// What the kernel keeps per physical page (by PFN); contents stamp in the page itself.
  struct Page {
    bool live = false, mapper = false;
    std::uint32_t refs = 0, forks = 0;
    std::uint64_t generation = 0;  ///< distinct per allocation
  };

  /// `clusters`: how many clusters (the trace header's cpus). Pages come from `pool`.
  Almos(const model::AlmosRules& rules, unsigned clusters, FramePool& pool, const RadixCodec& codec, Mutant mutant);
  ~Almos();

  /// Applies one almos_* event. Throws std::invalid_argument naming the field for an
  /// event that cannot apply (unknown pid, cluster out of range, unknown vseg type).
  model::Outcome apply(const model::Event& e);

  const std::map<std::uint64_t, Process>& processes() const { return procs_; }
  const Page& page(std::uint64_t pfn) const { return pages_.at(pfn); }
  std::uint64_t version(std::uint64_t pfn) const;
  std::uint64_t live_pages() const { return live_; }

 private:
  using Vpn = model::Vpn;
  model::Outcome process(const model::Event& e);
  model::Outcome vseg(const model::Event& e);
  model::Outcome munmap(const model::Event& e);
  model::Outcome access(const model::Event& e);
  model::Outcome fork(const model::Event& e);
  model::Outcome reset(const model::Event& e, bool exit);
  Process& proc(std::uint64_t pid, const char* field = "pid");
  unsigned cluster(const model::Event& e) const;
  RadixTable& table(Process& p, unsigned k);
  std::uint64_t new_page(std::uint64_t version);
  void put_page(std::uint64_t pfn, bool cow);
  /// Writes `pfn` with WRITABLE / COW at `vpn` of one GPT.
  static void set(RadixTable& t, Vpn vpn, std::uint64_t pfn, bool writable, bool cow);
  /// vmm_global_update_pte: the reference, then every copy holding the VPN.
  void update_pte(Process& p, Vpn vpn, std::uint64_t pfn, bool writable, bool cow);
  void unmap_pages(Process& p, const Vseg& v, Vpn first, std::uint64_t count);
  void remove_vseg(Process& p, Vpn base);

  model::AlmosRules rules_;
  unsigned clusters_;
  FramePool& pool_;
  const RadixCodec& codec_;
  Mutant mutant_;
  std::map<std::uint64_t, Process> procs_;
  std::vector<Page> pages_;                 ///< by PFN
  std::map<Vpn, std::uint64_t> code_pages_; ///< the .elf mapper's page per CODE VPN
  std::uint64_t live_ = 0, generations_ = 0;
};

}  // namespace vmref::impl
