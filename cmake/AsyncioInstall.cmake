# Installs the library, its headers and an exported package: find_package(asyncio CONFIG)
# then gives the target asyncio::asyncio.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_asyncio_installed asyncio)
if(ASYNCIO_BUILD_SHARED)
  list(APPEND _asyncio_installed asyncio_shared)
endif()
install(TARGETS ${_asyncio_installed} EXPORT asyncioTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/asyncio DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/asyncio/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/asyncio)
install(EXPORT asyncioTargets NAMESPACE asyncio:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/asyncio)

configure_package_config_file(cmake/asyncioConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/asyncioConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/asyncio)
# find_package(asyncio 0.1) accepts any 0.x.y >= 0.1: the public API keeps source
# compatibility within a major version (CHANGELOG.md, "API stability").
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/asyncioConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/asyncioConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/asyncioConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/asyncio)

# pkg-config: asyncio.pc in <libdir>/pkgconfig, with paths relative to its own directory so
# that an install moved elsewhere (or made with cmake --install --prefix) still works.
set(_asyncio_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
string(REGEX REPLACE "[^/]+" ".." ASYNCIO_PC_TO_PREFIX "${_asyncio_pc_dir}")
set(ASYNCIO_PC_DEFINES "")
if(NOT ASYNCIO_FRAME_POOL)
  set(ASYNCIO_PC_DEFINES " -DASYNCIO_SYSTEM_FRAME_ALLOCATOR")
endif()
configure_file(cmake/asyncio.pc.in ${CMAKE_CURRENT_BINARY_DIR}/asyncio.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/asyncio.pc DESTINATION ${_asyncio_pc_dir})
