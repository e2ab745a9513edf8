/* The hosted driver of the page-table module (pt.c): runs a fixed workload over two
 * address spaces and two CPUs, writes the module's trace, and checks the module's own
 * results. Usage: c-kernel PROFILE [OUT.jsonl]   (default: standard output)
 * Exit 0 when the workload ran as expected, 1 otherwise, 2 on bad usage or I/O. */
#include <stdio.h>
#include <string.h>

#include "pt.h"

static int to_file(void *ctx, const char *bytes, size_t len) { return fwrite(bytes, 1, len, (FILE *)ctx) != len; }

static int failures;
#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "c-kernel: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                            \
    }                                                                        \
  } while (0)

/* A user load on `cpu` that the module's tables must satisfy; traced with the outcome
 * the kernel expects, which the model compares (EXPECT-ACCESS). */
static void user_read(struct pt_space *s, unsigned cpu, uint64_t va) {
  vmref_access a = {0};
  vmref_expect x = {0};
  CHECK(pt_translate(s, va) != 0);
  a.cpu = cpu;
  a.va = va;
  a.kind = "read";
  x.result = "ok";
  a.expect = &x;
  CHECK(vmref_emit_access(pt_trace, &a) == VMREF_EMIT_OK);
}

int main(int argc, char **argv) {
  const uint64_t base = 0x10000000, page = PT_PAGE_SIZE;
  struct pt_space a, b;
  vmref_emitter e;
  vmref_header h = {0};
  FILE *out = stdout;
  unsigned i;
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s PROFILE [OUT.jsonl]\n", argv[0]);
    return 2;
  }
  if (argc == 3 && !(out = fopen(argv[2], "w"))) {
    perror(argv[2]);
    return 2;
  }
  vmref_emit_init(&e, to_file, out);
  pt_trace = &e;
  h.profile = argv[1];
  h.arch = "abstract";
  h.cpus = 2;
  h.page_size = PT_PAGE_SIZE;
  h.phys_mem = (uint64_t)PT_NFRAMES * PT_PAGE_SIZE;
  h.source = "tools/examples/c-kernel: a freestanding page-table module traced through vmref/emit.h";
  CHECK(vmref_emit_header(&e, &h) == VMREF_EMIT_OK);

  pt_boot();
  CHECK(pt_space_create(&a, 1) == 0);
  CHECK(pt_region(&a, base, 8 * page, PT_R | PT_W) == 0);
  CHECK(pt_region(&a, base + page, page, PT_R) == PT_EINVAL); /* overlaps */
  CHECK(pt_switch(&a, 0) == 0);
  for (i = 0; i < 4; ++i) CHECK(pt_map(&a, base + i * page, PT_R | PT_W) == 0);
  CHECK(pt_map(&a, base, PT_R) == PT_EINVAL);                 /* already mapped */
  CHECK(pt_map(&a, base + 8 * page, PT_R) == PT_EINVAL);      /* outside the region */
  CHECK(pt_map(&a, base + 4 * page, PT_R | PT_X) == PT_EINVAL); /* more than the region allows */
  for (i = 0; i < 4; ++i) user_read(&a, 0, base + i * page + 8);
  CHECK(pt_protect(&a, base + page, PT_R) == 0);
  CHECK(pt_observe(&a, base, 6 * page) == 0); /* the module's own view, compared by vmref */
  CHECK(pt_switch(&a, 1) == 0);
  user_read(&a, 1, base + page);
  CHECK(pt_unmap(&a, base + 2 * page) == 0);
  CHECK(pt_translate(&a, base + 2 * page) == 0);
  CHECK(pt_unmap(&a, base + 2 * page) == PT_ENOENT);
  CHECK(pt_map(&a, base + 2 * page, PT_R | PT_W) == 0);       /* the frame is reused */
  CHECK(pt_unmap(&a, base) == 0);
  CHECK(pt_observe(&a, base, 4 * page) == 0);

  CHECK(pt_space_create(&b, 2) == 0);
  CHECK(pt_region(&b, 0x200000, 4 * page, PT_R | PT_W | PT_X) == 0);
  CHECK(pt_map(&b, 0x200000, PT_R | PT_X) == 0);
  CHECK(pt_map(&b, 0x203000, PT_R | PT_W) == 0);
  CHECK(pt_switch(&b, 0) == 0);
  user_read(&b, 0, 0x203000);
  CHECK(pt_unmap(&b, 0x203000) == 0);
  CHECK(pt_unmap(&b, 0x200000) == 0);
  CHECK(pt_region_remove(&b, 0x200000) == 0);

  CHECK(pt_space_destroy(&a) == 0);
  CHECK(pt_space_destroy(&b) == 0);
  CHECK(pt_frames_used() == 0);
  CHECK(vmref_emit_error(&e) == VMREF_EMIT_OK);
  if (out != stdout && fclose(out) != 0) {
    perror(argv[2]);
    return 2;
  }
  return failures ? 1 : 0;
}
