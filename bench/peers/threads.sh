#!/usr/bin/env bash
# The TT workload (a no-op sent to another thread and its result awaited, ns per call) for this
# library and its peers, in one sitting: asyncio_bench TT, tokio spawn_blocking, Go goroutine +
# channel; then CST (call_soon_threadsafe from 4 threads). Each RUNS times (default 3), one
# KEY=VALUE line per run. Offline: tokio against Debian's vendored crates, Go's standard library.
#   bench/peers/threads.sh path/to/asyncio_bench [RUNS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="${1:?usage: $0 path/to/asyncio_bench [RUNS]}"
runs="${2:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cp -r "$here/tokio_threads" "$work/tokio"
mkdir -p "$work/tokio/.cargo"
cp "$here/tokio_threads/cargo-config.toml" "$work/tokio/.cargo/config.toml"
(cd "$work/tokio" && cargo build --release --quiet)
(cd "$here/go_threads" && GO111MODULE=off go build -o "$work/go_threads" main.go)

for ((i = 0; i < runs; ++i)); do
  "$bench" TT asyncio-cpp
  "$work/tokio/target/release/tokio-threads-bench" tokio
  "$work/go_threads" go
done
for ((i = 0; i < runs; ++i)); do "$bench" CST asyncio-cpp; done
