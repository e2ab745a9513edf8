#!/usr/bin/python3
"""Validate whole JSON documents (a SARIF log, say) against a JSON Schema.

Usage: check_json.py SCHEMA FILE...
Exits 0 when every FILE is valid; otherwise prints FILE: the first schema error at its
JSON path, for each invalid file, and exits 1.
"""
import json
import sys

import jsonschema


def main():
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for path in sys.argv[2:]:
        errors = sorted(validator.iter_errors(json.load(open(path, encoding="utf-8"))), key=lambda e: list(e.path))
        if errors:
            bad += 1
            e = errors[0]
            print(f"{path}: {'/'.join(str(p) for p in e.path) or '(root)'}: {e.message[:300]}")
    print(f"{len(sys.argv) - 2 - bad} valid, {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
