// The mermap layer's rows in the model's registry: its operations and INV-MERMAP-1..7
// (spec/kernels/mermap.md §8).
#include "mermap_model.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/model/registry.hpp"

namespace vmref::mermap {

using namespace vmref::model;

void check_mermap_1(const CheckScope&, std::vector<Violation>&);
void check_mermap_2(const CheckScope&, std::vector<Violation>&);
void check_mermap_3(const CheckScope&, std::vector<Violation>&);
void check_mermap_4(const CheckScope&, std::vector<Violation>&);
void check_mermap_5(const CheckScope&, std::vector<Violation>&);
void check_mermap_6(const CheckScope&, std::vector<Violation>&);
void check_mermap_7(const CheckScope&, std::vector<Violation>&);

void register_model() {
  add_model_kernel({kKernel, nullptr,
                    [](Core& c, const vocab::KernelParams* p) -> std::unique_ptr<KernelLayer> {
                      return std::make_unique<MermapModel>(c, static_cast<const MermapParams&>(*p));
                    },
                    {{&ops::prepare, &call<MermapModel, &MermapModel::prepare>},
                     {&ops::get, &call<MermapModel, &MermapModel::get>},
                     {&ops::put, &call<MermapModel, &MermapModel::put>},
                     {&ops::teardown, &call<MermapModel, &MermapModel::teardown>},
                     {&ops::alloc_step, &call<MermapModel, &MermapModel::alloc_step>},
                     {&ops::free_step, &call<MermapModel, &MermapModel::free_step>},
                     {&ops::reset_step, &call<MermapModel, &MermapModel::reset_step>},
                     {&ops::migrate_step, &call<MermapModel, &MermapModel::migrate_step>}}});
  const char* s = "spec/kernels/mermap.md §8";
  for (const InvariantInfo& i : std::initializer_list<InvariantInfo>{
           {"INV-MERMAP-1", "every mermap allocation lies in its CPU's region, normal ones below the reserved last page", s,
            kKernel, check_mermap_1},
           {"INV-MERMAP-2", "live mermap allocations of one CPU are disjoint and at most as many as its slots", s, kKernel,
            check_mermap_2},
           {"INV-MERMAP-3", "mermap space is handed out again only after a local TLB flush following its put", s, kKernel,
            check_mermap_3},
           {"INV-MERMAP-4", "a reserved mermap get never fails while the task holds no other reserved allocation", s,
            kKernel, check_mermap_4},
           {"INV-MERMAP-5", "the task's migrate-disable depth equals its live mermap allocations", s, kKernel,
            check_mermap_5},
           {"INV-MERMAP-6", "mermap teardown warns whenever any CPU still has a live allocation", s, kKernel,
            check_mermap_6},
           {"INV-MERMAP-7", "no PTE of the mermap region lies outside a live allocation", s, kKernel, check_mermap_7}})
    add_invariant(i);
}

}  // namespace vmref::mermap
