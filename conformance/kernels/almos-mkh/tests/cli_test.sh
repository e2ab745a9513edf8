#!/usr/bin/env bash
# The almos-mkh kernel from the command line: fuzzing on each format and on the model
# alone, a broken variant caught and replayed, `vmref prove` finding and replaying
# cow-ignores-forks, stale-copy (a cluster's GPT copy), false-fault-allocates and no-guard and
# proving the fixed kernel's INV-ALMOS-6, and bad input named.
# Usage: cli_test.sh VMREF SOURCE_DIR FORMAT...
. "$2/conformance/tests/cli_lib.sh"

for F in "${FORMATS[@]}"; do
  check "fuzz-almos-fixed:$F" 0 "$V" fuzz --profile almos-mkh --impl "$F" --ops 5000 --seed 4
  contains "fuzz-almos-on-impl:$F" "fuzz --impl $F (profile almos-mkh," "$T/out"
done
check fuzz-almos-model-layer 0 "$V" fuzz --profile almos-mkh --layer model --ops 5000 --seed 4
contains fuzz-almos-model-layer-note "the model's invariants alone" "$T/out"
check fuzz-almos-stale-copy 1 "$V" fuzz --profile almos-mkh:stale-copy --ops 5000 --seed 4 --out "$T/az"
contains fuzz-almos-stale-copy-finds "INV-ALMOS-4" "$T/out"
check fuzz-almos-replay 1 "$V" replay "$(first "$T"/az/*.jsonl)"
check prove-almos-cow-ignores-forks 1 "$V" prove --profile almos-mkh:cow-ignores-forks --inv INV-ALMOS-6 --depth 3 --out "$T/ap"
contains prove-almos-confirmed "confirmed by replay, INV-ALMOS-6" "$T/out"
check prove-almos-trace-replays 0 "$V" replay --expect-declared -q "$T/ap/almos-mkh-cow-ignores-forks.INV-ALMOS-6.jsonl"
check prove-almos-fixed-inv6 0 "$V" prove --profile almos-mkh --inv INV-ALMOS-6 --depth 3 -q
check prove-almos-bad-bound 2 "$V" prove --profile almos-mkh --bound blocks=9
contains prove-almos-bad-bound-names-it "blocks=9" "$T/out"
check prove-almos-stale-copy 1 "$V" prove --profile almos-mkh:stale-copy --inv INV-ALMOS-4 --depth 3 --out "$T/as"
contains prove-almos-stale-copy-confirmed "confirmed by replay, INV-ALMOS-4" "$T/out"
check prove-almos-stale-copy-replays 0 "$V" replay --expect-declared -q "$T/as/almos-mkh-stale-copy.INV-ALMOS-4.jsonl"
check prove-almos-false-fault 1 "$V" prove --profile almos-mkh:false-fault-allocates --inv INV-ALMOS-5 --depth 3 --out "$T/af"
contains prove-almos-false-fault-confirmed "confirmed by replay, INV-ALMOS-5" "$T/out"
check prove-almos-no-guard 1 "$V" prove --profile almos-mkh:no-guard --inv INV-ALMOS-2 --depth 2 --out "$T/ag"
contains prove-almos-no-guard-confirmed "confirmed by replay, INV-ALMOS-2" "$T/out"
check prove-almos-no-guard-replays 0 "$V" replay --expect-declared -q "$T/ag/almos-mkh-no-guard.INV-ALMOS-2.jsonl"
check prove-almos-bad-clusters 2 "$V" prove --profile almos-mkh --bound clusters=4
contains prove-almos-bad-clusters-names-it "clusters=4" "$T/out"
printf '%s\n' '{"vmref_trace":1,"profile":"almos-mkh","cpus":2}' '{"op":"almos_process","pid":1,"cluster":0}' \
  '{"op":"almos_vseg","pid":1,"type":"heap","len":"0x1000"}' >"$T/abad.jsonl"
check replay-almos-bad-type 2 "$V" replay "$T/abad.jsonl"
contains replay-almos-bad-type-names-field "field 'type'" "$T/out"
finish
