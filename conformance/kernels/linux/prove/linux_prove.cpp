// Linux's proof obligations (spec/kernels/linux.md §8): the SMT form of private anonymous
// memory (linux_smt.hpp), an inductive step per operation and invariant, and a bounded
// model check per invariant whose shortest counterexample is written as a trace and
// replayed through the C++ model.
#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "linux_smt.hpp"
#include "vmref/model/model.hpp"
#include "vmref/prove/counterexample.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::linux_mm {

using namespace vmref::prove;
using z3::expr;
using nlohmann::json;

namespace {

constexpr const char* kCite = "spec/kernels/linux.md §8";

/// One operation of a BMC run, concrete.
struct Step {
  smt::Op op;
  unsigned space = 0, page = 0;
  bool write = false;
};

/// A profile's shared state across its obligations: the initial state (read from the
/// model after the set-up lines) and the BMC result per invariant, computed once.
struct Run {
  std::string profile;
  LinuxParams params;
  smt::Bounds bounds;
  smt::Plain initial;
  Request req;
  std::vector<std::string> ids;  ///< invariants and claimed lemmas: the inductive steps' IDs
  OnceCache bmc, steps;
};

std::vector<Step> combos(const smt::Bounds& b) {
  std::vector<Step> out{{smt::Op::fork}};
  for (smt::Op op : {smt::Op::access, smt::Op::munmap})
    for (unsigned k = 0; k < smt::kSpaces; ++k)
      for (unsigned p = 0; p < b.pages; ++p) out.push_back({op, k, p});
  for (unsigned k = 0; k < smt::kSpaces; ++k) out.push_back({smt::Op::mprotect, k, 0});
  return out;
}

/// Whether the step reads OpArgs::write (the access kind, or the right mprotect gives).
bool reads_write(smt::Op op) { return op == smt::Op::access || op == smt::Op::mprotect; }

std::string step_text(const Step& s) {
  if (s.op == smt::Op::fork) return "fork";
  std::string t = std::string(smt::op_name(s.op)) + " as " + std::to_string(s.space + 1) + " page " + std::to_string(s.page);
  if (s.op == smt::Op::mprotect) return std::string("mprotect as ") + std::to_string(s.space + 1) + (s.write ? " rw-" : " r--");
  return s.op == smt::Op::access ? t + (s.write ? " write" : " read") : t;
}

/// The set-up lines applied to a fresh model: what every obligation starts from.
model::Model initial_model(const std::string& profile, const smt::Bounds& b) {
  model::Model m(profile, smt::kSpaces, b.frames, 4096);
  std::uint64_t line = 1;
  for (const std::string& l : smt::setup_lines(b)) m.apply(trace::event_from_json(json::parse(l), "<prove set-up>", ++line));
  return m;
}

std::string write_trace(const Run& run, const std::string& id, const std::vector<Step>& steps) {
  std::filesystem::create_directories(run.req.out_dir);
  std::string path = trace_path(run.req.out_dir, run.profile, id);
  std::ofstream out(path);
  json h = {{"vmref_trace", 1},
            {"profile", run.profile},
            {"cpus", smt::kSpaces},
            {"phys_mem", trace::hex(std::uint64_t{run.bounds.frames} << 12)},
            {"provenance",
             {{"source", "vmref prove: shortest bounded-model-checking counterexample of " + id},
              {"expected", {{"verdict", "findings"}, {"ids", {id}}}}}}};
  out << h.dump() << "\n";
  for (const std::string& l : smt::setup_lines(run.bounds)) out << l << "\n";
  for (const Step& s : steps)
    for (const std::string& l : smt::op_lines(s.op, s.space, s.page, s.write, run.bounds.pages)) out << l << "\n";
  if (!out) throw std::runtime_error(path + ": cannot write the counterexample trace");
  return path;
}

/// The shortest sequence of at most `depth` operations after the set-up that breaks `id`
/// (spec/prove.md §3), as a replayed trace.
Result bmc(Run& run, const std::string& id) {
  z3::context c;
  smt::Encoding e(c, run.params, run.bounds);
  const std::vector<Step> all = combos(run.bounds);
  std::vector<smt::State> states{e.lift(run.initial)};
  std::vector<expr> choice, write;
  std::optional<expr> held;  // `id` after the previous step: the depths before found no violation
  auto unroll = [&](unsigned k) {
    std::string tag = "k" + std::to_string(k);
    expr ch = c.bv_const((tag + "_choice").c_str(), 16);
    smt::OpArgs a = e.args(tag, 0, 0);
    smt::State next = states.back();
    expr valid = c.bool_val(false);
    for (std::size_t i = 0; i < all.size(); ++i) {
      a.space = all[i].space;
      a.page = all[i].page;
      expr pick = ch == c.bv_val(static_cast<unsigned>(i), 16);
      next = e.mux(pick, e.apply(all[i].op, states.back(), a), next);
      valid = valid || (pick && e.pre(all[i].op, states.back(), a));
    }
    smt::State named = e.fresh(tag + "_post");  // keeps each step's terms flat
    expr holds = e.holds(id, named);
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
      st.write = reads_write(st.op) && bool_of(m, write[j]);
      steps.push_back(st);
      text.push_back(step_text(st));
    }
    confirm_by_replay(write_trace(run, id, steps), id, r);
    return text;
  };
  return bounded_check(c, run.req, unroll, found);
}

Result step(Run& run, smt::Op op, const std::vector<std::string>& ids);
Result initiation(Run& run, const std::string& id);

/// The BMC of `id`, unless the base cases and every operation's inductive step imply it.
Result bmc_once(Run& run, const std::string& id) {
  return bmc_unless_implied(
      run, id, run.ids, smt::kOps, smt::op_name,
      [&](const std::string& i) { return initiation(run, i); }, [&](smt::Op op) { return step(run, op, run.ids); },
      [&] { return bmc(run, id); });
}

std::string state_text(const smt::State& s, const z3::model& m) {
  auto n = [&](const expr& x) { return std::to_string(u64_of(m, z3::zext(x, 64 - x.get_sort().bv_size()))); };
  std::string t;
  for (unsigned k = 0; k < smt::kSpaces; ++k) {
    if (!bool_of(m, s.alive[k])) continue;
    t += "as " + std::to_string(k + 1) + ":";
    for (unsigned p = 0; p < s.pages[k].size(); ++p) {
      const smt::Page& pg = s.pages[k][p];
      t += " page " + std::to_string(p);
      if (!bool_of(m, pg.inseg)) t += " unmapped";
      else if (bool_of(m, pg.valid))
        t += " -> frame " + n(pg.frame) + (bool_of(m, pg.w) ? " W" : "") + (bool_of(m, pg.cow) ? " COW" : "");
      else t += " no PTE";
      if (bool_of(m, pg.anon)) t += " (anon owner)";
      if (bool_of(m, pg.inseg) && !bool_of(m, pg.vw)) t += " (vseg r--)";
      for (unsigned i = 0; i < s.frames.size(); ++i)
        if (bool_of(m, s.tlb[k][p][i].held))
          t += ", held -> frame " + std::to_string(i + 1) + (bool_of(m, s.tlb[k][p][i].w) ? " W" : "") +
               (bool_of(m, s.tlb[k][p][i].dead) ? " (freed since)" : "");
    }
    t += "; ";
  }
  for (unsigned i = 0; i < s.frames.size(); ++i)
    t += "frame " + std::to_string(i + 1) + ": " + (bool_of(m, s.frames[i].alloc) ? "refs " + n(s.frames[i].refs) : "free") + "; ";
  return t;
}

/// From every pre-state where the hypothesis holds, `op` keeps every ID of `ids` (spec/prove.md
/// §2). A counterexample of one ID borrows the BMC trace of that ID, or says BMC found none.
Result step(Run& run, smt::Op op, const std::vector<std::string>& ids) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  smt::Encoding e(c, run.params, run.bounds);
  smt::State pre = e.fresh("pre");
  Result r;
  r.status = Status::proved;
  for (const Step& st : combos(run.bounds)) {
    if (st.op != op) continue;
    smt::OpArgs a = e.args("arg", st.space, st.page);
    const smt::State post = e.apply(op, pre, a);
    expr goal = c.bool_val(true);
    for (const std::string& id : ids) goal = goal && e.holds(id, post);
    Result one = check_implies(c, e.hypothesis(pre) && e.pre(op, pre, a), goal, run.req,
                               [&](const z3::model& m, Result& out) {
                                 Step s = st;
                                 s.write = reads_write(op) && bool_of(m, a.write);
                                 out.detail = "pre-state " + state_text(pre, m) + "then " + step_text(s);
                               });
    if (one.status != Status::proved) {
      r = one;
      break;
    }
  }
  if (ids.size() == 1) finish_inductive(r, ids[0], smt::op_name(op), run.req.depth, "spec §8", [&] { return bmc_once(run, ids[0]); });
  r.seconds = seconds_since(t0);
  return r;
}

Result inductive(Run& run, smt::Op op, const std::string& id) {
  return inductive_step(
      run.steps, smt::op_name(op), run.ids.size(), [&] { return step(run, op, run.ids); }, [&] { return step(run, op, {id}); });
}

/// The base case: the state right after the set-up satisfies `id`.
Result initiation(Run& run, const std::string& id) {
  z3::context c;
  smt::Encoding e(c, run.params, run.bounds);
  Result r = check_implies(c, c.bool_val(true), e.holds(id, e.lift(run.initial)), run.req,
                           [&](const z3::model&, Result& out) { out.detail = "the state after the vseg's mmap breaks it"; });
  if (r.status == Status::proved) r.detail = "holds right after the vseg's mmap";
  return r;
}

std::vector<Obligation> obligations(const std::string& profile, const Request& req) {
  const vocab::Profile resolved = vocab::resolve_profile(profile);
  const LinuxParams* p = resolved.params<LinuxParams>(kKernel);
  if (!p) throw std::invalid_argument("profile '" + profile + "' has no linux layer");
  for (const auto& [name, v] : req.bounds)
    if (name != "pages" && name != "frames") throw std::invalid_argument("bound '" + name + "': linux knows pages and frames");
  auto run = std::make_shared<Run>();
  run->profile = resolved.full_name();
  run->params = *p;
  run->req = req;
  run->bounds = {req.bound("pages", 2), req.bound("frames", 2)};
  z3::context c;
  smt::Encoding check(c, run->params, run->bounds);  // rejects bounds out of range
  run->initial = smt::plain_of(initial_model(run->profile, run->bounds), run->bounds);
  run->ids = smt::kInvariants;
  for (const std::string& l : check.lemmas()) run->ids.push_back(l);
  std::vector<Obligation> out;
  for (const std::string& id : run->ids)
    out.push_back({Kind::inductive, kKernel, id, "initial", kCite, [run, id](const Request&) { return initiation(*run, id); }});
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
  add_prover({kKernel,
              false,
              {{"pages", "2: pages of the private anonymous vseg (1..4)"}, {"frames", "2: page frames (1..6)"}},
              obligations,
              "private anonymous memory of a parent and its fork child, 4 operations (access, fork, munmap of a page, "
              "mprotect of the vseg): INV-FRAME-1/2, INV-COW-1/2, INV-GPT-1/2/3, INV-TLB-1/2/3 and 4 lemmas "
              "(inductive steps, BMC); file mappings, partial mprotect, mremap, madvise, pins and THP not encoded"});
}

}  // namespace vmref::linux_mm
