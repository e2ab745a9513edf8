// The toy kernel's rows in the vocabulary: the kernel, its variants, its two operations.
#include "toy_events.hpp"

#include "vmref/trace/fields.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::toy {

using trace::Fields;
using vocab::Event;
using Json = nlohmann::ordered_json;

namespace {
void dec_alloc(Fields& f, Event& e) {
  auto a = std::make_shared<AllocArgs>();
  a->as = f.u64("as");
  a->len = f.u64("len");
  e.args = a;
}
void enc_alloc(const Event& e, Json& j) {
  j["as"] = e.get<AllocArgs>().as;
  j["len"] = trace::hex(e.get<AllocArgs>().len);
}
void dec_free(Fields& f, Event& e) {
  auto a = std::make_shared<FreeArgs>();
  a->as = f.u64("as");
  a->addr = f.u64("addr");
  e.args = a;
}
void enc_free(const Event& e, Json& j) {
  j["as"] = e.get<FreeArgs>().as;
  j["addr"] = trace::hex(e.get<FreeArgs>().addr);
}
}  // namespace

namespace ops {
vocab::OpInfo alloc{"toy_alloc", kKernel, "conformance/tests/toy/toy.md §1", &typeid(AllocArgs), dec_alloc, enc_alloc,
                    R"({"required":["as","len"],"properties":{"as":{"$ref":"#/$defs/small"},"len":{"$ref":"#/$defs/u64"}}})",
                    vocab::kReturnsValue};
vocab::OpInfo free{"toy_free", kKernel, "conformance/tests/toy/toy.md §1", &typeid(FreeArgs), dec_free, enc_free,
                   R"({"required":["as","addr"],"properties":{"as":{"$ref":"#/$defs/small"},"addr":{"$ref":"#/$defs/u64"}}})"};
}  // namespace ops

void register_vocab() {
  vocab::add_kernel({kKernel, "", "test-only window allocator (conformance/tests/toy)", "conformance/tests/toy/toy.md",
                     {{"fixed", "the rules of toy.md", false},
                      {"overlap", "every allocation starts at the window's base", true}},
                     [](const std::string& variant) -> std::shared_ptr<const vocab::KernelParams> {
                       auto p = std::make_shared<ToyParams>();
                       p->respect_live = variant != "overlap";
                       return p;
                     }});
  vocab::add_op(ops::alloc);
  vocab::add_op(ops::free);
}

void register_toy() {
  register_vocab();
  register_model();
  register_impl();
  register_conformance();
}

}  // namespace vmref::toy
