/* A freestanding two-level page-table module that traces itself (pt.h). Only
 * <stddef.h>, <stdint.h> and vmref/emit.h: no libc, no allocation. */
#include "pt.h"

vmref_emitter *pt_trace;

/* Entry bits: present, writable, user, no-execute; the frame's address in bits 12..51. */
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define MAX_REGIONS 16u

static uint64_t frames[PT_NFRAMES][PT_ENTRIES]; /* "physical memory": frame n at PA n*4096 */
static unsigned char frame_used[PT_NFRAMES];
static unsigned frame_allocs[PT_NFRAMES]; /* times each frame was allocated: its allocation's number */

static struct region {
  unsigned space, prot, used;
  uint64_t start, end;
} regions[MAX_REGIONS];

/* ---- tracing ---------------------------------------------------------------------- */

/* A frame's label in the trace's events: "f" and its number, reused once the frame was
 * freed. An observation names the allocation, "f5.2" for frame 5's second allocation, so
 * that a reader of the trace tells a reallocated frame from the old one (§3.5). */
struct label {
  char s[24];
};
static int put_decimal(char *s, int i, unsigned v) {
  char digits[10];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) s[i++] = digits[--n];
  return i;
}
static struct label label_of(unsigned frame) {
  struct label l;
  int i = 0;
  l.s[i++] = 'f';
  i = put_decimal(l.s, i, frame);
  l.s[i] = 0;
  return l;
}
static struct label allocation_label(unsigned frame) {
  struct label l = label_of(frame);
  int i = 0;
  while (l.s[i]) ++i;
  l.s[i++] = '.';
  i = put_decimal(l.s, i, frame_allocs[frame]);
  l.s[i] = 0;
  return l;
}

static const char *prot_string(unsigned prot) {
  static const char *const names[8] = {"---", "r--", "-w-", "rw-", "--x", "r-x", "-wx", "rwx"};
  return names[prot & 7u];
}

static int traced(int err) { return err ? PT_ETRACE : 0; }

static int t_frame(unsigned frame, int alloc, int cont) {
  struct label l = label_of(frame);
  if (!pt_trace) return 0;
  if (alloc) {
    vmref_frame_alloc a = {0};
    a.frame = l.s;
    a.cont = cont;
    return traced(vmref_emit_frame_alloc(pt_trace, &a));
  } else {
    vmref_frame_put a = {0};
    a.frame = l.s;
    a.cont = cont;
    return traced(vmref_emit_frame_put(pt_trace, &a));
  }
}

/* The TLB shootdown: on hardware, INVLPG here and an IPI to every CPU that has the space
 * loaded; in this hosted module there is no TLB, so it is only the trace's event. */
static int tlb_shootdown(const struct pt_space *s, uint64_t va, uint64_t len, int cont) {
  vmref_tlb_flush f = {0};
  if (!pt_trace) return 0;
  f.scope = "range";
  f.has_as = 1, f.as = s->id;
  f.has_va = 1, f.va = va;
  f.has_len = 1, f.len = len;
  f.cont = cont;
  return traced(vmref_emit_tlb_flush(pt_trace, &f));
}

static int t_pte_clear(const struct pt_space *s, uint64_t va, int cont) {
  vmref_pte_clear c = {0};
  if (!pt_trace) return 0;
  c.as = s->id;
  c.va = va;
  c.cont = cont;
  return traced(vmref_emit_pte_clear(pt_trace, &c));
}

/* ---- frames and tables ------------------------------------------------------------- */

static int frame_alloc(void) {
  unsigned i, j;
  for (i = 1; i < PT_NFRAMES; ++i) {
    if (!frame_used[i]) {
      frame_used[i] = 1;
      ++frame_allocs[i];
      for (j = 0; j < PT_ENTRIES; ++j) frames[i][j] = 0;
      return (int)i;
    }
  }
  return PT_ENOMEM;
}

static void frame_free(unsigned frame) { frame_used[frame] = 0; }

static unsigned pfn_of(uint64_t entry) { return (unsigned)((entry & PTE_ADDR) / PT_PAGE_SIZE); }
static unsigned l2_index(uint64_t va) { return (unsigned)(va >> 21) & (PT_ENTRIES - 1); }
static unsigned l1_index(uint64_t va) { return (unsigned)(va >> 12) & (PT_ENTRIES - 1); }

static uint64_t leaf_bits(unsigned pfn, unsigned prot) {
  uint64_t e = PTE_P | PTE_U | ((uint64_t)pfn * PT_PAGE_SIZE);
  if (prot & PT_W) e |= PTE_W;
  if (!(prot & PT_X)) e |= PTE_NX;
  return e;
}

static unsigned rights_of(uint64_t entry) {
  unsigned p = PT_R;
  if (entry & PTE_W) p |= PT_W;
  if (!(entry & PTE_NX)) p |= PT_X;
  return p;
}

/* The leaf entry of va, or NULL when its level-1 table is absent. */
static uint64_t *leaf_slot(const struct pt_space *s, uint64_t va) {
  uint64_t l2 = frames[s->root][l2_index(va)];
  if (!(l2 & PTE_P)) return NULL;
  return &frames[pfn_of(l2)][l1_index(va)];
}

static const struct region *region_at(const struct pt_space *s, uint64_t va) {
  unsigned i;
  for (i = 0; i < MAX_REGIONS; ++i)
    if (regions[i].used && regions[i].space == s->id && regions[i].start <= va && va < regions[i].end) return &regions[i];
  return NULL;
}

/* ---- the module's operations --------------------------------------------------------- */

void pt_boot(void) {
  unsigned i;
  for (i = 0; i < PT_NFRAMES; ++i) frame_used[i] = 0;
  for (i = 0; i < MAX_REGIONS; ++i) regions[i].used = 0;
}

unsigned pt_frames_used(void) {
  unsigned i, n = 0;
  for (i = 0; i < PT_NFRAMES; ++i) n += frame_used[i];
  return n;
}

int pt_space_create(struct pt_space *s, unsigned id) {
  int root = frame_alloc(), err = 0;
  if (root < 0) return root;
  s->id = id;
  s->root = (unsigned)root;
  if (pt_trace) {
    struct label l = label_of(s->root);
    vmref_as_create c = {0};
    vmref_pt_root r = {0};
    c.as = id;
    c.cont = 1;
    err = traced(vmref_emit_as_create(pt_trace, &c));
    if (!err) err = t_frame(s->root, 1, 1);
    r.as = id;
    r.level = 2;
    r.table = l.s;
    if (!err) err = traced(vmref_emit_pt_root(pt_trace, &r));
  }
  return err;
}

int pt_region(struct pt_space *s, uint64_t va, uint64_t len, unsigned prot) {
  unsigned i;
  if (va % PT_PAGE_SIZE || len % PT_PAGE_SIZE || !len || va + len > PT_VA_LIMIT || va + len < va) return PT_EINVAL;
  for (i = 0; i < MAX_REGIONS; ++i)
    if (regions[i].used && regions[i].space == s->id && va < regions[i].end && regions[i].start < va + len) return PT_EINVAL;
  for (i = 0; i < MAX_REGIONS; ++i)
    if (!regions[i].used) break;
  if (i == MAX_REGIONS) return PT_ENOMEM;
  regions[i].used = 1;
  regions[i].space = s->id;
  regions[i].start = va;
  regions[i].end = va + len;
  regions[i].prot = prot;
  if (pt_trace) {
    vmref_vseg_insert v = {0};
    v.as = s->id;
    v.start = va;
    v.end = va + len;
    v.prot = prot_string(prot);
    v.kind = "anon";
    return traced(vmref_emit_vseg_insert(pt_trace, &v));
  }
  return 0;
}

int pt_region_remove(struct pt_space *s, uint64_t va) {
  unsigned i;
  uint64_t p;
  for (i = 0; i < MAX_REGIONS; ++i) {
    if (!regions[i].used || regions[i].space != s->id || regions[i].start != va) continue;
    for (p = regions[i].start; p < regions[i].end; p += PT_PAGE_SIZE) {
      const uint64_t *slot = leaf_slot(s, p);
      if (slot && (*slot & PTE_P)) return PT_EINVAL; /* still mapped */
    }
    regions[i].used = 0;
    if (pt_trace) {
      vmref_vseg_remove r = {0};
      r.as = s->id;
      r.start = va;
      return traced(vmref_emit_vseg_remove(pt_trace, &r));
    }
    return 0;
  }
  return PT_ENOENT;
}

int pt_map(struct pt_space *s, uint64_t va, unsigned prot) {
  const struct region *r = region_at(s, va);
  uint64_t *l2 = &frames[s->root][l2_index(va)];
  uint64_t *slot;
  int data, err = 0;
  if (va % PT_PAGE_SIZE || !r || (prot & ~r->prot)) return PT_EINVAL;
  if (!(*l2 & PTE_P)) {
    int table = frame_alloc();
    if (table < 0) return table;
    *l2 = PTE_P | PTE_W | PTE_U | ((uint64_t)table * PT_PAGE_SIZE);
    if (pt_trace) {
      struct label l = label_of((unsigned)table);
      vmref_pt_link k = {0};
      k.as = s->id;
      k.va = va & ~((uint64_t)PT_PAGE_SIZE * PT_ENTRIES - 1);
      k.level = 1;
      k.table = l.s;
      k.cont = 1;
      err = t_frame((unsigned)table, 1, 1);
      if (!err) err = traced(vmref_emit_pt_link(pt_trace, &k));
      if (err) return err;
    }
  }
  slot = &frames[pfn_of(*l2)][l1_index(va)];
  if (*slot & PTE_P) return PT_EINVAL;
  data = frame_alloc();
  if (data < 0) return data;
  *slot = leaf_bits((unsigned)data, prot);
  if (pt_trace) {
    struct label l = label_of((unsigned)data);
    vmref_pte_set p = {0};
    p.as = s->id;
    p.va = va;
    p.frame = l.s;
    p.prot = prot_string(prot);
    err = t_frame((unsigned)data, 1, 1);
    if (!err) err = traced(vmref_emit_pte_set(pt_trace, &p));
  }
  return err;
}

int pt_protect(struct pt_space *s, uint64_t va, unsigned prot) {
  const struct region *r = region_at(s, va);
  uint64_t *slot = leaf_slot(s, va);
  unsigned old;
  int err = 0;
  if (va % PT_PAGE_SIZE || !r || (prot & ~r->prot) || !(prot & PT_R)) return PT_EINVAL;
  if (!slot || !(*slot & PTE_P)) return PT_ENOENT;
  old = rights_of(*slot);
  *slot = leaf_bits(pfn_of(*slot), prot);
  if (pt_trace) {
    struct label l = label_of(pfn_of(*slot));
    vmref_pte_set p = {0};
    int reduces = (old & ~prot) != 0;
#ifdef PT_BUG_NO_PROTECT_FLUSH
    reduces = 0; /* the bug: rights removed, other CPUs' TLBs keep the old ones */
#endif
    p.as = s->id;
    p.va = va;
    p.frame = l.s;
    p.prot = prot_string(prot);
    p.cont = reduces;
    err = traced(vmref_emit_pte_set(pt_trace, &p));
    /* Rights removed: other CPUs may still hold the old ones until the shootdown. */
    if (!err && reduces) err = tlb_shootdown(s, va, PT_PAGE_SIZE, 0);
  }
  return err;
}

int pt_unmap(struct pt_space *s, uint64_t va) {
  uint64_t *slot = leaf_slot(s, va);
  unsigned data;
  int err = 0;
  if (va % PT_PAGE_SIZE) return PT_EINVAL;
  if (!slot || !(*slot & PTE_P)) return PT_ENOENT;
  data = pfn_of(*slot);
  *slot = 0;
  err = t_pte_clear(s, va, 1);
#ifndef PT_BUG_NO_UNMAP_FLUSH
  if (!err) err = tlb_shootdown(s, va, PT_PAGE_SIZE, 1);
#endif
  frame_free(data);
  if (!err) err = t_frame(data, 0, 0);
  return err;
}

int pt_switch(struct pt_space *s, unsigned cpu) {
  if (pt_trace) {
    struct label l = label_of(s->root);
    vmref_switch w = {0};
    w.cpu = cpu;
    w.as = s->id;
    w.root = l.s;
    return traced(vmref_emit_switch(pt_trace, &w));
  }
  return 0;
}

uint64_t pt_translate(const struct pt_space *s, uint64_t va) {
  const uint64_t *slot = leaf_slot(s, va);
  if (!slot || !(*slot & PTE_P)) return 0;
  return (*slot & PTE_ADDR) | (va & (PT_PAGE_SIZE - 1));
}

int pt_space_destroy(struct pt_space *s) {
  unsigned i, j, freed[PT_NFRAMES], n = 0;
  int err = 0;
  /* Clear every leaf and unlink every table, flush the whole space once, then free. */
  for (i = 0; i < PT_ENTRIES && !err; ++i) {
    uint64_t *l2 = &frames[s->root][i];
    uint64_t base = (uint64_t)i * PT_PAGE_SIZE * PT_ENTRIES;
    if (!(*l2 & PTE_P)) continue;
    for (j = 0; j < PT_ENTRIES && !err; ++j) {
      uint64_t *leaf = &frames[pfn_of(*l2)][j];
      if (!(*leaf & PTE_P)) continue;
      freed[n++] = pfn_of(*leaf);
      *leaf = 0;
      err = t_pte_clear(s, base + (uint64_t)j * PT_PAGE_SIZE, 1);
    }
    freed[n++] = pfn_of(*l2);
    *l2 = 0;
    if (pt_trace && !err) {
      vmref_pt_unlink u = {0};
      u.as = s->id;
      u.va = base;
      u.level = 1;
      u.cont = 1;
      err = traced(vmref_emit_pt_unlink(pt_trace, &u));
    }
  }
  for (i = 0; i < MAX_REGIONS; ++i)
    if (regions[i].used && regions[i].space == s->id) {
      regions[i].used = 0;
      if (pt_trace && !err) {
        vmref_vseg_remove r = {0};
        r.as = s->id;
        r.start = regions[i].start;
        r.cont = 1;
        err = traced(vmref_emit_vseg_remove(pt_trace, &r));
      }
    }
  if (pt_trace && !err) {
    vmref_tlb_flush f = {0};
    f.scope = "all";
    f.cont = 1; /* one group to the end: the frames are freed before anything is checked */
    err = traced(vmref_emit_tlb_flush(pt_trace, &f));
  }
  for (i = 0; i < n; ++i) {
    frame_free(freed[i]);
    if (!err) err = t_frame(freed[i], 0, 1);
  }
  frame_free(s->root);
  if (pt_trace && !err) {
    vmref_as_destroy d = {0};
    d.as = s->id;
    d.cont = 1;
    err = traced(vmref_emit_as_destroy(pt_trace, &d));
    if (!err) err = t_frame(s->root, 0, 0);
  }
  return err;
}

int pt_observe(const struct pt_space *s, uint64_t va, uint64_t len) {
  vmref_vseg_expect vsl[MAX_REGIONS] = {{0}};
  vmref_page_expect pages[PT_OBSERVE_PAGES] = {{0}};
  struct label labels[PT_OBSERVE_PAGES];
  vmref_observe o = {0};
  vmref_expect x = {0};
  uint64_t last = 0;
  unsigned i, n = 0, k;
  if (va % PT_PAGE_SIZE || len % PT_PAGE_SIZE || len / PT_PAGE_SIZE > PT_OBSERVE_PAGES) return PT_EINVAL;
  if (!pt_trace) return 0;
  /* The VSL in address order: repeatedly the lowest region above the previous one. */
  for (;;) {
    const struct region *next = NULL;
    for (i = 0; i < MAX_REGIONS; ++i)
      if (regions[i].used && regions[i].space == s->id && (n == 0 || regions[i].start > last) &&
          (!next || regions[i].start < next->start))
        next = &regions[i];
    if (!next) break;
    vsl[n].start = next->start;
    vsl[n].end = next->end;
    vsl[n].prot = prot_string(next->prot);
    vsl[n].kind = "anon";
    last = next->start;
    ++n;
  }
  for (k = 0; k < len / PT_PAGE_SIZE; ++k) {
    const uint64_t *slot = leaf_slot(s, va + (uint64_t)k * PT_PAGE_SIZE);
    pages[k].va = va + (uint64_t)k * PT_PAGE_SIZE;
    pages[k].has_present = 1;
    pages[k].present = slot && (*slot & PTE_P);
    if (pages[k].present) {
      labels[k] = allocation_label(pfn_of(*slot));
      pages[k].prot = prot_string(rights_of(*slot));
      pages[k].frame = labels[k].s;
    }
  }
  x.has_vsl = 1, x.vsl = vsl, x.n_vsl = n;
  x.pages = pages, x.n_pages = len / PT_PAGE_SIZE;
  o.as = s->id;
  o.expect = &x;
  return traced(vmref_emit_observe(pt_trace, &o));
}
