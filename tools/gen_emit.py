#!/usr/bin/python3
"""Writes the C emitter's typed calls (vmref/emit.h) from the operation registry.

`vmref schema --ops` prints every registered operation with its kernel, spec section and
the JSON Schema of its fields. From it this script writes one header per owner:
  conformance/emit/include/vmref/emit_core.h                the core's operations
  conformance/kernels/<k>/emit/include/vmref/emit/<k>.h     each kernel's own operations
Each operation gets a struct of its fields and two calls: vmref_emit_<op>() writes the
whole line, vmref_emit_<op>_fields() only its fields (between vmref_emit_begin() and
vmref_emit_end(), to add fields of one's own by hand). Run it after adding or
changing an operation and commit the headers; ctest emit:current fails while a committed
header differs from what the registry gives.

Usage:
  gen_emit.py [VMREF]                      write the headers into the source tree
  gen_emit.py VMREF --check                exit 1 naming each stale or missing header
  gen_emit.py VMREF --test-source OUT.c    write a C program that emits every operation
                                           with its required fields, then with each
                                           optional field in turn, into DIR/<kernel>.jsonl
                                           (one trace per kernel; the core's ops in the
                                           first) for check_emit.py every-op
"""
import argparse
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while", "_Bool", "_Complex", "_Imaginary", "errno", "class", "new", "delete",
    "template", "this", "operator", "private", "public", "protected", "virtual", "bool", "true", "false",
}
# Names the hand-written part of emit.h already uses (vmref_<name> types, vmref_emit_<name>
# calls): an operation of one of these names would collide with it.
RESERVED = {"emitter", "header", "expect", "file", "emit_write_fn", "init", "error", "reset_error", "flush",
            "begin", "begin_line", "end", "str", "strn", "u64", "int", "bool", "object_begin", "object_end",
            "array_begin", "array_end", "str_array"}


def load_ops(vmref):
    try:
        out = subprocess.run([vmref, "schema", "--ops"], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"gen_emit.py: {vmref} schema --ops failed: {e}")
    return json.loads(out)


class Field:
    """One field of an operation: its JSON key, C member, kind and documentation."""

    def __init__(self, key, prop, required, defs, op):
        self.key = key
        self.member = key + "_" if key in C_KEYWORDS else key
        self.required = required
        self.enum = None
        ref = prop.get("$ref", "")
        name = ref.rsplit("/", 1)[-1] if ref else None
        target = defs.get(name, {}) if name else prop
        if name in ("small", "tlb_tag"):
            self.kind, self.doc = "int", "small count, written as a decimal integer"
            if name == "tlb_tag":
                self.doc += f" (0 to {defs[name].get('maximum')})"
        elif name in ("u64",):
            self.kind, self.doc = "u64", "64-bit value (address, length, bytes), written as \"0x...\""
        elif name == "bool":
            self.kind, self.doc = "bool", "boolean (non-zero: true)"
        elif name == "str":
            self.kind, self.doc = "str", "string (UTF-8; escaped on output)"
        elif name == "prot":
            self.kind, self.doc = "str", "rights: three characters r/w/x or '-', e.g. \"rw-\""
        elif name == "file":
            self.kind, self.doc = "file", "file identity (vmref_file)"
        elif "enum" in target:
            self.kind, self.enum = "str", list(target["enum"])
            self.doc = "one of " + ", ".join(f'"{v}"' for v in self.enum)
        elif target.get("type") == "array" and "enum" in target.get("items", {}):
            self.kind, self.enum = "strs", list(target["items"]["enum"])
            self.doc = "array of " + ", ".join(f'"{v}"' for v in self.enum)
        else:
            sys.exit(f"gen_emit.py: operation '{op}', field '{key}': no C form for schema {json.dumps(prop)}")

    def members(self):
        m = self.member
        if self.kind == "int" or self.kind == "u64":
            decl = [f"uint64_t {m};"]
        elif self.kind == "bool":
            decl = [f"int {m};"]
        elif self.kind == "str":
            decl = [f"const char *{m};"]
        elif self.kind == "strs":
            decl = [f"const char *const *{m};", f"size_t n_{m};"]
        else:
            decl = [f"const vmref_file *{m};"]
        doc = ("required" if self.required else "optional") + f": {self.doc}"
        if not self.required:
            if self.kind in ("int", "u64", "bool"):
                decl.insert(0, f"int has_{m};")
                doc += f"; written when has_{m} is non-zero"
            else:
                doc += "; NULL: absent"
        elif self.kind in ("str", "file"):
            doc += "; NULL is EINVAL"
        return decl, doc

    def emit(self):
        m, k = self.member, self.key
        call = {
            "int": f'vmref_emit_int(e, "{k}", a->{m});',
            "u64": f'vmref_emit_u64(e, "{k}", a->{m});',
            "bool": f'vmref_emit_bool(e, "{k}", a->{m});',
            "str": f'vmref_emit_str(e, "{k}", a->{m});',
            "strs": f'vmref_emit_str_array(e, "{k}", a->{m}, a->n_{m});',
            "file": f'if (a->{m}) vmref_emit_file(e, "{k}", a->{m}); else vmref_emit_fail_(e, VMREF_EMIT_EINVAL);',
        }[self.kind]
        if self.required:
            return [call]
        if self.kind in ("int", "u64", "bool"):
            return [f"if (a->has_{m}) {call}"]
        if self.kind == "file":
            return [f'if (a->{m}) vmref_emit_file(e, "{k}", a->{m});']
        if self.kind == "strs":
            return [call]
        return [f"if (a->{m}) {call}"]

    def sample(self, chosen):
        """C statements setting this field in the test program (a.... form): a required
        field always, an optional one when chosen."""
        if not self.required and not chosen:
            return []
        m, out = self.member, []
        if not self.required and self.kind in ("int", "u64", "bool"):
            out.append(f"a.has_{m} = 1;")
        if self.kind == "int":
            out.append(f"a.{m} = 1;")
        elif self.kind == "u64":
            out.append(f"a.{m} = 0x1000;")
        elif self.kind == "bool":
            out.append(f"a.{m} = 1;")
        elif self.kind == "str":
            v = self.enum[0] if self.enum else ("rw-" if "r/w/x" in self.doc else "s")
            out.append(f'a.{m} = "{v}";')
        elif self.kind == "strs":
            out.append(f'{{ static const char *const v[] = {{"{self.enum[0]}"}}; a.{m} = v; a.n_{m} = 1; }}')
        else:
            out.append(f"a.{m} = &sample_file;")
        return out


def op_fields(op, defs):
    s = op["schema"]
    req = set(s.get("required", []))
    return [Field(k, v, k in req, defs, op["name"]) for k, v in s.get("properties", {}).items()]


def header_text(owner, ops, defs):
    guard = "VMREF_EMIT_" + owner.upper().replace("-", "_").replace(":", "_") + "_H"
    out = [
        f"/* Typed vmref trace events of the operations of '{owner}' (spec/trace-format.md §3.1).",
        " * GENERATED by tools/gen_emit.py from `vmref schema --ops` (the operation registry):",
        " * do not edit; ctest emit:current fails when this file is stale.",
        " *",
        " * Per operation OP: a struct vmref_OP of its fields (zero-initialize it, then set what",
        " * applies), vmref_emit_OP() which writes the whole line and returns the emitter's error",
        " * (VMREF_EMIT_*, see vmref/emit.h), and vmref_emit_OP_fields() which writes only the",
        " * fields into a line opened with vmref_emit_begin(e, \"OP\").",
        " * Every struct also has `cont` (non-zero: the next event continues this kernel",
        " * operation, §3.4) and `expect` (NULL, or what the kernel observed, §3.3).",
        " */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        '#include "vmref/emit.h"',
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
    ]
    for op in ops:
        name = op["name"]
        if name in RESERVED:
            sys.exit(f"gen_emit.py: operation '{name}' collides with a name of vmref/emit.h")
        fields = op_fields(op, defs)
        out += ["", f"/** `{name}`: {op['section']}. */", f"typedef struct vmref_{name} {{"]
        for f in fields:
            decl, doc = f.members()
            for d in decl[:-1]:
                out.append(f"  {d}")
            out.append(f"  {decl[-1]} /**< `{f.key}`, {doc} */")
        out += ["  int cont; /**< non-zero: \"cont\": true */",
                "  const vmref_expect *expect; /**< NULL: no expectation */",
                f"}} vmref_{name};", "",
                f"/** Writes the fields of `{name}` into the open line. */",
                f"static inline void vmref_emit_{name}_fields(vmref_emitter *e, const vmref_{name} *a) {{"]
        if not fields:
            out.append("  (void)e;")
            out.append("  (void)a;")
        for f in fields:
            out += [f"  {s}" for s in f.emit()]
        out += ["}", "",
                f"/** Writes one `{name}` line. Returns the emitter's error (VMREF_EMIT_*). */",
                f"static inline int vmref_emit_{name}(vmref_emitter *e, const vmref_{name} *a) {{",
                f'  vmref_emit_begin(e, "{name}");',
                f"  vmref_emit_{name}_fields(e, a);",
                "  vmref_emit_common_(e, a->cont, a->expect);",
                "  return vmref_emit_end(e);",
                "}"]
    out += ["", "#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {guard} */", ""]
    return "\n".join(out)


def by_owner(reg):
    owners = {}
    for op in reg["ops"]:
        owners.setdefault(op["kernel"], []).append(op)
    return owners


def header_path(owner):
    if owner == "core":
        return ROOT / "conformance" / "emit" / "include" / "vmref" / "emit_core.h"
    return ROOT / "conformance" / "kernels" / owner / "emit" / "include" / "vmref" / "emit" / f"{owner}.h"


def test_source(reg):
    owners = by_owner(reg)
    kernels = [k for k in owners if k != "core"]
    out = ["/* GENERATED by tools/gen_emit.py --test-source: every operation of the registry,",
           " * emitted through its typed call; one trace per kernel in DIR/<kernel>.jsonl. */",
           "#include <stdio.h>", "#include <string.h>", '#include "vmref/emit.h"']
    out += [f'#include "vmref/emit/{k}.h"' for k in kernels]
    out += ["",
            "static int to_file(void *ctx, const char *b, size_t n) { return fwrite(b, 1, n, (FILE *)ctx) != n; }",
            'static const vmref_file sample_file = {"8:1", "/tmp/f", 1, 1, 1, 0x2000};',
            "static const vmref_expect sample_expect = {\"ok\", 0, 0, NULL, 0, 0};",
            "",
            "static int emit_ops(vmref_emitter *e, const char *owner) {",
            "  int err = 0;"]
    for owner, ops in owners.items():
        out.append(f'  if (strcmp(owner, "{owner}") == 0) {{')
        for op in ops:
            fields = op_fields(op, reg["defs"])
            # Sets of optional fields: none, each alone, all, all but each (some exclude each
            # other: a tag on a full flush; some need others: a range flush's va needs as),
            # under every value of the op's required enumerated fields (a flush's scope
            # decides which others it takes) and, for a flag array, each flag. check_emit.py
            # wants every field in at least one line that vmref decodes.
            optional = [f for f in fields if not f.required]
            sets = [[]] + [[f] for f in optional]
            if len(optional) > 1:
                sets += [optional] + [[g for g in optional if g is not f] for f in optional]
            choices = [[(f, v) for v in f.enum] for f in fields if f.required and f.kind == "str" and f.enum]
            combos = [[]]
            for c in choices:
                combos = [k + [fv] for k in combos for fv in c][:16]
            for chosen in sets:
                flags = [f for f in fields if f.kind == "strs" and (f.required or f in chosen)]
                flag_values = [[]] if not flags else [[(flags[0], v)] for v in flags[0].enum]
                for combo in combos:
                    for fv in flag_values:
                        out.append(f"    {{ vmref_{op['name']} a; memset(&a, 0, sizeof a);")
                        for f in fields:
                            out += [f"      {s}" for s in f.sample(f in chosen)]
                        for f, v in combo:
                            out.append(f'      a.{f.member} = "{v}";')
                        for f, v in fv:
                            out.append(f'      {{ static const char *const v[] = {{"{v}"}}; a.{f.member} = v; }}')
                        out.append("      a.expect = &sample_expect;")
                        out.append(f"      err |= vmref_emit_{op['name']}(e, &a); }}")
        out.append("  }")
    out += ["  return err;", "}", "",
            "int main(int argc, char **argv) {",
            '  if (argc != 2) { fprintf(stderr, "usage: %s DIR\\n", argv[0]); return 2; }',
            f"  static const char *const kernels[] = {{{', '.join(json.dumps(k) for k in kernels)}}};",
            "  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; ++i) {",
            "    char path[4096];",
            '    snprintf(path, sizeof path, "%s/%s.jsonl", argv[1], kernels[i]);',
            '    FILE *f = fopen(path, "w");',
            '    if (!f) { perror(path); return 2; }',
            "    vmref_emitter e; vmref_emit_init(&e, to_file, f);",
            "    vmref_header h; memset(&h, 0, sizeof h); h.profile = kernels[i]; h.cpus = 2;",
            "    int err = vmref_emit_header(&e, &h);",
            '    if (i == 0) err |= emit_ops(&e, "core");',
            "    err |= emit_ops(&e, kernels[i]);",
            "    if (fclose(f) != 0 || err) { fprintf(stderr, \"%s: emitter error %d\\n\", path, err); return 1; }",
            "  }",
            "  return 0;",
            "}", ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("vmref", nargs="?", default=str(ROOT / "build" / "vmref"))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--test-source", metavar="OUT.c")
    a = ap.parse_args()
    reg = load_ops(a.vmref)
    if a.test_source:
        pathlib.Path(a.test_source).write_text(test_source(reg))
        return 0
    stale = []
    for owner, ops in by_owner(reg).items():
        path, text = header_path(owner), header_text(owner, ops, reg["defs"])
        if a.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("gen_emit.py: stale (run tools/gen_emit.py BUILD/vmref and commit): " + ", ".join(stale))
        return 1
    if a.check:
        print(f"gen_emit.py: {len(reg['ops'])} operations, every header current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
