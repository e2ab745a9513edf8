#!/usr/bin/env bash
# CLI behaviour a user relies on: exit codes, reports, conversion, bad-input messages.
# Usage: cli_test.sh VMREF SOURCE_DIR
set -u
V=$1; SRC=$2; T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0
check() { # check NAME EXPECTED_RC CMD... ; stdout+stderr saved to $T/out
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>&1; local rc=$?
  if [ "$rc" -ne "$want" ]; then echo "FAIL $name: exit $rc, wanted $want"; cat "$T/out"; fails=$((fails+1)); else echo "ok   $name"; fi
}
contains() { # contains NAME TEXT FILE
  if grep -qF -- "$2" "$3"; then echo "ok   $1"; else echo "FAIL $1: '$2' not in $3"; cat "$3"; fails=$((fails+1)); fi
}

check version 0 "$V" --version
contains version-text "vmref 0.1.0" "$T/out"
check help-replay 0 "$V" replay --help
check clean-exit 0 "$V" replay "$SRC/traces/scenarios/linux/three-way-split.jsonl"
check findings-exit 1 "$V" replay "$SRC/traces/violations/INV-TLB-1.jsonl"
contains finding-names-id "INV-TLB-1 at event" "$T/out"
check bad-input-exit 2 "$V" replay "$SRC/conformance/tests/data/bad-hex-line3.jsonl"
contains bad-input-names-line-field "bad-hex-line3.jsonl:3: field 'addr'" "$T/out"
check stop-at-first 1 "$V" replay --stop-at-first "$SRC/traces/violations/INV-TLB-2.jsonl"
check replay-report 1 "$V" replay --report "$T/r.json" --junit "$T/r.xml" \
  "$SRC/traces/violations/INV-COW-1.jsonl" "$SRC/traces/linux/sort-services.jsonl"
contains junit-has-failure '<failure message="1 finding(s)">' "$T/r.xml"
check report 1 "$V" report "$T/r.json" --html "$T/r.html" --md "$T/r.md" --junit "$T/r2.xml"
contains report-md-id "| INV-COW-1 | a COW PTE is never writable | 1 | 1 |" "$T/r.md"
contains report-html-clean 'class="clean"' "$T/r.html"
contains report-junit "INV-COW-1" "$T/r2.xml"
check report-bad-json 2 "$V" report "$SRC/traces/violations/INV-COW-1.jsonl"
check convert-zst-to-jsonl 0 "$V" convert "$SRC/traces/linux/tar-create.jsonl.zst" "$T/tar.jsonl"
check convert-back 0 "$V" convert "$T/tar.jsonl" "$T/tar2.jsonl.zst"
check replay-converted 0 "$V" replay -q "$T/tar.jsonl" "$T/tar2.jsonl.zst"
check convert-bad-input 2 "$V" convert "$SRC/conformance/tests/data/bad-hex-line3.jsonl" "$T/x.jsonl"
check gen 0 "$V" gen --events 2000 --seed 9 --expect -o "$T/g.jsonl.zst"
check replay-gen 0 "$V" replay "$T/g.jsonl.zst"
check unknown-profile 2 "$V" replay "$SRC/conformance/tests/data/unspecified-profile.jsonl"
contains unknown-profile-text "field 'profile'" "$T/out"
check record 0 "$V" record -o "$T/rec.jsonl" -- /bin/true
check replay-recorded 0 "$V" replay "$T/rec.jsonl"
check record-missing-program 0 "$V" record -o "$T/none.jsonl" -- /nonexistent/program
contains record-missing-status "exited with status 127" "$T/out"
check bench 0 "$V" bench --events 20000 --full-events 2000
contains bench-line "apply + incremental checks" "$T/out"
# Deliberately broken profiles are caught by replay on real and scenario traces.
check variant-no-merge 1 "$V" replay --profile linux:no-merge "$SRC/traces/linux/env-exec-ls.jsonl"
contains variant-no-merge-id "EXPECT-VSL-SPLIT" "$T/out"
check variant-no-zero-page 1 "$V" replay --profile linux:no-zero-page "$SRC/traces/scenarios/linux/read-fault-zero-page-then-write.jsonl"
contains variant-no-zero-page-id "EXPECT-ACCESS" "$T/out"
check variant-no-cow-reuse 1 "$V" replay --profile linux:no-cow-reuse "$SRC/traces/scenarios/linux/fork-then-write-in-child.jsonl"
check variant-unknown 2 "$V" replay --profile linux:nonsense "$SRC/traces/linux/env-exec-ls.jsonl"
# The recorder follows fork, exec and a thread through every recorded syscall; the
# trace replays clean (the kernel and the model agree on every snapshot).
if [ -n "${MM_WORKLOAD:-}" ]; then
  check record-workload 0 "$V" record -o "$T/workload.jsonl" -- "$MM_WORKLOAD"
  check replay-workload 0 "$V" replay --expect-declared "$T/workload.jsonl"
  for op in mremap madvise mlock munlock brk fork exec_reset as_destroy; do
    grep -q "\"op\":\"$op\"" "$T/workload.jsonl" && echo "ok   workload-has-$op" || { echo "FAIL workload-has-$op"; fails=$((fails+1)); }
  done
fi
# The live-kernel oracle: the correct profile agrees, a broken one is caught, and its
# minimized trace reproduces the divergence under replay.
check oracle-clean 0 "$V" oracle linux --ops 1500 --seed 5 --processes 3 --out "$T/oracle"
check oracle-broken 1 "$V" oracle linux --ops 3000 --seed 1 --profile linux:no-zero-page --out "$T/oracle"
check oracle-trace-replays 1 "$V" replay "$T/oracle/oracle-linux_no-zero-page-seed1.jsonl"
check oracle-trace-declared 0 "$V" replay --expect-declared "$T/oracle/oracle-linux_no-zero-page-seed1.jsonl"
# vmref walk on a real dump (Debian's kernel under QEMU, tools/qemu_dump.py): the
# listing equals QEMU's own `info tlb` line for line; bad images are clear errors.
D="$SRC/traces/dumps/debian12-linux-6.1-x86_64"
ROOT=$(sed -n 's/^cr3=\(0x[0-9a-f]*\).*/\1/p' "$D/cr3.txt")
zstd -q -d -f "$D/pmem.zst" -o "$T/pmem"
zstd -q -d -c "$D/info-tlb.txt.zst" | tr -d '\r' > "$T/qemu-tlb"
check walk-qemu-format 0 "$V" walk --mem "$T/pmem" --root "$ROOT" --format qemu-tlb
cp "$T/out" "$T/walk-full"
grep -v ' leaves, ' "$T/walk-full" > "$T/ours-tlb"
if cmp -s "$T/ours-tlb" "$T/qemu-tlb"; then echo "ok   walk-matches-qemu-info-tlb ($(wc -l < "$T/qemu-tlb") lines)"; else echo "FAIL walk-matches-qemu-info-tlb"; diff "$T/qemu-tlb" "$T/ours-tlb" | head; fails=$((fails+1)); fi
check walk-json 0 "$V" walk --mem "$T/pmem" --root "$ROOT"
contains walk-json-first-region '{"va":"0xffff8c1e00000000","pa":"0x0","size":"0x98000","flags":"rw- kernel global accessed dirty"}' "$T/out"
head -c 1000000 "$T/pmem" > "$T/truncated"
check walk-truncated 2 "$V" walk --mem "$T/truncated" --root "$ROOT"
contains walk-truncated-message "outside the image" "$T/out"
python3 - "$T/pmem" "$ROOT" "$T/reserved" <<'PY'
import struct, sys
img = bytearray(open(sys.argv[1], "rb").read()); root = int(sys.argv[2], 16)
for i in range(512):
    (e,) = struct.unpack_from("<Q", img, root + 8 * i)
    if e & 1:
        struct.pack_into("<Q", img, root + 8 * i, e | (1 << 50)); break
open(sys.argv[3], "wb").write(img)
PY
check walk-reserved 1 "$V" walk --mem "$T/reserved" --root "$ROOT" --maxphyaddr 46
contains walk-reserved-message "reserved bits 0x4000000000000 set (MAXPHYADDR 46)" "$T/out"

# Differential fuzzing of the x86-64 implementation against the model.
check fuzz-clean 0 "$V" fuzz --impl x86_64 --ops 5000 --seed 2 --jobs 2
contains fuzz-summary "5000 ops in" "$T/out"
contains fuzz-coverage "coverage, operation kinds: access=" "$T/out"
contains fuzz-shapes "tables.large_leaf_pages_compared=" "$T/out"
check fuzz-short-episodes 0 "$V" fuzz --ops 3000 --episode 50 --seed 3
check fuzz-list-mutants 0 "$V" fuzz --list-mutants
contains fuzz-mutant-listed "invlpg-ignores-pcid" "$T/out"
check fuzz-mutant-caught 1 "$V" fuzz --impl x86_64 --ops 50000 --seed 1 --mutant no-invlpg-after-unmap --layer vmm --out "$T/fz"
contains fuzz-mutant-id "DIFF-TLB-1" "$T/out"
CE=$(ls "$T"/fz/*.jsonl | head -1)
check fuzz-counterexample-fails 1 "$V" replay --impl x86_64 --mutant no-invlpg-after-unmap "$CE"
check fuzz-counterexample-clean-without-mutant 0 "$V" replay --impl x86_64 "$CE"
check fuzz-counterexample-model-alone 0 "$V" replay "$CE"
check fuzz-tables-caught 1 "$V" fuzz --layer tables --ops 20000 --mutant split-loses-last --out "$T/fzt"
check fuzz-tables-replay 1 "$V" fuzz --replay "$(ls "$T"/fzt/*.tables.jsonl | head -1)" --mutant split-loses-last
check fuzz-unknown-profile 2 "$V" fuzz --profile nova --ops 10
check fuzz-bad-replay 2 "$V" fuzz --replay "$SRC/traces/scenarios/linux/three-way-split.jsonl"
contains fuzz-bad-replay-text "not a table-op file" "$T/out"
check replay-impl-unsupported 2 "$V" replay --impl x86_64 "$SRC/traces/scenarios/linux/frame-freed-without-flush.jsonl"
contains replay-impl-unsupported-text "frame-freed-without-flush.jsonl:7: field 'tlb': implementation x86_64" "$T/out"
check fuzz-mermap-fixed 0 "$V" fuzz --profile mermap --ops 20000 --seed 4
check fuzz-mermap-model-layer 0 "$V" fuzz --profile mermap --layer model --ops 20000 --seed 4
contains fuzz-mermap-note "the model's invariants alone" "$T/out"
check fuzz-mermap-rfc 1 "$V" fuzz --profile mermap:rfc --ops 20000 --seed 4 --out "$T/mz"
contains fuzz-mermap-rfc-finds "INV-MERMAP-" "$T/out"
check fuzz-mermap-replay 1 "$V" replay "$(ls "$T"/mz/*.jsonl | head -1)"
check fuzz-zephyr-fixed 0 "$V" fuzz --profile zephyr --ops 5000 --seed 4
contains fuzz-zephyr-on-impl "fuzz --impl x86_64 (profile zephyr," "$T/out"
check fuzz-zephyr-impl-mutant 1 "$V" fuzz --profile zephyr --mutant zephyr-lifo-frames --layer vmm --ops 5000 --seed 3 --out "$T/zm"
contains fuzz-zephyr-impl-mutant-id "DIFF-PTE" "$T/out"
check replay-zephyr-impl-mutant 1 "$V" replay --impl x86_64 --mutant zephyr-lifo-frames "$(ls "$T"/zm/*.jsonl | head -1)"
check fuzz-zephyr-upstream 1 "$V" fuzz --profile zephyr:upstream --ops 5000 --seed 4 --out "$T/zz"
contains fuzz-zephyr-upstream-finds "INV-ZEPHYR-7" "$T/out"
check fuzz-zephyr-replay 1 "$V" replay "$(ls "$T"/zz/*.jsonl | head -1)"
check replay-zephyr-broken-variant 1 "$V" replay --profile zephyr:evict-pinned "$SRC/traces/scenarios/zephyr/pin-keeps-pages-loaded.jsonl"
printf '%s\n' '{"vmref_trace":1,"profile":"zephyr","phys_mem":"0x20000"}' '{"op":"k_mem_stat","stat":"faults"}' \
  '{"op":"k_mem_stat","stat":"fautls"}' >"$T/zbad.jsonl"
check replay-zephyr-bad-stat 2 "$V" replay "$T/zbad.jsonl"
contains replay-zephyr-bad-stat-names-field "field 'stat'" "$T/out"
printf '%s\n' '{"vmref_trace":1,"profile":"zephyr","phys_mem":"0x20000"}' '{"op":"as_destroy","as":1}' >"$T/zdestroy.jsonl"
check replay-zephyr-destroy-kernel-space 2 "$V" replay --impl x86_64 "$T/zdestroy.jsonl"
contains replay-zephyr-destroy-names-field "zdestroy.jsonl:2: field 'as'" "$T/out"
check fuzz-almos-fixed 0 "$V" fuzz --profile almos-mkh --ops 5000 --seed 4
contains fuzz-almos-on-impl "fuzz --impl x86_64 (profile almos-mkh," "$T/out"
check fuzz-almos-model-layer 0 "$V" fuzz --profile almos-mkh --layer model --ops 5000 --seed 4
contains fuzz-almos-model-layer-note "the model's invariants alone" "$T/out"
check fuzz-almos-stale-copy 1 "$V" fuzz --profile almos-mkh:stale-copy --ops 5000 --seed 4 --out "$T/az"
contains fuzz-almos-stale-copy-finds "INV-ALMOS-4" "$T/out"
check fuzz-almos-replay 1 "$V" replay "$(ls "$T"/az/*.jsonl | head -1)"
printf '%s\n' '{"vmref_trace":1,"profile":"almos-mkh","cpus":2}' '{"op":"almos_process","pid":1,"cluster":0}' \
  '{"op":"almos_vseg","pid":1,"type":"heap","len":"0x1000"}' >"$T/abad.jsonl"
check replay-almos-bad-type 2 "$V" replay "$T/abad.jsonl"
contains replay-almos-bad-type-names-field "field 'type'" "$T/out"
check fuzz-model-layer-mutant 2 "$V" fuzz --profile mermap --layer model --mutant xd-wrong-bit --ops 10
check bench-impl 0 "$V" bench --impl x86_64 --pages 2048 --runs 1 --fuzz-events 2000
contains bench-impl-map "map        P50" "$T/out"

echo "$fails failed"
[ "$fails" -eq 0 ]
