// Decoders, encoders, schemas and variants of the almos-mkh kernel
// (spec/kernels/almos-mkh.md).
#include "almos_events.hpp"

#include <array>

#include "vmref/trace/fields.hpp"

namespace vmref::almos {

using trace::Fields;
using trace::hex;
using vocab::Event;
using vocab::OpInfo;
using Json = nlohmann::ordered_json;

namespace {
constexpr std::array<const char*, 6> kTypes{"code", "data", "stack", "anon", "file", "remote"};

unsigned cluster(Fields& f) { return static_cast<unsigned>(f.small("cluster", 4095)); }

void dec_process(Fields& f, Event& e) {
  auto a = std::make_shared<ProcessArgs>();
  a->pid = f.u64("pid");
  a->cluster = cluster(f);
  e.args = a;
}
void enc_process(const Event& e, Json& j) {
  j["pid"] = e.get<ProcessArgs>().pid;
  j["cluster"] = e.get<ProcessArgs>().cluster;
}

void dec_vseg(Fields& f, Event& e) {
  auto a = std::make_shared<VsegArgs>();
  a->pid = f.u64("pid");
  std::string type = f.str("type");
  auto t = parse_vseg_type(type);
  if (!t) f.fail("type", "unknown vseg type '" + type + "' (code, data, stack, anon, file, remote)");
  a->type = *t;
  a->len = f.u64_or("len", 0);
  a->addr = f.u64_or("addr", 0);
  a->ltid = f.has("ltid") ? f.small("ltid", 1u << 20) : 0;
  e.args = a;
}
void enc_vseg(const Event& e, Json& j) {
  const auto& a = e.get<VsegArgs>();
  j["pid"] = a.pid;
  j["type"] = to_string(a.type);
  if (a.len) j["len"] = hex(a.len);
  if (a.addr) j["addr"] = hex(a.addr);
  if (a.type == VsegType::stack) j["ltid"] = a.ltid;
}

void dec_munmap(Fields& f, Event& e) {
  auto a = std::make_shared<MunmapArgs>();
  a->pid = f.u64("pid");
  a->addr = f.u64("addr");
  a->len = f.u64("len");
  e.args = a;
}
void enc_munmap(const Event& e, Json& j) {
  const auto& a = e.get<MunmapArgs>();
  j["pid"] = a.pid;
  j["addr"] = hex(a.addr);
  j["len"] = hex(a.len);
}

void dec_access(Fields& f, Event& e) {
  auto a = std::make_shared<AccessArgs>();
  a->pid = f.u64("pid");
  a->cluster = cluster(f);
  a->va = f.u64("va");
  a->kind = f.access_kind("kind", "read");
  e.args = a;
}
void enc_access(const Event& e, Json& j) {
  const auto& a = e.get<AccessArgs>();
  j["pid"] = a.pid;
  j["cluster"] = a.cluster;
  j["va"] = hex(a.va);
  j["kind"] = vocab::to_string(a.kind);
}

void dec_fork(Fields& f, Event& e) {
  auto a = std::make_shared<ForkArgs>();
  a->pid = f.u64("pid");
  a->child = f.u64("child");
  a->cluster = cluster(f);
  e.args = a;
}
void enc_fork(const Event& e, Json& j) {
  const auto& a = e.get<ForkArgs>();
  j["pid"] = a.pid;
  j["child"] = a.child;
  j["cluster"] = a.cluster;
}

void dec_pid(Fields& f, Event& e) {
  auto a = std::make_shared<PidArgs>();
  a->pid = f.u64("pid");
  e.args = a;
}
void enc_pid(const Event& e, Json& j) { j["pid"] = e.get<PidArgs>().pid; }

/// Variants (spec/kernels/almos-mkh.md §8): `fixed` is our reading of vmm.h; each other
/// variant breaks one rule.
std::shared_ptr<const vocab::KernelParams> params_of(const std::string& v) {
  auto p = std::make_shared<AlmosParams>();
  if (v == "no-guard") p->stack_guard = false;
  else if (v == "zombie-any-order") p->zombie_exact_order = false;
  else if (v == "stale-copy") p->propagate_updates = false;
  else if (v == "false-fault-allocates") p->false_fault_copies = false;
  else if (v == "cow-ignores-forks") p->cow_checks_forks = false;
  else if (v == "no-forks-dec") p->copy_decrements_forks = false;
  else if (v == "reset-keeps-zombies") p->reset_clears_zombies = false;
  return p;
}

#define VMREF_PID R"("pid":{"$ref":"#/$defs/small"})"
#define VMREF_CLUSTER R"("cluster":{"$ref":"#/$defs/small"})"
}  // namespace

const char* to_string(VsegType t) { return kTypes[static_cast<std::size_t>(t)]; }
std::optional<VsegType> parse_vseg_type(const std::string& s) {
  for (std::size_t i = 0; i < kTypes.size(); ++i)
    if (s == kTypes[i]) return static_cast<VsegType>(i);
  return std::nullopt;
}

namespace ops {
OpInfo process{"almos_process", kKernel, "spec/kernels/almos-mkh.md §1", &typeid(ProcessArgs), dec_process, enc_process,
               R"({"required":["pid","cluster"],"properties":{)" VMREF_PID "," VMREF_CLUSTER "}}"};
OpInfo vseg{"almos_vseg", kKernel, "spec/kernels/almos-mkh.md §3", &typeid(VsegArgs), dec_vseg, enc_vseg,
            R"({"required":["pid","type"],"properties":{)" VMREF_PID
            R"(,"type":{"enum":["code","data","stack","anon","file","remote"]},"len":{"$ref":"#/$defs/u64"},)"
            R"("addr":{"$ref":"#/$defs/u64"},"ltid":{"$ref":"#/$defs/small"}}})",
            vocab::kReturnsValue};
OpInfo munmap{"almos_munmap", kKernel, "spec/kernels/almos-mkh.md §4", &typeid(MunmapArgs), dec_munmap, enc_munmap,
              R"({"required":["pid","addr","len"],"properties":{)" VMREF_PID
              R"(,"addr":{"$ref":"#/$defs/u64"},"len":{"$ref":"#/$defs/u64"}}})"};
OpInfo access{"almos_access", kKernel, "spec/kernels/almos-mkh.md §5", &typeid(AccessArgs), dec_access, enc_access,
              R"({"required":["pid","cluster","va"],"properties":{)" VMREF_PID "," VMREF_CLUSTER
              R"(,"va":{"$ref":"#/$defs/u64"},"kind":{"$ref":"#/$defs/access_kind"}}})"};
OpInfo fork{"almos_fork", kKernel, "spec/kernels/almos-mkh.md §6", &typeid(ForkArgs), dec_fork, enc_fork,
            R"({"required":["pid","child","cluster"],"properties":{)" VMREF_PID
            R"(,"child":{"$ref":"#/$defs/small"},)" VMREF_CLUSTER "}}",
            vocab::kWholeState};
OpInfo exec{"almos_exec", kKernel, "spec/kernels/almos-mkh.md §7", &typeid(PidArgs), dec_pid, enc_pid,
            R"({"required":["pid"],"properties":{)" VMREF_PID "}}", vocab::kWholeState};
OpInfo exit{"almos_exit", kKernel, "spec/kernels/almos-mkh.md §7", &typeid(PidArgs), dec_pid, enc_pid,
            R"({"required":["pid"],"properties":{)" VMREF_PID "}}", vocab::kWholeState};
}  // namespace ops

void register_vocab() {
  vocab::add_kernel({kKernel, "", "ALMOS-MKH's per-process VMM: replicated VSL/GPT, STACK and MMAP allocators, fork COW",
                     "spec/kernels/almos-mkh.md",
                     {{"fixed", "our reading of vmm.h (§1-§7)", false},
                      {"no-guard", "a stack slot's first page may be mapped", true},
                      {"zombie-any-order", "a zombie block of another order is reused", true},
                      {"stale-copy", "updates reach the reference GPT only", true},
                      {"false-fault-allocates", "a false page fault allocates a page", true},
                      {"cow-ignores-forks", "a COW write reuses the page while forks > 0", true},
                      {"no-forks-dec", "the copy path leaves the old page's forks count", true},
                      {"reset-keeps-zombies", "vmm_user_reset keeps the zombie lists", true}},
                     params_of});
  for (OpInfo* op : {&ops::process, &ops::vseg, &ops::munmap, &ops::access, &ops::fork, &ops::exec, &ops::exit})
    vocab::add_op(*op);
}

}  // namespace vmref::almos
