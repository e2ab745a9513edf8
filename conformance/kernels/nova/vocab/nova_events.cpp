// Decoders, encoders, schemas, parameters and variants of the nova kernel
// (spec/kernels/nova.md).
#include "nova_events.hpp"

#include "vmref/trace/fields.hpp"
#include "vmref/vocab/param_reader.hpp"

namespace vmref::nova {

using trace::Fields;
using trace::hex;
using vocab::Event;
using vocab::OpInfo;
using Json = nlohmann::ordered_json;

const char* to_string(Step s) {
  static const char* const n[] = {"none", "window", "pde", "pte", "flush"};
  return n[static_cast<int>(s)];
}
const char* to_string(Kind k) {
  static const char* const n[] = {"read", "write", "atomic"};
  return n[static_cast<int>(k)];
}
const char* to_string(Ack a) {
  static const char* const n[] = {"none", "globally", "intranode"};
  return n[static_cast<int>(a)];
}
const char* to_string(BigState s) {
  static const char* const n[] = {"U", "I", "S"};
  return n[static_cast<int>(s)];
}

namespace {
template <class E, std::size_t N>
E pick(Fields& f, std::string_view key, const char* const (&names)[N], std::size_t first) {
  std::string v = f.str(key);
  for (std::size_t i = first; i < N; ++i)
    if (v == names[i]) return static_cast<E>(i);
  std::string all;
  for (std::size_t i = first; i < N; ++i) all += std::string(all.empty() ? "" : ", ") + names[i];
  f.fail(key, "'" + v + "' is not one of " + all);
}
const char* const kSteps[] = {"none", "window", "pde", "pte", "flush"};
const char* const kKinds[] = {"read", "write", "atomic"};
const char* const kStates[] = {"U", "I", "S"};
const char* const kAcks[] = {"none", "globally", "intranode"};

std::optional<std::pair<Va, Va>> dec_range(Fields& f) {
  bool s = f.has("range_start"), e = f.has("range_end");
  if (!s && !e) return std::nullopt;
  if (!s || !e) f.fail(s ? "range_end" : "range_start", "a va range needs both range_start and range_end");
  return std::pair<Va, Va>{f.u64("range_start"), f.u64("range_end")};
}
void enc_range(const std::optional<std::pair<Va, Va>>& r, Json& j) {
  if (!r) return;
  j["range_start"] = hex(r->first);
  j["range_end"] = hex(r->second);
}
PrepareFail dec_prepare_fail(Fields& f) {
  PrepareFail p;
  p.reserve = f.flag("fail_reserve");
  p.va = f.flag("fail_va");
  if (f.has("fail_pt")) p.pt = f.u64("fail_pt");
  return p;
}
void enc_prepare_fail(const PrepareFail& p, Json& j) {
  if (p.reserve) j["fail_reserve"] = true;
  if (p.va) j["fail_va"] = true;
  if (p.pt) j["fail_pt"] = hex(*p.pt);
}
/// `allow_pde`: execute has a PDE phase, unmap has none.
StepFail dec_step_fail(Fields& f, bool allow_pde) {
  StepFail s;
  if (!f.has("fail_at")) {
    if (f.has("fail_index")) f.fail("fail_index", "fail_index needs fail_at");
    return s;
  }
  s.at = pick<Step>(f, "fail_at", kSteps, 1);
  if (s.at == Step::pde && !allow_pde) f.fail("fail_at", "unmap writes no PDE");
  if (f.has("fail_index")) {  // read by pde and pte steps, ignored by the others
    s.indexed = true;
    s.index = f.u64("fail_index");
  }
  return s;
}
void enc_step_fail(const StepFail& s, Json& j) {
  if (s.at == Step::none) return;
  j["fail_at"] = to_string(s.at);
  if (s.indexed || s.at == Step::pde || s.at == Step::pte) j["fail_index"] = hex(s.index);
}

void dec_space(Fields& f, Event& e) {
  auto a = std::make_shared<vocab::SpaceArgs>();
  a->as = f.u64("as");
  e.args = a;
}
void enc_space(const Event& e, Json& j) { j["as"] = e.get<vocab::SpaceArgs>().as; }

void dec_new(Fields& f, Event& e) {
  auto a = std::make_shared<NewArgs>();
  a->as = f.u64("as");
  if (f.has("pdb")) a->pdb = f.u64("pdb");
  e.args = a;
}
void enc_new(const Event& e, Json& j) {
  const auto& a = e.get<NewArgs>();
  j["as"] = a.as;
  if (a.pdb) j["pdb"] = hex(*a.pdb);
}

void dec_prepare(Fields& f, Event& e) {
  auto a = std::make_shared<PrepareArgs>();
  a->as = f.u64("as");
  a->pages = f.u64("pages");
  a->handle = f.str("handle");
  a->range = dec_range(f);
  a->fail = dec_prepare_fail(f);
  e.args = a;
}
void enc_prepare(const Event& e, Json& j) {
  const auto& a = e.get<PrepareArgs>();
  j["as"] = a.as;
  j["pages"] = hex(a.pages);
  j["handle"] = a.handle;
  enc_range(a.range, j);
  enc_prepare_fail(a.fail, j);
}

void dec_execute(Fields& f, Event& e) {
  auto a = std::make_shared<ExecuteArgs>();
  a->as = f.u64("as");
  a->handle = f.str("handle");
  a->pfn = f.u64("pfn");
  if (f.has("count")) a->count = f.u64("count");
  a->writable = f.has("writable") ? f.flag("writable") : true;
  a->fail = dec_step_fail(f, true);
  e.args = a;
}
void enc_execute(const Event& e, Json& j) {
  const auto& a = e.get<ExecuteArgs>();
  j["as"] = a.as;
  j["handle"] = a.handle;
  j["pfn"] = hex(a.pfn);
  if (a.count) j["count"] = hex(*a.count);
  if (!a.writable) j["writable"] = false;
  enc_step_fail(a.fail, j);
}

void dec_map(Fields& f, Event& e) {
  auto a = std::make_shared<MapArgs>();
  a->as = f.u64("as");
  a->pages = f.u64("pages");
  a->handle = f.str("handle");
  a->pfn = f.u64("pfn");
  a->writable = f.has("writable") ? f.flag("writable") : true;
  a->range = dec_range(f);
  a->prepare_fail = dec_prepare_fail(f);
  a->fail = dec_step_fail(f, true);
  e.args = a;
}
void enc_map(const Event& e, Json& j) {
  const auto& a = e.get<MapArgs>();
  j["as"] = a.as;
  j["pages"] = hex(a.pages);
  j["handle"] = a.handle;
  j["pfn"] = hex(a.pfn);
  if (!a.writable) j["writable"] = false;
  enc_range(a.range, j);
  enc_prepare_fail(a.prepare_fail, j);
  enc_step_fail(a.fail, j);
}

void dec_unmap(Fields& f, Event& e) {
  auto a = std::make_shared<UnmapArgs>();
  a->as = f.u64("as");
  a->handle = f.str("handle");
  a->fail = dec_step_fail(f, false);
  e.args = a;
}
void enc_unmap(const Event& e, Json& j) {
  const auto& a = e.get<UnmapArgs>();
  j["as"] = a.as;
  j["handle"] = a.handle;
  enc_step_fail(a.fail, j);
}

void dec_access(Fields& f, Event& e) {
  auto a = std::make_shared<AccessArgs>();
  a->as = f.u64("as");
  a->va = f.u64("va");
  a->kind = f.has("kind") ? pick<Kind>(f, "kind", kKinds, 0) : Kind::read;
  e.args = a;
}
void enc_access(const Event& e, Json& j) {
  const auto& a = e.get<AccessArgs>();
  j["as"] = a.as;
  j["va"] = hex(a.va);
  if (a.kind != Kind::read) j["kind"] = to_string(a.kind);
}

void dec_flush(Fields& f, Event& e) {
  auto a = std::make_shared<FlushArgs>();
  a->as = f.u64("as");
  const bool va = f.has("va"), size = f.has("size");
  if (va != size) f.fail(va ? "size" : "va", "a targeted flush needs both va and size (neither: ALL_VA)");
  if (va) {
    a->range = std::pair<Va, std::uint64_t>{f.u64("va"), f.u64("size")};
    if (a->range->second == 0) f.fail("size", "must be at least 1 byte");
    if (a->range->first + a->range->second < a->range->first) f.fail("size", "va + size overflows");
  }
  a->ack = f.has("ack") ? pick<Ack>(f, "ack", kAcks, 0) : Ack::globally;
  e.args = a;
}
void enc_flush(const Event& e, Json& j) {
  const auto& a = e.get<FlushArgs>();
  j["as"] = a.as;
  if (a.range) {
    j["va"] = hex(a.range->first);
    j["size"] = hex(a.range->second);
  }
  if (a.ack != Ack::globally) j["ack"] = to_string(a.ack);
}

void dec_set_big(Fields& f, Event& e) {
  auto a = std::make_shared<SetBigArgs>();
  a->as = f.u64("as");
  a->va = f.u64("va");
  a->state = pick<BigState>(f, "state", kStates, 0);
  e.args = a;
}
void enc_set_big(const Event& e, Json& j) {
  const auto& a = e.get<SetBigArgs>();
  j["as"] = a.as;
  j["va"] = hex(a.va);
  j["state"] = to_string(a.state);
}

/// Variants (spec/kernels/nova.md §9): `posted` is the seed as posted, `fixed` corrects
/// each listed defect, the others are `fixed` with one invariant broken on purpose.
std::shared_ptr<const vocab::KernelParams> params_of(const std::string& variant) {
  auto p = std::make_shared<NovaParams>();
  if (variant == "posted") return p;
  p->reserve_fix = p->execute_rollback_fix = p->unmap_keep_fix = p->ack_global_fix = p->keep_big_fix =
      p->map_range_fix = p->drop_fix = true;
  if (variant == "lazy-pt") p->lazy_pt = true;
  else if (variant == "keep-pending") p->keep_pending = true;
  else if (variant == "no-flush") p->skip_flush = true;
  return p;
}

/// What a trace header may set (spec/kernels/nova.md "Parameters").
const std::vector<vocab::ParamSpec>& settable() {
  static const std::vector<vocab::ParamSpec> s{
      {"mmu", "version", "2 or 3", "MmuVersion: V2 (Turing..Ada) or V3 (Hopper, Blackwell)"},
      {"va_pages", "pages", "1 to the version's VA size (2^37 pages for v2, 2^45 for v3)",
       "the VA range the VMM's allocator manages, VFNs [0, va_pages)"},
  };
  return s;
}

std::shared_ptr<const vocab::KernelParams> with_params(const vocab::KernelParams& defaults, const nlohmann::json& values,
                                                       const vocab::ParamContext& ctx) {
  vocab::ParamReader in(values, ctx, settable(), kKernel);
  auto p = std::make_shared<NovaParams>(static_cast<const NovaParams&>(defaults));
  p->mmu = static_cast<unsigned>(in.u64("mmu", p->mmu, 2, 3));
  const std::uint64_t limit = std::uint64_t{1} << (p->mmu == 2 ? 37 : 45);
  p->va_pages = in.u64("va_pages", p->va_pages, 1, limit);
  return p;
}

constexpr const char* kU64 = R"({"$ref":"#/$defs/u64"})";
std::string props(std::initializer_list<std::pair<const char*, std::string>> ps, const char* required) {
  std::string s = std::string(R"({"required":)") + required + R"(,"properties":{)";
  bool first = true;
  for (const auto& [k, v] : ps) {
    s += std::string(first ? "" : ",") + "\"" + k + "\":" + v;
    first = false;
  }
  return s + "}}";
}
const std::string kAs = R"({"$ref":"#/$defs/small"})", kStr = R"({"$ref":"#/$defs/str"})",
                  kBool = R"({"$ref":"#/$defs/bool"})";
const std::string kStepEnum = R"({"enum":["window","pde","pte","flush"]})";
const std::string kUnmapStepEnum = R"({"enum":["window","pte","flush"]})";

const std::string kSpaceSchema = props({{"as", kAs}}, R"(["as"])");
const std::string kNewSchema = props({{"as", kAs}, {"pdb", kU64}}, R"(["as"])");
const std::string kPrepareSchema =
    props({{"as", kAs}, {"pages", kU64}, {"handle", kStr}, {"range_start", kU64}, {"range_end", kU64},
           {"fail_reserve", kBool}, {"fail_va", kBool}, {"fail_pt", kU64}},
          R"(["as","pages","handle"])");
const std::string kExecuteSchema =
    props({{"as", kAs}, {"handle", kStr}, {"pfn", kU64}, {"count", kU64}, {"writable", kBool}, {"fail_at", kStepEnum},
           {"fail_index", kU64}},
          R"(["as","handle","pfn"])");
const std::string kMapSchema =
    props({{"as", kAs}, {"pages", kU64}, {"handle", kStr}, {"pfn", kU64}, {"writable", kBool}, {"range_start", kU64},
           {"range_end", kU64}, {"fail_reserve", kBool}, {"fail_va", kBool}, {"fail_pt", kU64}, {"fail_at", kStepEnum},
           {"fail_index", kU64}},
          R"(["as","pages","handle","pfn"])");
const std::string kUnmapSchema =
    props({{"as", kAs}, {"handle", kStr}, {"fail_at", kUnmapStepEnum}, {"fail_index", kU64}}, R"(["as","handle"])");
const std::string kAccessSchema =
    props({{"as", kAs}, {"va", kU64}, {"kind", R"({"enum":["read","write","atomic"]})"}}, R"(["as","va"])");
const std::string kFlushSchema =
    props({{"as", kAs}, {"va", kU64}, {"size", kU64}, {"ack", R"({"enum":["none","globally","intranode"]})"}},
          R"(["as"])");
const std::string kSetBigSchema =
    props({{"as", kAs}, {"va", kU64}, {"state", R"({"enum":["U","I","S"]})"}}, R"(["as","va","state"])");
}  // namespace

namespace ops {
using vocab::kReturnsValue;
OpInfo nova_new{"nova_new", kKernel, "spec/kernels/nova.md §3", &typeid(NewArgs), dec_new, enc_new,
                kNewSchema.c_str()};
OpInfo drop{"nova_drop", kKernel, "spec/kernels/nova.md §3", &typeid(DropArgs), dec_space, enc_space,
            kSpaceSchema.c_str()};
OpInfo prepare{"nova_prepare", kKernel, "spec/kernels/nova.md §4", &typeid(PrepareArgs), dec_prepare, enc_prepare,
               kPrepareSchema.c_str(), kReturnsValue};
OpInfo execute{"nova_execute", kKernel, "spec/kernels/nova.md §5", &typeid(ExecuteArgs), dec_execute, enc_execute,
               kExecuteSchema.c_str(), kReturnsValue};
OpInfo map{"nova_map", kKernel, "spec/kernels/nova.md §6", &typeid(MapArgs), dec_map, enc_map, kMapSchema.c_str(),
           kReturnsValue};
OpInfo unmap{"nova_unmap", kKernel, "spec/kernels/nova.md §7", &typeid(UnmapArgs), dec_unmap, enc_unmap,
             kUnmapSchema.c_str()};
OpInfo access{"nova_access", kKernel, "spec/kernels/nova.md §8", &typeid(AccessArgs), dec_access, enc_access,
              kAccessSchema.c_str(), kReturnsValue};
OpInfo flush{"nova_flush", kKernel, "spec/kernels/nova.md §8.1", &typeid(FlushArgs), dec_flush, enc_flush,
             kFlushSchema.c_str()};
OpInfo set_big{"nova_set_big", kKernel, "spec/kernels/nova.md §8", &typeid(SetBigArgs), dec_set_big, enc_set_big,
               kSetBigSchema.c_str()};
}  // namespace ops

void register_vocab() {
  vocab::add_kernel({kKernel, "", "nova-core's GPU VMM: two-phase map (prepare, execute) and unmap on NVIDIA MMU v2/v3",
                     "spec/kernels/nova.md",
                     {{"posted", "the VMM as posted in the seed, defects P2, P4-P9 included", true},
                      {"fixed", "the VMM with P2, P4-P9 corrected", false},
                      {"lazy-pt", "fixed, but execute allocates the leaf page table itself", true},
                      {"keep-pending", "fixed, but execute leaves installed pages in the pending set", true},
                      {"no-flush", "fixed, but execute and unmap skip their PDB flush", true}},
                     params_of, 0, settable(), with_params});
  for (OpInfo* op : {&ops::nova_new, &ops::drop, &ops::prepare, &ops::execute, &ops::map, &ops::unmap, &ops::access,
                     &ops::set_big, &ops::flush})
    vocab::add_op(*op);
  register_mechanism_ops();
}

}  // namespace vmref::nova
