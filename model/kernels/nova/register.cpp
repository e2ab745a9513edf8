// The nova layer's rows in the model's registry: its operations and INV-NOVA-1..10
// (spec/kernels/nova.md §10).
#include "nova_model.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/model/registry.hpp"

namespace vmref::nova {

using namespace vmref::model;

void check_nova_1(const CheckScope&, std::vector<Violation>&);
void check_nova_2(const CheckScope&, std::vector<Violation>&);
void check_nova_3(const CheckScope&, std::vector<Violation>&);
void check_nova_4(const CheckScope&, std::vector<Violation>&);
void check_nova_5(const CheckScope&, std::vector<Violation>&);
void check_nova_6(const CheckScope&, std::vector<Violation>&);
void check_nova_7(const CheckScope&, std::vector<Violation>&);
void check_nova_8(const CheckScope&, std::vector<Violation>&);
void check_nova_9(const CheckScope&, std::vector<Violation>&);
void check_nova_10(const CheckScope&, std::vector<Violation>&);

void register_model() {
  add_model_kernel({kKernel, nullptr,
                    [](Core& c, const vocab::KernelParams* p) -> std::unique_ptr<KernelLayer> {
                      return std::make_unique<NovaModel>(c, static_cast<const NovaParams&>(*p));
                    },
                    {{&ops::nova_new, &call<NovaModel, &NovaModel::nova_new>},
                     {&ops::drop, &call<NovaModel, &NovaModel::drop>},
                     {&ops::prepare, &call<NovaModel, &NovaModel::prepare>},
                     {&ops::execute, &call<NovaModel, &NovaModel::execute>},
                     {&ops::flush, &call<NovaModel, &NovaModel::driver_flush>},
                     {&ops::map, &call<NovaModel, &NovaModel::map>},
                     {&ops::unmap, &call<NovaModel, &NovaModel::unmap>},
                     {&ops::access, &call<NovaModel, &NovaModel::access>},
                     {&ops::set_big, &call<NovaModel, &NovaModel::set_big>},
                     {&ops::pt_alloc, &call<NovaModel, &NovaModel::pt_alloc>},
                     {&ops::pt_zero, &call<NovaModel, &NovaModel::pt_zero>},
                     {&ops::pt_free, &call<NovaModel, &NovaModel::pt_free>},
                     {&ops::pde_write, &call<NovaModel, &NovaModel::pde_write>},
                     {&ops::pte_write, &call<NovaModel, &NovaModel::pte_write>},
                     {&ops::va_alloc, &call<NovaModel, &NovaModel::va_alloc>},
                     {&ops::va_free, &call<NovaModel, &NovaModel::va_free>},
                     {&ops::call, &call<NovaModel, &NovaModel::call_bracket>},
                     {&ops::flush_start, &call<NovaModel, &NovaModel::flush_start>},
                     {&ops::flush_done, &call<NovaModel, &NovaModel::flush_done>}}});
  const char* s = "spec/kernels/nova.md §10";
  for (const InvariantInfo& i : std::initializer_list<InvariantInfo>{
           {"INV-NOVA-1", "nova execute allocates nothing (no table page, no growth of page_table_allocs)", s, kKernel,
            check_nova_1},
           {"INV-NOVA-2", "when nova execute drains the pending set, page_table_allocs has room for every pending page",
            s, kKernel, check_nova_2},
           {"INV-NOVA-3", "every valid nova PTE lies inside a live VA range", s, kKernel, check_nova_3},
           {"INV-NOVA-4", "every valid nova PDE points at a live, zeroed table page of the level below, once", s,
            kKernel, check_nova_4},
           {"INV-NOVA-5", "a translation the GPU TLB may hold is of a live VA range and agrees with any valid PTE", s,
            kKernel, check_nova_5},
           {"INV-NOVA-6", "the nova pending set holds no PDE slot already valid in the tables", s, kKernel,
            check_nova_6},
           {"INV-NOVA-7", "a nova map, execute or unmap that succeeds issues exactly one PDB flush", s, kKernel,
            check_nova_7},
           {"INV-NOVA-8", "nova keeps a dual PDE's valid big half and no small PTE under a big PTE that hides it", s,
            kKernel, check_nova_8},
           {"INV-NOVA-9", "a va range nova map_pages accepts is accepted by its prepare", s, kKernel, check_nova_9},
           {"INV-NOVA-10", "the nova must-unmap guard never warns about a range passed to unmap_pages", s, kKernel,
            check_nova_10}})
    add_invariant(i);
}

}  // namespace vmref::nova
