// Physical memory as page-table walkers see it: a raw image of a real machine's RAM,
// or simulated memory that the implementations build their tables in (there is no real
// MMU under test: spec/differential.md §1).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vmref::impl {

/// Read access by physical address (bytes, little endian).
class PhysReader {
 public:
  virtual ~PhysReader() = default;
  /// The 8 bytes at `pa`; false when any of them lies outside the memory.
  virtual bool read_u64(std::uint64_t pa, std::uint64_t& out) const = 0;
};

/// A raw physical-memory image as QEMU `pmemsave` writes it: the byte at file offset
/// `o` is physical address `base + o`. Memory-mapped read-only.
class ImageFile : public PhysReader {
 public:
  /// Throws std::runtime_error naming the file when it cannot be opened or mapped.
  ImageFile(const std::string& path, std::uint64_t base);
  ~ImageFile() override;
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;
  bool read_u64(std::uint64_t pa, std::uint64_t& out) const override;
  std::uint64_t size() const { return size_; }
  std::uint64_t base() const { return base_; }

 private:
  std::string path_;
  std::uint64_t base_, size_ = 0;
  const unsigned char* data_ = nullptr;
};

/// Simulated physical memory: 4 KiB frames indexed by page frame number (PFN), created
/// zero-filled on first use. Dense so a table walk costs one vector index per level.
class SimMemory : public PhysReader {
 public:
  bool read_u64(std::uint64_t pa, std::uint64_t& out) const override;
  void write_u64(std::uint64_t pa, std::uint64_t v);
  /// The frame at `pfn` as 512 eight-byte words (created zero-filled if absent).
  std::uint64_t* page(std::uint64_t pfn) {
    if (pfn < pages_.size() && pages_[pfn]) return pages_[pfn].get();
    return create(pfn);
  }
  /// The frame at `pfn`, or nullptr if it was never written.
  const std::uint64_t* find(std::uint64_t pfn) const {
    return pfn < pages_.size() ? pages_[pfn].get() : nullptr;
  }
  void zero(std::uint64_t pfn);
  std::size_t frames() const;
  /// One past the highest PFN ever written (0 when none): the image's size in frames.
  std::uint64_t end_pfn() const { return pages_.size(); }

 private:
  std::uint64_t* create(std::uint64_t pfn);
  std::vector<std::unique_ptr<std::uint64_t[]>> pages_;
};

}  // namespace vmref::impl
