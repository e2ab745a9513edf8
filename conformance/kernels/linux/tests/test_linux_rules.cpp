// Linux-profile rules found or confirmed with the live-kernel oracle (spec/kernels/linux.md §1, §2):
// mremap, madvise, mlock, MAP_STACK, SIGBUS past an object's end, the x86 exec fault,
// VM_ACCOUNT on mprotect, fault-around, and the directional anon_vma merge rule.
#include <gtest/gtest.h>

#include "linux_helpers.hpp"

using namespace vmref::model;
using namespace vmref::test;

namespace {
Model with_as() { return linux_model_running_as1(1); }
std::size_t vsegs(const Model& m) { return m.space(1)->vsl.size(); }
}  // namespace

TEST(Linux_2_13_Mremap, GrowsInPlaceWhenTheGapAllows) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x2000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  auto o = apply_clean(m, R"({"op":"mremap","as":1,"addr":"0x10000000","len":"0x2000","new_len":"0x4000"})");
  EXPECT_EQ(o.ret, 0x10000000u);
  EXPECT_EQ(m.space(1)->vsl.find(0x10000000)->end, 0x10004000u);
}

TEST(Linux_2_13_Mremap, MoveCarriesFramesAndFlushesTheOldRange) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x2000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  FrameId f = apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10001000","kind":"write"})").frame;
  auto o = apply_clean(m, R"({"op":"mremap","as":1,"addr":"0x10000000","len":"0x2000","new_len":"0x2000","flags":["maymove","fixed"],"new_addr":"0x20000000"})");
  EXPECT_EQ(o.ret, 0x20000000u);
  EXPECT_EQ(pte(m, 1, 0x20001000)->frame, f);
  EXPECT_EQ(m.space(1)->vsl.find(0x10000000), nullptr);
  EXPECT_TRUE(m.cpus()[0].stale().empty());
}

TEST(Linux_2_13_Mremap, ErrorOrderMatchesLinux) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x1000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x30000000","len":"0x1000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  // Overlapping fixed ranges: EINVAL even though the source is missing.
  EXPECT_EQ(apply_clean(m, R"({"op":"mremap","as":1,"addr":"0x20000000","len":"0x2000","new_len":"0x2000","flags":["maymove","fixed"],"new_addr":"0x20001000"})").err, Err::einval);
  // No vseg at addr: EFAULT, even for a shrink.
  EXPECT_EQ(apply_clean(m, R"({"op":"mremap","as":1,"addr":"0x20000000","len":"0x2000","new_len":"0x1000"})").err, Err::efault);
  // Source longer than its vseg: EFAULT before the destination is touched.
  EXPECT_EQ(apply_clean(m, R"({"op":"mremap","as":1,"addr":"0x10000000","len":"0x3000","new_len":"0x3000","flags":["maymove","fixed"],"new_addr":"0x30000000"})").err, Err::efault);
  EXPECT_NE(m.space(1)->vsl.find(0x30000000), nullptr);
}

TEST(Linux_2_11_Madvise, DontneedZapsAndDontforkHidesFromTheChild) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x4000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})");
  apply_clean(m, R"({"op":"madvise","as":1,"addr":"0x10000000","len":"0x1000","advice":"dontneed"})");
  EXPECT_EQ(pte(m, 1, 0x10000000), nullptr);
  EXPECT_EQ(vsegs(m), 1u);
  apply_clean(m, R"({"op":"madvise","as":1,"addr":"0x10002000","len":"0x2000","advice":"dontfork"})");
  EXPECT_EQ(vsegs(m), 2u);
  apply_clean(m, R"({"op":"fork","as":1,"child":2})");
  EXPECT_EQ(m.space(2)->vsl.size(), 1u);
  EXPECT_EQ(m.space(2)->vsl.find(0x10002000), nullptr);
}

TEST(Linux_2_11_Madvise, WipeonforkGivesTheChildFreshPages) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x1000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})");
  apply_clean(m, R"({"op":"madvise","as":1,"addr":"0x10000000","len":"0x1000","advice":"wipeonfork"})");
  apply_clean(m, R"({"op":"fork","as":1,"child":2})");
  EXPECT_EQ(pte(m, 2, 0x10000000), nullptr);
  EXPECT_NE(m.space(2)->vsl.find(0x10000000), nullptr);
  EXPECT_EQ(apply_clean(m, R"({"op":"madvise","as":1,"addr":"0x20000000","len":"0x1000","advice":"dontneed"})").err, Err::enomem);
}

TEST(Linux_2_12_Mlock, LocksAndPopulates) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x3000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"mlock","as":1,"addr":"0x10001000","len":"0x1000"})");
  EXPECT_EQ(vsegs(m), 3u);
  EXPECT_TRUE(m.space(1)->vsl.find(0x10001000)->flags.has(VmFlag::locked));
  EXPECT_NE(pte(m, 1, 0x10001000), nullptr);
  apply_clean(m, R"({"op":"munlock","as":1,"addr":"0x10001000","len":"0x1000"})");
  EXPECT_EQ(vsegs(m), 1u);
}

TEST(Linux_1_11_MapStack, MapStackIsNoHugepageAndDoesNotMerge) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x2000","prot":"rw-","flags":["private","anonymous","fixed","stack"]})");
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10002000","len":"0x2000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  EXPECT_EQ(vsegs(m), 2u);
  EXPECT_TRUE(m.space(1)->vsl.find(0x10000000)->flags.has(VmFlag::nohugepage));
}

TEST(Linux_1_12_Sigbus, SharedAnonymousPastItsSizeIsSigbus) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x1000","prot":"rw-","flags":["shared","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"mremap","as":1,"addr":"0x10000000","len":"0x1000","new_len":"0x2000"})");
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10001000"})").access, AccessResult::sigbus);
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000"})").access, AccessResult::ok);
}

TEST(Linux_1_10_X86AccessRules, ExecFaultOnNonExecutablePageMapsItFirst) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x1000","prot":"-w-","flags":["private","anonymous","fixed"]})");
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"exec"})").access, AccessResult::segv_accerr);
  ASSERT_NE(pte(m, 1, 0x10000000), nullptr);
  EXPECT_EQ(pte(m, 1, 0x10000000)->frame, kZeroFrame);  // write implies read on x86
}

TEST(Linux_2_4_Mprotect, ReadOnlyMprotectDropsAccountOfUntouchedAnonymous) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x2000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})");
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10002000","len":"0x2000","prot":"-w-","flags":["private","anonymous","fixed"]})");
  EXPECT_EQ(vsegs(m), 2u);
  apply_clean(m, R"({"op":"mprotect","as":1,"addr":"0x10000000","len":"0x4000","prot":"r-x"})");
  // The touched half keeps VM_ACCOUNT, the untouched one loses it: two vsegs.
  EXPECT_EQ(vsegs(m), 2u);
}

TEST(Linux_1_9_FaultAround, FaultAroundMapsCachedNeighboursOfAReadFault) {
  Model m = with_as();
  const char* map = R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x10000","prot":"rw-","flags":["shared","fixed"],"file":{"id":"8:1:5","path":"/f"}})";
  apply_clean(m, map);
  for (const char* va : {"0x10003000", "0x10005000"})
    apply_clean(m, std::string(R"({"op":"access","cpu":0,"kind":"write","va":")") + va + "\"}");
  apply_clean(m, R"({"op":"madvise","as":1,"addr":"0x10000000","len":"0x10000","advice":"dontneed"})");
  apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"read"})");
  EXPECT_NE(pte(m, 1, 0x10003000), nullptr);  // cached: mapped around the fault
  EXPECT_NE(pte(m, 1, 0x10005000), nullptr);
  EXPECT_EQ(pte(m, 1, 0x10004000), nullptr);  // never cached
}

TEST(Linux_1_2_VsegMerging, ForkedOwnerDoesNotMergeIntoAnOwnerlessNeighbour) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x2000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10002000","len":"0x2000","prot":"-w-","flags":["private","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10002000","kind":"write"})");
  apply_clean(m, R"({"op":"fork","as":1,"child":2})");
  apply_clean(m, R"({"op":"mprotect","as":2,"addr":"0x10002000","len":"0x2000","prot":"rw-"})");
  EXPECT_EQ(m.space(2)->vsl.size(), 2u);  // the child's owner has a non-singular chain
  apply_clean(m, R"({"op":"mprotect","as":1,"addr":"0x10002000","len":"0x2000","prot":"rw-"})");
  EXPECT_EQ(m.space(1)->vsl.size(), 1u);  // the parent's does not
}

TEST(Linux_1_2_VsegMerging, InPlaceGrowOfAForkChildJoinsAnOwnerlessNext) {
  // Found by the oracle (seed 90210): the range mremap adds has no vseg of its own, so the
  // child's fork-made owner does not keep it from the owner-less vseg after it.
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x10000000","len":"0x5000","prot":"-w-","flags":["private","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"munmap","as":1,"addr":"0x10002000","len":"0x1000"})");
  apply_clean(m, R"({"op":"access","cpu":0,"va":"0x10000000","kind":"write"})");
  apply_clean(m, R"({"op":"fork","as":1,"child":2})");
  apply_clean(m, R"({"op":"mremap","as":2,"addr":"0x10000000","len":"0x2000","new_len":"0x3000"})");
  ASSERT_EQ(m.space(2)->vsl.size(), 1u);
  EXPECT_EQ(m.space(2)->vsl.find(0x10000000)->end, 0x10005000u);
  // An mprotect of the same child's vseg is a change of an existing vseg: that one is refused.
  apply_clean(m, R"({"op":"mmap","as":2,"addr":"0x10005000","len":"0x1000","prot":"r--","flags":["private","anonymous","fixed"]})");
  apply_clean(m, R"({"op":"mprotect","as":2,"addr":"0x10005000","len":"0x1000","prot":"-w-"})");
  EXPECT_EQ(m.space(2)->vsl.size(), 2u);
}

TEST(Linux_1_6_StackGrowth, AccessBelowAGrowsdownVsegGrowsItWithinTheLimitAndGuardGap) {
  Model m = with_as();
  // A one-page stack at 0x7ff000000000 and a one-page mapping 0x200 pages below it: the
  // stack may grow down to 256 pages (the guard gap) above that mapping's end.
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x7ff000000000","len":"0x1000","prot":"rw-","flags":["private","anonymous","fixed","growsdown"]})");
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x7fefffe00000","len":"0x1000","prot":"rw-","flags":["private","anonymous","fixed"]})");
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":0,"va":"0x7feffffff008","kind":"write"})").access, AccessResult::ok);
  EXPECT_EQ(m.space(1)->vsl.find(0x7ff000000000)->start, 0x7feffffff000u) << "grown down to the faulting page";
  // One page too deep: less than the guard gap would stay above the mapping below.
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":0,"va":"0x7feffff00008","kind":"read"})").access,
            AccessResult::segv_maperr);
  // A recorded stack_expand follows the same rule, up to exactly the gap.
  EXPECT_EQ(apply_clean(m, R"({"op":"stack_expand","as":1,"va":"0x7feffff00000"})").err, Err::efault);
  EXPECT_EQ(apply_clean(m, R"({"op":"stack_expand","as":1,"va":"0x7feffff01000"})").err, Err::ok);
  EXPECT_EQ(m.space(1)->vsl.find(0x7ff000000000)->start, 0x7feffff01000u);
}

TEST(Linux_1_6_StackGrowth, StackLimitCapsGrowth) {
  Model m = with_as();
  apply_clean(m, R"({"op":"mmap","as":1,"addr":"0x7ff000000000","len":"0x1000","prot":"rw-","flags":["private","anonymous","fixed","growsdown"]})");
  // RLIMIT_STACK 8 MiB: 0x800 pages including the first one.
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":0,"va":"0x7fefff801000","kind":"read"})").access, AccessResult::ok);
  EXPECT_EQ(apply_clean(m, R"({"op":"access","cpu":0,"va":"0x7fefff800000","kind":"read"})").access,
            AccessResult::segv_maperr);
}
