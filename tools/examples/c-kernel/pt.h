/* A small page-table module in the style of a kernel's, that traces itself through
 * vmref/emit.h (README "Emitting a trace from C"; tools/examples/c-kernel/README.md).
 *
 * Freestanding: no libc, no allocation; its "physical memory" is a static array of
 * PT_NFRAMES page frames, and its page tables are two-level radix trees of 64-bit
 * entries in those frames (512 entries per table page, 4 KiB pages: a level-2 root covers
 * 1 GiB of VA, each level-1 table 2 MiB; the geometry of spec/vmm.md §1.8).
 *
 * Every function returns 0 or a negative PT_E* code, and, when pt_trace is set, writes
 * the mechanism steps it performed (spec/trace-format.md §3.1: frame_alloc, pt_root,
 * pt_link, vseg_insert, pte_set, pte_clear, tlb_flush, frame_put...) as one event group.
 *
 * Compile-time bugs, for the harness to catch (each alone):
 *   -DPT_BUG_NO_UNMAP_FLUSH   pt_unmap frees the frame without the TLB shootdown (INV-TLB-1)
 *   -DPT_BUG_NO_PROTECT_FLUSH pt_protect removes rights without the TLB shootdown (INV-TLB-3)
 */
#ifndef PT_H
#define PT_H

#include <stddef.h>
#include <stdint.h>

#include "vmref/emit.h"

#define PT_PAGE_SIZE 4096u
#define PT_ENTRIES 512u
#define PT_NFRAMES 64u
#define PT_VA_LIMIT (1ull << 30) /* a level-2 root covers 1 GiB */

/* Rights, as vmref writes them ("rw-"). */
#define PT_R 1u
#define PT_W 2u
#define PT_X 4u

#define PT_EINVAL (-1) /* unaligned, out of range, no region, or already mapped */
#define PT_ENOMEM (-2) /* no free frame */
#define PT_ENOENT (-3) /* nothing mapped there */
#define PT_ETRACE (-4) /* the trace's write callback failed */

/** One address space: its ID in the trace and its root table's frame. */
struct pt_space {
  unsigned id;
  unsigned root;
};

/** Where the module writes its trace; NULL: untraced. */
extern vmref_emitter *pt_trace;

/** Resets the frame allocator (frame 0 is never handed out). */
void pt_boot(void);
/** A new address space with an empty root table. */
int pt_space_create(struct pt_space *s, unsigned id);
/** Frees every table and mapped frame of the space (flushing it first). */
int pt_space_destroy(struct pt_space *s);
/** Declares a region [va, va+len) with rights `prot` (a vseg): pages may be mapped there. */
int pt_region(struct pt_space *s, uint64_t va, uint64_t len, unsigned prot);
/** Removes the region starting at va (its pages must be unmapped already). */
int pt_region_remove(struct pt_space *s, uint64_t va);
/** Maps a fresh zeroed frame at page `va` with rights `prot`. */
int pt_map(struct pt_space *s, uint64_t va, unsigned prot);
/** Changes the rights of the page at va; removing rights flushes the TLB. */
int pt_protect(struct pt_space *s, uint64_t va, unsigned prot);
/** Unmaps the page at va: clears the PTE, shoots the TLB down, frees the frame. */
int pt_unmap(struct pt_space *s, uint64_t va);
/** CPU `cpu` loads the space's root (CR3/satp/TTBR): its TLB may now cache its entries. */
int pt_switch(struct pt_space *s, unsigned cpu);
/** Walks the tables: the physical address va maps to, or 0 when unmapped. */
uint64_t pt_translate(const struct pt_space *s, uint64_t va);
/** Traces what the module holds for the space (an `observe` event): its regions as the
 *  whole VSL, and each page of [va, va+len) with whether it is mapped, its rights and its
 *  frame's label. At most PT_OBSERVE_PAGES pages (else PT_EINVAL). vmref compares it with
 *  the model's state (EXPECT-VSL, EXPECT-PAGES). */
#define PT_OBSERVE_PAGES 16u
int pt_observe(const struct pt_space *s, uint64_t va, uint64_t len);
/** Frames in use (tables and data), for the driver's checks. */
unsigned pt_frames_used(void);

#endif
