#include "vmref/impl/radix_table.hpp"

#include "vmref/impl/engine_mutants.hpp"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

namespace vmref::impl {

namespace {
/// What the engine needs of an entry, read without building strings.
struct Fast {
  bool present, leaf;
  std::uint64_t addr;
  Fast(const RadixCodec& c, std::uint64_t raw, unsigned level)
      : present(c.is_present(raw)), leaf(present && c.is_leaf(raw, level)), addr(present ? c.address(raw, level) : 0) {}
};
/// Visits the entries of one table (entry span `sz` bytes, `n` entries of `words` 8-byte
/// words each, the table covering VAs from `base`) that overlap [start, end): fn(entry,
/// entry_base, lo, hi) with [lo, hi) the part of the entry's span inside the range (the
/// whole span when hi - lo == sz). A wide entry (words > 1) is handed to `fn` as the
/// codec's 64-bit view and stored back only if `fn` changed it.
template <class T, class Fn>
void each_entry(const RadixCodec& c, unsigned level, unsigned words, T* t, std::uint64_t sz, std::uint64_t n,
                std::uint64_t base, std::uint64_t start, std::uint64_t end, Fn&& fn) {
  std::uint64_t lo = std::max(start, base), hi = std::min(end, base + sz * n);
  for (std::uint64_t cur = lo; cur < hi;) {
    std::uint64_t ebase = cur & ~(sz - 1), eend = ebase + sz;
    T* w = t + ((cur / sz) & (n - 1)) * words;
    if (words == 1) {
      fn(*w, ebase, cur, std::min(hi, eend));
    } else {
      std::uint64_t view = c.load(w, level), before = view;
      fn(view, ebase, cur, std::min(hi, eend));
      if constexpr (!std::is_const_v<T>)
        if (view != before) c.store(w, level, view);
    }
    cur = eend;
  }
}
}  // namespace

RadixTable::RadixTable(FramePool& pool, const RadixCodec& codec, Mutant mutant)
    : pool_(pool), codec_(codec), mutant_(mutant) {
  if (codec.levels() > 8) throw std::invalid_argument("radix formats have at most 8 levels");
  for (unsigned l = 0; l < codec.levels(); ++l) {
    shift_[l] = codec.shift(l);
    mask_[l] = (1ull << codec.index_bits(l)) - 1;
    words_[l] = codec.entry_words(l);
  }
  root_ = new_table();
}

RadixTable::~RadixTable() { free_subtree(root_, 0); }

std::uint64_t RadixTable::new_table() {
  std::uint64_t pfn = pool_.alloc();
  if (pfn >= live_.size()) live_.resize(std::max<std::size_t>(pfn + 1, live_.size() * 2), 0);
  live_[pfn] = 0;
  ++tables_;
  if (observer_) observer_->table_created(pfn);
  return pfn;
}

void RadixTable::set_observer(EntryObserver* o) {
  observer_ = o;
  if (o) o->table_created(root_);
}

void RadixTable::write(std::uint64_t& e, std::uint64_t pfn, unsigned level, std::uint64_t va, std::uint64_t now) {
  std::uint64_t old = e;
  e = now;
  if (observer_) observer_->written((pfn << 12) + index(va, level) * 8 * words_[level], level, codec_.canonical(va), old, now);
}

void RadixTable::free_table(std::uint64_t pfn) {
  pool_.free(pfn);
  --tables_;
}

void RadixTable::free_subtree(std::uint64_t pfn, unsigned level) {
  const std::uint64_t* t = entries(pfn);
  std::uint64_t n = mask_[level] + 1;
  for (std::uint64_t i = 0; t && level + 1 < codec_.levels() && i < n; ++i) {
    std::uint64_t e = load(t, i, level);
    if (codec_.is_present(e) && !codec_.is_leaf(e, level)) free_subtree(codec_.address(e, level) >> 12, level + 1);
  }
  free_table(pfn);
}

void RadixTable::split(std::uint64_t& e, std::uint64_t pfn, unsigned level, std::uint64_t va) {
  // A large leaf becomes a table of next-level leaves covering the same PAs with the
  // same attributes (SDM Vol 3A §4.10.2.3: the caller must invalidate the old entry).
  LeafAttrs a = codec_.leaf_attrs(e, level);
  std::uint64_t pa = codec_.address(e, level);
  std::uint64_t t = new_table();
  std::uint64_t* c = entries(t);
  std::uint64_t n = mask_[level + 1] + 1;
  if (mutant_ == &kSplitLosesLast) --n;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint64_t leaf = codec_.encode_leaf(pa + i * span(level + 1), level + 1, a);
    if (words_[level + 1] == 1) c[i] = leaf;
    else codec_.store(c + i * words_[level + 1], level + 1, leaf);
  }
  live(t) = static_cast<std::uint16_t>(n);
  write(e, pfn, level, va, codec_.encode_table(t << 12));
}

std::uint64_t RadixTable::child(std::uint64_t& e, std::uint64_t pfn, unsigned level, std::uint64_t va,
                                std::uint64_t& parent_live) {
  if (!codec_.is_present(e)) {
    std::uint64_t t = new_table();
    write(e, pfn, level, va, codec_.encode_table(t << 12));
    ++parent_live;
    return t;
  }
  if (codec_.is_leaf(e, level)) split(e, pfn, level, va);
  return codec_.address(e, level) >> 12;
}

void RadixTable::map(std::uint64_t va, std::uint64_t pa, std::uint64_t len, const LeafAttrs& a,
                     std::uint64_t max_leaf) {
  std::uint64_t top = span(0) * (mask_[0] + 1);
  va &= top - 1;
  if (len == 0 || ((va | pa | len) & 0xfff) || len > top - va)
    throw std::invalid_argument("map: range not page aligned or beyond the VA space");
  map_in(root_, 0, 0, va, va + len, pa - va, a, max_leaf);
}

// `pa` is the VA-to-PA offset of the whole range (PA = VA + pa, modulo 2^64).
void RadixTable::map_in(std::uint64_t pfn, unsigned level, std::uint64_t base, std::uint64_t start,
                        std::uint64_t end, std::uint64_t pa, const LeafAttrs& a, std::uint64_t max_leaf) {
  std::uint64_t sz = span(level);
  each_entry(codec_, level, words_[level], entries(pfn), sz, mask_[level] + 1, base, start, end,
             [&](std::uint64_t& e, std::uint64_t ebase, std::uint64_t lo, std::uint64_t hi) {
    if (hi - lo == sz && sz <= max_leaf && codec_.leaf_allowed(level) && ((lo + pa) & (sz - 1)) == 0) {
      if (!codec_.is_present(e)) ++live(pfn);
      else if (!codec_.is_leaf(e, level)) free_subtree(codec_.address(e, level) >> 12, level + 1);
      write(e, pfn, level, ebase, codec_.encode_leaf(lo + pa, level, a));
      return;
    }
    std::uint64_t parent_live = live(pfn);
    std::uint64_t c = child(e, pfn, level, ebase, parent_live);
    live(pfn) = static_cast<std::uint16_t>(parent_live);
    map_in(c, level + 1, ebase, lo, hi, pa, a, max_leaf);
  });
}

void RadixTable::protect(std::uint64_t va, std::uint64_t len, const ProtectFn& change) {
  std::uint64_t top = span(0) * (mask_[0] + 1);
  va &= top - 1;
  if (len == 0 || len > top - va) return;
  protect_in(root_, 0, 0, va, va + len, change);
}

void RadixTable::protect_in(std::uint64_t pfn, unsigned level, std::uint64_t base, std::uint64_t start,
                            std::uint64_t end, const ProtectFn& change) {
  std::uint64_t sz = span(level);
  each_entry(codec_, level, words_[level], entries(pfn), sz, mask_[level] + 1, base, start, end,
             [&](std::uint64_t& e, std::uint64_t ebase, std::uint64_t lo, std::uint64_t hi) {
    Fast d(codec_, e, level);
    if (!d.present) return;
    if (d.leaf && hi - lo == sz) {
      LeafAttrs a = codec_.leaf_attrs(e, level);
      change(codec_.canonical(ebase), d.addr, a);
      write(e, pfn, level, ebase, codec_.encode_leaf(d.addr, level, a));
      return;
    }
    if (d.leaf) split(e, pfn, level, ebase);
    protect_in(codec_.address(e, level) >> 12, level + 1, ebase, lo, hi, change);
  });
}

void RadixTable::unmap(std::uint64_t va, std::uint64_t len, const std::function<void(const Mapping&)>& removed) {
  std::uint64_t top = span(0) * (mask_[0] + 1);
  va &= top - 1;
  if (len == 0 || len > top - va) return;
  unmap_in(root_, 0, 0, va, va + len, removed);
}

void RadixTable::clear(const std::function<void(const Mapping&)>& removed) {
  unmap_in(root_, 0, 0, 0, span(0) * (mask_[0] + 1), removed);
}

void RadixTable::unmap_in(std::uint64_t pfn, unsigned level, std::uint64_t base, std::uint64_t start,
                          std::uint64_t end, const std::function<void(const Mapping&)>& removed) {
  std::uint64_t sz = span(level);
  each_entry(codec_, level, words_[level], entries(pfn), sz, mask_[level] + 1, base, start, end,
             [&](std::uint64_t& e, std::uint64_t ebase, std::uint64_t lo, std::uint64_t hi) {
    Fast d(codec_, e, level);
    if (!d.present) return;
    if (d.leaf && hi - lo == sz) {
      if (removed) removed({codec_.canonical(ebase), d.addr, sz, level, codec_.leaf_attrs(e, level)});
      write(e, pfn, level, ebase, 0);
      --live(pfn);
      return;
    }
    if (d.leaf) split(e, pfn, level, ebase);
    std::uint64_t c = codec_.address(e, level) >> 12;
    unmap_in(c, level + 1, ebase, lo, hi, removed);
    // Reclaim the table page once its last entry is gone.
    bool reclaim = mutant_ == &kTableLeak ? false
                   : live(c) == 0 || (mutant_ == &kReclaimLiveTable && live(c) == 1);
    if (reclaim) {
      free_table(c);
      write(e, pfn, level, ebase, 0);
      --live(pfn);
    }
  });
}

std::optional<Mapping> RadixTable::lookup(std::uint64_t va) const {
  std::uint64_t raw_va = va & ((span(0) * (mask_[0] + 1)) - 1);
  std::uint64_t pfn = root_;
  for (unsigned level = 0; level < codec_.levels(); ++level) {
    const std::uint64_t* t = entries(pfn);
    if (!t) return std::nullopt;
    std::uint64_t e = load(t, index(raw_va, level), level);
    Fast d(codec_, e, level);
    if (!d.present) return std::nullopt;
    if (d.leaf) {
      std::uint64_t sz = span(level);
      return Mapping{codec_.canonical(raw_va & ~(sz - 1)), d.addr, sz, level, codec_.leaf_attrs(e, level)};
    }
    pfn = d.addr >> 12;
  }
  return std::nullopt;
}

std::uint64_t RadixTable::table_below(std::uint64_t va, unsigned level) const {
  std::uint64_t raw_va = va & ((span(0) * (mask_[0] + 1)) - 1);
  std::uint64_t pfn = root_;
  for (unsigned l = 0; l <= level && l < codec_.levels(); ++l) {
    const std::uint64_t* t = entries(pfn);
    if (!t) return 0;
    Fast d(codec_, load(t, index(raw_va, l), l), l);
    if (!d.present || d.leaf) return 0;
    pfn = d.addr >> 12;
  }
  return pfn << 12;
}

void RadixTable::for_each(std::uint64_t va, std::uint64_t len, const std::function<void(const Mapping&)>& fn) const {
  std::uint64_t top = span(0) * (mask_[0] + 1);
  va &= top - 1;
  if (len == 0) return;
  each_in(root_, 0, 0, va, len > top - va ? top : va + len, fn);
}

void RadixTable::each_in(std::uint64_t pfn, unsigned level, std::uint64_t base, std::uint64_t start,
                         std::uint64_t end, const std::function<void(const Mapping&)>& fn) const {
  const std::uint64_t* t = entries(pfn);
  if (!t) return;
  std::uint64_t sz = span(level);
  each_entry(codec_, level, words_[level], t, sz, mask_[level] + 1, base, start, end,
             [&](std::uint64_t e, std::uint64_t ebase, std::uint64_t lo, std::uint64_t hi) {
    Fast d(codec_, e, level);
    if (d.present && d.leaf) fn({codec_.canonical(ebase), d.addr, sz, level, codec_.leaf_attrs(e, level)});
    else if (d.present) each_in(d.addr >> 12, level + 1, ebase, lo, hi, fn);
  });
}

Translation RadixTable::translate(std::uint64_t va, bool write, bool exec, bool user) {
  if (codec_.canonical(va) != va) return {WalkFault::non_canonical};
  std::uint64_t raw_va = va & ((span(0) * (mask_[0] + 1)) - 1);
  std::uint64_t* used[8];
  std::array<std::uint64_t, 8> next{};
  Rights r;
  std::uint64_t pfn = root_;
  for (unsigned level = 0; level < codec_.levels(); ++level) {
    std::uint64_t* w = entries(pfn) + std::uint64_t{index(raw_va, level)} * words_[level];
    std::uint64_t e = words_[level] == 1 ? *w : codec_.load(w, level);
    Fast d(codec_, e, level);
    if (!d.present || codec_.reserved_bits(e, level)) return {WalkFault::not_present};
    used[level] = w;
    r = codec_.combine_at(r, e, level);
    if (!d.leaf) {
      next[level] = d.addr;
      pfn = d.addr >> 12;
      continue;
    }
    if ((user && !r.u) || (write && !r.w) || (exec && !r.x)) return {WalkFault::protection};
    if (mutant_ != &kNoAccessedBit)
      for (unsigned l = 0; l <= level; ++l) {
        if (words_[l] == 1) *used[l] = codec_.mark_used(*used[l], l == level, write);
        else codec_.store(used[l], l, codec_.mark_used(codec_.load(used[l], l), l == level, write));
      }
    std::uint64_t sz = span(level);
    Translation t{WalkFault::none, d.addr + (raw_va & (sz - 1)), d.addr, sz, r, codec_.leaf_attrs(e, level).global};
    t.leaf_level = level;
    t.next_table = next;
    return t;
  }
  return {WalkFault::not_present};
}

}  // namespace vmref::impl
