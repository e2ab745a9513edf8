#!/usr/bin/env bash
# The nv_mmu_v2 format from the command line: `vmref walk --arch nv_mmu_v2` on a small
# VRAM image built here from the VER2 field definitions ([NV-MMU2] dev_mmu.h: 4 KiB
# PTEs through the dual PDE's small half, a 2 MiB PTE at PD0, a 64 KiB page through the
# big half with shift 8, an I-state big PTE hiding a small PTE, a sparse dual PDE), the
# PDB as --root, bad encodings reported, the format listed, differential fuzzing clean
# and catching format mutants, the bench, and the format's Z3 lemmas.
# Usage: cli_test.sh VMREF SOURCE_DIR
. "$2/conformance/tests/cli_lib.sh"

# PD3 0x1000 -> PD2 0x2000 -> PD1 0x3000 -> PD0 0x4000 (16-byte dual PDEs).
# PD0[0]: small PT 0x7000 with 4 KiB pages at VA 0x5000, 0x6000 (PA 0x9000, 0xa000).
# PD0[1]: a 2 MiB PTE (IS_PTE) for VA 0x200000 -> PA 0x600000, read-only, privileged.
# PD0[2]: big PT 0x6100 (shift 8) and small PT 0x8000: chunk 0 a 64 KiB page at VA
#   0x400000 -> PA 0x800000; chunk 1 in state I (PRIVILEGE), hiding the small PTE at VA
#   0x410000; chunk 2 unmapped (all zero), so the small PTE at VA 0x420000 shows.
# PD0[3]: sparse (both apertures 0, VOL_BIG).
# BAD adds PD1[1]: IS_PTE at PD1 (no 512 MiB page on Turing) and PD0[4]: a misaligned
# 2 MiB PTE.
python3 - "$T/img" "$T/bad" <<'PY'
import struct, sys
img = bytearray(0x9000)
def put(pa, e): struct.pack_into("<Q", img, pa, e)
def pde(pa): return (pa >> 12) << 8 | 1 << 1          # APERTURE 1 VIDEO, ADDRESS_VID 32:8
def big(pa): return (pa >> 8) << 4 | 1 << 1           # ADDRESS_BIG_VID 32:4, shift 8
def pte(pa, bits=0): return (pa >> 12) << 8 | 1 | bits  # VALID, APERTURE 0 VIDEO_MEMORY
PRIV, RO, VOL = 1 << 5, 1 << 6, 1 << 3
put(0x1000, pde(0x2000)); put(0x2000, pde(0x3000)); put(0x3000, pde(0x4000))
put(0x4008, pde(0x7000))
put(0x7000 + 5 * 8, pte(0x9000)); put(0x7000 + 6 * 8, pte(0xa000))
put(0x4010, pte(0x600000, RO | PRIV))
put(0x4020, big(0x6100)); put(0x4028, pde(0x8000))
put(0x6100, pte(0x800000)); put(0x6108, PRIV)
put(0x8000 + 16 * 8, pte(0xb000)); put(0x8000 + 32 * 8, pte(0xc000))
put(0x4030, VOL)
open(sys.argv[1], "wb").write(img)
put(0x3008, pte(0x20000000)); put(0x4040, pte(0x801000))
open(sys.argv[2], "wb").write(img)
PY
check walk 0 "$V" walk --arch nv_mmu_v2 --mem "$T/img" --root PDB=0x1000
contains walk-4k-merged '{"va":"0x5000","pa":"0x9000","size":"0x2000","flags":"vid rw- user"}' "$T/out"
contains walk-2m '{"va":"0x200000","pa":"0x600000","size":"0x200000","flags":"vid r-- privileged"}' "$T/out"
contains walk-64k '{"va":"0x400000","pa":"0x800000","size":"0x10000","flags":"vid rw- user"}' "$T/out"
contains walk-u-state '{"va":"0x420000","pa":"0xc000","size":"0x1000","flags":"vid rw- user"}' "$T/out"
# The small PTE under the I-state big PTE is not listed.
if grep -qF '"0x410000"' "$T/out"; then echo "FAIL walk-i-state-hides"; fails=$((fails+1)); else echo "ok   walk-i-state-hides"; fi
contains walk-summary ": 5 leaves, 4 regions" "$T/out"
check walk-bad 1 "$V" walk --arch nv_mmu_v2 --mem "$T/bad" --root 0x1000
contains walk-no-512m "has no page size there" "$T/out"
contains walk-misaligned "misaligned large page" "$T/out"
check walk-ampere-512m 1 "$V" walk --arch nv_mmu_v2 --gpu 86 --mem "$T/bad" --root 0x1000
contains walk-ampere-512m-leaf '{"va":"0x20000000","pa":"0x20000000","size":"0x20000000","flags":"vid rw- user"}' "$T/out"
check walk-pdb-unaligned 2 "$V" walk --arch nv_mmu_v2 --mem "$T/img" --root 0x1100
contains walk-pdb-unaligned-message "not 4 KiB aligned" "$T/out"
check walk-gpu-bad 2 "$V" walk --arch nv_mmu_v2 --gpu 90 --mem "$T/img" --root 0x1000
check list-archs 0 "$V" fuzz --list-archs
contains list-archs-nv "nv_mmu_v2: NVIDIA GMMU VER2" "$T/out"
# Differential fuzzing in lock step with the model, on Turing and Ampere.
check fuzz-clean 0 "$V" fuzz --impl nv_mmu_v2 --ops 5000 --seed 2 --jobs 2
contains fuzz-summary "5000 ops in" "$T/out"
check fuzz-ampere 0 "$V" fuzz --impl nv_mmu_v2 --gpu 86 --ops 2000 --seed 3
THP=$("$V" fuzz --list-profiles | sed -n 's/^ *\([a-z0-9_-]*:thp\) .*/\1/p' | head -1)
if [ -n "$THP" ]; then
  check fuzz-thp 0 "$V" fuzz --impl nv_mmu_v2 --profile "$THP" --ops 3000 --seed 2
  check fuzz-mutant-2m 1 "$V" fuzz --impl nv_mmu_v2 --profile "$THP" --ops 50000 --seed 1 \
    --mutant nv2-targeted-keeps-2m --stop-at-first --out "$T/fx"
fi
check fuzz-mutant-ro 1 "$V" fuzz --impl nv_mmu_v2 --ops 50000 --seed 1 --mutant nv2-read-only-ignored --stop-at-first --out "$T/fr"
contains fuzz-mutant-ro-id "DIFF-" "$T/out"
check fuzz-list-mutants 0 "$V" fuzz --list-mutants
contains fuzz-mutant-listed "nv2-small-half-shift-8" "$T/out"
check bench-impl 0 "$V" bench --impl nv_mmu_v2 --pages 2048 --runs 1 --fuzz-events 2000
contains bench-impl-map "map        P50" "$T/out"
# The format's arithmetic lemmas (Z3).
check prove-nv2 0 "$V" prove --format nv_mmu_v2
contains prove-nv2-dual "LEM-NV2-DUAL-1" "$T/out"
finish
