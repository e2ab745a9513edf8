// Test helpers of the linux kernel: models of the linux profile.
#pragma once

#include "helpers.hpp"
#include "linux_events.hpp"

namespace vmref::test {

inline model::Model linux_model(unsigned cpus = 2, std::uint64_t frames = 4096) {
  return model::Model(linux_mm::kKernel, cpus, frames, 4096);
}

/// A linux-profile model with address space 1 created and running on CPU 0.
inline model::Model linux_model_running_as1(unsigned cpus = 2) {
  model::Model m = linux_model(cpus);
  apply_clean(m, R"({"op":"as_create","as":1})");
  apply_clean(m, R"({"op":"switch","cpu":0,"as":1})");
  return m;
}

}  // namespace vmref::test
