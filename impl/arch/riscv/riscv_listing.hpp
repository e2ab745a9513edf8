// QEMU's `info mem` listing for RISC-V (QEMU 7.2, target/riscv/monitor.c `mem_info_svxx`),
// so `vmref walk --arch riscv --format qemu-mem` can be compared with QEMU line for line.
#pragma once

#include <memory>

#include "vmref/impl/format.hpp"

namespace vmref::impl::riscv {

/// The listing, following QEMU's rules rather than ours (spec/formats/riscv.md "Dump
/// reader and tests"):
/// - two header lines, then one line per run: VA, PA and size as 16 hex digits each, then
///   the run's R, W, X, U, G, A, D bits as "rwxugad" letters or '-';
/// - a leaf extends the run when it is the next entry of the same table page, its low 8
///   PTE bits equal the run's and its PA follows the run's last; QEMU's PA of a leaf is
///   (PTE >> 10) << 12, bits above the PPN included;
/// - a run's size is its PA span.
std::unique_ptr<Listing> qemu_info_mem(const FormatConfig& c);

}  // namespace vmref::impl::riscv
