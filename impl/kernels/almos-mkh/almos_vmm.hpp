// ALMOS-MKH's VMM (spec/kernels/almos-mkh.md) implemented as vmm.h lays it out, over real
// page tables in simulated physical memory: per process the reference VSL as a list of
// vsegs (xlist), one GPT per cluster that faulted (the reference one in the owner
// cluster), the STACK slot bitmap and the MMAP allocator with its bump pointer and
// zombie lists; physical pages with `refs` and `forks` counters. TSAR's GPT layout is
// not available here, so the tables use the session's format: MAPPED is present,
// WRITABLE is W, COW is LeafAttrs::soft bit 0; every page is user-accessible.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "almos_events.hpp"
#include "vmref/impl/vmm.hpp"

namespace vmref::almos {

using impl::RadixTable;
using impl::VmmCore;
using vocab::Asid;
using vocab::Event;
using vocab::Outcome;

extern const impl::MutantInfo kUpdateSkipsCopies;  ///< vmm_global_update_pte writes the reference GPT only
extern const impl::MutantInfo kForkNoForks;        ///< fork shares pages COW without raising their forks count

class AlmosVmm : public impl::KernelLayer {
 public:
  /// vseg_t: [base, base + pages) in pages. MMAP vsegs keep their allocator block.
  struct Vseg {
    VsegType type = VsegType::anon;
    Vpn base = 0;
    std::uint64_t pages = 0, ltid = 0;
    Vpn block = 0;
    unsigned order = 0;
  };
  /// process_t's VMM: the reference VSL (sorted by base), the GPT copies, the allocators.
  struct Process {
    unsigned ref_cluster = 0;
    std::list<Vseg> vsl;                                     ///< vmm->vsegs_root, by base
    std::map<unsigned, std::unique_ptr<RadixTable>> gpt;     ///< cluster -> GPT (reference included)
    std::map<unsigned, std::set<Vpn>> local_vsl;             ///< cluster -> vseg bases registered there
    std::vector<std::uint64_t> stack_bits;                   ///< stack_mgr.bitmap: one bit per slot (LTID)
    Vpn first_free_vpn = 0;                                  ///< mmap_mgr.first_free_vpn
    std::array<std::vector<Vpn>, 64> zombies;                ///< mmap_mgr.zombi_list[order]
  };
  /// page_t: what the kernel keeps per physical page (by PFN); contents stamp in the page.
  struct Page {
    bool live = false, mapper = false;
    std::uint32_t refs = 0, forks = 0;
    std::uint64_t generation = 0;  ///< distinct per allocation
  };

  AlmosVmm(VmmCore& core, const AlmosParams& params);
  ~AlmosVmm() override;
  Outcome process(const Event& e);  // vseg.cpp
  Outcome vseg(const Event& e);
  Outcome munmap(const Event& e);
  Outcome exec(const Event& e);
  Outcome exit(const Event& e);
  Outcome access(const Event& e);   // fault.cpp
  Outcome fork(const Event& e);

  const std::map<std::uint64_t, Process>& processes() const { return procs_; }
  const Page& page(std::uint64_t pfn) const { return pages_.at(pfn); }
  std::uint64_t version(std::uint64_t pfn) const;
  std::uint64_t live_pages() const { return live_; }

 private:
  Process& proc(std::uint64_t pid, const char* field = "pid");
  unsigned cluster(unsigned k) const;
  RadixTable& table(Process& p, unsigned k);
  /// vmm_vseg_from_vaddr: the vseg holding `vpn`, or nullptr.
  const Vseg* vseg_at(const Process& p, Vpn vpn) const;
  void vsl_insert(Process& p, const Vseg& v);
  void vsl_remove(Process& p, Vpn base);
  std::uint64_t new_page(std::uint64_t version);
  void put_page(std::uint64_t pfn, bool cow);
  /// Writes `pfn` with WRITABLE / COW at `vpn` of one GPT.
  static void set(RadixTable& t, Vpn vpn, std::uint64_t pfn, bool writable, bool cow);
  /// vmm_global_update_pte: the reference, then every copy holding the VPN.
  void update_pte(Process& p, Vpn vpn, std::uint64_t pfn, bool writable, bool cow);
  void unmap_pages(Process& p, const Vseg& v, Vpn first, std::uint64_t count);
  void remove_vseg(Process& p, Vpn base);
  Outcome reset_process(std::uint64_t pid, bool exit);

  AlmosParams p_;
  std::map<std::uint64_t, Process> procs_;
  std::vector<Page> pages_;                 ///< by PFN
  std::map<Vpn, std::uint64_t> code_pages_; ///< the .elf mapper's page per CODE VPN
  std::uint64_t live_ = 0, generations_ = 0;
};

/// Registers the implementation and its mutants.
void register_impl();

}  // namespace vmref::almos
