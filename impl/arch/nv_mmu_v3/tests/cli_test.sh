#!/usr/bin/env bash
# The nv_mmu_v3 format from the command line: `vmref walk --arch nv_mmu_v3` on a small
# VRAM image built here from the VER3 field definitions ([NV-MMU3] gh100 dev_mmu.h: 4 KiB
# PTEs through the dual PDE's small half, a 2 MiB PTE at PD0, a 64 KiB page through the
# big half (ADDRESS_BIG 51:8, shift 8), a big PTE with PCF NO_VALID_4KB_PAGE hiding a small
# PTE, a sparse dual PDE), the PDB as --root, bad encodings reported, 256 GiB pages on
# Blackwell, differential fuzzing clean and catching format mutants, the bench, and the
# format's Z3 lemmas.
# Usage: cli_test.sh VMREF SOURCE_DIR
. "$2/conformance/tests/cli_lib.sh"

# PD4 0x1000 -> PD3 0x2000 -> PD2 0x3000 -> PD1 0x5000 -> PD0 0x4000 (16-byte dual PDEs).
# PD0[0]: small PT 0x7000, 4 KiB pages at VA 0x5000, 0x6000 (PA 0x9000, 0xa000).
# PD0[1]: a 2 MiB PTE for VA 0x200000 -> PA 0x600000, PCF RO | PRIVILEGE.
# PD0[2]: big PT 0x6100, small PT 0x8000: chunk 0 a 64 KiB page VA 0x400000 -> PA
#   0x800000; chunk 1 PCF 3 (no valid 4 KiB page) hiding the small PTE at VA 0x410000;
#   chunk 2 all zero, so the small PTE at VA 0x420000 shows.
# PD0[3]: sparse (both apertures 0, PCF_BIG SPARSE).
# BAD adds PD2[1]: IS_PTE at PD2 (256 GiB, Blackwell only) and PD0[4]: a misaligned 2 MiB PTE.
python3 - "$T/img" "$T/bad" <<'PY'
import struct, sys
img = bytearray(0x9000)
def put(pa, e): struct.pack_into("<Q", img, pa, e)
def pde(pa): return pa | 1 << 1                  # APERTURE 1 VIDEO, ADDRESS 51:12 in place
def big(pa): return pa | 1 << 1                  # ADDRESS_BIG 51:8 in place (shift 8)
def pte(pa, pcf=0): return pa | 1 | pcf << 3     # VALID, APERTURE 0 VIDEO_MEMORY, PCF 7:3
PRIV, RO = 2, 4                                  # valid-PTE PCF bits 1 and 2
put(0x1000, pde(0x2000)); put(0x2000, pde(0x3000)); put(0x3000, pde(0x5000)); put(0x5000, pde(0x4000))
put(0x4008, pde(0x7000))
put(0x7000 + 5 * 8, pte(0x9000)); put(0x7000 + 6 * 8, pte(0xa000))
put(0x4010, pte(0x600000, RO | PRIV))
put(0x4020, big(0x6100)); put(0x4028, pde(0x8000))
put(0x6100, pte(0x800000)); put(0x6108, 3 << 3)
put(0x8000 + 16 * 8, pte(0xb000)); put(0x8000 + 32 * 8, pte(0xc000))
put(0x4030, 1 << 3)
open(sys.argv[1], "wb").write(img)
put(0x3008, pte(0x4000000000)); put(0x4040, pte(0x801000))
open(sys.argv[2], "wb").write(img)
PY
check walk 0 "$V" walk --arch nv_mmu_v3 --mem "$T/img" --root PDB=0x1000
contains walk-4k-merged '{"va":"0x5000","pa":"0x9000","size":"0x2000","flags":"vid rw- user"}' "$T/out"
contains walk-2m '{"va":"0x200000","pa":"0x600000","size":"0x200000","flags":"vid r-- privileged"}' "$T/out"
contains walk-64k '{"va":"0x400000","pa":"0x800000","size":"0x10000","flags":"vid rw- user"}' "$T/out"
contains walk-u-state '{"va":"0x420000","pa":"0xc000","size":"0x1000","flags":"vid rw- user"}' "$T/out"
# The small PTE under the big PTE with PCF NO_VALID_4KB_PAGE is not listed.
if grep -qF '"0x410000"' "$T/out"; then echo "FAIL walk-i-state-hides"; fails=$((fails+1)); else echo "ok   walk-i-state-hides"; fi
contains walk-summary ": 5 leaves, 4 regions" "$T/out"
check walk-bad 1 "$V" walk --arch nv_mmu_v3 --mem "$T/bad" --root 0x1000
contains walk-no-256g "has no page size there" "$T/out"
contains walk-misaligned "misaligned large page" "$T/out"
check walk-blackwell-256g 1 "$V" walk --arch nv_mmu_v3 --gpu 100 --mem "$T/bad" --root 0x1000
contains walk-blackwell-256g-leaf '{"va":"0x4000000000","pa":"0x4000000000","size":"0x4000000000","flags":"vid rw- user"}' "$T/out"
check walk-pdb-unaligned 2 "$V" walk --arch nv_mmu_v3 --mem "$T/img" --root 0x1100
contains walk-pdb-unaligned-message "not 4 KiB aligned" "$T/out"
check walk-gpu-bad 2 "$V" walk --arch nv_mmu_v3 --gpu 75 --mem "$T/img" --root 0x1000
check list-archs 0 "$V" fuzz --list-archs
contains list-archs-nv "nv_mmu_v3: NVIDIA GMMU VER3" "$T/out"
check fuzz-clean 0 "$V" fuzz --impl nv_mmu_v3 --ops 5000 --seed 2 --jobs 2
contains fuzz-summary "5000 ops in" "$T/out"
check fuzz-blackwell 0 "$V" fuzz --impl nv_mmu_v3 --gpu 100 --ops 2000 --seed 3
THP=$("$V" fuzz --list-profiles | sed -n 's/^ *\([a-z0-9_-]*:thp\) .*/\1/p' | head -1)
if [ -n "$THP" ]; then
  check fuzz-thp 0 "$V" fuzz --impl nv_mmu_v3 --profile "$THP" --ops 3000 --seed 2
fi
check fuzz-mutant-pcf 1 "$V" fuzz --impl nv_mmu_v3 --ops 50000 --seed 1 --mutant nv3-pcf-priv-ro-swapped --stop-at-first --out "$T/fp"
contains fuzz-mutant-pcf-id "DIFF-" "$T/out"
check fuzz-mutant-ack 1 "$V" fuzz --impl nv_mmu_v3 --ops 50000 --seed 1 --mutant nv3-ack-none-complete --stop-at-first --out "$T/fa"
contains fuzz-mutant-ack-id "DIFF-TLB-2" "$T/out"
check bench-impl 0 "$V" bench --impl nv_mmu_v3 --pages 2048 --runs 1 --fuzz-events 2000
contains bench-impl-map "map        P50" "$T/out"
check prove-nv3 0 "$V" prove --format nv_mmu_v3
contains prove-nv3-va "LEM-NV3-VA-1" "$T/out"
finish
