#!/usr/bin/env bash
# The mermap kernel from the command line: fuzzing finds nothing on the fixed allocator
# and the RFC's defects on `rfc`, whose counterexample replays; `vmref prove` finds R3
# on `rfc` as a trace that replays to its declared ID, and refuses bad bounds.
# Usage: cli_test.sh VMREF SOURCE_DIR FORMAT...
. "$2/conformance/tests/cli_lib.sh"

for F in "${FORMATS[@]}"; do
  check "fuzz-mermap-fixed:$F" 0 "$V" fuzz --profile mermap --impl "$F" --ops 20000 --seed 4
done
check fuzz-mermap-model-layer 0 "$V" fuzz --profile mermap --layer model --ops 20000 --seed 4
contains fuzz-mermap-note "the model's invariants alone" "$T/out"
check fuzz-mermap-rfc 1 "$V" fuzz --profile mermap:rfc --ops 20000 --seed 4 --stop-at-first --out "$T/mz"
contains fuzz-mermap-rfc-finds "INV-MERMAP-" "$T/out"
check fuzz-mermap-replay 1 "$V" replay "$(first "$T"/mz/*.jsonl)"
check prove-mermap-rfc-r3 1 "$V" prove --profile mermap:rfc --inv INV-MERMAP-6 --out "$T/pv" --report "$T/pv.json"
contains prove-mermap-rfc-confirmed "confirmed by replay, INV-MERMAP-6" "$T/out"
contains prove-mermap-rfc-summary "counterexample(s) (" "$T/out"
check prove-mermap-trace-replays 0 "$V" replay --expect-declared -q "$T/pv/mermap-rfc.INV-MERMAP-6.jsonl"
check prove-mermap-report-json 0 python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(o["status"]=="counterexample" and o["confirmed"] for o in d["obligations"])' "$T/pv.json"
check prove-mermap-report-merges 1 "$V" report "$T/pv.json" --md "$T/pv.md" --junit "$T/pvr.xml"
contains prove-mermap-report-md "confirmed by replay, INV-MERMAP-6" "$T/pv.md"
contains prove-mermap-report-junit '<testsuite name="vmref prove"' "$T/pvr.xml"
check prove-mermap-junit 1 sh -c '"$1" prove --profile mermap:rfc --inv INV-MERMAP-6 -q --out "$2/pj" --junit - > "$2/pj.xml"' _ "$V" "$T"
check prove-mermap-junit-valid 0 python3 -c 'import sys, xml.etree.ElementTree as E; s=E.parse(sys.argv[1]).find("testsuite"); assert s.get("failures")=="2" and s.get("errors")=="0", s.attrib' "$T/pj.xml"
# prove --corpus: the counterexample and its trace stay in the corpus; a rerun takes the
# recorded result without solving, and solves the BMC again once its trace is deleted.
check prove-mermap-corpus 1 "$V" prove --profile mermap:rfc --inv INV-MERMAP-6 -q --corpus "$T/pcx"
check prove-mermap-corpus-trace 0 test -f "$T/pcx/mermap-rfc.INV-MERMAP-6.jsonl"
check prove-mermap-corpus-rerun 1 "$V" prove --profile mermap:rfc --inv INV-MERMAP-6 --corpus "$T/pcx"
contains prove-mermap-corpus-resumed "5 resumed from the corpus" "$T/out"
rm "$T/pcx/mermap-rfc.INV-MERMAP-6.jsonl"
check prove-mermap-corpus-lost-trace 1 "$V" prove --profile mermap:rfc --inv INV-MERMAP-6 -q --corpus "$T/pcx"
contains prove-mermap-corpus-solved-again "4 resumed from the corpus" "$T/out"
check prove-mermap-corpus-trace-back 0 test -f "$T/pcx/mermap-rfc.INV-MERMAP-6.jsonl"
check prove-mermap-fixed-inductive 0 "$V" prove --profile mermap --op mermap_teardown -q
contains prove-mermap-fixed-summary "0 counterexample(s)" "$T/out"
check prove-bad-bound 2 "$V" prove --profile mermap --bound cpus=x
check prove-unknown-bound 2 "$V" prove --profile mermap --bound frames=3
contains prove-unknown-bound-named "bound 'frames'" "$T/out"
finish
