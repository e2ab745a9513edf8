#include "vmref/trace/hex.hpp"

#include <cstdio>

namespace vmref::trace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace vmref::trace
