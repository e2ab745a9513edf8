// almos-mkh's proof obligations (spec/kernels/almos-mkh.md §11, §12): the MMAP
// allocator's power-of-two rounding and zombie classes over all 2^64 inputs, on the
// model's own functions (almos_arith.hpp); then, over the SMT form (almos_smt.hpp), the
// base case and an inductive step per operation and invariant, and a bounded model check
// per invariant whose shortest counterexample is written as a trace and replayed.
#include <bit>
#include <filesystem>
#include <optional>
#include <fstream>

#include <nlohmann/json.hpp>

#include "almos_arith.hpp"
#include "almos_events.hpp"
#include "almos_smt.hpp"
#include "vmref/prove/counterexample.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::almos {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kCite = "spec/kernels/almos-mkh.md §11";
constexpr const char* kStateCite = "spec/kernels/almos-mkh.md §12";
using nlohmann::json;

/// LEM-ALMOS-A1: for every length the MMAP path accepts, the zombie class k of its page
/// count is the smallest with 2^k >= pages, so a block of class k always holds the request.
Result lemma_order(const Request& req) {
  z3::context c;
  expr len = word_var(c, "len"), page = word_val(c, 4096);
  expr pages = z3::lshr(len + page - word_val(c, 1), word_val(c, 12));
  expr pre = !z3::ult(len + page, len) && pages != 0;  // the model's refusals (spec §4)
  expr k = arith::mmap_order(pages);
  expr one = word_val(c, 1);
  expr goal = z3::ule(k, word_val(c, 52)) && z3::uge(z3::shl(one, k), pages) &&
              (k == 0 || z3::ult(z3::shl(one, k - one), pages));
  return check_implies(c, pre, goal, req, [&](const z3::model& m, Result& r) {
    r.detail = "len " + hex(u64_of(m, len)) + ": pages " + hex(u64_of(m, pages)) + ", class " + std::to_string(u64_of(m, k));
  });
}

/// LEM-ALMOS-A2: a fresh block the bump pointer grants lies inside the MMAP zone.
Result lemma_zone(const AlmosParams& p, const Request& req) {
  z3::context c;
  expr ff = word_var(c, "first_free"), k = word_var(c, "order");
  expr base = word_val(c, p.mmap_base), end = word_val(c, p.mmap_base + p.mmap_pages);
  expr pre = z3::uge(ff, base) && z3::ule(ff, end) && z3::ule(k, word_val(c, 52));
  expr goal = z3::implies(!arith::mmap_exhausted(ff, k, end), z3::ule(ff + z3::shl(word_val(c, 1), k), end));
  return check_implies(c, pre, goal, req, [&](const z3::model& m, Result& r) {
    r.detail = "first_free_vpn " + hex(u64_of(m, ff)) + ", class " + std::to_string(u64_of(m, k));
  });
}

/// A profile's shared state across its obligations.
struct Run {
  std::string profile;
  AlmosParams params;
  smt::Bounds bounds;
  unsigned classes = 3;  ///< BMC: request classes 0..classes-1 besides the zone's and 52
  Request req;
  std::vector<std::string> ids;  ///< invariants and claimed lemmas: the inductive steps' IDs
  std::vector<std::string> based;  ///< the IDs with a base case (call-part invariants have none)
  OnceCache bmc, steps;  ///< one BMC result per invariant, one conjunction result per operation
};

/// One concrete operation of a BMC run; `base`/`order` are the unmapped block's, read
/// from the pre-state (a trace names the range, not the record).
struct Step {
  smt::Op op;
  unsigned pid = 0, child = 0, block = 0, page = 0, cluster = 0, slot = 0;
  std::uint64_t len = 0, base = 0, order = 0;
  bool write = false;
};

/// The operation/index combinations one step chooses among.
std::vector<Step> combos(const smt::Bounds& b) {
  std::vector<Step> out;
  for (smt::Op op : smt::kOps)
    for (unsigned p = 0; p < b.procs; ++p) {
      if (op == smt::Op::unmap_block)
        for (unsigned i = 0; i < b.blocks; ++i) out.push_back({op, p, 0, i});
      else if (op == smt::Op::unmap_page || op == smt::Op::fault)  // a fault's cluster is symbolic
        for (unsigned v = 0; v < b.pages; ++v) out.push_back({op, p, 0, 0, v});
      else if (op == smt::Op::stack || op == smt::Op::unmap_stack || op == smt::Op::stack_fault)
        for (unsigned i = 0; i < b.slots; ++i) {
          Step st{op, p};
          st.slot = i;
          out.push_back(st);
        }
      else if (op == smt::Op::fork)
        for (unsigned c = 0; c < b.procs; ++c) {
          if (c != p) out.push_back({op, p, c});
        }
      else out.push_back({op, p});
    }
  return out;
}

smt::OpArgs args_of(const smt::Encoding& e, const std::string& tag, const Step& st) {
  return e.args(tag, st.pid, st.child, st.block, st.page, st.slot);
}

Step with_args(Step s, const z3::model& m, const smt::OpArgs& a, const smt::State& pre) {
  s.len = u64_of(m, a.len);
  s.write = bool_of(m, a.write);
  s.cluster = static_cast<unsigned>(u64_of(m, z3::zext(a.cluster, 56)));
  if (s.op == smt::Op::fault || s.op == smt::Op::unmap_page) s.page = static_cast<unsigned>(u64_of(m, z3::zext(a.at, 56)));
  s.base = u64_of(m, pre.procs[s.pid].blocks[s.block].base);
  s.order = u64_of(m, pre.procs[s.pid].blocks[s.block].order);
  return s;
}

std::string step_text(const Step& s) {
  std::string t = std::string(smt::op_name(s.op)) + " pid " + std::to_string(s.pid + 1);
  switch (s.op) {
    case smt::Op::mmap: return t + " len " + hex(s.len);
    case smt::Op::unmap_block: return t + " block " + hex(s.base) + " order " + std::to_string(s.order);
    case smt::Op::unmap_page: return t + " data page " + std::to_string(s.page);
    case smt::Op::fault:
      return t + " cluster " + std::to_string(s.cluster) + " data page " + std::to_string(s.page) + (s.write ? " write" : " read");
    case smt::Op::fork: return t + " child " + std::to_string(s.child + 1);
    case smt::Op::stack:
    case smt::Op::unmap_stack: return t + " slot " + std::to_string(s.slot);
    case smt::Op::stack_fault:
      return t + " cluster " + std::to_string(s.cluster) + " slot " + std::to_string(s.slot) + " first page" +
             (s.write ? " write" : " read");
    default: return t;
  }
}

/// The trace event of one step (spec §1-§7 calls; pid i is pid i + 1, every process's
/// reference cluster is 0).
json op_event(const smt::Encoding& e, const Step& s) {
  const std::uint64_t pid = s.pid + 1;
  const std::uint64_t data = e.data_vpn(s.page) << 12;
  switch (s.op) {
    case smt::Op::mmap: return {{"op", "almos_vseg"}, {"pid", pid}, {"type", "anon"}, {"len", hex(s.len)}};
    case smt::Op::unmap_block:
      return {{"op", "almos_munmap"}, {"pid", pid}, {"addr", hex(s.base << 12)}, {"len", hex((std::uint64_t{1} << s.order) << 12)}};
    case smt::Op::unmap_page: return {{"op", "almos_munmap"}, {"pid", pid}, {"addr", hex(data)}, {"len", "0x1000"}};
    case smt::Op::fault:
      return {{"op", "almos_access"}, {"pid", pid}, {"cluster", s.cluster}, {"va", hex(data)}, {"kind", s.write ? "write" : "read"}};
    case smt::Op::fork: return {{"op", "almos_fork"}, {"pid", pid}, {"child", s.child + 1}, {"cluster", 0}};
    case smt::Op::stack: return {{"op", "almos_vseg"}, {"pid", pid}, {"type", "stack"}, {"ltid", s.slot}};
    case smt::Op::unmap_stack:
      return {{"op", "almos_munmap"}, {"pid", pid}, {"addr", hex(e.stack_base(s.slot) << 12)}, {"len", hex(e.stack_pages() << 12)}};
    case smt::Op::stack_fault:
      return {{"op", "almos_access"}, {"pid", pid}, {"cluster", s.cluster}, {"va", hex(e.slot_vpn(s.slot) << 12)},
              {"kind", s.write ? "write" : "read"}};
    case smt::Op::exec: return {{"op", "almos_exec"}, {"pid", pid}};
    case smt::Op::exit: return {{"op", "almos_exit"}, {"pid", pid}};
  }
  throw std::logic_error("unknown op");
}

/// Writes the steps as a trace declaring `id`, after the initial state's two calls.
std::string write_trace(const Run& run, const smt::Encoding& e, const std::string& id, const std::vector<Step>& steps) {
  std::filesystem::create_directories(run.req.out_dir);
  std::string path = trace_path(run.req.out_dir, run.profile, id);
  std::ofstream out(path);
  json h = {{"vmref_trace", 1},
            {"profile", run.profile},
            {"cpus", run.bounds.clusters},
            {"phys_mem", "0x10000000"},
            {"provenance",
             {{"source", "vmref prove: shortest bounded-model-checking counterexample of " + id},
              {"expected", {{"verdict", "findings"}, {"ids", {id}}}}}}};
  out << h.dump() << "\n" << json{{"op", "almos_process"}, {"pid", 1}, {"cluster", 0}}.dump() << "\n";
  out << json{{"op", "almos_vseg"}, {"pid", 1}, {"type", "data"}, {"addr", hex(run.params.elf_base << 12)},
              {"len", hex(std::uint64_t{run.bounds.pages} << 12)}}.dump() << "\n";
  for (const Step& s : steps) out << op_event(e, s).dump() << "\n";
  if (!out) throw std::runtime_error(path + ": cannot write the counterexample trace");
  return path;
}

/// One BMC step: the post-state of whichever operation `choice` picks, and whether it applies.
struct Unrolled {
  smt::State post;
  smt::Note note;
  z3::expr valid;
};
/// A BMC step's arguments: a fault's or a page unmap's DATA page is left free, so that one
/// disjunct serves every page (the combos keep page 0 only).
smt::OpArgs bmc_args(const smt::Encoding& e, const std::string& tag, const Step& st) {
  smt::OpArgs a = args_of(e, tag, st);
  if (st.op == smt::Op::fault || st.op == smt::Op::unmap_page) a.at = e.ctx().bv_const((tag + "_at").c_str(), 8);
  return a;
}

Unrolled unroll_step(const smt::Encoding& e, const std::vector<Step>& all, const smt::State& s, const z3::expr& choice,
                const std::string& tag) {
  z3::context& c = e.ctx();
  Unrolled u{s, e.no_call(), c.bool_val(false)};
  for (std::size_t i = 0; i < all.size(); ++i) {
    smt::OpArgs a = bmc_args(e, tag, all[i]);
    expr pick = choice == c.bv_val(static_cast<unsigned>(i), 16);
    auto [post, n] = e.apply(all[i].op, s, a);
    u.post = e.mux(pick, post, u.post);
    u.note = e.mux(pick, n, u.note);
    u.valid = u.valid || (pick && e.pre(all[i].op, s, a));
  }
  return u;
}

/// The shortest sequence of at most `depth` operations from the initial state that
/// breaks `id` (spec/prove.md §3), as a replayed trace.
Result bmc(Run& run, const std::string& id) {
  z3::context c;
  smt::Encoding e(c, run.params, run.bounds);
  std::vector<Step> all;
  for (const Step& st : combos(run.bounds))
    if (smt::Encoding::affects(st.op, id) && st.page == 0) all.push_back(st);
  std::vector<smt::State> states{e.initial()};
  std::vector<expr> choice;
  std::optional<expr> held;  // `id` after the previous step: the depths before found no violation
  auto unroll = [&](unsigned k) {
    std::string tag = "k" + std::to_string(k);
    expr ch = c.bv_const((tag + "_choice").c_str(), 16);
    Unrolled u = unroll_step(e, all, states.back(), ch, tag);
    // A request behaves as the power of two of its class (spec §3: the vseg takes 2^k
    // pages) and a refused one changes nothing: lengths of 2^k pages, or 0, lose no
    // behaviour. BMC's request classes (a bound, spec §12.3): the first `classes`, the
    // zone's own (it fills the zone) and 52 (the largest, always ENOMEM).
    expr len = c.bv_const((tag + "_len").c_str(), 64), order = c.bv_const((tag + "_order").c_str(), 64);
    expr allowed = order == word_val(c, 52) || order == word_val(c, std::bit_width(run.params.mmap_pages) - 1);
    for (unsigned j = 0; j < run.classes; ++j) allowed = allowed || order == word_val(c, j);
    smt::State named = e.fresh(tag + "_post");  // keeps each step's terms flat
    expr holds = e.holds(id, named, u.note);
    BmcDepth d{{u.valid, len == word_val(c, 0) || len == z3::shl(word_val(c, 4096), order), allowed, e.equal(named, u.post)},
               !holds};
    if (held) d.path.push_back(*held);  // the solver may use it; the result is still the shortest
    held = holds;
    states.push_back(named);
    choice.push_back(ch);
    return d;
  };
  auto found = [&](const z3::model& m, unsigned k, Result& r) {
    std::vector<Step> steps;
    std::vector<std::string> text;
    for (unsigned j = 0; j <= k; ++j) {
      const Step& st = all[u64_of(m, z3::zext(choice[j], 48))];
      steps.push_back(with_args(st, m, bmc_args(e, "k" + std::to_string(j), st), states[j]));
      text.push_back(step_text(steps.back()));
    }
    confirm_by_replay(write_trace(run, e, id, steps), id, r);
    return text;
  };
  return bounded_check(c, run.req, unroll, found);
}

Result step(Run& run, smt::Op op, const std::vector<std::string>& ids);
Result initiation(Run& run, const std::string& id);

/// The BMC of `id`, unless the base cases and every operation's inductive step imply it.
Result bmc_once(Run& run, const std::string& id) {
  return bmc_unless_implied(
      run, id, run.based, smt::kOps, smt::op_name,
      [&](const std::string& i) { return initiation(run, i); }, [&](smt::Op op) { return step(run, op, run.ids); },
      [&] { return bmc(run, id); });
}

std::string state_text(const smt::State& s, const z3::model& m) {
  std::string t;
  for (unsigned i = 0; i < s.procs.size(); ++i) {
    const smt::Proc& p = s.procs[i];
    if (!bool_of(m, p.alive)) continue;
    t += "pid " + std::to_string(i + 1) + ": first_free " + hex(u64_of(m, p.ff));
    for (const smt::Block& b : p.blocks)
      if (bool_of(m, b.used))
        t += std::string(bool_of(m, b.zombie) ? ", zombie " : ", live ") + hex(u64_of(m, b.base)) + "/" +
             std::to_string(u64_of(m, b.order));
    for (unsigned v = 0; v < p.pte.size(); ++v)
      if (bool_of(m, p.pte[v].valid))
        t += ", page " + std::to_string(v) + " -> " + std::to_string(u64_of(m, z3::zext(p.pte[v].frame, 56))) +
             (bool_of(m, p.pte[v].w) ? " W" : "") + (bool_of(m, p.pte[v].cow) ? " COW" : "");
    for (unsigned i = 0; i < p.slots.size(); ++i) {
      if (bool_of(m, p.slots[i].live) || bool_of(m, p.slots[i].bit))
        t += ", stack slot " + std::to_string(i) + (bool_of(m, p.slots[i].live) ? " live" : "") +
             (bool_of(m, p.slots[i].bit) ? " bit" : "");
      for (unsigned k = 0; k < p.slots[i].guard.size(); ++k)
        if (bool_of(m, p.slots[i].guard[k])) t += ", cluster " + std::to_string(k) + " maps slot " + std::to_string(i) + "'s first page";
    }
    for (unsigned k = 0; k < p.copy.size(); ++k)
      for (unsigned v = 0; v < p.copy[k].size(); ++v)
        if (bool_of(m, p.copy[k][v].valid))
          t += ", cluster " + std::to_string(k + 1) + " page " + std::to_string(v) + " -> " +
               std::to_string(u64_of(m, z3::zext(p.copy[k][v].frame, 56))) + (bool_of(m, p.copy[k][v].w) ? " W" : "") +
               (bool_of(m, p.copy[k][v].cow) ? " COW" : "");
    t += "; ";
  }
  for (unsigned f = 0; f < s.frames.size(); ++f)
    if (bool_of(m, s.frames[f].alloc))
      t += "page " + std::to_string(f) + " refs " + std::to_string(u64_of(m, z3::zext(s.frames[f].refs, 56))) + " forks " +
           std::to_string(u64_of(m, z3::zext(s.frames[f].forks, 56))) + "; ";
  return t;
}

/// From every pre-state where the hypothesis holds, `op` keeps every ID of `ids` (spec/prove.md
/// §2).
/// The model has no mechanism events that build an almos-mkh state, so a counterexample
/// of one ID borrows the BMC trace of that ID (a reachable one) or says BMC found none.
Result step(Run& run, smt::Op op, const std::vector<std::string>& ids) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  smt::Encoding e(c, run.params, run.bounds);
  smt::State pre = e.fresh("pre");
  Result r;
  r.status = Status::proved;
  for (const Step& st : combos(run.bounds)) {
    if (st.op != op) continue;
    smt::OpArgs a = args_of(e, "arg", st);
    auto [post, note] = e.apply(op, pre, a);
    expr goal = c.bool_val(true);
    for (const std::string& id : ids) goal = goal && e.holds(id, post, note);
    Result one = check_implies(c, e.hypothesis(pre) && e.pre(op, pre, a), goal, run.req,
                               [&](const z3::model& m, Result& out) {
                                 out.detail = "pre-state " + state_text(pre, m) + "then " + step_text(with_args(st, m, a, pre));
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

/// The base case: pid 1 with its DATA vseg satisfies `id`.
Result initiation(Run& run, const std::string& id) {
  z3::context c;
  smt::Encoding e(c, run.params, run.bounds);
  smt::State s = e.initial();
  Result r = check_implies(c, c.bool_val(true), e.holds(id, s, e.no_call()), run.req,
                           [&](const z3::model&, Result& out) { out.detail = "the initial state breaks it"; });
  if (r.status == Status::proved) r.detail = "holds for the first process and its DATA vseg";
  return r;
}

std::vector<Obligation> obligations(const std::string& profile, const Request& req) {
  const vocab::Profile resolved = vocab::resolve_profile(profile);
  const AlmosParams* p = resolved.params<AlmosParams>(kKernel);
  if (!p) throw std::invalid_argument("profile '" + profile + "' has no almos-mkh layer");
  auto run = std::make_shared<Run>();
  run->profile = resolved.full_name();
  run->params = *p;
  run->req = req;
  for (const auto& [name, v] : req.bounds)
    if (name != "procs" && name != "blocks" && name != "pages" && name != "clusters" && name != "slots" && name != "classes")
      throw std::invalid_argument("bound '" + name + "': almos-mkh knows procs, blocks, pages, clusters, slots and classes");
  run->classes = req.bound("classes", 3);
  if (run->classes < 1 || run->classes > 52)
    throw std::invalid_argument("--bound classes=" + std::to_string(run->classes) + ": 1..52");
  run->bounds = {req.bound("procs", 2), req.bound("blocks", 2), req.bound("pages", 2), req.bound("clusters", 2),
                 req.bound("slots", 1)};
  z3::context zc;
  const smt::Encoding check(zc, run->params, run->bounds);  // rejects bounds out of range
  const AlmosParams params = *p;
  std::vector<Obligation> out = {
      {Kind::lemma, kKernel, "LEM-ALMOS-A1", "", kCite, lemma_order},
      {Kind::lemma, kKernel, "LEM-ALMOS-A2", "", kCite, [params](const Request& r) { return lemma_zone(params, r); }}};
  run->ids = smt::kInvariants;
  for (const std::string& id : smt::kLemmas)
    if (check.claims(id)) run->ids.push_back(id);
  for (const std::string& id : run->ids)
    if (smt::Encoding::is_state_invariant(id)) {
      run->based.push_back(id);
      out.push_back({Kind::inductive, kKernel, id, "initial", kStateCite, [run, id](const Request&) { return initiation(*run, id); }});
    }
  for (const std::string& id : run->ids)  // operations inner: parallel workers start different operations' steps
    for (smt::Op op : smt::kOps)
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
              {{"procs", "2: processes (1..4)"}, {"blocks", "2: MMAP block records per process (1..6)"},
               {"pages", "2: DATA pages per process (1..4); the page pool holds procs x pages"},
               {"clusters", "2: clusters, each with a GPT copy per process; every process's reference is cluster 0 (1..3)"},
               {"slots", "1: STACK slots per process (LTIDs 0..slots-1; 1..4)"},
               {"classes", "3: BMC requests of 2^0..2^(classes-1) pages, the zone's size and 2^52 (1..52)"}},
              obligations,
              "state and 10 operations: INV-ALMOS-1..7 and 4 lemmas (inductive steps, BMC), 2 arithmetic lemmas; "
              "not encoded: CODE, FILE and REMOTE vsegs, partial munmaps of MMAP and STACK vsegs, the clusters' VSL "
              "registrations"});
}

}  // namespace vmref::almos
