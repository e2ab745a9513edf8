#!/usr/bin/env bash
# The riscv format from the command line: `vmref walk --arch riscv` on a small Sv39 image
# built here (leaves at every level, neighbours merged, a misaligned superpage and a
# reserved encoding reported), satp as --root with its MODE checked, the format listed,
# differential fuzzing clean in Sv48 and Sv57 and catching a format mutant, and the
# format's Z3 lemmas. On a real dump (Debian's riscv64 kernel under QEMU,
# impl/arch/riscv/tools/qemu_dump.py), `--format qemu-mem` prints what QEMU's `info mem`
# printed, line for line, and the regions translate QEMU's `gva2gpa` samples alike.
# Usage: cli_test.sh VMREF SOURCE_DIR
. "$2/conformance/tests/cli_lib.sh"

# An Sv39 image: root 0x1000; [0] -> 0x2000 -> 0x3000 (4 KiB leaves at VA 0x5000 and
# 0x6000, contiguous), 0x2000[1] a 2 MiB leaf at VA 0x200000, root[1] a 1 GiB leaf at VA
# 0x40000000, root[511] a 1 GiB leaf in the high half. BAD adds root[2]: a misaligned
# 1 GiB leaf, and 0x3000[7]: W without R.
python3 - "$T/img" "$T/bad" <<'PY'
import struct, sys
V, R, W, X, U, G, A, D = 1, 2, 4, 8, 16, 32, 64, 128
img = bytearray(0x4000)
def put(pa, e): struct.pack_into("<Q", img, pa, e)
def pte(pa, bits): return (pa >> 12) << 10 | V | bits
put(0x1000, pte(0x2000, 0)); put(0x2000, pte(0x3000, 0))
put(0x3000 + 5 * 8, pte(0x9000, R | W | U | A | D)); put(0x3000 + 6 * 8, pte(0xa000, R | W | U | A | D))
put(0x2008, pte(0x600000, R | X | G | A))
put(0x1008, pte(0x80000000, R | W | A | D))
put(0x1000 + 511 * 8, pte(0xc0000000, R | X | G))
open(sys.argv[1], "wb").write(img)
put(0x1010, pte(0x80200000, R)); put(0x3000 + 7 * 8, pte(0xb000, W))
open(sys.argv[2], "wb").write(img)
PY
SATP=$(printf '0x%x' $(( (8 << 60) | 1 )))
check walk-sv39 0 "$V" walk --arch riscv --sv 39 --mem "$T/img" --root "satp=$SATP"
contains walk-4k-merged '{"va":"0x5000","pa":"0x9000","size":"0x2000","flags":"rw- user accessed dirty"}' "$T/out"
contains walk-2m '{"va":"0x200000","pa":"0x600000","size":"0x200000","flags":"r-x supervisor global accessed"}' "$T/out"
contains walk-1g '{"va":"0x40000000","pa":"0x80000000","size":"0x40000000","flags":"rw- supervisor accessed dirty"}' "$T/out"
contains walk-high-half '{"va":"0xffffffffc0000000","pa":"0xc0000000","size":"0x40000000","flags":"r-x supervisor global"}' "$T/out"
contains walk-summary ": 5 leaves, 4 regions" "$T/out"
check walk-bad 1 "$V" walk --arch riscv --sv 39 --mem "$T/bad" --root "$SATP"
contains walk-misaligned "misaligned superpage" "$T/out"
contains walk-w-without-r "W=1 with R=0 (reserved encoding)" "$T/out"
check walk-satp-bare 2 "$V" walk --arch riscv --sv 39 --mem "$T/img" --root 0x1
contains walk-satp-bare-message "MODE 0 is Bare" "$T/out"
check walk-satp-other-mode 2 "$V" walk --arch riscv --mem "$T/img" --root "$SATP"
contains walk-satp-other-mode-message "MODE 8 is not Sv48's 9" "$T/out"
check walk-root-other-register 2 "$V" walk --arch riscv --sv 39 --mem "$T/img" --root "cr3=$SATP"
contains walk-root-other-register-message "not riscv's root register (satp)" "$T/out"
check walk-sv-bad 2 "$V" walk --arch riscv --sv 40 --mem "$T/img" --root "$SATP"
check list-archs 0 "$V" fuzz --list-archs
contains list-archs-riscv "riscv: RISC-V Sv39/Sv48/Sv57" "$T/out"
# The real dump: Sv57 chosen by Linux on QEMU's virt board, RAM from 0x80000000.
D="$SRC/traces/dumps/riscv/debian13-kernel-6.12"
read -r RSATP RBASE RSV < <(sed -n 's/^satp=\(0x[0-9a-f]*\) base=\(0x[0-9a-f]*\) sv=\([0-9]*\)$/\1 \2 \3/p' "$D/satp.txt")
zstd -q -d -f "$D/pmem.zst" -o "$T/rv-pmem"
zstd -q -d -c "$D/info-mem.txt.zst" | tr -d '\r' > "$T/qemu-mem"
check walk-real-qemu-mem 0 "$V" walk --arch riscv --sv "$RSV" --mem "$T/rv-pmem" --base "$RBASE" --root "$RSATP" --format qemu-mem
grep -v ' leaves, ' "$T/out" > "$T/ours-mem"
if [ -s "$T/qemu-mem" ] && cmp -s "$T/ours-mem" "$T/qemu-mem"; then echo "ok   walk-real-matches-qemu-info-mem ($(wc -l < "$T/qemu-mem") lines)"
else echo "FAIL walk-real-matches-qemu-info-mem"; diff "$T/qemu-mem" "$T/ours-mem" | head; fails=$((fails+1)); fi
"$V" walk --arch riscv --sv "$RSV" --mem "$D/pmem.zst" --base "$RBASE" --root "$RSATP" > "$T/rv-regions" 2>/dev/null
check walk-real-gva2gpa 0 python3 "$SRC/tools/check_gva2gpa.py" "$T/rv-regions" "$D/gva2gpa.txt"
contains walk-real-gva2gpa-count "338 sampled translations, 0 disagree" "$T/out"
# The comparison can fail: one sample's PA changed, one mapped VA called unmapped.
sed -e '1s/ 0x\([0-9a-f]*\)$/ 0x1\1/' -e '2s/ 0x[0-9a-f]*$/ unmapped/' "$D/gva2gpa.txt" > "$T/gva2gpa-bad"
check walk-real-gva2gpa-catches 1 python3 "$SRC/tools/check_gva2gpa.py" "$T/rv-regions" "$T/gva2gpa-bad"
contains walk-real-gva2gpa-catches-count "2 disagree" "$T/out"
# A malformed samples file is named, not taken for a disagreement.
sed -e '3s/.*/0x10/' "$D/gva2gpa.txt" > "$T/gva2gpa-malformed"
check walk-real-gva2gpa-malformed 2 python3 "$SRC/tools/check_gva2gpa.py" "$T/rv-regions" "$T/gva2gpa-malformed"
contains walk-real-gva2gpa-malformed-line "gva2gpa-malformed:3: expected 'VA PA' or 'VA unmapped'" "$T/out"
check walk-listing-of-another-format 2 "$V" walk --arch riscv --sv "$RSV" --mem "$T/rv-pmem" --base "$RBASE" --root "$RSATP" --format qemu-tlb
contains walk-listing-of-another-format-message "format riscv has no qemu-tlb listing" "$T/out"

# Differential fuzzing in lock step with the model, in each mode, and with superpages.
check fuzz-clean 0 "$V" fuzz --impl riscv --ops 5000 --seed 2 --jobs 2
contains fuzz-summary "5000 ops in" "$T/out"
check fuzz-sv57 0 "$V" fuzz --impl riscv --sv 57 --ops 3000 --seed 2
check fuzz-svade 0 "$V" fuzz --impl riscv --ad-fault --ops 2000 --seed 2
# Svinval brackets instead of SFENCE.VMA: clean, and each broken bracket caught (DIFF-TLB-2).
check fuzz-svinval 0 "$V" fuzz --impl riscv --svinval --ops 5000 --seed 2
for m in sinval-without-inval-ir sinval-before-w-inval; do
  check "fuzz-mutant-$m" 1 "$V" fuzz --impl riscv --ops 50000 --seed 3 --mutant $m --stop-at-first --out "$T/fs-$m"
  contains "fuzz-mutant-$m-id" "DIFF-TLB-2" "$T/out"
done
# Superpages in the TLB: a kernel variant with transparent huge pages, from the registry.
THP=$("$V" fuzz --list-profiles | sed -n 's/^ *\([a-z0-9_-]*:thp\) .*/\1/p' | head -1)
if [ -n "$THP" ]; then
  check fuzz-thp 0 "$V" fuzz --impl riscv --profile "$THP" --ops 3000 --seed 2
  check fuzz-mutant-superpage 1 "$V" fuzz --impl riscv --profile "$THP" --ops 50000 --seed 1 \
    --mutant sfence-va-keeps-superpages --stop-at-first --out "$T/fx"
fi
check fuzz-mutant-dirty 1 "$V" fuzz --impl riscv --ops 50000 --seed 1 --mutant d-not-set --stop-at-first --out "$T/fd"
contains fuzz-mutant-dirty-id "DIFF-AD" "$T/out"
check fuzz-list-mutants 0 "$V" fuzz --list-mutants
contains fuzz-mutant-listed "misaligned-superpage" "$T/out"
check bench-impl 0 "$V" bench --impl riscv --pages 2048 --runs 1 --fuzz-events 2000
contains bench-impl-map "map        P50" "$T/out"
# A mode whose user half cannot hold the profile's user space is refused up front, by name.
check fuzz-sv39-refused 2 "$V" fuzz --impl riscv --sv 39 --ops 1000
contains fuzz-sv39-refused-text "translates user addresses below 0x4000000000" "$T/out"
# The format's arithmetic lemmas (Z3).
check prove-riscv 0 "$V" prove --format riscv
contains prove-riscv-align "LEM-RV-ALIGN-1" "$T/out"
finish
