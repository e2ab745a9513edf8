#include "vmref/impl/phys_mem.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace vmref::impl {

ImageFile::ImageFile(const std::string& path, std::uint64_t base) : path_(path), base_(base) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st{};
  fstat(fd, &st);
  size_ = static_cast<std::uint64_t>(st.st_size);
  if (size_ > 0) {
    void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      close(fd);
      throw std::runtime_error(path + ": cannot map: " + std::strerror(errno));
    }
    data_ = static_cast<const unsigned char*>(p);
  }
  close(fd);
}

ImageFile::~ImageFile() {
  if (data_) munmap(const_cast<unsigned char*>(data_), size_);
}

bool ImageFile::read_u64(std::uint64_t pa, std::uint64_t& out) const {
  if (pa < base_ || pa - base_ > size_ || size_ - (pa - base_) < 8) return false;
  std::memcpy(&out, data_ + (pa - base_), 8);
  return true;
}

bool SimMemory::read_u64(std::uint64_t pa, std::uint64_t& out) const {
  const std::uint64_t* f = find(pa >> 12);
  out = 0;
  if (f) std::memcpy(&out, reinterpret_cast<const unsigned char*>(f) + (pa & 0xfff), 8);
  return (pa & 0xfff) <= 0xff8;
}

void SimMemory::write_u64(std::uint64_t pa, std::uint64_t v) {
  std::memcpy(reinterpret_cast<unsigned char*>(page(pa >> 12)) + (pa & 0xfff), &v, 8);
}

std::uint64_t* SimMemory::create(std::uint64_t pfn) {
  if (pfn >= pages_.size()) pages_.resize(std::max<std::size_t>(pfn + 1, pages_.size() * 2));
  auto& f = pages_[pfn];
  if (!f) f = std::make_unique<std::uint64_t[]>(512);  // value-initialized: zeroed
  return f.get();
}

void SimMemory::zero(std::uint64_t pfn) {
  if (pfn < pages_.size() && pages_[pfn]) std::memset(pages_[pfn].get(), 0, 4096);
}

std::size_t SimMemory::frames() const {
  std::size_t n = 0;
  for (const auto& f : pages_) n += f != nullptr;
  return n;
}

}  // namespace vmref::impl
