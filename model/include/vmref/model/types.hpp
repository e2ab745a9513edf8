// Basic vocabulary of the abstract model (spec/vmm.md §1): the shared words, and the
// model's own frame identities.
#pragma once

#include <cstdint>

#include "vmref/vocab/types.hpp"
#include "vmref/vocab/vseg_attrs.hpp"

namespace vmref::model {

using vocab::AccessKind;
using vocab::AccessResult;
using vocab::allows;
using vocab::Asid;
using vocab::Err;
using vocab::FileRef;
using vocab::FlushScope;
using vocab::Kind;
using vocab::Prot;
using vocab::TlbMode;
using vocab::VmFlag;
using vocab::VsegFlags;
using vocab::Va;
using vocab::Vpn;

/// Abstract page-frame identity. Frame 0 is the shared zero page (spec/vmm.md §1.5).
using FrameId = std::uint32_t;
inline constexpr FrameId kZeroFrame = 0;
inline constexpr FrameId kNoFrame = UINT32_MAX;

/// Half-open page range [first, first + count) in VPNs.
struct VpnRange {
  Vpn first = 0;
  std::uint64_t count = 0;
  Vpn end() const { return first + count; }
};

}  // namespace vmref::model
