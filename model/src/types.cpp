#include <array>

#include "vmref/model/event.hpp"
#include "vmref/model/types.hpp"

namespace vmref::model {

std::string Prot::str() const { return {r ? 'r' : '-', w ? 'w' : '-', x ? 'x' : '-'}; }

std::optional<Prot> Prot::parse(const std::string& s) {
  if (s.size() != 3) return std::nullopt;
  auto bit = [&](std::size_t i, char c) -> std::optional<bool> {
    if (s[i] == c) return true;
    if (s[i] == '-') return false;
    return std::nullopt;
  };
  auto r = bit(0, 'r'), w = bit(1, 'w'), x = bit(2, 'x');
  if (!r || !w || !x) return std::nullopt;
  return Prot{*r, *w, *x};
}

namespace {
template <class E, std::size_t N>
std::optional<E> lookup(const std::array<const char*, N>& names, const std::string& s) {
  for (std::size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}
constexpr std::array<const char*, 8> kKinds{"anon", "file", "stack", "heap", "code", "data", "kernel", "special"};
constexpr std::array<const char*, 9> kErrs{"ok", "EINVAL", "ENOMEM", "EEXIST", "EACCES", "EPERM", "EBUSY", "EFAULT", "EBADF"};
constexpr std::array<const char*, 4> kAccess{"ok", "segv_maperr", "segv_accerr", "sigbus"};
constexpr std::array<const char*, 3> kAccessKinds{"read", "write", "exec"};
constexpr std::array<const char*, 48> kOps{
    "as_create", "as_destroy", "switch", "mmap", "munmap", "mprotect", "brk", "fork",
    "exec_reset", "access", "tlb_flush", "pin", "unpin", "observe", "stack_expand",
    "mremap", "madvise", "mlock", "munlock",
    "mermap_prepare", "mermap_get", "mermap_put", "mermap_teardown",
    "k_mem_map", "k_mem_unmap", "k_mem_page_out", "k_mem_page_in", "k_mem_pin", "k_mem_unpin", "k_mem_stat", "nru_tick",
    "almos_process", "almos_vseg", "almos_munmap", "almos_access", "almos_fork", "almos_exec", "almos_exit",
    "vseg_insert", "vseg_remove", "pte_set", "pte_clear", "frame_alloc", "frame_get",
    "frame_put", "frame_free", "va_release", "va_reuse"};
constexpr std::array<const char*, 14> kAdvice{
    "normal", "random", "sequential", "willneed", "dontneed", "free", "dontfork", "dofork",
    "hugepage", "nohugepage", "dontdump", "dodump", "wipeonfork", "keeponfork"};
constexpr std::array<const char*, 14> kVmFlags{
    "locked", "growsdown", "account", "noreserve", "dontcopy", "wipeonfork", "seq_read",
    "rand_read", "dontdump", "hugepage", "nohugepage", "mergeable", "guard", "global"};
}  // namespace

const char* to_string(Advice a) { return kAdvice[static_cast<std::size_t>(a)]; }
std::optional<Advice> parse_advice(const std::string& s) { return lookup<Advice>(kAdvice, s); }
const char* to_string(VmFlag f) { return kVmFlags[static_cast<std::size_t>(f)]; }
std::optional<VmFlag> parse_vm_flag(const std::string& s) { return lookup<VmFlag>(kVmFlags, s); }

const char* to_string(Kind k) { return kKinds[static_cast<std::size_t>(k)]; }
std::optional<Kind> parse_kind(const std::string& s) { return lookup<Kind>(kKinds, s); }
const char* to_string(AccessKind k) { return kAccessKinds[static_cast<std::size_t>(k)]; }
const char* to_string(Err e) { return kErrs[static_cast<std::size_t>(e)]; }
std::optional<Err> parse_err(const std::string& s) { return lookup<Err>(kErrs, s); }
const char* to_string(AccessResult r) { return kAccess[static_cast<std::size_t>(r)]; }
std::optional<AccessResult> parse_access_result(const std::string& s) { return lookup<AccessResult>(kAccess, s); }
const char* to_string(Op op) { return kOps[static_cast<std::size_t>(op)]; }
std::optional<Op> parse_op(const std::string& s) { return lookup<Op>(kOps, s); }

}  // namespace vmref::model
