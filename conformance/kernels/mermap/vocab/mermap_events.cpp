// Decoders, encoders, schemas and variants of the mermap kernel (spec/kernels/mermap.md).
#include "mermap_events.hpp"

#include "vmref/trace/fields.hpp"
#include "vmref/vocab/param_reader.hpp"

namespace vmref::mermap {

using trace::Fields;
using trace::hex;
using vocab::Event;
using vocab::OpInfo;
using Json = nlohmann::ordered_json;

namespace {
void dec_prepare(Fields& f, Event& e) {
  auto a = std::make_shared<PrepareArgs>();
  a->as = f.u64("as");
  e.args = a;
}
void enc_prepare(const Event& e, Json& j) { j["as"] = e.get<PrepareArgs>().as; }

void dec_get(Fields& f, Event& e) {
  auto a = std::make_shared<GetArgs>();
  a->as = f.u64("as");
  e.cpu = f.cpu();
  a->len = f.u64("len");
  a->handle = f.str("handle");
  if (f.has("prot")) a->prot = f.prot("prot");
  a->reserve = f.flag("reserve");
  if (f.has("fail_after")) a->fail_after = f.u64("fail_after");
  a->recorded = f.recorded_ret();
  e.args = a;
}
void enc_get(const Event& e, Json& j) {
  const auto& a = e.get<GetArgs>();
  j["as"] = a.as;
  j["cpu"] = e.cpu;
  j["len"] = hex(a.len);
  j["handle"] = a.handle;
  if (!(a.prot == Prot{true, true, false})) j["prot"] = a.prot.str();
  if (a.reserve) j["reserve"] = true;
  if (a.fail_after) j["fail_after"] = hex(*a.fail_after);
}

void dec_put(Fields& f, Event& e) {
  auto a = std::make_shared<PutArgs>();
  a->as = f.u64("as");
  e.cpu = f.cpu();
  a->handle = f.str("handle");
  e.args = a;
}
void enc_put(const Event& e, Json& j) {
  j["as"] = e.get<PutArgs>().as;
  j["cpu"] = e.cpu;
  j["handle"] = e.get<PutArgs>().handle;
}

void dec_teardown(Fields& f, Event& e) {
  auto a = std::make_shared<TeardownArgs>();
  a->as = f.u64("as");
  e.cpu = f.cpu();
  e.args = a;
}
void enc_teardown(const Event& e, Json& j) {
  j["as"] = e.get<TeardownArgs>().as;
  j["cpu"] = e.cpu;
}

void dec_alloc_step(Fields& f, Event& e) {
  auto a = std::make_shared<AllocStepArgs>();
  a->as = f.u64("as");
  e.cpu = f.cpu();
  a->handle = f.str("handle");
  a->base = f.u64("base");
  a->len = f.u64("len");
  if (a->base + a->len < a->base) f.fail("len", "base + len overflows");
  a->reserve = f.flag("reserve");
  e.args = a;
}
void enc_alloc_step(const Event& e, Json& j) {
  const auto& a = e.get<AllocStepArgs>();
  j["as"] = a.as;
  j["cpu"] = e.cpu;
  j["handle"] = a.handle;
  j["base"] = hex(a.base);
  j["len"] = hex(a.len);
  if (a.reserve) j["reserve"] = true;
}
void dec_reset_step(Fields& f, Event& e) {
  auto a = std::make_shared<ResetStepArgs>();
  a->as = f.u64("as");
  e.cpu = f.cpu();
  a->next = f.u64("next");
  e.args = a;
}
void enc_reset_step(const Event& e, Json& j) {
  j["as"] = e.get<ResetStepArgs>().as;
  j["cpu"] = e.cpu;
  j["next"] = hex(e.get<ResetStepArgs>().next);
}
void dec_migrate_step(Fields& f, Event& e) {
  auto a = std::make_shared<MigrateStepArgs>();
  a->as = f.u64("as");
  vocab::decode_step_cpu(f, e);
  a->disable = f.has("disable") ? f.flag("disable") : true;
  e.args = a;
}
void enc_migrate_step(const Event& e, Json& j) {
  j["as"] = e.get<MigrateStepArgs>().as;
  vocab::encode_step_cpu(e, j);
  if (!e.get<MigrateStepArgs>().disable) j["disable"] = false;
}

/// Variants (spec/kernels/mermap.md §5): `fixed` and `rfc` are the two allocators; the
/// others break one safety rule of `fixed`.
std::shared_ptr<const vocab::KernelParams> params_of(const std::string& variant) {
  auto p = std::make_shared<MermapParams>();
  if (variant == "rfc") p->reserve_slot_fix = p->error_path_fix = p->teardown_fix = p->bound_fix = false;
  else if (variant == "no-reserve-page") p->keep_last_page = false;
  else if (variant == "no-flush") p->flush_on_reset = false;
  else if (variant == "overlap") p->reset_after_live = false;
  return p;
}

/// What a trace header may set (spec/kernels/mermap.md "Parameters"): where the per-CPU
/// regions lie, their size and the tracking slots per CPU.
const std::vector<vocab::ParamSpec>& settable() {
  static const std::vector<vocab::ParamSpec> s{
      {"base", "bytes", "page-aligned, 0xffff800000000000 to 0xfffffff000000000", "MERMAP_BASE_ADDR"},
      {"region_pages", "pages", "2 to 4096", "MERMAP_CPU_REGION_SIZE"},
      {"slots", "slots", "2 to 64", "tracking slots per CPU (mermap_cpu.allocs)"},
  };
  return s;
}

std::shared_ptr<const vocab::KernelParams> with_params(const vocab::KernelParams& defaults, const nlohmann::json& values,
                                                       const vocab::ParamContext& ctx) {
  vocab::ParamReader in(values, ctx, settable(), kKernel);
  auto p = std::make_shared<MermapParams>(static_cast<const MermapParams&>(defaults));
  // In the kernel half of a 48-bit space, with room below 2^64 for 4096 CPUs' regions of
  // at most 16 MiB each (2^36 bytes): base + cpus * region never wraps.
  p->base = in.u64("base", p->base, 0xffff800000000000ull, 0xfffffff000000000ull);
  if (p->base % ctx.page_size) in.fail("base", hex(p->base) + " is not aligned to the page size " + hex(ctx.page_size));
  p->region_pages = in.u64("region_pages", p->region_pages, 2, 4096);
  if (p->region_pages * ctx.page_size > (std::uint64_t{1} << 24))
    in.fail("region_pages", "a CPU's region of " + std::to_string(p->region_pages) + " pages exceeds 16 MiB");
  p->slots = static_cast<unsigned>(in.u64("slots", p->slots, 2, 64));
  return p;
}
}  // namespace

namespace ops {
OpInfo prepare{"mermap_prepare", kKernel, "spec/kernels/mermap.md §1", &typeid(PrepareArgs), dec_prepare, enc_prepare,
               R"({"required":["as"],"properties":{"as":{"$ref":"#/$defs/small"}}})"};
OpInfo get{"mermap_get", kKernel, "spec/kernels/mermap.md §2", &typeid(GetArgs), dec_get, enc_get,
           R"({"required":["as","cpu","len","handle"],"properties":{"as":{"$ref":"#/$defs/small"},)"
           R"("cpu":{"$ref":"#/$defs/small"},"len":{"$ref":"#/$defs/u64"},"handle":{"$ref":"#/$defs/str"},)"
           R"("prot":{"$ref":"#/$defs/prot"},"reserve":{"$ref":"#/$defs/bool"},"fail_after":{"$ref":"#/$defs/u64"}}})"};
OpInfo put{"mermap_put", kKernel, "spec/kernels/mermap.md §3", &typeid(PutArgs), dec_put, enc_put,
           R"({"required":["as","cpu","handle"],"properties":{"as":{"$ref":"#/$defs/small"},)"
           R"("cpu":{"$ref":"#/$defs/small"},"handle":{"$ref":"#/$defs/str"}}})"};
OpInfo teardown{"mermap_teardown", kKernel, "spec/kernels/mermap.md §4", &typeid(TeardownArgs), dec_teardown,
                enc_teardown,
                R"({"required":["as","cpu"],"properties":{"as":{"$ref":"#/$defs/small"},"cpu":{"$ref":"#/$defs/small"}}})"};
constexpr const char* kSteps = "spec/kernels/mermap.md §9";
OpInfo alloc_step{"mermap_alloc", kKernel, kSteps, &typeid(AllocStepArgs), dec_alloc_step, enc_alloc_step,
                  R"({"required":["as","cpu","handle","base","len"],"properties":{"as":{"$ref":"#/$defs/small"},)"
                  R"("cpu":{"$ref":"#/$defs/small"},"handle":{"$ref":"#/$defs/str"},"base":{"$ref":"#/$defs/u64"},)"
                  R"("len":{"$ref":"#/$defs/u64"},"reserve":{"$ref":"#/$defs/bool"}}})"};
OpInfo free_step{"mermap_free", kKernel, kSteps, &typeid(PutArgs), dec_put, enc_put,
                 R"({"required":["as","cpu","handle"],"properties":{"as":{"$ref":"#/$defs/small"},)"
                 R"("cpu":{"$ref":"#/$defs/small"},"handle":{"$ref":"#/$defs/str"}}})"};
OpInfo reset_step{"mermap_reset", kKernel, kSteps, &typeid(ResetStepArgs), dec_reset_step, enc_reset_step,
                  R"({"required":["as","cpu","next"],"properties":{"as":{"$ref":"#/$defs/small"},)"
                  R"("cpu":{"$ref":"#/$defs/small"},"next":{"$ref":"#/$defs/u64"}}})"};
OpInfo migrate_step{"mermap_migrate", kKernel, kSteps, &typeid(MigrateStepArgs), dec_migrate_step, enc_migrate_step,
                    R"({"required":["as"],"properties":{"as":{"$ref":"#/$defs/small"},)"
                    R"("cpu":{"$ref":"#/$defs/small"},"disable":{"$ref":"#/$defs/bool"}}})"};
}  // namespace ops

void register_vocab() {
  vocab::add_kernel({kKernel, "linux", "the per-CPU mermap allocator of the Linux __GFP_UNMAPPED RFC",
                     "spec/kernels/mermap.md",
                     {{"fixed", "the allocator with the review's findings corrected (R1, R2, R3, R5)", false},
                      {"rfc", "the allocator as posted (R1, R2, R3, R5 present)", true},
                      {"no-reserve-page", "normal requests may take the reserved last page", true},
                      {"no-flush", "freed space is reused without a local TLB flush", true},
                      {"overlap", "reuse restarts below a live allocation", true}},
                     params_of, 0, settable(), with_params});
  for (OpInfo* op : {&ops::prepare, &ops::get, &ops::put, &ops::teardown, &ops::alloc_step, &ops::free_step,
                     &ops::reset_step, &ops::migrate_step})
    vocab::add_op(*op);
}

}  // namespace vmref::mermap
