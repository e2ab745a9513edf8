#!/usr/bin/python3
"""Check that the README's figures match what vmref prints today.

Usage: check_readme.py VMREF README
- "<Number> deliberately broken variants" equals the count `VMREF fuzz --list-mutants` lists.
- The replay sample after "A replay prints:" is what `VMREF replay` of that trace prints,
  the timing in parentheses aside (it differs from run to run).
Exits 0 when both hold, else prints what differs and exits 1.
"""
import os
import re
import subprocess
import sys

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# "zero" .. "ninety-nine", as the README spells its counts
WORDS = _UNITS + [_TENS[n // 10] + ("-" + _UNITS[n % 10] if n % 10 else "") for n in range(20, 100)]


def untimed(text):
    return re.sub(r"\(\d+\.\d+ s, \d+ events/s\)", "(TIME)", text).strip()


def main():
    vmref, readme = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.abspath(readme))
    text = open(readme, encoding="utf-8").read()
    bad = 0
    mutants = subprocess.run([vmref, "fuzz", "--list-mutants"], check=True, capture_output=True, text=True).stdout.split()
    m = re.search(r"(\w+(?:-\w+)?) deliberately broken variants", text)
    said = m.group(1).lower() if m else None
    if said not in WORDS or WORDS.index(said) != len(mutants):
        print(f"README says '{said} deliberately broken variants', --list-mutants lists {len(mutants)}")
        bad += 1
    m = re.search(r"A replay prints:\n\n```\n(.*?)```", text, re.S)
    if not m:
        print("README has no replay sample after 'A replay prints:'")
        return 1
    sample = m.group(1)
    trace = sample.split(":", 1)[0]
    out = subprocess.run([vmref, "replay", trace], cwd=root, capture_output=True, text=True).stdout
    if untimed(out) != untimed(sample):
        print(f"README's replay sample differs from `vmref replay {trace}`:\n--- README\n{sample}--- now\n{out}")
        bad += 1
    print("README figures match" if not bad else f"{bad} README figure(s) out of date")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
