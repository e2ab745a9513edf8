// Expectation comparison. Frames are compared up to renaming: labels in the trace must
// map one-to-one onto model frames within one observe (DESIGN: "compare the sharing
// structure, not the numbers"); "zero" always names the zero page.
#include "vmref/conformance/expect.hpp"

#include <map>

#include "vmref/conformance/snapshot.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/error.hpp"

namespace vmref::conformance {

using nlohmann::json;
using namespace vmref::model;

namespace {

struct Ctx {
  const Model& m;
  const Event& e;
  const std::string& file;
  std::uint64_t index;
  std::vector<Finding>& out;
  std::size_t compared = 0;

  void add(const char* id, std::string msg, std::string diff = "") {
    out.push_back({id, index, e.line, to_string(e.op), std::move(msg), std::move(diff)});
  }
  [[noreturn]] void bad(const std::string& field, const std::string& msg) const {
    throw trace::TraceError(file, e.line, "expect." + field, msg);
  }
  std::uint64_t u64(const json& v, const std::string& field) const {
    return trace::parse_u64(v, file, e.line, "expect." + field);
  }
  std::string str(const json& v, const std::string& field) const {
    if (!v.is_string()) bad(field, "expected a string");
    return v.get<std::string>();
  }
  bool boolean(const json& v, const std::string& field) const {
    if (!v.is_boolean()) bad(field, "expected true or false");
    return v.get<bool>();
  }
};

bool kind_matches(const std::string& want, const std::string& have) {
  if (want == have) return true;
  return want == "anon" && (have == "heap" || have == "stack");
}

void compare_vsl(Ctx& c, const json& want) {
  if (!want.is_array()) c.bad("vsl", "expected an array of vsegs");
  json have = vsl_snapshot(c.m, c.e.as);
  ++c.compared;
  std::size_t n = std::max(want.size(), have.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::string why;
    if (i >= want.size()) why = "the model has an extra vseg";
    else if (i >= have.size()) why = "the model lacks a vseg";
    else {
      const json& w = want[i];
      const json& h = have[i];
      if (!w.is_object()) c.bad("vsl[" + std::to_string(i) + "]", "expected an object");
      for (auto it = w.begin(); it != w.end(); ++it) {
        const std::string& k = it.key();
        std::string fld = "vsl[" + std::to_string(i) + "]." + k;
        bool same;
        if (k == "start" || k == "end" || k == "offset")
          same = h.contains(k) && c.u64(*it, fld) == c.u64(h[k], fld);
        else if (k == "prot" || k == "file" || k == "name")
          same = h.value(k, std::string()) == c.str(*it, fld);
        else if (k == "kind")
          same = kind_matches(c.str(*it, fld), h.value(k, std::string()));
        else if (k == "shared")
          same = h.value(k, false) == c.boolean(*it, fld);
        else
          c.bad(fld, "unknown vseg field");
        if (!same) {
          why = "field '" + k + "' differs";
          break;
        }
      }
    }
    if (why.empty()) continue;
    // Diff: a few entries around the first difference, from both sides.
    std::string diff;
    for (std::size_t j = i > 1 ? i - 1 : 0; j < std::min(n, i + 3); ++j) {
      if (j < want.size()) diff += "- expected " + vseg_line(want[j]) + "\n";
      if (j < have.size()) diff += "+ model    " + vseg_line(have[j]) + "\n";
    }
    c.add("EXPECT-VSL", "as " + std::to_string(c.e.as) + ": VSL differs at entry " + std::to_string(i) + ": " + why +
                            " (" + std::to_string(want.size()) + " expected, " + std::to_string(have.size()) +
                            " in the model)",
          diff);
    return;
  }
}

void compare_pages(Ctx& c, const json& want, std::map<std::string, FrameId>& by_label) {
  if (!want.is_array()) c.bad("pages", "expected an array of pages");
  std::map<FrameId, std::string> by_frame;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const json& w = want[i];
    std::string at = "pages[" + std::to_string(i) + "]";
    if (!w.is_object() || !w.contains("va")) c.bad(at + ".va", "each page needs a \"va\"");
    Va va = c.u64(w["va"], at + ".va");
    json h = page_snapshot(c.m, c.e.as, va);
    auto mismatch = [&](const std::string& k, const std::string& want_s, const std::string& have_s) {
      c.add("EXPECT-PAGE", "as " + std::to_string(c.e.as) + " va " + trace::hex(va) + ": " + k + " expected " +
                               want_s + ", model has " + have_s,
            "- expected " + w.dump() + "\n+ model    " + h.dump() + "\n");
    };
    for (auto it = w.begin(); it != w.end(); ++it) {
      const std::string& k = it.key();
      std::string fld = at + "." + k;
      if (k == "va") continue;
      ++c.compared;
      if (k == "present" || k == "zero" || k == "cow") {
        bool wb = c.boolean(*it, fld);
        bool hb = h.value(k, false);
        if (wb != hb) mismatch(k, wb ? "true" : "false", hb ? "true" : "false");
      } else if (k == "prot") {
        std::string ws = c.str(*it, fld);
        if (h.value("prot", std::string("absent")) != ws) mismatch(k, ws, h.value("prot", std::string("absent")));
      } else if (k == "frame") {
        std::string label = c.str(*it, fld);
        if (!h["present"].get<bool>()) {
          mismatch("frame", label, "no PTE");
          continue;
        }
        FrameId f = h["frame"].get<FrameId>();
        if (label == "zero") {
          if (f != kZeroFrame) mismatch("frame", "the zero page", "frame " + std::to_string(f));
          continue;
        }
        auto [li, lnew] = by_label.emplace(label, f);
        auto [fi, fnew] = by_frame.emplace(f, label);
        if (li->second != f)
          mismatch("frame", "'" + label + "' (shared with an earlier page)", "a different frame");
        else if (fi->second != label)
          mismatch("frame", "'" + label + "'", "the frame labelled '" + fi->second + "'");
      } else if (k == "refcount") {
        std::uint64_t wn = c.u64(*it, fld);
        std::uint64_t hn = h.value("refcount", 0ull);
        if (!h["present"].get<bool>()) mismatch("refcount", std::to_string(wn), "no PTE");
        else if (wn != hn) mismatch("refcount", std::to_string(wn), std::to_string(hn));
      } else {
        c.bad(fld, "unknown page field");
      }
    }
  }
}

}  // namespace

std::size_t compare_expect(const Model& m, const Event& e, const Outcome& o, const std::string& file,
                           std::uint64_t index, std::vector<Finding>& out) {
  if (e.expect.is_null()) return 0;
  Ctx c{m, e, file, index, out};
  std::map<std::string, FrameId> labels;
  for (auto it = e.expect.begin(); it != e.expect.end(); ++it) {
    const std::string& k = it.key();
    if (k == "errno") {
      ++c.compared;
      auto want = parse_err(c.str(*it, k));
      if (!want) c.bad(k, "unknown errno name (ok, EINVAL, ENOMEM, EEXIST, EACCES, EPERM, EBUSY, EFAULT)");
      if (*want != o.err)
        c.add("EXPECT-ERRNO", std::string("expected ") + to_string(*want) + ", model returned " + to_string(o.err));
    } else if (k == "ret") {
      ++c.compared;
      std::uint64_t want = c.u64(*it, k);
      if (o.err != Err::ok)
        c.add("EXPECT-RET", "expected " + trace::hex(want) + ", model failed with " + to_string(o.err));
      else if (want != o.ret)
        c.add("EXPECT-RET", "expected " + trace::hex(want) + ", model returned " + trace::hex(o.ret));
    } else if (k == "result") {
      ++c.compared;
      auto want = parse_access_result(c.str(*it, k));
      if (!want) c.bad(k, "expected \"ok\", \"segv_maperr\" or \"segv_accerr\"");
      if (*want != o.access || o.err != Err::ok)
        c.add("EXPECT-ACCESS", std::string("expected ") + to_string(*want) + ", model gave " +
                                   (o.err != Err::ok ? to_string(o.err) : to_string(o.access)));
    } else if (k == "zero_page") {
      ++c.compared;
      bool want = c.boolean(*it, k);
      if (want != (o.frame == kZeroFrame))
        c.add("EXPECT-ACCESS", std::string("expected ") + (want ? "" : "no ") + "zero-page mapping, model " +
                                   (o.frame == kZeroFrame ? "mapped the zero page" : "did not"));
    } else if (k == "vsl") {
      compare_vsl(c, *it);
    } else if (k == "pages") {
      compare_pages(c, *it, labels);
    } else {
      c.bad(k, "unknown expectation");
    }
  }
  return c.compared;
}

}  // namespace vmref::conformance
