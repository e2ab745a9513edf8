// Finding titles and grouping: one line per bug in reports, not one per event.
#include <algorithm>
#include <cctype>

#include "vmref/conformance/finding.hpp"

namespace vmref::conformance {

namespace {
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

/// `msg` with hex literals as ADDR and free-standing decimal numbers as N.
std::string normalize(const std::string& msg) {
  std::string o;
  for (std::size_t i = 0; i < msg.size();) {
    bool starts_word = i == 0 || !word_char(msg[i - 1]);
    if (starts_word && msg.compare(i, 2, "0x") == 0 && i + 2 < msg.size() && std::isxdigit(static_cast<unsigned char>(msg[i + 2]))) {
      i += 2;
      while (i < msg.size() && std::isxdigit(static_cast<unsigned char>(msg[i]))) ++i;
      o += "ADDR";
      continue;
    }
    if (msg.compare(i, 2, "('") == 0) {  // a frame's trace label (name_frames)
      if (std::size_t j = msg.find("')", i + 2); j != std::string::npos && msg.find('\n', i) > j) {
        o += "('L')";
        i = j + 2;
        continue;
      }
    }
    if (starts_word && std::isdigit(static_cast<unsigned char>(msg[i]))) {
      std::size_t j = i;
      while (j < msg.size() && std::isdigit(static_cast<unsigned char>(msg[j]))) ++j;
      if (j == msg.size() || !std::isalpha(static_cast<unsigned char>(msg[j]))) {  // "2 mappings", not "4K"
        o += "N";
        i = j;
        continue;
      }
    }
    o += msg[i] == '\n' ? ' ' : msg[i];
    ++i;
  }
  return o;
}
}  // namespace

std::string name_frames(const std::string& msg, const std::function<const std::string*(std::uint64_t)>& label_of) {
  static constexpr std::string_view kWord = "frame ";
  std::string o;
  std::size_t i = 0;
  while (i < msg.size()) {
    std::size_t at = msg.find(kWord, i);
    if (at == std::string::npos) break;
    std::size_t j = at + kWord.size(), k = j;
    while (k < msg.size() && std::isdigit(static_cast<unsigned char>(msg[k]))) ++k;
    bool word = at == 0 || !word_char(msg[at - 1]);
    o.append(msg, i, k - i);
    i = k;
    if (!word || k == j || k - j > 19 || (k < msg.size() && word_char(msg[k]))) continue;
    if (const std::string* label = label_of(std::stoull(msg.substr(j, k - j)))) o += " ('" + *label + "')";
  }
  o.append(msg, i, std::string::npos);
  return o;
}

std::string finding_title(const Finding& f) {
  std::string cause = normalize(f.message);
  if (cause.size() > 100) cause = cause.substr(0, 97) + "...";
  return f.id + (f.op.empty() ? "" : " in " + f.op) + ": " + cause;
}

std::vector<FindingGroup> group_findings(const std::vector<Finding>& fs) {
  std::vector<FindingGroup> out;
  for (const Finding& f : fs) {
    std::string t = finding_title(f);
    auto it = std::find_if(out.begin(), out.end(), [&](const FindingGroup& g) { return g.title == t; });
    if (it == out.end()) out.push_back({t, 1, f});
    else ++it->count;
  }
  return out;
}

}  // namespace vmref::conformance
