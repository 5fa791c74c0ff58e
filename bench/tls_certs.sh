#!/usr/bin/env bash
# Makes a self-signed certificate and key for `asyncio_bench tls-server` / asyncio_tls_loadgen:
# CN=localhost, subjectAltName DNS:localhost + IP:127.0.0.1, EC P-256, valid 2 days. The
# certificate doubles as the client's CA file (load_verify_locations).
# Usage: bench/tls_certs.sh [DIR]   (default: a new temp dir); prints DIR; writes DIR/cert.pem,
#        DIR/key.pem. Example:
#   d=$(bench/tls_certs.sh)
#   taskset -c 0 asyncio_bench tls-server 8443 "$d/cert.pem" "$d/key.pem" &
#   taskset -c 1 asyncio_tls_loadgen 8443 "$d/cert.pem" 50 64 5 1
set -euo pipefail
command -v openssl >/dev/null || { echo "tls_certs.sh: the openssl CLI is needed" >&2; exit 1; }
dir="${1:-$(mktemp -d "${TMPDIR:-/tmp}/asyncio-tls.XXXXXX")}"
mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
chmod 600 "$dir/key.pem"
echo "$dir"
