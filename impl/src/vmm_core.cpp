// The VMM core: frames, PTE writes with map counts, address spaces with their contexts,
// TLB shootdowns, and the shared operations (spec/vmm.md §2.1-§2.3, §3.2).
#include <algorithm>

#include "vmref/impl/vmm.hpp"

namespace vmref::impl {

using namespace vmref::vocab;

VmmCore::VmmCore(std::uint64_t frame_capacity, const RadixCodec& codec, Mmu& mmu, Mutant mutant)
    : capacity_(frame_capacity), codec_(codec), mmu_(mmu), mutant_(mutant), pool_(mem_) {
  zero_pfn_ = pool_.alloc();  // the shared zero page: never counted, never freed (spec/vmm.md §1.5)
  pages_.resize(zero_pfn_ + 1);
  pages_[zero_pfn_].data = true;
  ctx_owner_.resize(mmu.max_contexts() + 1, 0);
  next_ctx_ = mmu.max_contexts();
  cpu_.resize(mmu.cpus());
}

unsigned VmmCore::need_cpu(int cpu) const {
  if (cpu < 0 || static_cast<unsigned>(cpu) >= mmu_.cpus())
    throw std::invalid_argument("cpu: cpu " + std::to_string(cpu) + " out of range");
  return static_cast<unsigned>(cpu);
}

std::optional<std::uint64_t> VmmCore::alloc_data() {
  if (data_in_use_ >= capacity_) return std::nullopt;
  std::uint64_t pfn = pool_.alloc();
  claim_data(pfn);
  return pfn;
}

std::optional<std::uint64_t> VmmCore::alloc_folio(unsigned order) {
  std::uint64_t n = std::uint64_t{1} << order;
  if (data_in_use_ + n > capacity_) return std::nullopt;
  std::uint64_t head = pool_.alloc_block(order);
  if (head + n > pages_.size()) pages_.resize(std::max<std::size_t>(head + n, pages_.size() * 2));
  claim_data(head);
  pages_[head].order = static_cast<std::uint8_t>(order);
  data_in_use_ += n - 1;
  for (std::uint64_t i = 1; i < n; ++i) pages_[head + i] = PageInfo{.head = head};
  return head;
}

std::optional<std::uint64_t> VmmCore::huge_zero(unsigned order) {
  if (!huge_zero_pfn_)
    if (auto f = alloc_folio(order)) huge_zero_pfn_ = *f;  // its one reference is the kernel's own
  return huge_zero_pfn_ ? std::optional<std::uint64_t>{huge_zero_pfn_} : std::nullopt;
}

bool VmmCore::page_shared(std::uint64_t pfn, std::uint64_t size) const {
  std::uint64_t head = head_of(pfn);
  const PageInfo& h = pages_[head];
  if (h.order == 0) return h.mapcount > 1;
  if (size == kPage) return h.entire_maps + pages_[pfn].page_maps > 1;
  if (h.entire_maps > 1) return true;
  for (std::uint64_t i = 0; i < size / kPage; ++i)
    if (pages_[pfn + i].page_maps) return true;
  return false;
}

void VmmCore::count_map(std::uint64_t pfn, std::uint64_t size, int delta) {
  std::uint64_t head = head_of(pfn);
  PageInfo& h = pages_[head];
  h.mapcount += delta;
  if (h.order == 0) return;
  if (size > kPage) h.entire_maps += delta;
  else pages_[pfn].page_maps += delta;
}

void VmmCore::claim_data(std::uint64_t pfn) {
  if (pfn >= pages_.size()) pages_.resize(std::max<std::size_t>(pfn + 1, pages_.size() * 2));
  pages_[pfn] = PageInfo{true, 1, 0, 0, 0, false, ++generations_};
  ++data_in_use_;
}

void VmmCore::unclaim_data(std::uint64_t pfn) {
  PageInfo& p = pages_[pfn];
  p.data = false;
  p.refcount = 0;
  --data_in_use_;
}

void VmmCore::get(std::uint64_t pfn) {
  if (!is_zero(pfn)) ++pages_[head_of(pfn)].refcount;
}

void VmmCore::put(std::uint64_t pfn) {
  if (is_zero(pfn)) return;
  std::uint64_t head = head_of(pfn);
  PageInfo& p = pages_[head];
  if (p.refcount > 0) --p.refcount;
  if (p.refcount == 0 && p.data) {
    p.data = false;
    if (p.order == 0) {
      --data_in_use_;
      pool_.free(head);
      return;
    }
    std::uint64_t n = std::uint64_t{1} << p.order;  // a folio goes whole
    for (std::uint64_t i = 1; i < n; ++i) pages_[head + i] = PageInfo{};
    data_in_use_ -= n;
    pool_.free_block(head, p.order);
  }
}

std::uint64_t VmmCore::version(std::uint64_t pfn) const {
  const std::uint64_t* p = mem_.find(head_of(pfn));
  return p ? p[0] : 0;
}

void VmmCore::set_pte(Space& s, Va va, std::uint64_t pfn, const LeafAttrs& a) {
  if (auto old = s.table.lookup(va)) count_map(old->pa >> kPageShift, old->size, -1);
  s.table.map(va, pfn << kPageShift, kPage, a);
  count_map(pfn, kPage, +1);
}

void VmmCore::set_huge(Space& s, Va va, std::uint64_t head, std::uint64_t size, const LeafAttrs& a) {
  if (auto old = s.table.lookup(va)) count_map(old->pa >> kPageShift, old->size, -1);
  s.table.map(va, head << kPageShift, size, a, size);
  count_map(head, size, +1);
}

std::uint64_t VmmCore::clear_pte(Space& s, Va va) {
  std::uint64_t pfn = 0, size = 0;
  s.table.unmap(va, kPage, [&](const Mapping& m) { pfn = m.pa >> kPageShift, size = m.size; });
  if (pfn) count_map(pfn, size, -1);
  return pfn;
}

void VmmCore::shootdown_leaf(Space& s, Va va, std::uint64_t size) {
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) invalidate_page(cpu, s, va, true);
  flushed(-1, s.asid, va, va + size);
}

void VmmCore::shootdown(Space& s, Va start, Va end) {
  bool whole = (end - start) / kPage > kFlushCeiling;
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) {
    if (whole) {
      invalidate_space(cpu, s, true);
      continue;
    }
    std::vector<std::uint16_t> ctxs = contexts_of(cpu, s.asid);  // once per CPU, not per page
    for (Va va = start; va < end; va += kPage)
      for (std::uint16_t c : ctxs) mmu_.invalidate_page(cpu, c, va, true);
  }
  flushed(-1, s.asid, start, end);
}

std::vector<std::uint16_t> VmmCore::contexts_of(unsigned cpu, Asid as) const {
  std::vector<std::uint16_t> out;
  if (const Space* s = space(as)) out.push_back(s->ctx);
  for (const auto& [tag, spaces] : cpu_[cpu].tags)
    if (std::find(spaces.begin(), spaces.end(), as) != spaces.end()) out.push_back(tag);
  return out;
}

void VmmCore::invalidate_page(unsigned cpu, const Space& s, Va va, bool with_global) {
  for (std::uint16_t c : contexts_of(cpu, s.asid)) mmu_.invalidate_page(cpu, c, va, with_global);
}

void VmmCore::invalidate_space(unsigned cpu, const Space& s, bool with_global) {
  for (std::uint16_t c : contexts_of(cpu, s.asid)) {
    mmu_.invalidate_context(cpu, c, with_global);
    forget(cpu, c, with_global);
  }
}

void VmmCore::invalidate_all(unsigned cpu) {
  mmu_.invalidate_all(cpu);
  forget(cpu, 0, true);
}

void VmmCore::forget(unsigned cpu, std::uint16_t ctx, bool all) {
  CpuContexts& c = cpu_[cpu];
  for (auto it = c.tags.begin(); it != c.tags.end();) {
    if (!all && it->first != ctx) {
      ++it;
      continue;
    }
    bool runs = mmu_.current(cpu) == it->first && c.running;
    if (runs) it->second.assign(1, c.running);
    it = runs ? std::next(it) : c.tags.erase(it);
  }
}

std::uint16_t VmmCore::tag_context(std::uint32_t tag) {
  if (tag == 0 || tag > mmu_.max_contexts())
    throw Unsupported("tag", "tag " + std::to_string(tag) + ": this implementation's contexts are 1.." +
                                 std::to_string(mmu_.max_contexts()) + " (0 is the kernel's own)");
  auto ctx = static_cast<std::uint16_t>(tag);
  if (asid_of(ctx))
    throw Unsupported("tag", "tag " + std::to_string(tag) + " is the context this implementation gave address space " +
                                 std::to_string(asid_of(ctx)));
  tags_used_.insert(ctx);
  return ctx;
}

void VmmCore::load_space(unsigned cpu, Space& s, std::optional<std::uint32_t> tag, bool flush) {
  std::uint16_t ctx = tag ? tag_context(*tag) : s.ctx;  // may refuse the tag: nothing changed yet
  cpu_[cpu].running = s.asid;
  mmu_.load(cpu, ctx, s.table.root(), s.asid, tag && flush);
  if (!tag) return;
  std::vector<Asid>& held = cpu_[cpu].tags[ctx];
  if (flush) held.clear();
  if (std::find(held.begin(), held.end(), s.asid) == held.end()) held.push_back(s.asid);
}

void VmmCore::flushed(int cpu, Asid as, Va lo, Va hi) {
  for (KernelLayer* l : layers) l->flushed(cpu, as, lo, hi);
}

VmmCore::Space& VmmCore::create_space(Asid as) {
  if (as == 0 || spaces_.count(as)) throw std::invalid_argument("as: address space " + std::to_string(as) + " is 0 or exists");
  std::uint16_t ctx = 0;
  while (!free_ctx_.empty() && !ctx) {  // a context a trace has since named as a tag stays the trace's
    ctx = is_tag(free_ctx_.back()) ? 0 : free_ctx_.back();
    free_ctx_.pop_back();
  }
  while (!ctx && next_ctx_ > 0) {
    ctx = is_tag(next_ctx_) ? 0 : next_ctx_;
    --next_ctx_;
  }
  if (!ctx) {
    throw Unsupported("as", "more live address spaces than hardware contexts (" + std::to_string(mmu_.max_contexts()) + ")");
  }
  auto s = std::make_unique<Space>(as, ctx, pool_, codec_, mutant_);
  s->table.set_observer(mmu_.entry_observer());
  ctx_owner_[ctx] = as;
  return *(spaces_[as] = std::move(s));
}

void VmmCore::destroy_space(Asid as) {
  space_of(as);
  for (KernelLayer* l : layers) l->before_destroy(as);
  Space& s = space_of(as);
  // What the layers left mapped goes the way munmap's pages go.
  std::vector<std::uint64_t> dropped;
  if (!s.table.empty())
    s.table.clear([&](const Mapping& m) {
      dropped.push_back(m.pa >> kPageShift);
      count_map(m.pa >> kPageShift, m.size, -1);
    });
  if (!dropped.empty()) shootdown(s, 0, UINT64_MAX & ~(kPage - 1));
  for (std::uint64_t pfn : dropped) put(pfn);
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) {
    if (running(cpu) == as) {  // back to the kernel's own context
      mmu_.load(cpu, 0, 0, 0);
      cpu_[cpu].running = 0;
    }
    invalidate_space(cpu, s, true);  // its contexts may be reused from now on
  }
  flushed(-1, as, 0, UINT64_MAX);
  ctx_owner_[s.ctx] = 0;
  free_ctx_.push_back(s.ctx);
  spaces_.erase(as);
}

VmmCore::Space& VmmCore::space_of(Asid as, const char* field) {
  auto it = spaces_.find(as);
  if (it == spaces_.end()) throw std::invalid_argument(std::string(field) + ": address space " + std::to_string(as) + " does not exist");
  return *it->second;
}

const VmmCore::Space* VmmCore::space(Asid as) const {
  auto it = spaces_.find(as);
  return it == spaces_.end() ? nullptr : it->second.get();
}

VmmCore::Space* VmmCore::space(Asid as) {
  auto it = spaces_.find(as);
  return it == spaces_.end() ? nullptr : it->second.get();
}

std::vector<Asid> VmmCore::spaces() const {
  std::vector<Asid> out;
  for (const auto& [as, s] : spaces_) out.push_back(as);
  std::sort(out.begin(), out.end());
  return out;
}

std::uint64_t VmmCore::table_pages() const {
  std::uint64_t n = 0;
  for (const auto& [as, s] : spaces_) n += s->table.table_pages();
  return n;
}

Outcome VmmCore::as_create(const Event& e) {
  const auto& a = e.get<AsCreateArgs>();
  create_space(a.as);
  for (KernelLayer* l : layers) l->created(a.as, a);
  return {};
}

Outcome VmmCore::as_destroy(const Event& e) {
  destroy_space(e.get<SpaceArgs>().as);
  return {};
}

Outcome VmmCore::switch_as(const Event& e) {
  unsigned cpu = need_cpu(e.cpu);
  const auto& a = e.get<SwitchArgs>();
  Space& s = space_of(a.as);
  if (a.tag) {
    load_space(cpu, s, a.tag, a.flush);  // the kernel's PCID, with or without CR3 bit 63
    return {};
  }
  // Untagged, each space runs under its own context. A flushing switch drops every
  // untagged entry in the model (one context for all); dropping everything here keeps
  // this TLB inside what the model allows (a subset). The trace's root names one of
  // the space's tables; the implementation has one table tree per space.
  if (a.flush) invalidate_all(cpu);
  load_space(cpu, s);
  return {};
}

Outcome VmmCore::tlb_flush(const Event& e) {
  const auto& a = e.get<TlbFlushArgs>();
  if (!a.broadcast && (e.cpu < 0 || static_cast<unsigned>(e.cpu) >= mmu_.cpus()))
    throw std::invalid_argument("cpu: a local flush needs a cpu in range");
  Space* s = a.scope == FlushScope::all ? nullptr : &space_of(a.as);
  Va first = a.va & ~(kPage - 1);
  Va last = a.va + a.len > UINT64_MAX - (kPage - 1) ? 0 : (a.va + a.len + kPage - 1) & ~(kPage - 1);
  std::optional<std::uint16_t> tag;
  if (s && a.tag) tag = tag_context(*a.tag);
  bool whole = a.scope == FlushScope::asid || (last - first) / kPage > kFlushCeiling;
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) {
    if (!a.broadcast && static_cast<int>(cpu) != e.cpu) continue;
    if (!s) {
      invalidate_all(cpu);
      flushed(static_cast<int>(cpu), 0, 0, UINT64_MAX);
      continue;
    }
    // Under one tag (INVPCID type 0/1 of that PCID) or under each context of the space.
    std::vector<std::uint16_t> ctxs = tag ? std::vector<std::uint16_t>{*tag} : contexts_of(cpu, s->asid);
    for (std::uint16_t c : ctxs) {
      if (whole) {
        mmu_.invalidate_context(cpu, c, a.with_global);
        forget(cpu, c, a.with_global);
      } else {
        for (Va va = first; va < last; va += kPage) mmu_.invalidate_page(cpu, c, va, a.with_global);
      }
    }
    // A flush under one tag may leave the space's entries under its own context, so the
    // layers (which count flushes that covered a space) do not hear of it.
    if (tag) continue;
    flushed(static_cast<int>(cpu), s->asid, a.scope == FlushScope::asid ? 0 : first,
            a.scope == FlushScope::asid ? UINT64_MAX : last);
  }
  return {};
}

}  // namespace vmref::impl
