// Decoders, encoders and schemas of the nova kernel's mechanism-level events
// (spec/kernels/nova.md §15): table-page allocate/zero/free, raw PDE and PTE writes, VA
// allocator steps, call brackets and the two halves of a TLB invalidate.
#include <algorithm>

#include "nova_events.hpp"
#include "vmref/trace/fields.hpp"

namespace vmref::nova {

using trace::Fields;
using trace::hex;
using vocab::Event;
using vocab::OpInfo;
using Json = nlohmann::ordered_json;

namespace {
const char* const kCalls[] = {"prepare", "execute", "map", "unmap", "drop"};

void dec_pt_alloc(Fields& f, Event& e) {
  auto a = std::make_shared<PtAllocArgs>();
  a->as = f.u64("as");
  a->pfn = f.u64("pfn");
  a->level = static_cast<unsigned>(f.small("level", 5));
  a->big = f.flag("big");
  e.args = a;
}
void enc_pt_alloc(const Event& e, Json& j) {
  const auto& a = e.get<PtAllocArgs>();
  j["as"] = a.as;
  j["pfn"] = hex(a.pfn);
  j["level"] = a.level;
  if (a.big) j["big"] = true;
}

void dec_pt(Fields& f, Event& e) {
  auto a = std::make_shared<PtArgs>();
  a->as = f.u64("as");
  a->pfn = f.u64("pfn");
  e.args = a;
}
void enc_pt(const Event& e, Json& j) {
  const auto& a = e.get<PtArgs>();
  j["as"] = a.as;
  j["pfn"] = hex(a.pfn);
}

void dec_write(Fields& f, Event& e) {
  auto a = std::make_shared<WriteArgs>();
  a->as = f.u64("as");
  a->addr = f.u64("addr");
  if (a->addr % 8) f.fail("addr", "a table entry word is 8-byte aligned");
  a->value = f.u64("value");
  e.args = a;
}
void enc_write(const Event& e, Json& j) {
  const auto& a = e.get<WriteArgs>();
  j["as"] = a.as;
  j["addr"] = hex(a.addr);
  j["value"] = hex(a.value);
}

void dec_va_alloc(Fields& f, Event& e) {
  auto a = std::make_shared<VaArgs>();
  a->as = f.u64("as");
  a->va = f.u64("va");
  a->size = f.u64("size");
  if (a->va % 4096) f.fail("va", "must be 4 KiB aligned");
  if (a->size == 0 || a->size % 4096) f.fail("size", "must be a non-zero multiple of 4 KiB");
  if (a->va + a->size < a->va) f.fail("size", "va + size overflows");
  e.args = a;
}
void enc_va_alloc(const Event& e, Json& j) {
  const auto& a = e.get<VaArgs>();
  j["as"] = a.as;
  j["va"] = hex(a.va);
  j["size"] = hex(a.size);
}
void dec_va_free(Fields& f, Event& e) {
  auto a = std::make_shared<VaArgs>();
  a->as = f.u64("as");
  a->va = f.u64("va");
  e.args = a;
}
void enc_va_free(const Event& e, Json& j) {
  const auto& a = e.get<VaArgs>();
  j["as"] = a.as;
  j["va"] = hex(a.va);
}

void dec_call(Fields& f, Event& e) {
  auto a = std::make_shared<CallArgs>();
  a->as = f.u64("as");
  a->call = f.str("call");
  if (std::find(std::begin(kCalls), std::end(kCalls), a->call) == std::end(kCalls))
    f.fail("call", "'" + a->call + "' is not one of prepare, execute, map, unmap, drop");
  a->ok = f.has("ok") ? f.flag("ok") : true;
  e.args = a;
}
void enc_call(const Event& e, Json& j) {
  const auto& a = e.get<CallArgs>();
  j["as"] = a.as;
  j["call"] = a.call;
  if (!a.ok) j["ok"] = false;
}

constexpr const char* kPtAllocSchema =
    R"({"required":["as","pfn","level"],"properties":{"as":{"$ref":"#/$defs/small"},"pfn":{"$ref":"#/$defs/u64"},)"
    R"("level":{"$ref":"#/$defs/small"},"big":{"$ref":"#/$defs/bool"}}})";
constexpr const char* kPtSchema =
    R"({"required":["as","pfn"],"properties":{"as":{"$ref":"#/$defs/small"},"pfn":{"$ref":"#/$defs/u64"}}})";
constexpr const char* kWriteSchema =
    R"({"required":["as","addr","value"],"properties":{"as":{"$ref":"#/$defs/small"},"addr":{"$ref":"#/$defs/u64"},)"
    R"("value":{"$ref":"#/$defs/u64"}}})";
constexpr const char* kVaAllocSchema =
    R"({"required":["as","va","size"],"properties":{"as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"},)"
    R"("size":{"$ref":"#/$defs/u64"}}})";
constexpr const char* kVaFreeSchema =
    R"({"required":["as","va"],"properties":{"as":{"$ref":"#/$defs/small"},"va":{"$ref":"#/$defs/u64"}}})";
constexpr const char* kCallSchema =
    R"({"required":["as","call"],"properties":{"as":{"$ref":"#/$defs/small"},)"
    R"("call":{"enum":["prepare","execute","map","unmap","drop"]},"ok":{"$ref":"#/$defs/bool"}}})";
constexpr const char* kSection = "spec/kernels/nova.md §15";
}  // namespace

namespace ops {
OpInfo pt_alloc{"nova_pt_alloc", kKernel, kSection, &typeid(PtAllocArgs), dec_pt_alloc, enc_pt_alloc, kPtAllocSchema};
OpInfo pt_zero{"nova_pt_zero", kKernel, kSection, &typeid(PtArgs), dec_pt, enc_pt, kPtSchema};
OpInfo pt_free{"nova_pt_free", kKernel, kSection, &typeid(PtArgs), dec_pt, enc_pt, kPtSchema};
OpInfo pde_write{"nova_pde_write", kKernel, kSection, &typeid(WriteArgs), dec_write, enc_write, kWriteSchema};
OpInfo pte_write{"nova_pte_write", kKernel, kSection, &typeid(WriteArgs), dec_write, enc_write, kWriteSchema};
OpInfo va_alloc{"nova_va_alloc", kKernel, kSection, &typeid(VaArgs), dec_va_alloc, enc_va_alloc, kVaAllocSchema};
OpInfo va_free{"nova_va_free", kKernel, kSection, &typeid(VaArgs), dec_va_free, enc_va_free, kVaFreeSchema};
OpInfo call{"nova_call", kKernel, kSection, &typeid(CallArgs), dec_call, enc_call, kCallSchema};
OpInfo flush_start{"nova_flush_start", kKernel, kSection, &typeid(FlushArgs), nullptr, nullptr, nullptr};
OpInfo flush_done{"nova_flush_done", kKernel, kSection, &typeid(vocab::SpaceArgs), nullptr, nullptr, nullptr};
}  // namespace ops

void register_mechanism_ops() {
  // nova_flush_start has nova_flush's fields, nova_flush_done nova_drop's (`as` alone):
  // take their codecs and schemas.
  for (auto [to, from] : {std::pair{&ops::flush_start, &ops::flush}, std::pair{&ops::flush_done, &ops::drop}}) {
    to->decode = from->decode;
    to->encode = from->encode;
    to->schema = from->schema;
  }
  for (OpInfo* op : {&ops::pt_alloc, &ops::pt_zero, &ops::pt_free, &ops::pde_write, &ops::pte_write, &ops::va_alloc,
                     &ops::va_free, &ops::call, &ops::flush_start, &ops::flush_done})
    vocab::add_op(*op);
}

}  // namespace vmref::nova
