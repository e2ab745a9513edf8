#include "riscv_listing.hpp"

#include <cstdio>

#include "riscv_format.hpp"

namespace vmref::impl::riscv {

namespace {

class QemuInfoMem : public Listing {
 public:
  std::string leaf(const Leaf& l) override {
    std::string out = header();
    std::uint64_t attr = l.raw & 0xff, pa = (l.raw >> 10) << 12, table = l.entry_pa & ~0xfffull;
    bool extends = open_ && attr == attr_ && pa == end_pa_ && table == table_ && l.va == next_va_;
    if (!extends) {
      out += run();
      open_ = true;
      va_ = l.va, pa_ = pa, attr_ = attr;
    }
    end_pa_ = pa + l.size, next_va_ = l.va + l.size, table_ = table;
    return out;
  }
  std::string end() override { return header() + run(); }

 private:
  std::string header() {
    if (started_) return "";
    started_ = true;
    return "vaddr            paddr            size             attr\n"
           "---------------- ---------------- ---------------- -------\n";
  }
  /// The open run's line ("" when none, or when its PA span is empty as QEMU skips it).
  std::string run() const {
    if (!open_ || end_pa_ == pa_) return "";
    auto bit = [&](std::uint64_t b, char c) { return (attr_ & b) ? c : '-'; };
    char buf[96];
    std::snprintf(buf, sizeof buf, "%016llx %016llx %016llx %c%c%c%c%c%c%c\n", static_cast<unsigned long long>(va_),
                  static_cast<unsigned long long>(pa_), static_cast<unsigned long long>(end_pa_ - pa_), bit(kR, 'r'),
                  bit(kW, 'w'), bit(kX, 'x'), bit(kU, 'u'), bit(kG, 'g'), bit(kA, 'a'), bit(kD, 'd'));
    return buf;
  }
  bool started_ = false, open_ = false;
  std::uint64_t va_ = 0, pa_ = 0, attr_ = 0, end_pa_ = 0, next_va_ = 0, table_ = 0;
};

}  // namespace

std::unique_ptr<Listing> qemu_info_mem(const FormatConfig&) { return std::make_unique<QemuInfoMem>(); }

}  // namespace vmref::impl::riscv
