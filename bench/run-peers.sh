#!/usr/bin/env bash
# One sitting, every peer side by side, for docs/benchmarks.md:
#   1. W1-W6 (the peer harness's run.sh) with this library as its EXTRA_PEER "asyncio-cpp";
#   2. the W6 echo by message size, 64 B ... 64 KiB (`W6_S<bytes>` lines), each server pinned to
#      CPU 0 and the harness's load generator to CPU 1, as run.sh does for W6;
#   3. the machine and every peer's version.
# Output: one folder (default bench/results/<UTC date>) holding raw.txt (KEY=VALUE lines, one per
# workload, peer and run) and versions.txt; then `/usr/bin/python3 bench/plot.py <folder>` draws the charts.
#
# Usage: bench/run-peers.sh [RUNS=3] [OUT_DIR]
# Environment:
#   PEERS_DIR   the peer harness (run.sh, common/loadgen.cpp and the tokio, Go, Asio and CPython
#               programs); default: ../shared/peers beside this repository's checkout
#   PEERS       which peers (default: "asyncio-cpp asio tokio go cpython-uvloop cpython-asyncio")
#   SIZES       message sizes of step 2 (default: "64 1024 4096 16384 65536")
#   W6_SECONDS  measured seconds per W6 run (default 5; the harness's own W6 uses its default 8)
#   ASYNCIO_BENCH  a Release asyncio_bench (default build/release/bench/asyncio_bench, built if missing)
# Keep the machine otherwise idle: W6 on loopback is a ping-pong between two pinned processes.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
RUNS="${1:-3}"
OUT="${2:-$ROOT/bench/results/$(date -u +%Y-%m-%d)}"
PEERS_DIR="${PEERS_DIR:-$(cd "$ROOT/.." && pwd)/shared/peers}"
PEERS="${PEERS:-asyncio-cpp asio tokio go cpython-uvloop cpython-asyncio}"
SIZES="${SIZES:-64 1024 4096 16384 65536}"
W6_SECONDS="${W6_SECONDS:-5}"
BENCH="${ASYNCIO_BENCH:-$ROOT/build/release/bench/asyncio_bench}"
export BUILD="${BUILD:-/tmp/peers-build}"
[ -x "$PEERS_DIR/run.sh" ] || { echo "run-peers: no peer harness at $PEERS_DIR (set PEERS_DIR)" >&2; exit 1; }
if [ ! -x "$BENCH" ]; then
    (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release --target asyncio_bench) >&2
fi
mkdir -p "$OUT"
raw="$OUT/raw.txt"
: >"$raw"

# 1. W1-W6 through the harness (it builds the peers into $BUILD and the load generator).
EXTRA_PEER="asyncio-cpp=$BENCH" RUNS="$RUNS" "$PEERS_DIR/run.sh" all "$PEERS" | tee -a "$raw"
# Paths of this machine (the checkout, the home folder) are written relative, so the results
# can be committed and read elsewhere.
EXTRA_PEER="asyncio-cpp=$BENCH" "$PEERS_DIR/run.sh" versions | sed -e "s|$ROOT/||g" -e "s|${HOME:-/nonexistent}|~|g" >"$OUT/versions.txt"
echo "asyncio-cpp: commit $(git -C "$ROOT" describe --always --dirty 2>/dev/null), g++ -O2 (release preset)" >>"$OUT/versions.txt"

# 2. W6 by message size, with the binaries step 1 built.
server_cmd() {  # the W6 echo server of a peer, on port $2
    case "$1" in
    asyncio-cpp) echo "$BENCH server $2" ;;
    asio) echo "$BUILD/asio-bench server $2" ;;
    tokio) echo "$BUILD/tokio/target/release/tokio-bench server $2" ;;
    go) echo "env GOMAXPROCS=1 $BUILD/go-bench server $2" ;;
    cpython-uvloop) echo "/usr/bin/python3 $PEERS_DIR/python/bench.py --uvloop server $2" ;;
    cpython-asyncio) echo "/usr/bin/python3 $PEERS_DIR/python/bench.py server $2" ;;
    esac
}
# Waits (up to 10 s) until something accepts connections on 127.0.0.1:$1: a fixed pause was
# sometimes too short for a server to start, and the run then counted as a failure.
wait_listening() {
    local i
    for i in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 0  # the load generator then reports the failure
}
port=$((30000 + $$ % 2000 * 2))
for run in $(seq 1 "$RUNS"); do
    echo "# sizes run=$run start $(date -u +%H:%M:%S) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$raw"
    for size in $SIZES; do
        for p in $PEERS; do
            port=$((port + 1))  # not inside $(...): that would bump a subshell's copy only
            cmd="$(server_cmd "$p" "$port")"
            [ -n "$cmd" ] || continue
            taskset -c 0 $cmd >/dev/null 2>&1 &
            spid=$!
            wait_listening "$port"
            if line="$(timeout 60 taskset -c 1 "$BUILD/loadgen" "$port" "$p" "W6_S$size" 50 "$size" "$W6_SECONDS" 1)"; then
                echo "$line run=$run" | tee -a "$raw"
            else
                echo "FAIL W6_S$size $p run=$run" | tee -a "$raw"
            fi
            # A server that already exited makes kill fail; that must not end the sitting.
            kill "$spid" 2>/dev/null || true
            wait "$spid" 2>/dev/null || true
        done
    done
done
echo "run-peers: $raw; charts: /usr/bin/python3 bench/plot.py $OUT" >&2
