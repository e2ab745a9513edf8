// Basic vocabulary of the abstract model (spec/vmm.md §1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vmref::model {

/// Virtual address in bytes.
using Va = std::uint64_t;
/// Virtual page number: Va / page_size.
using Vpn = std::uint64_t;
/// Address-space identifier (ASID/PCID at the abstract level; a PID for Linux traces).
using Asid = std::uint64_t;
/// Abstract page-frame identity. Frame 0 is the shared zero page (spec §1.5).
using FrameId = std::uint32_t;
inline constexpr FrameId kZeroFrame = 0;
inline constexpr FrameId kNoFrame = UINT32_MAX;

/// Access rights, a subset of {R, W, X} (spec §1.2).
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

/// vseg kind (spec §1.2). `special` covers [vdso]/[vvar]-like kernel-provided regions.
enum class Kind : std::uint8_t { anon, file, stack, heap, code, data, kernel, special };
const char* to_string(Kind k);
std::optional<Kind> parse_kind(const std::string& s);

/// Kind of memory access (spec §2.9).
enum class AccessKind : std::uint8_t { read, write, exec };
const char* to_string(AccessKind k);
/// Whether rights `p` allow an access of kind `k` (callers pass Profile::grantable(prot)
/// where implied rights apply).
inline bool allows(Prot p, AccessKind k) {
  return k == AccessKind::read ? p.r : k == AccessKind::write ? p.w : p.x;
}

/// Error outcomes, named as Linux errno values so recorded traces compare directly (spec §2.0).
enum class Err : std::uint8_t { ok, einval, enomem, eexist, eacces, eperm, ebusy, efault, ebadf };
const char* to_string(Err e);
std::optional<Err> parse_err(const std::string& s);

/// Result of an access (spec §2.9): success, or a fault the kernel turns into SIGSEGV.
/// `sigbus` is only ever observed (e.g. beyond the end of a file); the model never gives it.
enum class AccessResult : std::uint8_t { ok, segv_maperr, segv_accerr, sigbus };
const char* to_string(AccessResult r);
std::optional<AccessResult> parse_access_result(const std::string& s);

/// Half-open page range [first, first + count) in VPNs.
struct VpnRange {
  Vpn first = 0;
  std::uint64_t count = 0;
  Vpn end() const { return first + count; }
};

}  // namespace vmref::model
