// The almos-mkh transition relation and invariants over Z3 bit-vectors (spec/kernels/almos-mkh.md §12).
#include "almos_smt.hpp"

#include <stdexcept>

#include "almos_arith.hpp"
#include "vmref/prove/solve.hpp"

namespace vmref::almos::smt {

using z3::expr;

const char* op_name(Op op) {
  switch (op) {
    case Op::mmap: return "mmap";
    case Op::unmap_block: return "unmap_block";
    case Op::unmap_page: return "unmap_page";
    case Op::fault: return "fault";
    case Op::stack: return "stack";
    case Op::unmap_stack: return "unmap_stack";
    case Op::stack_fault: return "stack_fault";
    case Op::fork: return "fork";
    case Op::exec: return "exec";
    case Op::exit: return "exit";
  }
  return "?";
}

Encoding::Encoding(z3::context& c, const AlmosParams& p, Bounds b) : c_(c), p_(p), b_(b) {
  if (b.procs < 1 || b.procs > 4) throw std::invalid_argument("--bound procs=" + std::to_string(b.procs) + ": 1..4");
  if (b.blocks < 1 || b.blocks > 6) throw std::invalid_argument("--bound blocks=" + std::to_string(b.blocks) + ": 1..6");
  if (b.pages < 1 || b.pages > 4) throw std::invalid_argument("--bound pages=" + std::to_string(b.pages) + ": 1..4");
  if (b.clusters < 1 || b.clusters > 3)
    throw std::invalid_argument("--bound clusters=" + std::to_string(b.clusters) + ": 1..3");
  if (b.slots < 1 || b.slots > 4 || b.slots > p.stack_slots)
    throw std::invalid_argument("--bound slots=" + std::to_string(b.slots) + ": 1..4");
}

State Encoding::fresh(const std::string& tag) const {
  auto name = [&](const std::string& n) { return (tag + "_" + n); };
  State s{{}, {}, c_.bv_const(name("clock").c_str(), 16)};
  for (unsigned i = 0; i < b_.procs; ++i) {
    std::string p = "p" + std::to_string(i) + "_";
    Proc pr{c_.bool_const(name(p + "alive").c_str()), c_.bv_const(name(p + "ff").c_str(), 64), {}, {}, {}, {}};
    auto entry = [&](const std::string& q) {
      return Entry{c_.bool_const(name(q + "valid").c_str()), c_.bv_const(name(q + "frame").c_str(), 8),
                   c_.bool_const(name(q + "w").c_str()), c_.bool_const(name(q + "cow").c_str())};
    };
    for (unsigned k = 0; k < b_.blocks; ++k) {
      std::string q = p + "b" + std::to_string(k) + "_";
      pr.blocks.push_back({c_.bool_const(name(q + "used").c_str()), c_.bool_const(name(q + "zombie").c_str()),
                           c_.bv_const(name(q + "base").c_str(), 64), c_.bv_const(name(q + "order").c_str(), 64),
                           c_.bv_const(name(q + "stamp").c_str(), 16)});
    }
    for (unsigned v = 0; v < b_.pages; ++v) {
      std::string q = p + "v" + std::to_string(v) + "_";
      pr.inseg.push_back(c_.bool_const(name(q + "inseg").c_str()));
      pr.pte.push_back(entry(q));
    }
    for (unsigned k = 1; k < b_.clusters; ++k) {
      pr.copy.emplace_back();
      for (unsigned v = 0; v < b_.pages; ++v) pr.copy.back().push_back(entry(p + "c" + std::to_string(k) + "v" + std::to_string(v) + "_"));
    }
    for (unsigned i = 0; i < b_.slots; ++i) {
      std::string q = p + "s" + std::to_string(i) + "_";
      Slot sl{c_.bool_const(name(q + "bit").c_str()), c_.bool_const(name(q + "live").c_str()), {}};
      for (unsigned k = 0; k < b_.clusters; ++k) sl.guard.push_back(c_.bool_const(name(q + "guard" + std::to_string(k)).c_str()));
      pr.slots.push_back(sl);
    }
    s.procs.push_back(pr);
  }
  for (unsigned f = 0; f < frames(); ++f) {
    std::string q = "f" + std::to_string(f) + "_";
    s.frames.push_back({c_.bool_const(name(q + "alloc").c_str()), c_.bv_const(name(q + "refs").c_str(), 8),
                        c_.bv_const(name(q + "forks").c_str(), 8)});
  }
  return s;
}

State Encoding::lift(const Plain& in) const {
  State s{{}, {}, c_.bv_val(in.clock, 16)};
  for (const Plain::Pr& p : in.procs) {
    Proc pr{c_.bool_val(p.alive), w(p.ff), {}, {}, {}, {}};
    auto entry = [&](const Plain::Ent& e) { return Entry{c_.bool_val(e.valid), b8(e.frame), c_.bool_val(e.w), c_.bool_val(e.cow)}; };
    for (const Plain::Blk& k : p.blocks)
      pr.blocks.push_back({c_.bool_val(k.used), c_.bool_val(k.zombie), w(k.base), w(k.order), c_.bv_val(k.stamp, 16)});
    for (bool i : p.inseg) pr.inseg.push_back(c_.bool_val(i));
    for (const Plain::Ent& e : p.pte) pr.pte.push_back(entry(e));
    for (const std::vector<Plain::Ent>& g : p.copy) {
      pr.copy.emplace_back();
      for (const Plain::Ent& e : g) pr.copy.back().push_back(entry(e));
    }
    for (const Plain::Sl& sl : p.slots) {
      Slot x{c_.bool_val(sl.bit), c_.bool_val(sl.live), {}};
      for (bool g : sl.guard) x.guard.push_back(c_.bool_val(g));
      pr.slots.push_back(x);
    }
    s.procs.push_back(pr);
  }
  for (const Plain::Fr& f : in.frames) s.frames.push_back({c_.bool_val(f.alloc), b8(f.refs), b8(f.forks)});
  return s;
}

State Encoding::initial() const {
  Plain p;
  p.procs.resize(b_.procs);
  for (unsigned i = 0; i < b_.procs; ++i) {
    p.procs[i].alive = i == 0;
    p.procs[i].ff = p_.mmap_base;
    p.procs[i].blocks.resize(b_.blocks);
    p.procs[i].inseg.assign(b_.pages, i == 0);
    p.procs[i].pte.resize(b_.pages);
    p.procs[i].copy.assign(b_.clusters - 1, std::vector<Plain::Ent>(b_.pages));
    p.procs[i].slots.assign(b_.slots, {false, false, std::vector<bool>(b_.clusters, false)});
  }
  p.frames.resize(frames());
  return lift(p);
}

OpArgs Encoding::args(const std::string& tag, unsigned pid, unsigned child, unsigned block, unsigned page,
                      unsigned slot) const {
  return {pid,
          child,
          block,
          page,
          slot,
          c_.bv_const((tag + "_len").c_str(), 64),
          c_.bv_const((tag + "_order").c_str(), 64),
          c_.bool_const((tag + "_write").c_str()),
          c_.bv_const((tag + "_fresh").c_str(), 8),
          c_.bv_const((tag + "_cluster").c_str(), 8),
          c_.bv_val(page, 8)};
}

expr Encoding::block_pages(const expr& order) const { return z3::shl(w(1), order); }

expr Encoding::count(const std::vector<expr>& bits) const {
  expr n = b8(0);
  for (const expr& b : bits) n = n + z3::ite(b, b8(1), b8(0));
  return n;
}

expr Encoding::mappers(const State& s, unsigned f, bool cow_only) const {
  std::vector<expr> bits;
  for (const Proc& p : s.procs)
    for (const Entry& e : p.pte) bits.push_back(p.alive && e.valid && e.frame == b8(f) && (cow_only ? e.cow : c_.bool_val(true)));
  return count(bits);
}

// ---- the transition relation -------------------------------------------------------

void Encoding::new_page(State& s, const expr& frame, const expr& when) const {
  for (unsigned f = 0; f < frames(); ++f) {
    expr at = when && frame == b8(f);
    Frame& fr = s.frames[f];
    fr = {fr.alloc || at, z3::ite(at, b8(1), fr.refs), z3::ite(at, b8(0), fr.forks)};
  }
}

// put_page (spec §6): a COW sharer leaving drops a pending fork; the page is freed when
// its last mapping goes. Every decrement saturates at 0, as the model's guards do.
void Encoding::put_page(State& s, const expr& frame, const expr& cow, const expr& when) const {
  for (unsigned f = 0; f < frames(); ++f) {
    expr at = when && frame == b8(f) && s.frames[f].alloc;
    Frame& fr = s.frames[f];
    expr forks = z3::ite(at && cow && fr.forks != b8(0), fr.forks - b8(1), fr.forks);
    expr refs = z3::ite(at && fr.refs != b8(0), fr.refs - b8(1), fr.refs);
    fr = {fr.alloc && !(at && refs == b8(0)), refs, forks};
  }
}

expr Encoding::mmap_pages(const OpArgs& a) const { return z3::lshr(a.len + w(4096) - w(1), w(12)); }

expr Encoding::mmap_refused(const OpArgs& a) const {
  return mmap_pages(a) == w(0) || z3::ult(a.len + w(4096), a.len);
}

// The request's class as LEM-ALMOS-A1 characterizes arith::mmap_order (the smallest k
// with 2^k >= pages, at most 52): A1 proves the model's bit loop equal to it, and the
// characterization is far cheaper for the solver than 64 chained additions.
expr Encoding::mmap_class(const OpArgs& a) const {
  expr pages = mmap_pages(a), k = a.order;
  return z3::ule(k, w(52)) && z3::uge(block_pages(k), pages) && (k == w(0) || z3::ult(block_pages(k - w(1)), pages));
}

// vmm_create_vseg of an ANON vseg (spec §3): a zombie of the request's order (the last
// released first), else a fresh block at first_free_vpn; vmm_check_conflict after the
// block was taken (a conflicting request loses the block, as the model does).
Encoding::MmapPlan Encoding::plan_mmap(const Proc& p, const OpArgs& a) const {
  expr bad = mmap_refused(a);
  const expr& k = a.order;
  auto candidate = [&](const Block& b) {
    return b.used && b.zombie && (p_.zombie_exact_order ? b.order == k : z3::uge(b.order, k));
  };
  // The chosen zombie: of the lowest eligible order, the highest stamp, the lowest index on ties.
  std::vector<expr> pick;
  for (unsigned i = 0; i < b_.blocks; ++i) {
    const Block& bi = p.blocks[i];
    expr best = candidate(bi);
    for (unsigned j = 0; j < b_.blocks; ++j) {
      if (j == i) continue;
      const Block& bj = p.blocks[j];
      expr before = z3::ult(bj.order, bi.order) ||
                    (bj.order == bi.order && (z3::ugt(bj.stamp, bi.stamp) || (bj.stamp == bi.stamp && c_.bool_val(j < i))));
      best = best && !(candidate(bj) && before);
    }
    pick.push_back(!bad && best);
  }
  expr found = c_.bool_val(false);
  expr zbase = w(0);
  for (unsigned i = 0; i < b_.blocks; ++i) {
    found = found || pick[i];
    zbase = z3::ite(pick[i], p.blocks[i].base, zbase);
  }
  const expr zone_end = w(p_.mmap_base + p_.mmap_pages);
  expr exhausted = !bad && !found && arith::mmap_exhausted(p.ff, k, zone_end);
  expr bump = !bad && !found && !exhausted;
  expr nb = z3::ite(found, zbase, p.ff), size = block_pages(k);
  expr conflict = c_.bool_val(false);
  for (unsigned j = 0; j < b_.blocks; ++j) {
    const Block& bj = p.blocks[j];
    conflict = conflict || (bj.used && !bj.zombie && z3::ult(bj.base, nb + size) && z3::ult(nb, bj.base + block_pages(bj.order)));
  }
  for (unsigned v = 0; v < b_.pages; ++v) {
    expr vpn = w(data_vpn(v));
    conflict = conflict || (p.inseg[v] && z3::ule(nb, vpn) && z3::ult(vpn, nb + size));
  }
  for (unsigned i = 0; i < b_.slots; ++i) {
    const expr lo = w(stack_base(i)), hi = w(stack_base(i) + stack_pages());
    conflict = conflict || (p.slots[i].live && z3::ult(nb, hi) && z3::ult(lo, nb + size));
  }
  return {pick, bump, conflict, size};
}

std::pair<State, Note> Encoding::mmap(const State& s, const OpArgs& a) const {
  State t = s;
  const Proc& p = s.procs[a.pid];
  Proc& q = t.procs[a.pid];
  const expr& k = a.order;
  auto [pick, bump, conflict, size] = plan_mmap(p, a);
  expr taken = c_.bool_val(false);  // the first unused record takes a fresh block
  for (unsigned i = 0; i < b_.blocks; ++i) {
    Block& bi = q.blocks[i];
    expr here = bump && !p.blocks[i].used && !taken;
    taken = taken || !p.blocks[i].used;
    expr into = (pick[i] || here) && !conflict;
    expr lost = pick[i] && conflict;
    bi = {z3::ite(lost, c_.bool_val(false), bi.used || into), bi.zombie && !pick[i] && !into, z3::ite(here, p.ff, bi.base),
          z3::ite(into, k, bi.order), bi.stamp};
  }
  q.ff = z3::ite(bump, p.ff + size, p.ff);
  return {t, call_note(false, a.pid, p.ff, q.ff)};
}

Entry Encoding::mux(const expr& c, const Entry& a, const Entry& b) const {
  return {z3::ite(c, a.valid, b.valid), z3::ite(c, a.frame, b.frame), z3::ite(c, a.w, b.w), z3::ite(c, a.cow, b.cow)};
}

Entry Encoding::entry_at(const std::vector<Entry>& row, const expr& at) const {
  Entry e = row[0];
  for (unsigned v = 1; v < row.size(); ++v) e = mux(at == b8(v), row[v], e);
  return e;
}

expr Encoding::inseg_at(const Proc& p, const expr& at) const {
  expr in = c_.bool_val(false);
  for (unsigned v = 0; v < b_.pages; ++v) in = in || (at == b8(v) && p.inseg[v]);
  return in;
}

void Encoding::clear(Slot& sl) const {
  sl.bit = sl.live = c_.bool_val(false);
  for (expr& g : sl.guard) g = c_.bool_val(false);
}

// vmm_global_update_pte (spec §6): the reference entry, then every copy holding the page.
void Encoding::update_pte(Proc& p, unsigned page, const Entry& e, const expr& when) const {
  p.pte[page] = mux(when, e, p.pte[page]);
  if (!p_.propagate_updates) return;
  for (std::vector<Entry>& g : p.copy) g[page] = mux(when && g[page].valid, e, g[page]);
}

// A page fault of cluster `cluster` on DATA page `page` (spec §5). No local entry: a
// false fault copies the reference entry, a true fault allocates and sets the reference
// entry, then the local one. Then a write to a read-only entry goes to vmm_handle_cow on
// the reference entry: a COW entry is copied while forks > 0, else made WRITABLE in
// place, and the result goes to every copy. No vseg: segv, nothing changes.
Encoding::FaultPlan Encoding::plan_fault(const State& s, const OpArgs& a) const {
  const Proc& p = s.procs[a.pid];
  const Entry ref = entry_at(p.pte, a.at);
  Entry local = ref;
  for (unsigned k = 1; k < b_.clusters; ++k) local = mux(a.cluster == b8(k), entry_at(p.copy[k - 1], a.at), local);
  expr in = inseg_at(p, a.at);
  expr missing = in && !local.valid;
  expr false_fault = a.cluster != b8(0) && missing && ref.valid;
  expr true_fault = missing && !ref.valid;
  const Entry fresh{c_.bool_val(true), a.fresh, c_.bool_val(true), c_.bool_val(false)};
  Entry ref1 = mux(true_fault, fresh, ref);
  Entry local1 = mux(true_fault || (false_fault && c_.bool_val(!p_.false_fault_copies)), fresh,
                     mux(false_fault, ref, local));
  expr cow_write = in && a.write && !local1.w && ref1.cow;
  expr forks = b8(0);  // the pending forks of the reference entry's page
  for (unsigned f = 0; f < frames(); ++f) forks = z3::ite(ref1.frame == b8(f), s.frames[f].forks, forks);
  expr copy = cow_write && c_.bool_val(p_.cow_checks_forks) && forks != b8(0);
  return {true_fault, false_fault, cow_write, copy, ref1, local1};
}

std::pair<State, Note> Encoding::fault(const State& s, const OpArgs& a) const {
  State t = s;
  auto [true_fault, false_fault, cow_write, copy, ref, local] = plan_fault(s, a);
  expr allocated = true_fault || (false_fault && c_.bool_val(!p_.false_fault_copies));
  new_page(t, a.fresh, allocated);
  Note n = no_call();
  n.false_fault = false_fault;
  n.allocated = false_fault && allocated;
  const Entry before = entry_at(s.procs[a.pid].pte, a.at);
  n.ref_same = same(ref, before);
  for (unsigned f = 0; f < frames(); ++f) {  // the old page: one sharer fewer (no free: others map it)
    expr at = copy && ref.frame == b8(f);
    Frame& fr = t.frames[f];
    fr.forks = z3::ite(at && c_.bool_val(p_.copy_decrements_forks), fr.forks - b8(1), fr.forks);
    fr.refs = z3::ite(at, fr.refs - b8(1), fr.refs);
  }
  new_page(t, a.fresh, copy);
  Proc& q = t.procs[a.pid];
  for (unsigned v = 0; v < b_.pages; ++v) {
    const expr here = a.at == b8(v);
    q.pte[v] = mux(here, ref, q.pte[v]);
    for (unsigned k = 1; k < b_.clusters; ++k) q.copy[k - 1][v] = mux(here && a.cluster == b8(k), local, q.copy[k - 1][v]);
  }
  // vmm_handle_cow's result, written by vmm_global_update_pte, then into the local copy
  // (also when a stale read-only copy met a writable reference: the reference as it is)
  const Entry handled{c_.bool_val(true), z3::ite(copy, a.fresh, ref.frame), c_.bool_val(true), c_.bool_val(false)};
  const Entry after = mux(cow_write, handled, ref);
  for (unsigned v = 0; v < b_.pages; ++v) {
    const expr fix = a.at == b8(v) && s.procs[a.pid].inseg[v] && a.write && !local.w;
    update_pte(q, v, after, fix);
    for (unsigned k = 1; k < b_.clusters; ++k) q.copy[k - 1][v] = mux(fix && a.cluster == b8(k), after, q.copy[k - 1][v]);
  }
  return {t, n};
}

// vmm_create_vseg of a STACK vseg in slot `slot` (spec §2): EEXIST when the bit is set;
// vmm_check_conflict against the live blocks, the DATA pages and the other stacks.
State Encoding::stack(const State& s, const OpArgs& a) const {
  State t = s;
  const Proc& p = s.procs[a.pid];
  const std::uint64_t lo = stack_base(a.slot), hi = lo + stack_pages();
  expr conflict = c_.bool_val(false);
  for (const Block& b : p.blocks)
    conflict = conflict || (b.used && !b.zombie && z3::ult(b.base, w(hi)) && z3::ult(w(lo), b.base + block_pages(b.order)));
  for (unsigned v = 0; v < b_.pages; ++v)
    if (lo <= data_vpn(v) && data_vpn(v) < hi) conflict = conflict || p.inseg[v];
  for (unsigned i = 0; i < b_.slots; ++i)
    if (i != a.slot && stack_base(i) < hi && lo < stack_base(i) + stack_pages()) conflict = conflict || p.slots[i].live;
  expr made = !p.slots[a.slot].bit && !conflict;
  Slot& q = t.procs[a.pid].slots[a.slot];
  q.bit = p.slots[a.slot].bit || made;
  q.live = p.slots[a.slot].live || made;
  return t;
}

// vmm_remove_vseg of a slot's STACK vseg (spec §2, §4 case b): its entries go from every
// cluster (a stack's pages are private: each copy owns its page) and the bit is cleared.
State Encoding::unmap_stack(const State& s, const OpArgs& a) const {
  State t = s;
  clear(t.procs[a.pid].slots[a.slot]);
  return t;
}

// A fault on a slot's first page (spec §5): inside the STACK vseg only without the guard;
// then a fresh private page in the faulting cluster alone. Outside: segv.
State Encoding::stack_fault(const State& s, const OpArgs& a) const {
  State t = s;
  const Slot& p = s.procs[a.pid].slots[a.slot];
  expr in = p.live && c_.bool_val(stack_base(a.slot) <= slot_vpn(a.slot));
  Slot& q = t.procs[a.pid].slots[a.slot];
  for (unsigned k = 0; k < b_.clusters; ++k) q.guard[k] = p.guard[k] || (in && a.cluster == b8(k));
  return t;
}

// process_make_fork (spec §6): the child takes the parent's VSL and allocator state and
// a reference GPT, its other clusters' copies empty; every DATA entry becomes COW,
// read-only, in both (the parent's through vmm_global_update_pte), and its page gains a
// mapping and a pending fork.
std::pair<State, Note> Encoding::fork(const State& s, const OpArgs& a) const {
  State t = s;
  const Proc& p = s.procs[a.pid];
  Proc& c = t.procs[a.child];
  c.alive = c_.bool_val(true);
  c.ff = p.ff;
  c.blocks = p.blocks;
  c.inseg = p.inseg;
  for (Slot& sl : c.slots) clear(sl);  // the forking thread's stack is not copied (spec §6)
  for (unsigned v = 0; v < b_.pages; ++v) {
    const Entry& e = p.pte[v];
    Entry shared{e.valid, e.frame, c_.bool_val(false), e.valid};
    c.pte[v] = shared;
    for (std::vector<Entry>& g : c.copy) g[v].valid = c_.bool_val(false);
    update_pte(t.procs[a.pid], v, {c_.bool_val(true), e.frame, c_.bool_val(false), c_.bool_val(true)}, e.valid);
  }
  for (unsigned f = 0; f < frames(); ++f) {
    std::vector<expr> bits;
    for (const Entry& e : p.pte) bits.push_back(e.valid && e.frame == b8(f));
    expr n = count(bits);
    t.frames[f].refs = s.frames[f].refs + n;
    t.frames[f].forks = s.frames[f].forks + n;
  }
  return {t, no_call()};
}

State Encoding::remove_all(const State& s, unsigned pid) const {
  State t = s;
  const Proc& p = s.procs[pid];
  Proc& q = t.procs[pid];
  for (unsigned v = 0; v < b_.pages; ++v) {
    put_page(t, p.pte[v].frame, p.pte[v].cow, p.pte[v].valid);
    q.pte[v].valid = c_.bool_val(false);
    for (std::vector<Entry>& g : q.copy) g[v].valid = c_.bool_val(false);
    q.inseg[v] = c_.bool_val(false);
  }
  for (Slot& sl : q.slots) {  // STACK vsegs: entries gone, bits of live stacks cleared
    const expr bit = sl.bit && !sl.live;
    clear(sl);
    sl.bit = bit;
  }
  std::vector<expr> live;
  for (const Block& b : p.blocks) live.push_back(b.used && !b.zombie);
  for (unsigned i = 0; i < b_.blocks; ++i) {  // released in base order: stamp = clock + rank
    expr rank = c_.bv_val(0, 16);
    for (unsigned j = 0; j < b_.blocks; ++j)
      if (j != i) rank = rank + z3::ite(live[j] && z3::ult(p.blocks[j].base, p.blocks[i].base), c_.bv_val(1, 16), c_.bv_val(0, 16));
    q.blocks[i].zombie = p.blocks[i].zombie || live[i];
    q.blocks[i].stamp = z3::ite(live[i], s.clock + rank, p.blocks[i].stamp);
  }
  expr n = c_.bv_val(0, 16);
  for (const expr& l : live) n = n + z3::ite(l, c_.bv_val(1, 16), c_.bv_val(0, 16));
  t.clock = s.clock + n;
  return t;
}

std::pair<State, Note> Encoding::apply(Op op, const State& s, const OpArgs& a) const {
  switch (op) {
    case Op::mmap: return mmap(s, a);
    case Op::fault: return fault(s, a);
    case Op::fork: return fork(s, a);
    case Op::stack: return {stack(s, a), no_call()};
    case Op::unmap_stack: return {unmap_stack(s, a), no_call()};
    case Op::stack_fault: return {stack_fault(s, a), no_call()};
    case Op::unmap_block: {  // vmm_remove_vseg of the block's whole vseg: onto zombie list `order`
      State t = s;
      Block& b = t.procs[a.pid].blocks[a.block];
      b.zombie = c_.bool_val(true);
      b.stamp = s.clock;
      t.clock = s.clock + c_.bv_val(1, 16);
      return {t, no_call()};
    }
    case Op::unmap_page: {  // one DATA page: inside a vseg, unmapped; else EINVAL
      State t = s;
      const Proc& p = s.procs[a.pid];
      const expr in = inseg_at(p, a.at);
      const Entry e = entry_at(p.pte, a.at);
      put_page(t, e.frame, e.cow, in && e.valid);
      Proc& q = t.procs[a.pid];
      for (unsigned v = 0; v < b_.pages; ++v) {
        const expr gone = a.at == b8(v) && in;
        q.pte[v].valid = q.pte[v].valid && !gone;
        for (std::vector<Entry>& g : q.copy) g[v].valid = g[v].valid && !gone;  // copies own no page
        q.inseg[v] = q.inseg[v] && !(a.at == b8(v));
      }
      return {t, no_call()};
    }
    case Op::exec: {  // vmm_user_reset
      State t = remove_all(s, a.pid);
      Proc& q = t.procs[a.pid];
      q.ff = w(p_.mmap_base);
      for (Slot& sl : q.slots) sl.bit = c_.bool_val(false);  // the STACK bitmap starts again
      if (p_.reset_clears_zombies)
        for (Block& b : q.blocks) b.used = c_.bool_val(false);
      return {t, call_note(true, a.pid, s.procs[a.pid].ff, q.ff)};
    }
    case Op::exit: {  // vmm_destroy: the process and its records go
      State t = remove_all(s, a.pid);
      Proc& q = t.procs[a.pid];
      q.alive = c_.bool_val(false);
      for (Block& b : q.blocks) b.used = c_.bool_val(false);
      return {t, no_call()};
    }
  }
  throw std::logic_error("unknown op");
}

expr Encoding::pre(Op op, const State& s, const OpArgs& a) const {
  const Proc& p = s.procs[a.pid];
  expr ok = p.alive && z3::ult(s.clock, c_.bv_val(0xff00, 16));
  switch (op) {
    case Op::mmap: {  // a fresh block needs a free record (the bound)
      expr free = c_.bool_val(false);
      for (const Block& b : p.blocks) free = free || !b.used;
      MmapPlan plan = plan_mmap(p, a);
      return ok && (free || !plan.bump || plan.conflict) && (mmap_refused(a) || mmap_class(a));
    }
    case Op::unmap_block: return ok && p.blocks[a.block].used && !p.blocks[a.block].zombie;
    case Op::fault: {  // a true fault, a COW copy or an allocating false fault takes a free pool page
      FaultPlan plan = plan_fault(s, a);
      expr allocates = plan.true_fault || plan.copy || (plan.false_fault && c_.bool_val(!p_.false_fault_copies));
      expr unused = z3::ult(a.fresh, b8(frames()));
      for (unsigned f = 0; f < frames(); ++f) unused = unused && z3::implies(a.fresh == b8(f), !s.frames[f].alloc);
      return ok && z3::ult(a.cluster, b8(b_.clusters)) && z3::ult(a.at, b8(b_.pages)) && z3::implies(allocates, unused);
    }
    case Op::fork: return ok && !s.procs[a.child].alive && c_.bool_val(a.child != a.pid);
    case Op::unmap_page: return ok && z3::ult(a.at, b8(b_.pages));
    case Op::unmap_stack: return ok && p.slots[a.slot].live;
    case Op::stack_fault: return ok && z3::ult(a.cluster, b8(b_.clusters));
    default: return ok;
  }
}

State Encoding::mux(const expr& c, const State& a, const State& b) const {
  State t = a;
  t.clock = z3::ite(c, a.clock, b.clock);
  for (unsigned i = 0; i < b_.procs; ++i) {
    Proc& p = t.procs[i];
    const Proc &x = a.procs[i], &y = b.procs[i];
    p.alive = z3::ite(c, x.alive, y.alive);
    p.ff = z3::ite(c, x.ff, y.ff);
    for (unsigned k = 0; k < b_.blocks; ++k) {
      const Block &u = x.blocks[k], &v = y.blocks[k];
      p.blocks[k] = {z3::ite(c, u.used, v.used), z3::ite(c, u.zombie, v.zombie), z3::ite(c, u.base, v.base),
                     z3::ite(c, u.order, v.order), z3::ite(c, u.stamp, v.stamp)};
    }
    for (unsigned i = 0; i < b_.slots; ++i) {
      const Slot &u = x.slots[i], &v = y.slots[i];
      p.slots[i].bit = z3::ite(c, u.bit, v.bit);
      p.slots[i].live = z3::ite(c, u.live, v.live);
      for (unsigned k = 0; k < b_.clusters; ++k) p.slots[i].guard[k] = z3::ite(c, u.guard[k], v.guard[k]);
    }
    for (unsigned v = 0; v < b_.pages; ++v) {
      p.inseg[v] = z3::ite(c, x.inseg[v], y.inseg[v]);
      p.pte[v] = mux(c, x.pte[v], y.pte[v]);
      for (unsigned k = 0; k < p.copy.size(); ++k) p.copy[k][v] = mux(c, x.copy[k][v], y.copy[k][v]);
    }
  }
  for (unsigned f = 0; f < frames(); ++f) {
    const Frame &u = a.frames[f], &v = b.frames[f];
    t.frames[f] = {z3::ite(c, u.alloc, v.alloc), z3::ite(c, u.refs, v.refs), z3::ite(c, u.forks, v.forks)};
  }
  return t;
}

Note Encoding::mux(const expr& c, const Note& a, const Note& b) const {
  return {z3::ite(c, a.call, b.call),           z3::ite(c, a.reset, b.reset),
          z3::ite(c, a.pid, b.pid),             z3::ite(c, a.ff_before, b.ff_before),
          z3::ite(c, a.ff_after, b.ff_after),   z3::ite(c, a.false_fault, b.false_fault),
          z3::ite(c, a.allocated, b.allocated), z3::ite(c, a.ref_same, b.ref_same)};
}

Note Encoding::call_note(bool reset, unsigned pid, const expr& ff_before, const expr& ff_after) const {
  Note n = no_call();
  n.call = c_.bool_val(true);
  n.reset = c_.bool_val(reset);
  n.pid = b8(pid);
  n.ff_before = ff_before;
  n.ff_after = ff_after;
  return n;
}

Note Encoding::no_call() const {
  return {c_.bool_val(false), c_.bool_val(false), b8(0), w(0), w(0), c_.bool_val(false), c_.bool_val(false), c_.bool_val(true)};
}

expr Encoding::equal(const State& a, const State& b) const {
  expr eq = a.clock == b.clock;
  for (unsigned i = 0; i < b_.procs; ++i) {
    const Proc &x = a.procs[i], &y = b.procs[i];
    eq = eq && x.alive == y.alive && x.ff == y.ff;
    for (unsigned k = 0; k < b_.blocks; ++k) {
      const Block &u = x.blocks[k], &v = y.blocks[k];
      eq = eq && u.used == v.used && u.zombie == v.zombie && u.base == v.base && u.order == v.order && u.stamp == v.stamp;
    }
    for (unsigned i = 0; i < b_.slots; ++i) {
      const Slot &u = x.slots[i], &v = y.slots[i];
      eq = eq && u.bit == v.bit && u.live == v.live;
      for (unsigned k = 0; k < b_.clusters; ++k) eq = eq && u.guard[k] == v.guard[k];
    }
    for (unsigned v = 0; v < b_.pages; ++v) {
      eq = eq && x.inseg[v] == y.inseg[v] && same(x.pte[v], y.pte[v]);
      for (unsigned k = 0; k < x.copy.size(); ++k) eq = eq && same(x.copy[k][v], y.copy[k][v]);
    }
  }
  for (unsigned f = 0; f < frames(); ++f) {
    const Frame &u = a.frames[f], &v = b.frames[f];
    eq = eq && u.alloc == v.alloc && u.refs == v.refs && u.forks == v.forks;
  }
  return eq;
}

// The allocator's IDs read processes, block records, bump pointers, stamps and the STACK
// bits and vsegs (and mmap's conflict check the DATA pages and stacks); INV-ALMOS-2 reads
// the slots; INV-ALMOS-4/5/6 read entries, copies and pages (and faults the DATA pages),
// INV-ALMOS-4 the guard entries too. Faults write neither records, stamps nor slots; mmap
// and a block's unmap write no entry, copy, page, DATA page or slot; the STACK calls write
// only slots.
bool Encoding::affects(Op op, const std::string& id) {
  const bool stack_op = op == Op::stack || op == Op::unmap_stack || op == Op::stack_fault;
  if (id == "INV-ALMOS-5" || id == "INV-ALMOS-6") return op != Op::mmap && op != Op::unmap_block && !stack_op;
  if (id == "INV-ALMOS-4") return op != Op::mmap && op != Op::unmap_block;
  if (id == "INV-ALMOS-2") return op != Op::mmap && op != Op::unmap_block && op != Op::unmap_page && op != Op::fault;
  return op != Op::fault && op != Op::stack_fault;
}

// ---- invariants and lemmas ---------------------------------------------------------

// INV-ALMOS-1, the part this form covers: live MMAP blocks are pairwise disjoint and lie
// in the MMAP zone.
expr Encoding::inv1(const State& s) const {
  expr ok = c_.bool_val(true);
  const expr lo = w(p_.mmap_base), hi = w(p_.mmap_base + p_.mmap_pages);
  for (const Proc& p : s.procs) {
    for (unsigned i = 0; i < b_.blocks; ++i) {
      const Block& b = p.blocks[i];
      expr live = p.alive && b.used && !b.zombie;
      ok = ok && z3::implies(live, z3::uge(b.base, lo) && z3::ule(block_pages(b.order), hi - b.base) && z3::ule(b.base, hi));
      for (unsigned j = i + 1; j < b_.blocks; ++j) {
        const Block& o = p.blocks[j];
        expr both = live && o.used && !o.zombie;
        ok = ok && z3::implies(both, z3::ule(b.base + block_pages(b.order), o.base) || z3::ule(o.base + block_pages(o.order), b.base));
      }
      for (unsigned k = 0; k < b_.slots; ++k) {  // and apart from every STACK vseg
        const expr slo = w(stack_base(k)), shi = w(stack_base(k) + stack_pages());
        ok = ok && z3::implies(live && p.slots[k].live, z3::ule(shi, b.base) || z3::ule(b.base + block_pages(b.order), slo));
      }
    }
    // A STACK vseg lies in its slot less the first page (constants: what the kernel's
    // parameters make of it).
    for (unsigned k = 0; k < b_.slots; ++k) {
      const bool inside = stack_base(k) >= slot_vpn(k) + 1 && stack_base(k) + stack_pages() <= slot_vpn(k) + p_.stack_slot_pages;
      ok = ok && z3::implies(p.alive && p.slots[k].live, c_.bool_val(inside));
    }
  }
  return ok;
}

// INV-ALMOS-2: a slot's bit is set iff a STACK vseg holds it, and no cluster maps a slot's
// first page.
expr Encoding::inv2(const State& s) const {
  expr ok = c_.bool_val(true);
  for (const Proc& p : s.procs)
    for (const Slot& sl : p.slots) {
      expr slot_ok = sl.bit == sl.live;
      for (const expr& g : sl.guard) slot_ok = slot_ok && !g;
      ok = ok && z3::implies(p.alive, slot_ok);
    }
  return ok;
}

// INV-ALMOS-3: live and zombie blocks tile [mmap_base, first_free_vpn). Stated without
// sums, which bit-blasting handles badly: each block lies inside it (no wrap) and they
// are pairwise disjoint; each block starts at mmap_base or where another ends; and
// first_free_vpn is mmap_base or the end of a block. Since ends lie above starts, the
// blocks then form one chain from mmap_base to first_free_vpn: an exact tiling.
expr Encoding::inv3(const State& s) const {
  expr ok = c_.bool_val(true);
  const expr lo = w(p_.mmap_base);
  for (const Proc& p : s.procs) {
    expr proc_ok = z3::uge(p.ff, lo);
    expr ff_reached = p.ff == lo;
    for (unsigned i = 0; i < b_.blocks; ++i) {
      const Block& b = p.blocks[i];
      expr size = block_pages(b.order);
      expr chained = b.base == lo;
      for (unsigned j = 0; j < b_.blocks; ++j) {
        if (j == i) continue;
        const Block& o = p.blocks[j];
        chained = chained || (o.used && o.base + block_pages(o.order) == b.base);
        if (j > i)
          proc_ok = proc_ok && z3::implies(b.used && o.used, z3::ule(b.base + size, o.base) ||
                                                                z3::ule(o.base + block_pages(o.order), b.base));
      }
      proc_ok = proc_ok && z3::implies(b.used, z3::uge(b.base, lo) && z3::ule(b.base, p.ff) && z3::ule(size, p.ff - b.base) &&
                                                   size != w(0) && chained);
      ff_reached = ff_reached || (b.used && b.base + size == p.ff);
    }
    ok = ok && z3::implies(p.alive, proc_ok && ff_reached);
  }
  return ok;
}

// INV-ALMOS-4, the GPT part (the encoding keeps no per-cluster VSL registrations): every
// entry of a cluster's copy lies in the reference vseg and, DATA being public, equals the
// reference entry (page, WRITABLE, COW).
expr Encoding::inv4(const State& s) const {
  expr ok = c_.bool_val(true);
  for (const Proc& p : s.procs)
    for (const std::vector<Entry>& g : p.copy)
      for (unsigned v = 0; v < b_.pages; ++v) {
        const Entry &e = g[v], &r = p.pte[v];
        ok = ok && z3::implies(p.alive && e.valid, p.inseg[v] && same(r, e));
      }
  for (const Proc& p : s.procs)  // a stack entry of a copy lies in its STACK vseg (private: no equality)
    for (unsigned i = 0; i < b_.slots; ++i)
      for (unsigned k = 1; k < b_.clusters; ++k)
        ok = ok && z3::implies(p.alive && p.slots[i].guard[k],
                               p.slots[i].live && c_.bool_val(stack_base(i) <= slot_vpn(i)));
  return ok;
}

// INV-ALMOS-6: no entry of any copy is COW and WRITABLE; forks = COW sharers - 1 for every
// allocated page; a writable entry's page is mapped by no other entry.
expr Encoding::inv6(const State& s) const {
  expr ok = c_.bool_val(true);
  for (const Proc& p : s.procs) {
    for (const Entry& e : p.pte) ok = ok && z3::implies(p.alive && e.valid, !(e.cow && e.w));
    for (const std::vector<Entry>& g : p.copy)
      for (const Entry& e : g) ok = ok && z3::implies(p.alive && e.valid, !(e.cow && e.w));
  }
  for (unsigned f = 0; f < frames(); ++f) {
    expr sharers = mappers(s, f, true);
    expr want = z3::ite(sharers == b8(0), b8(0), sharers - b8(1));
    ok = ok && z3::implies(s.frames[f].alloc, s.frames[f].forks == want);
    for (const Proc& p : s.procs)
      for (const Entry& e : p.pte)
        ok = ok && z3::implies(p.alive && e.valid && e.w && e.frame == b8(f), z3::ule(mappers(s, f, false), b8(1)));
  }
  return ok;
}

// LEM-ALMOS-S1: every block record is of an order the allocator hands out (at most 52),
// the bump pointer stays inside the zone, and release stamps are below the clock.
expr Encoding::lem1(const State& s) const {
  expr ok = c_.bool_val(true);
  const expr lo = w(p_.mmap_base), hi = w(p_.mmap_base + p_.mmap_pages);
  for (const Proc& p : s.procs) {
    expr proc_ok = z3::uge(p.ff, lo) && z3::ule(p.ff, hi);
    for (const Block& b : p.blocks)
      proc_ok = proc_ok && z3::implies(b.used, z3::ule(b.order, w(52)) && z3::implies(b.zombie, z3::ult(b.stamp, s.clock)));
    ok = ok && z3::implies(p.alive, proc_ok);
  }
  return ok;
}

// LEM-ALMOS-S2: a valid reference entry lies on a page its vseg covers and names a pool
// page, which is allocated with refs = its reference mappings.
expr Encoding::lem2(const State& s) const {
  expr ok = c_.bool_val(true);
  for (const Proc& p : s.procs)
    for (unsigned v = 0; v < b_.pages; ++v)
      ok = ok && z3::implies(p.alive && p.pte[v].valid, p.inseg[v] && z3::ult(p.pte[v].frame, b8(frames())));
  for (unsigned f = 0; f < frames(); ++f) {
    expr n = mappers(s, f, false);
    ok = ok && z3::implies(n != b8(0), s.frames[f].alloc && s.frames[f].refs == n);
  }
  return ok;
}

// LEM-ALMOS-S4: no page leaks: an allocated pool page is mapped by a reference entry.
expr Encoding::lem4(const State& s) const {
  expr ok = c_.bool_val(true);
  for (unsigned f = 0; f < frames(); ++f) ok = ok && z3::implies(s.frames[f].alloc, mappers(s, f, false) != b8(0));
  return ok;
}

// LEM-ALMOS-S3: a valid DATA entry is WRITABLE or COW (a true fault maps it writable,
// fork marks it COW, a COW write makes it writable again).
expr Encoding::lem3(const State& s) const {
  expr ok = c_.bool_val(true);
  for (const Proc& p : s.procs)
    for (const Entry& e : p.pte) ok = ok && z3::implies(p.alive && e.valid, e.w || e.cow);
  return ok;
}

expr Encoding::holds(const std::string& id, const State& post, const Note& n) const {
  if (id == "INV-ALMOS-1") return inv1(post);
  if (id == "INV-ALMOS-2") return inv2(post);
  if (id == "INV-ALMOS-3") return inv3(post) && z3::implies(n.call && !n.reset, z3::uge(n.ff_after, n.ff_before));
  if (id == "INV-ALMOS-4") return inv4(post);
  if (id == "INV-ALMOS-5") return z3::implies(n.false_fault, !n.allocated && n.ref_same);
  if (id == "INV-ALMOS-6") return inv6(post);
  if (id == "INV-ALMOS-7") {
    expr ok = c_.bool_val(true);
    for (unsigned i = 0; i < b_.procs; ++i) {
      const Proc& p = post.procs[i];
      expr empty = p.ff == w(p_.mmap_base);
      for (const Block& b : p.blocks) empty = empty && !b.used;
      for (const Entry& e : p.pte) empty = empty && !e.valid;
      for (const Slot& sl : p.slots) {
        empty = empty && !sl.bit && !sl.live;
        for (const expr& g : sl.guard) empty = empty && !g;
      }
      ok = ok && z3::implies(n.reset && n.pid == b8(i), empty);
    }
    return ok;
  }
  if (id == "LEM-ALMOS-S1") return lem1(post);
  if (id == "LEM-ALMOS-S2") return lem2(post);
  if (id == "LEM-ALMOS-S3") return lem3(post);
  if (id == "LEM-ALMOS-S4") return lem4(post);
  throw std::invalid_argument("unknown almos-mkh ID " + id);
}

// LEM-ALMOS-S4 holds only where pages cannot leak: `false-fault-allocates` leaks the page
// of a false fault, `no-forks-dec` the page its extra copies leave behind.
bool Encoding::claims(const std::string& id) const {
  return id != "LEM-ALMOS-S4" || (p_.false_fault_copies && p_.copy_decrements_forks);
}

expr Encoding::hypothesis(const State& s) const {
  expr h = inv1(s) && inv2(s) && inv3(s) && inv4(s) && inv6(s) && lem1(s) && lem2(s) && lem3(s);
  return claims("LEM-ALMOS-S4") ? h && lem4(s) : h;
}

}  // namespace vmref::almos::smt
