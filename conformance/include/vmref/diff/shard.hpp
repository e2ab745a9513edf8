// `--shard K/N`: one of N parts of a campaign or a proof suite, for N machines.
#pragma once

#include <string>

namespace vmref::diff {

/// Part `k` (1-based) of `n`; {1, 1} is the whole job.
struct Shard {
  unsigned k = 1, n = 1;
};

/// Parses "K/N" with 1 <= K <= N <= 1024; "" gives {1, 1}. Throws std::invalid_argument
/// quoting the text for anything else (trailing characters, zero, K > N, N > 1024).
Shard parse_shard(const std::string& text);

}  // namespace vmref::diff
