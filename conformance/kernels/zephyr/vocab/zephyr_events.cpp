// Decoders, encoders, schemas and variants of the zephyr kernel (spec/kernels/zephyr.md).
#include "zephyr_events.hpp"

#include <array>

#include "vmref/trace/fields.hpp"
#include "vmref/vocab/param_reader.hpp"

namespace vmref::zephyr {

using trace::Fields;
using trace::hex;
using vocab::Event;
using vocab::OpInfo;
using Json = nlohmann::ordered_json;

namespace {
constexpr std::array<const char*, 5> kStats{"faults", "clean_evictions", "dirty_evictions", "free_bytes", "free_slots"};

void dec_map(Fields& f, Event& e) {
  auto a = std::make_shared<MapArgs>();
  a->len = f.u64("len");
  if (f.has("prot")) a->prot = f.prot("prot");
  a->uninit = f.flag("uninit");
  a->lock = f.flag("lock");
  a->user = f.flag("user");
  e.args = a;
}
void enc_map(const Event& e, Json& j) {
  const auto& a = e.get<MapArgs>();
  j["len"] = hex(a.len);
  if (!(a.prot == Prot{true, true, false})) j["prot"] = a.prot.str();
  if (a.uninit) j["uninit"] = true;
  if (a.lock) j["lock"] = true;
  if (a.user) j["user"] = true;
}

void dec_range(Fields& f, Event& e) {
  auto a = std::make_shared<RangeArgs>();
  a->addr = f.u64("addr");
  a->len = f.u64("len");
  e.args = a;
}
void enc_range(const Event& e, Json& j) {
  j["addr"] = hex(e.get<RangeArgs>().addr);
  j["len"] = hex(e.get<RangeArgs>().len);
}

void dec_stat(Fields& f, Event& e) {
  auto a = std::make_shared<StatArgs>();
  std::string s = f.str("stat");
  bool found = false;
  for (std::size_t i = 0; i < kStats.size(); ++i)
    if (s == kStats[i]) a->stat = static_cast<Stat>(i), found = true;
  if (!found)
    f.fail("stat", "unknown statistic '" + s + "' (faults, clean_evictions, dirty_evictions, free_bytes, free_slots)");
  e.args = a;
}
void enc_stat(const Event& e, Json& j) { j["stat"] = to_string(e.get<StatArgs>().stat); }

void dec_tick(Fields&, Event& e) { e.args = std::make_shared<TickArgs>(); }
void enc_tick(const Event&, Json&) {}

void dec_frame_flags(Fields& f, Event& e) {
  vocab::decode_step_cpu(f, e);
  auto a = std::make_shared<FrameFlagsArgs>();
  a->frame = f.str("frame");
  a->mapped = f.flag("mapped");
  a->pinned = f.flag("pinned");
  a->busy = f.flag("busy");
  a->backed = f.flag("backed");
  if (a->mapped && !f.has("va")) f.fail("va", "a MAPPED frame needs the va it is mapped at");
  a->va = f.u64_or("va", 0);
  e.args = a;
}
void enc_frame_flags(const Event& e, Json& j) {
  const auto& a = e.get<FrameFlagsArgs>();
  vocab::encode_step_cpu(e, j);
  j["frame"] = a.frame;
  if (a.mapped || a.va) j["va"] = hex(a.va);
  for (auto [k, v] : {std::pair{"mapped", a.mapped}, {"pinned", a.pinned}, {"busy", a.busy}, {"backed", a.backed}})
    if (v) j[k] = true;
}

void dec_slot(Fields& f, Event& e) {
  vocab::decode_step_cpu(f, e);
  auto a = std::make_shared<SlotArgs>();
  a->slot = f.small("slot", kMaxFrames);
  a->used = f.has("used") ? f.flag("used") : true;
  e.args = a;
}
void enc_slot(const Event& e, Json& j) {
  vocab::encode_step_cpu(e, j);
  j["slot"] = e.get<SlotArgs>().slot;
  if (!e.get<SlotArgs>().used) j["used"] = false;
}

void dec_page_out(Fields& f, Event& e) {
  vocab::decode_step_cpu(f, e);
  auto a = std::make_shared<PageOutArgs>();
  a->frame = f.str("frame");
  a->slot = f.small("slot", kMaxFrames);
  e.args = a;
}
void enc_page_out(const Event& e, Json& j) {
  vocab::encode_step_cpu(e, j);
  j["frame"] = e.get<PageOutArgs>().frame;
  j["slot"] = e.get<PageOutArgs>().slot;
}

void dec_page_in(Fields& f, Event& e) {
  vocab::decode_step_cpu(f, e);
  auto a = std::make_shared<PageInArgs>();
  a->frame = f.str("frame");
  a->va = f.u64("va");
  e.args = a;
}
void enc_page_in(const Event& e, Json& j) {
  vocab::encode_step_cpu(e, j);
  j["frame"] = e.get<PageInArgs>().frame;
  j["va"] = hex(e.get<PageInArgs>().va);
}

void dec_location(Fields& f, Event& e) {
  vocab::decode_step_cpu(f, e);
  auto a = std::make_shared<LocationArgs>();
  a->va = f.u64("va");
  bool has_slot = f.has("slot"), has_token = f.has("token");
  if (has_slot == has_token) f.fail(has_slot ? "token" : "slot", "a location is either a slot or a token, exactly one");
  if (has_slot) a->slot = f.small("slot", kMaxFrames);
  else {
    std::string t = f.str("token");
    if (t != "anon_zero" && t != "anon_uninit") f.fail("token", "expected \"anon_zero\" or \"anon_uninit\"");
    a->uninit = t == "anon_uninit";
  }
  e.args = a;
}
void enc_location(const Event& e, Json& j) {
  const auto& a = e.get<LocationArgs>();
  vocab::encode_step_cpu(e, j);
  j["va"] = hex(a.va);
  if (a.slot) j["slot"] = *a.slot;
  else j["token"] = a.uninit ? "anon_uninit" : "anon_zero";
}

/// Variants (spec/kernels/zephyr.md §7): `fixed` is Zephyr with #115581's rollback and
/// our kept-slot fix; `eager` is the configuration without CONFIG_DEMAND_MAPPING;
/// `upstream` lets the first touch of an ANON token take the slot kept for faults, as
/// do_page_fault does; `seed` is the code the seed patch shows. The rest break one rule.
std::shared_ptr<const vocab::KernelParams> params_of(const std::string& v) {
  auto p = std::make_shared<ZephyrParams>();
  if (v == "eager") p->demand_mapping = false;
  else if (v == "upstream") p->token_fault_keeps_slot = false;
  else if (v == "seed") p->rollback_fix = p->token_fault_keeps_slot = false;
  else if (v == "no-guard") p->guards = false;
  else if (v == "evict-pinned") p->respect_pins = false;
  else if (v == "dirty-bit-only") p->writeback_unbacked = false;
  else if (v == "no-fault-slot") p->keep_fault_slot = false;
  else if (v == "no-evict-flush") p->flush_on_evict = false;
  else if (v == "unmap-keeps-guards") p->unmap_frees_guards = false;
  else if (v == "map-allocates") p->lazy_map = false;
  else if (v == "unmap-leaks-frame") p->unmap_frees_frames = false;
  return p;
}

/// What a trace header may set (spec/kernels/zephyr.md "Parameters"): a board's kernel
/// VM region, its image and reserved pages, the RAM backing store and the frame reserve.
const std::vector<vocab::ParamSpec>& settable() {
  static const std::vector<vocab::ParamSpec> s{
      {"vm_start", "bytes", "page-aligned, >= one page; vm_start + vm_pages pages <= 2^47", "K_MEM_VIRT_RAM_START"},
      {"vm_pages", "pages", "1 to 2^20", "CONFIG_KERNEL_VM_SIZE"},
      {"image_pages", "pages", "0 to vm_pages - vm_reserved", "kernel image at the top of the region"},
      {"vm_reserved", "pages", "0 to vm_pages - image_pages", "K_MEM_VM_RESERVED at the bottom"},
      {"backing_pages", "slots", "1 to 4096", "CONFIG_BACKING_STORE_RAM_PAGES"},
      {"frames_reserve", "frames", "0 to the trace's frames", "CONFIG_DEMAND_PAGING_PAGE_FRAMES_RESERVE"},
  };
  return s;
}

std::shared_ptr<const vocab::KernelParams> with_params(const vocab::KernelParams& defaults, const nlohmann::json& values,
                                                       const vocab::ParamContext& ctx) {
  vocab::ParamReader in(values, ctx, settable(), kKernel);
  auto p = std::make_shared<ZephyrParams>(static_cast<const ZephyrParams&>(defaults));
  const std::uint64_t page = ctx.page_size, top = std::uint64_t{1} << 47;
  p->vm_pages = in.u64("vm_pages", p->vm_pages, 1, std::uint64_t{1} << 20);
  p->vm_start = in.u64("vm_start", p->vm_start, page, top - page);
  if (p->vm_start % page) in.fail("vm_start", hex(p->vm_start) + " is not aligned to the page size " + hex(page));
  if (p->vm_pages > (top - p->vm_start) / page)
    in.fail(in.has("vm_start") ? "vm_start" : "vm_pages", "the region [" + hex(p->vm_start) + ", +" +
                                                              std::to_string(p->vm_pages) + " pages) ends above 2^47");
  p->image_pages = in.u64("image_pages", p->image_pages, 0, p->vm_pages);
  p->vm_reserved = in.u64("vm_reserved", p->vm_reserved, 0, p->vm_pages);
  if (p->image_pages + p->vm_reserved > p->vm_pages)
    in.fail(in.has("image_pages") ? "image_pages" : "vm_reserved",
            "image_pages + vm_reserved (" + std::to_string(p->image_pages + p->vm_reserved) + ") exceed vm_pages (" +
                std::to_string(p->vm_pages) + ")");
  p->backing_pages = in.u64("backing_pages", p->backing_pages, 1, 4096);
  p->frames_reserve = in.u64("frames_reserve", p->frames_reserve, 0, ctx.frames);
  return p;
}

#define VMREF_ZRANGE R"({"required":["addr","len"],"properties":{"addr":{"$ref":"#/$defs/u64"},"len":{"$ref":"#/$defs/u64"}}})"
}  // namespace

const char* to_string(Stat s) { return kStats[static_cast<std::size_t>(s)]; }

namespace ops {
OpInfo k_mem_map{"k_mem_map", kKernel, "spec/kernels/zephyr.md §2", &typeid(MapArgs), dec_map, enc_map,
                 R"({"required":["len"],"properties":{"len":{"$ref":"#/$defs/u64"},"prot":{"$ref":"#/$defs/prot"},)"
                 R"("uninit":{"$ref":"#/$defs/bool"},"lock":{"$ref":"#/$defs/bool"},"user":{"$ref":"#/$defs/bool"}}})",
                 vocab::kReturnsValue};
OpInfo k_mem_unmap{"k_mem_unmap", kKernel, "spec/kernels/zephyr.md §3", &typeid(RangeArgs), dec_range, enc_range, VMREF_ZRANGE};
OpInfo k_mem_page_out{"k_mem_page_out", kKernel, "spec/kernels/zephyr.md §5", &typeid(RangeArgs), dec_range, enc_range,
                      VMREF_ZRANGE};
OpInfo k_mem_page_in{"k_mem_page_in", kKernel, "spec/kernels/zephyr.md §5", &typeid(RangeArgs), dec_range, enc_range,
                     VMREF_ZRANGE};
OpInfo k_mem_pin{"k_mem_pin", kKernel, "spec/kernels/zephyr.md §5", &typeid(RangeArgs), dec_range, enc_range, VMREF_ZRANGE};
OpInfo k_mem_unpin{"k_mem_unpin", kKernel, "spec/kernels/zephyr.md §5", &typeid(RangeArgs), dec_range, enc_range,
                   VMREF_ZRANGE};
OpInfo k_mem_stat{"k_mem_stat", kKernel, "spec/kernels/zephyr.md §6", &typeid(StatArgs), dec_stat, enc_stat,
                  R"({"required":["stat"],"properties":{"stat":{"enum":["faults","clean_evictions","dirty_evictions",)"
                  R"("free_bytes","free_slots"]}}})",
                  vocab::kReturnsValue};
OpInfo nru_tick{"nru_tick", kKernel, "spec/kernels/zephyr.md §4", &typeid(TickArgs), dec_tick, enc_tick,
                R"({"required":[],"properties":{}})"};
constexpr const char* kSteps = "spec/kernels/zephyr.md §10";
OpInfo zephyr_frame{"zephyr_frame", kKernel, kSteps, &typeid(FrameFlagsArgs), dec_frame_flags, enc_frame_flags,
                    R"({"required":["frame"],"properties":{"cpu":{"$ref":"#/$defs/small"},"frame":{"$ref":"#/$defs/str"},)"
                    R"("va":{"$ref":"#/$defs/u64"},"mapped":{"$ref":"#/$defs/bool"},"pinned":{"$ref":"#/$defs/bool"},)"
                    R"("busy":{"$ref":"#/$defs/bool"},"backed":{"$ref":"#/$defs/bool"}}})"};
OpInfo zephyr_slot{"zephyr_slot", kKernel, kSteps, &typeid(SlotArgs), dec_slot, enc_slot,
                   R"({"required":["slot"],"properties":{"cpu":{"$ref":"#/$defs/small"},"slot":{"$ref":"#/$defs/small"},)"
                   R"("used":{"$ref":"#/$defs/bool"}}})"};
OpInfo zephyr_page_out{"zephyr_page_out", kKernel, kSteps, &typeid(PageOutArgs), dec_page_out, enc_page_out,
                       R"({"required":["frame","slot"],"properties":{"cpu":{"$ref":"#/$defs/small"},)"
                       R"("frame":{"$ref":"#/$defs/str"},"slot":{"$ref":"#/$defs/small"}}})"};
OpInfo zephyr_page_in{"zephyr_page_in", kKernel, kSteps, &typeid(PageInArgs), dec_page_in, enc_page_in,
                      R"({"required":["frame","va"],"properties":{"cpu":{"$ref":"#/$defs/small"},)"
                      R"("frame":{"$ref":"#/$defs/str"},"va":{"$ref":"#/$defs/u64"}}})"};
OpInfo zephyr_location{"zephyr_location", kKernel, kSteps, &typeid(LocationArgs), dec_location, enc_location,
                       R"({"required":["va"],"properties":{"cpu":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"},)"
                       R"("slot":{"$ref":"#/$defs/small"},"token":{"enum":["anon_zero","anon_uninit"]}}})"};
}  // namespace ops

void register_vocab() {
  vocab::add_kernel({kKernel, "", "Zephyr's kernel address space: on-demand anonymous maps and demand paging",
                     "spec/kernels/zephyr.md",
                     {{"fixed", "Zephyr with #115581's rollback and the kept-slot fix of §5", false},
                      {"eager", "without CONFIG_DEMAND_MAPPING: anonymous maps are eager", false},
                      {"upstream", "a first touch may take the slot kept for faults, as upstream does", true},
                      {"seed", "the code the seed patch shows: upstream, and no rollback of a failed eager map", true},
                      {"no-guard", "no guard pages around regions", true},
                      {"evict-pinned", "eviction may select a pinned frame", true},
                      {"dirty-bit-only", "a clean frame never written out is dropped", true},
                      {"no-fault-slot", "the store keeps no slot for faults", true},
                      {"no-evict-flush", "a page-out invalidates no TLB entry", true},
                      {"unmap-keeps-guards", "k_mem_unmap keeps the guard pages' VA", true},
                      {"map-allocates", "an on-demand map prefaults its first page", true},
                      {"unmap-leaks-frame", "k_mem_unmap does not free the region's frames", true}},
                     params_of, kCampaignFrames, settable(), with_params});
  for (OpInfo* op : {&ops::k_mem_map, &ops::k_mem_unmap, &ops::k_mem_page_out, &ops::k_mem_page_in, &ops::k_mem_pin,
                     &ops::k_mem_unpin, &ops::k_mem_stat, &ops::nru_tick, &ops::zephyr_frame, &ops::zephyr_slot,
                     &ops::zephyr_page_out, &ops::zephyr_page_in, &ops::zephyr_location})
    vocab::add_op(*op);
}

}  // namespace vmref::zephyr
