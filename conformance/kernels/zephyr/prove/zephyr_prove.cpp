// Zephyr's proof obligations (spec/kernels/zephyr.md §11): the virtual-region arithmetic
// of kernel/mm.c over all 2^64 inputs, on the model's own functions (zephyr_arith.hpp).
// Its state and operations have no SMT form yet (spec/prove.md lists what does).
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "vmref/vocab/registry.hpp"
#include "zephyr_arith.hpp"
#include "zephyr_events.hpp"

namespace vmref::zephyr {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kCite = "spec/kernels/zephyr.md §11";
constexpr unsigned kShift = 12;

struct Space {
  expr vm_start, vm_pages, vm_end;
};
Space space_of(z3::context& c, const ZephyrParams& p) {
  return {word_val(c, p.vm_start), word_val(c, p.vm_pages), word_val(c, p.vm_start + (p.vm_pages << kShift))};
}

/// LEM-ZEPHYR-A1: a run of bits maps to an address range and back (alloc and free agree),
/// and every page of that range is one of the run's bits as INV-ZEPHYR-8 reads them.
Result lemma_round_trip(const ZephyrParams& p, const Request& req) {
  z3::context c;
  Space s = space_of(c, p);
  expr first = word_var(c, "first"), pages = word_var(c, "pages"), i = word_var(c, "i");
  expr pre = z3::uge(pages, word_val(c, 1)) && z3::ule(pages, s.vm_pages) && z3::ule(first, s.vm_pages - pages) &&
             z3::ult(i, pages);
  expr addr = arith::region_addr(s.vm_end, first, pages, kShift);
  expr page_i = addr + z3::shl(i, word_val(c, kShift));
  expr goal = arith::region_first(s.vm_end, addr, pages, kShift) == first && z3::uge(addr, s.vm_start) &&
              arith::bit_of(s.vm_start, s.vm_pages, page_i, kShift) == first + pages - word_val(c, 1) - i;
  return check_implies(c, pre, goal, req, [&](const z3::model& m, Result& r) {
    r.detail = "first " + std::to_string(u64_of(m, first)) + ", pages " + std::to_string(u64_of(m, pages)) + ", page " +
               std::to_string(u64_of(m, i)) + ": address " + hex(u64_of(m, addr));
  });
}

/// LEM-ZEPHYR-A2: with guard pages, a map of `len` bytes that passes the overflow test
/// takes pages + 2 bits; the region starts one page above the run, its guards are the
/// run's outermost bits, and the unmap frees exactly that run.
Result lemma_guards(const ZephyrParams& p, const Request& req) {
  z3::context c;
  Space s = space_of(c, p);
  expr first = word_var(c, "first"), len = word_var(c, "len");
  expr page = word_val(c, 1ull << kShift);
  expr pages = z3::lshr(len, word_val(c, kShift)), run = pages + word_val(c, 2);
  expr pre = len != 0 && (len & (page - 1)) == 0 && !arith::guard_overflows(len, page) && z3::ule(run, s.vm_pages) &&
             z3::ule(first, s.vm_pages - run) && z3::uge(run, word_val(c, 2));
  expr start = arith::region_addr(s.vm_end, first, run, kShift) + page;
  expr goal = arith::region_first(s.vm_end, start - page, run, kShift) == first &&
              arith::bit_of(s.vm_start, s.vm_pages, start - page, kShift) == first + run - word_val(c, 1) &&
              arith::bit_of(s.vm_start, s.vm_pages, start + len, kShift) == first;
  return check_implies(c, pre, goal, req, [&](const z3::model& m, Result& r) {
    r.detail = "first " + std::to_string(u64_of(m, first)) + ", len " + hex(u64_of(m, len)) + ": region at " +
               hex(u64_of(m, start));
  });
}

std::vector<Obligation> obligations(const std::string& profile, const Request& req) {
  if (!req.bounds.empty()) throw std::invalid_argument("--bound: the zephyr lemmas take no bounds");
  const vocab::Profile resolved = vocab::resolve_profile(profile);
  const ZephyrParams p = *resolved.params<ZephyrParams>(kKernel);
  std::vector<Obligation> out{{Kind::lemma, kKernel, "LEM-ZEPHYR-A1", "", kCite,
                               [p](const Request& r) { return lemma_round_trip(p, r); }}};
  if (p.guards)
    out.push_back({Kind::lemma, kKernel, "LEM-ZEPHYR-A2", "", kCite, [p](const Request& r) { return lemma_guards(p, r); }});
  return out;
}

}  // namespace

void register_prove() { add_prover({kKernel, false, {}, obligations, "arithmetic lemmas only (no state encoding yet)"}); }

}  // namespace vmref::zephyr
