#!/usr/bin/env bash
# The aarch64 format from the command line: `vmref walk --arch aarch64` on a small image
# built here (4 KiB granule, 39-bit tree: pages, 2 MiB and 1 GiB blocks, TTBR1's region,
# hierarchical APTable/UXNTable, neighbours merged, a misaligned block and a reserved type
# reported), TTBR0_EL1 as --root, the format listed, differential fuzzing clean (16- and
# 8-bit ASIDs, each break-before-make rule, blocks), two mutant campaigns caught, the
# granules the engine cannot build refused by name, and the format's Z3 lemmas.
# Usage: cli_test.sh VMREF SOURCE_DIR
. "$2/conformance/tests/cli_lib.sh"

# A 39-bit tree (regions of 38 bits, 3 levels, L1-L3): root 0x1000, TTBR0's level-1
# table its lower half, TTBR1's its upper half. [0] -> 0x2000 (L2) -> 0x3000 (L3): EL0
# pages at VA 0x5000 and 0x6000 (contiguous PAs); 0x2000[1] a 2 MiB EL1 r-x global
# block; root[1] a 1 GiB EL1 rw- block (AttrIndx 1); root[2] -> 0x4000 with APTable[1]
# and UXNTable: its 2 MiB EL0 rwx block walks as r-- el0; root[511] a 1 GiB block in
# TTBR1's region, AF clear. BAD adds root[3]: a misaligned 1 GiB block, and 0x3000[7]:
# type 0b01 at level 3.
python3 - "$T/img" "$T/bad" <<'PY'
import struct, sys
TABLE, BLOCK, PAGE = 3, 1, 3
USER, RDONLY, AF, NG, SH = 1 << 6, 1 << 7, 1 << 10, 1 << 11, 3 << 8
DBM, PXN, UXN = 1 << 51, 1 << 53, 1 << 54
UXNT, APT1 = 1 << 60, 1 << 62
img = bytearray(0x5000)
def put(pa, e): struct.pack_into("<Q", img, pa, e)
put(0x1000, 0x2000 | TABLE); put(0x2000, 0x3000 | TABLE)
user_rw = USER | DBM | AF | NG | SH | PXN | UXN
put(0x3000 + 5 * 8, 0x9000 | PAGE | user_rw); put(0x3000 + 6 * 8, 0xa000 | PAGE | user_rw)
put(0x2008, 0x600000 | BLOCK | RDONLY | AF | SH | UXN)
put(0x1008, 0x80000000 | BLOCK | AF | SH | PXN | UXN | 1 << 2)
put(0x1010, 0x4000 | TABLE | UXNT | APT1); put(0x4000, 0x1000000 | BLOCK | USER | DBM | AF | NG | SH | PXN)
put(0x1000 + 511 * 8, 0xc0000000 | BLOCK | RDONLY | SH | UXN)
open(sys.argv[1], "wb").write(img)
put(0x1018, 0x80200000 | BLOCK | AF); put(0x3000 + 7 * 8, 0xb000 | BLOCK | AF)
open(sys.argv[2], "wb").write(img)
PY
check walk-39 0 "$V" walk --arch aarch64 --va-bits 39 --mem "$T/img" --root "TTBR0_EL1=0x0005000000001000"
contains walk-pages-merged '{"va":"0x5000","pa":"0x9000","size":"0x2000","flags":"rw- el0 accessed dirty attr0"}' "$T/out"
contains walk-2m '{"va":"0x200000","pa":"0x600000","size":"0x200000","flags":"r-x el1 global accessed attr0"}' "$T/out"
contains walk-1g '{"va":"0x40000000","pa":"0x80000000","size":"0x40000000","flags":"rw- el1 global accessed attr1"}' "$T/out"
contains walk-hierarchical '{"va":"0x80000000","pa":"0x1000000","size":"0x200000","flags":"r-- el0 accessed dirty attr0"}' "$T/out"
contains walk-ttbr1 '{"va":"0xffffffffc0000000","pa":"0xc0000000","size":"0x40000000","flags":"r-x el1 global attr0"}' "$T/out"
contains walk-summary ": 6 leaves, 5 regions" "$T/out"
check walk-bad 1 "$V" walk --arch aarch64 --va-bits 39 --mem "$T/bad" --root 0x1000
contains walk-misaligned "misaligned block at level 1" "$T/out"
contains walk-type-l3 "descriptor type 0b01 at level 3" "$T/out"
check walk-ttbr-misaligned 2 "$V" walk --arch aarch64 --va-bits 39 --mem "$T/img" --root 0x1800
contains walk-ttbr-misaligned-message "is not aligned to the 4096-byte level-0 table pair" "$T/out"
check walk-width-refused 2 "$V" walk --arch aarch64 --va-bits 40 --mem "$T/img" --root 0x1000
contains walk-width-refused-message "more than half a table page holds" "$T/out"
check list-archs 0 "$V" fuzz --list-archs
contains list-archs-aarch64 "aarch64: AArch64 VMSAv8-64" "$T/out"
# Differential fuzzing in lock step with the model.
check fuzz-clean 0 "$V" fuzz --impl aarch64 --ops 5000 --seed 2 --jobs 2
contains fuzz-summary "5000 ops in" "$T/out"
check fuzz-asid8 0 "$V" fuzz --impl aarch64 --asid-bits 8 --ops 2000 --seed 3
# Linux's allow-list applied to every table reports mprotect's UXN changes on live
# entries (Linux itself goes through a cleared entry there); the architecture allows them.
check fuzz-bbm-allow-list 1 "$V" fuzz --impl aarch64 --bbm 1 --ops 3000 --seed 4 --stop-at-first --out "$T/fb"
contains fuzz-bbm-allow-list-id "outside the pgattr_change_is_safe() mask" "$T/out"
THP=$("$V" fuzz --list-profiles | sed -n 's/^ *\([a-z0-9_-]*:thp\) .*/\1/p' | head -1)
if [ -n "$THP" ]; then
  check fuzz-thp-bbml2 0 "$V" fuzz --impl aarch64 --bbm 2 --profile "$THP" --ops 3000 --seed 2
  check fuzz-mutant-blocks 1 "$V" fuzz --impl aarch64 --bbm 2 --profile "$THP" --ops 50000 --seed 1 \
    --mutant tlbi-va-keeps-blocks --stop-at-first --out "$T/fx"
fi
check fuzz-mutant-dsb 1 "$V" fuzz --impl aarch64 --ops 50000 --seed 3 --mutant tlbi-without-dsb --stop-at-first --out "$T/fd"
contains fuzz-mutant-dsb-id "DIFF-TLB-2" "$T/out"
check fuzz-list-mutants 0 "$V" fuzz --list-mutants
contains fuzz-mutant-listed "uxn-pxn-swapped" "$T/out"
check bench-impl 0 "$V" bench --impl aarch64 --pages 2048 --runs 1 --fuzz-events 2000
contains bench-impl-map "map        P50" "$T/out"
# What the shared engine cannot build is refused by name, not run.
check fuzz-granule-refused 2 "$V" fuzz --impl aarch64 --granule 16 --ops 100
contains fuzz-granule-refused-text "builds tables in 4 KiB frames" "$T/out"
check fuzz-width-refused 2 "$V" fuzz --impl aarch64 --va-bits 39 --ops 1000
contains fuzz-width-refused-text "translates user addresses below" "$T/out"
# The format's arithmetic lemmas (Z3).
check prove-aarch64 0 "$V" prove --format aarch64
contains prove-aarch64-perm "LEM-A64-PERM-1" "$T/out"
finish
