#!/usr/bin/env bash
# W7 scaling: does a loop per core scale?
#   (a) CPU-bound: `asyncio_bench W7` runs the W1 and W4 bodies by one loop, then by LOOPS loops
#       on as many threads at once, and prints the aggregate throughput and the speedup.
#   (b) network: the W6 echo served by one loop (`asyncio_bench server PORT`), then by LOOPS loops
#       sharing the port (`server PORT --loops N`, SO_REUSEPORT), driven by the peers' closed-loop
#       load generator with CONNS connections of SIZE-byte messages; prints msgs/s and messages per
#       server CPU-second (the server's utime+stime from /proc over the run).
# Every line is KEY=VALUE, one per run; RUNS repetitions, the configurations of one repetition
# run side by side.
#
# Usage: bench/scaling.sh [RUNS=3]
# Environment: ASYNCIO_BENCH (default build/release/bench/asyncio_bench), LOOPS=2, CONNS=50,
#   SIZE=64, SECONDS=5, LOADGEN (a built load generator; default: built from
#   $PEERS_DIR/common/loadgen.cpp, PEERS_DIR being the peer benchmark harness).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
RUNS="${1:-3}"
LOOPS="${LOOPS:-2}" CONNS="${CONNS:-50}" SIZE="${SIZE:-64}" SECONDS_="${SECONDS:-5}"
BENCH="${ASYNCIO_BENCH:-$ROOT/build/release/bench/asyncio_bench}"
PEERS_DIR="${PEERS_DIR:-$ROOT/../shared/peers}"
LOADGEN="${LOADGEN:-/tmp/asyncio-scaling-loadgen}"
[ -x "$BENCH" ] || { echo "build it first: cmake --preset release && cmake --build --preset release --target asyncio_bench" >&2; exit 1; }
if [ ! -x "$LOADGEN" ]; then
    [ -f "$PEERS_DIR/common/loadgen.cpp" ] || { echo "no load generator: set LOADGEN or PEERS_DIR" >&2; exit 1; }
    g++ -O2 -std=c++20 -o "$LOADGEN" "$PEERS_DIR/common/loadgen.cpp"
fi
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do
    "$BENCH" W7 asyncio-cpp "$LOOPS" | sed "s/\$/ run=$run/"
    for loops in 1 "$LOOPS"; do
        port=$((24000 + RANDOM % 8000))
        if [ "$loops" = 1 ]; then "$BENCH" server "$port" & else "$BENCH" server "$port" --loops "$loops" & fi
        pid=$!
        sleep 0.5
        t0=$(cpu_ticks "$pid")
        line=$("$LOADGEN" "$port" "asyncio-cpp-${loops}loops" W7_NET "$CONNS" "$SIZE" "$SECONDS_" 1)
        t1=$(cpu_ticks "$pid")
        kill "$pid"; wait "$pid" 2>/dev/null || true
        msgs=$(sed -n 's/.*msgs_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
        # CPU over the whole loadgen run (warm-up second included): scale msgs/s to that window.
        cpu_s=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
        per_cpu=$(awk -v m="$msgs" -v c="$cpu_s" -v s="$SECONDS_" 'BEGIN { if (c > 0) printf "%.0f", m * (s + 1) / c; else print "nan" }')
        echo "$line loops=$loops server_cpu_s=$cpu_s msgs_per_server_cpu_s=$per_cpu run=$run"
    done
done
