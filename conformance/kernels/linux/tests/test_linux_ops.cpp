// One test group per operation of spec/kernels/linux.md §2, named after its section.
#include <gtest/gtest.h>

#include "linux_helpers.hpp"

using namespace vmref::model;
using namespace vmref::test;

namespace {
const char* kMap3 = R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x3000","prot":"rw-","flags":["private","anonymous","fixed"]})";
}

TEST(Linux_2_2_Mmap, FixedAnonymousMapsAndMergesWithNeighbour) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1})");
  EXPECT_EQ(apply_clean(m, kMap3).ret, 0x10000000u);
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10003000","len":"0x1000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  ASSERT_EQ(m.space(1)->vsl.size(), 1u);  // Linux merges compatible anonymous neighbours
  EXPECT_EQ(m.space(1)->vsl.find(0x10000000)->end, 0x10004000u);
}

TEST(Linux_2_2_Mmap, DifferentProtDoesNotMerge) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1})");
  apply_clean(m, kMap3);
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10003000","len":"0x1000","prot":"r--","flags":["private","anonymous","fixed"]})");
  EXPECT_EQ(m.space(1)->vsl.size(), 2u);
}

TEST(Linux_2_2_Mmap, HintPlacementIsTopDownBelowMmapBase) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1})");
  auto o = apply_clean(m, R"({"op":"mmap","as":1,"len":"0x2000","prot":"r--","flags":["private","anonymous"]})");
  EXPECT_EQ(o.ret, m.profile().params<vmref::linux_mm::LinuxParams>(vmref::linux_mm::kKernel)->mmap_base - 0x2000);
  auto o2 = apply_clean(m, R"({"op":"mmap","as":1,"len":"0x1000","prot":"rw-","flags":["private","anonymous"]})");
  EXPECT_EQ(o2.ret, m.profile().params<vmref::linux_mm::LinuxParams>(vmref::linux_mm::kKernel)->mmap_base - 0x3000);
}

TEST(Linux_2_2_Mmap, ErrorsAreOutcomes) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1})");
  apply_clean(m, kMap3);
  EXPECT_EQ(apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10001000","len":"0x1000","prot":"r--","flags":["private","anonymous","fixed_noreplace"]})").err, Err::eexist);
  EXPECT_EQ(apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000010","len":"0x1000","prot":"r--","flags":["private","anonymous","fixed"]})").err, Err::einval);
  EXPECT_EQ(apply_clean(m, R"({"op":"mmap","as":1,"len":"0x0","prot":"r--","flags":["private","anonymous"]})").err, Err::einval);
  EXPECT_EQ(apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x0","len":"0x1000","prot":"r--","flags":["private","anonymous","fixed"]})").err, Err::eperm);
  EXPECT_EQ(m.space(1)->vsl.size(), 1u);  // failures change nothing
}

TEST(Linux_2_2_Mmap, PopulateFaultsEveryPageIn) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1})");
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x3000","prot":"rw-","flags":["private","anonymous","fixed","populate"]})");
  EXPECT_EQ(m.space(1)->gpt.size(), 3u);
  EXPECT_NE(pte(m, 1, 0x10000000)->frame, kZeroFrame);  // private writable: write faults
}

TEST(Linux_2_3_Munmap, ThreeWaySplitFreesOnlyTheMiddle) {
  Model m = linux_model_running_as1();
  apply_clean(m, kMap3);
  for (const char* va : {"0x10000000", "0x10001000", "0x10002000"})
    apply_clean(m, std::string(R"({"op":"access","cpu":0,"kind":"write","va":")") + va + "\"}");
  EXPECT_EQ(m.frames().in_use(), 3u);
  apply_clean(m, R"({"op":"munmap","as":1,"addr":"0x10001000","len":"0x1000"})");
  EXPECT_EQ(m.space(1)->vsl.size(), 2u);
  EXPECT_EQ(m.frames().in_use(), 2u);
  EXPECT_EQ(pte(m, 1, 0x10001000), nullptr);
}

TEST(Linux_2_3_Munmap, UnalignedIsEinval) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1})");
  EXPECT_EQ(apply_clean(m, R"({"op":"munmap","as":1,"addr":"0x10000001","len":"0x1000"})").err, Err::einval);
}

TEST(Linux_2_4_Mprotect, SplitsThenMergesBack) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1})");
  apply_clean(m, kMap3);
  apply_clean(m, R"({"op":"mprotect","as":1,"addr":"0x10001000","len":"0x1000","prot":"r--"})");
  EXPECT_EQ(m.space(1)->vsl.size(), 3u);
  apply_clean(m, R"({"op":"mprotect","as":1,"addr":"0x10001000","len":"0x1000","prot":"rw-"})");
  EXPECT_EQ(m.space(1)->vsl.size(), 1u);
}

TEST(Linux_2_4_Mprotect, RemovingWriteShootsDownStaleWritableTranslations) {
  Model m = linux_model_running_as1();
  apply_clean(m, R"({"op":"switch","cpu":1,"as":1})");
  apply_clean(m, kMap3);
  apply_clean(m, R"({"op":"access","cpu":1,"va":"0x10000000","kind":"write"})");
  apply_clean(m, R"({"op":"mprotect","as":1,"addr":"0x10000000","len":"0x1000","prot":"r--"})");
  EXPECT_TRUE(m.cpus()[1].stale().empty());
  EXPECT_EQ(pte(m, 1, 0x10000000)->prot.str(), "r--");
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":1,"va":"0x10000000","kind":"write"})").access, AccessResult::segv_accerr);
}

TEST(Linux_2_4_Mprotect, HoleGivesEnomemAfterChangingWhatCameBefore) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1})");
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x1000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  EXPECT_EQ(apply_clean(m, R"({"op":"mprotect","as":1,"addr":"0x10000000","len":"0x2000","prot":"r--"})").err, Err::enomem);
  EXPECT_EQ(m.space(1)->vsl.find(0x10000000)->prot.str(), "r--");  // Linux do_mprotect_pkey
}

TEST(Linux_2_7_Access, ReadFaultMapsZeroPageThenWriteAllocates) {
  Model m = linux_model_running_as1();
  apply_clean(m, kMap3);
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"read"})").frame, kZeroFrame);
  EXPECT_TRUE(pte(m, 1, 0x10000000)->cow);
  EXPECT_EQ(m.frames().in_use(), 0u);
  FrameId f = apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})").frame;
  EXPECT_NE(f, kZeroFrame);
  EXPECT_EQ(m.frames()[f].content, Content::data);
}

TEST(Linux_2_7_Access, FaultsOutsideOrAgainstRights) {
  Model m = linux_model_running_as1();
  apply_clean(m, kMap3);
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":0,"va":"0x20000000"})").access, AccessResult::segv_maperr);
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"exec"})").access, AccessResult::segv_accerr);
}

TEST(Linux_2_7_Access, WithoutAnAddressSpaceIsAnImpossibleEvent) {
  Model m = linux_model();
  EXPECT_THROW(m.apply(ev(R"({"op":"access","cpu":0,"va":"0x1000"})")), ModelError);
  EXPECT_THROW(m.apply(ev(R"({"op":"access","cpu":7,"va":"0x1000"})")), ModelError);
}

TEST(Linux_2_7_Access, SharedFileMappingsShareThePageCacheFrame) {
  Model m = linux_model_running_as1();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x1000","prot":"rw-","flags":["shared","fixed"],"file":{"id":"8:1:7","path":"/f"}})");
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x20000000","len":"0x1000","prot":"r--","flags":["private","fixed"],"file":{"id":"8:1:7","path":"/f"}})");
  FrameId a = apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})").frame;
  FrameId b = apply_clean(m, R"({"op":"access","cpu":0,"va":"0x20000000","kind":"read"})").frame;
  EXPECT_EQ(a, b);
  EXPECT_EQ(m.frames()[a].refcount, 3u);  // two mappings + the page cache
}

TEST(Linux_2_6_Fork, PrivatePagesBecomeCowInBoth) {
  Model m = linux_model_running_as1();
  apply_clean(m, kMap3);
  FrameId f = apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})").frame;
  apply_clean(m, R"({"op":"fork","as":1,"child":2})");
  EXPECT_TRUE(pte(m, 1, 0x10000000)->cow);
  EXPECT_FALSE(pte(m, 1, 0x10000000)->prot.w);
  EXPECT_EQ(pte(m, 2, 0x10000000)->frame, f);
  EXPECT_EQ(m.frames()[f].refcount, 2u);
  apply_clean(m, R"({"op":"switch","cpu":1,"as":2})");
  FrameId g = apply_clean(m, R"({"op":"access","cpu":1,"va":"0x10000000","kind":"write"})").frame;
  EXPECT_NE(g, f);  // copy while shared
  EXPECT_EQ(m.frames()[g].version, m.frames()[f].version + 1);  // contents copied, then written
  FrameId h = apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})").frame;
  EXPECT_EQ(h, f);  // reuse in place once exclusive
}

TEST(Linux_2_6_Fork, ThenExitRestoresCounts) {
  Model m = linux_model_running_as1();
  apply_clean(m, kMap3);
  FrameId f = apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})").frame;
  apply_clean(m, R"({"op":"fork","as":1,"child":2})");
  apply_clean(m, R"({"op":"as_destroy","as":2})");
  EXPECT_EQ(m.frames()[f].refcount, 1u);
  EXPECT_EQ(m.space(2), nullptr);
}

TEST(Linux_2_5_Brk, GrowsAndShrinksTheHeap) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1,"brk":"0x600000"})");
  EXPECT_EQ(apply_clean(m, R"({"op":"brk","as":1,"addr":"0x0"})").ret, 0x600000u);
  EXPECT_EQ(apply_clean(m, R"({"op":"brk","as":1,"addr":"0x621000"})").ret, 0x621000u);
  EXPECT_EQ(m.space(1)->vsl.find(0x620fff)->start, 0x600000u);
  EXPECT_EQ(apply_clean(m, R"({"op":"brk","as":1,"addr":"0x610000"})").ret, 0x610000u);
  EXPECT_EQ(m.space(1)->vsl.find(0x610000), nullptr);
  EXPECT_EQ(apply_clean(m, R"({"op":"brk","as":1,"addr":"0x100"})").ret, 0x610000u);  // below start: unchanged
}

TEST(Linux_2_1_ExecReset, DropsEveryMapping) {
  Model m = linux_model_running_as1();
  apply_clean(m, kMap3);
  apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})");
  apply_clean(m, R"({"op":"exec_reset","as":1})");
  EXPECT_TRUE(m.space(1)->vsl.empty());
  EXPECT_EQ(m.frames().in_use(), 0u);
}

TEST(Linux_2_8_Pin, PinnedFrameOutlivesItsMapping) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1})");
  apply_clean(m, kMap3);
  FrameId f = apply_clean(m, R"({"op":"pin","as":1,"va":"0x10000000","handle":"h","kind":"write"})").frame;
  apply_clean(m, R"({"op":"munmap","as":1,"addr":"0x10000000","len":"0x3000"})");
  EXPECT_TRUE(m.frames()[f].allocated);
  apply_clean(m, R"({"op":"unpin","handle":"h"})");
  EXPECT_FALSE(m.frames()[f].allocated);
}

TEST(Vmm_3_3_FreeingAfterUnmap, DeferredUnmapHoldsFramesUntilTheFlush) {
  Model m = linux_model_running_as1();
  apply_clean(m, kMap3);
  FrameId f = apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})").frame;
  apply_clean(m, R"({"op":"munmap","as":1,"addr":"0x10000000","len":"0x3000","tlb":"deferred"})");
  EXPECT_TRUE(m.frames()[f].allocated);
  EXPECT_EQ(m.pending().size(), 1u);
  apply_clean(m, R"({"op":"tlb_flush","scope":"range","as":1,"va":"0x10000000","len":"0x1000","broadcast":false,"cpu":1})");
  EXPECT_TRUE(m.frames()[f].allocated);  // cpu 0 still may hold it
  apply_clean(m, R"({"op":"tlb_flush","scope":"asid","as":1})");
  EXPECT_FALSE(m.frames()[f].allocated);
}

TEST(Vmm_3_3_FreeingAfterUnmap, NoFlushUnmapIsCaught) {
  Model m = linux_model_running_as1();
  apply_clean(m, kMap3);
  apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})");
  auto ids = violations_after(m, R"({"op":"munmap","as":1,"addr":"0x10000000","len":"0x3000","tlb":"none"})");
  EXPECT_EQ(ids, std::vector<std::string>{"INV-TLB-1"});
}

TEST(Linux_2_4_Mprotect, RangeInsideOneVsegSplitsItThreeWays) {
  Model m = linux_model();
  apply_clean(m, R"({"op":"as_create","as":1})");
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x4000","prot":"---","flags":["private","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"mprotect","as":1,"addr":"0x10001000","len":"0x2000","prot":"rw-"})");
  ASSERT_EQ(m.space(1)->vsl.size(), 3u);
  EXPECT_EQ(m.space(1)->vsl.find(0x10003000)->prot.str(), "---");
  EXPECT_EQ(m.space(1)->vsl.find(0x10001000)->end, 0x10003000u);
}
