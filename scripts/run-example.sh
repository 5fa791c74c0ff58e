#!/usr/bin/env bash
# Builds the blink example (release preset) and runs it: bash scripts/run-example.sh [blink args]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target blink -j2
exec build/release/examples/blink "$@"
