#!/usr/bin/python3
"""Writes spec/trace.schema.json (JSON Schema 2020-12 for one trace line).

The schema is data derived from spec/trace-format.md; edit this script, run it, and
commit both. ctest validates every bundled trace against the result.
"""
import json
import pathlib

HEX = {"type": "string", "pattern": "^0[xX][0-9a-fA-F]{1,16}$"}
U64 = {"oneOf": [HEX, {"type": "integer", "minimum": 0}]}
SMALL = {"type": "integer", "minimum": 0}
PROT = {"type": "string", "pattern": "^[r-][w-][x-]$"}
BOOL = {"type": "boolean"}
STR = {"type": "string"}
KINDS = {"enum": ["anon", "file", "stack", "heap", "code", "data", "kernel", "special"]}
VM_FLAGS = ["locked", "growsdown", "account", "noreserve", "dontcopy", "wipeonfork", "seq_read",
            "rand_read", "dontdump", "hugepage", "nohugepage", "mergeable", "guard", "global"]
ADVICE = ["normal", "random", "sequential", "willneed", "dontneed", "free", "dontfork", "dofork",
          "hugepage", "nohugepage", "dontdump", "dodump", "wipeonfork", "keeponfork"]
ERRNO = ["ok", "EINVAL", "ENOMEM", "EEXIST", "EACCES", "EPERM", "EBUSY", "EFAULT", "EBADF"]
FILE = {"type": "object", "required": ["id"], "additionalProperties": False,
        "properties": {"id": STR, "path": STR, "writable": BOOL, "size": U64}}
EXPECT = {"type": "object", "additionalProperties": False, "properties": {
    "errno": {"enum": ERRNO}, "ret": U64,
    "result": {"enum": ["ok", "segv_maperr", "segv_accerr", "sigbus"]}, "zero_page": BOOL,
    "vsl": {"type": "array", "items": {"type": "object", "required": ["start", "end"], "additionalProperties": False,
            "properties": {"start": U64, "end": U64, "offset": U64, "prot": PROT, "shared": BOOL, "kind": KINDS,
                           "file": STR, "name": STR, "anon_pages": BOOL}}},
    "pages": {"type": "array", "items": {"type": "object", "required": ["va"], "additionalProperties": False,
              "properties": {"va": U64, "present": BOOL, "zero": BOOL, "cow": BOOL, "prot": PROT,
                             "refcount": U64, "mapcount": U64, "exclusive": BOOL, "kept": BOOL, "frame": STR}}}}}
ACCESS = {"enum": ["read", "write", "exec"]}


def event(op, required, props):
    p = {"op": {"const": op}, "expect": {"$ref": "#/$defs/expect"}, "cont": BOOL}
    p.update(props)
    return {"type": "object", "required": ["op"] + required, "additionalProperties": False, "properties": p}


RANGE = {"as": SMALL, "addr": U64, "len": U64}
EVENTS = [
    event("as_create", ["as"], {"as": SMALL, "brk": U64}),
    event("as_destroy", ["as"], {"as": SMALL}),
    event("exec_reset", ["as"], {"as": SMALL, "brk": U64}),
    event("mmap", ["as", "len", "prot"], {**RANGE, "prot": PROT, "file": {"$ref": "#/$defs/file"}, "offset": U64,
          "flags": {"type": "array", "items": {"enum": ["shared", "private", "anonymous", "fixed", "fixed_noreplace",
                    "populate", "locked", "growsdown", "noreserve", "global", "stack", "denywrite", "executable"]}}}),
    event("munmap", ["as", "addr", "len"], {**RANGE, "tlb": {"enum": ["sync", "deferred", "none"]}}),
    event("mprotect", ["as", "addr", "len", "prot"], {**RANGE, "prot": PROT}),
    event("mremap", ["as", "addr", "len", "new_len"], {**RANGE, "new_len": U64, "new_addr": U64,
          "flags": {"type": "array", "items": {"enum": ["maymove", "fixed", "dontunmap"]}}}),
    event("madvise", ["as", "addr", "len", "advice"], {**RANGE, "advice": {"enum": ADVICE}}),
    event("mlock", ["as", "addr", "len"], RANGE),
    event("munlock", ["as", "addr", "len"], RANGE),
    event("mermap_prepare", ["as"], {"as": SMALL}),
    event("mermap_get", ["as", "cpu", "len", "handle"], {"as": SMALL, "cpu": SMALL, "len": U64, "handle": STR,
          "prot": PROT, "reserve": BOOL, "fail_after": U64}),
    event("mermap_put", ["as", "cpu", "handle"], {"as": SMALL, "cpu": SMALL, "handle": STR}),
    event("mermap_teardown", ["as", "cpu"], {"as": SMALL, "cpu": SMALL}),
    event("k_mem_map", ["len"], {"len": U64, "prot": PROT, "uninit": BOOL, "lock": BOOL, "user": BOOL}),
    *[event(op, ["addr", "len"], {"addr": U64, "len": U64})
      for op in ("k_mem_unmap", "k_mem_page_out", "k_mem_page_in", "k_mem_pin", "k_mem_unpin")],
    event("k_mem_stat", ["stat"], {"stat": {"enum": ["faults", "clean_evictions", "dirty_evictions",
                                                     "free_bytes", "free_slots"]}}),
    event("nru_tick", [], {}),
    event("almos_process", ["pid", "cluster"], {"pid": SMALL, "cluster": SMALL}),
    event("almos_vseg", ["pid", "type"], {"pid": SMALL, "type": {"enum": ["code", "data", "stack", "anon", "file", "remote"]},
                                          "len": U64, "addr": U64, "ltid": SMALL}),
    event("almos_munmap", ["pid", "addr", "len"], {"pid": SMALL, "addr": U64, "len": U64}),
    event("almos_access", ["pid", "cluster", "va"], {"pid": SMALL, "cluster": SMALL, "va": U64,
                                                     "kind": {"enum": ["read", "write", "exec"]}}),
    event("almos_fork", ["pid", "child", "cluster"], {"pid": SMALL, "child": SMALL, "cluster": SMALL}),
    event("almos_exec", ["pid"], {"pid": SMALL}),
    event("almos_exit", ["pid"], {"pid": SMALL}),
    event("brk", ["as", "addr"], {"as": SMALL, "addr": U64}),
    event("fork", ["as", "child"], {"as": SMALL, "child": SMALL}),
    event("access", ["cpu", "va"], {"cpu": SMALL, "va": U64, "kind": ACCESS}),
    event("pin", ["as", "va", "handle"], {"as": SMALL, "va": U64, "handle": STR, "kind": ACCESS}),
    event("unpin", ["handle"], {"handle": STR}),
    event("stack_expand", ["as", "va"], {"as": SMALL, "va": U64}),
    event("switch", ["cpu", "as"], {"cpu": SMALL, "as": SMALL}),
    event("tlb_flush", ["scope"], {"scope": {"enum": ["all", "asid", "range"]}, "broadcast": BOOL, "cpu": SMALL,
          "as": SMALL, "va": U64, "len": U64, "global": BOOL}),
    event("observe", ["as"], {"as": SMALL}),
    event("vseg_insert", ["as", "start", "end", "prot"], {"as": SMALL, "start": U64, "end": U64, "prot": PROT,
          "kind": KINDS, "shared": BOOL, "file": {"$ref": "#/$defs/file"}, "offset": U64, "name": STR,
          "flags": {"type": "array", "items": {"enum": VM_FLAGS}}, "anon_vma": BOOL}),
    event("vseg_remove", ["as", "start"], {"as": SMALL, "start": U64}),
    event("pte_set", ["as", "va", "frame", "prot"], {"as": SMALL, "va": U64, "frame": STR, "prot": PROT,
          "cow": BOOL, "global": BOOL}),
    event("pte_clear", ["as", "va"], {"as": SMALL, "va": U64}),
] + [event(op, ["frame"], {"frame": STR}) for op in ["frame_alloc", "frame_get", "frame_put", "frame_free"]] + [
    event("va_release", ["as", "addr", "len", "list"], {**RANGE, "list": SMALL}),
    event("va_reuse", ["as", "addr", "len", "list", "request_class"], {**RANGE, "list": SMALL, "request_class": SMALL}),
]
HEADER = {"type": "object", "required": ["vmref_trace", "profile"], "additionalProperties": False, "properties": {
    "vmref_trace": {"const": 1}, "profile": STR, "arch": STR, "page_size": U64, "cpus": {"type": "integer", "minimum": 1},
    "phys_mem": U64, "provenance": {"type": "object", "properties": {"expected": {"type": "object", "properties": {
        "verdict": {"enum": ["clean", "findings"]}, "ids": {"type": "array", "items": STR},
        "undetermined": SMALL}}}}}}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://vmref.invalid/spec/trace.schema.json",
    "title": "vmref trace line (format 1)",
    "description": "Each line of a vmref trace is the header (first line) or one event. See spec/trace-format.md.",
    "oneOf": [{"$ref": "#/$defs/header"}, {"$ref": "#/$defs/event"}],
    "$defs": {"hex64": HEX, "u64": U64, "prot": PROT, "file": FILE, "expect": EXPECT, "header": HEADER,
              "event": {"oneOf": EVENTS}},
}

if __name__ == "__main__":
    out = pathlib.Path(__file__).resolve().parent.parent / "spec" / "trace.schema.json"
    out.write_text(json.dumps(SCHEMA, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")
