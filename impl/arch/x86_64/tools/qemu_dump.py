#!/usr/bin/python3
"""Regenerate the real x86-64 page-table dump that `vmref walk` is tested on.

Boots Debian's kernel under qemu-system-x86_64 (TCG, no disk: it stops at the
"unable to mount root" panic with its page tables live), then over QMP: stops the CPU,
saves `info registers` (CR3, CR4), `info tlb` (QEMU's own listing of every leaf) and
`pmemsave` of all RAM. `vmref walk --tables-out` then keeps only the page-table pages, so
the committed dump compresses to a few hundred KB.

Usage: qemu_dump.py VMREF KERNEL OUTDIR     (needs qemu-system-x86, zstd)
Writes OUTDIR/{pmem.zst, cr3.txt, info-tlb.txt.zst, console.log}.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../tools"))
from qemu_qmp import boot_to_panic, save_dump  # noqa: E402

MEM_MB = 128


def main():
    vmref, kernel, out = sys.argv[1], sys.argv[2], sys.argv[3]
    qemu, mon, tmp = boot_to_panic(["qemu-system-x86_64", "-m", str(MEM_MB), "-kernel", kernel,
                                   "-append", "console=ttyS0 panic=0 loglevel=4"], out)
    try:
        mon.cmd("stop")
        regs = mon.hmp("info registers")
        cr3 = int(re.search(r"CR3=([0-9a-f]+)", regs).group(1), 16)
        cr4 = int(re.search(r"CR4=([0-9a-f]+)", regs).group(1), 16)
        tlb = mon.hmp("info tlb")
        pmem = os.path.join(tmp, "pmem")
        mon.cmd("pmemsave", val=0, size=MEM_MB << 20, filename=pmem)
        levels = 5 if cr4 & (1 << 12) else 4
        with open(os.path.join(out, "cr3.txt"), "w") as f:
            f.write(f"cr3=0x{cr3:x} cr4=0x{cr4:x} levels={levels}\n")
        save_dump(out, "info-tlb.txt.zst", tlb,
                  [vmref, "walk", "--mem", pmem, "--root", str(cr3), "--levels", str(levels), "--format", "qemu-tlb"], pmem)
        print(f"cr3=0x{cr3:x} levels={levels}; {len(tlb.splitlines())} QEMU tlb lines; dump in {out}")
    finally:
        qemu.kill()
        qemu.wait()


if __name__ == "__main__":
    main()
