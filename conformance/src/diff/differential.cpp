#include "vmref/diff/differential.hpp"

#include "core_checker.hpp"
#include "vmref/impl/registry.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/trace/fields.hpp"

#include <stdexcept>

namespace vmref::diff {

using conformance::Finding;
using trace::hex;

namespace {
const impl::FormatInfo& format_for(const std::string& name) {
  if (!name.empty()) return impl::format_or_throw(name);
  if (impl::all_formats().empty()) throw std::invalid_argument("no page-table format is registered");
  return *impl::all_formats().front();
}
}  // namespace

Differential::Differential(DiffConfig cfg) : cfg_(std::move(cfg)), format_(format_for(cfg_.impl)) {
  vocab::Profile profile = vocab::with_params(vocab::resolve_profile(cfg_.profile), cfg_.params,
                                             vocab::ParamContext{"", 1, 4096, cfg_.frames});
  impl::FormatConfig arch = cfg_.format;
  arch.mutant = nullptr;
  decoder_ = format_.decoder(arch);
  codec_ = format_.codec(cfg_.format);
  mmu_ = format_.mmu(cfg_.cpus, cfg_.format);
  ref_tlb_ = format_.reference(*mmu_);
  model_ = std::make_unique<model::Model>(profile, cfg_.cpus, cfg_.frames, 4096);
  vmm_ = std::make_unique<impl::Vmm>(profile, impl::VmmConfig{cfg_.frames, codec_.get(), mmu_.get(), cfg_.format.mutant});
  ctx_ = std::make_unique<conformance::CheckerContext>(conformance::CheckerContext{
      *model_, *vmm_, *decoder_, [this](const char* id, const std::string& msg) { add(id, msg); }, stats_.compared_ptes,
      stats_.compared_tlb});
  bool core_compare = true;
  for (const vocab::Layer& l : profile.layers) {
    const conformance::ConformanceKernelInfo* k = conformance::find_conformance_kernel(l.kernel->name);
    if (!k) continue;
    core_compare = core_compare && k->core_compare;
    if (k->checker) checkers_.push_back(k->checker(*ctx_));
  }
  if (core_compare)
    core_ = std::make_unique<CoreChecker>(*model_, vmm_->core(), *decoder_, *mmu_, *ref_tlb_, cfg_.cpus, stats_,
                                          [this](const char* id, const std::string& msg) { add(id, msg); }, checkers_);
}

Differential::~Differential() = default;

void Differential::add(const char* id, const std::string& msg) {
  Finding f;
  f.id = id;
  f.event = stats_.events ? stats_.events - 1 : 0;
  f.line = current_ ? current_->line : 0;
  f.op = current_ ? current_->op_name() : "";
  f.message = msg;
  out_->push_back(std::move(f));
}

// DIFF-OUT: errno and access result always; the returned value where the operation
// returns one; the frame an access used, up to renaming.
void Differential::compare_outcome(const vocab::Outcome& m, const vocab::Outcome& i) {
  if (m.err != i.err || m.access != i.access) {
    add("DIFF-OUT", std::string("outcome: model ") + to_string(m.err) + "/" + to_string(m.access) + ", implementation " +
                        to_string(i.err) + "/" + to_string(i.access));
    return;
  }
  unsigned flags = current_->op->flags;
  if ((flags & vocab::kReturnsValue) && m.ret != i.ret)
    add("DIFF-OUT", std::string("returned value of ") + current_->op_name() + ": model " + hex(m.ret) + ", implementation " +
                        hex(i.ret));
  bool framed = (flags & vocab::kReturnsFrame) && m.err == vocab::Err::ok && m.access == vocab::AccessResult::ok;
  if (framed && core_)
    core_->same_frame(static_cast<model::FrameId>(m.frame), i.frame,
                      [&] { return std::string("the frame ") + current_->op_name() + " used"; });
}

void Differential::compare(const vocab::Event& e, bool whole) {
  if (whole) ++stats_.full_checks;
  if (core_) core_->step(whole);
  for (auto& c : checkers_) c->compare(e, whole);
}

std::vector<Finding> Differential::check_all() {
  Findings out;
  out_ = &out;
  ++stats_.full_checks;
  if (core_) core_->check_all();
  static const vocab::Event none;
  for (auto& c : checkers_) c->compare(current_ ? *current_ : none, true);
  out_ = nullptr;
  return out;
}

std::vector<Finding> Differential::step(const vocab::Event& e) {
  current_ = &e;
  ++stats_.events;
  vocab::Outcome mo = model_->apply(e);
  last_ = mo;
  vocab::Outcome io;
  std::string stuck;  // an internal check of the implementation failed mid-event
  try {
    io = vmm_->apply(e);
  } catch (const std::invalid_argument&) {  // the event is bad input for the implementation
    throw;
  } catch (const std::logic_error& x) {
    stuck = x.what();
  }
  Findings out;
  out_ = &out;
  if (!stuck.empty()) {  // what the model completed, the implementation cannot: DIFF-OUT
    add("DIFF-OUT", "the implementation could not complete the event: " + stuck);
    out_ = nullptr;
    return out;
  }
  if (cfg_.check_invariants) {  // the model's own invariants, named as replay names them
    std::vector<model::Violation> v;
    model::check_invariants(*model_, false, v);
    for (auto& x : v) add(x.id.c_str(), x.message);
  }
  compare_outcome(mo, io);
  bool whole = (e.op->flags & vocab::kWholeState) || model_->delta().all || stats_.events % cfg_.full_every == 0;
  compare(e, whole);
  out_ = nullptr;
  return out;
}

}  // namespace vmref::diff
