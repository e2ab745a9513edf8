// The words every layer shares (spec/vmm.md §1, spec/trace-format.md §1): addresses,
// rights, access kinds, error outcomes. The model, the implementations and the trace
// codec all speak these; none of them owns them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vmref::vocab {

/// Virtual address in bytes.
using Va = std::uint64_t;
/// Virtual page number: Va / page_size.
using Vpn = std::uint64_t;
/// Address-space identifier as traces name it (a PID for Linux recordings).
using Asid = std::uint64_t;

/// Access rights, a subset of {R, W, X} (spec/vmm.md §1.2).
struct Prot {
  bool r = false, w = false, x = false;
  friend bool operator==(const Prot&, const Prot&) = default;
  /// True when every right of *this is also in `o`.
  bool subset_of(Prot o) const { return (!r || o.r) && (!w || o.w) && (!x || o.x); }
  Prot without_write() const { return {r, false, x}; }
  /// "rwx" with '-' for absent rights, as /proc/PID/maps prints them.
  std::string str() const;
  /// Parses "r-x", "rw-", "---" (exactly three characters). Returns nullopt if malformed.
  static std::optional<Prot> parse(const std::string& s);
};

/// Kind of memory access (spec/vmm.md §1.6).
enum class AccessKind : std::uint8_t { read, write, exec };
const char* to_string(AccessKind k);
std::optional<AccessKind> parse_access_kind(const std::string& s);
/// Whether rights `p` allow an access of kind `k`.
inline bool allows(Prot p, AccessKind k) {
  return k == AccessKind::read ? p.r : k == AccessKind::write ? p.w : p.x;
}

/// Error outcomes, named as Linux errno values so recorded traces compare directly
/// (spec/vmm.md §2.0).
enum class Err : std::uint8_t { ok, einval, enomem, eexist, eacces, eperm, ebusy, efault, ebadf };
const char* to_string(Err e);
std::optional<Err> parse_err(const std::string& s);

/// Result of an access (spec/vmm.md §2.0): success, or a fault the kernel turns into a
/// signal. `sigbus` is the fault beyond the end of a backing object.
enum class AccessResult : std::uint8_t { ok, segv_maperr, segv_accerr, sigbus };
const char* to_string(AccessResult r);
std::optional<AccessResult> parse_access_result(const std::string& s);

/// How an operation that removes or downgrades translations maintains the TLBs
/// (spec/vmm.md §3.3).
enum class TlbMode : std::uint8_t {
  sync,      ///< shootdown on every CPU before frames are released (default)
  deferred,  ///< PTEs cleared now; frames held until a later covering tlb_flush
  none,      ///< no flush at all: frames released at once
};
const char* to_string(TlbMode m);
std::optional<TlbMode> parse_tlb_mode(const std::string& s);

/// Scope of a tlb_flush event (spec/vmm.md §3.2).
enum class FlushScope : std::uint8_t { all, asid, range };
const char* to_string(FlushScope s);
std::optional<FlushScope> parse_flush_scope(const std::string& s);

}  // namespace vmref::vocab
