#!/usr/bin/env bash
# The mermap kernel from the command line: fuzzing finds nothing on the fixed allocator
# and the RFC's defects on `rfc`, whose counterexample replays.
# Usage: cli_test.sh VMREF SOURCE_DIR FORMAT...
. "$2/conformance/tests/cli_lib.sh"

for F in "${FORMATS[@]}"; do
  check "fuzz-mermap-fixed:$F" 0 "$V" fuzz --profile mermap --impl "$F" --ops 20000 --seed 4
done
check fuzz-mermap-model-layer 0 "$V" fuzz --profile mermap --layer model --ops 20000 --seed 4
contains fuzz-mermap-note "the model's invariants alone" "$T/out"
check fuzz-mermap-rfc 1 "$V" fuzz --profile mermap:rfc --ops 20000 --seed 4 --out "$T/mz"
contains fuzz-mermap-rfc-finds "INV-MERMAP-" "$T/out"
check fuzz-mermap-replay 1 "$V" replay "$(first "$T"/mz/*.jsonl)"
finish
