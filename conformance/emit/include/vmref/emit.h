/* vmref/emit.h: write a vmref trace (spec/trace-format.md) from C.
 *
 * C99, header-only, freestanding: it needs <stddef.h> and <stdint.h> only, allocates
 * nothing and calls no library function, so it works in a kernel, on an RTOS with a
 * UART, or in a hosted test. Every byte goes through a write callback the caller gives.
 *
 * Two levels:
 *   - the low-level API (vmref_emit_begin, vmref_emit_u64, vmref_emit_str, ..., vmref_emit_end)
 *     writes any line of the format field by field;
 *   - one typed call per trace event, built on it: vmref_emit_header() for the first line
 *     (spec/trace-format.md §2), and vmref_emit_<op>() for each operation of the operation
 *     registry (§3.1). The core's operations are in <vmref/emit_core.h> (included below);
 *     each kernel's are in <vmref/emit/<kernel>.h>. Those headers are generated from the
 *     registry by tools/gen_emit.py (ctest emit:current fails when they are stale).
 *
 * Output: JSON Lines exactly as `vmref replay` reads them: one object per line ending in
 * "\n", 64-bit values as "0x..." hex strings, small counts (address spaces, CPUs, levels,
 * tags) as decimal integers, booleans as true/false, strings escaped per RFC 8259 (quote,
 * backslash and every control character below 0x20; other bytes, UTF-8 included, pass
 * through unchanged: the caller gives UTF-8).
 *
 * Errors: every call records the first error in the emitter (sticky) and does nothing
 * once one is recorded; vmref_emit_end() and the typed calls return it. The codes:
 *   VMREF_EMIT_OK      0   nothing went wrong
 *   VMREF_EMIT_EWRITE  1   the write callback returned non-zero
 *   VMREF_EMIT_EINVAL  2   a required string (a name, a key, an op) was NULL
 *   VMREF_EMIT_ESTATE  3   calls out of order: a field outside a line, a line not closed,
 *                          nesting deeper than VMREF_EMIT_MAX_DEPTH, a keyless value in an
 *                          object or a keyed one in an array
 * After an error the line being written may be incomplete: the trace is not usable and
 * vmref will refuse it (exit 2) rather than read something wrong. vmref_emit_reset_error()
 * clears the error to start again on a fresh line.
 *
 * Buffering: bytes are gathered in the emitter's buffer (VMREF_EMIT_BUF_SIZE bytes, 256
 * unless defined before inclusion) and handed to the callback when it is full and at the
 * end of each line, so one line normally costs one callback call. Not thread-safe: one
 * emitter per writer, or a lock around each event.
 *
 * Example (hosted):
 *   static int to_file(void *ctx, const char *b, size_t n) { return fwrite(b, 1, n, ctx) != n; }
 *   vmref_emitter e; vmref_emit_init(&e, to_file, stdout);
 *   vmref_header h = {0}; h.profile = "linux"; h.cpus = 2; vmref_emit_header(&e, &h);
 *   vmref_as_create c = {0}; c.as = 1; vmref_emit_as_create(&e, &c);
 * tools/examples/c-kernel/ is a complete page-table module that traces itself.
 */
#ifndef VMREF_EMIT_H
#define VMREF_EMIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMREF_EMIT_OK 0
#define VMREF_EMIT_EWRITE 1
#define VMREF_EMIT_EINVAL 2
#define VMREF_EMIT_ESTATE 3

/** Trace format version written in the header (spec/trace-format.md §2). */
#define VMREF_TRACE_VERSION 1

#ifndef VMREF_EMIT_BUF_SIZE
#define VMREF_EMIT_BUF_SIZE 256
#endif
/** Objects and arrays open at once, the line's own object included. */
#define VMREF_EMIT_MAX_DEPTH 8

/** Receives the trace text: `len` bytes at `bytes` (not NUL-terminated), in order.
 *  Returns 0 when all were written, non-zero on failure (the emitter then stops). */
typedef int (*vmref_emit_write_fn)(void *ctx, const char *bytes, size_t len);

/** One trace being written. Initialize with vmref_emit_init(); the fields are private. */
typedef struct vmref_emitter {
  vmref_emit_write_fn write;
  void *ctx;
  int err;                                    /* first error, VMREF_EMIT_* */
  unsigned depth;                             /* open objects/arrays, 0 between lines */
  unsigned char first[VMREF_EMIT_MAX_DEPTH];  /* nothing written yet at this depth */
  unsigned char array[VMREF_EMIT_MAX_DEPTH];  /* this depth is an array */
  size_t len;                                 /* bytes in buf */
  char buf[VMREF_EMIT_BUF_SIZE];
} vmref_emitter;

/* ---- low level ---------------------------------------------------------------------- */

static inline void vmref_emit_init(vmref_emitter *e, vmref_emit_write_fn write, void *ctx) {
  unsigned i;
  e->write = write;
  e->ctx = ctx;
  e->err = VMREF_EMIT_OK;
  e->depth = 0;
  e->len = 0;
  for (i = 0; i < VMREF_EMIT_MAX_DEPTH; ++i) e->first[i] = e->array[i] = 0;
}

/** The first error recorded, VMREF_EMIT_OK if none. */
static inline int vmref_emit_error(const vmref_emitter *e) { return e->err; }

/** Clears the error and drops any half-written line (its buffered bytes). */
static inline void vmref_emit_reset_error(vmref_emitter *e) {
  e->err = VMREF_EMIT_OK;
  e->depth = 0;
  e->len = 0;
}

static inline void vmref_emit_fail_(vmref_emitter *e, int err) {
  if (e->err == VMREF_EMIT_OK) e->err = err;
}

/** Hands the buffered bytes to the callback. Called by vmref_emit_end(). */
static inline int vmref_emit_flush(vmref_emitter *e) {
  if (e->err == VMREF_EMIT_OK && e->len) {
    if (!e->write || e->write(e->ctx, e->buf, e->len) != 0) vmref_emit_fail_(e, VMREF_EMIT_EWRITE);
  }
  e->len = 0;
  return e->err;
}

static inline void vmref_emit_raw_(vmref_emitter *e, const char *s, size_t n) {
  while (n && e->err == VMREF_EMIT_OK) {
    size_t room = VMREF_EMIT_BUF_SIZE - e->len, k = n < room ? n : room, i;
    for (i = 0; i < k; ++i) e->buf[e->len + i] = s[i];
    e->len += k;
    s += k;
    n -= k;
    if (e->len == VMREF_EMIT_BUF_SIZE) vmref_emit_flush(e);
  }
}

static inline void vmref_emit_cstr_(vmref_emitter *e, const char *s) {
  size_t n = 0;
  while (s[n]) ++n;
  vmref_emit_raw_(e, s, n);
}

/* A JSON string: quote, backslash and control characters escaped (RFC 8259 §7). */
static inline void vmref_emit_quoted_(vmref_emitter *e, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;
  vmref_emit_raw_(e, "\"", 1);
  for (i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)s[i];
    char esc[6];
    size_t k = 0;
    if (c == '"' || c == '\\') {
      esc[0] = '\\', esc[1] = (char)c, k = 2;
    } else if (c == '\n') {
      esc[0] = '\\', esc[1] = 'n', k = 2;
    } else if (c == '\t') {
      esc[0] = '\\', esc[1] = 't', k = 2;
    } else if (c == '\r') {
      esc[0] = '\\', esc[1] = 'r', k = 2;
    } else if (c < 0x20) {
      esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15], k = 6;
    }
    if (k) {
      vmref_emit_raw_(e, s + i - run, run);
      vmref_emit_raw_(e, esc, k);
      run = 0;
    } else {
      ++run;
    }
  }
  vmref_emit_raw_(e, s + n - run, run);
  vmref_emit_raw_(e, "\"", 1);
}

/* Separator and key before a value; key NULL inside arrays. Returns 0 if it may go on. */
static inline int vmref_emit_key_(vmref_emitter *e, const char *key) {
  unsigned d;
  if (e->err != VMREF_EMIT_OK) return -1;
  if (e->depth == 0) {
    vmref_emit_fail_(e, VMREF_EMIT_ESTATE);
    return -1;
  }
  d = e->depth - 1;
  if (e->array[d] ? key != NULL : key == NULL) {
    vmref_emit_fail_(e, VMREF_EMIT_ESTATE);
    return -1;
  }
  if (!e->first[d]) vmref_emit_raw_(e, ",", 1);
  e->first[d] = 0;
  if (key) {
    size_t n = 0;
    while (key[n]) ++n;
    vmref_emit_quoted_(e, key, n);
    vmref_emit_raw_(e, ":", 1);
  }
  return e->err == VMREF_EMIT_OK ? 0 : -1;
}

static inline void vmref_emit_open_(vmref_emitter *e, const char *key, int array) {
  if (e->depth && vmref_emit_key_(e, key) != 0) return;
  if (e->err != VMREF_EMIT_OK) return;
  if (e->depth >= VMREF_EMIT_MAX_DEPTH) {
    vmref_emit_fail_(e, VMREF_EMIT_ESTATE);
    return;
  }
  vmref_emit_raw_(e, array ? "[" : "{", 1);
  e->first[e->depth] = 1;
  e->array[e->depth] = (unsigned char)array;
  ++e->depth;
}

static inline void vmref_emit_close_(vmref_emitter *e, int array) {
  if (e->err != VMREF_EMIT_OK) return;
  if (e->depth == 0 || e->array[e->depth - 1] != array) {
    vmref_emit_fail_(e, VMREF_EMIT_ESTATE);
    return;
  }
  --e->depth;
  vmref_emit_raw_(e, array ? "]" : "}", 1);
}

/** Starts a line: "{". Error ESTATE if a line is already open. */
static inline void vmref_emit_begin_line(vmref_emitter *e) {
  if (e->err != VMREF_EMIT_OK) return;
  if (e->depth != 0) {
    vmref_emit_fail_(e, VMREF_EMIT_ESTATE);
    return;
  }
  vmref_emit_open_(e, NULL, 0);
}

/** A string field `"key":"..."` with `n` bytes of `s` (escaped; may hold NUL bytes, which
 *  become \u0000). `key` is NULL for an element of an array. EINVAL when `s` is NULL. */
static inline void vmref_emit_strn(vmref_emitter *e, const char *key, const char *s, size_t n) {
  if (e->err != VMREF_EMIT_OK) return;
  if (!s) {
    vmref_emit_fail_(e, VMREF_EMIT_EINVAL);
    return;
  }
  if (vmref_emit_key_(e, key) == 0) vmref_emit_quoted_(e, s, n);
}

/** A NUL-terminated string field (see vmref_emit_strn). */
static inline void vmref_emit_str(vmref_emitter *e, const char *key, const char *s) {
  size_t n = 0;
  if (s)
    while (s[n]) ++n;
  vmref_emit_strn(e, key, s, n);
}

/** Starts an event line: {"op":"OP" (spec/trace-format.md §3). EINVAL when op is NULL. */
static inline void vmref_emit_begin(vmref_emitter *e, const char *op) {
  if (e->err != VMREF_EMIT_OK) return;
  if (!op) {
    vmref_emit_fail_(e, VMREF_EMIT_EINVAL);
    return;
  }
  vmref_emit_begin_line(e);
  vmref_emit_str(e, "op", op);
}

/** A 64-bit field (address, length, offset, byte count) as a "0x..." string: every
 *  value from 0 to 2^64-1 survives JSON readers that use doubles (§1). */
static inline void vmref_emit_u64(vmref_emitter *e, const char *key, uint64_t v) {
  char t[19];
  int i = 18, n = 0;
  static const char hex[] = "0123456789abcdef";
  if (vmref_emit_key_(e, key) != 0) return;
  do {
    t[i--] = hex[v & 15];
    v >>= 4;
    ++n;
  } while (v);
  t[i--] = 'x';
  t[i] = '0';
  vmref_emit_raw_(e, "\"", 1);
  vmref_emit_raw_(e, t + i, (size_t)n + 2);
  vmref_emit_raw_(e, "\"", 1);
}

/** A small count (address space, CPU, level, tag, index) as a decimal JSON integer. */
static inline void vmref_emit_int(vmref_emitter *e, const char *key, uint64_t v) {
  char t[20];
  int i = 20;
  if (vmref_emit_key_(e, key) != 0) return;
  do {
    t[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  vmref_emit_raw_(e, t + i, (size_t)(20 - i));
}

/** A boolean field: true when `v` is non-zero. */
static inline void vmref_emit_bool(vmref_emitter *e, const char *key, int v) {
  if (vmref_emit_key_(e, key) != 0) return;
  if (v) vmref_emit_raw_(e, "true", 4);
  else vmref_emit_raw_(e, "false", 5);
}

/** Opens a nested object `"key":{` (key NULL inside an array); close with object_end. */
static inline void vmref_emit_object_begin(vmref_emitter *e, const char *key) {
  if (e->depth == 0) {
    vmref_emit_fail_(e, VMREF_EMIT_ESTATE);
    return;
  }
  vmref_emit_open_(e, key, 0);
}
static inline void vmref_emit_object_end(vmref_emitter *e) {
  if (e->depth <= 1) {
    vmref_emit_fail_(e, VMREF_EMIT_ESTATE);
    return;
  }
  vmref_emit_close_(e, 0);
}

/** Opens an array `"key":[`; its elements are written with key NULL. */
static inline void vmref_emit_array_begin(vmref_emitter *e, const char *key) {
  if (e->depth == 0) {
    vmref_emit_fail_(e, VMREF_EMIT_ESTATE);
    return;
  }
  vmref_emit_open_(e, key, 1);
}
static inline void vmref_emit_array_end(vmref_emitter *e) { vmref_emit_close_(e, 1); }

/** An array of `n` strings (flags, IDs); `items` NULL writes nothing. */
static inline void vmref_emit_str_array(vmref_emitter *e, const char *key, const char *const *items, size_t n) {
  size_t i;
  if (!items) return;
  vmref_emit_array_begin(e, key);
  for (i = 0; i < n; ++i) vmref_emit_str(e, NULL, items[i]);
  vmref_emit_array_end(e);
}

/** Ends the line: "}\n", and hands it to the callback. Returns the emitter's error:
 *  ESTATE when nested objects or arrays are still open or no line was begun. */
static inline int vmref_emit_end(vmref_emitter *e) {
  if (e->err == VMREF_EMIT_OK && e->depth != 1) vmref_emit_fail_(e, VMREF_EMIT_ESTATE);
  vmref_emit_close_(e, 0);
  vmref_emit_raw_(e, "\n", 1);
  return vmref_emit_flush(e);
}

/* ---- shared shapes ------------------------------------------------------------------ */

/** The header line (spec/trace-format.md §2). Zero-initialize, then set what applies;
 *  a zero or NULL member is left out (the reader's default). */
typedef struct vmref_header {
  const char *profile;  /**< required: "KERNEL" or "KERNEL:VARIANT" (`vmref fuzz --list-profiles`) */
  const char *arch;     /**< informative machine name, e.g. "abstract"; NULL: absent */
  uint64_t page_size;   /**< bytes, a power of two from 4 KiB to 1 GiB; 0: default 0x1000 */
  uint64_t cpus;        /**< 1 to 4096; 0: default 1 */
  uint64_t phys_mem;    /**< bytes of simulated physical memory; 0: the profile's default */
  const char *source;   /**< provenance.source, free text; NULL: absent */
  /** provenance.expected.verdict: "clean" or "findings" (`vmref replay --expect-declared`); NULL: absent */
  const char *expected_verdict;
  const char *const *expected_ids; /**< provenance.expected.ids (with a verdict): invariant IDs */
  size_t n_expected_ids;
} vmref_header;

/** Writes the header line. Returns the emitter's error (EINVAL without a profile). */
static inline int vmref_emit_header(vmref_emitter *e, const vmref_header *h) {
  vmref_emit_begin_line(e);
  vmref_emit_int(e, "vmref_trace", VMREF_TRACE_VERSION);
  vmref_emit_str(e, "profile", h->profile);
  if (h->arch) vmref_emit_str(e, "arch", h->arch);
  if (h->page_size) vmref_emit_u64(e, "page_size", h->page_size);
  if (h->cpus) vmref_emit_int(e, "cpus", h->cpus);
  if (h->phys_mem) vmref_emit_u64(e, "phys_mem", h->phys_mem);
  if (h->source || h->expected_verdict) {
    vmref_emit_object_begin(e, "provenance");
    if (h->source) vmref_emit_str(e, "source", h->source);
    if (h->expected_verdict) {
      vmref_emit_object_begin(e, "expected");
      vmref_emit_str(e, "verdict", h->expected_verdict);
      vmref_emit_str_array(e, "ids", h->expected_ids, h->n_expected_ids);
      vmref_emit_object_end(e);
    }
    vmref_emit_object_end(e);
  }
  return vmref_emit_end(e);
}

/** One vseg of `expect.vsl` (spec/trace-format.md §3.5), as the kernel's VSL holds it.
 *  Zero-initialize, then set what the kernel knows: a NULL string or a has_* of 0 leaves
 *  the field out (not compared). */
typedef struct vmref_vseg_expect {
  uint64_t start, end;  /**< required: bytes, [start, end) */
  const char *prot;     /**< "rw-" style; NULL: absent */
  const char *kind;     /**< anon, file, stack, heap, code, data, kernel, special; NULL: absent */
  const char *file;     /**< the file's identity ("dev:inode"); NULL: absent */
  const char *name;     /**< a name the kernel gives the vseg; NULL: absent */
  int has_shared;       /**< non-zero: write `shared` */
  int shared;           /**< MAP_SHARED */
  int has_offset;       /**< non-zero: write `offset` */
  uint64_t offset;      /**< bytes into the file */
  int anon_pages;       /**< non-zero: "anon_pages": true (the kernel holds anonymous pages there) */
} vmref_vseg_expect;

/** One page of `expect.pages` (spec/trace-format.md §3.5). Zero-initialize, then set
 *  what the kernel knows; a NULL string, a has_* of 0 or a zero `size` leaves it out. */
typedef struct vmref_page_expect {
  uint64_t va;            /**< required: the page's VA, bytes */
  int has_present, present;
  const char *prot;       /**< the PTE's rights, "rw-" style; NULL: absent */
  int has_cow, cow;       /**< write-protected for copy-on-write */
  int has_zero, zero;     /**< maps the zero page */
  int has_refcount;
  uint64_t refcount;      /**< the frame's reference count */
  int has_mapcount;
  uint64_t mapcount;      /**< PTEs mapping the frame */
  int has_exclusive, exclusive; /**< mapped by exactly one PTE */
  int has_kept, kept;     /**< the same frame as at the previous observe */
  uint64_t size;          /**< bytes of the leaf mapping the page; 0: absent */
  const char *frame;      /**< the frame's label (same label, same frame); NULL: absent */
} vmref_page_expect;

/** What the kernel observed for one event (spec/trace-format.md §3.3); every member is
 *  optional. */
typedef struct vmref_expect {
  const char *err;      /**< "errno": "ok", "EINVAL", "ENOMEM"...; NULL: absent */
  int has_ret;          /**< non-zero: write `ret` */
  uint64_t ret;         /**< returned address (mmap, mremap, brk) */
  const char *result;   /**< access: "ok", "segv_maperr", "segv_accerr", "sigbus"; NULL: absent */
  int has_zero_page;    /**< non-zero: write `zero_page` */
  int zero_page;        /**< access ended on the zero page */
  int has_vsl;          /**< observe: non-zero writes `vsl`, the whole VSL (n_vsl may be 0) */
  const vmref_vseg_expect *vsl; /**< n_vsl vsegs in address order */
  size_t n_vsl;
  const vmref_page_expect *pages; /**< observe: n_pages listed pages; NULL: absent */
  size_t n_pages;
} vmref_expect;

static inline void vmref_emit_vseg_expect_(vmref_emitter *e, const vmref_vseg_expect *v) {
  vmref_emit_object_begin(e, NULL);
  vmref_emit_u64(e, "start", v->start);
  vmref_emit_u64(e, "end", v->end);
  if (v->prot) vmref_emit_str(e, "prot", v->prot);
  if (v->kind) vmref_emit_str(e, "kind", v->kind);
  if (v->file) vmref_emit_str(e, "file", v->file);
  if (v->name) vmref_emit_str(e, "name", v->name);
  if (v->has_shared) vmref_emit_bool(e, "shared", v->shared);
  if (v->has_offset) vmref_emit_u64(e, "offset", v->offset);
  if (v->anon_pages) vmref_emit_bool(e, "anon_pages", 1);
  vmref_emit_object_end(e);
}

static inline void vmref_emit_page_expect_(vmref_emitter *e, const vmref_page_expect *p) {
  vmref_emit_object_begin(e, NULL);
  vmref_emit_u64(e, "va", p->va);
  if (p->has_present) vmref_emit_bool(e, "present", p->present);
  if (p->prot) vmref_emit_str(e, "prot", p->prot);
  if (p->has_cow) vmref_emit_bool(e, "cow", p->cow);
  if (p->has_zero) vmref_emit_bool(e, "zero", p->zero);
  if (p->has_refcount) vmref_emit_u64(e, "refcount", p->refcount);
  if (p->has_mapcount) vmref_emit_u64(e, "mapcount", p->mapcount);
  if (p->has_exclusive) vmref_emit_bool(e, "exclusive", p->exclusive);
  if (p->has_kept) vmref_emit_bool(e, "kept", p->kept);
  if (p->size) vmref_emit_u64(e, "size", p->size);
  if (p->frame) vmref_emit_str(e, "frame", p->frame);
  vmref_emit_object_end(e);
}

/** Writes `"expect":{...}` into the open event. */
static inline void vmref_emit_expect(vmref_emitter *e, const vmref_expect *x) {
  vmref_emit_object_begin(e, "expect");
  if (x->err) vmref_emit_str(e, "errno", x->err);
  if (x->has_ret) vmref_emit_u64(e, "ret", x->ret);
  if (x->result) vmref_emit_str(e, "result", x->result);
  if (x->has_zero_page) vmref_emit_bool(e, "zero_page", x->zero_page);
  if (x->has_vsl) {
    size_t i;
    vmref_emit_array_begin(e, "vsl");
    for (i = 0; i < x->n_vsl && x->vsl; ++i) vmref_emit_vseg_expect_(e, &x->vsl[i]);
    vmref_emit_array_end(e);
  }
  if (x->pages) {
    size_t i;
    vmref_emit_array_begin(e, "pages");
    for (i = 0; i < x->n_pages; ++i) vmref_emit_page_expect_(e, &x->pages[i]);
    vmref_emit_array_end(e);
  }
  vmref_emit_object_end(e);
}

/** A file mapping's identity (spec/trace-format.md §3.1 `file`). */
typedef struct vmref_file {
  const char *id;       /**< required: "dev:inode" */
  const char *path;     /**< NULL: absent */
  int has_writable;     /**< non-zero: write `writable` */
  int writable;         /**< the fd was opened for writing */
  int has_size;         /**< non-zero: write `size` */
  uint64_t size;        /**< bytes; pages beyond it fault with SIGBUS */
} vmref_file;

/** Writes `"key":{...}` for a file. */
static inline void vmref_emit_file(vmref_emitter *e, const char *key, const vmref_file *f) {
  vmref_emit_object_begin(e, key);
  vmref_emit_str(e, "id", f->id);
  if (f->path) vmref_emit_str(e, "path", f->path);
  if (f->has_writable) vmref_emit_bool(e, "writable", f->writable);
  if (f->has_size) vmref_emit_u64(e, "size", f->size);
  vmref_emit_object_end(e);
}

/** The fields every event may carry: `cont` (§3.4) and `expect` (§3.3). */
static inline void vmref_emit_common_(vmref_emitter *e, int cont, const vmref_expect *x) {
  if (cont) vmref_emit_bool(e, "cont", 1);
  if (x) vmref_emit_expect(e, x);
}

#ifdef __cplusplus
}
#endif

/* The core's operations, one typed call each (generated). */
#include "vmref/emit_core.h"

#endif /* VMREF_EMIT_H */
