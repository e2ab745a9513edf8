// Zephyr demand paging as a transition relation over Z3 terms (spec/kernels/zephyr.md §12).
#include "zephyr_smt.hpp"

#include <stdexcept>

#include "vmref/prove/terms.hpp"
#include "zephyr_arith.hpp"

namespace vmref::zephyr::smt {

using z3::expr;

const char* op_name(Op op) {
  switch (op) {
    case Op::access: return "access";
    case Op::page_out: return "k_mem_page_out";
    case Op::page_in: return "k_mem_page_in";
    case Op::pin: return "k_mem_pin";
    case Op::unpin: return "k_mem_unpin";
    case Op::nru_tick: return "nru_tick";
    case Op::unmap: return "k_mem_unmap";
    case Op::map: return "k_mem_map";
    case Op::map_lock: return "k_mem_map_lock";
  }
  return "?";
}

bool per_page(Op op) { return op != Op::nru_tick && op != Op::unmap && op != Op::map && op != Op::map_lock; }

namespace {
/// Every term of a state in one fixed order, so that mux, equality and naming cannot
/// miss a field.
template <class S, class F> void each_term(S& s, F f) {
  f(s.mapped);
  f(s.orphan);
  for (auto& b : s.bits) f(b);
  for (auto& p : s.pages)
    for (auto* e : {&p.loaded, &p.frame, &p.a, &p.d, &p.in_slot, &p.slot, &p.pinned, &p.touched, &p.ghost}) f(*e);
  for (auto& fr : s.frames)
    for (auto* e : {&fr.alloc, &fr.stamp, &fr.mapped, &fr.pinned, &fr.va, &fr.data}) f(*e);
  for (auto& u : s.slot_used) f(u);
  for (auto& d : s.slot_data) f(d);
  for (auto& row : s.tlb)
    for (auto& h : row)
      for (auto* e : {&h.held, &h.dead}) f(*e);
  f(s.nru_last);
  f(s.clock);
}
constexpr auto kEachTerm = [](auto& s, auto f) { each_term(s, f); };

expr any_of(z3::context& c, const std::vector<expr>& v) {
  expr r = c.bool_val(false);
  for (const expr& e : v) r = r || e;
  return r;
}
}  // namespace

Encoding::Encoding(z3::context& c, const ZephyrParams& p, Bounds b, bool contents)
    : c_(c), p_(p), b_(b), contents_(contents) {
  if (b.pages < 1 || b.pages > 8) throw std::invalid_argument("--bound pages=" + std::to_string(b.pages) + ": 1..8");
  if (b.frames < 1 || b.frames > 6) throw std::invalid_argument("--bound frames=" + std::to_string(b.frames) + ": 1..6");
  if (p.backing_pages > 64) throw std::invalid_argument("the SMT form keeps at most 64 backing-store slots");
  const std::uint64_t below = region_start(p, b.pages) - 4096;
  for (unsigned k = 0; k < b.pages + 2; ++k) {  // the bitmap's own reading of each page (INV-ZEPHYR-8)
    const std::uint64_t bit = arith::bit_of<std::uint64_t>(p.vm_start, p.vm_pages, below + k * 4096ull, 12);
    fixed_.push_back(bit < p.vm_reserved || bit >= p.vm_pages - p.image_pages);
  }
}

State Encoding::fresh(const std::string& tag) const {
  Plain shape;
  shape.bits.resize(b_.pages + 2);
  shape.pages.resize(b_.pages);
  shape.frames.resize(b_.frames);
  shape.slot_used.resize(slots());
  shape.slot_data.resize(slots());
  shape.tlb.assign(b_.pages, std::vector<Plain::Hd>(b_.frames));
  State s = lift(shape);
  prove::name_terms(c_, s, tag, kEachTerm);
  return s;
}

State Encoding::lift(const Plain& in) const {
  auto b = [&](bool v) { return c_.bool_val(v); };
  State s{b(in.mapped), b(in.orphan), {}, {}, {}, {}, {}, {}, b8(in.nru_last), b16(in.clock)};
  for (bool bit : in.bits) s.bits.push_back(b(bit));
  for (const Plain::Pg& p : in.pages)
    s.pages.push_back({b(p.loaded), b8(p.frame), b(p.a), b(p.d), b(p.in_slot), b8(p.slot), b(p.pinned), b(p.touched),
                       stamp(p.ghost)});
  for (const Plain::Fr& f : in.frames)
    s.frames.push_back({b(f.alloc), b16(f.stamp), b(f.mapped), b(f.pinned), b8(f.va), stamp(f.data)});
  for (bool u : in.slot_used) s.slot_used.push_back(b(u));
  for (std::uint64_t d : in.slot_data) s.slot_data.push_back(stamp(d));
  for (const auto& row : in.tlb) {
    s.tlb.emplace_back();
    for (const Plain::Hd& h : row) s.tlb.back().push_back({b(h.held), b(h.dead)});
  }
  return s;
}

OpArgs Encoding::args(const std::string& tag, unsigned page) const {
  return {page, c_.bool_const((tag + "_write").c_str())};
}

State Encoding::mux(const expr& c, const State& a, const State& b) const { return prove::mux_terms(c, a, b, kEachTerm); }

Note Encoding::mux(const expr& c, const Note& a, const Note& b) const {
  return {z3::ite(c, a.fault_no_slot, b.fault_no_slot), z3::ite(c, a.map_took_frame, b.map_took_frame),
          z3::ite(c, a.map_kept, b.map_kept)};
}

Note Encoding::no_call() const { return {c_.bool_val(false), c_.bool_val(false), c_.bool_val(false)}; }

expr Encoding::equal(const State& a, const State& b) const { return prove::equal_terms(c_, a, b, kEachTerm); }

expr Encoding::frame_field(const State& s, const expr& fno, expr Frame::*field, const expr& none) const {
  expr r = none;
  for (unsigned i = 0; i < b_.frames; ++i) r = z3::ite(fno == b8(i + 1), s.frames[i].*field, r);
  return r;
}

expr Encoding::page_field(const State& s, const expr& idx, expr Page::*field) const {
  expr r = (s.pages[0].*field).is_bool() ? c_.bool_val(false) : b8(0);
  for (unsigned p = 0; p < b_.pages; ++p) r = z3::ite(idx == b8(p), s.pages[p].*field, r);
  return r;
}

// The page-out of the page `sel` picks (page_frame_prepare_locked and the write-out): a
// slot from location_get, the PTE becomes "paged out at slot", the frame's record is
// cleared (the frame stays allocated: the caller frees or reuses it), and the translation
// is flushed on every CPU unless the variant forgets to. One selector instead of a copy
// per page keeps the terms small.
std::pair<State, expr> Encoding::evict(const State& s, const std::vector<expr>& sel, const expr& page_fault) const {
  const unsigned n = slots(), above = store_slots() - n;
  std::vector<expr> lowest;  // one-hot: the lowest free slot
  // Whether none, or exactly one, is free: all the refusal reads (cheaper than a count).
  // The slots above the kept ones are free (encoded_slots).
  expr all_used = c_.bool_val(true), one_free = c_.bool_val(false);
  for (unsigned i = 0; i < n; ++i) {
    lowest.push_back(all_used && !s.slot_used[i]);
    one_free = z3::ite(s.slot_used[i], one_free, all_used);
    all_used = all_used && s.slot_used[i];
  }
  if (above > 0) {
    one_free = above == 1 ? all_used : c_.bool_val(false);
    all_used = c_.bool_val(false);
  }
  expr refused = all_used || (c_.bool_val(p_.keep_fault_slot) && !page_fault && one_free);
  State t = s;
  expr slot = b8(0), f = b8(0), dirty = c_.bool_val(false);
  for (unsigned i = 0; i < n; ++i) slot = z3::ite(lowest[i], b8(i), slot);
  for (unsigned p = 0; p < b_.pages; ++p) {
    const Page& pg = s.pages[p];
    f = z3::ite(sel[p], pg.frame, f);
    dirty = dirty || (sel[p] && pg.d);
    t.pages[p] = {pg.loaded && !sel[p], z3::ite(sel[p], b8(0), pg.frame), pg.a && !sel[p], pg.d && !sel[p],
                  pg.in_slot || sel[p], z3::ite(sel[p], slot, pg.slot), pg.pinned, pg.touched, pg.ghost};
  }
  // The write-out: when the PTE is dirty or the frame is not BACKED (the RAM store never
  // sets BACKED); otherwise the slot keeps nothing written (kStale).
  const expr written = z3::ite(dirty || c_.bool_val(p_.writeback_unbacked),
                               frame_field(s, f, &Frame::data, stamp(kStale)), stamp(kStale));
  for (unsigned i = 0; i < n; ++i) {
    t.slot_used[i] = s.slot_used[i] || lowest[i];
    t.slot_data[i] = tracked(z3::ite(lowest[i], written, s.slot_data[i]), s.slot_data[i]);
  }
  for (unsigned i = 0; i < b_.frames; ++i) {
    const expr here = f == b8(i + 1);
    Frame& fr = t.frames[i];
    fr.mapped = fr.mapped && !here;
    fr.pinned = fr.pinned && !here;
    fr.va = z3::ite(here, b8(0), fr.va);
    for (unsigned p = 0; p < b_.pages; ++p) {
      Held& h = t.tlb[p][i];
      if (p_.flush_on_evict)  // the shootdown drops every entry of the page
        h = {h.held && !sel[p], h.dead && !sel[p]};
      else h.held = h.held || (sel[p] && here);  // every CPU may keep page -> f
    }
  }
  return {mux(refused, s, t), !refused};
}

// eviction_select of NRU: from the frame after the last victim, round-robin over frame
// numbers 0..frames (0 never qualifies), the first frame of the lowest class
// (accessed * 2 + dirty) among the mapped, unpinned ones; then its page-out.
Encoding::Evict Encoding::evict_any(const State& s, const expr& page_fault) const {
  const unsigned n = b_.frames + 1;
  const expr start = z3::ite(s.nru_last + b8(1) == b8(n), b8(0), s.nru_last + b8(1));
  std::vector<expr> elig, key;
  for (unsigned i = 0; i < b_.frames; ++i) {
    const Frame& fr = s.frames[i];
    const expr fno = b8(i + 1);
    elig.push_back(fr.mapped && (!fr.pinned || c_.bool_val(!p_.respect_pins)));
    expr prec = z3::ite(page_field(s, fr.va, &Page::d), b8(1), b8(0)) + z3::ite(page_field(s, fr.va, &Page::a), b8(2), b8(0));
    expr pos = z3::ite(z3::uge(fno, start), fno - start, fno + b8(n) - start);
    key.push_back(prec * b8(n) + pos);
  }
  Evict out{s, {}, c_.bool_val(false)};
  expr victim = s.nru_last;
  for (unsigned i = 0; i < b_.frames; ++i) {
    expr w = elig[i];
    for (unsigned j = 0; j < b_.frames; ++j)
      if (j != i) w = w && (!elig[j] || z3::ult(key[i], key[j]));
    out.won.push_back(w);
    victim = z3::ite(w, b8(i + 1), victim);
  }
  std::vector<expr> sel;  // the victim frame's page
  for (unsigned p = 0; p < b_.pages; ++p) {
    expr here = c_.bool_val(false);
    for (unsigned i = 0; i < b_.frames; ++i) here = here || (out.won[i] && s.frames[i].va == b8(p));
    sel.push_back(here);
  }
  State chosen = s;
  chosen.nru_last = victim;  // set before the page-out, which may still fail for want of a slot
  auto [t, ok] = evict(chosen, sel, page_fault);
  const expr any = any_of(c_, elig);
  out.s = mux(any, t, s);
  out.ok = any && ok;
  return out;
}

// do_page_fault(page, pin): a loaded page is only pinned; otherwise the page comes in from
// its token or slot (load). An orphan's page with neither has no location: the fault fails
// at once (ARCH_PAGE_LOCATION_BAD).
Encoding::Fault Encoding::fault(const State& s, unsigned page, bool pin) const {
  const Page& pg = s.pages[page];
  State in = s;  // already PAGED_IN
  if (pin) {
    for (unsigned i = 0; i < b_.frames; ++i) in.frames[i].pinned = in.frames[i].pinned || pg.frame == b8(i + 1);
    in.pages[page].pinned = c_.bool_val(true);
  }
  // A first touch of a token may not take the slot kept for faults (spec §5).
  const Load ld = load(s, page, pin, pg.in_slot || c_.bool_val(!p_.token_fault_keeps_slot), false);
  const expr nowhere = s.orphan && !pg.in_slot;
  std::vector<expr> evictable;  // Zephyr's "no page to evict" test reads PINNED whatever the variant
  for (const Frame& fr : s.frames) evictable.push_back(fr.mapped && !fr.pinned);
  const expr no_slot = !ld.ok && pg.in_slot && any_of(c_, evictable);
  const State after = mux(nowhere, s, ld.s);
  return {mux(pg.loaded, in, after), pg.loaded || (ld.ok && !nowhere),
          {!pg.loaded && no_slot, c_.bool_val(false), c_.bool_val(false)}};
}

// The head of the free list, or an evicted frame, receives the page; its slot, if it
// came from one, is freed (page_finalize). A page-in gives the frame the slot's contents
// or the ANON_ZERO token's zeros (a fresh frame's version is 0); map_anon_page marks it
// uninitialized, keeping the version an evicted frame had.
Encoding::Load Encoding::load(const State& s, unsigned page, bool pin, const expr& page_fault, bool anon) const {
  const Page& pg = s.pages[page];
  std::vector<expr> head, is_free;
  for (unsigned i = 0; i < b_.frames; ++i) is_free.push_back(!s.frames[i].alloc);
  for (unsigned i = 0; i < b_.frames; ++i) {
    expr h = is_free[i];
    for (unsigned j = 0; j < b_.frames; ++j)
      if (j != i) h = h && (!is_free[j] || z3::ult(s.frames[i].stamp, s.frames[j].stamp));
    head.push_back(h);
  }
  const expr any_free = any_of(c_, is_free);
  Evict ev = evict_any(s, page_fault);
  State got = mux(any_free, s, ev.s);
  expr fno = b8(0), got_data = stamp(0);
  expr slot_data = stamp(0);  // the ANON_ZERO token's zeros, else the page's slot
  for (unsigned i = 0; i < slots(); ++i) slot_data = z3::ite(pg.in_slot && pg.slot == b8(i), s.slot_data[i], slot_data);
  for (unsigned i = 0; i < b_.frames; ++i) {
    const expr take = z3::ite(any_free, head[i], ev.won[i]);
    const expr kept = z3::ite(any_free, stamp(0), stamp(0xffff) & s.frames[i].data);
    const expr data = anon ? stamp(kUninit) | kept : slot_data;
    got.frames[i].alloc = got.frames[i].alloc || take;
    got.frames[i].data = tracked(z3::ite(take, data, got.frames[i].data), got.frames[i].data);
    got_data = z3::ite(take, data, got_data);
    fno = z3::ite(take, b8(i + 1), fno);
  }
  for (unsigned i = 0; i < slots(); ++i) got.slot_used[i] = got.slot_used[i] && !(pg.in_slot && pg.slot == b8(i));
  got.pages[page] = {c_.bool_val(true), fno,    c_.bool_val(false), c_.bool_val(false), c_.bool_val(false), b8(0),
                     pg.pinned || c_.bool_val(pin), pg.touched, anon ? tracked(got_data, pg.ghost) : pg.ghost};
  for (unsigned i = 0; i < b_.frames; ++i) {
    const expr here = fno == b8(i + 1);
    Frame& fr = got.frames[i];
    fr.mapped = fr.mapped || here;
    fr.pinned = z3::ite(here, c_.bool_val(pin), fr.pinned);
    fr.va = z3::ite(here, b8(page), fr.va);
  }
  const expr ok = any_free || ev.ok;
  return {mux(ok, got, ev.s), ok};
}

Page Encoding::blank(const Page& pg) const {
  const expr no = c_.bool_val(false);
  return {no, b8(0), no, no, no, b8(0), no, no, tracked(stamp(0), pg.ghost)};
}

// k_mem_page_out of one page: nothing for a page not loaded, EBUSY for a pinned frame,
// ENOMEM when the store grants no slot; else the frame goes to the back of the free list.
std::pair<State, Note> Encoding::page_out(const State& s, unsigned v) const {
  const Page& pg = s.pages[v];
  std::vector<expr> sel;
  for (unsigned p = 0; p < b_.pages; ++p) sel.push_back(c_.bool_val(p == v));
  auto [t, ok] = evict(s, sel, c_.bool_val(false));
  for (unsigned i = 0; i < b_.frames; ++i) {
    const expr here = pg.frame == b8(i + 1);
    Frame& fr = t.frames[i];
    fr.alloc = fr.alloc && !here;
    fr.stamp = z3::ite(here, s.clock, fr.stamp);
    for (unsigned p = 0; p < b_.pages; ++p) t.tlb[p][i].dead = t.tlb[p][i].dead || (here && t.tlb[p][i].held);
  }
  t.clock = s.clock + b16(1);
  const expr acts = pg.loaded && !frame_field(s, pg.frame, &Frame::pinned, c_.bool_val(false)) && ok;
  return {mux(acts, t, s), no_call()};
}

// k_mem_unmap (spec §3), and the rollback of a failed map: per page, a loaded one loses its
// PTE with a shootdown of that page and its frame goes to the back of the free list; a
// paged-out one frees its slot. Translations of pages that were not loaded are not shot
// down: freeing their frame makes them dead. Then the run's bits are freed.
State Encoding::release(const State& s, bool guard_bits) const {
  State t = s;
  expr clk = s.clock;
  std::vector<expr> freed(b_.frames, c_.bool_val(false));
  for (unsigned p = 0; p < b_.pages; ++p) {
    const Page& pg = s.pages[p];
    for (unsigned i = 0; i < b_.frames; ++i) {
      const expr here = pg.loaded && pg.frame == b8(i + 1);
      Frame& fr = t.frames[i];
      fr = {fr.alloc && !(here && c_.bool_val(p_.unmap_frees_frames)), fr.stamp, fr.mapped && !here, fr.pinned && !here,
            z3::ite(here, b8(0), fr.va), fr.data};
      if (p_.unmap_frees_frames) {
        fr.stamp = z3::ite(here, clk, fr.stamp);
        freed[i] = freed[i] || here;
      }
      t.tlb[p][i] = {t.tlb[p][i].held && !pg.loaded, t.tlb[p][i].dead && !pg.loaded};
    }
    if (p_.unmap_frees_frames) clk = z3::ite(pg.loaded, clk + b16(1), clk);
    for (unsigned i = 0; i < slots(); ++i) t.slot_used[i] = t.slot_used[i] && !(pg.in_slot && pg.slot == b8(i));
    t.pages[p] = blank(pg);
  }
  for (auto& row : t.tlb)
    for (unsigned i = 0; i < b_.frames; ++i) row[i].dead = row[i].dead || (row[i].held && freed[i]);
  for (unsigned k = 0; k < b_.pages + 2; ++k)
    if ((k >= 1 && k <= b_.pages) || (p_.guards && guard_bits)) t.bits[k] = c_.bool_val(false);
  t.mapped = c_.bool_val(false);
  t.clock = clk;
  return t;
}

// What every k_mem_map of the region does first: the region is live, its run of bits taken,
// its pages without state.
State Encoding::claim(const State& s) const {
  State t = s;
  t.mapped = c_.bool_val(true);
  for (unsigned k = 0; k < b_.pages + 2; ++k)
    if (in_run(k)) t.bits[k] = c_.bool_val(true);
  for (Page& pg : t.pages) pg = blank(pg);
  return t;
}

// k_mem_map of the region again (spec §2, on demand): every page on its token, the run of
// bits taken; map-allocates then faults page 0 in without touching it.
std::pair<State, Note> Encoding::map(const State& s) const {
  State t = claim(s);
  if (!p_.lazy_map) t = fault(t, 0, false).s;
  expr took = c_.bool_val(false);
  for (unsigned i = 0; i < b_.frames; ++i) took = took || (!s.frames[i].alloc && t.frames[i].alloc);
  return {t, {c_.bool_val(false), took, c_.bool_val(false)}};
}

// k_mem_map with LOCK | UNINIT (spec §2.4-§2.5): map_anon_page per page in order (a free
// frame, else an eviction that is not a fault), each pinned; the first page that finds no
// frame fails the map. `fixed` then releases what it took, VA and guards included;
// `seed` returns NULL and keeps it all as an orphan.
std::pair<State, Note> Encoding::map_lock(const State& s) const {
  State t = claim(s);
  expr failed = c_.bool_val(false);
  for (unsigned p = 0; p < b_.pages; ++p) {
    Load ld = load(t, p, true, c_.bool_val(false), true);
    ld.s.pages[p].touched = ld.ok;
    t = mux(failed, t, ld.s);
    failed = failed || !ld.ok;
  }
  State undone = t;
  if (p_.rollback_fix) undone = release(t, true);
  else undone.orphan = c_.bool_val(true);
  const State out = mux(failed, undone, t);
  expr kept = c_.bool_val(false), before = b8(0), after = b8(0);
  for (unsigned k = 0; k < b_.pages + 2; ++k) kept = kept || out.bits[k] != s.bits[k];
  for (const Page& pg : out.pages) kept = kept || pg.loaded || pg.in_slot;
  for (unsigned i = 0; i < b_.frames; ++i) {
    before = before + z3::ite(s.frames[i].alloc, b8(1), b8(0));
    after = after + z3::ite(out.frames[i].alloc, b8(1), b8(0));
  }
  kept = kept || z3::ugt(after, before);
  return {out, {c_.bool_val(false), c_.bool_val(false), failed && kept}};
}

std::vector<Op> Encoding::ops() const {
  std::vector<Op> out = {Op::access, Op::page_out, Op::page_in, Op::pin, Op::unpin, Op::nru_tick, Op::unmap};
  if (p_.demand_mapping) out.push_back(Op::map);
  out.push_back(Op::map_lock);
  return out;
}

expr Encoding::can_map(const State& s) const {
  expr free = !s.mapped;
  for (unsigned k = 0; k < b_.pages + 2; ++k)
    if (in_run(k)) free = free && !s.bits[k];
  return free;
}

expr Encoding::pre(Op op, const State& s, const OpArgs&) const {
  if (op == Op::page_out) return z3::ult(s.clock, b16(0xffff));
  if (op == Op::unmap) return z3::ule(s.clock, b16(0xffff - b_.pages));
  if (op == Op::map) return can_map(s);
  if (op == Op::map_lock) return can_map(s) && z3::ule(s.clock, b16(0xffff - b_.pages));
  return c_.bool_val(true);
}

std::pair<State, Note> Encoding::apply(Op op, const State& s, const OpArgs& a) const {
  switch (op) {
    case Op::unmap: return {mux(s.mapped && !s.orphan, release(s, p_.unmap_frees_guards), s), no_call()};
    case Op::map: return map(s);
    case Op::map_lock: return map_lock(s);
    case Op::nru_tick: break;
    default: {  // a page of no live region: EINVAL, or a fatal fault for an access
      auto [t, n] = page_op(op, s, a);
      return {mux(s.mapped, t, s), mux(s.mapped, n, no_call())};
    }
  }
  State t = s;  // nru_tick
  for (unsigned p = 0; p < b_.pages; ++p) {
    expr cleared = c_.bool_val(false);
    for (const Frame& fr : s.frames) cleared = cleared || (fr.mapped && !fr.pinned && fr.va == b8(p));
    t.pages[p].a = s.pages[p].a && !cleared;
  }
  return {t, no_call()};
}

std::pair<State, Note> Encoding::page_op(Op op, const State& s, const OpArgs& a) const {
  switch (op) {
    case Op::access: {  // touched even when the fault then fails
      Fault f = fault(s, a.page, false);
      State t = f.s;
      Page& pg = t.pages[a.page];
      pg.a = c_.bool_val(true);
      pg.d = pg.d || a.write;
      if (contents_) {  // a write: the frame's contents become data, one version on
        const expr now = stamp(kData) | ((frame_field(t, pg.frame, &Frame::data, stamp(0)) + stamp(1)) & stamp(0xffff));
        for (unsigned i = 0; i < b_.frames; ++i)
          t.frames[i].data = z3::ite(a.write && pg.frame == b8(i + 1), now, t.frames[i].data);
        pg.ghost = z3::ite(a.write, now, pg.ghost);
      }
      State out = mux(f.ok, t, f.s);
      out.pages[a.page].touched = c_.bool_val(true);
      return {out, f.note};
    }
    case Op::page_in:
    case Op::pin: {
      Fault f = fault(s, a.page, op == Op::pin);
      f.s.pages[a.page].touched = c_.bool_val(true);
      return {f.s, f.note};
    }
    case Op::unpin: {
      State t = s;
      for (unsigned i = 0; i < b_.frames; ++i)
        t.frames[i].pinned = t.frames[i].pinned && !(s.pages[a.page].loaded && s.pages[a.page].frame == b8(i + 1));
      t.pages[a.page].pinned = c_.bool_val(false);
      return {t, no_call()};
    }
    case Op::page_out: return page_out(s, a.page);
    default: throw std::logic_error("not a per-page operation");
  }
}

expr Encoding::holds(const std::string& id, const State& s, const Note& n) const {
  expr r = c_.bool_val(true);
  const expr F = b8(b_.frames), P = b8(b_.pages), S = b8(slots());
  if (id == "INV-ZEPHYR-1") {  // a frame is in use iff MAPPED, at the one page whose PTE maps it
    for (unsigned i = 0; i < b_.frames; ++i) {
      const Frame& fr = s.frames[i];
      r = r && fr.alloc == fr.mapped &&
          z3::implies(fr.mapped, z3::ult(fr.va, P) && page_field(s, fr.va, &Page::loaded) &&
                                     page_field(s, fr.va, &Page::frame) == b8(i + 1));
    }
    for (unsigned p = 0; p < b_.pages; ++p) {
      const Page& pg = s.pages[p];
      r = r && z3::implies(pg.loaded, z3::uge(pg.frame, b8(1)) && z3::ule(pg.frame, F) &&
                                          frame_field(s, pg.frame, &Frame::mapped, c_.bool_val(false)) &&
                                          frame_field(s, pg.frame, &Frame::va, b8(0)) == b8(p));
    }
  } else if (id == "INV-ZEPHYR-2") {  // no frame for an untouched page; an on-demand map takes none
    for (const Page& pg : s.pages) r = r && z3::implies(pg.loaded, pg.touched);
    r = r && !n.map_took_frame;
  } else if (id == "INV-ZEPHYR-5") {  // each page of the region holds what was last written to it
    for (const Page& pg : s.pages) {
      expr in_slot = stamp(kStale);
      for (unsigned i = 0; i < slots(); ++i) in_slot = z3::ite(pg.slot == b8(i), s.slot_data[i], in_slot);
      // On its token: ANON_ZERO's zeros (an orphan's page there has no location, nothing to hold).
      const expr token = s.orphan || pg.ghost == stamp(0);
      r = r && z3::implies(s.mapped, z3::ite(pg.loaded, frame_field(s, pg.frame, &Frame::data, stamp(kStale)) == pg.ghost,
                                             z3::ite(pg.in_slot, in_slot == pg.ghost, token)));
    }
  } else if (id == "INV-ZEPHYR-6") {  // a failed map leaves the bitmap, no page and no more frames
    r = !n.map_kept;
  } else if (id == "INV-ZEPHYR-8") {  // the bitmap marks the live region with both guards, and no more
    for (unsigned k = 0; k < b_.pages + 2; ++k) r = r && s.bits[k] == (s.mapped || c_.bool_val(fixed_[k]));
  } else if (id == "INV-ZEPHYR-4") {  // a pinned page stays loaded in a frame flagged PINNED
    for (const Page& pg : s.pages)
      r = r && z3::implies(pg.pinned, pg.loaded && frame_field(s, pg.frame, &Frame::pinned, c_.bool_val(false)));
  } else if (id == "INV-ZEPHYR-7") {  // each used slot belongs to exactly one paged-out page
    for (unsigned p = 0; p < b_.pages; ++p) {
      const Page& pg = s.pages[p];
      expr used = c_.bool_val(false);
      for (unsigned i = 0; i < slots(); ++i) used = used || (pg.slot == b8(i) && s.slot_used[i]);
      r = r && z3::implies(pg.in_slot, z3::ult(pg.slot, S) && used);
      for (unsigned q = p + 1; q < b_.pages; ++q)
        r = r && !(pg.in_slot && s.pages[q].in_slot && pg.slot == s.pages[q].slot);
    }
    for (unsigned i = 0; i < slots(); ++i) {
      expr owned = c_.bool_val(false);
      for (const Page& pg : s.pages) owned = owned || (pg.in_slot && pg.slot == b8(i));
      r = r && z3::implies(s.slot_used[i], owned);
    }
    r = r && !n.fault_no_slot;
  } else if (id == "INV-TLB-1") {  // no translation reaches a frame freed since it was made
    for (const auto& row : s.tlb)
      for (const Held& h : row) r = r && !(h.held && h.dead);
  } else if (id == "INV-TLB-2") {  // none of a page whose PTE now maps another frame
    for (unsigned p = 0; p < b_.pages; ++p)
      for (unsigned i = 0; i < b_.frames; ++i)
        r = r && z3::implies(s.tlb[p][i].held && s.pages[p].loaded, s.pages[p].frame == b8(i + 1));
  } else if (id == "LEM-ZEPHYR-S1") {  // one form per state
    for (const Page& pg : s.pages)
      r = r && z3::implies(pg.loaded, !pg.in_slot && z3::uge(pg.frame, b8(1)) && z3::ule(pg.frame, F)) &&
          z3::implies(!pg.loaded, pg.frame == b8(0) && !pg.a && !pg.d) && z3::implies(!pg.in_slot, pg.slot == b8(0)) &&
          z3::implies(pg.in_slot, z3::ult(pg.slot, S));
    for (const Frame& fr : s.frames) r = r && z3::implies(!fr.mapped, !fr.pinned && fr.va == b8(0));
    for (const Page& pg : s.pages)  // no region: no page state at all
      r = r && z3::implies(!s.mapped, !pg.loaded && !pg.in_slot && !pg.pinned && !pg.touched && pg.ghost == stamp(0));
    for (const auto& row : s.tlb)
      for (const Held& h : row) r = r && z3::implies(h.dead, h.held);
    r = r && z3::ule(s.nru_last, F) && z3::implies(s.orphan, s.mapped && c_.bool_val(!p_.rollback_fix));
  } else if (id == "LEM-ZEPHYR-S2") {  // the free list's order: distinct stamps below the clock
    for (unsigned i = 0; i < b_.frames; ++i) {
      const Frame& fr = s.frames[i];
      r = r && z3::implies(!fr.alloc, z3::ult(fr.stamp, s.clock));
      for (unsigned j = i + 1; j < b_.frames; ++j)
        r = r && !(!fr.alloc && !s.frames[j].alloc && fr.stamp == s.frames[j].stamp);
    }
  } else if (id == "LEM-ZEPHYR-T") {  // no translation outlives its PTE
    for (const auto& row : s.tlb)
      for (const Held& h : row) r = r && !h.held;
  } else {
    throw std::invalid_argument("the zephyr SMT form has no " + id);
  }
  return r;
}

std::vector<std::string> Encoding::lemmas() const {
  std::vector<std::string> out = {"LEM-ZEPHYR-S1", "LEM-ZEPHYR-S2"};
  if (p_.flush_on_evict) out.push_back("LEM-ZEPHYR-T");
  return out;
}

expr Encoding::hypothesis(const State& s) const {
  expr h = c_.bool_val(true);
  for (const std::string& id : kInvariants) h = h && holds(id, s, no_call());
  for (const std::string& id : lemmas()) h = h && holds(id, s, no_call());
  return h;
}

}  // namespace vmref::zephyr::smt
