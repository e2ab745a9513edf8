// The almos-mkh layer's rows in the model's registry: its operations and INV-ALMOS-1..7
// (spec/kernels/almos-mkh.md §10).
#include "almos_model.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/model/registry.hpp"

namespace vmref::almos {

using namespace vmref::model;

void check_almos_1(const CheckScope&, std::vector<Violation>&);
void check_almos_2(const CheckScope&, std::vector<Violation>&);
void check_almos_3(const CheckScope&, std::vector<Violation>&);
void check_almos_4(const CheckScope&, std::vector<Violation>&);
void check_almos_5(const CheckScope&, std::vector<Violation>&);
void check_almos_6(const CheckScope&, std::vector<Violation>&);
void check_almos_7(const CheckScope&, std::vector<Violation>&);

void register_model() {
  add_model_kernel({kKernel, nullptr,
                    [](Core& c, const vocab::KernelParams* p) -> std::unique_ptr<KernelLayer> {
                      return std::make_unique<AlmosModel>(c, static_cast<const AlmosParams&>(*p));
                    },
                    {{&ops::process, &call<AlmosModel, &AlmosModel::process>},
                     {&ops::vseg, &call<AlmosModel, &AlmosModel::vseg>},
                     {&ops::munmap, &call<AlmosModel, &AlmosModel::munmap>},
                     {&ops::access, &call<AlmosModel, &AlmosModel::access>},
                     {&ops::fork, &call<AlmosModel, &AlmosModel::fork>},
                     {&ops::exec, &call<AlmosModel, &AlmosModel::exec>},
                     {&ops::exit, &call<AlmosModel, &AlmosModel::exit>}}});
  const char* s = "spec/kernels/almos-mkh.md §10";
  for (const InvariantInfo& i : std::initializer_list<InvariantInfo>{
           {"INV-ALMOS-1", "ALMOS vsegs are disjoint and each lies in its zone (a STACK vseg in its slot minus the guard)",
            s, kKernel, check_almos_1},
           {"INV-ALMOS-2",
            "a stack bitmap bit is set iff its slot holds a STACK vseg; no GPT copy maps a slot's guard page", s, kKernel,
            check_almos_2},
           {"INV-ALMOS-3",
            "live and zombie MMAP blocks tile the zone below first_free_vpn, which only grows between resets", s,
            kKernel, check_almos_3},
           {"INV-ALMOS-4", "a cluster's VSL/GPT copy is a subset of the reference; public entries equal the reference's",
            s, kKernel, check_almos_4},
           {"INV-ALMOS-5", "a false page fault allocates no page and leaves the reference GPT unchanged", s, kKernel,
            check_almos_5},
           {"INV-ALMOS-6",
            "COW entries are never writable, forks = COW sharers - 1, and a writable entry's page is not shared", s,
            kKernel, check_almos_6},
           {"INV-ALMOS-7", "after vmm_user_reset no vseg, PTE, stack slot, MMAP block or zombie remains", s, kKernel,
            check_almos_7}})
    add_invariant(i);
}

}  // namespace vmref::almos
