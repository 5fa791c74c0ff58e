#!/usr/bin/env bash
# W8 (queue hand-off) and W9 (semaphore-bounded fan-out): this library beside its peers
# (tokio current_thread: mpsc::channel(64) / Semaphore; Go GOMAXPROCS=1: chan int 64 /
# buffered channel as semaphore), each process pinned to one CPU, the peers of one repetition
# run side by side. One KEY=VALUE line per (workload, peer, run):
#   W8 asyncio-cpp ns_per_item=3.1 wall_s=0.003 allocs_per_item=0.0000 run=1
# then a median line per (workload, peer):  MEDIAN W8 tokio ns_per_item=...
#
# Usage: bench/peers/run.sh [W8|W9|all] [RUNS]   (defaults: all 3)
# Environment: BUILD=/tmp/asyncio-peers-build (peer builds); ASYNCIO_BENCH=path to a Release
#   asyncio_bench (default: build/release/bench/asyncio_bench, built if missing); CPU=1.
# Needs (Debian: apt-get install -y cargo librust-tokio-dev golang-go): cargo + librust-tokio-dev
#   (crates used offline from /usr/share/cargo/registry),
#   golang-go. A peer that cannot be built is reported as SKIP.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${BUILD:-/tmp/asyncio-peers-build}"
WHICH="${1:-all}"
RUNS="${2:-3}"
CPU="${CPU:-1}"
ASYNCIO_BENCH="${ASYNCIO_BENCH:-$ROOT/build/release/bench/asyncio_bench}"
mkdir -p "$BUILD"
if ! command -v cargo >/dev/null && [ -x "${HOME:-/nonexistent}/.cargo/bin/cargo" ]; then PATH="$PATH:$HOME/.cargo/bin"; fi

build_ours() {
    [ -x "$ASYNCIO_BENCH" ] && return 0
    (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release --target asyncio_bench) >&2
}
build_tokio() {
    command -v cargo >/dev/null || return 1
    local dir="$BUILD/tokio"
    mkdir -p "$dir/.cargo" "$dir/src"
    cp "$HERE/tokio/Cargo.toml" "$dir/"
    cp "$HERE/tokio/src/main.rs" "$dir/src/"
    cp "$HERE/tokio/cargo-config.toml" "$dir/.cargo/config.toml"
    (cd "$dir" && cargo build --release --offline -q) >&2
}
build_go() {
    command -v go >/dev/null || return 1
    (cd "$HERE/go" && GOCACHE="$BUILD/gocache" GO111MODULE=off go build -o "$BUILD/peer-go" bench.go) >&2
}

declare -A CMD
build_ours && CMD[asyncio-cpp]="$ASYNCIO_BENCH" || echo "SKIP asyncio-cpp reason=build failed"
build_tokio && CMD[tokio]="$BUILD/tokio/target/release/asyncio-cpp-peer-tokio" || echo "SKIP tokio reason=no cargo or build failed"
build_go && CMD[go]="env GOMAXPROCS=1 $BUILD/peer-go" || echo "SKIP go reason=no go or build failed"

case "$WHICH" in all) WORKLOADS="W8 W9" ;; *) WORKLOADS="$WHICH" ;; esac
RAW="$BUILD/raw.txt"
: > "$RAW"
for run in $(seq 1 "$RUNS"); do
    for w in $WORKLOADS; do
        for p in asyncio-cpp tokio go; do
            [ -n "${CMD[$p]:-}" ] || continue
            if out="$(timeout 300 taskset -c "$CPU" ${CMD[$p]} "$w" "$p")"; then
                echo "$out run=$run" | tee -a "$RAW"
            else
                echo "FAIL $w $p rc=$? run=$run"
            fi
        done
    done
done
# Median of the first metric of each (workload, peer).
python3 - "$RAW" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 3 or not f[0].startswith("W"):
        continue
    key, value = f[2].split("=")
    runs.setdefault((f[0], f[1], key), []).append(float(value))
for (w, peer, key), v in sorted(runs.items()):
    print(f"MEDIAN {w} {peer} {key}={statistics.median(v):.1f} min={min(v):.1f} max={max(v):.1f} runs={len(v)}")
PY
