#!/usr/bin/env bash
# The x86_64 format from the command line: `vmref walk` on a real dump (Debian's kernel
# under QEMU, impl/arch/x86_64/tools/qemu_dump.py) lists what QEMU's `info tlb` lists,
# line for line; bad images (truncated, reserved bits, page-table cycles) are clear
# errors; fuzzing and the bench run on this format.
# Usage: cli_test.sh VMREF SOURCE_DIR
. "$2/conformance/tests/cli_lib.sh"

D="$SRC/traces/dumps/x86_64/debian12-kernel-6.1"
ROOT=$(sed -n 's/^cr3=\(0x[0-9a-f]*\).*/\1/p' "$D/cr3.txt")
zstd -q -d -f "$D/pmem.zst" -o "$T/pmem"
zstd -q -d -c "$D/info-tlb.txt.zst" | tr -d '\r' > "$T/qemu-tlb"
check walk-qemu-format 0 "$V" walk --arch x86_64 --mem "$T/pmem" --root "$ROOT" --format qemu-tlb
cp "$T/out" "$T/walk-full"
grep -v ' leaves, ' "$T/walk-full" > "$T/ours-tlb"
if cmp -s "$T/ours-tlb" "$T/qemu-tlb"; then echo "ok   walk-matches-qemu-info-tlb ($(wc -l < "$T/qemu-tlb") lines)"; else echo "FAIL walk-matches-qemu-info-tlb"; diff "$T/qemu-tlb" "$T/ours-tlb" | head; fails=$((fails+1)); fi
check walk-json 0 "$V" walk --mem "$T/pmem" --root "$ROOT"
contains walk-json-first-region '{"va":"0xffff8c1e00000000","pa":"0x0","size":"0x98000","flags":"rw- kernel global accessed dirty"}' "$T/out"
# The compressed dump as it is bundled, and the root as the dump script writes it.
"$V" walk --mem "$T/pmem" --root "$ROOT" 2>/dev/null > "$T/walk-plain"
"$V" walk --mem "$D/pmem.zst" --root "$(cut -d' ' -f1 "$D/cr3.txt")" 2>/dev/null > "$T/walk-zst"
[ -s "$T/walk-zst" ] && cmp -s "$T/walk-plain" "$T/walk-zst" && echo "ok   walk-zst-image-and-cr3-form" \
  || { echo "FAIL walk-zst-image-and-cr3-form"; diff "$T/walk-plain" "$T/walk-zst" | head; fails=$((fails+1)); }
head -c 4000 "$D/pmem.zst" > "$T/pmem-cut.zst"
check walk-zst-truncated 2 "$V" walk --mem "$T/pmem-cut.zst" --root "$ROOT"
contains walk-zst-truncated-message "truncated zstd image" "$T/out"
check walk-root-other-register 2 "$V" walk --mem "$T/pmem" --root "ttbr0=$ROOT"
contains walk-root-other-register-message "not x86_64's root register (CR3)" "$T/out"
check walk-root-not-a-number 2 "$V" walk --mem "$T/pmem" --root "cr3=zz"
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
# A PML4 whose 512 entries all point at itself (a recursive mapping): each entry is
# reported once, not followed (512^4 leaves otherwise); timeout guards against a hang.
python3 -c 'import struct, sys; sys.stdout.buffer.write(bytes(4096) + struct.pack("<512Q", *[0x1000 | 3] * 512))' > "$T/selfref"
check walk-self-referencing 1 timeout 60 "$V" walk --mem "$T/selfref" --root 0x1000
contains walk-self-referencing-entry "points at the table page at PA 0x1000" "$T/out"
contains walk-self-referencing-summary "512 aliased table entries not followed" "$T/out"
contains walk-self-referencing-no-leaves ": 0 leaves, " "$T/out"
# --tables-out: refused when it is the image itself (which must stay intact); written
# whole otherwise, and a sparse image that walks the same.
cp "$T/selfref" "$T/selfref.keep"
check walk-tables-out-is-input 2 "$V" walk --mem "$T/selfref" --root 0x1000 --tables-out "$T/selfref"
contains walk-tables-out-refused "same file as the input" "$T/out"
if cmp -s "$T/selfref" "$T/selfref.keep"; then echo "ok   walk-input-intact"; else echo "FAIL walk-input-intact"; fails=$((fails+1)); fi
check walk-tables-out 0 "$V" walk --mem "$T/pmem" --root "$ROOT" --tables-out "$T/tables"
check walk-tables-out-walks 0 "$V" walk --mem "$T/tables" --root "$ROOT"
check walk-tables-out-full 2 "$V" walk --mem "$T/pmem" --root "$ROOT" --tables-out /dev/full
# Differential fuzzing on this format, five-level tables included, and its own mutants.
check fuzz-clean 0 "$V" fuzz --impl x86_64 --ops 5000 --seed 2 --jobs 2
contains fuzz-summary "5000 ops in" "$T/out"
check fuzz-la57 0 "$V" fuzz --impl x86_64 --levels 5 --ops 3000 --seed 2
check fuzz-mutant-invlpg 1 "$V" fuzz --impl x86_64 --ops 50000 --seed 1 --mutant invlpg-ignores-pcid --layer vmm --stop-at-first --out "$T/fx"
check fuzz-list-mutants 0 "$V" fuzz --list-mutants
contains fuzz-mutant-listed "invlpg-ignores-pcid" "$T/out"
check bench-impl 0 "$V" bench --impl x86_64 --pages 2048 --runs 1 --fuzz-events 2000
contains bench-impl-map "map        P50" "$T/out"
# `vmref prove --junit` validates against the Jenkins xunit schema (conformance/tests/data).
check prove-junit 0 "$V" prove --format x86_64 --inv LEM-X86-CANON-1 --junit "$T/p.xml"
check prove-junit-valid 0 xmllint --noout --schema "$SRC/conformance/tests/data/junit-10.xsd" "$T/p.xml"
contains prove-junit-case 'classname="prove.x86_64.lemma" name="LEM-X86-CANON-1"' "$T/p.xml"
finish
