#!/usr/bin/python3
"""Validate vmref traces line by line against spec/trace.schema.json.

Usage: check_schema.py SCHEMA TRACE...   (.zst traces are read through zstdcat)
       check_schema.py --current VMREF SCHEMA
The first form exits 0 when every line of every trace is valid; otherwise it prints
file:line and the schema error of the first bad line per trace and exits 1. The second
exits 0 when SCHEMA is what `VMREF schema` writes from the registries today, else 1
(run tools/gen_schema.py and commit the result).
"""
import json
import subprocess
import sys

import jsonschema


def lines(path):
    if path.endswith(".zst"):
        out = subprocess.run(["zstdcat", path], check=True, capture_output=True, text=True).stdout
        return out.splitlines()
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def current(vmref, path):
    fresh = subprocess.run([vmref, "schema"], check=True, capture_output=True, text=True).stdout
    if json.loads(fresh) == json.load(open(path, encoding="utf-8")):
        print(f"{path} is current")
        return 0
    print(f"{path} differs from `vmref schema`: run tools/gen_schema.py and commit the result")
    return 1


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--current":
        return current(sys.argv[2], sys.argv[3])
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for path in sys.argv[2:]:
        for n, text in enumerate(lines(path), 1):
            if not text:
                continue
            err = jsonschema.exceptions.best_match(validator.iter_errors(json.loads(text)))
            if err is not None:
                print(f"{path}:{n}: {err.message}")
                bad += 1
                break
    print(f"{len(sys.argv) - 2 - bad} traces valid, {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
