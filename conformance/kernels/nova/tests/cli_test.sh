#!/usr/bin/env bash
# The nova kernel from the command line (spec/kernels/nova.md §13): model-only fuzzing
# finds nothing on `fixed` and the seed's defects on `posted`, whose counterexample
# replays; the implementation does not exist yet, so replay --impl refuses nova events.
# Usage: cli_test.sh VMREF SOURCE_DIR FORMAT...
. "$2/conformance/tests/cli_lib.sh"

check fuzz-nova-fixed-model 0 "$V" fuzz --profile nova:fixed --layer model --ops 20000 --seed 4
check fuzz-nova-posted-model 1 "$V" fuzz --profile nova --layer model --ops 20000 --seed 4 --stop-at-first --out "$T/nz"
contains fuzz-nova-posted-finds "INV-NOVA-" "$T/out"
check fuzz-nova-replay 1 "$V" replay "$(first "$T"/nz/*.jsonl)"
check list-profiles 0 "$V" fuzz --list-profiles
contains list-profiles-nova "nova:posted" "$T/out"
for F in "${FORMATS[@]}"; do
  check "replay-nova-impl-refused:$F" 2 "$V" replay --impl "$F" "$SRC/traces/scenarios/nova/unmap-then-remap.jsonl"
done
check prove-nova-fixed 0 "$V" prove --profile nova:fixed -q
contains prove-nova-fixed-summary "3 proved, 0 counterexample(s)" "$T/out"
check prove-nova-posted-bound 1 "$V" prove --profile nova --inv LEM-NOVA-BOUND-1
contains prove-nova-posted-bound-values "pt_pages_upper_bound gives" "$T/out"
check prove-nova-suite-takes-fixed 0 "$V" prove --inv LEM-NOVA-RESERVE-1
contains prove-nova-suite-profile "lemma nova:fixed LEM-NOVA-RESERVE-1" "$T/out"
check prove-nova-suite-has-no-posted-bound 2 "$V" prove --inv LEM-NOVA-BOUND-1
finish
