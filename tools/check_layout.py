#!/usr/bin/env python3
"""The layout's two guard checks (CONTRIBUTING.md "Layout"), run by ctest.

1. Ownership: no source file outside a kernel's or a page-table format's own folders
   names that kernel or format. The names come from the lists in the top-level
   CMakeLists.txt (the one registry line allowed to name them all). Comments are
   documentation and are not read; code, strings and build files are.
2. Independence: no file under impl/ includes a header of model/ (the implementation is
   written from the spec, never from the model's code). CMake separately refuses to
   configure when an impl/ target links a model library (CMakeLists.txt).

Usage: check_layout.py SOURCE_DIR [--pretend REL=FILE ... --expect-violation]
  --pretend REL=FILE    also check FILE's text as though it were SOURCE_DIR/REL
  --expect-violation    the self-test: exit 0 only if a pretended file is caught
Exit 0 when the tree is clean, 1 naming each violation as PATH:LINE, 2 on bad usage.
"""
import argparse
import os
import re
import subprocess
import sys

SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".c", ".cmake", ".in", ".sh", ".py")
SOURCE_NAMES = ("CMakeLists.txt", "run")


def cmake_list(top_cmake, var):
    """The words of `set(VAR a b c)` in the top-level CMakeLists.txt."""
    m = re.search(r"^set\(" + var + r"\s+([^)]*)\)", top_cmake, re.M)
    if not m:
        sys.exit(f"check_layout: CMakeLists.txt: no set({var} ...) line")
    return m.group(1).split()


def spellings(name):
    """How code may spell a name: x86_64 / x86-64, almos-mkh / almos_mkh / almos."""
    forms = {name, name.replace("-", "_"), name.replace("_", "-")}
    head = re.split(r"[-_]", name)[0]
    if head != name and len(head) >= 3:
        forms.add(head)
    return forms


def owned_prefixes(kind, name):
    """Folders (and spec pages) where `name` may be named."""
    if kind == "kernel":
        return [f"model/kernels/{name}/", f"impl/kernels/{name}/", f"conformance/kernels/{name}/",
                f"spec/kernels/{name}.md", f"traces/{name}/"]
    return [f"impl/arch/{name}/", f"spec/formats/{name}.md"]


def tracked_files(src):
    try:
        out = subprocess.run(["git", "-C", src, "ls-files", "-co", "--exclude-standard"],
                             capture_output=True, text=True, check=True).stdout
        files = [f for f in out.splitlines() if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for root, dirs, names in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith((".git", "build"))]
        files += [os.path.relpath(os.path.join(root, n), src) for n in names]
    return files


def is_source(rel):
    base = os.path.basename(rel)
    return base in SOURCE_NAMES or base.endswith(SOURCE_SUFFIXES)


def strip_comments(rel, text):
    """The text with comments blanked (line numbers kept)."""
    if rel.endswith((".cpp", ".hpp", ".h", ".c", ".in")):
        def blank(m):
            s = m.group(0)
            if s.startswith(("//", "/*")):
                return re.sub(r"[^\n]", " ", s)
            return s  # a string or character literal stays
        pattern = r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\''
        return re.sub(pattern, blank, text, flags=re.S)
    if rel.endswith(".py"):  # docstrings are documentation too
        text = re.sub(r'"""(.*?)"""', lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    # CMake, shell, Python: '#' to end of line, outside quotes (good enough for ours).
    lines = []
    for line in text.split("\n"):
        quote = None
        for i, ch in enumerate(line):
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "\"'":
                quote = ch
            elif ch == "#" and not line.startswith("#!"):
                line = line[:i]
                break
        lines.append(line if not line.startswith("#!") else "")
    return "\n".join(lines)


def in_kernel_folder(rel, kernels):
    return any(rel.startswith(p) for k in kernels for p in owned_prefixes("kernel", k))


def check_names(rel, code, owners, allowed_lines, kernels):
    found = []
    for kind, name, forms, prefixes in owners:
        if any(rel.startswith(p) for p in prefixes):
            continue
        # A kernel's registration line names the kernel it builds on (mermap on linux).
        base_ok = kind == "kernel" and in_kernel_folder(rel, kernels)
        pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) +
                             r")(?![A-Za-z0-9])", re.I)
        for no, line in enumerate(code.split("\n"), 1):
            if (rel, no) in allowed_lines or (base_ok and "add_kernel(" in line):
                continue
            m = pattern.search(line)
            if m:
                found.append(f"{rel}:{no}: names the {kind} '{name}' ('{m.group(1)}') outside its folders: {line.strip()}")
    return found


def check_includes(rel, text, model_headers):
    if not rel.startswith("impl/"):
        return []
    found = []
    for no, line in enumerate(text.split("\n"), 1):
        m = re.match(r'\s*#\s*include\s*[<"]([^">]+)[">]', line)
        if not m:
            continue
        inc = m.group(1)
        local_model = "/" not in inc and inc in model_headers  # a kernel's own model header
        if inc.startswith("vmref/model/") or "/model/" in inc or local_model:
            found.append(f"{rel}:{no}: includes the model's header '{inc}': impl/ must not depend on model/")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source_dir")
    ap.add_argument("--pretend", action="append", default=[], metavar="REL=FILE")
    ap.add_argument("--expect-violation", action="store_true")
    a = ap.parse_args()
    src = a.source_dir
    try:
        top = open(os.path.join(src, "CMakeLists.txt")).read()
    except OSError as e:
        print(f"check_layout: {e}", file=sys.stderr)
        return 2
    kernels = cmake_list(top, "VMREF_KERNELS")
    owners = [("kernel", k, spellings(k), owned_prefixes("kernel", k)) for k in kernels]
    owners += [("format", f, spellings(f), owned_prefixes("format", f)) for f in cmake_list(top, "VMREF_FORMATS")]
    # The registry lines: the only place in shared code allowed to name every kernel and format.
    allowed = set()
    for no, line in enumerate(top.split("\n"), 1):
        if re.match(r"^set\(VMREF_(KERNELS|FORMATS)\s", line):
            allowed.add(("CMakeLists.txt", no))

    files = {rel: os.path.join(src, rel) for rel in tracked_files(src) if is_source(rel)}
    for p in a.pretend:
        rel, _, path = p.partition("=")
        if not rel or not path:
            print(f"check_layout: --pretend wants REL=FILE, got '{p}'", file=sys.stderr)
            return 2
        files[rel] = path
    everything = tracked_files(src)
    impl_headers = {os.path.basename(r) for r in everything if r.startswith("impl/")}
    model_headers = {os.path.basename(r) for r in everything
                     if r.startswith("model/") and r.endswith((".hpp", ".h"))} - impl_headers

    problems = []
    for rel, path in sorted(files.items()):
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except OSError as e:
            problems.append(f"{rel}: cannot read: {e}")
            continue
        problems += check_names(rel, strip_comments(rel, text), owners, allowed, kernels)
        problems += check_includes(rel, text, model_headers)
    for p in problems:
        print(p)
    print(f"check_layout: {len(files)} source files, {len(owners)} kernels and formats, {len(problems)} violation(s)")
    if a.expect_violation:
        pretended = [p.partition("=")[0] for p in a.pretend]
        caught = [p for p in problems if p.split(":")[0] in pretended]
        print("check_layout: the deliberate violation was " + ("caught" if caught else "NOT caught"))
        return 0 if caught and len(caught) == len(problems) else 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
