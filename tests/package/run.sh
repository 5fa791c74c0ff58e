#!/usr/bin/env bash
# Proves the packaging the way a user meets it. Each program is consumer/main.cpp, which exits
# 0 iff asyncio::run of its coroutine returned 42.
#   (a) install build/release into a temporary prefix; consumer/ with find_package (static and
#       shared library, a 1.x request refused) and pkgconfig/Makefile with PKG_CONFIG_PATH;
#   (b) subdir/: the source tree through add_subdirectory;
#   (c) fetchcontent/: the source tree through FetchContent;
#   (d) the Debian package: scripts/make-deb.sh (cpack, prefix /usr), dpkg -i, then
#       consumer/ and pkgconfig/Makefile against the system install, then dpkg -P. Needs root
#       (CI runs as root); otherwise (d) stops after building the .deb and says so.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

prefix="$(mktemp -d /tmp/asyncio-pkg-XXXX)"
work="$(mktemp -d /tmp/asyncio-pkg-build-XXXX)"
installed_deb=0
cleanup() {
  if ((installed_deb)); then dpkg -P libasyncio-dev >/dev/null || true; fi
  rm -rf "$prefix" "$work"
}
trap cleanup EXIT

# run_consumer DIR: runs both builds of consumer/ and checks app_shared loads libasyncio.so.
run_consumer() {
  "$1/app"
  "$1/app_shared"
  ldd "$1/app_shared" | grep -q 'libasyncio\.so\.' || { echo "app_shared does not load libasyncio.so" >&2; exit 1; }
}
# run_makefile OUT [LIBDIR]: builds pkgconfig/Makefile into OUT and runs both programs (with
# LIBDIR, where libasyncio.so is when not in the system's library path).
run_makefile() {
  mkdir -p "$1"
  make -s -f "$here/pkgconfig/Makefile" OUT="$1"
  LD_LIBRARY_PATH="${2:-}" "$1/app_shared"
  "$1/app_static"
  if ldd "$1/app_static" | grep -q 'libasyncio\.so'; then echo "app_static loads libasyncio.so" >&2; exit 1; fi
}

echo "package: building the library (release preset)"
cmake --preset release >/dev/null
cmake --build --preset release --target asyncio asyncio_shared -j2

echo "package: (a) install into $prefix"
cmake --install build/release --prefix "$prefix" >/dev/null
cmake -S "$here/consumer" -B "$work/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer" -j2
run_consumer "$work/consumer"
echo "package: (a) find_package consumer OK (static and shared)"
pcdir=$(dirname "$(find "$prefix" -name asyncio.pc)")
PKG_CONFIG_PATH="$pcdir" run_makefile "$work/pkgconfig" "$(dirname "$pcdir")"
echo "package: (a) pkg-config + Makefile consumer OK (shared and static)"

echo "package: (b) add_subdirectory consumer"
cmake -S "$here/subdir" -B "$work/subdir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DASYNCIO_SOURCE_DIR="$repo" >/dev/null
cmake --build "$work/subdir" -j2
"$work/subdir/app"
echo "package: (b) add_subdirectory consumer OK"

echo "package: (c) FetchContent consumer"
cmake -S "$here/fetchcontent" -B "$work/fetchcontent" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DASYNCIO_SOURCE_DIR="$repo" >/dev/null
cmake --build "$work/fetchcontent" -j2
"$work/fetchcontent/app"
echo "package: (c) FetchContent consumer OK"

echo "package: (d) Debian package (build/package, prefix /usr)"
deb=$(bash scripts/make-deb.sh)
echo "package: (d) built $deb"
dpkg-deb --info "$deb" | grep -E '^ (Package|Version|Depends):'
contents=$(dpkg-deb --contents "$deb")
for want in /usr/include/asyncio/asyncio.hpp /usr/include/asyncio/version.hpp libasyncio.a libasyncio.so \
            "libasyncio.so.[0-9]" asyncioConfig.cmake asyncioConfigVersion.cmake pkgconfig/asyncio.pc; do
  grep -q -- "$want" <<<"$contents" || { echo "the .deb lacks $want" >&2; exit 1; }
done
if [[ $(id -u) -ne 0 ]]; then
  echo "package: (d) SKIPPED installing the .deb: dpkg -i needs root (CI runs as root)."
  exit 0
fi
if dpkg-query -W -f='${Status}' libasyncio-dev 2>/dev/null | grep -q 'install ok installed'; then
  echo "package: (d) libasyncio-dev is already installed on this machine; not touching it" >&2
  exit 1
fi
dpkg -i "$deb" >/dev/null
installed_deb=1
cmake -S "$here/consumer" -B "$work/deb-consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/deb-consumer" -j2
run_consumer "$work/deb-consumer"
grep -q "asyncio_DIR:PATH=/usr/" "$work/deb-consumer/CMakeCache.txt" || { echo "find_package did not use /usr" >&2; exit 1; }
echo "package: (d) find_package consumer against the installed .deb OK"
unset PKG_CONFIG_PATH
pkg-config --modversion asyncio
run_makefile "$work/deb-pkgconfig"
echo "package: (d) pkg-config + Makefile consumer against the installed .deb OK"
