#!/usr/bin/env bash
# UDP echo, 64-byte datagrams: this library's `asyncio_bench udp-server`, tokio's UdpSocket and
# Go's net.UDPConn, each server pinned to CPU 0 and the load generator (asyncio_udp_loadgen,
# plain sockets, 50 clients) to CPU 1, in one sitting; RUNS times (default 3), one KEY=VALUE line
# per server and run. Offline: tokio against Debian's vendored crates, Go's standard library.
#   bench/peers/udp.sh path/to/asyncio_bench path/to/asyncio_udp_loadgen [RUNS] [SECONDS] [SIZE]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="${1:?usage: $0 path/to/asyncio_bench path/to/asyncio_udp_loadgen [RUNS] [SECONDS] [SIZE]}"
loadgen="${2:?usage: $0 path/to/asyncio_bench path/to/asyncio_udp_loadgen [RUNS] [SECONDS] [SIZE]}"
runs="${3:-3}"
seconds="${4:-10}"
size="${5:-64}"
work="$(mktemp -d)"
spid=""
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$work"' EXIT

cp -r "$here/tokio_udp" "$work/tokio"
mkdir -p "$work/tokio/.cargo"
cp "$here/tokio_udp/cargo-config.toml" "$work/tokio/.cargo/config.toml"
(cd "$work/tokio" && cargo build --release --quiet)
(cd "$here/go_udp" && GO111MODULE=off go build -o "$work/go_udp" main.go)

port=$((40000 + $$ % 2000 * 2))
for ((i = 1; i <= runs; ++i)); do
  for peer in asyncio-cpp tokio go; do
    port=$((port + 1))
    case "$peer" in
      asyncio-cpp) taskset -c 0 "$bench" udp-server "$port" & ;;
      tokio) taskset -c 0 "$work/tokio/target/release/tokio-udp-bench" "$port" & ;;
      go) GOMAXPROCS=1 taskset -c 0 "$work/go_udp" "$port" & ;;
    esac
    spid=$!
    sleep 0.5
    line="$(taskset -c 1 "$loadgen" "$port" 50 "$size" "$seconds" 1 "$peer")" || line="FAIL UDP_S$size $peer"
    echo "$line run=$i"
    kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null || true
    spid=""
  done
done
