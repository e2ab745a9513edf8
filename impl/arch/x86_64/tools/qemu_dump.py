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
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

MEM_MB = 128


def qmp(sock, cmd, **args):
    sock.sendall((json.dumps({"execute": cmd, "arguments": args} if args else {"execute": cmd}) + "\n").encode())
    buf = b""
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("QMP connection closed")
        buf += chunk
        *lines, buf = buf.split(b"\n")  # the last piece may be an incomplete message
        for line in lines:
            if not line.strip():
                continue
            msg = json.loads(line)
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError(f"QMP {cmd}: {msg['error']}")


def main():
    vmref, kernel, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp()
    sock_path = os.path.join(tmp, "qmp.sock")
    console = os.path.join(out, "console.log")
    qemu = subprocess.Popen(["qemu-system-x86_64", "-m", str(MEM_MB), "-kernel", kernel, "-append",
                             "console=ttyS0 panic=0 loglevel=4", "-display", "none", "-serial", f"file:{console}",
                             "-no-reboot", "-qmp", f"unix:{sock_path},server=on,wait=off"])
    try:
        for _ in range(600):  # wait for the panic (TCG boot takes a while)
            time.sleep(0.5)
            if os.path.exists(console) and b"Kernel panic" in open(console, "rb").read():
                break
        else:
            raise RuntimeError("the kernel did not reach its panic; see " + console)
        time.sleep(1)
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock_path)
        s.recv(1 << 16)  # greeting
        qmp(s, "qmp_capabilities")
        qmp(s, "stop")
        regs = qmp(s, "human-monitor-command", **{"command-line": "info registers"})
        cr3 = int(re.search(r"CR3=([0-9a-f]+)", regs).group(1), 16)
        cr4 = int(re.search(r"CR4=([0-9a-f]+)", regs).group(1), 16)
        tlb = qmp(s, "human-monitor-command", **{"command-line": "info tlb"})
        pmem = os.path.join(tmp, "pmem")
        qmp(s, "pmemsave", val=0, size=MEM_MB << 20, filename=pmem)
        levels = 5 if cr4 & (1 << 12) else 4
        with open(os.path.join(out, "cr3.txt"), "w") as f:
            f.write(f"cr3=0x{cr3:x} cr4=0x{cr4:x} levels={levels}\n")
        subprocess.run(["zstd", "-q", "-19", "-f", "-o", os.path.join(out, "info-tlb.txt.zst")],
                       input=tlb.encode(), check=True)
        sparse = os.path.join(tmp, "tables")
        subprocess.run([vmref, "walk", "--mem", pmem, "--root", str(cr3), "--levels", str(levels),
                        "--format", "qemu-tlb", "--tables-out", sparse], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["zstd", "-q", "-19", "-f", sparse, "-o", os.path.join(out, "pmem.zst")], check=True)
        print(f"cr3=0x{cr3:x} levels={levels}; {len(tlb.splitlines())} QEMU tlb lines; dump in {out}")
    finally:
        qemu.kill()
        qemu.wait()


if __name__ == "__main__":
    main()
