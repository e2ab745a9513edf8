#include "vmref/diff/shard.hpp"

#include <cstdio>
#include <stdexcept>

namespace vmref::diff {

Shard parse_shard(const std::string& text) {
  if (text.empty()) return {};
  unsigned k = 0, n = 0;
  char slash = 0, extra = 0;
  // %c after N catches trailing text ("1/4x"), which %u alone would accept.
  if (std::sscanf(text.c_str(), "%u%c%u%c", &k, &slash, &n, &extra) != 3 || slash != '/' || k < 1 || n > 1024 || k > n)
    throw std::invalid_argument("'" + text + "': expected K/N with 1 <= K <= N <= 1024");
  return {k, n};
}

}  // namespace vmref::diff
