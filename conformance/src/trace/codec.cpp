#include "vmref/trace/codec.hpp"

#include <algorithm>
#include <string_view>

#include "vmref/trace/error.hpp"

namespace vmref::trace {

using nlohmann::json;
using namespace vmref::model;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t parse_u64(const json& v, const std::string& file, std::uint64_t line, const std::string& field) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  if (!v.is_string()) throw TraceError(file, line, field, "expected a \"0x...\" hex string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
    throw TraceError(file, line, field, "expected a \"0x...\" hex string of at most 64 bits, got \"" + s + "\"");
  std::uint64_t r = 0;
  for (std::size_t i = 2; i < s.size(); ++i) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) throw TraceError(file, line, field, "bad hex digit in \"" + s + "\"");
    r = (r << 4) | static_cast<std::uint64_t>(d);
  }
  return r;
}

namespace {

/// Field reader that remembers which keys were used, so leftovers can be reported.
class Fields {
 public:
  Fields(const json& j, const std::string& file, std::uint64_t line) : j_(j), file_(file), line_(line) {
    if (!j.is_object()) throw TraceError(file, line, "", "each line must be a JSON object");
  }
  bool has(const char* k) { return j_.contains(k) && (used_.push_back(k), true); }
  const json& raw(const char* k) {
    used_.push_back(k);
    return j_.at(k);
  }
  [[noreturn]] void fail(const std::string& field, const std::string& msg) const {
    throw TraceError(file_, line_, field, msg);
  }
  std::uint64_t u64(const char* k) {
    if (!has(k)) fail(k, "missing");
    return parse_u64(j_.at(k), file_, line_, k);
  }
  std::uint64_t u64_or(const char* k, std::uint64_t d) { return has(k) ? u64(k) : d; }
  std::uint64_t u64_in(const json& v, const std::string& field) const { return parse_u64(v, file_, line_, field); }
  std::string str(const char* k) {
    if (!has(k)) fail(k, "missing");
    if (!j_.at(k).is_string()) fail(k, "expected a string");
    return j_.at(k).get<std::string>();
  }
  std::string str_or(const char* k, const std::string& d) { return has(k) ? str(k) : d; }
  bool flag(const char* k) {
    if (!has(k)) return false;
    if (!j_.at(k).is_boolean()) fail(k, "expected true or false");
    return j_.at(k).get<bool>();
  }
  std::uint64_t small(const char* k, std::uint64_t max) {
    if (!has(k)) fail(k, "missing");
    const json& v = j_.at(k);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
      fail(k, "expected a non-negative integer");
    std::uint64_t n = v.get<std::uint64_t>();
    if (n > max) fail(k, "must be at most " + std::to_string(max));
    return n;
  }
  Prot prot(const char* k) {
    auto p = Prot::parse(str(k));
    if (!p) fail(k, "expected three characters like \"rw-\"");
    return *p;
  }
  /// Every key not read is a typo or an unsupported field.
  void done() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (std::find(used_.begin(), used_.end(), std::string_view(it.key())) == used_.end())
        fail(it.key(), "unknown field for this op");
  }

 private:
  const json& j_;
  const std::string& file_;
  std::uint64_t line_;
  std::vector<std::string_view> used_;  // keys read so far (literals: no allocation)
};

FileRef file_ref(Fields& f, const json& j) {
  if (!j.is_object()) f.fail("file", "expected an object {\"id\", \"path\", \"writable\"}");
  FileRef r;
  if (!j.contains("id") || !j["id"].is_string()) f.fail("file.id", "missing or not a string");
  r.id = j["id"];
  if (j.contains("path")) {
    if (!j["path"].is_string()) f.fail("file.path", "expected a string");
    r.path = j["path"];
  }
  if (j.contains("writable")) {
    if (!j["writable"].is_boolean()) f.fail("file.writable", "expected true or false");
    r.fd_writable = j["writable"];
  }
  if (j.contains("size")) r.size = f.u64_in(j["size"], "file.size");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "id" && it.key() != "path" && it.key() != "writable" && it.key() != "size")
      f.fail("file." + it.key(), "unknown field");
  return r;
}

void mmap_flags(Fields& f, Event& e) {
  if (!f.has("flags")) return;
  const json& fl = f.raw("flags");
  if (!fl.is_array()) f.fail("flags", "expected an array of strings");
  e.anonymous = false;
  bool priv = false;
  for (const json& x : fl) {
    if (!x.is_string()) f.fail("flags", "expected strings");
    std::string s = x;
    if (s == "shared") e.shared = true;
    else if (s == "private") priv = true;
    else if (s == "anonymous") e.anonymous = true;
    else if (s == "fixed") e.placement = Placement::fixed;
    else if (s == "fixed_noreplace") e.placement = Placement::fixed_noreplace;
    else if (s == "populate") e.populate = true;
    else if (s == "locked") e.vm_flags.set(VmFlag::locked);
    else if (s == "growsdown") e.vm_flags.set(VmFlag::growsdown);
    else if (s == "noreserve") e.vm_flags.set(VmFlag::noreserve);
    else if (s == "global") e.vm_flags.set(VmFlag::global);
    else if (s == "stack") e.map_stack = true;
    else if (s == "denywrite" || s == "executable") {}  // ignored by Linux since 5.x
    else f.fail("flags", "unknown mmap flag \"" + s + "\"");
  }
  if (e.shared == priv) f.fail("flags", "exactly one of \"shared\" and \"private\" is required");
}

TlbMode tlb_mode(Fields& f) {
  std::string m = f.str_or("tlb", "sync");
  if (m == "sync") return TlbMode::sync;
  if (m == "deferred") return TlbMode::deferred;
  if (m == "none") return TlbMode::none;
  f.fail("tlb", "expected \"sync\", \"deferred\" or \"none\"");
}

AccessKind access_kind(Fields& f, const char* dflt) {
  std::string k = f.str_or("kind", dflt);
  if (k == "read") return AccessKind::read;
  if (k == "write") return AccessKind::write;
  if (k == "exec") return AccessKind::exec;
  f.fail("kind", "expected \"read\", \"write\" or \"exec\"");
}

void vseg_fields(Fields& f, Event& e) {
  e.addr = f.u64("start");
  Va end = f.u64("end");
  if (end < e.addr) f.fail("end", "is below start");
  e.len = end - e.addr;
  e.prot = f.prot("prot");
  if (f.has("kind")) {
    auto k = parse_kind(f.str("kind"));
    if (!k) f.fail("kind", "unknown vseg kind");
    e.vkind = *k;
  }
  e.shared = f.flag("shared");
  if (f.has("file")) e.file = file_ref(f, f.raw("file"));
  e.offset = f.u64_or("offset", 0);
  e.name = f.str_or("name", "");
  if (f.has("flags")) {
    const json& fl = f.raw("flags");
    if (!fl.is_array()) f.fail("flags", "expected an array of vseg flag names");
    for (const json& x : fl) {
      auto vf = x.is_string() ? parse_vm_flag(x.get<std::string>()) : std::nullopt;
      if (!vf) f.fail("flags", "unknown vseg flag " + x.dump());
      e.vm_flags.set(*vf);
    }
  }
  if (f.has("anon_vma")) e.anon_vma = f.flag("anon_vma");
}

void decode_op_fields(Fields& f, Event& e) {
  switch (e.op) {
    case Op::as_create:
    case Op::exec_reset: e.as = f.u64("as"); e.addr = f.u64_or("brk", 0); break;
    case Op::as_destroy:
    case Op::observe: e.as = f.u64("as"); break;
    case Op::switch_as: e.cpu = static_cast<int>(f.small("cpu", 4095)); e.as = f.u64("as"); break;
    case Op::mmap:
      e.as = f.u64("as");
      e.addr = f.u64_or("addr", 0);
      e.len = f.u64("len");
      e.prot = f.prot("prot");
      mmap_flags(f, e);
      if (f.has("file")) e.file = file_ref(f, f.raw("file"));
      e.offset = f.u64_or("offset", 0);
      if (!e.anonymous && !e.file) f.fail("file", "a mapping without \"anonymous\" needs a file");
      if (e.anonymous && e.file) f.fail("file", "an anonymous mapping has no file");
      break;
    case Op::munmap: e.as = f.u64("as"); e.addr = f.u64("addr"); e.len = f.u64("len"); e.tlb = tlb_mode(f); break;
    case Op::mprotect: e.as = f.u64("as"); e.addr = f.u64("addr"); e.len = f.u64("len"); e.prot = f.prot("prot"); break;
    case Op::brk: e.as = f.u64("as"); e.addr = f.u64("addr"); break;
    case Op::fork: e.as = f.u64("as"); e.child = f.u64("child"); break;
    case Op::access: e.cpu = static_cast<int>(f.small("cpu", 4095)); e.addr = f.u64("va"); e.kind = access_kind(f, "read"); break;
    case Op::tlb_flush: {
      std::string sc = f.str("scope");
      if (sc == "all") e.scope = FlushScope::all;
      else if (sc == "asid") e.scope = FlushScope::asid;
      else if (sc == "range") e.scope = FlushScope::range;
      else f.fail("scope", "expected \"all\", \"asid\" or \"range\"");
      e.broadcast = f.has("broadcast") ? f.flag("broadcast") : true;
      if (f.has("cpu")) e.cpu = static_cast<int>(f.small("cpu", 4095));
      if (!e.broadcast && e.cpu < 0) f.fail("cpu", "a local flush (broadcast false) needs a cpu");
      if (e.scope != FlushScope::all) e.as = f.u64("as");
      if (e.scope == FlushScope::range) { e.addr = f.u64("va"); e.len = f.u64("len"); }
      e.with_global = f.flag("global");
      break;
    }
    case Op::pin: e.as = f.u64("as"); e.addr = f.u64("va"); e.label = f.str("handle"); e.kind = access_kind(f, "read"); break;
    case Op::unpin: e.label = f.str("handle"); break;
    case Op::stack_expand: e.as = f.u64("as"); e.addr = f.u64("va"); break;
    case Op::mremap: {
      e.as = f.u64("as"); e.addr = f.u64("addr"); e.len = f.u64("len"); e.new_len = f.u64("new_len");
      if (f.has("flags")) {
        const json& fl = f.raw("flags");
        if (!fl.is_array()) f.fail("flags", "expected an array of strings");
        for (const json& x : fl) {
          std::string s = x.is_string() ? x.get<std::string>() : "";
          if (s == "maymove") e.maymove = true;
          else if (s == "fixed") e.placement = Placement::fixed;
          else if (s == "dontunmap") e.dontunmap = true;
          else f.fail("flags", "unknown mremap flag " + x.dump());
        }
      }
      if (e.placement == Placement::fixed) e.new_addr = f.u64("new_addr");
      break;
    }
    case Op::madvise: {
      e.as = f.u64("as"); e.addr = f.u64("addr"); e.len = f.u64("len");
      auto a = parse_advice(f.str("advice"));
      if (!a) f.fail("advice", "unknown advice (normal, random, sequential, willneed, dontneed, free, dontfork, "
                               "dofork, hugepage, nohugepage, dontdump, dodump, wipeonfork, keeponfork)");
      e.advice = *a;
      break;
    }
    case Op::mlock:
    case Op::munlock: e.as = f.u64("as"); e.addr = f.u64("addr"); e.len = f.u64("len"); break;
    case Op::mermap_prepare: e.as = f.u64("as"); break;
    case Op::mermap_get:
      e.as = f.u64("as"); e.cpu = static_cast<int>(f.small("cpu", 4095)); e.len = f.u64("len");
      e.label = f.str("handle"); e.prot = f.has("prot") ? f.prot("prot") : Prot{true, true, false};
      e.reserve = f.flag("reserve");
      if (f.has("fail_after")) e.fail_after = f.u64("fail_after");
      break;
    case Op::mermap_put: e.as = f.u64("as"); e.cpu = static_cast<int>(f.small("cpu", 4095)); e.label = f.str("handle"); break;
    case Op::mermap_teardown: e.as = f.u64("as"); e.cpu = static_cast<int>(f.small("cpu", 4095)); break;
    case Op::k_mem_map:
      e.len = f.u64("len"); e.prot = f.has("prot") ? f.prot("prot") : Prot{true, true, false};
      e.uninit = f.flag("uninit"); e.lock = f.flag("lock"); e.user = f.flag("user");
      break;
    case Op::k_mem_unmap:
    case Op::k_mem_page_out:
    case Op::k_mem_page_in:
    case Op::k_mem_pin:
    case Op::k_mem_unpin: e.addr = f.u64("addr"); e.len = f.u64("len"); break;
    case Op::k_mem_stat: e.name = f.str("stat"); break;
    case Op::nru_tick: break;
    case Op::almos_process: e.as = f.u64("pid"); e.cpu = static_cast<int>(f.small("cluster", 4095)); break;
    case Op::almos_vseg:
      e.as = f.u64("pid"); e.name = f.str("type"); e.len = f.u64_or("len", 0); e.addr = f.u64_or("addr", 0);
      e.size_class = f.has("ltid") ? f.small("ltid", 1u << 20) : 0;
      break;
    case Op::almos_munmap: e.as = f.u64("pid"); e.addr = f.u64("addr"); e.len = f.u64("len"); break;
    case Op::almos_access:
      e.as = f.u64("pid"); e.cpu = static_cast<int>(f.small("cluster", 4095)); e.addr = f.u64("va"); e.kind = access_kind(f, "read");
      break;
    case Op::almos_fork: e.as = f.u64("pid"); e.child = f.u64("child"); e.cpu = static_cast<int>(f.small("cluster", 4095)); break;
    case Op::almos_exec:
    case Op::almos_exit: e.as = f.u64("pid"); break;
    case Op::vseg_insert: e.as = f.u64("as"); vseg_fields(f, e); break;
    case Op::vseg_remove: e.as = f.u64("as"); e.addr = f.u64("start"); break;
    case Op::pte_set:
      e.as = f.u64("as"); e.addr = f.u64("va"); e.label = f.str("frame"); e.prot = f.prot("prot");
      e.cow = f.flag("cow"); e.global = f.flag("global");
      break;
    case Op::pte_clear: e.as = f.u64("as"); e.addr = f.u64("va"); break;
    case Op::frame_alloc:
    case Op::frame_get:
    case Op::frame_put:
    case Op::frame_free: e.label = f.str("frame"); break;
    case Op::va_release:
    case Op::va_reuse:
      e.as = f.u64("as"); e.addr = f.u64("addr"); e.len = f.u64("len"); e.size_class = f.small("list", 1u << 20);
      if (e.op == Op::va_reuse) e.request_class = f.small("request_class", 1u << 20);
      break;
  }
}

}  // namespace

Header header_from_json(const json& j, const std::string& file, std::uint64_t line) {
  Fields f(j, file, line);
  Header h;
  if (!f.has("vmref_trace")) f.fail("vmref_trace", "missing: the first line must be the trace header");
  h.version = static_cast<int>(f.small("vmref_trace", 1000));
  if (h.version != kFormatVersion) f.fail("vmref_trace", "unsupported format version " + std::to_string(h.version));
  h.profile = f.str("profile");
  h.arch = f.str_or("arch", "abstract");
  h.page_size = f.u64_or("page_size", 4096);
  if (h.page_size < 4096 || (h.page_size & (h.page_size - 1))) f.fail("page_size", "must be a power of two >= 4096");
  h.cpus = static_cast<unsigned>(f.has("cpus") ? f.small("cpus", 4096) : 1);
  if (h.cpus == 0) f.fail("cpus", "must be at least 1");
  h.phys_mem = f.u64_or("phys_mem", 1ull << 30);
  if (h.phys_mem < h.page_size) f.fail("phys_mem", "smaller than one page");
  if (f.has("provenance")) {
    h.provenance = f.raw("provenance");
    if (!h.provenance.is_object()) f.fail("provenance", "expected an object");
  }
  f.done();
  return h;
}

nlohmann::ordered_json header_to_json(const Header& h) {
  return nlohmann::ordered_json{{"vmref_trace", h.version}, {"profile", h.profile}, {"arch", h.arch},
          {"page_size", hex(h.page_size)}, {"cpus", h.cpus}, {"phys_mem", hex(h.phys_mem)},
          {"provenance", h.provenance}};
}

Event event_from_json(const json& j, const std::string& file, std::uint64_t line) {
  Fields f(j, file, line);
  Event e;
  e.line = line;
  auto op = parse_op(f.str("op"));
  if (!op) f.fail("op", "unknown operation \"" + j["op"].get<std::string>() + "\"");
  e.op = *op;
  decode_op_fields(f, e);
  e.cont = f.flag("cont");
  if (f.has("expect")) {
    e.expect = f.raw("expect");
    if (!e.expect.is_object()) f.fail("expect", "expected an object");
    // The recording kernel's placement guides hint mmaps and moving mremaps
    // (spec/trace-format.md §3.2).
    bool placed = (e.op == Op::mmap && e.placement == Placement::hint) ||
                  (e.op == Op::mremap && e.placement != Placement::fixed);
    if (placed && e.expect.contains("ret"))
      e.chosen = parse_u64(e.expect["ret"], file, line, "expect.ret");
  }
  f.done();
  return e;
}

namespace {
nlohmann::ordered_json file_json(const FileRef& r) {
  nlohmann::ordered_json j{{"id", r.id}, {"path", r.path}, {"writable", r.fd_writable}};
  if (r.size) j["size"] = hex(*r.size);
  return j;
}
const char* access_name(AccessKind k) { return to_string(k); }
}  // namespace

nlohmann::ordered_json event_to_json(const Event& e) {
  nlohmann::ordered_json j{{"op", to_string(e.op)}};
  auto as = [&] { j["as"] = e.as; };
  switch (e.op) {
    case Op::as_create:
    case Op::exec_reset: as(); if (e.addr) j["brk"] = hex(e.addr); break;
    case Op::as_destroy:
    case Op::observe: as(); break;
    case Op::switch_as: j["cpu"] = e.cpu; as(); break;
    case Op::mmap: {
      as();
      if (e.addr) j["addr"] = hex(e.addr);
      j["len"] = hex(e.len);
      j["prot"] = e.prot.str();
      auto fl = nlohmann::ordered_json::array({e.shared ? "shared" : "private"});
      if (e.anonymous) fl.push_back("anonymous");
      if (e.placement == Placement::fixed) fl.push_back("fixed");
      if (e.placement == Placement::fixed_noreplace) fl.push_back("fixed_noreplace");
      if (e.populate) fl.push_back("populate");
      for (VmFlag vf : {VmFlag::locked, VmFlag::growsdown, VmFlag::noreserve, VmFlag::global})
        if (e.vm_flags.has(vf)) fl.push_back(to_string(vf));
      if (e.map_stack) fl.push_back("stack");
      j["flags"] = fl;
      if (e.file) j["file"] = file_json(*e.file);
      if (e.offset) j["offset"] = hex(e.offset);
      break;
    }
    case Op::munmap:
      as(); j["addr"] = hex(e.addr); j["len"] = hex(e.len);
      if (e.tlb != TlbMode::sync) j["tlb"] = e.tlb == TlbMode::deferred ? "deferred" : "none";
      break;
    case Op::mprotect: as(); j["addr"] = hex(e.addr); j["len"] = hex(e.len); j["prot"] = e.prot.str(); break;
    case Op::brk: as(); j["addr"] = hex(e.addr); break;
    case Op::fork: as(); j["child"] = e.child; break;
    case Op::access: j["cpu"] = e.cpu; j["va"] = hex(e.addr); j["kind"] = access_name(e.kind); break;
    case Op::tlb_flush:
      j["scope"] = e.scope == FlushScope::all ? "all" : e.scope == FlushScope::asid ? "asid" : "range";
      if (!e.broadcast) j["broadcast"] = false;
      if (e.cpu >= 0) j["cpu"] = e.cpu;
      if (e.scope != FlushScope::all) as();
      if (e.scope == FlushScope::range) { j["va"] = hex(e.addr); j["len"] = hex(e.len); }
      if (e.with_global) j["global"] = true;
      break;
    case Op::pin: as(); j["va"] = hex(e.addr); j["handle"] = e.label; j["kind"] = access_name(e.kind); break;
    case Op::unpin: j["handle"] = e.label; break;
    case Op::stack_expand: as(); j["va"] = hex(e.addr); break;
    case Op::mremap: {
      as(); j["addr"] = hex(e.addr); j["len"] = hex(e.len); j["new_len"] = hex(e.new_len);
      auto fl = nlohmann::ordered_json::array();
      if (e.maymove) fl.push_back("maymove");
      if (e.placement == Placement::fixed) fl.push_back("fixed");
      if (e.dontunmap) fl.push_back("dontunmap");
      if (!fl.empty()) j["flags"] = fl;
      if (e.placement == Placement::fixed) j["new_addr"] = hex(e.new_addr);
      break;
    }
    case Op::madvise: as(); j["addr"] = hex(e.addr); j["len"] = hex(e.len); j["advice"] = to_string(e.advice); break;
    case Op::mlock:
    case Op::munlock: as(); j["addr"] = hex(e.addr); j["len"] = hex(e.len); break;
    case Op::mermap_prepare: as(); break;
    case Op::mermap_get:
      as(); j["cpu"] = e.cpu; j["len"] = hex(e.len); j["handle"] = e.label;
      if (!(e.prot == Prot{true, true, false})) j["prot"] = e.prot.str();
      if (e.reserve) j["reserve"] = true;
      if (e.fail_after) j["fail_after"] = hex(*e.fail_after);
      break;
    case Op::mermap_put: as(); j["cpu"] = e.cpu; j["handle"] = e.label; break;
    case Op::mermap_teardown: as(); j["cpu"] = e.cpu; break;
    case Op::k_mem_map:
      j["len"] = hex(e.len);
      if (!(e.prot == Prot{true, true, false})) j["prot"] = e.prot.str();
      if (e.uninit) j["uninit"] = true;
      if (e.lock) j["lock"] = true;
      if (e.user) j["user"] = true;
      break;
    case Op::k_mem_unmap:
    case Op::k_mem_page_out:
    case Op::k_mem_page_in:
    case Op::k_mem_pin:
    case Op::k_mem_unpin: j["addr"] = hex(e.addr); j["len"] = hex(e.len); break;
    case Op::k_mem_stat: j["stat"] = e.name; break;
    case Op::nru_tick: break;
    case Op::almos_process: j["pid"] = e.as; j["cluster"] = e.cpu; break;
    case Op::almos_vseg:
      j["pid"] = e.as; j["type"] = e.name;
      if (e.len) j["len"] = hex(e.len);
      if (e.addr) j["addr"] = hex(e.addr);
      if (e.name == "stack") j["ltid"] = e.size_class;
      break;
    case Op::almos_munmap: j["pid"] = e.as; j["addr"] = hex(e.addr); j["len"] = hex(e.len); break;
    case Op::almos_access: j["pid"] = e.as; j["cluster"] = e.cpu; j["va"] = hex(e.addr); j["kind"] = access_name(e.kind); break;
    case Op::almos_fork: j["pid"] = e.as; j["child"] = e.child; j["cluster"] = e.cpu; break;
    case Op::almos_exec:
    case Op::almos_exit: j["pid"] = e.as; break;
    case Op::vseg_insert:
      as(); j["start"] = hex(e.addr); j["end"] = hex(e.addr + e.len); j["prot"] = e.prot.str();
      j["kind"] = to_string(e.vkind);
      if (e.shared) j["shared"] = true;
      if (e.file) j["file"] = file_json(*e.file);
      if (e.offset) j["offset"] = hex(e.offset);
      if (!e.name.empty()) j["name"] = e.name;
      if (e.vm_flags.bits) {
        auto fl = nlohmann::ordered_json::array();
        for (unsigned b = 0; b < static_cast<unsigned>(VmFlag::count); ++b)
          if (e.vm_flags.has(static_cast<VmFlag>(b))) fl.push_back(to_string(static_cast<VmFlag>(b)));
        j["flags"] = fl;
      }
      if (e.anon_vma) j["anon_vma"] = *e.anon_vma;
      break;
    case Op::vseg_remove: as(); j["start"] = hex(e.addr); break;
    case Op::pte_set:
      as(); j["va"] = hex(e.addr); j["frame"] = e.label; j["prot"] = e.prot.str();
      if (e.cow) j["cow"] = true;
      if (e.global) j["global"] = true;
      break;
    case Op::pte_clear: as(); j["va"] = hex(e.addr); break;
    case Op::frame_alloc:
    case Op::frame_get:
    case Op::frame_put:
    case Op::frame_free: j["frame"] = e.label; break;
    case Op::va_release:
    case Op::va_reuse:
      as(); j["addr"] = hex(e.addr); j["len"] = hex(e.len); j["list"] = e.size_class;
      if (e.op == Op::va_reuse) j["request_class"] = e.request_class;
      break;
  }
  if (e.cont) j["cont"] = true;
  if (!e.expect.is_null()) j["expect"] = nlohmann::ordered_json(e.expect);
  return j;
}

}  // namespace vmref::trace
