// The mermap's transition relation and invariants over Z3 (spec/kernels/mermap.md §10),
// transcribed from the spec's §2-§4 and §8; the allocator's arithmetic is the model's
// own (mermap_arith.hpp), instantiated on bit-vectors.
#include "mermap_smt.hpp"

#include <stdexcept>

#include "mermap_arith.hpp"
#include "vmref/prove/solve.hpp"

namespace vmref::mermap::smt {

using z3::expr;

const char* op_name(Op op) {
  switch (op) {
    case Op::get: return "mermap_get";
    case Op::put: return "mermap_put";
    case Op::teardown: return "mermap_teardown";
    case Op::flush: return "tlb_flush";
  }
  return "?";
}

Encoding::Encoding(z3::context& c, const MermapParams& p, unsigned cpus) : c_(c), p_(p), cpus_(cpus) {
  if (cpus < 1) throw std::invalid_argument("bound cpus: at least 1");
  if (p.slots < 1 || p.slots > 16) throw std::invalid_argument("slots: 1..16 in the SMT form");
  width_ = static_cast<unsigned>((cpus + 1) * p.region_pages);
  if (p.region_pages < 1 || width_ > 64)
    throw std::invalid_argument("bound cpus: (cpus + 1) x region_pages must be at most 64 pages (region_pages " +
                                std::to_string(p.region_pages) + ")");
}

expr Encoding::lo(unsigned c) const { return w(p_.base + c * p_.region_pages * page()); }
expr Encoding::hi(unsigned c) const { return w(p_.base + (c + 1) * p_.region_pages * page()); }

expr Encoding::page_index(const expr& x) const {
  expr pg = z3::lshr(x - w(p_.base), w(12));
  return z3::ite(z3::ult(x, w(p_.base)), w(0), z3::ite(z3::ugt(pg, w(width_)), w(width_), pg)).extract(7, 0);
}

expr Encoding::between(const expr& i, const expr& j) const {
  // The low n bits (0 <= n <= width), shifted at the set's own width: cheap to bit-blast.
  auto ones = [&](const expr& n) {
    return ~z3::shl(~pages(0), width_ >= 8 ? z3::zext(n, width_ - 8) : n.extract(width_ - 1, 0));
  };
  return ones(j) & ~ones(i);
}

expr Encoding::range_mask(const expr& a, const expr& b) const { return between(page_index(a), page_index(b)); }

State Encoding::fresh(const std::string& tag) const {
  State s{{}, c_.bv_const((tag + "_migrate").c_str(), 64), c_.bool_const((tag + "_dead").c_str())};
  for (unsigned c = 0; c < cpus_; ++c) {
    std::string p = tag + "_c" + std::to_string(c);
    Cpu cpu{c_.bv_const((p + "_next").c_str(), 64), {}, c_.bv_const((p + "_mapped").c_str(), width_),
            c_.bv_const((p + "_stale").c_str(), width_)};
    for (unsigned i = 0; i < p_.slots; ++i) {
      std::string q = p + "_s" + std::to_string(i);
      cpu.slots.push_back({c_.bool_const((q + "_in_use").c_str()), c_.bool_const((q + "_reserve").c_str()),
                           c_.bv_const((q + "_base").c_str(), 64), c_.bv_const((q + "_end").c_str(), 64),
                           c_.bv_const((q + "_pages").c_str(), width_)});
    }
    s.cpus.push_back(cpu);
  }
  return s;
}

State Encoding::initial() const {
  State s{{}, w(0), c_.bool_val(false)};
  for (unsigned c = 0; c < cpus_; ++c) {
    Cpu cpu{lo(c), {}, pages(0), pages(0)};
    for (unsigned i = 0; i < p_.slots; ++i) cpu.slots.push_back({c_.bool_val(false), c_.bool_val(false), w(0), w(0), pages(0)});
    s.cpus.push_back(cpu);
  }
  return s;
}

State Encoding::concrete(const std::vector<std::uint64_t>& next, const std::vector<std::vector<std::uint64_t>>& slot_words,
                         const std::vector<std::uint64_t>& mapped, const std::vector<std::uint64_t>& stale,
                         std::uint64_t migrate) const {
  State s{{}, w(migrate), c_.bool_val(false)};
  for (unsigned c = 0; c < cpus_; ++c) {
    Cpu cpu{w(next[c]), {}, pages(mapped[c]), pages(stale[c])};
    for (unsigned i = 0; i < p_.slots; ++i) {
      const std::uint64_t* f = &slot_words[c][4 * i];
      cpu.slots.push_back({c_.bool_val(f[0] != 0), c_.bool_val(f[1] != 0), w(f[2]), w(f[3]),
                           range_mask(w(f[2]), w(f[3])).simplify()});
    }
    s.cpus.push_back(cpu);
  }
  return s;
}

OpArgs Encoding::args(const std::string& tag, unsigned cpu, unsigned slot) const {
  return {cpu,
          slot,
          c_.bv_const((tag + "_len").c_str(), 64),
          c_.bool_const((tag + "_reserve").c_str()),
          c_.bool_const((tag + "_has_fail").c_str()),
          c_.bv_const((tag + "_fail_after").c_str(), 64),
          c_.bv_val(cpu * p_.slots + slot, 8),
          c_.bv_val(cpu, 8)};
}

Note Encoding::no_call() const {
  expr f = c_.bool_val(false), z = w(0);
  return {f, f, f, f, f, f, z, z, z, f, f, z, pages(0)};
}

State Encoding::mux(const expr& c, const State& a, const State& b) const {
  State s{{}, z3::ite(c, a.migrate, b.migrate), z3::ite(c, a.dead, b.dead)};
  for (unsigned k = 0; k < cpus_; ++k) {
    const Cpu &x = a.cpus[k], &y = b.cpus[k];
    Cpu cpu{z3::ite(c, x.next, y.next), {}, z3::ite(c, x.mapped, y.mapped), z3::ite(c, x.stale, y.stale)};
    for (unsigned i = 0; i < p_.slots; ++i) {
      const Slot &u = x.slots[i], &v = y.slots[i];
      cpu.slots.push_back({z3::ite(c, u.in_use, v.in_use), z3::ite(c, u.reserve, v.reserve), z3::ite(c, u.base, v.base),
                           z3::ite(c, u.end, v.end), z3::ite(c, u.pages, v.pages)});
    }
    s.cpus.push_back(cpu);
  }
  return s;
}

expr Encoding::equal(const State& a, const State& b) const {
  expr eq = a.migrate == b.migrate && a.dead == b.dead;
  for (unsigned k = 0; k < cpus_; ++k) {
    const Cpu &x = a.cpus[k], &y = b.cpus[k];
    eq = eq && x.next == y.next && x.mapped == y.mapped && x.stale == y.stale;
    for (unsigned i = 0; i < p_.slots; ++i)
      eq = eq && x.slots[i].in_use == y.slots[i].in_use && x.slots[i].reserve == y.slots[i].reserve &&
           x.slots[i].base == y.slots[i].base && x.slots[i].end == y.slots[i].end && x.slots[i].pages == y.slots[i].pages;
  }
  return eq;
}

Note Encoding::mux(const expr& c, const Note& a, const Note& b) const {
  auto m = [&](const expr& x, const expr& y) { return z3::ite(c, x, y); };
  return {m(a.get, b.get),           m(a.teardown, b.teardown),         m(a.failed, b.failed),
          m(a.write_failed, b.write_failed), m(a.reserve, b.reserve),   m(a.reserve_held, b.reserve_held),
          m(a.requested, b.requested), m(a.base, b.base),               m(a.end, b.end),
          m(a.warned, b.warned),     m(a.live_anywhere, b.live_anywhere), m(a.cpu, b.cpu),
          m(a.pages, b.pages)};
}

expr Encoding::pre(Op op, const State& s, const OpArgs& a) const {
  expr alive = !s.dead;
  if (op == Op::flush || op == Op::teardown) return alive && z3::ult(a.on, c_.bv_val(cpus_, 8));
  if (op != Op::put) return alive;
  expr live = c_.bool_val(false);  // the slot `which` names is in use
  for (unsigned c = 0; c < cpus_; ++c)
    for (unsigned i = 0; i < p_.slots; ++i) live = live || (a.which == c_.bv_val(c * p_.slots + i, 8) && s.cpus[c].slots[i].in_use);
  return alive && live;
}

void Encoding::write_ptes(State& s, const expr& m, int cpu) const {
  for (Cpu& d : s.cpus) {  // a PTE replaced or cleared goes stale on the CPU it was local to (spec §3)
    d.stale = d.stale | (d.mapped & m);
    d.mapped = d.mapped & ~m;
  }
  if (cpu >= 0) s.cpus[static_cast<unsigned>(cpu)].mapped = s.cpus[static_cast<unsigned>(cpu)].mapped | m;
}

// __mermap_get and mermap_alloc (spec §2), step by step.
std::pair<State, Note> Encoding::get(const State& s, const OpArgs& a) const {
  const std::uint64_t region = p_.region_pages * page();
  const Cpu& mc = s.cpus[a.cpu];
  Note n = no_call();
  n.get = c_.bool_val(true);
  n.cpu = w(a.cpu);
  n.reserve = a.reserve;
  n.requested = a.len;
  for (const Cpu& c : s.cpus)
    for (const Slot& sl : c.slots) n.reserve_held = n.reserve_held || (sl.in_use && sl.reserve);
  expr too_long = z3::ugt(a.len, w(region));                          // step 1
  expr size = arith::page_align(a.len, w(page()));                    // step 2
  expr bad_reserve = a.reserve && size != w(page());                  // step 4: WARN_ON_ONCE
  expr cpu_end = p_.keep_last_page ? z3::ite(a.reserve, hi(a.cpu), hi(a.cpu) - w(page())) : hi(a.cpu);
  expr exhausted = arith::bump_exhausted(mc.next, size, cpu_end);
  expr new_next = lo(a.cpu);
  if (p_.reset_after_live)
    for (const Slot& sl : mc.slots) new_next = z3::ite(sl.in_use && z3::ugt(sl.end, new_next), sl.end, new_next);
  expr refused = arith::reset_refuses(size, cpu_end, new_next, c_.bool_val(p_.bound_fix));
  expr reaches_alloc = !too_long && !bad_reserve && !(exhausted && refused);
  expr reset = reaches_alloc && exhausted;
  State out = s;
  Cpu& oc = out.cpus[a.cpu];
  if (p_.flush_on_reset) oc.stale = z3::ite(reset, pages(0), oc.stale);  // the local flush
  expr next = z3::ite(reset, new_next, mc.next);
  expr free = w(0);
  for (const Slot& sl : mc.slots) free = free + z3::ite(sl.in_use, w(0), w(1));
  expr no_slot = free == w(0) || (c_.bool_val(p_.reserve_slot_fix) && !a.reserve && free == w(1));
  expr alloc_ok = reaches_alloc && !no_slot;
  expr pages_n = z3::lshr(size, w(12));
  expr write_failed = alloc_ok && a.has_fail && z3::ult(a.fail_after, pages_n);  // step 6
  expr ok = alloc_ok && !write_failed;
  expr range = between(page_index(next), page_index(next + size));
  expr earlier_used = c_.bool_val(true);
  for (unsigned i = 0; i < p_.slots; ++i) {  // the first free slot takes the range
    Slot& sl = oc.slots[i];
    expr chosen = alloc_ok && !mc.slots[i].in_use && earlier_used;
    earlier_used = earlier_used && mc.slots[i].in_use;
    sl = {z3::ite(chosen, ok, sl.in_use), z3::ite(chosen, a.reserve, sl.reserve), z3::ite(chosen, next, sl.base),
          z3::ite(chosen, next + size, sl.end), z3::ite(chosen, range, sl.pages)};
  }
  oc.next = z3::ite(alloc_ok, next + size, next);
  expr undo = write_failed && c_.bool_val(p_.error_path_fix);
  out.migrate = z3::ite(alloc_ok && !undo, s.migrate + w(1), s.migrate);  // steps 3, 5, 6
  // The pages written before the failure (fail_after < pages <= region_pages when it acts).
  expr first = page_index(next);
  expr stop = first + a.fail_after.extract(7, 0);
  expr written = between(first, z3::ite(z3::ugt(stop, c_.bv_val(width_, 8)), c_.bv_val(width_, 8), stop));
  write_ptes(out, z3::ite(ok, range, z3::ite(write_failed, written, pages(0))),
             static_cast<int>(a.cpu));
  if (p_.error_path_fix) write_ptes(out, z3::ite(write_failed, written, pages(0)), -1);
  n.failed = !ok;
  n.write_failed = write_failed;
  n.base = next;
  n.end = next + size;
  n.pages = range;
  return {out, n};
}

// mermap_put (spec §3): sentinels back (no flush), slot free, migrate_enable().
std::pair<State, Note> Encoding::put(const State& s, const OpArgs& a) const {
  State out = s;
  expr m = pages(0);  // the page set of the slot `which` names
  for (unsigned c = 0; c < cpus_; ++c)
    for (unsigned i = 0; i < p_.slots; ++i) {
      Slot& sl = out.cpus[c].slots[i];
      const expr here = a.which == c_.bv_val(c * p_.slots + i, 8);
      m = z3::ite(here, sl.pages, m);
      sl.in_use = sl.in_use && !here;
    }
  write_ptes(out, m, -1);
  out.migrate = z3::ite(s.migrate == w(0), w(0), s.migrate - w(1));
  return {out, no_call()};
}

std::pair<State, Note> Encoding::apply(Op op, const State& s, const OpArgs& a) const {
  switch (op) {
    case Op::get: return get(s, a);
    case Op::put: return put(s, a);
    case Op::teardown: {  // spec §4; as posted, every iteration reads this CPU's slots (R3)
      Note n = no_call();
      n.teardown = c_.bool_val(true);
      n.cpu = z3::zext(a.on, 56);
      for (unsigned c = 0; c < cpus_; ++c)
        for (unsigned i = 0; i < p_.slots; ++i) {
          const expr read = p_.teardown_fix ? c_.bool_val(true) : a.on == c_.bv_val(c, 8);  // the slots it reads
          n.warned = n.warned || (read && s.cpus[c].slots[i].in_use);
          n.live_anywhere = n.live_anywhere || s.cpus[c].slots[i].in_use;
        }
      State out = s;
      out.dead = c_.bool_val(true);
      return {out, n};
    }
    case Op::flush: {  // tlb_flush scope all on the CPU (spec/vmm.md §3.2)
      State out = s;
      for (unsigned c = 0; c < cpus_; ++c) out.cpus[c].stale = z3::ite(a.on == c_.bv_val(c, 8), pages(0), out.cpus[c].stale);
      return {out, no_call()};
    }
  }
  throw std::logic_error("unknown op");
}

expr Encoding::live_count(const State& s) const {
  expr n = w(0);
  for (const Cpu& c : s.cpus)
    for (const Slot& sl : c.slots) n = n + z3::ite(sl.in_use, w(1), w(0));
  return n;
}

expr Encoding::live_mask(const State& s, unsigned c) const {
  expr m = pages(0);
  for (const Slot& sl : s.cpus[c].slots) m = m | z3::ite(sl.in_use, sl.pages, pages(0));
  return m & range_mask(lo(c), hi(c));
}

bool Encoding::is_state_invariant(const std::string& id) {
  return id != "INV-MERMAP-3" && id != "INV-MERMAP-4" && id != "INV-MERMAP-6";
}

expr Encoding::holds(const std::string& id, const State& pre, const State& s, const Note& n) const {
  const expr t = c_.bool_val(true);
  auto each_cpu = [&](auto fn) {
    expr all = t;
    for (unsigned c = 0; c < cpus_; ++c) all = all && fn(c, s.cpus[c]);
    return s.dead || all;  // state invariants read a prepared mm only (spec §8)
  };
  if (id == "INV-MERMAP-1")
    return each_cpu([&](unsigned c, const Cpu& cpu) {
      expr ok = t;
      for (const Slot& sl : cpu.slots) {
        expr top = z3::ite(sl.reserve, hi(c), hi(c) - w(page()));
        ok = ok && z3::implies(sl.in_use, z3::uge(sl.base, lo(c)) && z3::ule(sl.end, top) && z3::uge(sl.end, sl.base));
      }
      return ok;
    });
  if (id == "INV-MERMAP-2")
    return each_cpu([&](unsigned, const Cpu& cpu) {
      expr ok = t;
      for (unsigned i = 0; i < cpu.slots.size(); ++i)
        for (unsigned j = i + 1; j < cpu.slots.size(); ++j) {
          const Slot &a = cpu.slots[i], &b = cpu.slots[j];
          ok = ok && !(a.in_use && b.in_use && z3::ult(a.base, a.end) && z3::ult(b.base, b.end) &&
                       z3::ult(a.base, b.end) && z3::ult(b.base, a.end));
        }
      return ok;
    });
  if (id == "INV-MERMAP-3") {  // the handed-out range is not stale on the get's CPU (after the call)
    expr stale = pages(0);
    for (unsigned c = 0; c < cpus_; ++c) stale = z3::ite(n.cpu == w(c), s.cpus[c].stale, stale);
    return z3::implies(n.get && !n.failed, (n.pages & stale) == pages(0));
  }
  if (id == "INV-MERMAP-4")
    return !(n.get && n.reserve && n.failed && !n.write_failed && !n.reserve_held && z3::ugt(n.requested, w(0)) &&
             z3::ule(n.requested, w(page())) && !pre.dead);
  if (id == "INV-MERMAP-5") return s.dead || s.migrate == live_count(s);
  if (id == "INV-MERMAP-6") return !(n.teardown && n.live_anywhere && !n.warned);
  if (id == "INV-MERMAP-7") {  // pages of the CPUs' regions map only inside a live allocation of their region
    expr mapped = pages(0), live = pages(0);
    for (unsigned c = 0; c < cpus_; ++c) {
      mapped = mapped | s.cpus[c].mapped;
      live = live | live_mask(s, c);
    }
    return s.dead || (mapped & range_mask(lo(0), hi(cpus_ - 1)) & ~live) == pages(0);
  }
  if (id == "LEM-MERMAP-R") return representation(s);
  if (id == "LEM-MERMAP-S1")  // the bump order: live allocations lie below the bump pointer, inside the region
    return each_cpu([&](unsigned c, const Cpu& cpu) {
      expr ok = z3::uge(cpu.next, lo(c)) && z3::ule(cpu.next, hi(c));
      for (const Slot& sl : cpu.slots) ok = ok && z3::implies(sl.in_use, z3::ule(sl.end, cpu.next));
      return ok;
    });
  if (id == "LEM-MERMAP-S2")  // flushed above the bump pointer
    return each_cpu([&](unsigned c, const Cpu& cpu) { return (cpu.stale & ~range_mask(lo(c), cpu.next)) == pages(0); });
  if (id == "LEM-MERMAP-S3")  // a CPU's PTEs lie in its own region
    return each_cpu([&](unsigned c, const Cpu& cpu) { return (cpu.mapped & ~range_mask(lo(c), hi(c))) == pages(0); });
  if (id == "LEM-MERMAP-S4")  // normal allocations leave a slot for the reserve
    return each_cpu([&](unsigned, const Cpu& cpu) {
      expr normal = w(0);
      for (const Slot& sl : cpu.slots) normal = normal + z3::ite(sl.in_use && !sl.reserve, w(1), w(0));
      return z3::ule(normal, w(p_.slots - 1));
    });
  throw std::invalid_argument("no SMT form for " + id);
}

std::vector<std::string> Encoding::lemmas() const {
  std::vector<std::string> out{"LEM-MERMAP-R"};  // by construction, on every variant
  bool s1 = p_.bound_fix && p_.reset_after_live;
  if (s1) out.push_back("LEM-MERMAP-S1");
  if (s1 && p_.flush_on_reset) out.push_back("LEM-MERMAP-S2");
  if (s1) out.push_back("LEM-MERMAP-S3");  // needs S1's bounded bump pointer to be inductive
  if (p_.reserve_slot_fix) out.push_back("LEM-MERMAP-S4");
  return out;
}

expr Encoding::representation(const State& s) const {
  expr ok = c_.bool_val(true);
  for (const Cpu& cpu : s.cpus)
    for (const Slot& sl : cpu.slots) ok = ok && sl.pages == range_mask(sl.base, sl.end);
  return ok;
}

expr Encoding::hypothesis(const State& s) const {
  Note none = no_call();
  expr h = c_.bool_val(true);
  for (const std::string& id : kInvariants)
    if (is_state_invariant(id)) h = h && holds(id, s, s, none);
  for (const std::string& id : lemmas()) h = h && holds(id, s, s, none);
  return h;
}

}  // namespace vmref::mermap::smt
