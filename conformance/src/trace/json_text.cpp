#include "vmref/trace/json_text.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include "vmref/trace/error.hpp"

namespace vmref::trace {

using nlohmann::json;

namespace {

// The keys seen so far in each open object; a parse callback checks nesting and keys as
// the parser goes, before any deep or repeated structure is built.
class Guard {
 public:
  Guard(const std::string& file, std::uint64_t line) : file_(file), line_(line) {}

  bool operator()(int depth, json::parse_event_t ev, json& parsed) {
    switch (ev) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth)
          throw TraceError(file_, line_, "", "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        if (ev == json::parse_event_t::object_start) open();
        break;
      case json::parse_event_t::key: add(parsed.get_ref<const std::string&>()); break;
      case json::parse_event_t::object_end: --open_; break;
      default: break;
    }
    return true;
  }

 private:
  struct Keys {
    std::vector<std::string> few;  // linear search while small: trace objects have a dozen keys
    std::set<std::string> many;
  };
  void open() {
    if (open_ == levels_.size()) levels_.emplace_back();
    Keys& k = levels_[open_++];
    k.few.clear();
    k.many.clear();
  }
  void add(const std::string& key) {
    Keys& k = levels_[open_ - 1];
    bool dup = k.many.empty() ? std::find(k.few.begin(), k.few.end(), key) != k.few.end() : k.many.count(key) != 0;
    if (dup) throw TraceError(file_, line_, key, "duplicate key in one JSON object");
    if (k.many.empty() && k.few.size() < 32) {
      k.few.push_back(key);
      return;
    }
    k.many.insert(k.few.begin(), k.few.end());
    k.few.clear();
    k.many.insert(key);
  }
  const std::string& file_;
  std::uint64_t line_;
  std::vector<Keys> levels_;
  std::size_t open_ = 0;
};

template <class Input>
json parse_with_guard(Input&& in, const std::string& file, std::uint64_t line) {
  Guard g(file, line);
  try {
    return json::parse(std::forward<Input>(in), std::ref(g));
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e400
    throw TraceError(file, line, "", std::string("invalid JSON: ") + e.what());
  }
}

}  // namespace

json parse_json(std::string_view text, const std::string& file, std::uint64_t line) {
  return parse_with_guard(text, file, line);
}

json parse_json(std::istream& in, const std::string& file) { return parse_with_guard(in, file, 0); }

}  // namespace vmref::trace
