// Names of the shared enumerations as traces and reports write them.
#include <array>

#include "vmref/vocab/types.hpp"
#include "vmref/vocab/vseg_attrs.hpp"

namespace vmref::vocab {

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
constexpr std::array<const char*, 3> kTlbModes{"sync", "deferred", "none"};
constexpr std::array<const char*, 3> kScopes{"all", "asid", "range"};
constexpr std::array<const char*, 14> kVmFlags{
    "locked", "growsdown", "account", "noreserve", "dontcopy", "wipeonfork", "seq_read",
    "rand_read", "dontdump", "hugepage", "nohugepage", "mergeable", "guard", "global"};
}  // namespace

const char* to_string(VmFlag f) { return kVmFlags[static_cast<std::size_t>(f)]; }
std::optional<VmFlag> parse_vm_flag(const std::string& s) { return lookup<VmFlag>(kVmFlags, s); }
const char* to_string(Kind k) { return kKinds[static_cast<std::size_t>(k)]; }
std::optional<Kind> parse_kind(const std::string& s) { return lookup<Kind>(kKinds, s); }
const char* to_string(AccessKind k) { return kAccessKinds[static_cast<std::size_t>(k)]; }
std::optional<AccessKind> parse_access_kind(const std::string& s) { return lookup<AccessKind>(kAccessKinds, s); }
const char* to_string(Err e) { return kErrs[static_cast<std::size_t>(e)]; }
std::optional<Err> parse_err(const std::string& s) { return lookup<Err>(kErrs, s); }
const char* to_string(AccessResult r) { return kAccess[static_cast<std::size_t>(r)]; }
std::optional<AccessResult> parse_access_result(const std::string& s) { return lookup<AccessResult>(kAccess, s); }
const char* to_string(TlbMode m) { return kTlbModes[static_cast<std::size_t>(m)]; }
std::optional<TlbMode> parse_tlb_mode(const std::string& s) { return lookup<TlbMode>(kTlbModes, s); }
const char* to_string(FlushScope s) { return kScopes[static_cast<std::size_t>(s)]; }
std::optional<FlushScope> parse_flush_scope(const std::string& s) { return lookup<FlushScope>(kScopes, s); }

}  // namespace vmref::vocab
