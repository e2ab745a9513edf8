#include "vmref/conformance/draw.hpp"
#include "vmref/diff/table_differential.hpp"

#include <set>
#include <stdexcept>

#include "vmref/diff/table_shape.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "vmref/trace/fields.hpp"

namespace vmref::diff {

using conformance::Finding;
using trace::hex;

namespace {
constexpr std::uint64_t k2M = 1ull << 21;
/// Each field of `arch` by name, packed from bit 0 in list order.
template <class Fn> void each_field(const std::vector<impl::AttrField>& fields, Fn fn) {
  unsigned shift = 0;
  for (const impl::AttrField& f : fields) {
    fn(f, shift);
    shift += f.bits;
  }
}
std::string show(std::uint64_t pa, const impl::LeafAttrs& a, const std::vector<impl::AttrField>& fields) {
  std::string s = hex(pa) + (a.rights.u ? " u" : " s") + (a.rights.w ? "w" : "-") + (a.rights.x ? "x" : "-") +
                  (a.global ? " G" : "");
  each_field(fields, [&](const impl::AttrField& f, unsigned shift) {
    s += std::string(" ") + f.name + " " + std::to_string(a.arch >> shift & ((1ull << f.bits) - 1));
  });
  return s;
}
const char* kind_name(TableOp::Kind k) { return k == TableOp::map ? "map" : k == TableOp::protect ? "protect" : "unmap"; }
}  // namespace

nlohmann::json TableOp::to_json(const std::vector<impl::AttrField>& fields) const {
  nlohmann::json j{{"op", kind_name(kind)}, {"va", hex(va)},          {"len", hex(len)},      {"pa", hex(pa)},
                   {"max_leaf", hex(max_leaf)}, {"w", attrs.rights.w}, {"u", attrs.rights.u}, {"x", attrs.rights.x},
                   {"global", attrs.global}};
  each_field(fields, [&](const impl::AttrField& f, unsigned shift) { j[f.name] = attrs.arch >> shift & ((1ull << f.bits) - 1); });
  return j;
}

TableOp TableOp::from_json(const nlohmann::json& j, const std::vector<impl::AttrField>& fields) {
  auto num = [&](const char* k) -> std::uint64_t {
    if (!j.contains(k) || !j[k].is_string()) throw std::runtime_error(std::string("field '") + k + "': expected a hex string");
    return std::stoull(j[k].get<std::string>(), nullptr, 16);
  };
  auto flag = [&](const char* k) {
    if (!j.contains(k) || !j[k].is_boolean()) throw std::runtime_error(std::string("field '") + k + "': expected a boolean");
    return j[k].get<bool>();
  };
  TableOp o;
  std::string op = j.value("op", "");
  if (op == "map") o.kind = map;
  else if (op == "protect") o.kind = protect;
  else if (op == "unmap") o.kind = unmap;
  else throw std::runtime_error("field 'op': expected map, protect or unmap");
  o.va = num("va");
  o.len = num("len");
  o.pa = num("pa");
  o.max_leaf = num("max_leaf");
  o.attrs.rights = {flag("w"), flag("u"), flag("x")};
  o.attrs.global = flag("global");
  each_field(fields, [&](const impl::AttrField& f, unsigned shift) {
    std::uint64_t v = j.contains(f.name) && j[f.name].is_number_unsigned() ? j[f.name].get<std::uint64_t>() : 0;
    o.attrs.arch |= (v & ((1ull << f.bits) - 1)) << shift;
  });
  if ((o.va | o.len | o.pa) & 0xfff || o.len == 0 || o.va < TableDifferential::kWindow ||
      o.va + o.len > TableDifferential::kWindow + TableDifferential::kWindowBytes)
    throw std::runtime_error("fields 'va'/'len'/'pa': not page aligned or outside the window");
  return o;
}

namespace {
impl::FormatConfig architectural(impl::FormatConfig c) {
  c.mutant = nullptr;
  return c;
}
}  // namespace

TableDifferential::TableDifferential(const impl::FormatInfo& format, const impl::FormatConfig& cfg)
    : arch_(format.decoder(architectural(cfg))),
      codec_(format.codec(cfg)),
      fields_(codec_->arch_fields()),
      pool_(mem_),
      table_(pool_, *codec_, cfg.mutant) {}

TableOp TableDifferential::random_op(std::mt19937_64& rng) const {
  auto pick = [&](std::uint64_t n) { return conformance::draw(rng, n); };
  TableOp o;
  std::uint64_t r = pick(10);
  o.kind = r < 4 ? TableOp::map : r < 7 ? TableOp::protect : TableOp::unmap;
  bool large = pick(2) == 0;
  if (large) {  // 2 MiB aligned: leaves of 2 MiB where PA aligns too
    o.va = kWindow + pick(kWindowBytes / k2M - 3) * k2M;
    o.len = (1 + pick(3)) * k2M;
    o.pa = (1ull << 32) + pick(1024) * k2M;
    o.max_leaf = k2M;
  } else {
    o.va = kWindow + pick(kWindowBytes / 4096 - 32) * 4096;
    o.len = (1 + pick(24)) * 4096;
    o.pa = (1ull << 32) + pick(1u << 19) * 4096;
  }
  o.attrs.rights = {pick(2) == 0, pick(4) != 0, pick(2) == 0};
  o.attrs.global = pick(4) == 0;
  each_field(fields_, [&](const impl::AttrField& f, unsigned shift) { o.attrs.arch |= pick(1ull << f.bits) << shift; });
  return o;
}

void TableDifferential::add(std::vector<Finding>& out, const char* id, const std::string& msg) const {
  Finding f;
  f.id = id;
  f.event = ops_ ? ops_ - 1 : 0;
  f.op = op_name_;
  f.message = msg;
  out.push_back(std::move(f));
}

std::vector<Finding> TableDifferential::step(const TableOp& op) {
  ++ops_;
  op_name_ = std::string("table ") + kind_name(op.kind);
  switch (op.kind) {
    case TableOp::map:
      table_.map(op.va, op.pa, op.len, op.attrs, op.max_leaf);
      for (std::uint64_t o = 0; o < op.len; o += 4096) ref_[op.va + o] = {op.pa + o, op.attrs};
      break;
    case TableOp::protect:
      table_.protect(op.va, op.len, [&](std::uint64_t, std::uint64_t, impl::LeafAttrs& a) { a = op.attrs; });
      for (auto it = ref_.lower_bound(op.va); it != ref_.end() && it->first < op.va + op.len; ++it) it->second.attrs = op.attrs;
      break;
    case TableOp::unmap:
      table_.unmap(op.va, op.len);
      ref_.erase(ref_.lower_bound(op.va), ref_.lower_bound(op.va + op.len));
      break;
  }
  std::vector<Finding> out;
  compare_range(op.va & ~(k2M - 1), (op.va + op.len + k2M - 1) & ~(k2M - 1), out);
  max_tables_ = std::max(max_tables_, table_.table_pages());
  if (ops_ % 64 == 0) {
    auto all = check_all();
    out.insert(out.end(), all.begin(), all.end());
  }
  return out;
}

void TableDifferential::compare_range(std::uint64_t lo, std::uint64_t hi, std::vector<Finding>& out) {
  for (std::uint64_t va = lo; va < hi; va += 4096) {
    auto leaf = impl::walk_one(mem_, *arch_, table_.root(), va);
    auto it = ref_.find(va);
    if ((it != ref_.end()) != leaf.has_value()) {
      add(out, "DIFF-TBL-1", "va " + hex(va) + (leaf ? ": translated but never mapped" : ": mapped but does not translate"));
      return;
    }
    if (!leaf) continue;
    if (leaf->size > 4096) ++large_seen_;
    std::uint64_t pa = leaf->pa + (va - leaf->va);
    impl::LeafAttrs a = arch_->leaf_attrs(leaf->raw, leaf->level);
    a.accessed = a.dirty = false;
    a.soft = 0;
    if (pa != it->second.pa || !(a == it->second.attrs) || !(leaf->rights == it->second.attrs.rights)) {
      impl::LeafAttrs seen = a;
      seen.rights = leaf->rights;
      add(out, "DIFF-TBL-1", "va " + hex(va) + ": translates to " + show(pa, seen, fields_) + "; mapped as " +
                                 show(it->second.pa, it->second.attrs, fields_));
      return;
    }
  }
}

std::vector<Finding> TableDifferential::check_all() {
  std::vector<Finding> out;
  compare_range(kWindow, kWindow + kWindowBytes, out);
  // Reclaim: every table page reachable, none empty but the root (DIFF-TBL-2).
  std::set<std::uint64_t> tables;
  std::uint64_t pages = 0;
  impl::walk_all(mem_, *arch_, table_.root(), [&](const impl::Leaf& l) { pages += l.size / 4096; },
                 [&](const impl::WalkIssue& i) { add(out, "DIFF-TBL-1", "walk: " + i.what); }, &tables);
  if (pages != ref_.size())
    add(out, "DIFF-TBL-1", std::to_string(pages) + " pages translate, " + std::to_string(ref_.size()) + " were mapped");
  for (const std::string& why : table_shape_issues(mem_, table_, tables)) add(out, "DIFF-TBL-2", why);
  return out;
}

}  // namespace vmref::diff
