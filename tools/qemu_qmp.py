"""Boot a kernel under QEMU until it panics, then query QEMU's monitor over QMP.

Shared by the page-table dump scripts (impl/arch/<arch>/tools/qemu_dump.py). Each boots
its architecture's Debian kernel with no root disk: the kernel stops at the "unable to
mount root" panic with its page tables live and no longer changing. The script then
stops the CPU and asks QEMU for registers, QEMU's own listing of the mappings, sampled
translations and an image of RAM.
"""
import json
import os
import socket
import subprocess
import tempfile
import time


class Monitor:
    """A QMP connection: `cmd` runs a QMP command, `hmp` a human-monitor command line."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.buf = b""
        self._message()  # the greeting
        self.cmd("qmp_capabilities")

    def _message(self):
        """The next non-empty JSON line from QEMU."""
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("QMP connection closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                return json.loads(line)

    def cmd(self, name, **args):
        request = {"execute": name, "arguments": args} if args else {"execute": name}
        self.sock.sendall((json.dumps(request) + "\n").encode())
        while True:  # events may come before the reply
            msg = self._message()
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError(f"QMP {name}: {msg['error']}")

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})


def boot_to_panic(argv, out, timeout_s=300):
    """Starts QEMU (`argv` without the serial and QMP options) with its console in
    OUT/console.log, waits until the console shows the kernel's panic and returns
    (process, Monitor, a fresh scratch directory). Raises on a timeout."""
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp()
    console = os.path.join(out, "console.log")
    if os.path.exists(console):
        os.remove(console)  # the panic seen must be this boot's
    sock_path = os.path.join(tmp, "qmp.sock")
    qemu = subprocess.Popen(argv + ["-display", "none", "-serial", f"file:{console}", "-no-reboot",
                                    "-qmp", f"unix:{sock_path},server=on,wait=off"])
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        time.sleep(0.5)
        if os.path.exists(console) and b"Kernel panic" in open(console, "rb").read():
            time.sleep(1)  # let the panic finish printing
            return qemu, Monitor(sock_path), tmp
        if qemu.poll() is not None:
            break
    qemu.kill()
    qemu.wait()
    raise RuntimeError("the kernel did not reach its panic; see " + console)


def save_dump(out, listing_name, listing, walk_cmd, pmem):
    """Writes OUT/LISTING_NAME (QEMU's listing, zstd) and OUT/pmem.zst: the RAM image `pmem`
    cut by `walk_cmd` (a `vmref walk` command line reading it) to the page-table pages."""
    subprocess.run(["zstd", "-q", "-19", "-f", "-o", os.path.join(out, listing_name)], input=listing.encode(), check=True)
    sparse = pmem + ".tables"
    subprocess.run(walk_cmd + ["--tables-out", sparse], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["zstd", "-q", "-19", "-f", sparse, "-o", os.path.join(out, "pmem.zst")], check=True)
