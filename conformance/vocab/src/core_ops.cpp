// Decoders, encoders and schemas of the shared operations (spec/trace-format.md §3.1).
#include "vmref/vocab/core_ops.hpp"

#include "vmref/trace/fields.hpp"

namespace vmref::vocab {

using trace::Fields;
using trace::hex;
using Json = nlohmann::ordered_json;

namespace {

template <class A> A& fresh(Event& e) {
  auto a = std::make_shared<A>();
  A& ref = *a;
  e.args = std::move(a);
  return ref;
}


void dec_as_create(Fields& f, Event& e) {
  auto& a = fresh<AsCreateArgs>(e);
  a.as = f.u64("as");
  a.brk = f.u64_or("brk", 0);
}
void enc_as_create(const Event& e, Json& j) {
  const auto& a = e.get<AsCreateArgs>();
  j["as"] = a.as;
  if (a.brk) j["brk"] = hex(a.brk);
}

void dec_space(Fields& f, Event& e) { fresh<SpaceArgs>(e).as = f.u64("as"); }
void enc_space(const Event& e, Json& j) { j["as"] = e.get<SpaceArgs>().as; }

void dec_switch(Fields& f, Event& e) {
  e.cpu = f.cpu();
  auto& a = fresh<SwitchArgs>(e);
  a.as = f.u64("as");
  a.root = f.str_or("root", "");
  if (f.has("tag")) a.tag = static_cast<std::uint32_t>(f.small("tag", kMaxTlbTag));
  a.flush = f.flag("flush");
}
void enc_switch(const Event& e, Json& j) {
  const auto& a = e.get<SwitchArgs>();
  j["cpu"] = e.cpu;
  j["as"] = a.as;
  if (!a.root.empty()) j["root"] = a.root;
  if (a.tag) j["tag"] = *a.tag;
  if (a.flush) j["flush"] = true;
}

void dec_flush(Fields& f, Event& e) {
  auto& a = fresh<TlbFlushArgs>(e);
  auto sc = parse_flush_scope(f.str("scope"));
  if (!sc) f.fail("scope", "expected \"all\", \"asid\" or \"range\"");
  a.scope = *sc;
  a.broadcast = f.has("broadcast") ? f.flag("broadcast") : true;
  if (f.has("cpu")) e.cpu = f.cpu();
  if (!a.broadcast && e.cpu < 0) f.fail("cpu", "a local flush (broadcast false) needs a cpu");
  if (a.scope != FlushScope::all) a.as = f.u64("as");
  if (a.scope == FlushScope::range) {
    a.va = f.u64("va");
    a.len = f.u64("len");
  }
  a.with_global = f.flag("global");
  if (f.has("tag")) {
    if (a.scope == FlushScope::all) f.fail("tag", "a full flush drops every tag; name a tag with scope asid or range");
    a.tag = static_cast<std::uint32_t>(f.small("tag", kMaxTlbTag));
  }
}
void enc_flush(const Event& e, Json& j) {
  const auto& a = e.get<TlbFlushArgs>();
  j["scope"] = to_string(a.scope);
  if (!a.broadcast) j["broadcast"] = false;
  if (e.cpu >= 0) j["cpu"] = e.cpu;
  if (a.scope != FlushScope::all) j["as"] = a.as;
  if (a.scope == FlushScope::range) {
    j["va"] = hex(a.va);
    j["len"] = hex(a.len);
  }
  if (a.with_global) j["global"] = true;
  if (a.tag) j["tag"] = *a.tag;
}

void dec_access(Fields& f, Event& e) {
  e.cpu = f.cpu();
  auto& a = fresh<AccessArgs>(e);
  a.va = f.u64("va");
  a.kind = f.access_kind("kind", "read");
}
void enc_access(const Event& e, Json& j) {
  const auto& a = e.get<AccessArgs>();
  j["cpu"] = e.cpu;
  j["va"] = hex(a.va);
  j["kind"] = to_string(a.kind);
}

void dec_vseg_insert(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<VsegInsertArgs>(e);
  a.as = f.u64("as");
  a.start = f.u64("start");
  a.end = f.u64("end");
  if (a.end < a.start) f.fail("end", "is below start");
  a.prot = f.prot("prot");
  if (f.has("kind")) {
    auto k = parse_kind(f.str("kind"));
    if (!k) f.fail("kind", "unknown vseg kind");
    a.kind = *k;
  }
  a.shared = f.flag("shared");
  if (f.has("file")) a.file = f.file("file");
  a.offset = f.u64_or("offset", 0);
  a.name = f.str_or("name", "");
  if (f.has("flags"))
    f.each("flags", "expected an array of vseg flag names", [&](const trace::JsonValue& x) {
      auto vf = x.is_string() ? parse_vm_flag(std::string(x.str())) : std::nullopt;
      if (!vf) f.fail("flags", "unknown vseg flag " + x.dump());
      a.flags.set(*vf);
    });
  if (f.has("anon_vma")) a.anon_vma = f.flag("anon_vma");
}
Json file_json(const FileRef& r) {
  Json j{{"id", r.id}, {"path", r.path}, {"writable", r.fd_writable}};
  if (r.size) j["size"] = hex(*r.size);
  return j;
}
void enc_vseg_insert(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  const auto& a = e.get<VsegInsertArgs>();
  j["as"] = a.as;
  j["start"] = hex(a.start);
  j["end"] = hex(a.end);
  j["prot"] = a.prot.str();
  j["kind"] = to_string(a.kind);
  if (a.shared) j["shared"] = true;
  if (a.file) j["file"] = file_json(*a.file);
  if (a.offset) j["offset"] = hex(a.offset);
  if (!a.name.empty()) j["name"] = a.name;
  if (a.flags.bits) {
    auto fl = Json::array();
    for (unsigned b = 0; b < static_cast<unsigned>(VmFlag::count); ++b)
      if (a.flags.has(static_cast<VmFlag>(b))) fl.push_back(to_string(static_cast<VmFlag>(b)));
    j["flags"] = fl;
  }
  if (a.anon_vma) j["anon_vma"] = *a.anon_vma;
}

void dec_vseg_remove(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<VsegRemoveArgs>(e);
  a.as = f.u64("as");
  a.start = f.u64("start");
}
void enc_vseg_remove(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  j["as"] = e.get<VsegRemoveArgs>().as;
  j["start"] = hex(e.get<VsegRemoveArgs>().start);
}

void dec_pte_set(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<PteSetArgs>(e);
  a.as = f.u64("as");
  a.va = f.u64("va");
  a.frame = f.str("frame");
  a.prot = f.prot("prot");
  a.cow = f.flag("cow");
  a.global = f.flag("global");
  a.size = f.u64_or("size", 0);
  a.local = f.flag("local");
  a.page = f.u64_or("page", 0);
  if (a.local && e.cpu < 0) f.fail("cpu", "a CPU-local PTE (local true) names the CPU it is local to");
}
void enc_pte_set(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  const auto& a = e.get<PteSetArgs>();
  j["as"] = a.as;
  j["va"] = hex(a.va);
  j["frame"] = a.frame;
  j["prot"] = a.prot.str();
  if (a.cow) j["cow"] = true;
  if (a.global) j["global"] = true;
  if (a.size) j["size"] = hex(a.size);
  if (a.local) j["local"] = true;
  if (a.page) j["page"] = a.page;
}

void dec_lock(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<LockArgs>(e);
  a.lock = f.str("lock");
  if (a.lock.empty()) f.fail("lock", "names the lock; it must not be empty");
}
void enc_lock(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  j["lock"] = e.get<LockArgs>().lock;
}

void dec_return(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<ReturnArgs>(e);
  a.call = f.str("call");
  if (f.has("as")) {
    a.as = f.u64("as");
    a.va = f.u64("va");
    a.len = f.u64("len");
    if (a.len > UINT64_MAX - a.va) f.fail("len", "the range wraps past the top of the address space");
  }
}
void enc_return(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  const auto& a = e.get<ReturnArgs>();
  j["call"] = a.call;
  if (a.as) {
    j["as"] = *a.as;
    j["va"] = hex(a.va);
    j["len"] = hex(a.len);
  }
}

void dec_tlb_pending(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<TlbPendingArgs>(e);
  a.as = f.u64("as");
  a.pending = f.has("pending") ? f.flag("pending") : true;
}
void enc_tlb_pending(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  j["as"] = e.get<TlbPendingArgs>().as;
  j["pending"] = e.get<TlbPendingArgs>().pending;
}

void dec_table(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<TableArgs>(e);
  a.as = f.u64("as");
  a.level = static_cast<unsigned>(f.small("level", 64));
  if (a.level == 0) f.fail("level", "levels start at 1 (the table that holds page-sized leaves)");
  if (e.op != &ops::pt_root) a.va = f.u64("va");
  if (e.op != &ops::pt_unlink) a.table = f.str("table");
  if (e.op == &ops::pt_link) a.shared = f.flag("shared");
}
void enc_table(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  const auto& a = e.get<TableArgs>();
  j["as"] = a.as;
  if (e.op != &ops::pt_root) j["va"] = hex(a.va);
  j["level"] = a.level;
  if (e.op != &ops::pt_unlink) j["table"] = a.table;
  if (a.shared) j["shared"] = true;
}

void dec_pte_clear(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<PteClearArgs>(e);
  a.as = f.u64("as");
  a.va = f.u64("va");
}
void enc_pte_clear(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  j["as"] = e.get<PteClearArgs>().as;
  j["va"] = hex(e.get<PteClearArgs>().va);
}

void dec_frame(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<FrameArgs>(e);
  a.frame = f.str("frame");
  if (e.op == &ops::frame_alloc) a.size = f.u64_or("size", 0);  // other frame ops have no size
}
void enc_frame(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  j["frame"] = e.get<FrameArgs>().frame;
  if (e.get<FrameArgs>().size) j["size"] = hex(e.get<FrameArgs>().size);
}

void dec_frame_ref(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<FrameRefArgs>(e);
  a.frame = f.str("frame");
  a.holder = f.str("holder");
  if (a.holder.empty()) f.fail("holder", "names who holds the reference; it must not be empty");
}
void enc_frame_ref(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  j["frame"] = e.get<FrameRefArgs>().frame;
  j["holder"] = e.get<FrameRefArgs>().holder;
}

void dec_frame_pin(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<FramePinArgs>(e);
  a.as = f.u64("as");
  a.va = f.u64("va");
  a.frame = f.str("frame");
  a.handle = f.str("handle");
  a.write = f.flag("write");
}
void enc_frame_pin(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  const auto& a = e.get<FramePinArgs>();
  j["as"] = a.as;
  j["va"] = hex(a.va);
  j["frame"] = a.frame;
  j["handle"] = a.handle;
  if (a.write) j["write"] = true;
}

void dec_frame_unpin(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  fresh<FrameUnpinArgs>(e).handle = f.str("handle");
}
void enc_frame_unpin(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  j["handle"] = e.get<FrameUnpinArgs>().handle;
}

void dec_va_list(Fields& f, Event& e) {
  decode_step_cpu(f, e);
  auto& a = fresh<VaListArgs>(e);
  a.as = f.u64("as");
  a.addr = f.u64("addr");
  a.len = f.u64("len");
  a.list = f.small("list", 1u << 20);
  if (e.op == &ops::va_reuse) a.request_class = f.small("request_class", 1u << 20);
}
void enc_va_list(const Event& e, Json& j) {
  encode_step_cpu(e, j);
  const auto& a = e.get<VaListArgs>();
  j["as"] = a.as;
  j["addr"] = hex(a.addr);
  j["len"] = hex(a.len);
  j["list"] = a.list;
  if (e.op == &ops::va_reuse) j["request_class"] = a.request_class;
}

constexpr const char* kVslSection = "spec/vmm.md §2.6";

}  // namespace

namespace ops {
OpInfo as_create{"as_create", "core", "spec/vmm.md §2.1", &typeid(AsCreateArgs), dec_as_create, enc_as_create,
                 R"({"required":["as"],"properties":{"as":{"$ref":"#/$defs/small"},"brk":{"$ref":"#/$defs/u64"}}})"};
OpInfo as_destroy{"as_destroy", "core", "spec/vmm.md §2.2", &typeid(SpaceArgs), dec_space, enc_space,
                  R"({"required":["as"],"properties":{"as":{"$ref":"#/$defs/small"}}})", kWholeState};
OpInfo switch_as{"switch", "core", "spec/vmm.md §2.3", &typeid(SwitchArgs), dec_switch, enc_switch,
                 R"({"required":["cpu","as"],"properties":{"cpu":{"$ref":"#/$defs/small"},"as":{"$ref":"#/$defs/small"},)"
                 R"("root":{"$ref":"#/$defs/str"},"tag":{"$ref":"#/$defs/tlb_tag"},"flush":{"$ref":"#/$defs/bool"}}})",
                 kWholeState};
OpInfo access{"access", "core", "spec/vmm.md §2.4", &typeid(AccessArgs), dec_access, enc_access,
              R"({"required":["cpu","va"],"properties":{"cpu":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"},)"
              R"("kind":{"$ref":"#/$defs/access_kind"}}})",
              kReturnsFrame};
OpInfo observe{"observe", "core", "spec/vmm.md §2.5", &typeid(SpaceArgs), dec_space, enc_space,
               R"({"required":["as"],"properties":{"as":{"$ref":"#/$defs/small"}}})"};
OpInfo tlb_flush{"tlb_flush", "core", "spec/vmm.md §3.2", &typeid(TlbFlushArgs), dec_flush, enc_flush,
                 R"({"required":["scope"],"properties":{"scope":{"enum":["all","asid","range"]},"broadcast":{"$ref":"#/$defs/bool"},)"
                 R"("cpu":{"$ref":"#/$defs/small"},"as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"},)"
                 R"("len":{"$ref":"#/$defs/u64"},"global":{"$ref":"#/$defs/bool"},"tag":{"$ref":"#/$defs/tlb_tag"}}})",
                 kWholeState};
OpInfo vseg_insert{"vseg_insert", "core", kVslSection, &typeid(VsegInsertArgs), dec_vseg_insert, enc_vseg_insert,
                   R"({"required":["as","start","end","prot"],"properties":{"cpu":{"$ref":"#/$defs/small"},"as":{"$ref":"#/$defs/small"},)"
                   R"("start":{"$ref":"#/$defs/u64"},"end":{"$ref":"#/$defs/u64"},"prot":{"$ref":"#/$defs/prot"},)"
                   R"("kind":{"$ref":"#/$defs/vseg_kind"},"shared":{"$ref":"#/$defs/bool"},"file":{"$ref":"#/$defs/file"},)"
                   R"("offset":{"$ref":"#/$defs/u64"},"name":{"$ref":"#/$defs/str"},"flags":{"$ref":"#/$defs/vm_flags"},)"
                   R"("anon_vma":{"$ref":"#/$defs/bool"}}})"};
OpInfo vseg_remove{"vseg_remove", "core", kVslSection, &typeid(VsegRemoveArgs), dec_vseg_remove, enc_vseg_remove,
                   R"({"required":["as","start"],"properties":{"cpu":{"$ref":"#/$defs/small"},"as":{"$ref":"#/$defs/small"},"start":{"$ref":"#/$defs/u64"}}})"};
OpInfo pte_set{"pte_set", "core", kVslSection, &typeid(PteSetArgs), dec_pte_set, enc_pte_set,
               R"({"required":["as","va","frame","prot"],"properties":{"cpu":{"$ref":"#/$defs/small"},"as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"},)"
               R"("frame":{"$ref":"#/$defs/str"},"prot":{"$ref":"#/$defs/prot"},"cow":{"$ref":"#/$defs/bool"},)"
               R"("global":{"$ref":"#/$defs/bool"},"size":{"$ref":"#/$defs/u64"},"local":{"$ref":"#/$defs/bool"},)"
               R"("page":{"$ref":"#/$defs/u64"}}})"};
OpInfo pte_clear{"pte_clear", "core", kVslSection, &typeid(PteClearArgs), dec_pte_clear, enc_pte_clear,
                 R"({"required":["as","va"],"properties":{"cpu":{"$ref":"#/$defs/small"},"as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"}}})"};
OpInfo frame_alloc{"frame_alloc", "core", kVslSection, &typeid(FrameArgs), dec_frame, enc_frame,
                   R"({"required":["frame"],"properties":{"cpu":{"$ref":"#/$defs/small"},"frame":{"$ref":"#/$defs/str"},)"
                   R"("size":{"$ref":"#/$defs/u64"}}})"};
#define VMREF_FRAME_OP(n)                                                               \
  OpInfo n{#n, "core", kVslSection, &typeid(FrameArgs), dec_frame, enc_frame,             \
           R"({"required":["frame"],"properties":{"cpu":{"$ref":"#/$defs/small"},"frame":{"$ref":"#/$defs/str"}}})"};
VMREF_FRAME_OP(frame_get)
VMREF_FRAME_OP(frame_put)
VMREF_FRAME_OP(frame_free)
#undef VMREF_FRAME_OP
OpInfo frame_ref{"frame_ref", "core", kVslSection, &typeid(FrameRefArgs), dec_frame_ref, enc_frame_ref,
                 R"({"required":["frame","holder"],"properties":{"cpu":{"$ref":"#/$defs/small"},)"
                 R"("frame":{"$ref":"#/$defs/str"},"holder":{"$ref":"#/$defs/str"}}})"};
OpInfo frame_unref{"frame_unref", "core", kVslSection, &typeid(FrameRefArgs), dec_frame_ref, enc_frame_ref,
                   R"({"required":["frame","holder"],"properties":{"cpu":{"$ref":"#/$defs/small"},)"
                   R"("frame":{"$ref":"#/$defs/str"},"holder":{"$ref":"#/$defs/str"}}})"};
OpInfo frame_pin{"frame_pin", "core", kVslSection, &typeid(FramePinArgs), dec_frame_pin, enc_frame_pin,
                 R"({"required":["as","va","frame","handle"],"properties":{"cpu":{"$ref":"#/$defs/small"},)"
                 R"("as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"},"frame":{"$ref":"#/$defs/str"},)"
                 R"("handle":{"$ref":"#/$defs/str"},"write":{"$ref":"#/$defs/bool"}}})"};
OpInfo frame_unpin{"frame_unpin", "core", kVslSection, &typeid(FrameUnpinArgs), dec_frame_unpin, enc_frame_unpin,
                   R"({"required":["handle"],"properties":{"cpu":{"$ref":"#/$defs/small"},"handle":{"$ref":"#/$defs/str"}}})"};
OpInfo pt_root{"pt_root", "core", "spec/vmm.md §1.8", &typeid(TableArgs), dec_table, enc_table,
               R"({"required":["as","level","table"],"properties":{"cpu":{"$ref":"#/$defs/small"},)"
               R"("as":{"$ref":"#/$defs/small"},"level":{"$ref":"#/$defs/small"},"table":{"$ref":"#/$defs/str"}}})"};
OpInfo pt_link{"pt_link", "core", "spec/vmm.md §1.8", &typeid(TableArgs), dec_table, enc_table,
               R"({"required":["as","va","level","table"],"properties":{"cpu":{"$ref":"#/$defs/small"},)"
               R"("as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"},"level":{"$ref":"#/$defs/small"},)"
               R"("table":{"$ref":"#/$defs/str"},"shared":{"$ref":"#/$defs/bool"}}})"};
OpInfo pt_unlink{"pt_unlink", "core", "spec/vmm.md §1.8", &typeid(TableArgs), dec_table, enc_table,
                 R"({"required":["as","va","level"],"properties":{"cpu":{"$ref":"#/$defs/small"},)"
                 R"("as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"},"level":{"$ref":"#/$defs/small"}}})"};
OpInfo lock{"lock", "core", "spec/vmm.md §3.4", &typeid(LockArgs), dec_lock, enc_lock,
            R"({"required":["lock"],"properties":{"cpu":{"$ref":"#/$defs/small"},"lock":{"$ref":"#/$defs/str"}}})"};
OpInfo unlock{"unlock", "core", "spec/vmm.md §3.4", &typeid(LockArgs), dec_lock, enc_lock,
              R"({"required":["lock"],"properties":{"cpu":{"$ref":"#/$defs/small"},"lock":{"$ref":"#/$defs/str"}}})"};
OpInfo call_return{"call_return", "core", "spec/vmm.md §3.4", &typeid(ReturnArgs), dec_return, enc_return,
                   R"({"required":["call"],"properties":{"cpu":{"$ref":"#/$defs/small"},"call":{"$ref":"#/$defs/str"},)"
                   R"("as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"},"len":{"$ref":"#/$defs/u64"}},)"
                   R"("dependentRequired":{"as":["va","len"],"va":["as","len"],"len":["as","va"]}})"};
OpInfo tlb_pending{"tlb_pending", "core", "spec/vmm.md §3.4", &typeid(TlbPendingArgs), dec_tlb_pending, enc_tlb_pending,
                   R"({"required":["as"],"properties":{"cpu":{"$ref":"#/$defs/small"},"as":{"$ref":"#/$defs/small"},)"
                   R"("pending":{"$ref":"#/$defs/bool"}}})"};
OpInfo va_release{"va_release", "core", kVslSection, &typeid(VaListArgs), dec_va_list, enc_va_list,
                  R"({"required":["as","addr","len","list"],"properties":{"cpu":{"$ref":"#/$defs/small"},"as":{"$ref":"#/$defs/small"},)"
                  R"("addr":{"$ref":"#/$defs/u64"},"len":{"$ref":"#/$defs/u64"},"list":{"$ref":"#/$defs/small"}}})"};
OpInfo va_reuse{"va_reuse", "core", kVslSection, &typeid(VaListArgs), dec_va_list, enc_va_list,
                R"({"required":["as","addr","len","list","request_class"],"properties":{"cpu":{"$ref":"#/$defs/small"},"as":{"$ref":"#/$defs/small"},)"
                R"("addr":{"$ref":"#/$defs/u64"},"len":{"$ref":"#/$defs/u64"},"list":{"$ref":"#/$defs/small"},)"
                R"("request_class":{"$ref":"#/$defs/small"}}})"};
}  // namespace ops

// Mechanism events may name the CPU that performed the step (spec/trace-format.md §3.6).
void decode_step_cpu(Fields& f, Event& e) {
  if (f.has("cpu")) e.cpu = f.cpu();
}
void encode_step_cpu(const Event& e, Json& j) {
  if (e.cpu >= 0) j["cpu"] = e.cpu;
}

void register_core_ops() {
  for (OpInfo* op : {&ops::as_create, &ops::as_destroy, &ops::switch_as, &ops::access, &ops::observe, &ops::tlb_flush,
                     &ops::vseg_insert, &ops::vseg_remove, &ops::pte_set, &ops::pte_clear, &ops::frame_alloc,
                     &ops::frame_get, &ops::frame_put, &ops::frame_free, &ops::frame_ref, &ops::frame_unref,
                     &ops::frame_pin, &ops::frame_unpin, &ops::pt_root, &ops::pt_link, &ops::pt_unlink,
                     &ops::lock, &ops::unlock, &ops::call_return, &ops::tlb_pending, &ops::va_release, &ops::va_reuse})
    add_op(*op);
}

}  // namespace vmref::vocab
