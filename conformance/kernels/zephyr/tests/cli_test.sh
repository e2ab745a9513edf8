#!/usr/bin/env bash
# The zephyr kernel from the command line: fuzzing on each format, its implementation
# mutant caught, a broken variant caught on a scenario, and bad input named.
# Usage: cli_test.sh VMREF SOURCE_DIR FORMAT...
. "$2/conformance/tests/cli_lib.sh"

for F in "${FORMATS[@]}"; do
  check "fuzz-zephyr-fixed:$F" 0 "$V" fuzz --profile zephyr --impl "$F" --ops 5000 --seed 4
  contains "fuzz-zephyr-on-impl:$F" "fuzz --impl $F (profile zephyr," "$T/out"
  check "fuzz-zephyr-impl-mutant:$F" 1 "$V" fuzz --profile zephyr --impl "$F" --mutant zephyr-lifo-frames --layer vmm --ops 5000 --seed 3 --out "$T/zm-$F"
  contains "fuzz-zephyr-impl-mutant-id:$F" "DIFF-PTE" "$T/out"
  check "replay-zephyr-impl-mutant:$F" 1 "$V" replay --impl "$F" --mutant zephyr-lifo-frames "$(first "$T/zm-$F"/*.jsonl)"
done
check fuzz-zephyr-upstream 1 "$V" fuzz --profile zephyr:upstream --ops 5000 --seed 4 --out "$T/zz"
contains fuzz-zephyr-upstream-finds "INV-ZEPHYR-7" "$T/out"
check fuzz-zephyr-replay 1 "$V" replay "$(first "$T"/zz/*.jsonl)"
check replay-zephyr-broken-variant 1 "$V" replay --profile zephyr:evict-pinned "$SRC/traces/scenarios/zephyr/pin-keeps-pages-loaded.jsonl"
printf '%s\n' '{"vmref_trace":1,"profile":"zephyr","phys_mem":"0x20000"}' '{"op":"k_mem_stat","stat":"faults"}' \
  '{"op":"k_mem_stat","stat":"fautls"}' >"$T/zbad.jsonl"
check replay-zephyr-bad-stat 2 "$V" replay "$T/zbad.jsonl"
contains replay-zephyr-bad-stat-names-field "field 'stat'" "$T/out"
printf '%s\n' '{"vmref_trace":1,"profile":"zephyr","phys_mem":"0x20000"}' '{"op":"as_destroy","as":1}' >"$T/zdestroy.jsonl"
for F in "${FORMATS[@]}"; do
  check "replay-zephyr-destroy-kernel-space:$F" 2 "$V" replay --impl "$F" "$T/zdestroy.jsonl"
  contains "replay-zephyr-destroy-names-field:$F" "zdestroy.jsonl:2: field 'as'" "$T/out"
done
# Header params (spec/kernels/zephyr.md "Parameters"): a bad one is exit 2 naming file,
# line 1 and params.<name>; a recording clean under the default layout is caught only
# under another board's params (the same events without them replay clean).
check replay-zephyr-bad-param 2 "$V" replay "$SRC/conformance/kernels/zephyr/tests/data/params-bad-misaligned-base.jsonl"
contains replay-zephyr-bad-param-names-field "params-bad-misaligned-base.jsonl:1: field 'params.vm_start'" "$T/out"
check replay-zephyr-bad-param-size 2 "$V" replay "$SRC/conformance/kernels/zephyr/tests/data/params-bad-hostile-size.jsonl"
contains replay-zephyr-bad-param-size-names-field "params-bad-hostile-size.jsonl:1: field 'params.vm_pages'" "$T/out"
ON_OTHER="$SRC/traces/scenarios/zephyr/params-default-recording-on-other-board.jsonl"
check replay-zephyr-params-caught 1 "$V" replay "$ON_OTHER"
contains replay-zephyr-params-caught-ret "EXPECT-RET" "$T/out"
python3 -c 'import json,sys; l=open(sys.argv[1]).read().splitlines(); h=json.loads(l[0]); del h["params"]; del h["provenance"]["expected"]; print("\n".join([json.dumps(h)]+l[1:]))' \
  "$ON_OTHER" >"$T/zdefault.jsonl"
check replay-zephyr-params-default-clean 0 "$V" replay "$T/zdefault.jsonl"
for F in "${FORMATS[@]}"; do
  check "replay-zephyr-params-caught-impl:$F" 1 "$V" replay --impl "$F" "$ON_OTHER"
  check "replay-zephyr-params-default-clean-impl:$F" 0 "$V" replay --impl "$F" "$T/zdefault.jsonl"
done
# --param sets the same from the command line, over the header (here: none).
check replay-zephyr-param-option 1 "$V" replay --param vm_start=0x40000000 --param vm_pages=256 --param image_pages=16 \
  --param vm_reserved=2 --param backing_pages=8 "$T/zdefault.jsonl"
contains replay-zephyr-param-option-caught "EXPECT-RET" "$T/out"
check replay-zephyr-param-option-bad 2 "$V" replay --param vm_pages=0 "$T/zdefault.jsonl"
contains replay-zephyr-param-option-bad-names-field "field 'params.vm_pages'" "$T/out"
# vmref prove (spec/kernels/zephyr.md §12): the seed's missing rollback and dirty-bit-only's
# skipped write-out each come back as a confirmed trace that replays; the fixed kernel's
# contents invariant proves, its BMC implied by the induction unless asked for.
check prove-zephyr-seed-inv6 1 "$V" prove --profile zephyr:seed --inv INV-ZEPHYR-6 --out "$T/zs"
contains prove-zephyr-seed-confirmed "confirmed by replay, INV-ZEPHYR-6" "$T/out"
check prove-zephyr-seed-replays 0 "$V" replay --expect-declared -q "$T/zs/zephyr-seed.INV-ZEPHYR-6.jsonl"
check prove-zephyr-dirty-bit-only-inv5 1 "$V" prove --profile zephyr:dirty-bit-only --inv INV-ZEPHYR-5 --out "$T/zd"
contains prove-zephyr-dirty-bit-only-confirmed "confirmed by replay, INV-ZEPHYR-5" "$T/out"
check prove-zephyr-dirty-bit-only-replays 0 "$V" replay --expect-declared -q "$T/zd/zephyr-dirty-bit-only.INV-ZEPHYR-5.jsonl"
bmc_detail() { python3 -c 'import json,sys; r=[o for o in json.load(open(sys.argv[1]))["obligations"] if o["kind"]=="bmc"]; print(r[0]["detail"] if len(r)==1 else "no single bmc row")' "$1"; }
check prove-zephyr-fixed-inv5 0 "$V" prove --profile zephyr --inv INV-ZEPHYR-5 --report "$T/zi.json"
bmc_detail "$T/zi.json" >"$T/zi.txt"
contains prove-zephyr-fixed-inv5-implied "implied by induction" "$T/zi.txt"
check prove-zephyr-fixed-inv5-explicit 0 "$V" prove --profile zephyr --inv INV-ZEPHYR-5 --explicit-bmc --depth 3 --report "$T/ze.json"
bmc_detail "$T/ze.json" >"$T/ze.txt"
contains prove-zephyr-explicit-bmc-runs "no sequence of up to 3" "$T/ze.txt"
finish
