#!/usr/bin/python3
"""Checks `vmref walk` regions against translations QEMU's monitor gave (`gva2gpa`).

Usage: check_gva2gpa.py WALK_JSONL SAMPLES
WALK_JSONL: `vmref walk` output, one {"va","pa","size","flags"} region per line.
SAMPLES: one "VA PA" or "VA unmapped" per line, as a dump script recorded them.
Prints each disagreement and exits 1 if there is any; otherwise a one-line summary.
"""
import bisect
import json
import sys


def main():
    regions = sorted((int(r["va"], 16), int(r["size"], 16), int(r["pa"], 16))
                     for r in map(json.loads, open(sys.argv[1])))
    starts = [r[0] for r in regions]
    bad = checked = 0
    for n, line in enumerate(open(sys.argv[2]), 1):
        va_text, want = line.split()
        va = int(va_text, 16)
        i = bisect.bisect_right(starts, va) - 1
        got = "unmapped"
        if i >= 0 and va < regions[i][0] + regions[i][1]:
            got = hex(regions[i][2] + va - regions[i][0])
        checked += 1
        if got != want:
            bad += 1
            print(f"{sys.argv[2]}:{n}: va {va_text}: QEMU says {want}, the walk says {got}")
    print(f"{checked} sampled translations, {bad} disagree")
    sys.exit(1 if bad or not checked else 0)


if __name__ == "__main__":
    main()
