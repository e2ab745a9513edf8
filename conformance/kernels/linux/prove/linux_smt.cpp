// Linux private anonymous memory as a transition relation over Z3 terms (spec/kernels/linux.md §8).
#include "linux_smt.hpp"

#include <stdexcept>

#include "vmref/prove/terms.hpp"

namespace vmref::linux_mm::smt {

using z3::expr;

const char* op_name(Op op) {
  switch (op) {
    case Op::access: return "access";
    case Op::fork: return "fork";
    case Op::munmap: return "munmap";
    case Op::mprotect: return "mprotect";
  }
  return "?";
}

namespace {
/// Every term of a state in one fixed order, so that mux, equality and naming cannot miss one.
template <class S, class F> void each_term(S& s, F f) {
  for (auto& a : s.alive) f(a);
  for (auto& space : s.pages)
    for (auto& p : space)
      for (auto* e : {&p.inseg, &p.anon, &p.valid, &p.frame, &p.w, &p.cow, &p.vw}) f(*e);
  for (auto& fr : s.frames)
    for (auto* e : {&fr.alloc, &fr.refs, &fr.stamp}) f(*e);
  for (auto& space : s.tlb)
    for (auto& row : space)
      for (auto& h : row)
        for (auto* e : {&h.held, &h.dead, &h.w}) f(*e);
  f(s.clock);
}
constexpr auto kEachTerm = [](auto& s, auto f) { each_term(s, f); };

/// `r` and `f(translation, its page, frame index)` over every translation a CPU may hold.
template <class F> expr every_held(const State& s, expr r, F f) {
  for (std::size_t k = 0; k < s.tlb.size(); ++k)
    for (std::size_t p = 0; p < s.tlb[k].size(); ++p)
      for (std::size_t i = 0; i < s.tlb[k][p].size(); ++i) r = r && f(s.tlb[k][p][i], s.pages[k][p], static_cast<unsigned>(i));
  return r;
}
}  // namespace

Encoding::Encoding(z3::context& c, const LinuxParams& p, Bounds b) : c_(c), p_(p), b_(b) {
  if (b.pages < 1 || b.pages > 4) throw std::invalid_argument("--bound pages=" + std::to_string(b.pages) + ": 1..4");
  if (b.frames < 1 || b.frames > 6) throw std::invalid_argument("--bound frames=" + std::to_string(b.frames) + ": 1..6");
}

State Encoding::fresh(const std::string& tag) const {
  Plain shape;
  shape.alive.resize(kSpaces);
  shape.pages.assign(kSpaces, std::vector<Plain::Pg>(b_.pages));
  shape.frames.resize(b_.frames);
  shape.tlb.assign(kSpaces, std::vector<std::vector<Plain::Hd>>(b_.pages, std::vector<Plain::Hd>(b_.frames)));
  State s = lift(shape);
  prove::name_terms(c_, s, tag, kEachTerm);
  return s;
}

State Encoding::lift(const Plain& in) const {
  auto b = [&](bool v) { return c_.bool_val(v); };
  State s{{}, {}, {}, {}, b16(in.clock)};
  for (bool a : in.alive) s.alive.push_back(b(a));
  for (const auto& space : in.pages) {
    s.pages.emplace_back();
    for (const Plain::Pg& p : space)
      s.pages.back().push_back({b(p.inseg), b(p.anon), b(p.valid), b8(p.frame), b(p.w), b(p.cow), b(p.vw)});
  }
  for (const Plain::Fr& f : in.frames) s.frames.push_back({b(f.alloc), b8(f.refs), b16(f.stamp)});
  for (const auto& space : in.tlb) {
    s.tlb.emplace_back();
    for (const auto& row : space) {
      s.tlb.back().emplace_back();
      for (const Plain::Hd& h : row) s.tlb.back().back().push_back({b(h.held), b(h.dead), b(h.w)});
    }
  }
  return s;
}

OpArgs Encoding::args(const std::string& tag, unsigned space, unsigned page) const {
  return {space, page, c_.bool_const((tag + "_write").c_str())};
}

State Encoding::mux(const expr& c, const State& a, const State& b) const { return prove::mux_terms(c, a, b, kEachTerm); }

expr Encoding::equal(const State& a, const State& b) const { return prove::equal_terms(c_, a, b, kEachTerm); }

expr Encoding::mappers(const State& s, unsigned i) const {
  expr n = b8(0);
  for (unsigned k = 0; k < kSpaces; ++k)
    for (const Page& p : s.pages[k]) n = n + z3::ite(s.alive[k] && p.valid && p.frame == b8(i + 1), b8(1), b8(0));
  return n;
}

// The core's frame table reuses the frame freed last first, then never-used frames in
// number order (spec/vmm.md §1.4): the free frame of highest stamp.
std::vector<expr> Encoding::pick_free(const State& s) const {
  std::vector<expr> out;
  for (unsigned i = 0; i < b_.frames; ++i) {
    expr h = !s.frames[i].alloc;
    for (unsigned j = 0; j < b_.frames; ++j)
      if (j != i) h = h && (s.frames[j].alloc || z3::ugt(s.frames[i].stamp, s.frames[j].stamp));
    out.push_back(h);
  }
  return out;
}

void Encoding::put(State& s, const expr& f) const {
  for (unsigned i = 0; i < b_.frames; ++i) {
    Frame& fr = s.frames[i];
    const expr here = f == b8(i + 1), refs = z3::ite(z3::ugt(fr.refs, b8(0)), fr.refs - b8(1), fr.refs);
    const expr freed = here && fr.alloc && refs == b8(0);
    fr.refs = z3::ite(here, refs, fr.refs);
    fr.stamp = z3::ite(freed, s.clock, fr.stamp);
    fr.alloc = fr.alloc && !freed;
    for (auto& space : s.tlb)
      for (auto& row : space) row[i].dead = row[i].dead || (freed && row[i].held);
  }
  s.clock = s.clock + b16(1);  // a stamp whether or not it was used: only the order matters
}

void Encoding::prepare_anon(State& s, unsigned space, unsigned page) const {
  std::vector<Page>& ps = s.pages[space];
  for (unsigned q = 0; q < b_.pages; ++q) {
    expr same_run = c_.bool_val(true);  // every page from `page` to q is covered
    for (unsigned r = std::min(q, page); r <= std::max(q, page); ++r) same_run = same_run && ps[r].inseg;
    ps[q].anon = ps[q].anon || same_run;
  }
}

void Encoding::shootdown(State& s, unsigned space, unsigned page) const {
  for (Held& h : s.tlb[space][page]) h = {c_.bool_val(false), c_.bool_val(false), c_.bool_val(false)};
}

// An access (spec §2.7): outside the vseg, or a write its vseg does not grant, a SIGSEGV
// that changes nothing; a missing PTE a
// demand fault (a read maps the zero page COW, a write a new frame, and the vseg part gets
// an owner); a write to a COW PTE a COW break: reuse in place when this PTE holds the
// frame's only reference (the read-only entry it replaces may stay cached, spec/vmm.md
// §3), else a copy into a new frame, the old PTE shot down and put.
State Encoding::access(const State& s, const OpArgs& a) const {
  const Page& pg = s.pages[a.space][a.page];
  const std::vector<expr> free = pick_free(s);
  expr any_free = c_.bool_val(false), fno = b8(0);
  for (unsigned i = 0; i < b_.frames; ++i) {
    any_free = any_free || free[i];
    fno = z3::ite(free[i], b8(i + 1), fno);
  }
  auto take = [&](State& t) {  // the new frame: refcount 1 (the PTE's)
    for (unsigned i = 0; i < b_.frames; ++i) {
      t.frames[i].alloc = t.frames[i].alloc || free[i];
      t.frames[i].refs = z3::ite(free[i], b8(1), t.frames[i].refs);
    }
  };
  const expr zero_read = !a.write && c_.bool_val(p_.zero_page_on_read);
  State demand = s;  // a missing PTE
  take(demand);
  prepare_anon(demand, a.space, a.page);
  demand.pages[a.space][a.page] = {pg.inseg, demand.pages[a.space][a.page].anon, c_.bool_val(true), fno, pg.vw,
                                   c_.bool_val(false), pg.vw};
  State zero = s;
  zero.pages[a.space][a.page] = {pg.inseg, pg.anon, c_.bool_val(true), b8(0), c_.bool_val(false), c_.bool_val(true), pg.vw};
  State missing = mux(zero_read, zero, mux(any_free, demand, s));

  expr refs = b8(0);
  for (unsigned i = 0; i < b_.frames; ++i) refs = z3::ite(pg.frame == b8(i + 1), s.frames[i].refs, refs);
  const expr reuse = c_.bool_val(p_.cow_reuse_exclusive) && pg.frame != b8(0) && refs == b8(1);
  State reused = s;
  reused.pages[a.space][a.page].w = c_.bool_val(true);
  reused.pages[a.space][a.page].cow = c_.bool_val(false);
  for (unsigned i = 0; i < b_.frames; ++i) {  // the read-only entry it replaces may stay cached: no flush is needed
    Held& h = reused.tlb[a.space][a.page][i];
    h.held = h.held || pg.frame == b8(i + 1);
  }
  State copied = s;
  take(copied);
  prepare_anon(copied, a.space, a.page);
  shootdown(copied, a.space, a.page);
  put(copied, pg.frame);
  Page& cp = copied.pages[a.space][a.page];
  cp = {cp.inseg, cp.anon, c_.bool_val(true), fno, c_.bool_val(true), c_.bool_val(false), cp.vw};
  State cow = mux(reuse, reused, mux(any_free, copied, s));

  const expr cow_break = a.write && !pg.w;
  return mux(!pg.inseg || (a.write && !pg.vw), s, mux(!pg.valid, missing, mux(cow_break, cow, s)));
}

// fork (spec §1.5, §2.11): the child gets the vseg; PTEs are copied only from parts with an
// owner of anonymous pages, each private one write-protected COW in both spaces with a
// reference for the child's (none in forgets-cow-count); the parent's TLB is flushed when a
// writable PTE was write-protected.
State Encoding::fork(const State& s) const {
  State t = s;
  t.alive[1] = c_.bool_val(true);
  expr protected_any = c_.bool_val(false);
  for (unsigned p = 0; p < b_.pages; ++p) {
    const Page& pp = s.pages[0][p];
    const expr copy = pp.valid && (pp.anon || c_.bool_val(p_.fork_copies_untouched));
    const expr wp = copy && (pp.w || !pp.cow);
    protected_any = protected_any || (copy && pp.w);
    Page& parent = t.pages[0][p];
    parent.w = parent.w && !wp;
    parent.cow = parent.cow || wp;
    t.pages[1][p] = {pp.inseg, pp.anon, copy, z3::ite(copy, pp.frame, b8(0)), c_.bool_val(false), copy && (pp.cow || wp),
                     pp.vw};
    if (!p_.forgets_cow_count)
      for (unsigned i = 0; i < b_.frames; ++i)
        t.frames[i].refs = t.frames[i].refs + z3::ite(copy && pp.frame == b8(i + 1), b8(1), b8(0));
  }
  State flushed = t;
  for (unsigned p = 0; p < b_.pages; ++p) shootdown(flushed, 0, p);
  return mux(protected_any, flushed, t);
}

// munmap of one page (spec §2.3): the vseg no longer covers it; its PTE goes, shot down
// before its frame is put (frees-before-flush: put at once, the translation left held).
State Encoding::munmap(const State& s, const OpArgs& a) const {
  const Page& pg = s.pages[a.space][a.page];
  State t = s;
  t.pages[a.space][a.page] = {c_.bool_val(false), c_.bool_val(false), c_.bool_val(false), b8(0), c_.bool_val(false),
                              c_.bool_val(false), c_.bool_val(false)};
  if (p_.frees_before_flush)
    for (unsigned i = 0; i < b_.frames; ++i) {
      Held& h = t.tlb[a.space][a.page][i];
      const expr was = pg.valid && pg.frame == b8(i + 1);
      h.held = h.held || was;
      h.w = h.w || (was && pg.w);
    }
  else shootdown(t, a.space, a.page);
  State put_done = t;
  put(put_done, pg.frame);
  return mux(!pg.inseg, s, mux(pg.valid, put_done, t));
}

// mprotect(vseg's range, rw- or r--) (spec §2.4): a hole at the first page stops it at once;
// else the vseg part from the first page to the first hole takes the right, unless it has
// it already (then nothing changes). Its present PTEs take the effective rights (§2.7.4): a
// frame another PTE also maps, or the zero page, stays or becomes COW, and W is granted
// only to the rest. A PTE that loses W leaves its writable translation cached until the
// part is shot down on every CPU, which mprotect does before it returns.
State Encoding::mprotect(const State& s, const OpArgs& a) const {
  State t = s;
  expr run = c_.bool_val(true), reduced = c_.bool_val(false);
  std::vector<expr> changed;
  for (unsigned p = 0; p < b_.pages; ++p) {
    const Page& pg = s.pages[a.space][p];
    run = run && pg.inseg;
    const expr change = run && pg.vw != a.write;
    expr shared = pg.frame == b8(0);
    for (unsigned i = 0; i < b_.frames; ++i) shared = shared || (pg.frame == b8(i + 1) && z3::ugt(mappers(s, i), b8(1)));
    const expr cow = pg.cow || (pg.valid && shared);
    // mprotect-keeps-write: a PTE that had W keeps it (§3).
    const expr w = (pg.valid && a.write && !cow) || (c_.bool_val(p_.mprotect_keeps_write) && pg.w);
    const expr lost = change && pg.w && !w;
    reduced = reduced || lost;
    for (unsigned i = 0; i < b_.frames; ++i) {  // the superseded writable entry
      Held& h = t.tlb[a.space][p][i];
      h.held = h.held || (lost && pg.frame == b8(i + 1));
      h.w = h.w || (lost && pg.frame == b8(i + 1));
    }
    Page& out = t.pages[a.space][p];
    out = {pg.inseg, pg.anon, pg.valid, pg.frame, z3::ite(change, w, pg.w), z3::ite(change, cow, pg.cow),
           z3::ite(change, a.write, pg.vw)};
    changed.push_back(change);
  }
  if (p_.mprotect_skips_flush) return t;  // the broken variant of §3 leaves the shootdown out
  for (unsigned p = 0; p < b_.pages; ++p)  // the changed part, once one PTE lost W
    for (Held& h : t.tlb[a.space][p]) h = {h.held && !(reduced && changed[p]), h.dead && !(reduced && changed[p]),
                                           h.w && !(reduced && changed[p])};
  return t;
}

expr Encoding::pre(Op op, const State& s, const OpArgs& a) const {
  const expr clock_ok = z3::ult(s.clock, b16(0xffff));
  switch (op) {
    case Op::fork: return !s.alive[1];
    default: return s.alive[a.space] && clock_ok;
  }
}

State Encoding::apply(Op op, const State& s, const OpArgs& a) const {
  switch (op) {
    case Op::access: return access(s, a);
    case Op::fork: return fork(s);
    case Op::munmap: return munmap(s, a);
    case Op::mprotect: return mprotect(s, a);
  }
  throw std::logic_error("unknown op");
}

expr Encoding::holds(const std::string& id, const State& s) const {
  expr r = c_.bool_val(true);
  const expr F = b8(b_.frames);
  if (id == "INV-FRAME-1") {  // reference count = mappings (no pins, cache or gathers here)
    for (unsigned i = 0; i < b_.frames; ++i) r = r && z3::implies(s.frames[i].alloc, s.frames[i].refs == mappers(s, i));
  } else if (id == "INV-FRAME-2") {  // free iff the count is 0
    for (const Frame& fr : s.frames) r = r && (fr.alloc == (fr.refs != b8(0)));
  } else if (id == "INV-TLB-1") {  // no translation reaches a frame freed since it was made
    for (const auto& space : s.tlb)
      for (const auto& row : space)
        for (const Held& h : row) r = r && !(h.held && h.dead);
  } else if (id == "INV-COW-1") {  // a COW PTE is never writable
    for (unsigned k = 0; k < kSpaces; ++k)
      for (const Page& p : s.pages[k]) r = r && z3::implies(s.alive[k] && p.valid && p.cow, !p.w);
  } else if (id == "INV-COW-2") {  // a writable PTE maps a frame (not the zero page) no other PTE maps
    for (unsigned k = 0; k < kSpaces; ++k)
      for (const Page& p : s.pages[k]) {
        const expr writable = s.alive[k] && p.valid && p.w;
        r = r && z3::implies(writable, p.frame != b8(0));
        for (unsigned i = 0; i < b_.frames; ++i) r = r && z3::implies(writable && p.frame == b8(i + 1), mappers(s, i) == b8(1));
      }
  } else if (id == "INV-GPT-1") {  // a valid PTE lies in the vseg
    for (unsigned k = 0; k < kSpaces; ++k)
      for (const Page& p : s.pages[k]) r = r && z3::implies(s.alive[k] && p.valid, p.inseg);
  } else if (id == "INV-GPT-2") {  // a writable PTE only where the vseg grants write
    for (unsigned k = 0; k < kSpaces; ++k)
      for (const Page& p : s.pages[k]) r = r && z3::implies(s.alive[k] && p.valid && p.w, p.vw);
  } else if (id == "INV-GPT-3") {  // a valid PTE maps an allocated frame (the zero page is never freed)
    for (unsigned k = 0; k < kSpaces; ++k)
      for (const Page& p : s.pages[k])
        for (unsigned i = 0; i < b_.frames; ++i)
          r = r && z3::implies(s.alive[k] && p.valid && p.frame == b8(i + 1), s.frames[i].alloc);
  } else if (id == "INV-TLB-2") {  // no translation is held of a page whose PTE now maps another frame
    r = every_held(s, r, [&](const Held& h, const Page& pg, unsigned i) { return !(h.held && pg.valid && pg.frame != b8(i + 1)); });
  } else if (id == "INV-TLB-3") {  // no held translation carries a right the PTE mapping its frame lacks
    r = every_held(s, r, [&](const Held& h, const Page& pg, unsigned i) {
      return !(h.held && h.w && pg.valid && pg.frame == b8(i + 1) && !pg.w);
    });
  } else if (id == "LEM-LINUX-S1") {  // one form per state; a dead space holds nothing
    for (unsigned k = 0; k < kSpaces; ++k)
      for (const Page& p : s.pages[k]) {
        r = r && z3::implies(!p.valid, p.frame == b8(0) && !p.w && !p.cow) && z3::implies(!p.inseg, !p.anon && !p.vw) &&
            z3::ule(p.frame, F) && z3::implies(p.w, p.valid && !p.cow) && z3::implies(p.valid && !p.cow && p.vw, p.w) &&
            z3::implies(p.valid && p.frame == b8(0), p.cow) &&
            z3::implies(p.valid && p.frame != b8(0), p.anon);
        if (k > 0) r = r && z3::implies(!s.alive[k], !p.inseg && !p.valid);
      }
    for (unsigned k = 0; k < kSpaces; ++k)
      for (const auto& row : s.tlb[k])
        for (const Held& h : row) r = r && z3::implies(!s.alive[k], !h.held);
    r = every_held(s, r && s.alive[0], [&](const Held& h, const Page& pg, unsigned) {  // held only of a page with
      return z3::implies(h.dead || h.w, h.held) && z3::implies(h.held, pg.valid || !pg.inseg);  // a PTE or one the vseg left
    });
  } else if (id == "LEM-LINUX-S2") {  // an owner and the rights belong to a whole vseg part
    for (const auto& space : s.pages)
      for (unsigned p = 0; p + 1 < b_.pages; ++p)
        r = r && z3::implies(space[p].inseg && space[p + 1].inseg,
                             space[p].anon == space[p + 1].anon && space[p].vw == space[p + 1].vw);
  } else if (id == "LEM-LINUX-S3") {  // the free frames' order: distinct stamps below the clock
    for (unsigned i = 0; i < b_.frames; ++i) {
      const Frame& fr = s.frames[i];
      r = r && z3::implies(!fr.alloc, z3::ult(fr.stamp, s.clock));
      for (unsigned j = i + 1; j < b_.frames; ++j) r = r && !(!fr.alloc && !s.frames[j].alloc && fr.stamp == s.frames[j].stamp);
    }
  } else if (id == "LEM-LINUX-T") {  // a translation is held only of the frame its PTE still maps
    r = every_held(s, r, [&](const Held& h, const Page& pg, unsigned i) {
      return z3::implies(h.held, pg.valid && pg.frame == b8(i + 1)) && !h.dead;
    });
  } else {
    throw std::invalid_argument("the linux SMT form has no " + id);
  }
  return r;
}

std::vector<std::string> Encoding::lemmas() const {
  std::vector<std::string> out = {"LEM-LINUX-S1", "LEM-LINUX-S2", "LEM-LINUX-S3"};
  if (!p_.frees_before_flush && !p_.forgets_cow_count) out.push_back("LEM-LINUX-T");
  return out;
}

expr Encoding::hypothesis(const State& s) const {
  expr h = c_.bool_val(true);
  for (const std::string& id : kInvariants) h = h && holds(id, s);
  for (const std::string& id : lemmas()) h = h && holds(id, s);
  return h;
}

}  // namespace vmref::linux_mm::smt
