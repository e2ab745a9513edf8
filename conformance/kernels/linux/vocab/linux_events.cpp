// Decoders, encoders, schemas and variants of the linux kernel (spec/kernels/linux.md).
#include "linux_events.hpp"

#include <array>

#include "vmref/trace/fields.hpp"

namespace vmref::linux_mm {

using trace::Fields;
using trace::hex;
using vocab::Event;
using vocab::OpInfo;
using vocab::VmFlag;
using Json = nlohmann::ordered_json;

namespace {
constexpr std::array<const char*, 14> kAdvice{
    "normal", "random", "sequential", "willneed", "dontneed", "free", "dontfork", "dofork",
    "hugepage", "nohugepage", "dontdump", "dodump", "wipeonfork", "keeponfork"};

template <class A> A& fresh(Event& e) {
  auto a = std::make_shared<A>();
  A& ref = *a;
  e.args = std::move(a);
  return ref;
}

void range(Fields& f, RangeArgs& a) {
  a.as = f.u64("as");
  a.addr = f.u64("addr");
  a.len = f.u64("len");
}
void range_json(const RangeArgs& a, Json& j) {
  j["as"] = a.as;
  j["addr"] = hex(a.addr);
  j["len"] = hex(a.len);
}

void dec_exec(Fields& f, Event& e) {
  auto& a = fresh<ExecArgs>(e);
  a.as = f.u64("as");
  a.brk = f.u64_or("brk", 0);
}
void enc_exec(const Event& e, Json& j) {
  const auto& a = e.get<ExecArgs>();
  j["as"] = a.as;
  if (a.brk) j["brk"] = hex(a.brk);
}

void mmap_flags(Fields& f, MmapArgs& a) {
  if (!f.has("flags")) return;
  a.anonymous = false;
  bool priv = false;
  f.each("flags", "expected an array of strings", [&](const trace::JsonValue& x) {
    if (!x.is_string()) f.fail("flags", "expected strings");
    std::string_view s = x.str();
    if (s == "shared") a.shared = true;
    else if (s == "private") priv = true;
    else if (s == "anonymous") a.anonymous = true;
    else if (s == "fixed") a.placement = Placement::fixed;
    else if (s == "fixed_noreplace") a.placement = Placement::fixed_noreplace;
    else if (s == "populate") a.populate = true;
    else if (s == "locked") a.flags.set(VmFlag::locked);
    else if (s == "growsdown") a.flags.set(VmFlag::growsdown);
    else if (s == "noreserve") a.flags.set(VmFlag::noreserve);
    else if (s == "global") a.flags.set(VmFlag::global);
    else if (s == "stack") a.map_stack = true;
    else if (s == "denywrite" || s == "executable") {}  // ignored by Linux since 5.x
    else f.fail("flags", "unknown mmap flag \"" + std::string(s) + "\"");
  });
  if (a.shared == priv) f.fail("flags", "exactly one of \"shared\" and \"private\" is required");
}

void dec_mmap(Fields& f, Event& e) {
  auto& a = fresh<MmapArgs>(e);
  a.as = f.u64("as");
  a.addr = f.u64_or("addr", 0);
  a.len = f.u64("len");
  a.prot = f.prot("prot");
  mmap_flags(f, a);
  if (f.has("file")) a.file = f.file("file");
  a.offset = f.u64_or("offset", 0);
  if (!a.anonymous && !a.file) f.fail("file", "a mapping without \"anonymous\" needs a file");
  if (a.anonymous && a.file) f.fail("file", "an anonymous mapping has no file");
  // The recording kernel's placement guides hint mmaps (spec/trace-format.md §3.2).
  if (a.placement == Placement::hint) a.chosen = f.recorded_ret();
}
void enc_mmap(const Event& e, Json& j) {
  const auto& a = e.get<MmapArgs>();
  j["as"] = a.as;
  if (a.addr) j["addr"] = hex(a.addr);
  j["len"] = hex(a.len);
  j["prot"] = a.prot.str();
  auto fl = Json::array({a.shared ? "shared" : "private"});
  if (a.anonymous) fl.push_back("anonymous");
  if (a.placement == Placement::fixed) fl.push_back("fixed");
  if (a.placement == Placement::fixed_noreplace) fl.push_back("fixed_noreplace");
  if (a.populate) fl.push_back("populate");
  for (VmFlag vf : {VmFlag::locked, VmFlag::growsdown, VmFlag::noreserve, VmFlag::global})
    if (a.flags.has(vf)) fl.push_back(vocab::to_string(vf));
  if (a.map_stack) fl.push_back("stack");
  j["flags"] = fl;
  if (a.file) {
    Json fj{{"id", a.file->id}, {"path", a.file->path}, {"writable", a.file->fd_writable}};
    if (a.file->size) fj["size"] = hex(*a.file->size);
    j["file"] = fj;
  }
  if (a.offset) j["offset"] = hex(a.offset);
}

void dec_munmap(Fields& f, Event& e) {
  auto& a = fresh<MunmapArgs>(e);
  range(f, a);
  auto m = vocab::parse_tlb_mode(f.str_or("tlb", "sync"));
  if (!m) f.fail("tlb", "expected \"sync\", \"deferred\" or \"none\"");
  a.tlb = *m;
}
void enc_munmap(const Event& e, Json& j) {
  const auto& a = e.get<MunmapArgs>();
  range_json(a, j);
  if (a.tlb != vocab::TlbMode::sync) j["tlb"] = vocab::to_string(a.tlb);
}

void dec_mprotect(Fields& f, Event& e) {
  auto& a = fresh<MprotectArgs>(e);
  range(f, a);
  a.prot = f.prot("prot");
}
void enc_mprotect(const Event& e, Json& j) {
  range_json(e.get<MprotectArgs>(), j);
  j["prot"] = e.get<MprotectArgs>().prot.str();
}

void dec_brk(Fields& f, Event& e) {
  auto& a = fresh<BrkArgs>(e);
  a.as = f.u64("as");
  a.addr = f.u64("addr");
}
void enc_brk(const Event& e, Json& j) {
  j["as"] = e.get<BrkArgs>().as;
  j["addr"] = hex(e.get<BrkArgs>().addr);
}

void dec_fork(Fields& f, Event& e) {
  auto& a = fresh<ForkArgs>(e);
  a.as = f.u64("as");
  a.child = f.u64("child");
}
void enc_fork(const Event& e, Json& j) {
  j["as"] = e.get<ForkArgs>().as;
  j["child"] = e.get<ForkArgs>().child;
}

void dec_pin(Fields& f, Event& e) {
  auto& a = fresh<PinArgs>(e);
  a.as = f.u64("as");
  a.va = f.u64("va");
  a.handle = f.str("handle");
  a.kind = f.access_kind("kind", "read");
}
void enc_pin(const Event& e, Json& j) {
  const auto& a = e.get<PinArgs>();
  j["as"] = a.as;
  j["va"] = hex(a.va);
  j["handle"] = a.handle;
  j["kind"] = vocab::to_string(a.kind);
}

void dec_unpin(Fields& f, Event& e) { fresh<UnpinArgs>(e).handle = f.str("handle"); }
void enc_unpin(const Event& e, Json& j) { j["handle"] = e.get<UnpinArgs>().handle; }

void dec_stack(Fields& f, Event& e) {
  auto& a = fresh<StackExpandArgs>(e);
  a.as = f.u64("as");
  a.va = f.u64("va");
}
void enc_stack(const Event& e, Json& j) {
  j["as"] = e.get<StackExpandArgs>().as;
  j["va"] = hex(e.get<StackExpandArgs>().va);
}

void dec_mremap(Fields& f, Event& e) {
  auto& a = fresh<MremapArgs>(e);
  range(f, a);
  a.new_len = f.u64("new_len");
  if (f.has("flags"))
    f.each("flags", "expected an array of strings", [&](const trace::JsonValue& x) {
      std::string_view s = x.is_string() ? x.str() : "";
      if (s == "maymove") a.maymove = true;
      else if (s == "fixed") a.fixed = true;
      else if (s == "dontunmap") a.dontunmap = true;
      else f.fail("flags", "unknown mremap flag " + x.dump());
    });
  if (a.fixed) a.new_addr = f.u64("new_addr");
  else a.chosen = f.recorded_ret();
}
void enc_mremap(const Event& e, Json& j) {
  const auto& a = e.get<MremapArgs>();
  range_json(a, j);
  j["new_len"] = hex(a.new_len);
  auto fl = Json::array();
  if (a.maymove) fl.push_back("maymove");
  if (a.fixed) fl.push_back("fixed");
  if (a.dontunmap) fl.push_back("dontunmap");
  if (!fl.empty()) j["flags"] = fl;
  if (a.fixed) j["new_addr"] = hex(a.new_addr);
}

void dec_madvise(Fields& f, Event& e) {
  auto& a = fresh<MadviseArgs>(e);
  range(f, a);
  auto adv = parse_advice(f.str("advice"));
  if (!adv) f.fail("advice", "unknown advice (normal, random, sequential, willneed, dontneed, free, dontfork, "
                             "dofork, hugepage, nohugepage, dontdump, dodump, wipeonfork, keeponfork)");
  a.advice = *adv;
}
void enc_madvise(const Event& e, Json& j) {
  range_json(e.get<MadviseArgs>(), j);
  j["advice"] = to_string(e.get<MadviseArgs>().advice);
}

void dec_range(Fields& f, Event& e) { range(f, fresh<RangeArgs>(e)); }
void enc_range(const Event& e, Json& j) { range_json(e.get<RangeArgs>(), j); }

#define VMREF_RANGE_PROPS R"("as":{"$ref":"#/$defs/small"},"addr":{"$ref":"#/$defs/u64"},"len":{"$ref":"#/$defs/u64"})"
constexpr const char* kSpec = "spec/kernels/linux.md";

/// Variants (spec/kernels/linux.md §3): each broken one clears one rule of §1.
std::shared_ptr<const vocab::KernelParams> params_of(const std::string& variant) {
  auto p = std::make_shared<LinuxParams>();
  if (variant == "no-zero-page") p->zero_page_on_read = false;
  else if (variant == "no-merge") p->merge_vsegs = false;
  else if (variant == "no-cow-reuse") p->cow_reuse_exclusive = false;
  else if (variant == "no-fault-around") p->fault_around_pages = 0;
  else if (variant == "frees-before-flush") p->frees_before_flush = true;
  else if (variant == "forgets-cow-count") p->forgets_cow_count = true;
  else if (variant == "mprotect-skips-flush") p->mprotect_skips_flush = true;
  else if (variant == "mprotect-keeps-write") p->mprotect_keeps_write = true;
  else if (variant == "thp") p->thp = true;
  return p;
}
}  // namespace

const char* to_string(Advice a) { return kAdvice[static_cast<std::size_t>(a)]; }
std::optional<Advice> parse_advice(const std::string& s) {
  for (std::size_t i = 0; i < kAdvice.size(); ++i)
    if (s == kAdvice[i]) return static_cast<Advice>(i);
  return std::nullopt;
}

namespace ops {
OpInfo exec_reset{"exec_reset", kKernel, "spec/kernels/linux.md §2.1", &typeid(ExecArgs), dec_exec, enc_exec,
                  R"({"required":["as"],"properties":{"as":{"$ref":"#/$defs/small"},"brk":{"$ref":"#/$defs/u64"}}})",
                  vocab::kWholeState};
OpInfo mmap{"mmap", kKernel, "spec/kernels/linux.md §2.2", &typeid(MmapArgs), dec_mmap, enc_mmap,
            R"({"required":["as","len","prot"],"properties":{)" VMREF_RANGE_PROPS R"(,"prot":{"$ref":"#/$defs/prot"},)"
            R"("file":{"$ref":"#/$defs/file"},"offset":{"$ref":"#/$defs/u64"},"flags":{"type":"array","items":{"enum":)"
            R"(["shared","private","anonymous","fixed","fixed_noreplace","populate","locked","growsdown","noreserve",)"
            R"("global","stack","denywrite","executable"]}}}})",
            vocab::kReturnsValue};
OpInfo munmap{"munmap", kKernel, "spec/kernels/linux.md §2.3", &typeid(MunmapArgs), dec_munmap, enc_munmap,
              R"({"required":["as","addr","len"],"properties":{)" VMREF_RANGE_PROPS
              R"(,"tlb":{"enum":["sync","deferred","none"]}}})"};
OpInfo mprotect{"mprotect", kKernel, "spec/kernels/linux.md §2.4", &typeid(MprotectArgs), dec_mprotect, enc_mprotect,
                R"({"required":["as","addr","len","prot"],"properties":{)" VMREF_RANGE_PROPS
                R"(,"prot":{"$ref":"#/$defs/prot"}}})"};
OpInfo brk{"brk", kKernel, "spec/kernels/linux.md §2.5", &typeid(BrkArgs), dec_brk, enc_brk,
           R"({"required":["as","addr"],"properties":{"as":{"$ref":"#/$defs/small"},"addr":{"$ref":"#/$defs/u64"}}})",
           vocab::kReturnsValue};
OpInfo fork{"fork", kKernel, "spec/kernels/linux.md §2.6", &typeid(ForkArgs), dec_fork, enc_fork,
            R"({"required":["as","child"],"properties":{"as":{"$ref":"#/$defs/small"},"child":{"$ref":"#/$defs/small"}}})",
            vocab::kWholeState};
OpInfo pin{"pin", kKernel, "spec/kernels/linux.md §2.8", &typeid(PinArgs), dec_pin, enc_pin,
           R"({"required":["as","va","handle"],"properties":{"as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"},)"
           R"("handle":{"$ref":"#/$defs/str"},"kind":{"$ref":"#/$defs/access_kind"}}})",
           vocab::kReturnsFrame};
OpInfo unpin{"unpin", kKernel, "spec/kernels/linux.md §2.9", &typeid(UnpinArgs), dec_unpin, enc_unpin,
             R"({"required":["handle"],"properties":{"handle":{"$ref":"#/$defs/str"}}})"};
OpInfo stack_expand{"stack_expand", kKernel, "spec/kernels/linux.md §2.10", &typeid(StackExpandArgs), dec_stack, enc_stack,
                    R"({"required":["as","va"],"properties":{"as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"}}})"};
OpInfo madvise{"madvise", kKernel, "spec/kernels/linux.md §2.11", &typeid(MadviseArgs), dec_madvise, enc_madvise,
               R"({"required":["as","addr","len","advice"],"properties":{)" VMREF_RANGE_PROPS
               R"(,"advice":{"enum":["normal","random","sequential","willneed","dontneed","free","dontfork","dofork",)"
               R"("hugepage","nohugepage","dontdump","dodump","wipeonfork","keeponfork"]}}})"};
OpInfo mlock{"mlock", kKernel, "spec/kernels/linux.md §2.12", &typeid(RangeArgs), dec_range, enc_range,
             R"({"required":["as","addr","len"],"properties":{)" VMREF_RANGE_PROPS "}}"};
OpInfo munlock{"munlock", kKernel, "spec/kernels/linux.md §2.12", &typeid(RangeArgs), dec_range, enc_range,
               R"({"required":["as","addr","len"],"properties":{)" VMREF_RANGE_PROPS "}}"};
OpInfo mremap{"mremap", kKernel, "spec/kernels/linux.md §2.13", &typeid(MremapArgs), dec_mremap, enc_mremap,
              R"({"required":["as","addr","len","new_len"],"properties":{)" VMREF_RANGE_PROPS
              R"(,"new_len":{"$ref":"#/$defs/u64"},"new_addr":{"$ref":"#/$defs/u64"},)"
              R"("flags":{"type":"array","items":{"enum":["maymove","fixed","dontunmap"]}}}})"};
}  // namespace ops

void register_vocab() {
  vocab::add_kernel({kKernel, "", "Linux 6.x process address spaces: mmap, fork, COW, demand paging", kSpec,
                     {{"default", "Linux as specified in spec/kernels/linux.md §1", false},
                      {"no-zero-page", "read faults on anonymous memory allocate a frame (breaks §1.3)", true},
                      {"no-merge", "adjacent compatible vsegs never merge (breaks §1.2)", true},
                      {"no-cow-reuse", "a COW write always copies (breaks §1.4)", true},
                      {"no-fault-around", "read faults map only the faulting page (breaks §1.9)", true},
                      {"thp", "transparent huge pages always on: 2 MiB anonymous leaves, split on partial change (§1.13)", false},
                      {"frees-before-flush", "an unmap frees its frames before any TLB flush (breaks INV-TLB-1)", true},
                      {"forgets-cow-count", "fork maps a private page COW in the child without its reference (breaks INV-FRAME-1)", true},
                      {"mprotect-skips-flush", "mprotect withdraws a right without the TLB shootdown (breaks INV-TLB-3)", true},
                      {"mprotect-keeps-write", "mprotect to read-only leaves present PTEs writable (breaks INV-GPT-2)", true}},
                     params_of});
  for (OpInfo* op : {&ops::mmap, &ops::munmap, &ops::mprotect, &ops::brk, &ops::fork, &ops::exec_reset, &ops::pin,
                     &ops::unpin, &ops::stack_expand, &ops::mremap, &ops::madvise, &ops::mlock, &ops::munlock})
    vocab::add_op(*op);
}

}  // namespace vmref::linux_mm
