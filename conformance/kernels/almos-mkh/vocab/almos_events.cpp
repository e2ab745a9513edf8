// Decoders, encoders, schemas and variants of the almos-mkh kernel
// (spec/kernels/almos-mkh.md).
#include "almos_events.hpp"

#include <array>

#include "vmref/trace/fields.hpp"
#include "vmref/vocab/param_reader.hpp"

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

/// What a trace header may set (spec/kernels/almos-mkh.md "Parameters"): the user zones
/// of a configuration (kernel_config.h), in pages as ALMOS-MKH gives them.
const std::vector<vocab::ParamSpec>& settable() {
  static const std::vector<vocab::ParamSpec> s{
      {"elf_base", "pages (VPN)", "1 to 2^35; zone inside the user space", "CONFIG_USER_ELF_BASE"},
      {"elf_pages", "pages", "1 to 2^35", "CONFIG_USER_ELF_SIZE"},
      {"mmap_base", "pages (VPN)", "1 to 2^35; zone inside the user space", "CONFIG_USER_MMAP_BASE"},
      {"mmap_pages", "pages", "1 to 2^35", "CONFIG_USER_MMAP_SIZE"},
      {"stack_base", "pages (VPN)", "1 to 2^35; zone inside the user space", "CONFIG_VMM_STACK_BASE"},
      {"stack_slot_pages", "pages", "2 to 2^20", "CONFIG_VMM_STACK_SIZE"},
      {"stack_slots", "slots", "1 to 4096", "CONFIG_THREADS_MAX_PER_CLUSTER"},
  };
  return s;
}

std::shared_ptr<const vocab::KernelParams> with_params(const vocab::KernelParams& defaults, const nlohmann::json& values,
                                                       const vocab::ParamContext& ctx) {
  vocab::ParamReader in(values, ctx, settable(), kKernel);
  auto p = std::make_shared<AlmosParams>(static_cast<const AlmosParams&>(defaults));
  unsigned shift = 0;
  while ((std::uint64_t{1} << shift) < ctx.page_size) ++shift;
  const std::uint64_t top = shift >= 47 ? 1 : (std::uint64_t{1} << (47 - shift));  // user space: 2^47 bytes, in pages
  p->elf_base = in.u64("elf_base", p->elf_base, 1, top);
  p->elf_pages = in.u64("elf_pages", p->elf_pages, 1, top);
  p->mmap_base = in.u64("mmap_base", p->mmap_base, 1, top);
  p->mmap_pages = in.u64("mmap_pages", p->mmap_pages, 1, top);
  p->stack_base = in.u64("stack_base", p->stack_base, 1, top);
  p->stack_slot_pages = in.u64("stack_slot_pages", p->stack_slot_pages, 2, std::uint64_t{1} << 20);
  p->stack_slots = in.u64("stack_slots", p->stack_slots, 1, 4096);
  struct Zone {
    const char* name;   // the parameter a bad zone is blamed on: its base
    const char* size;
    std::uint64_t lo, pages;
  };
  const Zone zones[] = {{"elf_base", "elf_pages", p->elf_base, p->elf_pages},
                        {"mmap_base", "mmap_pages", p->mmap_base, p->mmap_pages},
                        {"stack_base", "stack_slots", p->stack_base, p->stack_slot_pages * p->stack_slots}};
  auto blame = [&](const Zone& z) { return in.has(z.name) || !in.has(z.size) ? z.name : z.size; };
  for (const Zone& z : zones)
    if (z.pages > top - z.lo)
      in.fail(blame(z), std::string("the zone at page ") + hex(z.lo) + " of " + hex(z.pages) +
                            " pages ends above the user space (page " + hex(top) + ")");
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = i + 1; j < 3; ++j) {
      const Zone &a = zones[i], &b = zones[j];
      if (a.lo < b.lo + b.pages && b.lo < a.lo + a.pages)
        in.fail(in.has(b.name) || in.has(b.size) ? blame(b) : blame(a),
                std::string("the ") + a.name + " zone [" + hex(a.lo) + ", " + hex(a.lo + a.pages) + ") overlaps the " +
                    b.name + " zone [" + hex(b.lo) + ", " + hex(b.lo + b.pages) + ")");
    }
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
                     params_of, 0, settable(), with_params});
  for (OpInfo* op : {&ops::process, &ops::vseg, &ops::munmap, &ops::access, &ops::fork, &ops::exec, &ops::exit})
    vocab::add_op(*op);
}

}  // namespace vmref::almos
