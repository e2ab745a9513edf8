// The linux layer: construction, its hooks, and its rows in the model's registry.
#include "linux_model.hpp"
#include "vmref/model/registry.hpp"

namespace vmref::linux_mm {

using namespace vmref::model;

LinuxModel::LinuxModel(Core& core, const LinuxParams& params) : KernelLayer(core), p_(params) {}

void LinuxModel::before_destroy(Asid as) {
  if (const AddressSpace* s = core_.space(as)) forget_forked_owners(*s);
  undetermined_.erase(as);
}

const std::set<Va>& LinuxModel::undetermined(Asid as) const {
  static const std::set<Va> none;
  auto it = undetermined_.find(as);
  return it == undetermined_.end() ? none : it->second;
}

void register_model() {
  add_model_kernel(
      {kKernel,
       [](const vocab::KernelParams* p, CoreConfig& cfg) {
         const auto& lp = static_cast<const LinuxParams&>(*p);
         cfg.task_size = lp.task_size;
         cfg.implied_read = lp.implied_read;
       },
       [](Core& c, const vocab::KernelParams* p) -> std::unique_ptr<KernelLayer> {
         return std::make_unique<LinuxModel>(c, static_cast<const LinuxParams&>(*p));
       },
       {{&ops::exec_reset, &call<LinuxModel, &LinuxModel::exec_reset>},
        {&ops::mmap, &call<LinuxModel, &LinuxModel::mmap>},
        {&ops::munmap, &call<LinuxModel, &LinuxModel::munmap>},
        {&ops::mprotect, &call<LinuxModel, &LinuxModel::mprotect>},
        {&ops::brk, &call<LinuxModel, &LinuxModel::brk>},
        {&ops::fork, &call<LinuxModel, &LinuxModel::fork>},
        {&vocab::ops::access, &call<LinuxModel, &LinuxModel::access>},
        {&ops::pin, &call<LinuxModel, &LinuxModel::pin>},
        {&ops::unpin, &call<LinuxModel, &LinuxModel::unpin>},
        {&ops::stack_expand, &call<LinuxModel, &LinuxModel::stack_expand>},
        {&ops::madvise, &call<LinuxModel, &LinuxModel::madvise>},
        {&ops::mlock, &call<LinuxModel, &LinuxModel::mlock>},
        {&ops::munlock, &call<LinuxModel, &LinuxModel::mlock>},
        {&ops::mremap, &call<LinuxModel, &LinuxModel::mremap>}}});
}

}  // namespace vmref::linux_mm
