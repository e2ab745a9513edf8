// The model's registries, and the core's rows in them (its layer and its invariants,
// spec/vmm.md §4.1-§4.6).
#include "vmref/model/registry.hpp"

#include <stdexcept>

#include "core_layer.hpp"
#include "core_invariants.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/vocab/core_ops.hpp"

namespace vmref::model {

namespace {
std::vector<std::unique_ptr<ModelKernelInfo>>& kernel_rows() {
  static std::vector<std::unique_ptr<ModelKernelInfo>> k;
  return k;
}
std::vector<InvariantInfo>& invariant_rows() {
  static std::vector<InvariantInfo> k;
  return k;
}
}  // namespace

void add_model_kernel(ModelKernelInfo k) {
  if (find_model_kernel(k.kernel)) throw std::logic_error("model layer '" + k.kernel + "' registered twice");
  kernel_rows().push_back(std::make_unique<ModelKernelInfo>(std::move(k)));
}

const ModelKernelInfo* find_model_kernel(std::string_view kernel) {
  for (const auto& k : kernel_rows())
    if (k->kernel == kernel) return k.get();
  return nullptr;
}

void add_invariant(InvariantInfo inv) {
  if (find_invariant(inv.id)) throw std::logic_error(std::string("invariant ") + inv.id + " registered twice");
  invariant_rows().push_back(inv);
}

const std::vector<InvariantInfo>& invariants() { return invariant_rows(); }

const InvariantInfo* find_invariant(std::string_view id) {
  for (const InvariantInfo& i : invariant_rows())
    if (id == i.id) return &i;
  return nullptr;
}

void register_core_model() {
  namespace ops = vocab::ops;
  add_model_kernel({"core", nullptr, [](Core& c, const vocab::KernelParams*) -> std::unique_ptr<KernelLayer> {
                      return std::make_unique<CoreLayer>(c);
                    },
                    {{&ops::as_create, &call<CoreLayer, &CoreLayer::as_create>},
                     {&ops::as_destroy, &call<CoreLayer, &CoreLayer::as_destroy>},
                     {&ops::switch_as, &call<CoreLayer, &CoreLayer::switch_as>},
                     {&ops::tlb_flush, &call<CoreLayer, &CoreLayer::tlb_flush>},
                     {&ops::observe, &call<CoreLayer, &CoreLayer::observe>},
                     {&ops::vseg_insert, &call<CoreLayer, &CoreLayer::vseg_insert>},
                     {&ops::vseg_remove, &call<CoreLayer, &CoreLayer::vseg_remove>},
                     {&ops::pte_set, &call<CoreLayer, &CoreLayer::pte_set>},
                     {&ops::pte_clear, &call<CoreLayer, &CoreLayer::pte_clear>},
                     {&ops::frame_alloc, &call<CoreLayer, &CoreLayer::frame_event>},
                     {&ops::frame_get, &call<CoreLayer, &CoreLayer::frame_event>},
                     {&ops::frame_put, &call<CoreLayer, &CoreLayer::frame_event>},
                     {&ops::frame_free, &call<CoreLayer, &CoreLayer::frame_event>},
                     {&ops::frame_ref, &call<CoreLayer, &CoreLayer::frame_ref>},
                     {&ops::frame_unref, &call<CoreLayer, &CoreLayer::frame_ref>},
                     {&ops::frame_pin, &call<CoreLayer, &CoreLayer::frame_pin>},
                     {&ops::frame_unpin, &call<CoreLayer, &CoreLayer::frame_unpin>},
                     {&ops::pt_root, &call<CoreLayer, &CoreLayer::pt_root>},
                     {&ops::pt_link, &call<CoreLayer, &CoreLayer::pt_link>},
                     {&ops::pt_unlink, &call<CoreLayer, &CoreLayer::pt_unlink>},
                     {&ops::lock, &call<CoreLayer, &CoreLayer::lock_event>},
                     {&ops::unlock, &call<CoreLayer, &CoreLayer::lock_event>},
                     {&ops::call_return, &call<CoreLayer, &CoreLayer::call_return>},
                     {&ops::tlb_pending, &call<CoreLayer, &CoreLayer::tlb_pending>},
                     {&ops::va_release, &call<CoreLayer, &CoreLayer::va_list_event>},
                     {&ops::va_reuse, &call<CoreLayer, &CoreLayer::va_list_event>}}});
  for (const InvariantInfo& i : std::initializer_list<InvariantInfo>{
           {"INV-VSL-1", "vsegs of one address space are pairwise disjoint", "spec/vmm.md §4.1", "core", check_vsl_1},
           {"INV-VSL-2", "every vseg is non-empty, page aligned and below the top of user space", "spec/vmm.md §4.1", "core", check_vsl_2},
           {"INV-GPT-1", "every valid PTE lies inside a vseg of its address space", "spec/vmm.md §4.2", "core", check_gpt_1},
           {"INV-GPT-2", "no valid PTE grants a right its vseg lacks", "spec/vmm.md §4.2", "core", check_gpt_2},
           {"INV-GPT-3", "every valid PTE maps an allocated frame", "spec/vmm.md §4.2", "core", check_gpt_3},
           {"INV-GPT-4", "every leaf maps pages its frame has, at an offset aligned to the leaf's size", "spec/vmm.md §4.2",
            "core", check_gpt_4},
           {"INV-FRAME-1", "reference count = mappings + pins + page-cache + deferred-flush + named references", "spec/vmm.md §4.3", "core",
            check_frame_1},
           {"INV-FRAME-2", "a frame is free if and only if its reference count is 0", "spec/vmm.md §4.3", "core", check_frame_2},
           {"INV-COW-1", "a COW PTE is never writable", "spec/vmm.md §4.4", "core", check_cow_1},
           {"INV-COW-2", "a writable PTE of a private vseg maps a frame nothing else maps or caches", "spec/vmm.md §4.4", "core",
            check_cow_2},
           {"INV-COW-3", "a frame pinned through one address space is writable in no private PTE of another", "spec/vmm.md §4.4",
            "core", check_cow_3},
           {"INV-TLB-1", "no CPU may hold a translation to a free frame", "spec/vmm.md §4.5", "core", check_tlb_1},
           {"INV-TLB-2", "no CPU may hold a translation to another frame than the VA's valid PTE", "spec/vmm.md §4.5", "core",
            check_tlb_2},
           {"INV-TLB-3", "no CPU may hold a right that the VA's valid PTE no longer grants", "spec/vmm.md §4.5", "core", check_tlb_3},
           {"INV-TLB-4", "a PTE clear, move or rights cut is flushed before the lock held while making it is released",
            "spec/vmm.md §4.5", "core", check_tlb_4},
           {"INV-TLB-5", "when a call that removed translations returns, no CPU may still hold one of them",
            "spec/vmm.md §4.5", "core", check_tlb_5},
           {"INV-TLB-6", "a TLB tag is loaded for another root only after a flush of that tag",
            "spec/vmm.md §4.5", "core", check_tlb_6},
           {"INV-PT-1", "no CPU may walk through a table page that was freed or reused, nor is a freed one still linked",
            "spec/vmm.md §4.7", "core", check_pt_1},
           {"INV-PT-2", "a table page is linked at most once unless every further link is declared shared", "spec/vmm.md §4.7",
            "core", check_pt_2},
           {"INV-PT-3", "a leaf is set only under a linked table", "spec/vmm.md §4.7", "core", check_pt_3},
           {"INV-PT-4", "no CPU may walk through an old child table that is now linked elsewhere (flush before reuse)",
            "spec/vmm.md §4.7", "core", check_pt_4},
           {"INV-ALLOC-1", "a range on an allocator list has no valid PTE", "spec/vmm.md §4.6", "core", check_alloc_1},
           {"INV-ALLOC-2", "a range on an allocator list overlaps no live vseg", "spec/vmm.md §4.6", "core", check_alloc_2},
           {"INV-ALLOC-3", "a range sits on at most one allocator list, at most once", "spec/vmm.md §4.6", "core", check_alloc_3},
           {"INV-ALLOC-4", "a range taken from list k serves only a request of size class k", "spec/vmm.md §4.6", "core",
            check_alloc_4}})
    add_invariant(i);
}

}  // namespace vmref::model
