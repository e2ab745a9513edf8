// Table-page mechanism events (spec/vmm.md §1.8): the root of an address space, links
// and unlinks of the tables below it. Applied verbatim; INV-PT-* judge the result.
#include "core_layer.hpp"
#include "vmref/vocab/core_ops.hpp"

namespace vmref::model {

using vocab::TableArgs;

namespace {
std::string level_str(unsigned l) { return "level " + std::to_string(l); }
}  // namespace

/// The table page a table event names: a live frame other than the zero page.
FrameId CoreLayer::table_frame(const std::string& label) const {
  FrameId t = core_.frame_label(label, true);
  if (t == kZeroFrame) throw ModelError("table", "the zero page cannot be a table page");
  return t;
}

Outcome CoreLayer::pt_root(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<TableArgs>();
  AddressSpace& s = space_of(a.as);
  if (a.level > core_.geometry.max_level())
    throw ModelError("level", level_str(a.level) + " is above the highest level a 64-bit VA allows (" +
                                  std::to_string(core_.geometry.max_level()) + ")");
  // A further root (PTI's second PGD) sits at the same level and shares what is linked below.
  if (s.tables.reported() && a.level != s.tables.root_level)
    throw ModelError("level", "address space " + std::to_string(a.as) + " has its roots at " +
                                  level_str(s.tables.root_level) + ", not " + level_str(a.level));
  FrameId t = table_frame(a.table);
  if (s.tables.root_of(t)) throw ModelError("table", "table '" + a.table + "' is already a root of this address space");
  core_.set_root(s, t, a.level);
  return {};
}

Outcome CoreLayer::pt_link(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<TableArgs>();
  AddressSpace& s = space_of(a.as);
  const PageTables& t = s.tables;
  if (!t.reported()) throw ModelError("as", "address space " + std::to_string(a.as) + " has no root table (pt_root first)");
  if (a.level >= t.root_level)
    throw ModelError("level", level_str(a.level) + " is not below the root's " + level_str(t.root_level));
  unsigned up = a.level + 1;
  if (up != t.root_level && !t.linked.count({up, core_.geometry.range_of(up, a.va).first}))
    throw ModelError("va", "no " + level_str(up) + " table is linked over this address to hold the entry");
  core_.link_table(s, a.level, a.va, table_frame(a.table), a.shared);
  return {};
}

Outcome CoreLayer::pt_unlink(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<TableArgs>();
  AddressSpace& s = space_of(a.as);
  if (!core_.unlink_table(s, a.level, a.va))
    throw ModelError("va", "no " + level_str(a.level) + " table is linked over this address");
  return {};
}

}  // namespace vmref::model
