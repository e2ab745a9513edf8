#!/usr/bin/python3
"""Checks `vmref walk` regions against translations QEMU's monitor gave (`gva2gpa`).

Usage: check_gva2gpa.py WALK_JSONL SAMPLES
WALK_JSONL: `vmref walk` output, one {"va","pa","size","flags"} region per line.
SAMPLES: one "VA PA" or "VA unmapped" per line (hex with 0x), as a dump script recorded them.
Prints each disagreement and exits 1 if there is any (or no sample at all), otherwise a
one-line summary; a malformed line of either file is named (file:line) with exit 2.
"""
import bisect
import json
import sys


def bad(path, n, what):
    print(f"{path}:{n}: {what}", file=sys.stderr)
    sys.exit(2)  # exit status 1 is for disagreements


def hex_field(path, n, text, name):
    if not text.startswith("0x"):
        bad(path, n, f"{name} {text!r} is not a 0x... hex number")
    try:
        return int(text, 16)
    except ValueError:
        bad(path, n, f"{name} {text!r} is not a 0x... hex number")


def regions_of(path):
    out = []
    for n, line in enumerate(open(path), 1):
        try:
            r = json.loads(line)
            fields = [r[k] for k in ("va", "size", "pa")]
        except (ValueError, KeyError, TypeError):
            bad(path, n, "not a region {\"va\",\"pa\",\"size\",...} of vmref walk")
        if not all(isinstance(f, str) for f in fields):
            bad(path, n, "va, pa and size must be hex strings")
        out.append(tuple(hex_field(path, n, f, k) for f, k in zip(fields, ("va", "size", "pa"))))
    return sorted(out)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    regions = regions_of(sys.argv[1])
    starts = [r[0] for r in regions]
    disagree = checked = 0
    path = sys.argv[2]
    for n, line in enumerate(open(path), 1):
        fields = line.split()
        if len(fields) != 2:
            bad(path, n, f"expected 'VA PA' or 'VA unmapped', got {line.strip()!r}")
        va_text, want = fields
        va = hex_field(path, n, va_text, "VA")
        if want != "unmapped":
            want = hex(hex_field(path, n, want, "PA"))
        i = bisect.bisect_right(starts, va) - 1
        got = "unmapped"
        if i >= 0 and va < regions[i][0] + regions[i][1]:
            got = hex(regions[i][2] + va - regions[i][0])
        checked += 1
        if got != want:
            disagree += 1
            print(f"{path}:{n}: va {va_text}: QEMU says {want}, the walk says {got}")
    print(f"{checked} sampled translations, {disagree} disagree")
    sys.exit(1 if disagree or not checked else 0)


if __name__ == "__main__":
    try:
        main()
    except OSError as e:
        print(f"check_gva2gpa: {e}", file=sys.stderr)
        sys.exit(2)
