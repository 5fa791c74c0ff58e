# CPack: `cpack -G DEB` in a build directory makes libasyncio-dev_<version>_<arch>.deb with the
# headers, both libraries, the CMake package and asyncio.pc. Configure that build with
# -DCMAKE_INSTALL_PREFIX=/usr so the libraries land in Debian's multiarch directory
# (tests/package/run.sh does).
set(CPACK_PACKAGE_NAME libasyncio-dev)
set(CPACK_PACKAGE_VENDOR "asyncio for C++")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION} (headers, static and shared library)")
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "asyncio for C++ maintainers")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "C++20 coroutine event loop with Python's asyncio API
 MicroPython's asyncio module and CPython's asyncio toolkit as a C++20 library:
 tasks, timeouts, synchronisation primitives, TCP, TLS, Unix and UDP sockets on epoll.
 This package holds the headers, libasyncio.a, libasyncio.so, the CMake package
 (find_package(asyncio)) and the pkg-config module (asyncio).")
# Linking the static library needs libssl and libcrypto (find_package(OpenSSL) in the CMake
# package, Requires.private in asyncio.pc): libssl-dev provides both and openssl.pc.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libssl-dev (>= 3)")
# libc6 and libstdc++6 versions from the shared library's imports (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
