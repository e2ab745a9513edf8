#include "linux_pagemap.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace vmref::oracle {

namespace {
int open_or_throw(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string(path) + ": " + std::strerror(errno) + " (the Linux oracle needs root)");
  return fd;
}
std::uint64_t read_u64(int fd, std::uint64_t index) {
  std::uint64_t v = 0;
  if (pread(fd, &v, sizeof v, static_cast<off_t>(index * 8)) != sizeof v) return 0;
  return v;
}
}  // namespace

PageReader::PageReader() : kpagecount_(open_or_throw("/proc/kpagecount")), kpageflags_(open_or_throw("/proc/kpageflags")) {}

PageReader::~PageReader() {
  close(kpagecount_);
  close(kpageflags_);
}

std::vector<LivePage> PageReader::read(int pid, std::uint64_t va, std::uint64_t pages) {
  std::vector<LivePage> out(pages);
  std::string path = "/proc/" + std::to_string(pid) + "/pagemap";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  std::vector<std::uint64_t> raw(pages);
  ssize_t want = static_cast<ssize_t>(pages * 8);
  ssize_t got = pread(fd, raw.data(), static_cast<std::size_t>(want), static_cast<off_t>((va / 4096) * 8));
  close(fd);
  if (got != want) throw std::runtime_error(path + ": short read");
  for (std::uint64_t i = 0; i < pages; ++i) {
    std::uint64_t e = raw[i];
    LivePage& p = out[i];
    p.present = e >> 63 & 1;
    p.swap_entry = !p.present && (e >> 62 & 1);
    if (!p.present) continue;
    p.exclusive = e >> 56 & 1;
    p.pfn = e & ((1ull << 55) - 1);
    p.mapcount = read_u64(kpagecount_, p.pfn);
    p.zero_page = read_u64(kpageflags_, p.pfn) >> 24 & 1;
  }
  return out;
}

}  // namespace vmref::oracle
