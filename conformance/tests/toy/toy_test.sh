#!/usr/bin/env bash
# The test-only toy kernel through every tool that reads the registries: the CLI's
# choice lists, replay (model alone and with the implementation), fuzz (clean, a broken
# variant caught by its invariant, a mutant caught by the differential), the report's
# rule catalogue, and the schema.
# Usage: toy_test.sh VMREF_TOY SOURCE_DIR FORMAT...
. "$2/conformance/tests/cli_lib.sh"
D="$SRC/conformance/tests/toy/traces"

check list-profiles 0 "$V" fuzz --list-profiles
contains list-profiles-toy "toy" "$T/out"
check list-mutants 0 "$V" fuzz --list-mutants
contains list-mutants-toy "toy-skips-first-page" "$T/out"
check replay-scenario 0 "$V" replay --expect-declared "$D/allocs-and-frees.jsonl"
check replay-violation 1 "$V" replay "$D/INV-TOY-1.jsonl"
contains replay-violation-id "INV-TOY-1 at event" "$T/out"
check replay-violation-declared 0 "$V" replay --expect-declared "$D/INV-TOY-1.jsonl"
for F in "${FORMATS[@]}"; do
  check "replay-impl:$F" 0 "$V" replay --impl "$F" --expect-declared "$D/allocs-and-frees.jsonl"
  check "replay-impl-mutant:$F" 1 "$V" replay --impl "$F" --mutant toy-skips-first-page "$D/allocs-and-frees.jsonl"
  contains "replay-impl-mutant-id:$F" "DIFF-OUT" "$T/out"
  check "fuzz-clean:$F" 0 "$V" fuzz --profile toy --impl "$F" --ops 20000 --seed 1
  contains "fuzz-clean-ops:$F" "toy_alloc=" "$T/out"
  check "fuzz-mutant:$F" 1 "$V" fuzz --profile toy --impl "$F" --layer vmm --mutant toy-skips-first-page --ops 2000 --seed 1 --out "$T/fm-$F"
  contains "fuzz-mutant-id:$F" "DIFF-OUT" "$T/out"
  check "fuzz-mutant-replays:$F" 1 "$V" replay --impl "$F" --mutant toy-skips-first-page "$(first "$T/fm-$F"/*.jsonl)"
done
check fuzz-variant 1 "$V" fuzz --profile toy:overlap --layer model --ops 2000 --seed 1 --out "$T/fv"
contains fuzz-variant-id "INV-TOY-1" "$T/out"
check fuzz-variant-replays 1 "$V" replay "$(first "$T"/fv/*.jsonl)"
check gen 0 "$V" gen --profile toy --events 3000 --seed 2 --expect -o "$T/g.jsonl"
check replay-gen 0 "$V" replay "$T/g.jsonl"
check replay-report 1 "$V" replay --report "$T/r.json" "$D/INV-TOY-1.jsonl" "$D/allocs-and-frees.jsonl"
check report 1 "$V" report "$T/r.json" --md "$T/r.md"
contains report-rule "| INV-TOY-1 | live toy allocations lie inside the window and are pairwise disjoint | 1 |" "$T/r.md"
check schema 0 "$V" schema -o "$T/schema.json"
contains schema-op '"const": "toy_alloc"' "$T/schema.json"
printf '%s\n' '{"vmref_trace":1,"profile":"toy"}' '{"op":"as_create","as":1}' '{"op":"toy_alloc","as":1,"len":"0xZZ"}' >"$T/bad.jsonl"
check bad-field 2 "$V" replay "$T/bad.jsonl"
contains bad-field-named "bad.jsonl:3: field 'len'" "$T/out"
finish
