// Fuzz target: the page-table image reader (`vmref walk`): impl::walk_all, and
// impl::walk_one on what it finds, over every format of the registry with its
// architectural decoder, so a new format is fuzzed with no edit here. Input layout
// (missing bytes read as 0):
//   byte 0       the format (index into impl::all_formats(), modulo their number)
//   byte 1       bit 0: memory mode (0: raw image, 1: sparse words)
//   1 byte per format parameter, in the row's order: an allowed value, or min..max
//   8 bytes      the root register (little endian), through the format's root_address
//   the rest     mode 0: a raw image, PA 0 at its first byte, nothing beyond its end
//                (truncated tables); mode 1: 16-byte records (PA, value), little endian,
//                storing words in an otherwise zero memory of kSparseBytes (deep tables
//                from small inputs).
// Properties besides no crash, leak or hang: leaves in ascending VA order without
// overlap, at most one leaf or issue per entry the bound of radix_walk.hpp allows, and
// walk_one finds each listed leaf as walk_all did. Flags and listings of the first
// leaves are formatted too.
#include <cstring>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/radix_walk.hpp"

using namespace vmref;

namespace {

constexpr std::uint64_t kSparseBytes = 256 * 1024;  // 64 table pages at most
constexpr std::size_t kCheckedLeaves = 64;          // leaves formatted and re-walked

struct Input {
  const std::uint8_t* data;
  std::size_t size, at = 0;
  std::uint8_t byte() { return at < size ? data[at++] : (at++, 0); }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{byte()} << (8 * i);
    return v;
  }
  const std::uint8_t* rest() const { return data + std::min(at, size); }
  std::size_t rest_size() const { return at < size ? size - at : 0; }
};

/// A raw image: byte o is PA o.
class Image : public impl::PhysReader {
 public:
  Image(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  bool read_u64(std::uint64_t pa, std::uint64_t& out) const override {
    if (pa > n_ || n_ - pa < 8) return false;
    std::memcpy(&out, d_ + pa, 8);
    return true;
  }

 private:
  const std::uint8_t* d_;
  std::size_t n_;
};

/// kSparseBytes of memory, zero but for the words the records store.
class Sparse : public impl::PhysReader {
 public:
  Sparse(const std::uint8_t* d, std::size_t n) : mem_(kSparseBytes) {
    for (std::size_t i = 0; i + 16 <= n; i += 16) {
      std::uint64_t pa, v;
      std::memcpy(&pa, d + i, 8);
      std::memcpy(&v, d + i + 8, 8);
      std::memcpy(mem_.data() + (pa % kSparseBytes & ~7ull), &v, 8);
    }
  }
  bool read_u64(std::uint64_t pa, std::uint64_t& out) const override {
    if (pa > kSparseBytes || kSparseBytes - pa < 8) return false;
    std::memcpy(&out, mem_.data() + pa, 8);
    return true;
  }

 private:
  std::vector<std::uint8_t> mem_;
};

std::string describe(const impl::Leaf& l) {
  return "va " + std::to_string(l.va) + " pa " + std::to_string(l.pa) + " size " + std::to_string(l.size) +
         " level " + std::to_string(l.level);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::init();
  const auto& formats = impl::all_formats();
  if (formats.empty()) return 0;
  Input in{data, size};
  const impl::FormatInfo& format = *formats[in.byte() % formats.size()];
  bool sparse = in.byte() & 1;
  impl::FormatConfig cfg;
  for (const impl::FormatParam& p : format.params) {
    unsigned b = in.byte();
    cfg.params[p.name] = p.allowed.empty() ? p.min + b % (p.max - p.min + 1) : p.allowed[b % p.allowed.size()];
  }
  std::uint64_t root_register = in.u64();
  std::unique_ptr<impl::RadixCodec> fmt;
  std::uint64_t root = 0;
  try {
    fmt = format.decoder(cfg);
    root = format.root_address(root_register, cfg);
  } catch (const std::invalid_argument&) {
    // A parameter combination (aarch64's granule and width) or a root register (satp's
    // MODE) the format refuses: `vmref walk` reports it, exit 2.
    return 0;
  }

  std::unique_ptr<impl::PhysReader> mem;
  std::uint64_t mem_bytes;
  if (sparse) {
    mem = std::make_unique<Sparse>(in.rest(), in.rest_size());
    mem_bytes = kSparseBytes;
  } else {
    mem = std::make_unique<Image>(in.rest(), in.rest_size());
    mem_bytes = in.rest_size();
  }

  std::vector<impl::Leaf> first;
  std::uint64_t calls = 0, end = 0;
  bool have = false, wrapped = false;
  std::set<std::uint64_t> tables;
  std::uint64_t budget = mem_bytes / 8;  // as `vmref walk`: re-walks read at most the image's entries
  impl::walk_all(
      *mem, *fmt, root,
      [&](const impl::Leaf& l) {
        ++calls;
        if (have && (wrapped || l.va < end))
          fuzz::broken("leaves out of VA order or overlapping: " + describe(l) + " after end " + std::to_string(end));
        have = true;
        end = l.va + l.size;
        wrapped = end < l.va || (end == 0 && l.size != 0);
        if (first.size() < kCheckedLeaves) first.push_back(l);
      },
      [&](const impl::WalkIssue& i) {
        ++calls;
        if (i.what.empty()) fuzz::broken("a walk issue without a reason");
      },
      &tables, budget);

  unsigned max_bits = 0;
  for (unsigned level = 0; level < fmt->levels(); ++level) max_bits = std::max(max_bits, fmt->index_bits(level));
  if (calls > tables.size() * (std::uint64_t{1} << max_bits) + budget)
    fuzz::broken("more leaf and issue calls (" + std::to_string(calls) + ") than entries the walk may read");

  std::vector<std::unique_ptr<impl::Listing>> listings;
  for (const auto& [name, make] : format.listings) listings.push_back(make(cfg));
  for (const impl::Leaf& l : first) {
    if (format.leaf_flags) (void)format.leaf_flags(l);
    for (auto& listing : listings) (void)listing->leaf(l);
    std::optional<impl::Leaf> again = impl::walk_one(*mem, *fmt, root, l.va);
    if (!again || again->va != l.va || again->pa != l.pa || again->size != l.size || again->raw != l.raw ||
        again->level != l.level || !(again->rights == l.rights))
      fuzz::broken("walk_one disagrees with walk_all on the leaf " + describe(l));
  }
  for (auto& listing : listings) (void)listing->end();
  (void)impl::walk_one(*mem, *fmt, root, root_register);  // an arbitrary VA, for coverage
  if (format.walk) {  // the format's own walk: leaves in VA order, every issue explained
    std::uint64_t own_end = 0;
    bool own_have = false;
    format.walk(
        *mem, root, cfg,
        [&](const impl::Leaf& l) {
          if (own_have && l.va < own_end) fuzz::broken("the format's walk: leaves out of VA order: " + describe(l));
          own_have = true;
          own_end = l.va + l.size;
        },
        [&](const impl::WalkIssue& i) {
          if (i.what.empty()) fuzz::broken("the format's walk: an issue without a reason");
        });
  }
  return 0;
}
