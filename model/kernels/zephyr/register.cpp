// The zephyr layer: boot, its hooks, and its rows in the model's registry (its
// operations and INV-ZEPHYR-1..8, spec/kernels/zephyr.md §9).
#include "vmref/model/invariants.hpp"
#include "vmref/model/registry.hpp"
#include "zephyr_model.hpp"

namespace vmref::zephyr {

void check_zephyr_1(const CheckScope&, std::vector<Violation>&);
void check_zephyr_2(const CheckScope&, std::vector<Violation>&);
void check_zephyr_3(const CheckScope&, std::vector<Violation>&);
void check_zephyr_4(const CheckScope&, std::vector<Violation>&);
void check_zephyr_5(const CheckScope&, std::vector<Violation>&);
void check_zephyr_6(const CheckScope&, std::vector<Violation>&);
void check_zephyr_7(const CheckScope&, std::vector<Violation>&);
void check_zephyr_8(const CheckScope&, std::vector<Violation>&);

ZephyrModel::ZephyrModel(Core& core, const ZephyrParams& params) : KernelLayer(core), p_(params) { boot(); }

void ZephyrModel::before_destroy(Asid as) {
  if (as == kKernelAs) throw ModelError("as", "the zephyr kernel's address space cannot be destroyed");
}

void ZephyrModel::pte_installed(Asid as, Vpn vpn) {
  if (as == kKernelAs) zephyr_.paged_out.erase(vpn);
}

void register_model() {
  add_model_kernel({kKernel,
                    // Zephyr's free list hands out frames in number order (NRU scans by number).
                    [](const vocab::KernelParams*, CoreConfig& cfg) { cfg.fifo_frames = true; },
                    [](Core& c, const vocab::KernelParams* p) -> std::unique_ptr<KernelLayer> {
                      return std::make_unique<ZephyrModel>(c, static_cast<const ZephyrParams&>(*p));
                    },
                    {{&ops::k_mem_map, &call<ZephyrModel, &ZephyrModel::k_mem_map>},
                     {&ops::k_mem_unmap, &call<ZephyrModel, &ZephyrModel::k_mem_unmap>},
                     {&ops::k_mem_page_out, &call<ZephyrModel, &ZephyrModel::k_mem_page_out>},
                     {&ops::k_mem_page_in, &call<ZephyrModel, &ZephyrModel::k_mem_paging>},
                     {&ops::k_mem_pin, &call<ZephyrModel, &ZephyrModel::k_mem_paging>},
                     {&ops::k_mem_unpin, &call<ZephyrModel, &ZephyrModel::k_mem_paging>},
                     {&ops::k_mem_stat, &call<ZephyrModel, &ZephyrModel::k_mem_stat>},
                     {&ops::nru_tick, &call<ZephyrModel, &ZephyrModel::nru_tick>},
                     {&vocab::ops::access, &call<ZephyrModel, &ZephyrModel::access>},
                     {&ops::zephyr_frame, &call<ZephyrModel, &ZephyrModel::zephyr_frame>},
                     {&ops::zephyr_slot, &call<ZephyrModel, &ZephyrModel::zephyr_slot>},
                     {&ops::zephyr_page_out, &call<ZephyrModel, &ZephyrModel::zephyr_page_out>},
                     {&ops::zephyr_page_in, &call<ZephyrModel, &ZephyrModel::zephyr_page_in>},
                     {&ops::zephyr_location, &call<ZephyrModel, &ZephyrModel::zephyr_location>}}});
  const char* s = "spec/kernels/zephyr.md §9";
  for (const InvariantInfo& i : std::initializer_list<InvariantInfo>{
           {"INV-ZEPHYR-1",
            "a Zephyr frame is in use iff it is MAPPED at one page whose PTE maps it back, and never BUSY between operations",
            s, kKernel, check_zephyr_1},
           {"INV-ZEPHYR-2", "no frame is allocated for an on-demand page that was never touched", s, kKernel,
            check_zephyr_2},
           {"INV-ZEPHYR-3", "the guard pages below and above each k_mem_map region are never mapped", s, kKernel,
            check_zephyr_3},
           {"INV-ZEPHYR-4", "a pinned page stays loaded in a frame flagged PINNED (never evicted)", s, kKernel,
            check_zephyr_4},
           {"INV-ZEPHYR-5", "a page's contents survive page out and page in", s, kKernel, check_zephyr_5},
           {"INV-ZEPHYR-6", "a failed k_mem_map leaves the VA bitmap unchanged and keeps no frame or page", s, kKernel,
            check_zephyr_6},
           {"INV-ZEPHYR-7",
            "each used backing-store slot belongs to one paged-out page; a fault on a page in the store never lacks a slot",
            s, kKernel, check_zephyr_7},
           {"INV-ZEPHYR-8",
            "the VA bitmap marks exactly the reserved pages, the kernel image and each region with its guards", s,
            kKernel, check_zephyr_8}})
    add_invariant(i);
}

}  // namespace vmref::zephyr
