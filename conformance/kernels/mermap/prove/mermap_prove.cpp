// The mermap's proof obligations (spec/kernels/mermap.md §10): arithmetic lemmas over the
// allocator's own functions, an inductive step per operation and invariant, and a
// bounded model check per invariant whose shortest counterexample is written as a trace
// and replayed through the C++ model.
#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "mermap_arith.hpp"
#include "mermap_smt.hpp"
#include "vmref/prove/counterexample.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::mermap {

using namespace vmref::prove;
using z3::expr;
using nlohmann::json;

namespace {

constexpr const char* kCite = "spec/kernels/mermap.md §10";

/// One operation of a BMC run, concrete.
struct Step {
  smt::Op op;
  unsigned cpu = 0, slot = 0;
  std::uint64_t len = 0, fail_after = 0;
  bool reserve = false, has_fail = false;
};

/// A profile's shared state across its obligations: the BMC result per invariant is
/// computed once (an inductive counterexample and a lemma borrow its trace).
struct Run {
  std::string profile;
  MermapParams params;
  Request req;
  unsigned cpus = 2;
  std::vector<std::string> ids;  ///< invariants and claimed lemmas: the inductive steps' IDs
  std::vector<std::string> based;  ///< the IDs with a base case (call-part invariants have none)
  OnceCache bmc;    ///< one BMC result per invariant, computed by the first obligation that asks
  OnceCache steps;  ///< one conjunction result per operation (prove::inductive_step)
};

/// The operation/CPU/slot combinations one step chooses among.
std::vector<Step> combos(const smt::Encoding& e) {
  std::vector<Step> out;
  for (smt::Op op : smt::kOps)
    for (unsigned c = 0; c < e.cpus(); ++c)
      for (unsigned i = 0; i < (op == smt::Op::put ? e.slots() : 1u); ++i) out.push_back({op, c, i});
  return out;
}

/// `s` with the arguments the solver chose; a failure index that never acts is dropped.
Step with_args(Step s, const z3::model& m, const smt::OpArgs& a, unsigned slots) {
  s.len = u64_of(m, a.len);
  s.reserve = bool_of(m, a.reserve);
  s.fail_after = u64_of(m, a.fail_after);
  s.has_fail = bool_of(m, a.has_fail) && s.fail_after < arith::page_align<std::uint64_t>(s.len, 4096) / 4096;
  if (s.op == smt::Op::put) {  // BMC's put names its slot symbolically
    const std::uint64_t which = u64_of(m, z3::zext(a.which, 56));
    s.cpu = static_cast<unsigned>(which / slots);
    s.slot = static_cast<unsigned>(which % slots);
  }
  if (s.op == smt::Op::flush || s.op == smt::Op::teardown) s.cpu = static_cast<unsigned>(u64_of(m, z3::zext(a.on, 56)));
  return s;
}

/// A page set's value in `m`, bit b = page b of the tracked area.
std::uint64_t page_bits(const smt::Encoding& e, const z3::model& m, const z3::expr& set) {
  return m.eval(z3::zext(set, 64 - e.width()), true).get_numeral_uint64();
}

std::string step_text(const Step& s) {
  std::string t = std::string(smt::op_name(s.op)) + " cpu " + std::to_string(s.cpu);
  if (s.op == smt::Op::put) t += " slot " + std::to_string(s.slot);
  if (s.op == smt::Op::get) {
    t += " len " + hex(s.len) + (s.reserve ? " reserve" : "");
    if (s.has_fail) t += " fail_after " + std::to_string(s.fail_after);
  }
  return t;
}

/// The trace event of one API operation; a get is named `h`, a put names its slot's handle.
json op_event(const Step& s, const std::string& h, const std::vector<std::vector<std::string>>& handle) {
  switch (s.op) {
    case smt::Op::get: {
      json e = {{"op", "mermap_get"}, {"as", 1}, {"cpu", s.cpu}, {"len", hex(s.len)}, {"handle", h}};
      if (s.reserve) e["reserve"] = true;
      if (s.has_fail) e["fail_after"] = hex(s.fail_after);
      return e;
    }
    case smt::Op::put: return {{"op", "mermap_put"}, {"as", 1}, {"cpu", s.cpu}, {"handle", handle[s.cpu][s.slot]}};
    case smt::Op::teardown: return {{"op", "mermap_teardown"}, {"as", 1}, {"cpu", s.cpu}};
    case smt::Op::flush: return {{"op", "tlb_flush"}, {"scope", "all"}, {"broadcast", false}, {"cpu", s.cpu}};
  }
  throw std::logic_error("unknown op");
}

/// The header and set-up lines of every counterexample trace: the mm, run by every CPU, prepared.
std::ofstream open_trace(const Run& run, const std::string& path, const std::string& source, const std::string& id) {
  std::filesystem::create_directories(run.req.out_dir);
  std::ofstream out(path);
  json h = {{"vmref_trace", 1},
            {"profile", run.profile},
            {"cpus", run.cpus},
            {"phys_mem", "0x1000000"},
            {"provenance", {{"source", source}, {"expected", {{"verdict", "findings"}, {"ids", {id}}}}}}};
  out << h.dump() << "\n" << json{{"op", "as_create"}, {"as", 1}}.dump() << "\n";
  for (unsigned c = 0; c < run.cpus; ++c) out << json{{"op", "switch"}, {"cpu", c}, {"as", 1}}.dump() << "\n";
  out << json{{"op", "mermap_prepare"}, {"as", 1}}.dump() << "\n";
  return out;
}

std::string trace_name(const Run& run, const std::string& suffix) { return trace_path(run.req.out_dir, run.profile, suffix); }

/// An inductive step's counterexample as a mechanism-level trace (spec/prove.md §5): the
/// allocator's own steps and core PTE events build the pre-state in one event group
/// (slots, bump pointers, the migrate depth, stale and mapped pages), then the operation.
std::string write_prestate_trace(const Run& run, const std::string& id, const std::string& op_name,
                                 const smt::Encoding& e, const smt::State& pre, const z3::model& m, const Step& st) {
  std::string path = trace_name(run, id + "." + op_name);
  std::ofstream out = open_trace(run, path, "vmref prove: inductive-step counterexample of " + id + " at " + op_name +
                                                ", its pre-state built by the allocator's steps (spec/kernels/mermap.md §9)",
                                 id);
  std::vector<json> build;
  std::vector<std::vector<std::string>> handle(run.cpus, std::vector<std::string>(run.params.slots));
  const std::uint64_t first = e.area_base();
  unsigned frame = 0;
  for (unsigned c = 0; c < run.cpus; ++c) {
    const smt::Cpu& cpu = pre.cpus[c];
    for (unsigned i = 0; i < run.params.slots; ++i) {
      if (!bool_of(m, cpu.slots[i].in_use)) continue;
      std::uint64_t base = u64_of(m, cpu.slots[i].base), end = u64_of(m, cpu.slots[i].end);
      handle[c][i] = "s" + std::to_string(c) + "_" + std::to_string(i);
      build.push_back({{"op", "mermap_alloc"}, {"as", 1}, {"cpu", c}, {"handle", handle[c][i]}, {"base", hex(base)},
                       {"len", hex(end - base)}, {"reserve", bool_of(m, cpu.slots[i].reserve)}});
    }
    build.push_back({{"op", "mermap_reset"}, {"as", 1}, {"cpu", c}, {"next", hex(u64_of(m, cpu.next))}});
  }
  for (std::uint64_t d = u64_of(m, pre.migrate); d > 0; --d) build.push_back({{"op", "mermap_migrate"}, {"as", 1}, {"cpu", 0}});
  for (unsigned c = 0; c < run.cpus; ++c) {
    std::uint64_t stale = page_bits(e, m, pre.cpus[c].stale);
    for (unsigned b = 0; b < e.width(); ++b) {
      if (!((stale >> b) & 1)) continue;  // a page cached on c, its PTE gone, its frame held by the caller
      std::string f = "st" + std::to_string(frame++), va = hex(first + b * e.page());
      build.push_back({{"op", "frame_alloc"}, {"frame", f}, {"cpu", c}});
      build.push_back({{"op", "frame_ref"}, {"frame", f}, {"holder", "caller"}, {"cpu", c}});
      build.push_back({{"op", "frame_get"}, {"frame", f}, {"cpu", c}});
      build.push_back({{"op", "pte_set"}, {"as", 1}, {"va", va}, {"frame", f}, {"prot", "rw-"}, {"local", true}, {"cpu", c}});
      build.push_back({{"op", "pte_clear"}, {"as", 1}, {"va", va}, {"cpu", c}});
      build.push_back({{"op", "frame_put"}, {"frame", f}, {"cpu", c}});
    }
  }
  for (unsigned c = 0; c < run.cpus; ++c) {
    std::uint64_t mapped = page_bits(e, m, pre.cpus[c].mapped);
    for (unsigned b = 0; b < e.width(); ++b) {
      if (!((mapped >> b) & 1)) continue;  // a PTE local to c
      std::string f = "mp" + std::to_string(frame++);
      build.push_back({{"op", "frame_alloc"}, {"frame", f}, {"cpu", c}});
      build.push_back({{"op", "frame_get"}, {"frame", f}, {"cpu", c}});
      build.push_back({{"op", "pte_set"}, {"as", 1}, {"va", hex(first + b * e.page())}, {"frame", f}, {"prot", "rw-"},
                       {"local", true}, {"cpu", c}});
    }
  }
  for (std::size_t k = 0; k < build.size(); ++k) {
    if (k + 1 < build.size()) build[k]["cont"] = true;  // one event group: checked once it is whole
    out << build[k].dump() << "\n";
  }
  out << op_event(st, "h1", handle).dump() << "\n";
  if (!out) throw std::runtime_error(path + ": cannot write the counterexample trace");
  return path;
}

/// Writes the steps as a trace (spec/trace-format.md) declaring `id`; returns its path.
std::string write_trace(const Run& run, const std::string& id, const std::vector<Step>& steps,
                        const std::vector<std::vector<std::vector<bool>>>& used_before) {
  std::string path = trace_name(run, id);
  std::ofstream out = open_trace(run, path, "vmref prove: shortest bounded-model-checking counterexample of " + id, id);
  std::vector<std::vector<std::string>> handle(run.cpus, std::vector<std::string>(run.params.slots));
  for (std::size_t k = 0; k < steps.size(); ++k) {
    std::string h = "h" + std::to_string(k + 1);
    out << op_event(steps[k], h, handle).dump() << "\n";
    if (steps[k].op == smt::Op::get)
      for (unsigned i = 0; i < run.params.slots; ++i)  // the slot it took, if it succeeded
        if (!used_before[k][steps[k].cpu][i] && k + 1 < used_before.size() && used_before[k + 1][steps[k].cpu][i])
          handle[steps[k].cpu][i] = h;
  }
  if (!out) throw std::runtime_error(path + ": cannot write the counterexample trace");
  return path;
}

/// The shortest sequence of at most `depth` operations from the initial state that
/// breaks `id` (spec/prove.md §3), as a replayed trace.
Result bmc(Run& run, const std::string& id) {
  z3::context c;
  smt::Encoding e(c, run.params, run.cpus);
  std::vector<Step> all;  // one put, flush and teardown for every slot and CPU: `which` and `on` are symbolic here
  for (const Step& st : combos(e))
    if (st.op == smt::Op::get || (st.cpu == 0 && st.slot == 0)) all.push_back(st);
  std::vector<smt::State> states{e.initial()};
  std::vector<expr> choice;
  std::vector<smt::OpArgs> args;
  std::optional<expr> held;  // `id` after the previous step
  auto unroll = [&](unsigned k) {
    std::string tag = "k" + std::to_string(k);
    expr ch = c.bv_const((tag + "_choice").c_str(), 16);
    smt::OpArgs a = e.args(tag, 0, 0);
    a.which = c.bv_const((tag + "_which").c_str(), 8);
    a.on = c.bv_const((tag + "_on").c_str(), 8);
    smt::State next = states.back();
    smt::Note note = e.no_call();
    expr valid = c.bool_val(false);
    for (std::size_t i = 0; i < all.size(); ++i) {
      smt::OpArgs ai = a;
      ai.cpu = all[i].cpu;
      ai.slot = all[i].slot;
      expr pick = ch == c.bv_val(static_cast<unsigned>(i), 16);
      auto [post, n] = e.apply(all[i].op, states.back(), ai);
      next = e.mux(pick, post, next);
      note = e.mux(pick, n, note);
      valid = valid || (pick && e.pre(all[i].op, states.back(), ai));
    }
    // Lengths above one region take the same refusal (§2 step 1), and a write failure
    // only acts below the allocation's page count: bounding both loses no behaviour.
    const std::uint64_t region = run.params.region_pages * 4096;
    // The post-state as fresh constants equal to the relation's terms keeps each step's
    // terms flat instead of nesting every earlier step.
    smt::State named = e.fresh(tag + "_post");
    expr holds = e.holds(id, states.back(), named, note);
    BmcDepth d{{valid, z3::ule(a.len, word_val(c, region + 4096)), z3::ule(a.fail_after, word_val(c, run.params.region_pages)),
                e.equal(named, next)},
               !holds};
    if (held) d.path.push_back(*held);  // the depths before found no violation: the solver may use it
    held = holds;
    states.push_back(named);
    choice.push_back(ch);
    args.push_back(a);
    return d;
  };
  auto found = [&](const z3::model& m, unsigned k, Result& r) {
    std::vector<Step> steps;
    std::vector<std::string> text;
    for (unsigned j = 0; j <= k; ++j) {
      steps.push_back(with_args(all[u64_of(m, z3::zext(choice[j], 48))], m, args[j], run.params.slots));
      text.push_back(step_text(steps.back()));
    }
    std::vector<std::vector<std::vector<bool>>> used;  // per state, CPU and slot: in use
    for (const smt::State& st : states) {
      std::vector<std::vector<bool>> u;
      for (const smt::Cpu& cpu : st.cpus) {
        std::vector<bool> row;
        for (const smt::Slot& sl : cpu.slots) row.push_back(bool_of(m, sl.in_use));
        u.push_back(row);
      }
      used.push_back(u);
    }
    confirm_by_replay(write_trace(run, id, steps, used), id, r);
    return text;
  };
  return bounded_check(c, run.req, unroll, found);
}

/// The BMC result of `id`, computed once per run.
Result step(Run& run, smt::Op op, const std::vector<std::string>& ids);
Result initiation(Run& run, const std::string& id);

/// The BMC of `id`, unless the base cases and every operation's inductive step imply it.
Result bmc_once(Run& run, const std::string& id) {
  return bmc_unless_implied(
      run, id, run.based, smt::kOps, smt::op_name,
      [&](const std::string& i) { return initiation(run, i); }, [&](smt::Op op) { return step(run, op, run.ids); },
      [&] { return bmc(run, id); });
}

/// A counterexample without a trace of its own borrows the BMC trace of `id`.
void borrow_trace(Run& run, const std::string& id, Result& r) { borrow_bmc_trace(bmc_once(run, id), id, run.req.depth, r); }

std::string state_text(const smt::Encoding& e, const smt::State& s, const z3::model& m) {
  std::string t;
  for (unsigned c = 0; c < e.cpus(); ++c) {
    t += "cpu " + std::to_string(c) + ": next " + hex(u64_of(m, s.cpus[c].next));
    for (const smt::Slot& sl : s.cpus[c].slots)
      if (bool_of(m, sl.in_use))
        t += ", live [" + hex(u64_of(m, sl.base)) + ", " + hex(u64_of(m, sl.end)) + ")" + (bool_of(m, sl.reserve) ? "r" : "");
    t += ", mapped " + hex(page_bits(e, m, s.cpus[c].mapped)) + ", stale " + hex(page_bits(e, m, s.cpus[c].stale)) + "; ";
  }
  return t + "migrate depth " + std::to_string(u64_of(m, s.migrate));
}

/// From every pre-state where the hypothesis holds, `op` keeps every ID of `ids` (spec/prove.md
/// §2). A counterexample of one ID is written as a pre-state trace and replayed.
Result step(Run& run, smt::Op op, const std::vector<std::string>& ids) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  smt::Encoding e(c, run.params, run.cpus);
  smt::State pre = e.fresh("pre");
  Result r;
  r.status = Status::proved;
  for (const Step& st : combos(e)) {
    if (st.op != op) continue;
    smt::OpArgs a = e.args("arg", st.cpu, st.slot);
    auto [post, note] = e.apply(op, pre, a);
    expr goal = c.bool_val(true);
    for (const std::string& id : ids) goal = goal && e.holds(id, pre, post, note);
    Result one = check_implies(c, e.hypothesis(pre) && e.pre(op, pre, a), goal, run.req,
                               [&](const z3::model& m, Result& out) {
                                 Step s = with_args(st, m, a, run.params.slots);
                                 out.detail = "pre-state " + state_text(e, pre, m) + "; then " + step_text(s);
                                 const std::string& id = ids[0];
                                 if (ids.size() == 1 && id.rfind("INV-", 0) == 0)
                                   confirm_by_replay(write_prestate_trace(run, id, smt::op_name(op), e, pre, m, s), id, out, true);
                               });
    if (one.status != Status::proved) {
      r = one;
      break;
    }
  }
  const std::string& id = ids[0];
  if (r.status == Status::counterexample && ids.size() == 1) {
    if (id.rfind("INV-", 0) == 0) {  // the built pre-state's verdict, then whether BMC reaches one
      Result b = bmc_once(run, id);
      r.replay = "pre-state built by the allocator's steps: " + r.replay + "; " +
                 (b.status == Status::counterexample ? "reachable: BMC trace " + b.trace
                                                     : "not reached by BMC within depth " + std::to_string(run.req.depth));
    } else r.replay = "NOT confirmed: " + id + " is a strengthening lemma (spec §10.2), which no model check names; "
                    "it should hold on this profile, so the lemma or the encoding is wrong";
  }
  if (r.status == Status::proved) r.detail = "holds after every " + std::string(smt::op_name(op)) + " from the hypothesis";
  r.seconds = seconds_since(t0);
  return r;
}

Result inductive(Run& run, smt::Op op, const std::string& id) {
  return inductive_step(
      run.steps, smt::op_name(op), run.ids.size(), [&] { return step(run, op, run.ids); }, [&] { return step(run, op, {id}); });
}

/// The base case: the state right after mermap_prepare satisfies `id` (spec/prove.md §2).
Result initiation(Run& run, const std::string& id) {
  z3::context c;
  smt::Encoding e(c, run.params, run.cpus);
  smt::State s = e.initial();
  Result r = check_implies(c, c.bool_val(true), e.holds(id, s, s, e.no_call()), run.req,
                           [&](const z3::model&, Result& out) { out.detail = "the initial state breaks it"; });
  if (r.status == Status::proved) r.detail = "holds right after mermap_prepare";
  return r;
}

/// LEM-MERMAP-A1: PAGE_ALIGN of a length the get accepts (at most one region) is the
/// smallest page multiple not below it, and stays within the region.
Result lemma_align(Run& run) {
  z3::context c;
  expr len = word_var(c, "len"), page = word_val(c, 4096), region = word_val(c, run.params.region_pages * 4096);
  expr size = arith::page_align(len, page);
  expr goal = z3::uge(size, len) && z3::ult(size - len, page) && (size & (page - 1)) == 0 && z3::ule(size, region);
  return check_implies(c, z3::ule(len, region), goal, run.req, [&](const z3::model& m, Result& r) {
    r.detail = "len " + hex(u64_of(m, len)) + " gives size " + hex(u64_of(m, size));
  });
}

/// LEM-MERMAP-A2: whatever mermap_alloc grants lies inside [cpu_base, cpu_end], for
/// every bump pointer and every highest live end the region can hold.
Result lemma_grant(Run& run) {
  z3::context c;
  const std::uint64_t region = run.params.region_pages * 4096;
  expr cpu = word_var(c, "cpu"), next = word_var(c, "next"), new_next = word_var(c, "new_next"), size = word_var(c, "size");
  expr base = arith::cpu_base(word_val(c, run.params.base), cpu, word_val(c, region));
  expr hi = base + word_val(c, region), cpu_end = hi - word_val(c, 4096);  // a normal request
  expr pre = z3::ult(cpu, word_val(c, run.cpus)) && z3::uge(next, base) && z3::ule(next, hi) && z3::uge(new_next, base) &&
             z3::ule(new_next, hi) && z3::ule(size, word_val(c, region)) && (size & word_val(c, 4095)) == 0;
  expr exhausted = arith::bump_exhausted(next, size, cpu_end);
  expr refused = arith::reset_refuses(size, cpu_end, new_next, c.bool_val(run.params.bound_fix));
  expr start = z3::ite(exhausted, new_next, next);
  expr goal = z3::implies(!(exhausted && refused), z3::uge(start, base) && z3::ule(start + size, cpu_end));
  Result r = check_implies(c, pre, goal, run.req, [&](const z3::model& m, Result& out) {
    out.detail = "cpu " + std::to_string(u64_of(m, cpu)) + ", next " + hex(u64_of(m, next)) + ", highest live end " +
                 hex(u64_of(m, new_next)) + ", size " + hex(u64_of(m, size)) + ": granted at " + hex(u64_of(m, start)) +
                 ", cpu_end " + hex(u64_of(m, cpu_end));
  });
  if (r.status == Status::counterexample) borrow_trace(run, "INV-MERMAP-1", r);
  return r;
}

std::vector<Obligation> obligations(const std::string& profile, const Request& req) {
  const vocab::Profile resolved = vocab::resolve_profile(profile);
  const MermapParams* p = resolved.params<MermapParams>(kKernel);
  if (!p) throw std::invalid_argument("profile '" + profile + "' has no mermap layer");
  auto run = std::make_shared<Run>();
  run->profile = resolved.full_name();
  run->params = *p;
  run->req = req;
  run->cpus = req.bound("cpus", 2);
  for (const auto& [name, v] : req.bounds)
    if (name != "cpus") throw std::invalid_argument("bound '" + name + "': the mermap knows only cpus");
  { z3::context c; smt::Encoding check(c, run->params, run->cpus); }  // rejects bounds out of range
  std::vector<Obligation> out;
  out.push_back({Kind::lemma, kKernel, "LEM-MERMAP-A1", "", kCite, [run](const Request&) { return lemma_align(*run); }});
  out.push_back({Kind::lemma, kKernel, "LEM-MERMAP-A2", "", kCite, [run](const Request&) { return lemma_grant(*run); }});
  z3::context c;
  run->ids = smt::kInvariants;
  for (const std::string& l : smt::Encoding(c, run->params, run->cpus).lemmas()) run->ids.push_back(l);
  for (const std::string& id : run->ids)
    if (smt::Encoding::is_state_invariant(id)) {
      run->based.push_back(id);
      out.push_back({Kind::inductive, kKernel, id, "initial", kCite, [run, id](const Request&) { return initiation(*run, id); }});
    }
  for (const std::string& id : run->ids)  // operations inner: parallel workers start different operations' steps
    for (smt::Op op : smt::kOps)
      out.push_back({Kind::inductive, kKernel, id, smt::op_name(op), kCite,
                     [run, op, id](const Request&) { return inductive(*run, op, id); }});
  for (const std::string& id : smt::kInvariants)
    out.push_back({Kind::bmc, kKernel, id, "", kCite, [run, id](const Request&) { return bmc_once(*run, id); }});
  return out;
}

}  // namespace

void register_prove() {
  add_prover({kKernel, false, {{"cpus", "2: CPUs running the mm ((cpus + 1) x region_pages <= 64)"}}, obligations,
              "state and 4 operations: INV-MERMAP-1..7 and 5 lemmas (inductive steps, BMC), 2 arithmetic lemmas"});
}

}  // namespace vmref::mermap
