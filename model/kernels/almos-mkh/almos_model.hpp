// The almos-mkh kernel's layer of the model (spec/kernels/almos-mkh.md): per process, a
// reference VSL and GPT in the owner cluster plus partial per-cluster copies filled by
// false page faults, the STACK slot allocator and the MMAP power-of-two allocator with
// its zombie lists, and physical pages with their pending-fork counters. It keeps its
// own processes and pages; the core's address spaces stay unused.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "almos_events.hpp"
#include "vmref/model/layer.hpp"

namespace vmref::almos {

using model::Core;
using model::Outcome;
using vocab::Err;
using vocab::Event;

/// DATA, ANON, FILE and REMOTE: the reference GPT is authoritative and copies follow it.
inline bool is_public(VsegType t) { return t != VsegType::code && t != VsegType::stack; }
/// ANON, FILE and REMOTE come from the MMAP allocator.
inline bool is_mmap(VsegType t) { return t == VsegType::anon || t == VsegType::file || t == VsegType::remote; }

/// A GPT entry (TSAR attributes that matter here: MAPPED implied, WRITABLE, COW).
struct Pte {
  std::uint64_t ppn = 0;
  bool writable = false, cow = false;
  friend bool operator==(const Pte&, const Pte&) = default;
};

/// One vseg: [base, base + pages) in pages. MMAP vsegs remember the 2^k block the
/// allocator gave them (`block`, `order`): a block returns to zombie list `order` when
/// no vseg uses it any more (after munmap cases a-d, §4).
struct Vseg {
  VsegType type = VsegType::anon;
  Vpn base = 0;
  std::uint64_t pages = 0;
  std::uint64_t ltid = 0;   ///< STACK: the slot index
  Vpn block = 0;            ///< MMAP: first page of the allocator block
  unsigned order = 0;       ///< MMAP: log2 of the block's pages
};

struct Process {
  unsigned ref_cluster = 0;                        ///< owner (reference) cluster Z
  std::map<Vpn, Vseg> vsl;                        ///< the reference VSL, by base
  std::map<unsigned, std::set<Vpn>> local_vsl;     ///< cluster K != Z -> bases registered there
  std::map<unsigned, std::map<Vpn, Pte>> gpt;     ///< cluster -> GPT copy; gpt[ref_cluster] is the reference
  std::vector<bool> stack_bitmap;                  ///< one bit per slot (LTID)
  Vpn first_free_vpn = 0;                          ///< MMAP allocator bump pointer
  std::map<unsigned, std::vector<Vpn>> zombies;    ///< order k -> released blocks of 2^k pages

  /// The reference vseg containing `vpn`, or nullptr.
  const Vseg* vseg_at(Vpn vpn) const {
    auto it = vsl.upper_bound(vpn);
    if (it == vsl.begin()) return nullptr;
    --it;
    return vpn < it->second.base + it->second.pages ? &it->second : nullptr;
  }
};

/// A physical page: mappings by processes' authoritative GPTs, pending forks, contents.
struct Page {
  std::uint32_t refs = 0;     ///< reference-GPT (public) or local (private) mappings
  std::uint32_t forks = 0;    ///< pending forks: sharers that have not broken COW yet
  std::uint64_t version = 0;  ///< bumped by each write
  bool mapper = false;        ///< a page of the .elf mapper (CODE): never freed
};

struct State {
  std::map<std::uint64_t, Process> procs;  ///< by pid
  std::map<std::uint64_t, Page> pages;     ///< live pages by ppn
  std::uint64_t next_ppn = 1;
  std::uint64_t allocated = 0;              ///< pages allocated so far (never decremented)
};

/// What an almos-mkh call did, for INV-ALMOS-3/5/7 (which judge the call).
struct CallNote {
  std::uint64_t pid = 0;
  bool false_fault = false;                     ///< access resolved by copying the reference PTE
  std::uint64_t allocated_before = 0, allocated_after = 0;
  bool ref_had = false, ref_has = false;        ///< false fault: the reference entry before / after
  Pte ref_before, ref_after;
  Vpn vpn = 0;
  bool reset = false;                           ///< almos_exec
  Vpn first_free_before = 0, first_free_after = 0;
};

class AlmosModel : public model::KernelLayer {
 public:
  AlmosModel(Core& core, const AlmosParams& params) : KernelLayer(core), p_(params) {}
  // op_vseg.cpp (§1-§4, §7)
  Outcome process(const Event& e);
  Outcome vseg(const Event& e);
  Outcome munmap(const Event& e);
  Outcome exec(const Event& e);
  Outcome exit(const Event& e);
  // op_fault.cpp (§5, §6)
  Outcome access(const Event& e);
  Outcome fork(const Event& e);

  void begin_group() override { notes_.clear(); }
  const AlmosParams& params() const { return p_; }
  const State& state() const { return almos_; }
  const std::vector<CallNote>& notes() const { return notes_; }

 private:
  Process& proc(std::uint64_t pid, const char* field = "pid");
  /// Throws ModelError("cluster") unless `k` names a cluster (the header's cpus).
  void need_cluster(unsigned k) const;
  /// vmm_remove_vseg: PTEs unmapped in every copy, the vseg's VA back to its allocator.
  void remove_vseg(Process& p, Vpn base);
  /// Unmaps [first, first + count) in every GPT copy of `p`, releasing pages.
  void unmap_pages(Process& p, const Vseg& v, Vpn first, std::uint64_t count);
  /// Drops one mapping of page `ppn` (`cow`: it was a COW sharer); frees it at zero.
  void put_page(std::uint64_t ppn, bool cow);
  std::uint64_t new_page(std::uint64_t version);
  /// vmm_global_update_pte: the reference entry and every copy that holds the VPN.
  void update_pte(Process& p, Vpn vpn, const Pte& pte);

  AlmosParams p_;
  State almos_;
  std::map<Vpn, std::uint64_t> code_pages_;  ///< the .elf mapper's page per CODE VPN
  std::vector<CallNote> notes_;
};

/// Registers the almos-mkh layer and INV-ALMOS-1..7.
void register_model();

}  // namespace vmref::almos
