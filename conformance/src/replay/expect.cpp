// Expectation comparison. Frames are compared up to renaming: labels in the trace must
// map one-to-one onto model frames within one observe, since a trace records which
// pages share a frame, not the kernel's frame numbers (spec/trace-format.md §3.5);
// "zero" always names the zero page.
#include "vmref/conformance/expect.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "vmref/conformance/snapshot.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/fields.hpp"

namespace vmref::conformance {

using nlohmann::json;
using namespace vmref::model;

namespace {

struct Ctx {
  Model& m;
  const Event& e;
  Asid as;  ///< the address space the event acts in (0 when it names none)
  const std::string& file;
  std::uint64_t index;
  std::vector<Finding>& out;
  std::vector<Finding>& undetermined;
  std::size_t compared = 0;

  void add(const char* id, std::string msg, std::string diff = "") {
    out.push_back({id, index, e.line, e.op_name(), std::move(msg), std::move(diff)});
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

/// One VSL entry decoded for comparison (fields absent from an expectation stay unset).
struct Entry {
  Va start = 0, end = 0;
  const json* j = nullptr;
};

std::vector<Entry> entries(Ctx& c, const json& list, bool expected) {
  std::vector<Entry> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    std::string at = "vsl[" + std::to_string(i) + "]";
    if (!e.is_object() || !e.contains("start") || !e.contains("end"))
      c.bad(at, "each vseg needs \"start\" and \"end\"");
    static const std::set<std::string> kKeys{"start", "end", "prot", "shared", "kind",
                                             "file", "offset", "name", "anon_pages"};
    if (expected)
      for (auto it = e.begin(); it != e.end(); ++it)
        if (!kKeys.count(it.key()))
          c.bad(at + "." + it.key(), "unknown vseg field");
    out.push_back({c.u64(e["start"], at + ".start"), c.u64(e["end"], at + ".end"), &e});
  }
  return out;
}

const Entry* covering(const std::vector<Entry>& es, Va a) {
  auto it = std::upper_bound(es.begin(), es.end(), a, [](Va v, const Entry& e) { return v < e.start; });
  if (it == es.begin()) return nullptr;
  --it;
  return a < it->end ? &*it : nullptr;
}

/// The fields of expected entry `w` that differ from model entry `h` at page `a`.
std::string page_difference(Ctx& c, const Entry& w, const Entry& h, Va a) {
  for (auto it = w.j->begin(); it != w.j->end(); ++it) {
    const std::string& k = it.key();
    if (k == "start" || k == "end" || k == "anon_pages") continue;  // anon_pages is a fact, not compared
    const json& hv = (*h.j).contains(k) ? (*h.j)[k] : json();
    bool same;
    if (k == "offset")  // offsets compare at the same page
      same = !hv.is_null() && c.u64(*it, "vsl.offset") + (a - w.start) == c.u64(hv, "vsl.offset") + (a - h.start);
    else if (k == "kind")
      same = kind_matches(c.str(*it, "vsl.kind"), hv.is_string() ? hv.get<std::string>() : "");
    else
      same = *it == hv;
    if (!same) return k;
  }
  return "";
}

std::string diff_around(const std::vector<Entry>& want, const std::vector<Entry>& have, Va a) {
  std::string d;
  auto near = [&](const std::vector<Entry>& es, const char* tag) {
    std::size_t i = 0;
    while (i < es.size() && es[i].end <= a) ++i;
    for (std::size_t j = i > 0 ? i - 1 : 0; j < std::min(es.size(), i + 2); ++j)
      d += std::string(tag) + vseg_line(*es[j].j) + "\n";
  };
  near(want, "- expected ");
  near(have, "+ model    ");
  return d;
}

void compare_vsl(Ctx& c, const json& want_json) {
  if (!want_json.is_array()) c.bad("vsl", "expected an array of vsegs");
  ++c.compared;
  auto want = entries(c, want_json, true);
  // Faults the trace did not show: the kernel says these VMAs hold anonymous pages.
  for (const Entry& w : want)
    if (w.j->value("anon_pages", false)) c.m.learn_anon_pages(c.as, w.start);
  // Boundaries that hinge on hidden kernel state are settled by what the kernel shows.
  for (const auto& r : c.m.resolve_undetermined(c.as, [&](Va b) {
         return std::any_of(want.begin(), want.end(), [&](const Entry& w) { return w.start == b; });
       }))
    c.undetermined.push_back({"UNDETERMINED-VSL-SPLIT", c.index, c.e.line, c.e.op_name(),
                              "as " + std::to_string(c.as) + ": whether vsegs merge at " + trace::hex(r.at) +
                                  " depends on anon_vma state the trace does not show; the kernel " +
                                  (r.merged ? "merged them" : "kept them apart"),
                              ""});
  json have_json = vsl_snapshot(c.m, c.as);
  auto have = entries(c, have_json, false);
  // Tier 1, page by page: every page has the same attributes on both sides.
  std::set<Va> cuts;
  for (const auto* es : {&want, &have})
    for (const Entry& e : *es) cuts.insert({e.start, e.end});
  for (auto it = cuts.begin(); it != cuts.end() && std::next(it) != cuts.end(); ++it) {
    Va a = *it, b = *std::next(it);
    const Entry* w = covering(want, a);
    const Entry* h = covering(have, a);
    std::string why;
    if (!w && !h) continue;
    if (!w) why = "mapped in the model only";
    else if (!h) why = "mapped in the kernel only";
    else if (std::string k = page_difference(c, *w, *h, a); !k.empty()) why = "field '" + k + "' differs";
    if (why.empty()) continue;
    c.add("EXPECT-VSL", "as " + std::to_string(c.as) + ": pages [" + trace::hex(a) + ", " + trace::hex(b) + "): " + why,
          diff_around(want, have, a));
    return;
  }
  // Tier 2, boundaries: the same pages cut into the same vsegs.
  for (std::size_t i = 0; i < std::max(want.size(), have.size()); ++i) {
    if (i < want.size() && i < have.size() && want[i].start == have[i].start && want[i].end == have[i].end) continue;
    Va a = i < want.size() ? want[i].start : have[i].start;
    if (i < have.size()) a = std::min(a, have[i].start);
    c.add("EXPECT-VSL-SPLIT", "as " + std::to_string(c.as) + ": same pages, different vseg boundaries near " +
                                  trace::hex(a) + " (" + std::to_string(want.size()) + " vsegs expected, " +
                                  std::to_string(have.size()) + " in the model)",
          diff_around(want, have, a));
    return;
  }
}

/// Whether the frame allocation `fg` (frame, generation) has ended: freed, or the frame
/// allocated again since.
bool allocation_ended(const Model& m, const std::pair<FrameId, std::uint64_t>& fg) {
  return !m.frames().valid(fg.first) || !m.frames()[fg.first].allocated || m.frames()[fg.first].generation != fg.second;
}

void compare_pages(Ctx& c, const json& want, ObserveState& state) {
  auto& labels = state.labels;
  if (!want.is_array()) c.bad("pages", "expected an array of pages");
  // A label names one frame allocation for the whole trace; within one observe,
  // different labels name different frames (spec/trace-format.md §3.5).
  std::map<std::pair<FrameId, std::uint64_t>, std::string> by_frame;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const json& w = want[i];
    std::string at = "pages[" + std::to_string(i) + "]";
    if (!w.is_object() || !w.contains("va")) c.bad(at + ".va", "each page needs a \"va\"");
    Va va = c.u64(w["va"], at + ".va");
    if (w.contains("present")) {
      bool kp = c.boolean(w["present"], at + ".present");
      if (auto s = c.m.settle_present(c.as, va, kp))
        c.undetermined.push_back({s->id, c.index, c.e.line, c.e.op_name(), s->message, ""});
    }
    if (w.contains("kept"))
      if (auto s = c.m.settle_kept(c.as, va, c.boolean(w["kept"], at + ".kept")))
        c.undetermined.push_back({s->id, c.index, c.e.line, c.e.op_name(), s->message, ""});
    json h = page_snapshot(c.m, c.as, va);
    auto mismatch = [&](const std::string& k, const std::string& want_s, const std::string& have_s) {
      c.add("EXPECT-PAGE", "as " + std::to_string(c.as) + " va " + trace::hex(va) + ": " + k + " expected " +
                               want_s + ", model has " + have_s,
            "- expected " + w.dump() + "\n+ model    " + h.dump() + "\n");
    };
    for (auto it = w.begin(); it != w.end(); ++it) {
      const std::string& k = it.key();
      std::string fld = at + "." + k;
      if (k == "va") continue;
      ++c.compared;
      if (k == "exclusive" && h.value("provisional", 0ull) > 0) {
        // Provisional mappings of this frame may be absent in the kernel: exclusive is
        // fine if some count between (mapcount - provisional) and mapcount gives it.
        bool wb = c.boolean(*it, fld);
        std::uint64_t hi = h.value("mapcount", 0ull), lo = hi - std::min<std::uint64_t>(hi, h.value("provisional", 0ull));
        bool possible = wb ? (lo <= 1 && 1 <= hi) : !(lo == 1 && hi == 1);
        if (!possible) mismatch(k, wb ? "true" : "false", "mapcount " + std::to_string(lo) + ".." + std::to_string(hi));
      } else if (k == "present" || k == "zero" || k == "cow" || k == "exclusive") {
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
        std::pair<FrameId, std::uint64_t> now{f, c.m.frames()[f].generation};
        auto [fi, fresh] = by_frame.emplace(now, label);
        std::string other = fi->second != label ? fi->second : "";
        auto it = labels.find(label);
        // A label whose allocation has ended is forgotten (§3.5), whether or not the lazy
        // sweep (forget_freed) has dropped it yet: the kernel may give it a new frame.
        if (it != labels.end() && !allocation_ended(c.m, it->second) && it->second != now)
          mismatch("frame", "'" + label + "' (the frame that label named before)", "a different frame");
        else if (!other.empty())
          mismatch("frame", "'" + label + "'", "the frame labelled '" + other + "'");
        else
          labels[label] = now;
      } else if (k == "kept") {  // same frame as at this page's previous observe
        bool wb = c.boolean(*it, fld);
        if (!h["present"].get<bool>()) {
          mismatch("kept", wb ? "true" : "false", "no frame to compare");
          continue;
        }
        // No record: never observed, or its frame was freed since (and forgotten).
        auto last = state.last.find({c.as, va});
        FrameId f = h["frame"].get<FrameId>();
        bool hb = last != state.last.end() && last->second == std::pair{f, c.m.frames()[f].generation};
        if (wb != hb) mismatch("kept", wb ? "true (the frame stayed)" : "false (a new frame)", hb ? "the same frame" : "a new frame");
      } else if (k == "size") {  // bytes of the leaf that maps the page (spec/vmm.md §1.8)
        std::uint64_t wn = c.u64(*it, fld);
        if (!h["present"].get<bool>()) mismatch(k, trace::hex(wn), "no PTE");
        else if (h["size"].get<std::uint64_t>() != wn) mismatch(k, trace::hex(wn), trace::hex(h["size"].get<std::uint64_t>()));
      } else if (k == "refcount" || k == "mapcount") {
        std::uint64_t wn = c.u64(*it, fld);
        std::uint64_t hn = h.value(k, 0ull);
        // mapcount: provisional mappings of the frame may be absent in the kernel.
        std::uint64_t slack = k == "mapcount" ? std::min<std::uint64_t>(hn, h.value("provisional", 0ull)) : 0;
        if (!h["present"].get<bool>()) mismatch(k, std::to_string(wn), "no PTE");
        else if (wn > hn || wn < hn - slack)
          mismatch(k, std::to_string(wn), slack ? std::to_string(hn - slack) + ".." + std::to_string(hn) : std::to_string(hn));
      } else {
        c.bad(fld, "unknown page field");
      }
    }
    if (h["present"].get<bool>()) {
      FrameId f = h["frame"].get<FrameId>();
      state.last[{c.as, va}] = {f, c.m.frames()[f].generation};
    } else {
      state.last.erase({c.as, va});
    }
  }
}

// Drops labels and last-seen frames whose frame allocation has ended: nothing the
// kernel shows later can be that allocation (spec/trace-format.md §3.5).
void forget_freed(ObserveState& st, const Model& m) {
  auto gone = [&](const std::pair<FrameId, std::uint64_t>& fg) { return allocation_ended(m, fg); };
  std::erase_if(st.labels, [&](const auto& kv) { return gone(kv.second); });
  std::erase_if(st.last, [&](const auto& kv) { return gone(kv.second); });
  st.sweep_at = std::max<std::size_t>(4096, 2 * (st.labels.size() + st.last.size()));
}

}  // namespace

std::size_t compare_expect(Model& m, const Event& e, const Outcome& o, const std::string& file,
                           std::uint64_t index, std::vector<Finding>& out, std::vector<Finding>& undetermined,
                           FrameLabels& labels) {
  if (e.expect.is_null()) return 0;
  Ctx c{m, e, e.space().value_or(0), file, index, out, undetermined};
  for (auto it = e.expect.begin(); it != e.expect.end(); ++it) {
    const std::string& k = it.key();
    if (k == "errno") {
      ++c.compared;
      auto want = vocab::parse_err(c.str(*it, k));
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
      auto want = vocab::parse_access_result(c.str(*it, k));
      if (!want) c.bad(k, "expected \"ok\", \"segv_maperr\", \"segv_accerr\" or \"sigbus\"");
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
      if (labels.labels.size() + labels.last.size() >= labels.sweep_at) forget_freed(labels, m);
    } else {
      c.bad(k, "unknown expectation");
    }
  }
  return c.compared;
}

}  // namespace vmref::conformance
