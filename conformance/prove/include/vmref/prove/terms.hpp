// Field-by-field operations on an SMT state (spec/prove.md §2-§3), for encodings that list
// every term of their state once in a visitor `each(state, fn)` calling fn(z3::expr&) on
// each term in a fixed order: fresh constants, `c ? a : b`, and equality then cannot miss a
// field that the visitor lists.
#pragma once

#include <string>
#include <vector>

#include <z3++.h>

namespace vmref::prove {

/// Replaces every term of `s` by a fresh constant of its sort named `tag_<index>`.
template <class S, class Each> void name_terms(z3::context& c, S& s, const std::string& tag, Each each) {
  unsigned k = 0;
  each(s, [&](z3::expr& e) {
    std::string n = tag + "_" + std::to_string(k++);
    e = e.is_bool() ? c.bool_const(n.c_str()) : c.bv_const(n.c_str(), e.get_sort().bv_size());
  });
}

/// `c ? a : b`, term by term (a and b of the same shape).
template <class S, class Each> S mux_terms(const z3::expr& c, const S& a, S b, Each each) {
  std::vector<z3::expr*> bs;
  each(b, [&](z3::expr& e) { bs.push_back(&e); });
  S t = a;
  std::size_t k = 0;
  each(t, [&](z3::expr& e) {
    e = z3::ite(c, e, *bs[k]);
    ++k;
  });
  return t;
}

/// Whether every term of `a` equals the same term of `b`.
template <class S, class Each> z3::expr equal_terms(z3::context& c, S a, S b, Each each) {
  std::vector<z3::expr*> bs;
  each(b, [&](z3::expr& e) { bs.push_back(&e); });
  z3::expr eq = c.bool_val(true);
  std::size_t k = 0;
  each(a, [&](z3::expr& e) { eq = eq && e == *bs[k++]; });
  return eq;
}

}  // namespace vmref::prove
