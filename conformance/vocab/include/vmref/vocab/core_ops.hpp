// The operations every kernel shares (spec/vmm.md §2.1-§2.4, §3): address-space
// lifetime, context switches, TLB flushes, observations, accesses, and the mechanism
// steps a kernel under test reports (spec/vmm.md §2.6). Their argument types and rows.
#pragma once

#include <optional>
#include <string>

#include "vmref/vocab/event.hpp"
#include "vmref/vocab/vseg_attrs.hpp"

namespace vmref::vocab {

/// Arguments of an op acting in one address space.
struct SpaceArgs : OpArgs {
  Asid as = 0;
  std::optional<Asid> space() const override { return as; }
};

/// as_create (spec/vmm.md §2.1): `brk` is the heap start when the kernel has one (0: unknown).
struct AsCreateArgs : SpaceArgs {
  Va brk = 0;
};

/// The largest TLB tag a trace may name: 16 bits hold an x86-64 PCID (12 bits, Intel SDM
/// Vol 3A §4.10.1), an Arm ASID or VMID (16 bits) and a RISC-V ASID (Sv39/48: 16 bits).
inline constexpr std::uint32_t kMaxTlbTag = 0xffff;

/// switch (spec/vmm.md §2.3): the event's CPU runs `as`. Optionally through the root
/// table labelled `root` (one of the space's roots, §1.8), under TLB tag `tag` (ASID,
/// PCID or VMID, <= kMaxTlbTag), and with `flush` dropping the tag's non-global entries
/// first (MOV to CR3 with bit 63 clear, Intel SDM Vol 3A §4.10.4.1). Without a tag the
/// address space itself tags its translations.
struct SwitchArgs : SpaceArgs {
  std::string root;
  std::optional<std::uint32_t> tag;
  bool flush = false;
};

/// tlb_flush (spec/vmm.md §3.2), on every CPU or only on the event's CPU.
struct TlbFlushArgs : OpArgs {
  FlushScope scope = FlushScope::all;
  bool broadcast = true;
  Asid as = 0;               ///< scope asid/range
  Va va = 0;                 ///< scope range: bytes
  std::uint64_t len = 0;     ///< scope range: bytes
  bool with_global = false;  ///< also drop global entries
  /// scope asid/range: only entries cached under this TLB tag (INVPCID types 0/1, a
  /// PCID-scoped INVLPG); none: under every tag of `as`.
  std::optional<std::uint32_t> tag;
  std::optional<Asid> space() const override {
    return scope == FlushScope::all ? std::nullopt : std::optional<Asid>(as);
  }
};

/// access (spec/vmm.md §2.3): the event's CPU touches `va`.
struct AccessArgs : OpArgs {
  Va va = 0;
  AccessKind kind = AccessKind::read;
};

/// vseg_insert (spec/vmm.md §2.4): [start, end) as the kernel built it.
struct VsegInsertArgs : SpaceArgs {
  Va start = 0, end = 0;
  Prot prot;
  Kind kind = Kind::anon;
  bool shared = false;
  std::optional<FileRef> file;
  std::uint64_t offset = 0;        ///< file offset in bytes
  std::string name;                ///< "[heap]"...
  VsegFlags flags;
  /// Whether the vseg already has an owner of anonymous pages (Linux anon_vma); nullopt =
  /// unknown to the recorder (merges that depend on it are undetermined).
  std::optional<bool> anon_vma;
};

/// vseg_remove: the vseg starting at `start`.
struct VsegRemoveArgs : SpaceArgs {
  Va start = 0;
};

/// pte_set: `va` now maps the frame labelled `frame` ("zero" is the zero page) with a
/// leaf of `size` bytes (0: one page; otherwise page_size * E^k, spec/vmm.md §1.8).
struct PteSetArgs : SpaceArgs {
  Va va = 0;
  std::string frame;
  Prot prot;
  bool cow = false, global = false;
  std::uint64_t size = 0;
  bool local = false;  ///< only the event's CPU may cache it (a CPU-local mapping, spec/vmm.md §3.1)
  std::uint64_t page = 0;  ///< the frame's page the leaf starts at (a compound frame, spec/vmm.md §1.4)
};

/// pt_root / pt_link / pt_unlink (spec/vmm.md §1.8): the table page labelled `table` is
/// the root of `as` (level `level`), or is linked / unlinked as the level-`level` table
/// whose range holds `va`; `shared` declares a link that other address spaces share.
struct TableArgs : SpaceArgs {
  Va va = 0;
  unsigned level = 0;
  std::string table;
  bool shared = false;
};

/// pte_clear: the PTE at `va` goes.
struct PteClearArgs : SpaceArgs {
  Va va = 0;
};

/// frame_alloc / frame_get / frame_put / frame_free of the frame labelled `frame`.
struct FrameArgs : OpArgs {
  std::string frame;
  std::uint64_t size = 0;  ///< frame_alloc: bytes of a compound frame (0: one page)
};

/// frame_ref / frame_unref: `holder` (a kernel or driver structure, by name) records or
/// drops a reference on the frame labelled `frame` (spec/vmm.md §2.6).
struct FrameRefArgs : OpArgs {
  std::string frame, holder;
};

/// frame_pin: pin `handle` on the frame labelled `frame`, taken through `va` of `as`,
/// for writing when `write` (FOLL_WRITE).
struct FramePinArgs : SpaceArgs {
  std::string frame, handle;
  Va va = 0;
  bool write = false;
};

/// frame_unpin: the pin `handle` goes.
struct FrameUnpinArgs : OpArgs {
  std::string handle;
};

/// lock / unlock of the kernel lock named `lock` (a PTL, the mmap lock, the i_mmap
/// lock...: the trace names them) by the event's CPU (spec/vmm.md §3.4).
struct LockArgs : OpArgs {
  std::string lock;
};

/// call_return: the kernel call `call` returned; when it removed translations (munmap,
/// madvise(DONTNEED), mremap's source...), `as`, `va`, `len` (bytes) name what it removed.
struct ReturnArgs : OpArgs {
  std::string call;
  std::optional<Asid> as;
  Va va = 0;
  std::uint64_t len = 0;
  std::optional<Asid> space() const override { return as; }
};

/// tlb_pending: the kernel marks (`pending` true) or unmarks a pending flush of `as`
/// that other agents consult (Linux inc/dec_tlb_flush_pending).
struct TlbPendingArgs : SpaceArgs {
  bool pending = true;
};

/// va_release / va_reuse: [addr, addr + len) onto / off allocator list `list`
/// (spec/vmm.md §1.7); va_reuse serves a request of size class `request_class`.
struct VaListArgs : SpaceArgs {
  Va addr = 0;
  std::uint64_t len = 0;
  std::uint64_t list = 0;
  std::uint64_t request_class = 0;
};

namespace ops {
extern OpInfo as_create, as_destroy, switch_as, tlb_flush, observe, access;
extern OpInfo vseg_insert, vseg_remove, pte_set, pte_clear;
extern OpInfo frame_alloc, frame_get, frame_put, frame_free, va_release, va_reuse;
extern OpInfo frame_ref, frame_unref, frame_pin, frame_unpin;
extern OpInfo pt_root, pt_link, pt_unlink;
extern OpInfo lock, unlock, call_return, tlb_pending;
}  // namespace ops

/// Registers the rows above (called once, before any kernel registers).
void register_core_ops();

/// The optional `cpu` of a mechanism step (spec/trace-format.md §3.6), for the decoders
/// and encoders of every kernel's steps: read into / written from Event::cpu.
void decode_step_cpu(trace::Fields& f, Event& e);
void encode_step_cpu(const Event& e, nlohmann::ordered_json& j);

}  // namespace vmref::vocab
