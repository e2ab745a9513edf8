#!/usr/bin/env bash
# The nova kernel from the command line (spec/kernels/nova.md §13): model-only fuzzing
# finds nothing on `fixed` and the seed's defects on `posted`, whose counterexample
# replays; its implementation runs in lock step on NVIDIA MMU v2 and v3 tables (--param
# mmu=3 for v3), a kernel mutant is caught and its counterexample carries the params.
# Usage: cli_test.sh VMREF SOURCE_DIR GPU_FORMAT=VERSION...
. "$2/conformance/tests/cli_lib.sh"

check fuzz-nova-fixed-model 0 "$V" fuzz --profile nova:fixed --layer model --ops 20000 --seed 4
check fuzz-nova-posted-model 1 "$V" fuzz --profile nova --layer model --ops 20000 --seed 4 --stop-at-first --out "$T/nz"
contains fuzz-nova-posted-finds "INV-NOVA-" "$T/out"
check fuzz-nova-replay 1 "$V" replay "$(first "$T"/nz/*.jsonl)"
check list-profiles 0 "$V" fuzz --list-profiles
contains list-profiles-nova "nova:posted" "$T/out"
# The GPU formats come as FORMAT=VERSION arguments (tests/CMakeLists.txt): one of each
# version, and the scenario of each version's own MMU.
for G in "${FORMATS[@]}"; do
  F=${G%=*}; N=${G#*=}
  # A campaign on a GPU format runs the kernel on that format's MMU version (implied
  # params.mmu); a trace runs on the version its header names.
  if [ "$N" = 2 ]; then S=unmap-then-remap.jsonl; X=3; else S=v3-two-pending-prepares.jsonl; X=2; fi
  check "replay-nova-impl:$F" 0 "$V" replay --impl "$F" "$SRC/traces/scenarios/nova/$S"
  contains "replay-nova-impl-lock-step:$F" "in lock step with the $F implementation" "$T/out"
  check "fuzz-nova-fixed:$F" 0 "$V" fuzz --profile nova:fixed --impl "$F" --layer vmm --ops 3000 --seed 5
  contains "fuzz-nova-fixed-version:$F" "--param mmu=$N" "$T/out"
  check "fuzz-nova-mutant:$F" 1 "$V" fuzz --profile nova:fixed --impl "$F" --layer vmm --ops 20000 \
    --seed 4 --mutant nova-flush-ack-none --stop-at-first --out "$T/nm-$F"
  contains "fuzz-nova-mutant-finds:$F" "DIFF-TLB-1" "$T/out"
  M=$(first "$T/nm-$F"/*.jsonl)
  contains "fuzz-nova-mutant-header-params:$F" "\"params\":{\"mmu\":$N}" "$M"
  check "fuzz-nova-mutant-replays:$F" 1 "$V" replay "$M"
  check "fuzz-nova-mutant-clean-without:$F" 0 "$V" replay --impl "$F" "$M"
  # Another version's trace is refused, naming the parameter and the way out.
  [ "$N" = 2 ] && O=v3-two-pending-prepares.jsonl || O=unmap-then-remap.jsonl
  check "replay-nova-other-version:$F" 2 "$V" replay --impl "$F" "$SRC/traces/scenarios/nova/$O"
  contains "replay-nova-other-version-names:$F" "params.mmu" "$T/out"
  check "fuzz-nova-other-version:$F" 2 "$V" fuzz --profile nova:fixed --impl "$F" --param "mmu=$X" --ops 100
  contains "fuzz-nova-other-version-says:$F" "set --param mmu=$N" "$T/out"
  # The implementation's VRAM, written by `replay --images-out`, decodes with `vmref walk`
  # into the scenario's live mappings (merged, with their rights; the sparse chunk maps
  # nothing), at the PDB the replay prints.
  check "replay-nova-images:$F" 0 "$V" replay --impl "$F" --param "mmu=$N" --images-out "$T/img-$F" \
    "$SRC/traces/scenarios/nova/live-mappings-for-walk.jsonl"
  contains "replay-nova-images-walk-command:$F" "vmref walk --arch $F --mem $T/img-$F/vram.img --root 0x10000000" "$T/out"
  check "walk-nova-vram:$F" 0 "$V" walk --arch "$F" --mem "$T/img-$F/vram.img" --root 0x10000000
  contains "walk-nova-vram-rw:$F" '{"va":"0x1ff000","pa":"0x20000000","size":"0x201000","flags":"vid rw- user"}' "$T/out"
  contains "walk-nova-vram-ro:$F" '{"va":"0x800000","pa":"0x30000000","size":"0x1000","flags":"vid r-- user"}' "$T/out"
  contains "walk-nova-vram-only-those:$F" "514 leaves, 2 regions" "$T/out"
  check "replay-images-one-trace:$F" 2 "$V" replay --impl "$F" --images-out "$T/img2" "$SRC/traces/scenarios/nova"
  contains "replay-images-one-trace-says:$F" "one trace at a time" "$T/out"
  check "bench-nova:$F" 0 "$V" bench --impl "$F" --profile nova:fixed --pages 1024 --runs 1 --fuzz-events 2000
  contains "bench-nova-per-page:$F" "nova map and unmap calls, ns per 4 KiB page" "$T/out"
  contains "bench-nova-lock-step:$F" "(0 findings)" "$T/out"
  check "fuzz-nova-bad-param:$F" 2 "$V" fuzz --profile nova:fixed --impl "$F" --param mmu=4 --ops 100
  contains "fuzz-nova-bad-param-names:$F" "params.mmu" "$T/out"
done
check fuzz-nova-param-no-value 2 "$V" fuzz --profile nova:fixed --param mmu --ops 100
check prove-nova-fixed 0 "$V" prove --profile nova:fixed -q
contains prove-nova-fixed-summary "3 proved, 0 counterexample(s)" "$T/out"
check prove-nova-posted-bound 1 "$V" prove --profile nova --inv LEM-NOVA-BOUND-1
contains prove-nova-posted-bound-values "pt_pages_upper_bound gives" "$T/out"
check prove-nova-suite-takes-fixed 0 "$V" prove --inv LEM-NOVA-RESERVE-1
contains prove-nova-suite-profile "lemma nova:fixed LEM-NOVA-RESERVE-1" "$T/out"
check prove-nova-suite-has-no-posted-bound 2 "$V" prove --inv LEM-NOVA-BOUND-1
finish
