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
  if (pfn != zero_pfn_) ++pages_[pfn].refcount;
}

void VmmCore::put(std::uint64_t pfn) {
  if (pfn == zero_pfn_) return;
  PageInfo& p = pages_[pfn];
  if (p.refcount > 0) --p.refcount;
  if (p.refcount == 0 && p.data) {
    p.data = false;
    --data_in_use_;
    pool_.free(pfn);
  }
}

std::uint64_t VmmCore::version(std::uint64_t pfn) const {
  const std::uint64_t* p = mem_.find(pfn);
  return p ? p[0] : 0;
}

void VmmCore::set_pte(Space& s, Va va, std::uint64_t pfn, const LeafAttrs& a) {
  if (auto old = s.table.lookup(va)) --pages_[old->pa >> kPageShift].mapcount;
  s.table.map(va, pfn << kPageShift, kPage, a);
  ++pages_[pfn].mapcount;
}

std::uint64_t VmmCore::clear_pte(Space& s, Va va) {
  std::uint64_t pfn = 0;
  s.table.unmap(va, kPage, [&](const Mapping& m) { pfn = m.pa >> kPageShift; });
  if (pfn) --pages_[pfn].mapcount;
  return pfn;
}

void VmmCore::shootdown(Space& s, Va start, Va end) {
  bool whole = (end - start) / kPage > kFlushCeiling;
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) {
    if (whole) {
      mmu_.invalidate_context(cpu, s.ctx, true);
      continue;
    }
    for (Va va = start; va < end; va += kPage) mmu_.invalidate_page(cpu, s.ctx, va, true);
  }
  flushed(-1, s.asid, start, end);
}

void VmmCore::flushed(int cpu, Asid as, Va lo, Va hi) {
  for (KernelLayer* l : layers) l->flushed(cpu, as, lo, hi);
}

VmmCore::Space& VmmCore::create_space(Asid as) {
  if (as == 0 || spaces_.count(as)) throw std::invalid_argument("as: address space " + std::to_string(as) + " is 0 or exists");
  std::uint16_t ctx;
  if (!free_ctx_.empty()) {
    ctx = free_ctx_.back();
    free_ctx_.pop_back();
  } else if (next_ctx_ <= mmu_.max_contexts()) {
    ctx = next_ctx_++;
  } else {
    throw Unsupported("as", "more live address spaces than hardware contexts (" + std::to_string(mmu_.max_contexts()) + ")");
  }
  auto s = std::make_unique<Space>(as, ctx, pool_, codec_, mutant_);
  ctx_owner_[ctx] = as;
  return *(spaces_[as] = std::move(s));
}

void VmmCore::destroy_space(Asid as) {
  space_of(as);
  for (KernelLayer* l : layers) l->before_destroy(as);
  Space& s = space_of(as);
  // What the layers left mapped goes the way munmap's pages go.
  std::vector<std::uint64_t> dropped;
  if (!s.table.empty()) s.table.clear([&](const Mapping& m) { dropped.push_back(m.pa >> kPageShift); });
  for (std::uint64_t pfn : dropped) --pages_[pfn].mapcount;
  if (!dropped.empty()) shootdown(s, 0, UINT64_MAX & ~(kPage - 1));
  for (std::uint64_t pfn : dropped) put(pfn);
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) {
    if (mmu_.current(cpu) == s.ctx) mmu_.load(cpu, 0, 0);  // back to the kernel's own context
    mmu_.invalidate_context(cpu, s.ctx, true);  // the PCID may be reused from now on
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
  // The engine tags each space with a context of its own, so the trace's tag and root
  // only matter through `flush`. A flushed tag may have held several spaces' entries;
  // dropping everything keeps this TLB inside what the model allows (a subset).
  if (a.flush) mmu_.invalidate_all(cpu);
  mmu_.load(cpu, s.ctx, s.table.root());
  return {};
}

Outcome VmmCore::tlb_flush(const Event& e) {
  const auto& a = e.get<TlbFlushArgs>();
  if (!a.broadcast && (e.cpu < 0 || static_cast<unsigned>(e.cpu) >= mmu_.cpus()))
    throw std::invalid_argument("cpu: a local flush needs a cpu in range");
  Space* s = a.scope == FlushScope::all ? nullptr : &space_of(a.as);
  Va first = a.va & ~(kPage - 1);
  Va last = a.va + a.len > UINT64_MAX - (kPage - 1) ? 0 : (a.va + a.len + kPage - 1) & ~(kPage - 1);
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) {
    if (!a.broadcast && static_cast<int>(cpu) != e.cpu) continue;
    if (!s) {
      mmu_.invalidate_all(cpu);
      flushed(static_cast<int>(cpu), 0, 0, UINT64_MAX);
    } else if (a.scope == FlushScope::asid || (last - first) / kPage > kFlushCeiling) {
      mmu_.invalidate_context(cpu, s->ctx, a.with_global);
      flushed(static_cast<int>(cpu), s->asid, a.scope == FlushScope::asid ? 0 : first,
              a.scope == FlushScope::asid ? UINT64_MAX : last);
    } else {
      for (Va va = first; va < last; va += kPage) mmu_.invalidate_page(cpu, s->ctx, va, a.with_global);
      flushed(static_cast<int>(cpu), s->asid, first, last);
    }
  }
  return {};
}

}  // namespace vmref::impl
