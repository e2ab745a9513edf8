// The toy kernel's vocabulary (toy.md): a test-only kernel that proves a kernel can be
// added from its own folder. Its model (toy_model.cpp), implementation (toy_vmm.cpp)
// and generator (toy_generator.cpp) share only these plain structs.
#pragma once

#include "vmref/vocab/core_ops.hpp"

namespace vmref::toy {

using vocab::Asid;
using vocab::Va;

inline constexpr const char* kKernel = "toy";
inline constexpr Va kWindowStart = 0x70000000, kWindowEnd = 0x71000000;  ///< bytes
inline constexpr std::uint64_t kMaxPages = 256;

/// The variant's rules (toy.md §3) as plain data.
struct ToyParams : vocab::KernelParams {
  bool respect_live = true;  ///< false: `overlap`, every allocation starts at the window's base
};

/// toy_alloc (toy.md §1): `len` bytes.
struct AllocArgs : vocab::SpaceArgs {
  std::uint64_t len = 0;
};
/// toy_free (toy.md §1): the allocation starting at `addr`.
struct FreeArgs : vocab::SpaceArgs {
  Va addr = 0;
};

namespace ops {
extern vocab::OpInfo alloc, free;
}

/// Registers every layer's rows of the toy kernel (vocabulary, model, implementation,
/// conformance); call after vmref::register_all().
void register_toy();

void register_vocab();
void register_model();
void register_impl();
void register_conformance();

}  // namespace vmref::toy
