/* The Linux kernel's VMA-merge tests re-expressed as one program, for `vmref record`:
 * the scenarios of tools/testing/selftests/mm/merge.c and the user-space reproducible
 * ones of tools/testing/vma/vma.c, written afresh from their steps and expected layouts
 * (spec/kernels/linux.md §7 lists them). Each scenario works in its own PROT_NONE
 * carveout and checks the kernel's layout itself through /proc/self/maps, so a recording
 * is known to carry the kernel developers' expected results; `vmref replay` of the
 * recording then checks that the model agrees. Exit status: the number of failed checks.
 *
 * Build: cc -O1 -o merge_selftests merge_selftests.c
 * Record: vmref record -o merge.jsonl -- ./merge_selftests */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CARVEOUT_PAGES 2100 /* far destinations (C+2014) stay inside it */
#define RW (PROT_READ | PROT_WRITE)

static long P;
static char* C;
static const char* scenario;
static int failures;

static char* at(long n) { return C + n * P; }

static void die(const char* what) {
  perror(what);
  exit(100);
}

static void map(long n, long pages, int prot, int extra) {
  if (mmap(at(n), pages * P, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | extra, -1, 0) == MAP_FAILED) die("mmap");
}

/* mremap of `pages` pages at C+src to C+dst, same size; `extra` may add MREMAP_DONTUNMAP. */
static void mv(long src, long pages, long dst, int extra) {
  if (mremap(at(src), pages * P, pages * P, MREMAP_MAYMOVE | MREMAP_FIXED | extra, at(dst)) == MAP_FAILED)
    die("mremap");
}

static void protect(long n, long pages, int prot) {
  if (mprotect(at(n), pages * P, prot) != 0) die("mprotect");
}

static void w(long n) { *(volatile char*)at(n) = 1; }

/* Whether the VMA containing C+n is exactly [C+s, C+e), per /proc/self/maps. */
static int vma_is(long n, long s, long e) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (!f) die("/proc/self/maps");
  unsigned long lo, hi, a = (unsigned long)at(n);
  char line[512];
  int found = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= a && a < hi) {
      found = lo == (unsigned long)at(s) && hi == (unsigned long)at(e);
      break;
    }
  fclose(f);
  return found;
}

static void expect(long n, long s, long e) {
  if (vma_is(n, s, e)) return;
  fprintf(stderr, "%s: the VMA at C+%ld is not [C+%ld, C+%ld)\n", scenario, n, s, e);
  ++failures;
}

static void begin(const char* name) {
  scenario = name;
  C = mmap(NULL, CARVEOUT_PAGES * P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (C == MAP_FAILED) die("carveout");
}

static void end(void) {
  if (munmap(C, CARVEOUT_PAGES * P) != 0) die("munmap");
}

/* Runs the rest of a scenario in a fork child when `forked`; the parent returns 0 and
 * counts the child's failures, the child returns 1 and must finish with child_done(). */
static int in_child(int forked) {
  if (!forked) return 0;
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) return 1;
  int status = 0;
  waitpid(pid, &status, 0);
  failures += WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  return -1;
}
static void child_done(void) { _exit(failures > 255 ? 255 : failures); }

/* ---- merge.c: mprotect ---- */

static void mprotect_unfaulted_left(void) {
  begin("mprotect_unfaulted_left");
  map(1, 10, RW, MAP_NORESERVE);
  protect(1, 5, PROT_READ);
  w(6);
  protect(6, 5, PROT_READ);
  expect(1, 1, 11);
  end();
}

static void mprotect_unfaulted_right(void) {
  begin("mprotect_unfaulted_right");
  map(1, 10, RW, MAP_NORESERVE);
  protect(6, 5, PROT_READ);
  w(1);
  protect(1, 5, PROT_READ);
  expect(1, 1, 11);
  end();
}

static void mprotect_unfaulted_both(void) {
  begin("mprotect_unfaulted_both");
  map(2, 9, RW, MAP_NORESERVE);
  protect(2, 3, PROT_READ);
  protect(8, 3, PROT_READ);
  w(5);
  protect(5, 3, PROT_READ);
  expect(2, 2, 11);
  end();
}

static void mprotect_faulted_left_unfaulted_right(void) {
  begin("mprotect_faulted_left_unfaulted_right");
  map(2, 9, RW, MAP_NORESERVE);
  protect(8, 3, PROT_READ);
  w(2);
  protect(2, 3, PROT_READ);
  protect(5, 3, PROT_READ);
  expect(2, 2, 11);
  end();
}

static void mprotect_unfaulted_left_faulted_right(void) {
  begin("mprotect_unfaulted_left_faulted_right");
  map(2, 9, RW, MAP_NORESERVE);
  protect(2, 3, PROT_READ);
  w(5);
  protect(8, 3, PROT_READ);
  protect(5, 3, PROT_READ);
  expect(2, 2, 11);
  end();
}

/* ---- merge.c: fork ---- */

static void forked_target_vma(void) {
  begin("forked_target_vma");
  map(1, 5, RW, 0);
  w(1);
  if (in_child(1) > 0) {
    for (long i = 1; i <= 5; ++i) w(i);
    map(6, 5, RW, 0);
    expect(1, 1, 6);  /* the child's VMA is a fork child's: no merge */
    child_done();
  }
  end();
}

static void forked_source_vma(void) {
  begin("forked_source_vma");
  map(1, 5, RW, MAP_NORESERVE);
  w(1);
  if (in_child(1) > 0) {
    for (long i = 1; i <= 5; ++i) w(i);
    map(6, 5, RW | PROT_EXEC, MAP_NORESERVE);
    expect(6, 6, 11);
    protect(1, 5, RW | PROT_EXEC);
    expect(6, 6, 11);  /* a fork child's owner is not handed to an owner-less neighbour */
    child_done();
  }
  end();
}

/* ---- merge.c: mremap ---- */

static void mremap_unfaulted_to_faulted(void) {
  begin("mremap_unfaulted_to_faulted");
  map(1, 5, RW, 0);
  map(7, 5, RW, 0);
  mv(7, 5, 1007, 0);
  w(1);
  mv(1007, 5, 6, 0);
  expect(1, 1, 11);
  end();
}

static void mremap_unfaulted_behind_faulted(void) {
  begin("mremap_unfaulted_behind_faulted");
  map(6, 5, RW, 0);
  map(14, 5, RW, 0);
  mv(14, 5, 1014, 0);
  w(6);
  mv(1014, 5, 1, 0);
  expect(1, 1, 11);
  end();
}

static void mremap_unfaulted_between_faulted(void) {
  begin("mremap_unfaulted_between_faulted");
  map(1, 5, RW, 0);
  map(7, 5, RW, 0);
  map(14, 5, RW, 0);
  mv(14, 5, 2014, 0);
  mv(7, 5, 1007, 0);
  w(1);
  w(2014);
  mv(2014, 5, 11, 0);
  mv(1007, 5, 6, 0);
  expect(1, 1, 11);
  expect(11, 11, 16);
  end();
}

static void mremap_unfaulted_between_faulted_unfaulted(void) {
  begin("mremap_unfaulted_between_faulted_unfaulted");
  map(1, 5, RW, 0);
  map(7, 5, RW, 0);
  map(14, 5, RW, 0);
  mv(14, 5, 2014, 0);
  mv(7, 5, 1007, 0);
  w(1);
  mv(2014, 5, 11, 0);
  mv(1007, 5, 6, 0);
  expect(1, 1, 16);
  end();
}

static void mremap_unfaulted_between_correctly_placed_faulted(void) {
  begin("mremap_unfaulted_between_correctly_placed_faulted");
  map(1, 15, RW, 0);
  w(1);
  if (munmap(at(6), 5 * P) != 0) die("munmap");
  map(20, 5, RW, 0);
  mv(20, 5, 6, 0);
  expect(1, 1, 16);
  end();
}

static void mremap_correct_placed_faulted(void) {
  begin("mremap_correct_placed_faulted");
  map(1, 15, RW, 0);
  w(1);
  mv(11, 5, 2011, 0);
  mv(6, 5, 1006, 0);
  mv(1006, 5, 6, 0);
  expect(1, 1, 11);
  mv(1, 5, 1001, 0);
  mv(1001, 5, 1, 0);
  expect(1, 1, 11);
  mv(1, 5, 1001, 0);
  mv(2011, 5, 11, 0);
  expect(6, 6, 16);
  mv(1001, 5, 1, 0);
  expect(1, 1, 16);
  mv(6, 5, 1006, 0);
  mv(1006, 5, 6, 0);
  expect(1, 1, 16);
  mv(11, 5, 1011, 0);
  mv(1011, 5, 11, 0);
  expect(1, 1, 16);
  end();
}

/* ---- merge.c: mremap with MREMAP_DONTUNMAP, without and with fork ---- */

static void faulted_to_unfaulted_prev(int forked) {
  begin(forked ? "mremap_faulted_to_unfaulted_prev (forked)" : "mremap_faulted_to_unfaulted_prev");
  map(4, 3, RW, 0);
  w(4);
  int child = in_child(forked);
  if (child >= 0) {
    mv(4, 3, 20, 0);
    map(1, 3, RW, 0);
    mv(20, 3, 4, MREMAP_DONTUNMAP);
    expect(1, 1, forked ? 4 : 7);
    if (child) child_done();
  }
  end();
}

static void faulted_to_unfaulted_next(int forked) {
  begin(forked ? "mremap_faulted_to_unfaulted_next (forked)" : "mremap_faulted_to_unfaulted_next");
  map(1, 3, RW, 0);
  w(1);
  int child = in_child(forked);
  if (child >= 0) {
    mv(1, 3, 20, 0);
    map(4, 3, RW, 0);
    mv(20, 3, 1, MREMAP_DONTUNMAP);
    expect(1, 1, forked ? 4 : 7);
    if (child) child_done();
  }
  end();
}

static void faulted_to_unfaulted_prev_unfaulted_next(int forked) {
  begin(forked ? "mremap_faulted_to_unfaulted_prev_unfaulted_next (forked)"
               : "mremap_faulted_to_unfaulted_prev_unfaulted_next");
  map(4, 3, RW, 0);
  w(4);
  int child = in_child(forked);
  if (child >= 0) {
    mv(4, 3, 20, 0);
    map(1, 3, RW, 0);
    map(7, 3, RW, 0);
    mv(20, 3, 4, MREMAP_DONTUNMAP);
    if (forked) {
      expect(1, 1, 4);
      expect(4, 4, 7);
    } else {
      expect(1, 1, 10);
    }
    if (child) child_done();
  }
  end();
}

static void faulted_to_unfaulted_prev_faulted_next(int forked) {
  begin(forked ? "mremap_faulted_to_unfaulted_prev_faulted_next (forked)"
               : "mremap_faulted_to_unfaulted_prev_faulted_next");
  map(4, 6, RW, 0);
  w(4);
  int child = in_child(forked);
  if (child >= 0) {
    mv(4, 3, 20, 0);
    map(1, 3, RW, 0);
    mv(20, 3, 4, MREMAP_DONTUNMAP);
    if (forked) expect(4, 4, 10);
    else expect(1, 1, 10);
    if (child) child_done();
  }
  end();
}

/* ---- tools/testing/vma/vma.c, from user space (B = C+100; NORESERVE throughout so
 * that accounting, which the kernel's unit test does not model, cannot block a merge) ---- */

#define B 100
static void m(long n, long pages, int prot) { map(B + n, pages, prot, MAP_NORESERVE); }
static void pr(long n, long pages, int prot) { protect(B + n, pages, prot); }
static void wr(long n) { w(B + n); }
static void ex(long n, long s, long e) { expect(B + n, B + s, B + e); }
/* A private anonymous VMA mapped writable, written once, then given `prot`. */
static void faulted(long n, long pages, int prot) {
  m(n, pages, RW);
  wr(n);
  if (prot != RW) pr(n, pages, prot);
}

static void vma_simple_merge_and_modify(void) {
  begin("vma.c simple_merge, simple_modify");
  m(0, 1, RW);
  m(2, 1, RW);
  m(1, 1, RW);
  ex(0, 0, 3);
  pr(1, 1, PROT_READ);
  ex(0, 0, 1);
  ex(1, 1, 2);
  ex(2, 2, 3);
  end();
}

static void vma_merge_new(int with_owner) {
  begin(with_owner ? "vma.c merge_new (one owner)" : "vma.c merge_new");
  if (with_owner) {
    m(0, 12, RW);
    wr(0);
    if (munmap(at(B + 2), P) || munmap(at(B + 4), 3 * P) || munmap(at(B + 9), 2 * P)) die("munmap");
  } else {
    m(0, 2, RW);
    m(3, 1, RW);
    m(11, 1, RW);
    m(7, 2, RW);
    ex(7, 7, 9);
  }
  m(2, 1, RW);
  ex(0, 0, 4);
  m(4, 1, RW);
  ex(0, 0, 5);
  m(6, 1, RW);
  ex(6, 6, 9);
  m(5, 1, RW);
  ex(0, 0, 9);
  m(10, 1, RW);
  ex(10, 10, 12);
  m(9, 1, RW);
  ex(0, 0, 12);
  end();
}

static void vma_merge_existing(void) {
  begin("vma.c merge_existing (right, partial)");
  faulted(2, 4, RW);
  m(6, 3, PROT_READ);
  pr(3, 3, PROT_READ);
  ex(2, 2, 3);
  ex(3, 3, 9);
  end();
  begin("vma.c merge_existing (right, whole)");
  faulted(2, 4, RW);
  m(6, 3, PROT_READ);
  pr(2, 4, PROT_READ);
  ex(2, 2, 9);
  end();
  begin("vma.c merge_existing (left, partial)");
  m(0, 3, PROT_READ);
  faulted(3, 4, RW);
  pr(3, 3, PROT_READ);
  ex(0, 0, 6);
  ex(6, 6, 7);
  end();
  begin("vma.c merge_existing (left, whole)");
  m(0, 3, PROT_READ);
  faulted(3, 4, RW);
  pr(3, 4, PROT_READ);
  ex(0, 0, 7);
  end();
  begin("vma.c merge_existing (both)");
  m(0, 3, PROT_READ);
  faulted(3, 4, RW);
  m(7, 2, PROT_READ);
  pr(3, 4, PROT_READ);
  ex(0, 0, 9);
  end();
}

static void vma_anon_vma_non_mergeable(void) {
  begin("vma.c anon_vma_non_mergeable (existing)");
  faulted(0, 3, RW);
  faulted(7, 2, RW);
  m(3, 4, PROT_READ);
  pr(3, 4, RW);
  ex(0, 0, 7);
  ex(7, 7, 9);
  end();
  begin("vma.c anon_vma_non_mergeable (new)");
  faulted(0, 3, RW);
  faulted(7, 2, RW);
  m(3, 4, RW);
  ex(0, 0, 7);
  ex(7, 7, 9);
  end();
}

static void vma_dup_anon_vma(void) {
  begin("vma.c dup_anon_vma (next faulted)");
  m(0, 3, RW);
  m(3, 2, PROT_READ);
  faulted(5, 3, RW);
  pr(3, 2, RW);
  ex(0, 0, 8);
  end();
  begin("vma.c dup_anon_vma (middle faulted)");
  m(0, 3, RW);
  faulted(3, 2, PROT_READ);
  m(5, 3, RW);
  pr(3, 2, RW);
  ex(0, 0, 8);
  end();
  begin("vma.c dup_anon_vma (left part of a faulted middle)");
  m(0, 3, RW);
  faulted(3, 5, PROT_READ);
  pr(3, 2, RW);
  ex(0, 0, 5);
  ex(5, 5, 8);
  end();
  begin("vma.c dup_anon_vma (right part of a faulted middle)");
  faulted(0, 5, PROT_READ);
  m(5, 3, RW);
  pr(3, 2, RW);
  ex(0, 0, 3);
  ex(3, 3, 8);
  end();
}

static void vma_merge_extend_and_copy(void) {
  begin("vma.c merge_extend");
  m(0, 1, RW);
  m(3, 1, RW);
  if (munmap(at(B + 1), 2 * P) != 0) die("munmap");  /* the gap an in-place grow needs */
  if (mremap(at(B), P, 3 * P, 0) != at(B)) die("mremap grow");
  ex(0, 0, 4);
  end();
  begin("vma.c copy_vma (alone)");
  m(3, 2, RW);
  mv(B + 3, 2, B + 0, 0);
  ex(0, 0, 2);
  end();
  begin("vma.c copy_vma (next to an unfaulted VMA)");
  m(0, 2, RW);
  m(6, 2, RW);
  mv(B + 0, 2, B + 4, 0);
  ex(4, 4, 8);
  end();
}

int main(void) {
  P = sysconf(_SC_PAGESIZE);
  mprotect_unfaulted_left();
  mprotect_unfaulted_right();
  mprotect_unfaulted_both();
  mprotect_faulted_left_unfaulted_right();
  mprotect_unfaulted_left_faulted_right();
  forked_target_vma();
  forked_source_vma();
  mremap_unfaulted_to_faulted();
  mremap_unfaulted_behind_faulted();
  mremap_unfaulted_between_faulted();
  mremap_unfaulted_between_faulted_unfaulted();
  mremap_unfaulted_between_correctly_placed_faulted();
  mremap_correct_placed_faulted();
  for (int forked = 0; forked <= 1; ++forked) {
    faulted_to_unfaulted_prev(forked);
    faulted_to_unfaulted_next(forked);
    faulted_to_unfaulted_prev_unfaulted_next(forked);
    faulted_to_unfaulted_prev_faulted_next(forked);
  }
  vma_simple_merge_and_modify();
  vma_merge_new(0);
  vma_merge_new(1);
  vma_merge_existing();
  vma_anon_vma_non_mergeable();
  vma_dup_anon_vma();
  vma_merge_extend_and_copy();
  printf("merge_selftests: %d failed check(s)\n", failures);
  return failures > 255 ? 255 : failures;
}
