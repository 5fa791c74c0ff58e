#!/usr/bin/env bash
# Installs what building and testing asyncio needs (Debian/Ubuntu packages). Idempotent and
# quiet when everything is already present; as root it installs what is missing, otherwise it
# prints the apt-get command to run and exits 1.
set -euo pipefail

packages=(
  cmake
  ninja-build
  g++
  clang        # the unversioned clang++ command the clang presets use
  clang-14
  libclang-rt-14-dev   # clang's sanitizer and libFuzzer runtimes (clang-asan, fuzz presets)
  llvm-14      # llvm-cov-14 gcov: reads clang's coverage for gcovr (coverage preset)
  gcovr        # the coverage report and its floor (scripts/coverage.sh)
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libssl-dev
  doxygen      # the API reference (CMake target docs; CI's docs stage)
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
