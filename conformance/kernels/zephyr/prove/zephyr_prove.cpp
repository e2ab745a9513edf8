// Zephyr's proof obligations (spec/kernels/zephyr.md §11-§12): the virtual-region
// arithmetic of kernel/mm.c over all 2^64 inputs, on the model's own functions
// (zephyr_arith.hpp); and demand paging's SMT form (zephyr_smt.hpp): an inductive step per
// operation and invariant, and a bounded model check per invariant whose shortest
// counterexample is written as a trace and replayed through the C++ model.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "vmref/model/model.hpp"
#include "vmref/prove/counterexample.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "vmref/vocab/registry.hpp"
#include "zephyr_arith.hpp"
#include "zephyr_events.hpp"
#include "zephyr_smt.hpp"

namespace vmref::zephyr {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kCite = "spec/kernels/zephyr.md §11";
constexpr const char* kStateCite = "spec/kernels/zephyr.md §12";
using nlohmann::json;
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


/// One operation of a BMC run, concrete.
struct Step {
  smt::Op op;
  unsigned page = 0;
  bool write = false;
};

/// A profile's shared state across its obligations: the initial state (read from the
/// model after the region's k_mem_map) and the BMC result per invariant, computed once.
struct Run {
  std::string profile;
  ZephyrParams params;
  smt::Bounds bounds;
  smt::Plain initial;
  Request req;
  std::vector<std::string> ids;  ///< invariants and claimed lemmas: the inductive steps' IDs
  std::vector<smt::Op> ops;      ///< the operations the profile's relation covers
  OnceCache bmc, steps;
};

std::vector<Step> combos(const smt::Encoding& e) {
  std::vector<Step> out;
  for (smt::Op op : e.ops())
    for (unsigned p = 0; p < (smt::per_page(op) ? e.bounds().pages : 1u); ++p) out.push_back({op, p});
  return out;
}

std::string step_text(const Run& run, const Step& s) {
  std::string t = smt::op_name(s.op);
  if (!smt::per_page(s.op)) return t;
  t += " page " + std::to_string(s.page) + " (" + hex(smt::region_start(run.params, run.bounds.pages) + s.page * 4096) + ")";
  return s.op == smt::Op::access ? t + (s.write ? " write" : " read") : t;
}

json map_event(const Run& run) { return {{"op", "k_mem_map"}, {"len", hex(std::uint64_t{run.bounds.pages} << 12)}}; }

json op_event(const Run& run, const Step& s) {
  const std::uint64_t start = smt::region_start(run.params, run.bounds.pages);
  const std::string va = hex(start + s.page * 4096);
  switch (s.op) {
    case smt::Op::access: return {{"op", "access"}, {"cpu", 0}, {"va", va}, {"kind", s.write ? "write" : "read"}};
    case smt::Op::nru_tick: return {{"op", "nru_tick"}};
    case smt::Op::map: return map_event(run);
    case smt::Op::map_lock: {
      json j = map_event(run);
      j["lock"] = j["uninit"] = true;
      return j;
    }
    case smt::Op::unmap:
      return {{"op", "k_mem_unmap"}, {"addr", hex(start)}, {"len", hex(std::uint64_t{run.bounds.pages} << 12)}};
    default: return {{"op", smt::op_name(s.op)}, {"addr", va}, {"len", "0x1000"}};
  }
}

/// The region's k_mem_map on a freshly booted kernel: what every obligation starts from.
model::Model initial_model(const std::string& profile, const smt::Bounds& b) {
  model::Model m(profile, 1, b.frames, 4096);
  MapArgs a;
  a.len = std::uint64_t{b.pages} << 12;
  m.apply(vocab::make_event(ops::k_mem_map, a));
  return m;
}

/// Writes the steps as a trace (spec/trace-format.md) declaring `id`; returns its path.
std::string write_trace(const Run& run, const std::string& id, const std::vector<Step>& steps) {
  std::filesystem::create_directories(run.req.out_dir);
  std::string path = trace_path(run.req.out_dir, run.profile, id);
  std::ofstream out(path);
  json h = {{"vmref_trace", 1},
            {"profile", run.profile},
            {"cpus", 1},
            {"phys_mem", hex(std::uint64_t{run.bounds.frames} << 12)},
            {"provenance",
             {{"source", "vmref prove: shortest bounded-model-checking counterexample of " + id},
              {"expected", {{"verdict", "findings"}, {"ids", {id}}}}}}};
  out << h.dump() << "\n" << map_event(run).dump() << "\n";
  for (const Step& s : steps) out << op_event(run, s).dump() << "\n";
  if (!out) throw std::runtime_error(path + ": cannot write the counterexample trace");
  return path;
}

/// The shortest sequence of at most `depth` operations after the region's map that
/// breaks `id` (spec/prove.md §3), as a replayed trace.
Result bmc(Run& run, const std::string& id) {
  z3::context c;
  smt::Encoding e(c, run.params, run.bounds, id == "INV-ZEPHYR-5");
  const std::vector<Step> all = combos(e);
  std::vector<smt::State> states{e.lift(run.initial)};
  std::vector<expr> choice, write;
  std::optional<expr> held;  // `id` after the previous step: the depths before found no violation
  auto unroll = [&](unsigned k) {
    std::string tag = "k" + std::to_string(k);
    expr ch = c.bv_const((tag + "_choice").c_str(), 16);
    smt::OpArgs a = e.args(tag, 0);
    smt::State next = states.back();
    smt::Note note = e.no_call();
    expr valid = c.bool_val(false);
    for (std::size_t i = 0; i < all.size(); ++i) {
      a.page = all[i].page;
      expr pick = ch == c.bv_val(static_cast<unsigned>(i), 16);
      auto [post, n] = e.apply(all[i].op, states.back(), a);
      next = e.mux(pick, post, next);
      note = e.mux(pick, n, note);
      valid = valid || (pick && e.pre(all[i].op, states.back(), a));
    }
    smt::State named = e.fresh(tag + "_post");  // keeps each step's terms flat
    expr holds = e.holds(id, named, note);
    BmcDepth d{{valid, e.equal(named, next)}, !holds};
    if (held) d.path.push_back(*held);
    held = holds;
    states.push_back(named);
    choice.push_back(ch);
    write.push_back(a.write);
    return d;
  };
  auto found = [&](const z3::model& m, unsigned k, Result& r) {
    std::vector<Step> steps;
    std::vector<std::string> text;
    for (unsigned j = 0; j <= k; ++j) {
      Step st = all[u64_of(m, z3::zext(choice[j], 48))];
      st.write = st.op == smt::Op::access && bool_of(m, write[j]);
      steps.push_back(st);
      text.push_back(step_text(run, st));
    }
    confirm_by_replay(write_trace(run, id, steps), id, r);
    return text;
  };
  return bounded_check(c, run.req, unroll, found);
}

Result step(Run& run, smt::Op op, const std::vector<std::string>& ids);
Result initiation(Run& run, const std::string& id);

/// BMC of `id`, unless the base cases and every operation's inductive step imply it.
Result bmc_once(Run& run, const std::string& id) {
  return bmc_unless_implied(
      run, id, run.ids, run.ops, smt::op_name, [&](const std::string& i) { return initiation(run, i); },
      [&](smt::Op op) { return step(run, op, run.ids); }, [&] { return bmc(run, id); });
}

/// A contents stamp as the model prints it: zero, uninit or data, and its version.
std::string stamp_text(const z3::model& m, const expr& x) {
  const std::uint64_t v = u64_of(m, z3::zext(x, 64 - smt::kStampBits));
  if (v == smt::kStale) return "nothing written";
  static const char* kinds[] = {"zero", "uninit", "data", "?"};
  return std::string(kinds[v >> 16 & 3]) + " v" + std::to_string(v & 0xffff);
}

std::string state_text(const smt::State& s, const z3::model& m) {
  auto n8 = [&](const expr& x) { return std::to_string(u64_of(m, z3::zext(x, 64 - x.get_sort().bv_size()))); };
  std::string t = bool_of(m, s.mapped) ? "region mapped; " : "region unmapped; ";
  if (bool_of(m, s.orphan)) t += "an orphan of a failed LOCK map; ";
  t += "bitmap bits (lower guard, pages, upper guard) ";
  for (const expr& b : s.bits) t += bool_of(m, b) ? "1" : "0";
  t += "; ";
  for (unsigned p = 0; p < s.pages.size(); ++p) {
    const smt::Page& pg = s.pages[p];
    t += "page " + std::to_string(p) + ": ";
    if (bool_of(m, pg.loaded))
      t += "frame " + n8(pg.frame) + (bool_of(m, pg.a) ? " A" : "") + (bool_of(m, pg.d) ? " D" : "");
    else t += bool_of(m, pg.in_slot) ? "slot " + n8(pg.slot) : "token";
    t += std::string(bool_of(m, pg.pinned) ? " pinned" : "") + (bool_of(m, pg.touched) ? " touched" : "");
    t += " last written " + stamp_text(m, pg.ghost) + "; ";
  }
  for (unsigned i = 0; i < s.frames.size(); ++i) {
    const smt::Frame& fr = s.frames[i];
    t += "frame " + std::to_string(i + 1) + ": " + (bool_of(m, fr.alloc) ? "in use" : "free #" + n8(fr.stamp));
    if (bool_of(m, fr.mapped)) t += " MAPPED at page " + n8(fr.va) + (bool_of(m, fr.pinned) ? " PINNED" : "");
    if (bool_of(m, fr.alloc)) t += " holding " + stamp_text(m, fr.data);
    t += "; ";
  }
  for (unsigned i = 0; i < s.slot_used.size(); ++i)
    if (bool_of(m, s.slot_used[i])) t += "slot " + std::to_string(i) + " holding " + stamp_text(m, s.slot_data[i]) + "; ";
  for (unsigned p = 0; p < s.tlb.size(); ++p)
    for (unsigned i = 0; i < s.tlb[p].size(); ++i)
      if (bool_of(m, s.tlb[p][i].held))
        t += "held page " + std::to_string(p) + " -> frame " + std::to_string(i + 1) +
             (bool_of(m, s.tlb[p][i].dead) ? " (freed since)" : "") + "; ";
  return t + "NRU last " + n8(s.nru_last);
}

/// From every pre-state where the hypothesis holds, `op` keeps every ID of `ids` (spec/prove.md
/// §2).
/// A counterexample of one ID borrows the BMC trace of that ID (a reachable one) or says
/// BMC found none within the depth.
Result step(Run& run, smt::Op op, const std::vector<std::string>& ids) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  smt::Encoding e(c, run.params, run.bounds);
  smt::State pre = e.fresh("pre");
  Result r;
  r.status = Status::proved;
  for (const Step& st : combos(e)) {
    if (st.op != op) continue;
    smt::OpArgs a = e.args("arg", st.page);
    auto [post, note] = e.apply(op, pre, a);
    expr goal = c.bool_val(true);
    for (const std::string& id : ids) goal = goal && e.holds(id, post, note);
    Result one = check_implies(c, e.hypothesis(pre) && e.pre(op, pre, a), goal, run.req,
                               [&](const z3::model& m, Result& out) {
                                 Step s = st;
                                 s.write = op == smt::Op::access && bool_of(m, a.write);
                                 out.detail = "pre-state " + state_text(pre, m) + "; then " + step_text(run, s);
                               });
    if (one.status != Status::proved) {
      r = one;
      break;
    }
  }
  if (ids.size() == 1) finish_inductive(r, ids[0], smt::op_name(op), run.req.depth, "spec §12", [&] { return bmc_once(run, ids[0]); });
  r.seconds = seconds_since(t0);
  return r;
}

Result inductive(Run& run, smt::Op op, const std::string& id) {
  return inductive_step(
      run.steps, smt::op_name(op), run.ids.size(), [&] { return step(run, op, run.ids); }, [&] { return step(run, op, {id}); });
}

/// The base case: the state right after the region's k_mem_map satisfies `id`.
Result initiation(Run& run, const std::string& id) {
  z3::context c;
  smt::Encoding e(c, run.params, run.bounds);
  Result r = check_implies(c, c.bool_val(true), e.holds(id, e.lift(run.initial), e.no_call()), run.req,
                           [&](const z3::model&, Result& out) { out.detail = "the state after the region's k_mem_map breaks it"; });
  if (r.status == Status::proved) r.detail = "holds right after the region's k_mem_map";
  return r;
}

std::vector<Obligation> obligations(const std::string& profile, const Request& req) {
  const vocab::Profile resolved = vocab::resolve_profile(profile);
  const ZephyrParams* p = resolved.params<ZephyrParams>(kKernel);
  if (!p) throw std::invalid_argument("profile '" + profile + "' has no zephyr layer");
  for (const auto& [name, v] : req.bounds)
    if (name != "pages" && name != "frames") throw std::invalid_argument("bound '" + name + "': zephyr knows pages and frames");
  auto run = std::make_shared<Run>();
  run->profile = resolved.full_name();
  run->params = *p;
  run->req = req;
  run->bounds = {req.bound("pages", 4), req.bound("frames", 2)};
  { z3::context c; smt::Encoding check(c, run->params, run->bounds); }  // rejects bounds out of range
  run->initial = smt::plain_of(initial_model(run->profile, run->bounds), run->bounds);
  const ZephyrParams params = *p;
  std::vector<Obligation> out{{Kind::lemma, kKernel, "LEM-ZEPHYR-A1", "", kCite,
                               [params](const Request& r) { return lemma_round_trip(params, r); }}};
  if (params.guards)
    out.push_back({Kind::lemma, kKernel, "LEM-ZEPHYR-A2", "", kCite, [params](const Request& r) { return lemma_guards(params, r); }});
  z3::context c;
  const smt::Encoding enc(c, run->params, run->bounds);
  run->ids = smt::kInvariants;
  for (const std::string& l : enc.lemmas()) run->ids.push_back(l);
  run->ops = enc.ops();
  for (const std::string& id : run->ids)
    out.push_back({Kind::inductive, kKernel, id, "initial", kStateCite, [run, id](const Request&) { return initiation(*run, id); }});
  for (const std::string& id : run->ids)  // operations inner: parallel workers start different operations' steps
    for (smt::Op op : enc.ops())
      out.push_back({Kind::inductive, kKernel, id, smt::op_name(op), kStateCite,
                     [run, op, id](const Request&) { return inductive(*run, op, id); }});
  for (const std::string& id : smt::kInvariants)
    out.push_back({Kind::bmc, kKernel, id, "", kStateCite, [run, id](const Request&) { return bmc_once(*run, id); }});
  return out;
}

}  // namespace

void register_prove() {
  add_prover({kKernel,
              false,
              {{"pages", "4: pages of the one on-demand region (1..8)"}, {"frames", "2: page frames (1..6)"}},
              obligations,
              "demand paging, unmap and map (on demand or LOCK, failing part-way) of one region, 9 operations: "
              "INV-ZEPHYR-1/2/4/5/6/7/8 (contents too), INV-TLB-1/2 and 3 lemmas (inductive steps, BMC), 2 "
              "arithmetic lemmas; a second region (INV-ZEPHYR-3) not encoded"});
}

}  // namespace vmref::zephyr
