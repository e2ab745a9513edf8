// `vmref replay --images-out DIR`: the implementation's memories as raw images.
#pragma once

#include <string>
#include <vector>

#include "vmref/conformance/replay.hpp"
#include "vmref/impl/vmm.hpp"

namespace vmref::conformance {

/// Writes each of `vmm`'s images (impl::Vmm::images) to DIR/<name>.img, complete or
/// absent (trace::OutputFile), sparse: only the frames ever written hold data. The
/// core's image is decoded by `core_format`. Creates DIR if missing; throws
/// trace::OutputError naming the path when a file cannot be written or would replace
/// `trace`, the replayed input.
std::vector<WrittenImage> write_images(const impl::Vmm& vmm, const std::string& dir, const std::string& core_format,
                                       const std::string& trace);

}  // namespace vmref::conformance
