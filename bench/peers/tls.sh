#!/usr/bin/env bash
# TLS echo beside plain echo and Go's crypto/tls, in one sitting: for each message size, our
# plain echo (`asyncio_bench server`), our TLS echo (`asyncio_bench tls-server`) and Go's TLS
# echo (bench/peers/go_tls, GOMAXPROCS=1), all driven by the same closed-loop load generator
# (asyncio_tls_loadgen; "plain" mode for the plain server). Server pinned to CPU 0, load
# generator to CPU 1. One KEY=VALUE line per (size, server, run), with the server's CPU time
# over the measured window (from /proc/PID/stat) as server_us_per_msg, then a MEDIAN line per
# (size, server). With STRACE=1, one more short run per (size, server) under `strace -c -f`
# prints syscalls_per_msg (strace slows the server: its msgs_per_s is not comparable).
# Offline: Go's standard library only.
#   bench/peers/tls.sh path/to/asyncio_bench path/to/asyncio_tls_loadgen [RUNS]
# Environment: SIZES="64 1024 16384", CONNS=50, SECONDS_=5 (measured), WARMUP=1, STRACE=0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="${1:?usage: $0 path/to/asyncio_bench path/to/asyncio_tls_loadgen [RUNS]}"
loadgen="${2:?usage: $0 path/to/asyncio_bench path/to/asyncio_tls_loadgen [RUNS]}"
runs="${3:-3}"
sizes="${SIZES:-64 1024 16384}"
conns="${CONNS:-50}"
seconds="${SECONDS_:-5}"
warmup="${WARMUP:-1}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

bash "$here/../tls_certs.sh" "$work/certs" >/dev/null
cert="$work/certs/cert.pem"
key="$work/certs/key.pem"
(cd "$here/go_tls" && GOCACHE="$work/gocache" GO111MODULE=off go build -o "$work/go-tls-echo" main.go)
hz="$(getconf CLK_TCK)"
port=$((20000 + $$ % 20000))

port_in_use() {
  local hex; hex="$(printf ':%04X' "$1")"
  awk -v h="$hex" '$2 ~ h"$" { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
start_server() {  # start_server NAME: starts it on a fresh $port, pinned to CPU 0
  port=$((port + 1))
  while port_in_use "$port"; do port=$((port + 1)); done
  case "$1" in
  plain) taskset -c 0 "$bench" server "$port" >/dev/null & ;;
  tls) taskset -c 0 "$bench" tls-server "$port" "$cert" "$key" >/dev/null & ;;
  go-tls) GOMAXPROCS=1 taskset -c 0 "$work/go-tls-echo" "$port" "$cert" "$key" >/dev/null & ;;
  esac
  server_pid=$!
  for _ in $(seq 100); do port_in_use "$port" && return 0; sleep 0.05; done
  echo "server $1 did not start" >&2
  return 1
}
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
drive() {  # drive NAME SIZE SECONDS: one load generator run against the current server
  local ca="$cert"
  [ "$1" = plain ] && ca=plain
  timeout $((${3%.*} + ${warmup%.*} + 30)) taskset -c 1 "$loadgen" "$port" "$ca" "$conns" "$2" "$3" "$warmup" "$1"
}

measure() {  # measure NAME SIZE RUN
  start_server "$1"
  local t0file="$work/t0" out t1 t0 msgs
  (sleep "$warmup"; cpu_ticks > "$t0file") &
  local sampler=$!
  out="$(drive "$1" "$2" "$seconds")"
  t1="$(cpu_ticks)"
  wait "$sampler"
  t0="$(cat "$t0file")"
  stop_server
  msgs="$(echo "$out" | sed -n 's/.*msgs_per_s=\([0-9.]*\).*/\1/p')"
  echo "$out server_us_per_msg=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v m="$msgs" -v s="$seconds" \
    'BEGIN { printf "%.2f", (m > 0 ? (b - a) / hz / (m * s) * 1e6 : 0) }') server_cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$seconds" \
    'BEGIN { printf "%.2f", (b - a) / hz / s }') run=$3"
}

syscalls() {  # syscalls NAME SIZE: system calls of the server per echoed message, under strace
  start_server "$1"
  local out msgs calls
  drive "$1" "$2" 3 > "$work/strace-load" &
  local lg=$!
  sleep "$warmup"
  timeout -s INT 3 strace -c -f -p "$server_pid" -o "$work/strace" 2>/dev/null || true
  wait "$lg" || true
  stop_server
  out="$(cat "$work/strace-load")"
  msgs="$(echo "$out" | sed -n 's/.*msgs_per_s=\([0-9.]*\).*/\1/p')"
  calls="$(awk '$NF == "total" { print $4 }' "$work/strace")"
  echo "SYSCALLS_$2 $1 syscalls_per_msg=$(awk -v c="$calls" -v m="$msgs" 'BEGIN { printf "%.2f", (m > 0 ? c / (m * 3) : 0) }') calls=$calls msgs=$(awk -v m="$msgs" 'BEGIN { printf "%d", m * 3 }')"
  grep -E '^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+' "$work/strace" | awk -v s="$2" -v n="$1" '{ printf "#   %s %s %s calls=%s\n", s, n, $NF, $4 }'
}

echo "# machine: nproc=$(nproc) cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\" kernel=$(uname -r) $(openssl version) $(go version | cut -d' ' -f3)"
raw="$work/raw"
: > "$raw"
for ((r = 1; r <= runs; ++r)); do
  echo "# run=$r start $(date -u +%H:%M:%S) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  for size in $sizes; do
    for name in plain tls go-tls; do
      measure "$name" "$size" "$r" | tee -a "$raw"
    done
  done
done
python3 - "$raw" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 3 or not f[0].startswith("W6"):
        continue
    kv = dict(x.split("=", 1) for x in f[2:] if "=" in x)
    runs.setdefault((int(f[0].split("_")[1]), f[1]), []).append(kv)
for (size, name), v in sorted(runs.items()):
    med = lambda k: statistics.median(float(x[k]) for x in v)
    print(f"MEDIAN W6_{size} {name} msgs_per_s={med('msgs_per_s'):.0f} server_us_per_msg={med('server_us_per_msg'):.2f} "
          f"server_cpu={med('server_cpu'):.2f} client_cpu={med('client_cpu'):.2f} p99_us={med('p99_us'):.0f} runs={len(v)}")
for size in sorted({s for s, _ in runs}):
    get = lambda n, k: statistics.median(float(x[k]) for x in runs.get((size, n), [{k: "nan"}]))
    print(f"RATIO W6_{size} tls/plain msgs={get('tls', 'msgs_per_s') / get('plain', 'msgs_per_s'):.2f} "
          f"tls/go-tls msgs={get('tls', 'msgs_per_s') / get('go-tls', 'msgs_per_s'):.2f} "
          f"plain/tls cpu_per_msg={get('plain', 'server_us_per_msg') / get('tls', 'server_us_per_msg'):.2f} "
          f"go-tls/tls cpu_per_msg={get('go-tls', 'server_us_per_msg') / get('tls', 'server_us_per_msg'):.2f}")
PY
if [ "${STRACE:-0}" = 1 ] && command -v strace >/dev/null; then
  for size in $sizes; do
    for name in plain tls go-tls; do syscalls "$name" "$size"; done
  done
fi
echo "# end $(date -u +%H:%M:%S) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
