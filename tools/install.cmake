# `cmake --install BUILD [--prefix DIR]` (README "Emitting a trace from C"): the vmref
# CLI, the C emitter's headers with vmref-emit.pc (conformance/emit/), and the C++
# libraries as a CMake package: find_package(vmref) gives vmref::vmref (every part,
# registered: call vmref::register_all() first, as the CLI does), vmref::emit (the C
# header), and each library as vmref::<target> (vmref::vmref_vocab...).
#
# The libraries were declared for the build tree; here each one's public include folders
# are wrapped in $<BUILD_INTERFACE:...> and installed under include/, so no target's
# CMakeLists has to know about installation.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS vmref RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)

# Every vmref library reachable from the CLI's.
function(vmref_collect_targets target)
  get_property(seen GLOBAL PROPERTY VMREF_INSTALL_TARGETS)
  if(NOT TARGET ${target} OR target IN_LIST seen OR NOT target MATCHES "^vmref_")
    return()
  endif()
  get_target_property(aliased ${target} ALIASED_TARGET)
  if(aliased)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY VMREF_INSTALL_TARGETS ${target})
  foreach(prop LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
    get_target_property(libs ${target} ${prop})
    if(libs)
      foreach(l ${libs})
        string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" l "${l}")
        vmref_collect_targets(${l})
      endforeach()
    endif()
  endforeach()
endfunction()

add_library(vmref_package INTERFACE)
target_link_libraries(vmref_package INTERFACE vmref_registered vmref_cli)
set_target_properties(vmref_package PROPERTIES EXPORT_NAME vmref)
set_target_properties(vmref_emit PROPERTIES EXPORT_NAME emit)
vmref_collect_targets(vmref_package)
vmref_collect_targets(vmref_emit)
get_property(VMREF_INSTALL_TARGETS GLOBAL PROPERTY VMREF_INSTALL_TARGETS)

set(installed_dirs "")
foreach(t ${VMREF_INSTALL_TARGETS})
  get_target_property(dirs ${t} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT dirs)
    continue()
  endif()
  set(wrapped "")
  set(plain FALSE)
  foreach(d ${dirs})
    if(d MATCHES "^\\$<" OR NOT IS_ABSOLUTE "${d}")
      list(APPEND wrapped "${d}")  # already says where it lives (vmref_emit)
      continue()
    endif()
    list(APPEND wrapped "$<BUILD_INTERFACE:${d}>")
    set(plain TRUE)
    if(NOT d IN_LIST installed_dirs)
      list(APPEND installed_dirs "${d}")
      install(DIRECTORY ${d}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
              FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h" PATTERN "*.inc")
    endif()
  endforeach()
  if(plain)
    list(APPEND wrapped "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  endif()
  set_property(TARGET ${t} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${wrapped}")
endforeach()

install(TARGETS ${VMREF_INSTALL_TARGETS} EXPORT vmrefTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}/vmref COMPONENT dev
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/vmref COMPONENT dev)
set(VMREF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/vmref)
install(EXPORT vmrefTargets NAMESPACE vmref:: DESTINATION ${VMREF_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/vmrefConfig.cmake.in
  ${CMAKE_BINARY_DIR}/generated/vmrefConfig.cmake INSTALL_DESTINATION ${VMREF_CMAKE_DIR} PATH_VARS CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/generated/vmrefConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/generated/vmrefConfig.cmake ${CMAKE_BINARY_DIR}/generated/vmrefConfigVersion.cmake
        DESTINATION ${VMREF_CMAKE_DIR} COMPONENT dev)
