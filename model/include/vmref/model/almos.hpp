// State of the almos-mkh profile (spec/profiles.md §2): per process, a reference VSL and
// GPT in the owner cluster plus partial per-cluster copies filled by false page faults,
// the STACK slot allocator and the MMAP power-of-two allocator with its zombie lists, and
// physical pages with their pending-fork counters.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "vmref/model/types.hpp"

namespace vmref::model {

/// vseg types of ALMOS-MKH (vseg.h). Public ones are replicated through the reference.
enum class AType : std::uint8_t { code, data, stack, anon, file, remote };
const char* to_string(AType t);
bool parse_atype(const std::string& s, AType& out);
/// DATA, ANON, FILE and REMOTE: the reference GPT is authoritative and copies follow it.
inline bool is_public(AType t) { return t != AType::code && t != AType::stack; }
/// ANON, FILE and REMOTE come from the MMAP allocator.
inline bool is_mmap(AType t) { return t == AType::anon || t == AType::file || t == AType::remote; }

/// A GPT entry (TSAR attributes that matter here: MAPPED implied, WRITABLE, COW).
struct APte {
  std::uint64_t ppn = 0;
  bool writable = false, cow = false;
  friend bool operator==(const APte&, const APte&) = default;
};

/// One vseg: [base, base + pages) in pages. MMAP vsegs remember the 2^k block the
/// allocator gave them (`block`, `order`): a block returns to zombie list `order` when
/// no vseg uses it any more (after munmap cases a-d, profiles.md §2.4).
struct AVseg {
  AType type = AType::anon;
  Vpn base = 0;
  std::uint64_t pages = 0;
  std::uint64_t ltid = 0;   ///< STACK: the slot index
  Vpn block = 0;            ///< MMAP: first page of the allocator block
  unsigned order = 0;       ///< MMAP: log2 of the block's pages
};

struct AProcess {
  unsigned ref_cluster = 0;                        ///< owner (reference) cluster Z
  std::map<Vpn, AVseg> vsl;                        ///< the reference VSL, by base
  std::map<unsigned, std::set<Vpn>> local_vsl;     ///< cluster K != Z -> bases registered there
  std::map<unsigned, std::map<Vpn, APte>> gpt;     ///< cluster -> GPT copy; gpt[ref_cluster] is the reference
  std::vector<bool> stack_bitmap;                  ///< one bit per slot (LTID)
  Vpn first_free_vpn = 0;                          ///< MMAP allocator bump pointer
  std::map<unsigned, std::vector<Vpn>> zombies;    ///< order k -> released blocks of 2^k pages

  /// The reference vseg containing `vpn`, or nullptr.
  const AVseg* vseg_at(Vpn vpn) const {
    auto it = vsl.upper_bound(vpn);
    if (it == vsl.begin()) return nullptr;
    --it;
    return vpn < it->second.base + it->second.pages ? &it->second : nullptr;
  }
};

/// A physical page: mappings by processes' authoritative GPTs, pending forks, contents.
struct APage {
  std::uint32_t refs = 0;     ///< reference-GPT (public) or local (private) mappings
  std::uint32_t forks = 0;    ///< pending forks: sharers that have not broken COW yet
  std::uint64_t version = 0;  ///< bumped by each write
  bool mapper = false;        ///< a page of the .elf mapper (CODE): never freed
};

struct AlmosState {
  std::map<std::uint64_t, AProcess> procs;  ///< by pid
  std::map<std::uint64_t, APage> pages;     ///< live pages by ppn
  std::uint64_t next_ppn = 1;
  std::uint64_t allocated = 0;              ///< pages allocated so far (never decremented)
};

}  // namespace vmref::model
