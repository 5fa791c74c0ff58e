#!/usr/bin/env bash
# Proves the packaging the way a user meets it (STYLE §8):
#   (a) install build/release into a temporary prefix, then build and run consumer/ against it
#       with find_package(asyncio CONFIG REQUIRED);
#   (b) build and run subdir/, which pulls the source tree in with add_subdirectory.
# Each program exits 0 iff asyncio::run of its coroutine returned 42.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

prefix="$(mktemp -d /tmp/asyncio-pkg-XXXX)"
work="$(mktemp -d /tmp/asyncio-pkg-build-XXXX)"
trap 'rm -rf "$prefix" "$work"' EXIT

echo "package: building the library (release preset)"
cmake --preset release >/dev/null
cmake --build --preset release --target asyncio -j2

echo "package: (a) install into $prefix, find_package consumer"
cmake --install build/release --prefix "$prefix" >/dev/null
cmake -S "$here/consumer" -B "$work/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer" -j2
"$work/consumer/app"
echo "package: (a) find_package consumer OK"

echo "package: (b) add_subdirectory consumer"
cmake -S "$here/subdir" -B "$work/subdir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DASYNCIO_SOURCE_DIR="$repo" >/dev/null
cmake --build "$work/subdir" -j2
"$work/subdir/app"
echo "package: (b) add_subdirectory consumer OK"
