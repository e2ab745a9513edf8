// INV-VSL-*: shape of each address space's vseg list (spec/vmm.md §4.1).
#include "core_invariants.hpp"

namespace vmref::model {

namespace {
std::string seg(const Vseg& v) { return "[" + hex(v.start) + ", " + hex(v.end) + ")"; }
}  // namespace

void check_vsl_1(const CheckScope& sc, std::vector<Violation>& out) {
  sc.each_vseg([&](Asid as, const Vseg& lo, const Vseg* hi) {
    if (hi && lo.end > hi->start)
      out.push_back({"INV-VSL-1", "as " + std::to_string(as) + ": vseg " + seg(lo) + " overlaps vseg " + seg(*hi)});
  });
}

void check_vsl_2(const CheckScope& sc, std::vector<Violation>& out) {
  const std::uint64_t mask = sc.m.page_size() - 1;
  sc.each_vseg([&](Asid as, const Vseg& v, const Vseg* pair) {
    if (pair) return;
    const char* why = nullptr;
    if (v.start >= v.end) why = "is empty or inverted";
    else if ((v.start & mask) || (v.end & mask)) why = "is not page aligned";
    else if (v.kind != Kind::kernel && v.end > sc.m.core().config.task_size) why = "reaches above the top of user space";
    if (why) out.push_back({"INV-VSL-2", "as " + std::to_string(as) + ": vseg " + seg(v) + " " + why});
  });
}

}  // namespace vmref::model
