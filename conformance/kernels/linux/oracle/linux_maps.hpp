// Reading a live Linux process's VMAs: /proc/PID/maps and /proc/PID/smaps
// (Linux Documentation/filesystems/proc.rst, "The /proc/PID/maps file", "smaps").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vmref::oracle {

/// One VMA as the kernel reports it. Addresses in bytes.
struct LinuxVma {
  std::uint64_t start = 0, end = 0, offset = 0;
  std::string perms;      ///< "r-xp"
  std::string dev;        ///< "fe:01"
  std::uint64_t inode = 0;
  std::string path;       ///< file path, "[heap]", "[stack]", "[vdso]"..., or empty
  // From smaps (only when read with read_smaps):
  std::vector<std::string> vm_flags;  ///< "rd", "wr", "ac", "gd", "nr"...
  std::uint64_t anonymous_kb = 0;
  bool has(const char* flag) const;
  /// File mappings only: "dev:inode", the identity traces use for files.
  std::string file_id() const { return dev + ":" + std::to_string(inode); }
  /// True for a mapping of a real file (not shmem behind /dev/zero or SysV).
  bool is_file() const;
};

/// Parses maps text. Throws std::runtime_error naming `origin` and the line on a
/// malformed line. [vsyscall] (outside the process's VMA tree) is skipped.
std::vector<LinuxVma> parse_maps(const std::string& text, const std::string& origin);
/// Parses smaps text (headers plus "Anonymous:" and "VmFlags:" fields).
std::vector<LinuxVma> parse_smaps(const std::string& text, const std::string& origin);
/// Reads /proc/PID/maps or /proc/PID/smaps; throws std::runtime_error on failure.
std::vector<LinuxVma> read_maps(int pid);
std::vector<LinuxVma> read_smaps(int pid);

/// Linux errno value -> the trace's errno name ("ENOMEM"...); "E<n>" for one the trace
/// format does not name (replay then reports it as bad input).
std::string errno_name(long e);

/// The VSL expectation for an observe event (spec/trace-format.md §3.5). With
/// `anon_facts` (VMAs read from smaps), private VMAs holding anonymous pages carry
/// "anon_pages": true, which tells replay about faults a syscall trace cannot show.
nlohmann::json vsl_expectation(const std::vector<LinuxVma>& vmas, bool anon_facts = false);

}  // namespace vmref::oracle
