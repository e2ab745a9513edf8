#!/usr/bin/python3
"""Writes spec/trace.schema.json (JSON Schema 2020-12 for one trace line).

The schema comes from the registries: `vmref schema` writes the shared definitions and
one alternative per registered operation, from the schema its row carries. Run this
after adding or changing an operation, and commit the result; ctest (schema:current)
fails while the committed file differs from what the registries give.

Usage: gen_schema.py [VMREF]    (VMREF defaults to build/vmref)
"""
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
vmref = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "vmref")
out = root / "spec" / "trace.schema.json"
try:
    subprocess.run([vmref, "schema", "-o", str(out)], check=True)
except (OSError, subprocess.CalledProcessError) as e:
    sys.exit(f"gen_schema.py: {vmref} schema failed: {e}")
print(f"wrote {out}")
