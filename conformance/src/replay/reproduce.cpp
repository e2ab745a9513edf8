// The command line printed beside every finding, so a report row can be rerun as is.
#include <cctype>
#include <string>
#include <string_view>

#include "vmref/conformance/replay.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::conformance {

namespace {

/// `s` as one POSIX shell word: unchanged when it holds only safe characters, else in
/// single quotes (a quote inside becomes '\'').
std::string shell_word(const std::string& s) {
  bool safe = !s.empty();
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_./:=+-,@%").find(c) != std::string_view::npos))
      safe = false;
  if (safe) return s;
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

}  // namespace

std::string reproduce_command(const ReplayResult& r) {
  std::string c = "vmref replay " + shell_word(r.file);
  std::string profile = r.header.profile;
  try {
    profile = vocab::resolve_profile(profile).full_name();  // "linux" -> "linux:default"
  } catch (const std::exception&) {
    // An unknown profile (a bad-input trace) is printed as the trace gave it.
  }
  if (!profile.empty()) c += " --profile " + shell_word(profile);
  if (r.model_only) c += " --model-only";
  if (!r.impl.empty()) c += " --impl " + shell_word(r.impl);
  if (!r.mutant.empty()) c += " --mutant " + shell_word(r.mutant);
  for (const auto& [name, value] : r.format_params) c += " --" + name + " " + std::to_string(value);
  if (r.params.is_object())
    for (const auto& [name, value] : r.params.items())
      c += " --param " + shell_word(name + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
  return c;
}

}  // namespace vmref::conformance
