#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz preset: clang, ASan+UBSan) and runs each for a bounded
# time (default 60 s, or $1) from its committed seeds (fuzz/corpus/<target>/). New inputs go
# to a scratch directory, never into the repository. Exits non-zero on the first crash, leak,
# sanitizer report or hang (> 10 s on one input); libFuzzer leaves the reproducer (crash-*,
# timeout-*, leak-*) in build/fuzz/ and the log says how to replay it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j2 --target stream_read_fuzzer tls_record_fuzzer

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in stream_read_fuzzer tls_record_fuzzer; do
  mkdir -p "$work/$target"
  log="$work/$target.log"
  echo "fuzz: $target for ${seconds}s"
  if ! (cd build/fuzz && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "./fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "$work/$target" "../../fuzz/corpus/$target" >"$log" 2>&1); then
    tail -n 60 "$log"
    echo "fuzz: $target FAILED" >&2
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$log" | sed "s/^/fuzz: $target: /"
done
