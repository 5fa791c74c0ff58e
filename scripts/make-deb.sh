#!/usr/bin/env bash
# Builds the Debian package libasyncio-dev (headers, libasyncio.a, libasyncio.so, the CMake
# package and asyncio.pc; depends on libssl-dev) into build/package/ and prints its path.
# Install it with: sudo dpkg -i build/package/libasyncio-dev_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/package -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DASYNCIO_BUILD_TESTS=OFF -DASYNCIO_BUILD_EXAMPLES=OFF -DASYNCIO_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build/package -j2 >&2
rm -f build/package/libasyncio-dev_*.deb
(cd build/package && cpack -G DEB >/dev/null)
ls "$PWD"/build/package/libasyncio-dev_*.deb
