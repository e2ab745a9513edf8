#!/usr/bin/env python3
"""Renders `vmref report --html` in headless Chromium and checks what a reader sees.

usage: check_html_report.py VMREF SRC_DIR [--broken]

Replays every bundled violation trace, writes the HTML report, adds a probe script to a
copy of it, and lets Chromium lay the page out at 1280x900 CSS pixels. The probe reads
the laid-out page (text, column widths, overflow, anchors) into the DOM that
`--dump-dom` prints; a screenshot is checked for its size and for not being blank.
Exit 0 when every check holds, 1 naming each one that failed, 2 when Chromium or vmref
cannot run.

--broken checks a deliberately damaged copy of the report instead (no wrapping, a
dangling anchor, no reproduce commands) and exits 0 only when the checks catch it.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

WIDTH, HEIGHT = 1280, 900

# Measures the page after layout; its result goes into <pre id="probe"> as JSON.
PROBE = """<script>
window.addEventListener('load', () => {
  const q = s => Array.from(document.querySelectorAll(s));
  const ids = new Set(q('[id]').map(e => e.id));
  const msg = q('td.msg').map(e => e.getBoundingClientRect().width);
  const pre = q('pre').map(e => getComputedStyle(e).whiteSpace);
  const cmd = q('code.cmd');
  const out = {
    title: document.title,
    h1: (document.querySelector('h1') || {}).textContent || '',
    summary: (document.querySelector('h1 + p') || {}).textContent || '',
    headings: q('h2').map(e => e.textContent),
    viewport: window.innerWidth,
    scroll_width: document.documentElement.scrollWidth,
    msg_min_width: msg.length ? Math.min(...msg) : 0,
    msg_cells: msg.length,
    pre_nowrap: pre.filter(w => w !== 'pre-wrap').length,
    dangling: q('a[href^="#"]').map(a => a.getAttribute('href').slice(1)).filter(h => !ids.has(h)),
    links: q('a[href^="#"]').length,
    commands: cmd.map(e => e.textContent),
    command_overflow: cmd.filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).length,
    finding_rows: q('tr.findings').length,
  };
  const p = document.createElement('pre');
  p.id = 'probe';
  p.textContent = JSON.stringify(out);
  document.body.appendChild(p);
});
</script>"""


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    print("check_html_report: no chromium on PATH (tools/install-deps.sh installs Debian's chromium)")
    sys.exit(2)


def browser(args, workdir):
    # --no-sandbox: CI runs as root; a profile of our own keeps runs apart.
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--hide-scrollbars", f"--user-data-dir={workdir}/profile", f"--window-size={WIDTH},{HEIGHT}"]
    return run(base + args)


def png_info(path):
    """(width, height, distinct colours in the first rows) of an 8-bit RGB(A) PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0, 0
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    idat, at = b"", 8
    while at < len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            idat += data[at + 8:at + 8 + n]
        at += 12 + n
    channels = {2: 3, 6: 4}.get(ctype)
    if depth != 8 or channels is None:
        return w, h, 0
    raw = zlib.decompress(idat)
    stride = w * channels + 1
    colours = set()
    # Filter bytes make raw rows differ from pixels, but a blank page stays near-uniform.
    for row in range(min(h, 200)):
        line = raw[row * stride + 1:(row + 1) * stride]
        colours.update(line[i:i + 3] for i in range(0, len(line), channels * 7))
    return w, h, len(colours)


def damage(html):
    """The report with what the checks guard removed: wrapping, anchors, commands."""
    html = html.replace("white-space:pre-wrap", "white-space:pre").replace("td.msg{min-width:30em}", "")
    html = html.replace('href="#trace-0"', 'href="#trace-none"', 1)
    return re.sub(r'<code class="cmd">.*?</code>', "", html)


def checks(p):
    fail = []
    def need(ok, what):
        if not ok:
            fail.append(what)
    need(p["title"] == "vmref conformance report", f"title is {p['title']!r}")
    need(re.search(r"\d+ trace\(s\): \d+ clean, [1-9]\d* with findings", p["summary"]),
         f"summary header lacks totals with findings: {p['summary']!r}")
    for h in ("By ID", "Findings by title", "Findings and undetermined cases, by trace"):
        need(h in p["headings"], f"no section '{h}'")
    need(p["finding_rows"] > 0, "no finding rows")
    need(p["msg_cells"] > 0 and p["msg_min_width"] >= 300,
         f"message column {p['msg_min_width']:.0f} px wide (at least 300 px wanted)")
    need(p["pre_nowrap"] == 0, f"{p['pre_nowrap']} diff/counterexample blocks do not wrap")
    need(p["scroll_width"] <= p["viewport"] + 1,
         f"page is {p['scroll_width']} px wide in a {p['viewport']} px window: something does not wrap")
    need(p["links"] > 0 and not p["dangling"], f"{len(p['dangling'])} anchors lead nowhere: {p['dangling'][:3]}")
    need(p["commands"] and all(c.startswith("vmref replay ") and " --profile " in c for c in p["commands"]),
         "finding rows lack a `vmref replay ... --profile ...` command")
    need(p["command_overflow"] == 0, f"{p['command_overflow']} commands run past the window's edge")
    return fail


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    vmref, src = sys.argv[1], sys.argv[2]
    broken = "--broken" in sys.argv[3:]
    with tempfile.TemporaryDirectory() as t:
        res = os.path.join(t, "r.json")
        r = run([vmref, "replay", "-q", os.path.join(src, "traces", "violations"), "--report", res])
        if r.returncode != 1:
            print(r.stdout, r.stderr, sep="\n")
            print(f"check_html_report: replay of the violation traces exited {r.returncode}, expected 1")
            sys.exit(2)
        html = os.path.join(t, "r.html")
        r = run([vmref, "report", res, "--html", html])
        if r.returncode not in (0, 1):
            print(f"check_html_report: vmref report exited {r.returncode}: {r.stderr}")
            sys.exit(2)
        page = open(html, encoding="utf-8").read()
        if broken:
            page = damage(page)
        probe = os.path.join(t, "probe.html")
        with open(probe, "w", encoding="utf-8") as f:
            f.write(page.replace("</body>", PROBE + "</body>"))
        r = browser(["--virtual-time-budget=10000", "--dump-dom", "file://" + probe], t)
        m = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
        if not m:
            print(r.stderr[-2000:])
            sys.exit(2)
        p = json.loads(m.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&"))
        shot = os.path.join(t, "shot.png")
        browser(["--screenshot=" + shot, "file://" + html], t)
        w, h, colours = png_info(shot) if os.path.exists(shot) else (0, 0, 0)
        fail = checks(p)
        if (w, h) != (WIDTH, HEIGHT) or colours < 3:
            fail.append(f"screenshot {w}x{h} with {colours} colours sampled (want {WIDTH}x{HEIGHT}, not blank)")
        print(f"chromium rendered {len(page)} bytes: {p['finding_rows']} finding rows, {p['links']} anchors, "
              f"{len(p['commands'])} reproduce commands, message column >= {p['msg_min_width']:.0f} px, "
              f"page {p['scroll_width']} px in a {p['viewport']} px window; screenshot {w}x{h}, {colours} colours sampled")
        for f in fail:
            print("FAILED:", f)
        if broken:  # the damaged page must be caught
            print("the damaged page was caught" if fail else "FAILED: the damaged page passed every check")
            sys.exit(0 if fail else 1)
        sys.exit(1 if fail else 0)


if __name__ == "__main__":
    main()
