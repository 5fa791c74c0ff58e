# Installs the library, its headers and an exported package: find_package(asyncio CONFIG)
# then gives the target asyncio::asyncio.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS asyncio EXPORT asyncioTargets
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
