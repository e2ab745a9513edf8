// Campaign commands compared by what they run: the recorded command line with the
// options that do not change the episodes taken out.
#pragma once

#include <set>
#include <string>

namespace vmref::diff {

/// `command` (words separated by single spaces, as campaign_command writes it) without
/// the options named in `drop` and the value that follows each.
inline std::string without_options(const std::string& command, const std::set<std::string>& drop) {
  std::string out, word;
  bool skip = false;
  for (std::size_t i = 0; i <= command.size(); ++i) {
    if (i < command.size() && command[i] != ' ') {
      word += command[i];
      continue;
    }
    if (skip) skip = false;
    else if (drop.count(word)) skip = true;
    else if (!word.empty()) out += (out.empty() ? "" : " ") + word;
    word.clear();
  }
  return out;
}

}  // namespace vmref::diff
