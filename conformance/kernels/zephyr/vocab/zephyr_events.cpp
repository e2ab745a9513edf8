// Decoders, encoders, schemas and variants of the zephyr kernel (spec/kernels/zephyr.md).
#include "zephyr_events.hpp"

#include <array>

#include "vmref/trace/fields.hpp"

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
                     params_of, kCampaignFrames});
  for (OpInfo* op : {&ops::k_mem_map, &ops::k_mem_unmap, &ops::k_mem_page_out, &ops::k_mem_page_in, &ops::k_mem_pin,
                     &ops::k_mem_unpin, &ops::k_mem_stat, &ops::nru_tick})
    vocab::add_op(*op);
}

}  // namespace vmref::zephyr
