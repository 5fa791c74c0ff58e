#!/usr/bin/env bash
# The SP workload (spawn /bin/true and wait for it, one child at a time, microseconds per
# child) for this library and its peers, in one sitting: asyncio_bench SP, CPython's asyncio
# (create_subprocess_exec + wait, the python3 on PATH) and Go's os/exec (Command.Run). Each
# RUNS times (default 5), interleaved, one KEY=VALUE line per run.
#   bench/peers/subprocess.sh path/to/asyncio_bench [RUNS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="${1:?usage: $0 path/to/asyncio_bench [RUNS]}"
runs="${2:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$here/go_subprocess" && GO111MODULE=off go build -o "$work/go_subprocess" main.go)
echo "# $(python3 --version 2>&1), $(go version)"

for ((i = 0; i < runs; ++i)); do
  "$bench" SP asyncio-cpp
  python3 "$here/python_subprocess/bench.py" cpython-asyncio
  "$work/go_subprocess" go
done
