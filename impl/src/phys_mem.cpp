#include "vmref/impl/phys_mem.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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
  auto it = frames_.find(pa >> 12);
  out = 0;
  if (it != frames_.end()) std::memcpy(&out, it->second.get() + (pa & 0xfff), 8);
  return (pa & 0xfff) <= 0xff8;
}

void SimMemory::write_u64(std::uint64_t pa, std::uint64_t v) {
  auto& f = frames_[pa >> 12];
  if (!f) {
    f = std::make_unique<unsigned char[]>(4096);
    std::memset(f.get(), 0, 4096);
  }
  std::memcpy(f.get() + (pa & 0xfff), &v, 8);
}

}  // namespace vmref::impl
