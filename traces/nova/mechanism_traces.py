#!/usr/bin/env python3
"""Writes into traces/scenarios/nova/ the nova kernel's mechanism-level scenario traces (spec/kernels/nova.md §15):
recorded map/unmap code paths on MMU v2 and v3 with raw PDE and PTE words, and one
violation per call or state invariant the steps can break. Run from anywhere:
python3 traces/nova/mechanism_traces.py"""
import json, sys
import os
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scenarios', 'nova') + '/'
def h(v): return hex(v)
class T:
    def __init__(s, mmu, source, expected):
        s.mmu = mmu
        hdr = {"vmref_trace":1,"profile":"nova:fixed","cpus":1}
        if mmu == 3: hdr["params"] = {"mmu":3}
        hdr["provenance"] = {"source": source, "expected": expected}
        s.lines = [hdr]
    def ev(s, op, cont=False, expect=None, **kw):
        d = {"op": op}
        for k, v in kw.items():
            d[k] = h(v) if isinstance(v, int) and not isinstance(v, bool) and k not in ("as", "level") else v
        if cont: d["cont"] = True
        if expect is not None: d["expect"] = expect
        s.lines.append(d)
    def pde(s, P): return (P << 8) | 2 if s.mmu == 2 else (P << 12) | 2      # aperture VIDEO (1) at 2:1
    def big(s, addr): return ((addr >> 8) << 4) | 2 if s.mmu == 2 else ((addr >> 8) << 8) | 2
    def pte(s, pfn, ro=False):
        if s.mmu == 2: return (pfn << 8) | 1 | (0x40 if ro else 0)            # VALID, READ_ONLY bit 6
        return (pfn << 12) | 0x80 | 1 | (0x20 if ro else 0)                   # VALID, PCF ACD (bit 7), RO (bit 5)
    def write(s, name):
        with open(OUT + name, 'w') as f:
            for l in s.lines: f.write(json.dumps(l, separators=(',', ':'), ensure_ascii=False) + '\n')

def levels(mmu): return 5 if mmu == 2 else 6     # PDB .. PT
def shifts(mmu):  # VA bit of each level's index, PDB first
    return [47, 38, 29, 21, 12] if mmu == 2 else [56, 47, 38, 29, 21, 12]
def index(mmu, level, va):
    sh = shifts(mmu); n = levels(mmu)
    width = [2, 9, 9, 8, 9] if mmu == 2 else [1, 9, 9, 9, 8, 9]
    return (va >> sh[level]) & ((1 << width[level]) - 1)
def esize(mmu, level): return 16 if level == levels(mmu) - 2 else 8

def build_path(t, base, va, call_cont=True):
    """prepare: table pages base+1.. for levels 1..PT, each allocated and zeroed."""
    n = levels(t.mmu)
    for l in range(1, n):
        t.ev("nova_pt_alloc", True, **{"as": 1, "pfn": base + l, "level": l})
        t.ev("nova_pt_zero", True, **{"as": 1, "pfn": base + l})
def link_path(t, base, va):
    n = levels(t.mmu)
    for l in range(0, n - 1):
        slot = ((base + l) << 12) + index(t.mmu, l, va) * esize(t.mmu, l)
        if l == n - 2: slot += 8      # the dual PDE's small half is its upper word
        t.ev("nova_pde_write", True, **{"as": 1, "addr": slot, "value": t.pde(base + l + 1)})
def pt_slot(t, base, va): return ((base + levels(t.mmu) - 1) << 12) + index(t.mmu, levels(t.mmu) - 1, va) * 8

def recorded(mmu):
    base, va = 0x20000, 0x200000
    t = T(mmu, f"generated (traces/nova/mechanism_traces.py): map_pages and unmap_pages of 2 pages at VA 0x200000 on MMU v{mmu} "
               "as nova:fixed performs them (ACK GLOBALLY; the seed's Tlb::flush uses ACK NONE_REQUIRED), recorded step by step (mechanism level, spec/kernels/nova.md §15): the VA allocation, each table page "
               "allocated and zeroed by prepare, each PDE (the dual PDE's small half at +8) and PTE written raw by execute, "
               "one ALL_VA invalidate with ACK GLOBALLY started and completed, accesses checked against the raw PTEs, "
               "then the unmap", {"verdict": "clean"})
    t.ev("as_create", **{"as": 1})
    t.ev("nova_new", **{"as": 1, "pdb": base})
    t.ev("nova_call", True, **{"as": 1, "call": "prepare"})
    t.ev("nova_va_alloc", True, **{"as": 1, "va": va, "size": 0x2000})
    build_path(t, base, va)
    t.lines[-1].pop("cont")
    t.ev("nova_call", True, **{"as": 1, "call": "execute"})
    link_path(t, base, va)
    t.ev("nova_pte_write", True, **{"as": 1, "addr": pt_slot(t, base, va), "value": t.pte(0x30000)})
    t.ev("nova_pte_write", True, **{"as": 1, "addr": pt_slot(t, base, va + 0x1000), "value": t.pte(0x30001, ro=True)})
    t.ev("nova_flush_start", True, **{"as": 1})
    t.ev("nova_flush_done", **{"as": 1})
    t.ev("nova_access", expect={"ret": h(0x30000010)}, **{"as": 1, "va": va + 0x10})
    t.ev("nova_access", expect={"ret": h(0x30001000)}, **{"as": 1, "va": va + 0x1000})
    t.ev("nova_access", expect={"errno": "EACCES"}, **{"as": 1, "va": va + 0x1000, "kind": "write"})
    t.ev("nova_access", expect={"errno": "EFAULT"}, **{"as": 1, "va": va + 0x2000})
    t.ev("nova_call", True, **{"as": 1, "call": "unmap"})
    for k in range(2): t.ev("nova_pte_write", True, **{"as": 1, "addr": pt_slot(t, base, va + k * 0x1000), "value": 0})
    t.ev("nova_flush_start", True, **{"as": 1})
    t.ev("nova_flush_done", True, **{"as": 1})
    t.ev("nova_va_free", **{"as": 1, "va": va})
    t.ev("nova_access", expect={"errno": "EFAULT"}, **{"as": 1, "va": va})
    t.ev("nova_drop", **{"as": 1})
    t.ev("as_destroy", **{"as": 1})
    return t

recorded(2).write('mechanism-recorded-map-unmap.jsonl')
recorded(3).write('v3-mechanism-recorded-map-unmap.jsonl')

def prefix(source, ids):
    t = T(2, source, {"verdict": "findings", "ids": ids})
    t.ev("as_create", **{"as": 1})
    t.ev("nova_new", **{"as": 1, "pdb": 0x20000})
    return t
base, va = 0x20000, 0x200000

def map_one_page(t):
    """One group: VA page `va` allocated, its table path built and linked, its PTE written
    (PFN 0x30000) and an ALL_VA invalidate started and completed."""
    t.ev("nova_va_alloc", True, **{"as": 1, "va": va, "size": 0x1000})
    build_path(t, base, va)
    link_path(t, base, va)
    t.ev("nova_pte_write", True, **{"as": 1, "addr": pt_slot(t, base, va), "value": t.pte(0x30000)})
    t.ev("nova_flush_start", True, **{"as": 1})
    t.ev("nova_flush_done", **{"as": 1})

# INV-NOVA-1: execute allocates the leaf page table itself.
t = prefix("generated (traces/nova/mechanism_traces.py), mechanism level: an execute_map that allocates and zeroes the table pages "
           "of its path (PD2 down to the leaf page table) itself instead of taking them from prepare, recorded inside a nova_call bracket (spec/kernels/nova.md §15)", ["INV-NOVA-1"])
t.ev("nova_va_alloc", **{"as": 1, "va": va, "size": 0x1000})
t.ev("nova_call", True, **{"as": 1, "call": "execute"})
build_path(t, base, va)
link_path(t, base, va)
t.ev("nova_pte_write", True, **{"as": 1, "addr": pt_slot(t, base, va), "value": t.pte(0x30000)})
t.ev("nova_flush_start", True, **{"as": 1})
t.ev("nova_flush_done", **{"as": 1})
t.write('mechanism-execute-allocates.jsonl')

# INV-NOVA-4: a PDE points at a page never zeroed.
t = prefix("generated (traces/nova/mechanism_traces.py), mechanism level: the PD2 page is allocated but never zeroed before the PDB's PDE points "
           "at it (N5: alloc_and_zero_page_table's zeroing skipped)", ["INV-NOVA-4"])
t.ev("nova_pt_alloc", True, **{"as": 1, "pfn": base + 1, "level": 1})
t.ev("nova_pde_write", **{"as": 1, "addr": base << 12, "value": t.pde(base + 1)})
t.write('mechanism-pde-to-unzeroed-page.jsonl')

# INV-NOVA-5: the VA range is freed while the invalidate is still in flight.
t = prefix("generated (traces/nova/mechanism_traces.py), mechanism level: after a map, the driver clears the PTE and starts an ACK GLOBALLY invalidate "
           "(an unmap, recorded without a call bracket), but frees the VA range before the invalidate completed; the GPU TLB may still hold the translation then (N7). "
           "The same steps with nova_flush_done before nova_va_free are clean (mechanism-recorded-map-unmap.jsonl)",
           ["INV-NOVA-5"])
map_one_page(t)
t.ev("nova_pte_write", True, **{"as": 1, "addr": pt_slot(t, base, va), "value": 0})
t.ev("nova_flush_start", True, **{"as": 1})
t.ev("nova_va_free", **{"as": 1, "va": va})
t.ev("nova_flush_done", **{"as": 1})
t.write('mechanism-va-freed-before-flush-done.jsonl')

# INV-NOVA-8: the small half written as a whole 16-byte dual PDE clears the big half.
t = prefix("generated (traces/nova/mechanism_traces.py), mechanism level: a big page table hangs from the big half of the dual PDE (allocated "
           "for the VMM, standing for another user of it as nova_set_big does); the driver then writes the dual PDE as DualPde::new_small builds it, zero in the big half (P7)", ["INV-NOVA-8"])
n = levels(2)
for l in range(1, n - 1):
    t.ev("nova_pt_alloc", True, **{"as": 1, "pfn": base + l, "level": l})
    t.ev("nova_pt_zero", True, **{"as": 1, "pfn": base + l})
for l in range(0, n - 2):
    t.ev("nova_pde_write", True, **{"as": 1, "addr": ((base + l) << 12) + index(2, l, va) * 8, "value": t.pde(base + l + 1)})
dual = ((base + n - 2) << 12) + index(2, n - 2, va) * 16
t.ev("nova_pt_alloc", True, **{"as": 1, "pfn": base + 8, "level": n - 1, "big": True})
t.ev("nova_pt_zero", True, **{"as": 1, "pfn": base + 8})
t.ev("nova_pde_write", **{"as": 1, "addr": dual, "value": t.big((base + 8) << 12)})
t.ev("nova_pt_alloc", True, **{"as": 1, "pfn": base + n - 1, "level": n - 1})
t.ev("nova_pt_zero", True, **{"as": 1, "pfn": base + n - 1})
t.ev("nova_pde_write", True, **{"as": 1, "addr": dual, "value": 0})
t.ev("nova_pde_write", **{"as": 1, "addr": dual + 8, "value": t.pde(base + n - 1)})
t.write('mechanism-small-half-clears-big.jsonl')

# INV-NOVA-7: an unmap that returns after two flushes.
t = prefix("generated (traces/nova/mechanism_traces.py), mechanism level: an unmap_pages bracket that returns ok after two PDB invalidates "
           "instead of one (N3)", ["INV-NOVA-7"])
map_one_page(t)
t.ev("nova_call", True, **{"as": 1, "call": "unmap"})
t.ev("nova_pte_write", True, **{"as": 1, "addr": pt_slot(t, base, va), "value": 0})
for k in range(2):
    t.ev("nova_flush_start", True, **{"as": 1})
    t.ev("nova_flush_done", True, **{"as": 1})
t.ev("nova_va_free", **{"as": 1, "va": va})
t.write('mechanism-unmap-flushes-twice.jsonl')

# INV-NOVA-5: the invalidate is triggered before the PTE is cleared.
t = prefix("generated (traces/nova/mechanism_traces.py), mechanism level: the driver triggers the ACK GLOBALLY invalidate, then "
           "clears the PTE, waits for completion and frees the VA range. The GPU may refill the translation between the trigger "
           "and the clear, after the invalidate passed it: the completed invalidate does not guarantee its removal (§15)",
           ["INV-NOVA-5"])
map_one_page(t)
t.ev("nova_flush_start", True, **{"as": 1})
t.ev("nova_pte_write", True, **{"as": 1, "addr": pt_slot(t, base, va), "value": 0})
t.ev("nova_flush_done", True, **{"as": 1})
t.ev("nova_va_free", **{"as": 1, "va": va})
t.write('mechanism-pte-cleared-after-flush-start.jsonl')
