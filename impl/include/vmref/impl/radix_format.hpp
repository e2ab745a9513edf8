// A radix page-table format, as the generic walker needs it: one engine, one folder per
// format (impl/arch/<a>/). Level 0 is the root; VA bits are consumed from the top.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vmref::impl {

/// Effective rights of a translation, combined over every level of its walk.
/// `x` is the execute right at the page's own privilege. `px` carries a restriction of
/// privileged execution from a table to the leaf during a walk, for a format whose tables
/// restrict the two privileges' execution separately (AArch64 PXNTable/UXNTable); the
/// format folds it into `x` at the leaf and leaves it true there, so a walk's result has
/// px = true and compares on w/u/x alone.
struct Rights {
  bool w = true, u = true, x = true;
  bool px = true;
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
  /// 8-byte words per entry at `level`: 1, or 2 for a 16-byte entry (a GPU dual PDE).
  /// A table page still holds 4096 bytes: 2^index_bits(level) x entry_words(level) x 8.
  virtual unsigned entry_words(unsigned) const { return 1; }
  /// The 64-bit view of the entry whose words start at `words` (entry_words(level) of
  /// them) that every other function here reads as `raw`. One word: the word itself.
  virtual std::uint64_t load(const std::uint64_t* words, unsigned) const { return words[0]; }
  /// Writes the view `view` back into the entry's words; storing 0 clears every word.
  virtual void store(std::uint64_t* words, unsigned, std::uint64_t view) const { words[0] = view; }
  /// Full decode, with a description of any reserved bits (for reports).
  virtual Entry decode(std::uint64_t raw, unsigned level) const = 0;
  // The same facts without building strings, for the engine's hot paths.
  virtual bool is_present(std::uint64_t raw) const = 0;
  /// A present entry at `level` maps a page (rather than pointing to a table).
  virtual bool is_leaf(std::uint64_t raw, unsigned level) const = 0;
  /// Physical address a present entry points to (next table, or the page).
  virtual std::uint64_t address(std::uint64_t raw, unsigned level) const = 0;
  /// Reserved bits set in a present entry (0 when none).
  virtual std::uint64_t reserved_bits(std::uint64_t raw, unsigned level) const = 0;
  /// Rights after passing through `raw` at some level (parent rights combined).
  virtual Rights combine(Rights parent, std::uint64_t raw) const = 0;
  /// The same, told the entry's level: for a format whose table and page descriptors
  /// share an encoding (AArch64: 0b11 is a table above the last level, a page at it).
  /// The walkers call this one; by default it is `combine`.
  virtual Rights combine_at(Rights parent, std::uint64_t raw, unsigned /*level*/) const { return combine(parent, raw); }
  /// The canonical form of a VA built from indices (sign extension on x86-64).
  virtual std::uint64_t canonical(std::uint64_t va) const = 0;
};

/// Attributes of a leaf, independent of the format's bit layout.
struct LeafAttrs {
  Rights rights;                 ///< the leaf's own W/U/X (tables above grant everything)
  bool global = false;           ///< survives address-space-scoped invalidation
  bool accessed = false, dirty = false;
  /// Format-specific attributes the engine carries verbatim, packed as the format's
  /// RadixCodec::arch_fields() list them (x86-64: the memory-type index, then the
  /// protection key; spec/formats/<a>.md).
  std::uint64_t arch = 0;
  std::uint8_t soft = 0;         ///< bits left to software (x86: 11:9); bit 0 = COW mark
  friend bool operator==(const LeafAttrs&, const LeafAttrs&) = default;
};

/// One field of LeafAttrs::arch: its name (as table-op files write it) and width in bits.
/// Fields are packed from bit 0 in list order.
struct AttrField {
  const char* name;
  unsigned bits;
};

/// The writing side of a format: what the generic engine (radix_table.hpp) needs to
/// build tables. Table entries grant every right; leaves carry the restrictions, so
/// rights combined over a walk equal the leaf's own (the way Linux builds x86 tables).
class RadixCodec : public RadixFormat {
 public:
  /// Whether a leaf may sit at `level` (x86-64: PT always, PD 2 MiB, PDPT 1 GiB).
  virtual bool leaf_allowed(unsigned level) const = 0;
  virtual std::uint64_t encode_table(std::uint64_t table_pa) const = 0;
  virtual std::uint64_t encode_leaf(std::uint64_t pa, unsigned level, const LeafAttrs& a) const = 0;
  virtual LeafAttrs leaf_attrs(std::uint64_t raw, unsigned level) const = 0;
  /// The entry after the hardware used it for an access: accessed set, and dirty set
  /// on a leaf used for a write (x86: SDM Vol 3A §4.8).
  virtual std::uint64_t mark_used(std::uint64_t raw, bool leaf, bool write) const = 0;
  /// The fields of LeafAttrs::arch this format encodes (none by default).
  virtual std::vector<AttrField> arch_fields() const { return {}; }
};

}  // namespace vmref::impl
