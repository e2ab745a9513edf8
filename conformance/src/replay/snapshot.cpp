#include "vmref/conformance/snapshot.hpp"

#include "vmref/trace/codec.hpp"

namespace vmref::conformance {

using nlohmann::json;
using namespace vmref::model;

json vsl_snapshot(const Model& m, Asid as) {
  json out = json::array();
  const AddressSpace* s = m.space(as);
  if (!s) return out;
  for (const auto& [start, v] : s->vsl.map()) {
    json e{{"start", trace::hex(v.start)}, {"end", trace::hex(v.end)}, {"prot", v.prot.str()},
           {"shared", v.shared}, {"kind", to_string(v.kind)}};
    if (v.object) {
      const Object& o = m.objects()[v.object];
      if (!o.shmem) {
        e["file"] = o.id;
        e["offset"] = trace::hex(v.pgoff << m.page_shift());
      }
    }
    std::string name = v.name;
    if (s->has_brk && v.start <= s->brk && v.end >= s->brk_start && name.empty()) name = "[heap]";
    if (!name.empty()) e["name"] = name;
    out.push_back(e);
  }
  return out;
}

json page_snapshot(const Model& m, Asid as, Va va) {
  json e{{"va", trace::hex(va)}, {"present", false}};
  const AddressSpace* s = m.space(as);
  if (!s) return e;
  auto it = leaf_at(const_cast<Gpt&>(s->gpt), va >> m.page_shift());  // a huge leaf maps it too
  if (it == s->gpt.end()) return e;
  const Pte& p = it->second;
  e["present"] = true;
  e["frame"] = p.frame;
  e["size"] = m.page_size() << p.order;
  e["prot"] = p.prot.str();
  e["cow"] = p.cow;
  e["zero"] = m.frames()[p.frame].zero_page;  // the zero page or the huge zero page
  e["refcount"] = m.frames()[p.frame].refcount;
  e["mapcount"] = m.frames()[p.frame].mapcount();
  e["exclusive"] = !m.frames()[p.frame].zero_page && m.frames()[p.frame].mapcount() == 1;
  e["provisional"] = m.frames()[p.frame].fault_around_maps;  // mappings the kernel may not have made
  return e;
}

std::string vseg_line(const json& v) {
  std::string s = v.value("start", "?") + "-" + v.value("end", "?") + " " + v.value("prot", "???") +
                  (v.value("shared", false) ? "s" : "p");
  if (v.contains("kind")) s += " " + v["kind"].get<std::string>();
  if (v.contains("file")) s += " " + v["file"].get<std::string>() + "@" + v.value("offset", "0x0");
  if (v.contains("name")) s += " " + v["name"].get<std::string>();
  return s;
}

}  // namespace vmref::conformance
