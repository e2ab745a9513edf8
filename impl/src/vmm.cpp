// VMM core: construction, dispatch, frames, PTE writes and TLB shootdowns.
#include "vmm_internal.hpp"
#include "zephyr_state.hpp"

namespace vmref::impl {

using namespace vmref::model;

Vmm::Vmm(Profile profile, std::uint64_t frame_capacity, const RadixCodec& codec, Mmu& mmu, Mutant mutant)
    : profile_(std::move(profile)), capacity_(frame_capacity), codec_(codec), mmu_(mmu), mutant_(mutant),
      pool_(mem_) {
  zero_pfn_ = pool_.alloc();  // the shared zero page: never counted, never freed (spec §1.5)
  pages_.resize(zero_pfn_ + 1);
  pages_[zero_pfn_].data = true;
  objects_.emplace_back();
  ctx_owner_.resize(mmu.max_contexts() + 1, 0);
  if (profile_.zephyr.enabled) zephyr_boot();
  if (profile_.almos.enabled) almos_ = std::make_unique<Almos>(profile_.almos, mmu.cpus(), pool_, codec_, mutant);
}

Vmm::~Vmm() = default;

Outcome Vmm::apply(const Event& e) {
  switch (e.op) {
    case Op::as_create: return as_create(e);
    case Op::as_destroy: return as_destroy(e);
    case Op::switch_as: return switch_as(e);
    case Op::mmap: return mmap(e);
    case Op::munmap: return munmap(e);
    case Op::mprotect: return mprotect(e);
    case Op::brk: return brk(e);
    case Op::fork: return fork(e);
    case Op::exec_reset: return exec_reset(e);
    case Op::access: return zephyr_ ? zephyr_access(e) : access(e);
    case Op::tlb_flush: return tlb_flush(e);
    case Op::pin: return pin(e);
    case Op::unpin: return unpin(e);
    case Op::observe: return {};
    case Op::mermap_prepare: return mermap_prepare(e);
    case Op::mermap_get: return mermap_get(e);
    case Op::mermap_put: return mermap_put(e);
    case Op::mermap_teardown: return mermap_teardown(e);
    case Op::k_mem_map: return k_mem_map(e);
    case Op::k_mem_unmap: return k_mem_unmap(e);
    case Op::k_mem_page_out: return k_mem_page_out(e);
    case Op::k_mem_page_in:
    case Op::k_mem_pin:
    case Op::k_mem_unpin: return k_mem_paging(e);
    case Op::k_mem_stat: return k_mem_stat(e);
    case Op::nru_tick: return nru_tick(e);
    case Op::almos_process:
    case Op::almos_vseg:
    case Op::almos_munmap:
    case Op::almos_access:
    case Op::almos_fork:
    case Op::almos_exec:
    case Op::almos_exit:
      if (!almos_) throw Unsupported("op", "almos_* events need the almos-mkh profile");
      return almos_->apply(e);
    default:
      throw Unsupported("op", std::string("operation '") + to_string(e.op) +
                                  "' is not implemented by the optimized VMM (spec/formats/x86_64.md §VMM core)");
  }
}

Vmm::Space& Vmm::space_of(Asid as, const char* field) {
  auto it = spaces_.find(as);
  if (it == spaces_.end()) throw std::invalid_argument(std::string(field) + ": address space " + std::to_string(as) + " does not exist");
  return *it->second;
}

const Vmm::Space* Vmm::space(Asid as) const {
  auto it = spaces_.find(as);
  return it == spaces_.end() ? nullptr : it->second.get();
}
const RadixTable& Vmm::table(const Space& s) const { return s.table; }
const std::map<Va, Vseg>& Vmm::vsl(const Space& s) const { return s.vsl; }
std::uint16_t Vmm::context(const Space& s) const { return s.ctx; }
Asid Vmm::asid_of(std::uint16_t ctx) const { return ctx < ctx_owner_.size() ? ctx_owner_[ctx] : 0; }
std::uint64_t Vmm::table_pages() const {
  std::uint64_t n = 0;
  for (const auto& [as, s] : spaces_) n += s->table.table_pages();
  return n;
}

std::vector<Asid> Vmm::spaces() const {
  std::vector<Asid> out;
  for (const auto& [as, s] : spaces_) out.push_back(as);
  return out;
}

std::uint64_t Vmm::version(std::uint64_t pfn) const {
  const std::uint64_t* p = mem_.find(pfn);
  return p ? p[0] : 0;
}

std::uint64_t& Vmm::stamp(std::uint64_t pfn) { return mem_.page(pfn)[0]; }

std::optional<std::uint64_t> Vmm::alloc_data() {
  if (data_in_use_ >= capacity_) return std::nullopt;
  std::uint64_t pfn = pool_.alloc();
  if (pfn >= pages_.size()) pages_.resize(std::max<std::size_t>(pfn + 1, pages_.size() * 2));
  pages_[pfn] = PageInfo{true, 1, 0, 0, 0, false, ++generations_};
  ++data_in_use_;
  return pfn;
}

void Vmm::get(std::uint64_t pfn) {
  if (pfn != zero_pfn_) ++pages_[pfn].refcount;
}

void Vmm::put(std::uint64_t pfn) {
  if (pfn == zero_pfn_) return;
  PageInfo& p = pages_[pfn];
  if (p.refcount > 0) --p.refcount;
  if (p.refcount == 0 && p.data) {
    p.data = false;
    --data_in_use_;
    pool_.free(pfn);
  }
}

void Vmm::set_pte(Space& s, Va va, std::uint64_t pfn, const LeafAttrs& a) {
  if (auto old = s.table.lookup(va)) --pages_[old->pa >> 12].mapcount;
  s.table.map(va, pfn << 12, kPage, a);
  ++pages_[pfn].mapcount;
}

std::uint64_t Vmm::clear_pte(Space& s, Va va) {
  std::uint64_t pfn = 0;
  s.table.unmap(va, kPage, [&](const Mapping& m) { pfn = m.pa >> 12; });
  if (pfn) --pages_[pfn].mapcount;
  return pfn;
}

void Vmm::shootdown(Space& s, Va start, Va end) {
  // Linux flush_tlb_mm_range: page by page up to a ceiling, else the whole context.
  bool whole = (end - start) / kPage > kFlushCeiling;
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) {
    if (whole) {
      mmu_.invalidate_context(cpu, s.ctx, true);
      continue;
    }
    for (Va va = start; va < end; va += kPage) mmu_.invalidate_page(cpu, s.ctx, va, true);
  }
  release_mermap(-1, s.asid, start, end);
}

void Vmm::unmap_ptes(Space& s, Va start, Va end) {
  std::vector<std::uint64_t> dropped;
  s.table.unmap(start, end - start, [&](const Mapping& m) { dropped.push_back(m.pa >> 12); });
  if (dropped.empty()) return;
  for (std::uint64_t pfn : dropped) --pages_[pfn].mapcount;
  // Only synchronous flushes reach here: munmap refuses the others up front (Unsupported).
  if (mutant_ != Mutant::no_invlpg_after_unmap) shootdown(s, start, end);
  for (std::uint64_t pfn : dropped) put(pfn);
}

LeafAttrs Vmm::attrs_for(const Vseg& v, std::uint64_t pfn, bool cow) const {
  // spec §2.9.4: W withheld from private COW, zero-page and page-cache frames.
  Prot p = profile_.grantable(v.prot);
  if (!v.shared && (cow || pfn == zero_pfn_ || pages_[pfn].cached)) p.w = false;
  LeafAttrs a;
  a.rights = {p.w, p.r, p.x};  // no rights at all: a supervisor-only page (U/S = 0)
  a.global = v.flags.has(VmFlag::global);
  a.soft = cow ? 1 : 0;
  return a;
}

}  // namespace vmref::impl
