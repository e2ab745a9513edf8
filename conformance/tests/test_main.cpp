// The tests' entry point: every part registers before GoogleTest instantiates the
// tests that iterate over the registries (each invariant, each mutant).
#include <gtest/gtest.h>

#include "vmref/registered.hpp"

int main(int argc, char** argv) {
  vmref::register_all();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
