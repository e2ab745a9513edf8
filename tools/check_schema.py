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


def validators_by_op(schema):
    """A validator per event op, each over the schema with the event alternatives cut down
    to that op's. The result is the whole schema's: every alternative fixes `op` with a
    const, so no other one can accept a line with this op (the same validity, about 50x
    faster, and errors that name the op's own fields). Without the discriminators it
    falls back to the whole schema."""
    whole = jsonschema.Draft202012Validator(schema)
    events = schema.get("$defs", {}).get("event", {}).get("oneOf", [])
    by_op = {}
    for alt in events:
        const = alt.get("properties", {}).get("op", {}).get("const")
        if const is None or const in by_op:
            return lambda op: whole
        by_op[const] = alt
    cache = {}

    def validator_for(op):
        if op not in cache:
            cut = dict(schema)
            cut["$defs"] = dict(schema["$defs"])
            cut["$defs"]["event"] = {"oneOf": [by_op[op]]} if op in by_op else {"not": {}}
            cache[op] = jsonschema.Draft202012Validator(inline_refs(cut, cut["$defs"]))
        return cache[op]
    return validator_for


def inline_refs(node, defs):
    """The schema with each local "#/$defs/NAME" reference replaced by its definition (the
    generated schema has no recursive ones): the same meaning, without the resolver's cost
    on every instance."""
    if isinstance(node, list):
        return [inline_refs(x, defs) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/") and len(node) == 1:
        return inline_refs(defs[ref[len("#/$defs/"):]], defs)
    return {k: (v if k == "$defs" else inline_refs(v, defs)) for k, v in node.items()}


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
    validator_for = validators_by_op(schema)
    bad = 0
    for path in sys.argv[2:]:
        for n, text in enumerate(lines(path), 1):
            if not text:
                continue
            line = json.loads(text)
            op = line.get("op") if isinstance(line, dict) else None
            err = jsonschema.exceptions.best_match(validator_for(op).iter_errors(line))
            if err is not None:
                print(f"{path}:{n}: {err.message}")
                bad += 1
                break
    print(f"{len(sys.argv) - 2 - bad} traces valid, {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
