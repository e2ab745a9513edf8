#include "linux_rules.hpp"

#include <array>

namespace vmref::linux_mm {

namespace {
constexpr const char* k12 = "spec/kernels/linux.md §1.2";
constexpr const char* k113 = "spec/kernels/linux.md §1.13";
constexpr std::array<model::RuleInfo, static_cast<std::size_t>(Rule::count)> kRules{{
    {"merge.mmap", k12, "a new mapping joined a neighbour"},
    {"merge.brk", "spec/kernels/linux.md §1.7", "the heap's new pages joined the vseg below"},
    {"merge.mprotect", k12, "a vseg mprotect changed joined a neighbour"},
    {"merge.madvise", k12, "a vseg madvise changed joined a neighbour"},
    {"merge.mlock", k12, "a vseg mlock/munlock changed joined a neighbour"},
    {"merge.mremap-grow", "spec/kernels/linux.md §2.13", "an in-place grow joined the vseg after it"},
    {"merge.mremap-move", "spec/kernels/linux.md §2.13", "a moved vseg joined a neighbour at its destination"},
    {"split.mmap", "spec/kernels/linux.md §2.2", "a fixed mapping cut a vseg it partly replaced"},
    {"split.munmap", "spec/kernels/linux.md §2.3", "an unmapped range's edge fell inside a vseg"},
    {"split.brk", "spec/kernels/linux.md §2.5", "a shrinking break cut the heap vseg"},
    {"split.mprotect", "spec/kernels/linux.md §2.4", "mprotect split a vseg at a range edge"},
    {"split.madvise", "spec/kernels/linux.md §2.11", "madvise split a vseg at a range edge"},
    {"split.mlock", "spec/kernels/linux.md §2.12", "mlock/munlock split a vseg at a range edge"},
    {"split.mremap", "spec/kernels/linux.md §2.13", "mremap cut a vseg (shrink, or the destination of a fixed move)"},
    {"mmap.fixed-replaces", "spec/kernels/linux.md §2.2", "MAP_FIXED replaced existing mappings"},
    {"anon.same-owner", k12, "both sides had the same anon owner: compatible"},
    {"anon.ownerless-joins-owner", k12, "an owner-less source joined a target whose owner is not a fork child's"},
    {"anon.owner-joins-ownerless", k12, "a source whose owner is not a fork child's joined an owner-less target"},
    {"anon.fork-child-refused", k12, "a fork child's owner kept an owner-less vseg out"},
    {"anon.grown-range-of-fork-child", k12, "an in-place grow of a fork child's vseg joined an owner-less next"},
    {"anon.distinct-owners-refused", k12, "two different owners: incompatible"},
    {"anon.prev-next-incompatible", k12, "both neighbours compatible with the source, not with each other"},
    {"anon.undetermined", "spec/vmm.md §5", "owners hidden in a snapshot: the kernel's next view decides"},
    {"anon.reuse-neighbour", k12, "a first anonymous page reused a neighbour's owner"},
    {"anon.new-owner", k12, "a first anonymous page got a new owner"},
    {"zero-page.read-fault", "spec/kernels/linux.md §1.3", "a read fault mapped the zero page"},
    {"zero-page.write-replaces", "spec/kernels/linux.md §1.3", "a write replaced the zero page with a frame"},
    {"cow.reuse", "spec/kernels/linux.md §1.4", "a COW write kept the only reference's frame"},
    {"cow.copy", "spec/kernels/linux.md §1.4", "a COW write copied a shared frame"},
    {"fork.copy-ptes", "spec/kernels/linux.md §1.5", "fork copied the PTEs of a vseg holding anonymous pages"},
    {"fork.skip-untouched", "spec/kernels/linux.md §1.5", "fork left a vseg's PTEs for the child to refault"},
    {"fork.dontcopy", "spec/kernels/linux.md §1.5", "fork left out a MADV_DONTFORK vseg"},
    {"fork.wipeonfork", "spec/kernels/linux.md §1.5", "fork gave a MADV_WIPEONFORK vseg no pages"},
    {"fork.pinned-copy", "spec/kernels/linux.md §1.5", "fork copied a pinned private page for the child"},
    {"stack.grow", "spec/kernels/linux.md §1.6", "a growsdown vseg grew down to a fault"},
    {"fault-around", "spec/kernels/linux.md §1.9", "a read fault mapped cached pages around it"},
    {"fault.sigbus-beyond-size", "spec/kernels/linux.md §2.7", "an access beyond its object's size gave SIGBUS"},
    {"mremap.shrink", "spec/kernels/linux.md §2.13", "mremap shrank a vseg in place"},
    {"mremap.grow-in-place", "spec/kernels/linux.md §2.13", "mremap grew a vseg in place"},
    {"mremap.move", "spec/kernels/linux.md §2.13", "mremap moved pages to a new place"},
    {"madvise.dontneed", "spec/kernels/linux.md §2.11", "MADV_DONTNEED zapped a vseg's pages"},
    {"madvise.free", "spec/kernels/linux.md §2.11", "MADV_FREE accepted a private anonymous range"},
    {"mprotect.partial", "spec/kernels/linux.md §2.4", "mprotect failed after changing part of its range"},
    {"thp.fault", k113, "a fault mapped a new 2 MiB anonymous leaf"},
    {"thp.zero-fault", k113, "a read fault mapped the huge zero page"},
    {"thp.split", k113, "a 2 MiB leaf was split into base pages (partial change, COW of a shared folio)"},
    {"thp.cow-reuse", k113, "a COW write kept a 2 MiB folio only this leaf references"},
    {"thp.move-whole", k113, "mremap moved a 2 MiB leaf whole to an aligned destination"},
}};

struct CallerRules {
  Rule merge, split;
};
constexpr CallerRules kByCaller[] = {
    {Rule::merge_mmap, Rule::split_mmap},          {Rule::count, Rule::split_munmap},
    {Rule::merge_brk, Rule::split_brk},            {Rule::merge_mprotect, Rule::split_mprotect},
    {Rule::merge_madvise, Rule::split_madvise},    {Rule::merge_mlock, Rule::split_mlock},
    {Rule::merge_mremap_grow, Rule::split_mremap}, {Rule::merge_mremap_move, Rule::split_mremap},
    {Rule::count, Rule::count}};
}  // namespace

std::span<const model::RuleInfo> linux_rules() { return kRules; }
Rule merge_rule(Caller c) { return kByCaller[static_cast<int>(c)].merge; }
Rule split_rule(Caller c) { return kByCaller[static_cast<int>(c)].split; }

}  // namespace vmref::linux_mm
