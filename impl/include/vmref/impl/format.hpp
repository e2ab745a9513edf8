// The page-table formats' registry: each format folder (impl/arch/<a>/) adds one row with
// what the implementations, the differential, `vmref walk` and `vmref bench` need of it.
// Nothing outside the folder names a format; the CLI lists the rows.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vmref/impl/gmmu_words.hpp"
#include "vmref/impl/mmu.hpp"
#include "vmref/impl/mutant.hpp"
#include "vmref/impl/radix_format.hpp"
#include "vmref/impl/radix_walk.hpp"

namespace vmref::impl {

/// A numeric option of a format (`--levels 5`), shown on the command line.
struct FormatParam {
  std::string name;                  ///< "levels"
  std::string help;
  unsigned dflt = 0;
  std::vector<unsigned> allowed;     ///< empty: any value in [min, max]
  unsigned min = 0, max = 0;
};

/// Values for a format's parameters (defaults for the ones not given) and the mutant.
struct FormatConfig {
  std::map<std::string, unsigned> params;
  Mutant mutant = nullptr;
  /// The value of `name`, or the format's default.
  unsigned get(const std::string& name, unsigned dflt) const {
    auto it = params.find(name);
    return it == params.end() ? dflt : it->second;
  }
};

/// A walk listed in the style of an emulator or debugger (`vmref walk --format NAME`), so
/// the two can be compared line for line. It is given every leaf in VA order, then end();
/// each call returns the text to print: whole lines, each ending in '\n', or "". A
/// listing that merges neighbours (QEMU's RISC-V `info mem`) keeps its run between calls.
class Listing {
 public:
  virtual ~Listing() = default;
  virtual std::string leaf(const Leaf& l) = 0;
  virtual std::string end() { return ""; }
};
/// Makes a fresh Listing for one walk with the format's parameters.
using ListingMaker = std::function<std::unique_ptr<Listing>(const FormatConfig&)>;
/// A ListingMaker for a listing of one line per leaf: `line` formats a leaf (no '\n').
ListingMaker per_leaf_listing(std::string (*line)(std::uint64_t va, std::uint64_t raw, std::uint64_t page_size));

struct FormatInfo {
  std::string name;                  ///< "x86_64"
  std::string title;                 ///< one line for --list-archs
  std::string spec;                  ///< "spec/formats/x86_64.md"
  std::string root_name;             ///< what --root names: "CR3"
  std::vector<FormatParam> params;
  /// The codec the implementation writes with (a format mutant may break it).
  std::function<std::unique_ptr<RadixCodec>(const FormatConfig&)> codec;
  /// The architectural decoder: never mutated; the differential and `vmref walk` read
  /// tables with it, so an encoding bug cannot hide behind a matching decoding bug.
  /// `codec` and `decoder` throw std::invalid_argument for a combination of parameters
  /// the format refuses (aarch64: a width whose level-0 tables do not fit; the codec, a
  /// granule the engine cannot build).
  std::function<std::unique_ptr<RadixCodec>(const FormatConfig&)> decoder;
  std::function<std::unique_ptr<Mmu>(unsigned cpus, const FormatConfig&)> mmu;
  /// A reference TLB that follows every instruction `mmu` (made by `mmu` above) issues.
  std::function<std::unique_ptr<ReferenceTlb>(Mmu& mmu)> reference;
  /// The root table's physical address from the root register's value (`--root`). Throws
  /// std::invalid_argument for a value the format refuses (riscv: satp's MODE not the mode's).
  std::function<std::uint64_t(std::uint64_t root_register, const FormatConfig&)> root_address;
  /// A leaf's effective rights and attributes as one comparable string (`vmref walk`).
  std::string (*leaf_flags)(const Leaf& l) = nullptr;
  std::map<std::string, ListingMaker> listings;
  /// The format's own architectural walk, for tables the generic walker cannot follow
  /// alone (an entry leading to two tables, as a GPU dual PDE): every leaf under `root`
  /// in VA order and every entry not followed, bounded as walk_all is. Empty: `vmref
  /// walk` runs walk_all with `decoder`.
  std::function<void(const PhysReader& mem, std::uint64_t root, const FormatConfig&,
                     const std::function<void(const Leaf&)>& leaf, const std::function<void(const WalkIssue&)>& issue)>
      walk;
  /// An NVIDIA GPU format: its version and the words a GPU kernel writes besides the
  /// codec's (gmmu_words.hpp); null for a CPU format.
  std::shared_ptr<const gmmu::Words> gmmu;
  /// Kernel parameters a campaign on this format sets when neither --param nor the
  /// profile's variant gives them and the kernel has a parameter of that name: the GPU
  /// formats' `mmu`, their GMMU version. Replay never applies them (a trace's header says
  /// what it was recorded on).
  std::map<std::string, std::uint64_t> implied_params;
};

void add_format(FormatInfo f);
/// The NVIDIA format of GMMU page-table `version` (FormatInfo::gmmu), or nullptr.
const FormatInfo* find_gpu_format(unsigned version);
const std::vector<const FormatInfo*>& all_formats();
const FormatInfo* find_format(std::string_view name);
std::vector<std::string> format_names();
/// `name`'s row; throws std::invalid_argument naming the known formats.
const FormatInfo& format_or_throw(const std::string& name);

}  // namespace vmref::impl
