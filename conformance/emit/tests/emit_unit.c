/* Unit test of vmref/emit.h (ctest emit:unit, emit:hostile-strings): exact output of the
 * low-level and typed calls, escaping, 64-bit extremes, buffering across callback calls,
 * and every error code. With an argument DIR it also writes DIR/hostile.jsonl, a trace
 * whose labels are hostile strings, and DIR/hostile.hex, those strings' bytes in hex one
 * per line, for check_emit.py to decode with vmref and compare. Built as C99 -pedantic. */
#include <stdio.h>
#include <string.h>

#include "vmref/emit.h"

static char out[8192];
static size_t out_len;
static unsigned calls;
static int fail_after = -1; /* the callback fails from this call on; -1 never */

static int to_memory(void *ctx, const char *bytes, size_t len) {
  (void)ctx;
  if (fail_after >= 0 && (int)calls >= fail_after) return 1;
  ++calls;
  if (out_len + len >= sizeof out) return 1;
  memcpy(out + out_len, bytes, len);
  out_len += len;
  out[out_len] = 0;
  return 0;
}

static int failures;
static void reset(vmref_emitter *e) {
  out_len = 0;
  out[0] = 0;
  calls = 0;
  fail_after = -1;
  vmref_emit_init(e, to_memory, NULL);
}
static void expect_text(const char *what, const char *want) {
  if (strcmp(out, want) != 0) {
    fprintf(stderr, "emit_unit: %s:\n  want %s  got  %s", what, want, out);
    ++failures;
  }
}
static void expect_int(const char *what, long got, long want) {
  if (got != want) {
    fprintf(stderr, "emit_unit: %s: want %ld, got %ld\n", what, want, got);
    ++failures;
  }
}

/* The hostile strings: every escape, control characters, DEL, multi-byte UTF-8, an
 * embedded NUL (given with its length), JSON and shell metacharacters. */
static const struct {
  const char *s;
  size_t n;
} hostile[] = {
    {"\"quoted\" and \\backslash\\", 0},
    {"line\nbreak\rcarriage\ttab\bback\ffeed", 0},
    {"\x01\x02\x1f\x7f del", 0},
    {"nul\0inside", 10},
    {"caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x98\x80", 0},
    {"}\"],{\"op\":\"as_destroy\",\"as\":1}", 0},
    {"/*/ $(rm -rf) `x` <\\u0041>", 0},
};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])

static size_t hostile_len(size_t i) { return hostile[i].n ? hostile[i].n : strlen(hostile[i].s); }

/* DIR/hostile.hex: the strings' bytes, in hex, one string per line. */
static int write_hostile(const char *dir) {
  char path[4096];
  FILE *hex;
  size_t i, j;
  snprintf(path, sizeof path, "%s/hostile.hex", dir);
  if (!(hex = fopen(path, "w"))) return perror(path), 1;
  for (i = 0; i < NHOSTILE; ++i) {
    for (j = 0; j < hostile_len(i); ++j) fprintf(hex, "%02x", (unsigned char)hostile[i].s[j]);
    fputc('\n', hex);
  }
  return fclose(hex) != 0;
}

static int to_file(void *ctx, const char *b, size_t n) { return fwrite(b, 1, n, (FILE *)ctx) != n; }

static int write_hostile_trace(const char *dir, const char *profile) {
  char path[4096];
  FILE *f;
  vmref_emitter e;
  vmref_header h = {0};
  size_t i;
  int err;
  snprintf(path, sizeof path, "%s/hostile.jsonl", dir);
  if (!(f = fopen(path, "w"))) return perror(path), 1;
  vmref_emit_init(&e, to_file, f);
  h.profile = profile;
  h.source = hostile[0].s;
  err = vmref_emit_header(&e, &h);
  for (i = 0; i < NHOSTILE; ++i) {
    vmref_emit_begin(&e, "lock");
    vmref_emit_strn(&e, "lock", hostile[i].s, hostile_len(i));
    err |= vmref_emit_end(&e);
    vmref_emit_begin(&e, "unlock");
    vmref_emit_strn(&e, "lock", hostile[i].s, hostile_len(i));
    err |= vmref_emit_end(&e);
  }
  if (fclose(f) != 0 || err) return fprintf(stderr, "emit_unit: writing %s failed (%d)\n", path, err), 1;
  return 0;
}

int main(int argc, char **argv) {
  vmref_emitter e;
  char longs[1001];

  /* The header, every member. */
  {
    static const char *const ids[] = {"INV-TLB-1", "INV-FRAME-1"};
    vmref_header h = {0};
    reset(&e);
    h.profile = "k:v";
    h.arch = "abstract";
    h.page_size = 0x1000;
    h.cpus = 4;
    h.phys_mem = 0x100000000ull;
    h.source = "unit";
    h.expected_verdict = "findings";
    h.expected_ids = ids;
    h.n_expected_ids = 2;
    expect_int("header returns", vmref_emit_header(&e, &h), VMREF_EMIT_OK);
    expect_text("header",
                "{\"vmref_trace\":1,\"profile\":\"k:v\",\"arch\":\"abstract\",\"page_size\":\"0x1000\",\"cpus\":4,"
                "\"phys_mem\":\"0x100000000\",\"provenance\":{\"source\":\"unit\",\"expected\":{\"verdict\":\"findings\","
                "\"ids\":[\"INV-TLB-1\",\"INV-FRAME-1\"]}}}\n");
    expect_int("one callback per short line", (long)calls, 1);
    reset(&e);
    h = (vmref_header){0};
    h.profile = "k";
    vmref_emit_header(&e, &h);
    expect_text("minimal header", "{\"vmref_trace\":1,\"profile\":\"k\"}\n");
  }

  /* 64-bit extremes: hex strings for u64, decimal for counts. */
  reset(&e);
  vmref_emit_begin(&e, "x");
  vmref_emit_u64(&e, "a", 0);
  vmref_emit_u64(&e, "b", UINT64_MAX);
  vmref_emit_u64(&e, "c", 0x8000000000000000ull);
  vmref_emit_int(&e, "d", 0);
  vmref_emit_int(&e, "e", UINT64_MAX);
  vmref_emit_bool(&e, "f", 0);
  vmref_emit_bool(&e, "g", 42);
  expect_int("u64 line", vmref_emit_end(&e), VMREF_EMIT_OK);
  expect_text("u64 line",
              "{\"op\":\"x\",\"a\":\"0x0\",\"b\":\"0xffffffffffffffff\",\"c\":\"0x8000000000000000\",\"d\":0,"
              "\"e\":18446744073709551615,\"f\":false,\"g\":true}\n");

  /* Escaping (RFC 8259 §7), keys included; NUL through strn. */
  reset(&e);
  vmref_emit_begin(&e, "x");
  vmref_emit_str(&e, "s", "a\"b\\c/\n\r\t\x01\x1f\x7f\xc3\xa9");
  vmref_emit_strn(&e, "n", "a\0b", 3);
  vmref_emit_str(&e, "k\"ey", "");
  vmref_emit_end(&e);
  expect_text("escaping",
              "{\"op\":\"x\",\"s\":\"a\\\"b\\\\c/\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\",\"n\":\"a\\u0000b\",\"k\\\"ey\":\"\"}\n");

  /* A string longer than the buffer: several callback calls, the same bytes. */
  reset(&e);
  memset(longs, 'z', 1000);
  longs[1000] = 0;
  longs[500] = '"';
  vmref_emit_begin(&e, "x");
  vmref_emit_str(&e, "s", longs);
  expect_int("long line", vmref_emit_end(&e), VMREF_EMIT_OK);
  expect_int("long line length", (long)out_len, (long)strlen("{\"op\":\"x\",\"s\":\"\"}\n") + 1001);
  expect_int("long line calls", calls > 1, 1);

  /* Nested objects and arrays through the low-level API (expect.pages). */
  reset(&e);
  vmref_emit_begin(&e, "observe");
  vmref_emit_int(&e, "as", 1);
  vmref_emit_object_begin(&e, "expect");
  vmref_emit_array_begin(&e, "pages");
  vmref_emit_object_begin(&e, NULL);
  vmref_emit_u64(&e, "va", 0x1000);
  vmref_emit_bool(&e, "present", 1);
  vmref_emit_object_end(&e);
  vmref_emit_object_begin(&e, NULL);
  vmref_emit_u64(&e, "va", 0x2000);
  vmref_emit_object_end(&e);
  vmref_emit_array_end(&e);
  vmref_emit_object_end(&e);
  expect_int("nested", vmref_emit_end(&e), VMREF_EMIT_OK);
  expect_text("nested",
              "{\"op\":\"observe\",\"as\":1,\"expect\":{\"pages\":[{\"va\":\"0x1000\",\"present\":true},{\"va\":\"0x2000\"}]}}\n");

  /* Typed calls: optional members absent, then present; cont and expect. */
  {
    vmref_pte_set p = {0};
    vmref_expect x = {0};
    reset(&e);
    p.as = 3;
    p.va = 0x7000;
    p.frame = "F";
    p.prot = "r-x";
    expect_int("typed", vmref_emit_pte_set(&e, &p), VMREF_EMIT_OK);
    p.has_cpu = 1, p.cpu = 1;
    p.has_cow = 1, p.cow = 0;
    p.cont = 1;
    x.err = "ok";
    p.expect = &x;
    vmref_emit_pte_set(&e, &p);
    expect_text("typed",
                "{\"op\":\"pte_set\",\"as\":3,\"va\":\"0x7000\",\"frame\":\"F\",\"prot\":\"r-x\"}\n"
                "{\"op\":\"pte_set\",\"cpu\":1,\"as\":3,\"va\":\"0x7000\",\"frame\":\"F\",\"prot\":\"r-x\",\"cow\":false,"
                "\"cont\":true,\"expect\":{\"errno\":\"ok\"}}\n");
  }

  /* Typed observations: every member of a vseg and a page, an empty VSL. */
  {
    vmref_observe o = {0};
    vmref_expect x = {0};
    vmref_vseg_expect v[2] = {{0}};
    vmref_page_expect pg[2] = {{0}};
    reset(&e);
    v[0].start = 0x1000, v[0].end = 0x3000, v[0].prot = "r-x", v[0].kind = "file", v[0].file = "8:1:42";
    v[0].name = "libc", v[0].has_shared = 1, v[0].shared = 0, v[0].has_offset = 1, v[0].offset = 0x2000;
    v[0].anon_pages = 1;
    v[1].start = 0x5000, v[1].end = 0x6000;
    pg[0].va = 0x1000, pg[0].has_present = 1, pg[0].present = 1, pg[0].prot = "r--", pg[0].has_cow = 1, pg[0].cow = 1;
    pg[0].has_zero = 1, pg[0].zero = 0, pg[0].has_refcount = 1, pg[0].refcount = 2, pg[0].has_mapcount = 1;
    pg[0].mapcount = 2, pg[0].has_exclusive = 1, pg[0].exclusive = 0, pg[0].has_kept = 1, pg[0].kept = 1;
    pg[0].size = 0x200000, pg[0].frame = "A";
    pg[1].va = 0x5000;
    x.has_vsl = 1, x.vsl = v, x.n_vsl = 2, x.pages = pg, x.n_pages = 2;
    o.as = 4;
    o.expect = &x;
    expect_int("observe", vmref_emit_observe(&e, &o), VMREF_EMIT_OK);
    x.n_vsl = 0, x.pages = NULL;
    vmref_emit_observe(&e, &o);
    expect_text("observe",
                "{\"op\":\"observe\",\"as\":4,\"expect\":{\"vsl\":[{\"start\":\"0x1000\",\"end\":\"0x3000\",\"prot\":\"r-x\","
                "\"kind\":\"file\",\"file\":\"8:1:42\",\"name\":\"libc\",\"shared\":false,\"offset\":\"0x2000\","
                "\"anon_pages\":true},{\"start\":\"0x5000\",\"end\":\"0x6000\"}],\"pages\":[{\"va\":\"0x1000\","
                "\"present\":true,\"prot\":\"r--\",\"cow\":true,\"zero\":false,\"refcount\":\"0x2\",\"mapcount\":\"0x2\","
                "\"exclusive\":false,\"kept\":true,\"size\":\"0x200000\",\"frame\":\"A\"},{\"va\":\"0x5000\"}]}}\n"
                "{\"op\":\"observe\",\"as\":4,\"expect\":{\"vsl\":[]}}\n");
  }

  /* Errors. */
  {
    vmref_pte_set p = {0};
    reset(&e);
    p.as = 1;
    p.prot = "rw-"; /* frame missing */
    expect_int("required NULL", vmref_emit_pte_set(&e, &p), VMREF_EMIT_EINVAL);
    expect_int("required NULL writes nothing", (long)out_len, 0);
    vmref_emit_as_destroy(&e, &(vmref_as_destroy){1, 0, NULL});
    expect_int("sticky", vmref_emit_error(&e), VMREF_EMIT_EINVAL);
    expect_int("sticky writes nothing", (long)out_len, 0);
    vmref_emit_reset_error(&e);
    expect_int("after reset", vmref_emit_as_destroy(&e, &(vmref_as_destroy){1, 0, NULL}), VMREF_EMIT_OK);
    expect_text("after reset", "{\"op\":\"as_destroy\",\"as\":1}\n");

    reset(&e);
    vmref_emit_u64(&e, "va", 1);
    expect_int("field outside a line", vmref_emit_error(&e), VMREF_EMIT_ESTATE);
    reset(&e);
    vmref_emit_begin(&e, "x");
    vmref_emit_begin(&e, "y");
    expect_int("line inside a line", vmref_emit_error(&e), VMREF_EMIT_ESTATE);
    reset(&e);
    vmref_emit_begin(&e, "x");
    vmref_emit_object_begin(&e, "o");
    expect_int("end with an object open", vmref_emit_end(&e), VMREF_EMIT_ESTATE);
    reset(&e);
    vmref_emit_begin(&e, "x");
    vmref_emit_str(&e, NULL, "keyless");
    expect_int("keyless value in an object", vmref_emit_error(&e), VMREF_EMIT_ESTATE);
    reset(&e);
    vmref_emit_begin(&e, "x");
    vmref_emit_array_begin(&e, "a");
    vmref_emit_str(&e, "k", "keyed");
    expect_int("keyed value in an array", vmref_emit_error(&e), VMREF_EMIT_ESTATE);
    reset(&e);
    vmref_emit_begin(&e, "x");
    {
      int i;
      for (i = 0; i < VMREF_EMIT_MAX_DEPTH; ++i) vmref_emit_array_begin(&e, i ? NULL : "a");
    }
    expect_int("too deep", vmref_emit_error(&e), VMREF_EMIT_ESTATE);
    reset(&e);
    expect_int("end without a line", vmref_emit_end(&e), VMREF_EMIT_ESTATE);
    reset(&e);
    vmref_emit_begin(&e, NULL);
    expect_int("NULL op", vmref_emit_error(&e), VMREF_EMIT_EINVAL);

    reset(&e);
    fail_after = 0;
    expect_int("write fails", vmref_emit_as_destroy(&e, &(vmref_as_destroy){1, 0, NULL}), VMREF_EMIT_EWRITE);
    fail_after = -1;
    expect_int("write failure is sticky", vmref_emit_as_destroy(&e, &(vmref_as_destroy){1, 0, NULL}), VMREF_EMIT_EWRITE);
    expect_int("nothing after a write failure", (long)out_len, 0);
  }

  if (argc == 3) failures += write_hostile(argv[1]) + write_hostile_trace(argv[1], argv[2]);
  if (failures) fprintf(stderr, "emit_unit: %d failure(s)\n", failures);
  else printf("emit_unit: all checks passed\n");
  return failures ? 1 : 0;
}
