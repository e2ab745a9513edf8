#!/usr/bin/python3
"""Regenerate the real RISC-V page-table dump that `vmref walk --arch riscv` is tested on.

Boots Debian's riscv64 kernel under qemu-system-riscv64 (virt board, TCG, OpenSBI, no
disk) to its "unable to mount root" panic, stops the hart, and saves over QMP:
- satp (from `info registers`), which names the mode QEMU's CPU let Linux choose;
- QEMU's own listing of the mappings (`info mem`);
- `gva2gpa` for three addresses of every listed run (first, middle and last byte) and
  for the first address past each run that no run starts at (expected unmapped);
- RAM (pmemsave from 0x80000000), cut down by `vmref walk --tables-out` to the page-table
  pages, so the committed image compresses to tens of KB.

Usage: qemu_dump.py VMREF KERNEL OUTDIR     (needs qemu-system-misc, zstd)
KERNEL: the Image from Debian's linux-image-*-riscv64 package (/boot/vmlinux-*).
Writes OUTDIR/{pmem.zst, satp.txt, info-mem.txt.zst, gva2gpa.txt, console.log}.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../tools"))
from qemu_qmp import boot_to_panic, save_dump  # noqa: E402

MEM_MB = 128
RAM_BASE = 0x80000000  # the virt board's DRAM
MODES = {8: 39, 9: 48, 10: 57}  # satp.MODE -> Sv


def runs(info_mem):
    """(va, size) of each line of `info mem` (after its two header lines)."""
    out = []
    for line in info_mem.splitlines()[2:]:
        f = line.split()
        if len(f) == 4:
            out.append((int(f[0], 16), int(f[2], 16)))
    return out


def translation(mon, va):
    """QEMU's `gva2gpa` for `va`: the PA in hex, or "unmapped"; anything else is an error."""
    reply = mon.hmp(f"gva2gpa 0x{va:x}").strip()
    if reply == "Unmapped":
        return "unmapped"
    m = re.match(r"gpa: (0x[0-9a-f]+)$", reply)
    if not m:
        raise RuntimeError(f"gva2gpa 0x{va:x}: unexpected reply {reply!r}")
    return m.group(1)


def main():
    vmref, kernel, out = sys.argv[1], sys.argv[2], sys.argv[3]
    qemu, mon, tmp = boot_to_panic(["qemu-system-riscv64", "-M", "virt", "-m", str(MEM_MB), "-smp", "1", "-kernel", kernel,
                                   "-append", "console=ttyS0 panic=0 loglevel=4"], out)
    try:
        mon.cmd("stop")
        satp = int(re.search(r"\bsatp\s+([0-9a-f]+)", mon.hmp("info registers")).group(1), 16)
        sv = MODES[satp >> 60]
        info_mem = mon.hmp("info mem").replace("\r", "")
        listed = runs(info_mem)
        starts = {va for va, _ in listed}
        samples = []
        for va, size in listed:
            samples += [va, va + size // 2, va + size - 1]
            if va + size not in starts:
                samples.append(va + size)
        with open(os.path.join(out, "gva2gpa.txt"), "w") as f:
            for va in samples:
                va &= (1 << 64) - 1
                f.write(f"0x{va:x} {translation(mon, va)}\n")
        pmem = os.path.join(tmp, "pmem")
        mon.cmd("pmemsave", val=RAM_BASE, size=MEM_MB << 20, filename=pmem)
        with open(os.path.join(out, "satp.txt"), "w") as f:
            f.write(f"satp=0x{satp:x} base=0x{RAM_BASE:x} sv={sv}\n")
        save_dump(out, "info-mem.txt.zst", info_mem,
                  [vmref, "walk", "--arch", "riscv", "--sv", str(sv), "--mem", pmem, "--base", str(RAM_BASE),
                   "--root", str(satp), "--format", "qemu-mem"], pmem)
        print(f"satp=0x{satp:x} (Sv{sv}); {len(listed)} QEMU runs, {len(samples)} gva2gpa samples; dump in {out}")
    finally:
        qemu.kill()
        qemu.wait()


if __name__ == "__main__":
    main()
