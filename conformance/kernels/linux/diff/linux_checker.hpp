// The linux kernel's differential checker (linux_checker.cpp).
#pragma once

#include <memory>

#include "vmref/conformance/registry.hpp"

namespace vmref::linux_mm {

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx);

}  // namespace vmref::linux_mm
