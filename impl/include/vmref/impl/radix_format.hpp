// A radix page-table format, as the generic walker needs it (DESIGN: one engine, one
// folder per format). Level 0 is the root; VA bits are consumed from the top.
#pragma once

#include <cstdint>
#include <string>

namespace vmref::impl {

/// Effective rights of a translation, combined over every level of its walk.
struct Rights {
  bool w = true, u = true, x = true;
  friend bool operator==(const Rights&, const Rights&) = default;
};

/// One entry as the format reads it.
struct Entry {
  bool present = false;
  bool leaf = false;           ///< maps a page (rather than pointing to a table)
  std::uint64_t addr = 0;      ///< physical address of the next table or of the page
  std::string reserved;        ///< non-empty when reserved bits are set: which, and why
};

class RadixFormat {
 public:
  virtual ~RadixFormat() = default;
  virtual unsigned levels() const = 0;
  /// Lowest VA bit indexed at `level` (e.g. x86-64 4-level: 39, 30, 21, 12).
  virtual unsigned shift(unsigned level) const = 0;
  virtual unsigned index_bits(unsigned level) const = 0;
  virtual unsigned entry_bytes() const = 0;
  virtual Entry decode(std::uint64_t raw, unsigned level) const = 0;
  /// Rights after passing through `raw` at some level (parent rights combined).
  virtual Rights combine(Rights parent, std::uint64_t raw) const = 0;
  /// The canonical form of a VA built from indices (sign extension on x86-64).
  virtual std::uint64_t canonical(std::uint64_t va) const = 0;
};

}  // namespace vmref::impl
