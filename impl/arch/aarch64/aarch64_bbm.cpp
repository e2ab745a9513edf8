#include "aarch64_bbm.hpp"

#include <cstdio>

namespace vmref::impl::aarch64 {

namespace {
std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
constexpr std::uint64_t kAttrIndx = 7ull << kAttrIndxShift, kNs = 1ull << 5;
/// Linux's PTE_SWBITS_MASK: bits 58:55 and 63.
constexpr std::uint64_t kSwBits = (0xfull << 55) | (1ull << 63);
/// Bits Linux's pgattr_change_is_safe() lets change on a live entry.
constexpr std::uint64_t kSafeList = arith::kPxn | arith::kApRdonly | arith::kDbm | kNg | kSwBits;
}  // namespace

const char* to_string(BbmRule r) {
  switch (r) {
    case BbmRule::architecture: return "architecture";
    case BbmRule::allow_list: return "allow-list";
    case BbmRule::bbml2: return "bbml2";
  }
  return "?";
}

std::string bbm_change(std::uint64_t old, bool old_leaf, std::uint64_t now, bool now_leaf, unsigned page_shift,
                       BbmRule rule) {
  std::uint64_t oa_old = arith::desc_address(old, page_shift), oa_now = arith::desc_address(now, page_shift);
  if (old_leaf != now_leaf)
    return rule == BbmRule::bbml2 ? "" : old_leaf ? "a block replaced by a table (the block size)" : "a table replaced by a block (the block size)";
  if (!old_leaf) return oa_old != oa_now ? "the next-level table address " + hex(oa_old) + " -> " + hex(oa_now) : "";
  if (oa_old != oa_now) return "the output address " + hex(oa_old) + " -> " + hex(oa_now);
  std::uint64_t diff = old ^ now;
  if ((old & kNg) && !(now & kNg)) return "nG 1 -> 0 (non-global to global)";
  if (rule == BbmRule::allow_list) {
    if ((old | now) & kContiguous) return "an entry with the Contiguous bit";
    if (diff & ~kSafeList) return "bits " + hex(diff & ~kSafeList) + " outside the pgattr_change_is_safe() mask";
    return "";
  }
  std::uint64_t covered = kAttrIndx | kNs | kShInner | (rule == BbmRule::bbml2 ? 0 : kContiguous);
  if (diff & covered) return "memory attributes or Contiguous (bits " + hex(diff & covered) + ")";
  return "";
}

void BreakBeforeMake::judge(std::uint64_t entry_pa, unsigned level, std::uint64_t va, std::uint64_t old,
                            std::uint64_t now, bool unclean) {
  std::string why = bbm_change(old, fmt_.is_leaf(old, level), now, fmt_.is_leaf(now, level), fmt_.page_shift(), rule_);
  if (why.empty()) return;
  findings_.push_back("entry at PA " + hex(entry_pa) + " (level " + std::to_string(fmt_.arch_level(level)) + ", VA " +
                      hex(va) + "): " + why +
                      (unclean ? " while invalid-unclean (no TLBI and DSB since it went invalid)" : ", valid to valid") +
                      " without break-before-make (Arm ARM D8.16.1; rule " + to_string(rule_) + ")");
}

void BreakBeforeMake::written(std::uint64_t entry_pa, unsigned level, std::uint64_t va, std::uint64_t old,
                              std::uint64_t now) {
  bool was = old & kValid, is = now & kValid;
  bool read = walked_.erase(entry_pa) != 0;  // a walk read the old value
  auto it = unclean_.find(entry_pa);
  if (!was && !is) return;
  if (was && is) return judge(entry_pa, level, va, old, now, false);
  if (was) {  // valid -> invalid: unclean until a covering TLBI completes, if a walk read it
    if (read) unclean_[entry_pa] = Unclean{old, level, va, 1ull << fmt_.shift(level), 0};
    return;
  }
  if (it == unclean_.end()) return;  // invalid-clean -> valid: what BBM asks for
  judge(entry_pa, level, va, it->second.last, now, true);
  unclean_.erase(it);
}

void BreakBeforeMake::table_created(std::uint64_t pfn) {
  for (std::uint64_t i = 0; i < 4096; i += 8) {
    if (!unclean_.empty()) unclean_.erase((pfn << 12) + i);
    if (!walked_.empty()) walked_.erase((pfn << 12) + i);
  }
}

void BreakBeforeMake::walked(std::uint64_t root, std::uint64_t va, const Translation& t) {
  std::uint64_t table = root;
  for (unsigned l = 0; l <= t.leaf_level && l < fmt_.levels(); ++l) {
    std::uint64_t index = (va >> fmt_.shift(l)) & ((1ull << fmt_.index_bits(l)) - 1);
    walked_.insert(table + index * 8);
    if (l < t.leaf_level) table = t.next_table[l];
  }
}

// C5.5: VMALLE1 reaches every entry; ASIDE1 non-global leaves and every table entry
// (walk-cache entries have no global form), of its ASID: the tree's ASID is not known
// here, so any; VAE1/VAAE1 every level's entries for the VA, VALE1 the last level's only
// (blocks and pages), so not a table entry (walk caches).
bool BreakBeforeMake::covers(const Tlbi& op, const Unclean& u) const {
  switch (op.op) {
    case Tlbi::vmalle1: return true;
    case Tlbi::aside1: return !fmt_.is_leaf(u.last, u.level) || (u.last & kNg) != 0;
    case Tlbi::vale1:
      if (!fmt_.is_leaf(u.last, u.level)) return false;
      [[fallthrough]];
    case Tlbi::vae1:
    case Tlbi::vaae1: {
      std::uint64_t m = (1ull << 56) - 1;
      return ((op.va & m) & ~(u.size - 1)) == ((u.va & m) & ~(u.size - 1));
    }
  }
  return false;
}

void BreakBeforeMake::tlbi(unsigned cpu, const Tlbi& op) {
  for (auto& [pa, u] : unclean_)
    if (covers(op, u)) u.covered_on |= 1ull << (cpu % 64);
}

void BreakBeforeMake::dsb(unsigned cpu) {
  std::erase_if(unclean_, [&](const auto& kv) { return (kv.second.covered_on >> (cpu % 64)) & 1; });
}

void BreakBeforeMake::take(const std::function<void(const char* id, const std::string& msg)>& fn) const {
  for (const std::string& f : findings_) fn("DIFF-BBM", f);
  findings_.clear();
}

}  // namespace vmref::impl::aarch64
