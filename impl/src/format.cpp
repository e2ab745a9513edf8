#include "vmref/impl/format.hpp"

#include <stdexcept>

namespace vmref::impl {

namespace {
std::vector<std::unique_ptr<FormatInfo>>& rows() {
  static std::vector<std::unique_ptr<FormatInfo>> k;
  return k;
}
std::vector<const FormatInfo*>& view() {
  static std::vector<const FormatInfo*> k;
  return k;
}
}  // namespace

ListingMaker per_leaf_listing(std::string (*line)(std::uint64_t va, std::uint64_t raw, std::uint64_t page_size)) {
  struct PerLeaf : Listing {
    explicit PerLeaf(decltype(line) f) : fn(f) {}
    std::string leaf(const Leaf& l) override { return fn(l.va, l.raw, l.size) + "\n"; }
    decltype(line) fn;
  };
  return [line](const FormatConfig&) -> std::unique_ptr<Listing> { return std::make_unique<PerLeaf>(line); };
}

void add_format(FormatInfo f) {
  if (find_format(f.name)) throw std::logic_error("format '" + f.name + "' registered twice");
  rows().push_back(std::make_unique<FormatInfo>(std::move(f)));
  view().push_back(rows().back().get());
}

const std::vector<const FormatInfo*>& all_formats() { return view(); }

const FormatInfo* find_format(std::string_view name) {
  for (const FormatInfo* f : view())
    if (f->name == name) return f;
  return nullptr;
}

const FormatInfo* find_gpu_format(unsigned version) {
  for (const FormatInfo* f : view())
    if (f->gmmu && f->gmmu->version == version) return f;
  return nullptr;
}

std::vector<std::string> format_names() {
  std::vector<std::string> out;
  for (const FormatInfo* f : view()) out.push_back(f->name);
  return out;
}

const FormatInfo& format_or_throw(const std::string& name) {
  if (const FormatInfo* f = find_format(name)) return *f;
  std::string all;
  for (const std::string& n : format_names()) all += (all.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown implementation '" + name + "' (known: " + all + ")");
}

}  // namespace vmref::impl
