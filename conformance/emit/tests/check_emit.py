#!/usr/bin/python3
"""ctest driver of the C emitter's tests (conformance/emit/tests/CMakeLists.txt).

  check_emit.py every-op VMREF EXE DIR
      EXE (built from `gen_emit.py --test-source`) writes DIR/<kernel>.jsonl; vmref
      converts each (every line decoded by the codec), and every operation of the registry
      must appear, with and without its optional fields.
  check_emit.py hostile VMREF EXE DIR PROFILE
      EXE (emit_unit) runs its own checks and writes DIR/hostile.jsonl and .hex; each
      string must decode, by Python's json and after `vmref convert`, to the same bytes.
  check_emit.py replay VMREF EXE DIR PROFILE WANT_EXIT [ID...]
      EXE (the c-kernel example) writes DIR/trace.jsonl under PROFILE; `vmref replay` must
      exit WANT_EXIT and print every ID.
  check_emit.py installed VMREF BUILD SRC DIR PROFILE
      `cmake --install BUILD --prefix DIR/prefix`; the c-kernel example is compiled with
      `pkg-config --cflags vmref-emit` against the installed header and its trace replays
      clean with the installed vmref; tools/examples/cpp-consumer is configured with
      find_package(vmref) against the prefix, built, and run.
  check_emit.py freestanding OBJ...
      no object file references an undefined symbol (`nm --undefined-only`): the module
      and vmref/emit.h need no C library.
Exit 0 when the check holds, 1 naming what failed.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys


def run(cmd, **kw):
    print("+ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], text=True, capture_output=True, **kw)


def must(cmd, **kw):
    r = run(cmd, **kw)
    if r.returncode != 0:
        sys.exit(f"check_emit: failed ({r.returncode}): {' '.join(map(str, cmd))}\n{r.stdout}{r.stderr}")
    return r


def fresh(d):
    d = pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


def every_op(vmref, exe, d):
    d = fresh(d)
    must([exe, d])
    ops = json.loads(must([vmref, "schema", "--ops"]).stdout)["ops"]
    traces = sorted(d.glob("*.jsonl"))
    if not traces:
        sys.exit("check_emit: the program wrote no trace")
    accepted, rejected, lines_total = {}, {}, 0
    for t in traces:
        lines = t.read_text().splitlines()
        header = lines[0]
        # One event per file: some field combinations are refused on purpose (a tag on a
        # full flush); each field must appear in at least one line vmref decodes.
        for i, line in enumerate(lines[1:]):
            one = d / f"{t.stem}.{i}.jsonl"
            one.write_text(header + "\n" + line + "\n")
            r = run([vmref, "convert", one, d / f"{t.stem}.{i}.out.jsonl"])
            ev = json.loads(line)
            keys = set(ev) - {"op"}
            (accepted if r.returncode == 0 else rejected).setdefault(ev["op"], []).append((keys, r.stderr.strip()))
            lines_total += 1
    problems = []
    for o in ops:
        name, schema = o["name"], o["schema"]
        ok = accepted.get(name, [])
        if not ok:
            why = rejected.get(name, [(None, "never emitted")])[0][1]
            problems.append(f"{name}: no line accepted ({why})")
            continue
        covered = set().union(*(k for k, _ in ok))
        missing = set(schema.get("properties", {})) - covered
        if missing:
            problems.append(f"{name}: field(s) {', '.join(sorted(missing))} in no accepted line: "
                            + "; ".join(w for _, w in rejected.get(name, []))[:400])
        if not any("expect" in k for k, _ in ok):
            problems.append(f"{name}: no accepted line with expect")
    if problems:
        sys.exit("check_emit: " + "\n  ".join(problems))
    print(f"check_emit: {len(ops)} operations, every field in a line vmref decodes "
          f"({lines_total} lines, {sum(len(v) for v in rejected.values())} refused combinations)")


def hostile(vmref, exe, d, profile):
    d = fresh(d)
    must([exe, d, profile])
    want = [bytes.fromhex(h) for h in (d / "hostile.hex").read_text().split()]
    want_set = set(want)
    converted = d / "converted.jsonl"
    must([vmref, "convert", d / "hostile.jsonl", converted])
    for path in (d / "hostile.jsonl", converted):
        got = [json.loads(l)["lock"].encode() for l in path.read_text().splitlines()[1:]]
        if got != [w for w in want for _ in (0, 1)]:
            bad = [g for g in got if g not in want_set]
            sys.exit(f"check_emit: {path}: decoded strings differ from those emitted: {bad[:3]}")
    r = run([vmref, "replay", d / "hostile.jsonl"])
    if r.returncode not in (0, 1):  # a clean or flagged lock sequence; never bad input
        sys.exit(f"check_emit: vmref replay called the hostile trace bad input:\n{r.stdout}{r.stderr}")
    print(f"check_emit: {len(want)} hostile strings round-trip through the emitter and vmref")


def replay(vmref, exe, d, profile, want_exit, ids):
    d = fresh(d)
    trace = d / "trace.jsonl"
    must([exe, profile, trace])
    r = run([vmref, "replay", trace])
    print(r.stdout + r.stderr)
    if r.returncode != int(want_exit):
        sys.exit(f"check_emit: vmref replay exited {r.returncode}, want {want_exit}")
    missing = [i for i in ids if i not in r.stdout]
    if missing:
        sys.exit(f"check_emit: vmref replay did not report {', '.join(missing)}")
    print(f"check_emit: replay exited {want_exit}" + (f" reporting {', '.join(ids)}" if ids else ""))


def installed(vmref, build, src, d, profile):
    d = fresh(d)
    prefix = d / "prefix"
    cmake = os.environ.get("CMAKE", "cmake")
    must([cmake, "--install", build, "--prefix", prefix])
    for f in ("bin/vmref", "include/vmref/emit.h", "include/vmref/emit_core.h", "share/pkgconfig/vmref-emit.pc",
              "lib*/**/cmake/vmref/vmrefConfig.cmake", "lib*/**/cmake/vmref/vmrefTargets.cmake"):
        if not list(prefix.glob(f)):
            sys.exit(f"check_emit: cmake --install did not install {f}")
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "share" / "pkgconfig"))
    cflags = must(["pkg-config", "--cflags", "vmref-emit"], env=env).stdout.split()
    inc = [f for f in cflags if f.startswith("-I")]
    if not inc or pathlib.Path(inc[0][2:]).resolve() != (prefix / "include").resolve():
        sys.exit(f"check_emit: pkg-config --cflags vmref-emit gave {cflags}, not the prefix's include folder")
    example = pathlib.Path(src) / "tools" / "examples" / "c-kernel"
    exe = d / "c-kernel"
    cc = os.environ.get("CC", "cc")
    must([cc, "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", *cflags, "-o", exe, example / "main.c", example / "pt.c"])
    trace = d / "trace.jsonl"
    must([exe, profile, trace])
    must([prefix / "bin" / "vmref", "replay", trace])
    consumer = pathlib.Path(src) / "tools" / "examples" / "cpp-consumer"
    cbuild = d / "cpp-build"
    flags = os.environ.get("VMREF_CONSUMER_FLAGS", "")
    must([cmake, "-S", consumer, "-B", cbuild, f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=Release",
          f"-DCMAKE_CXX_FLAGS={flags}", f"-DCMAKE_EXE_LINKER_FLAGS={flags}"])
    must([cmake, "--build", cbuild, "-j2"])
    r = must([cbuild / "vmref-consumer", trace])
    print(r.stdout)
    if "clean" not in r.stdout:
        sys.exit("check_emit: the find_package(vmref) consumer did not replay the trace clean")
    print("check_emit: installed CLI, header, pkg-config file and CMake package all work")


def freestanding(objs):
    for o in objs:
        undefined = must(["nm", "--undefined-only", o]).stdout.split()
        if undefined:
            sys.exit(f"check_emit: {o} needs symbols from outside: {' '.join(undefined)}")
    print(f"check_emit: {len(objs)} object(s) self-contained")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "every-op" and len(a) == 3:
        every_op(*a)
    elif cmd == "hostile" and len(a) == 4:
        hostile(*a)
    elif cmd == "replay" and len(a) >= 5:
        replay(a[0], a[1], a[2], a[3], a[4], a[5:])
    elif cmd == "freestanding" and a:
        freestanding(a)
    elif cmd == "installed" and len(a) == 5:
        installed(*a)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
