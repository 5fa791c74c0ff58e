#!/usr/bin/env bash
# Makes a demo CA, a "localhost" server certificate (examples/tls_echo) and a client
# certificate (mutual TLS, docs/guide/05-tls.md), valid for two days.
# Usage: bash scripts/make-demo-certs.sh DIR
#   -> DIR/ca.pem DIR/server.pem DIR/server.key DIR/client.pem DIR/client.key
set -euo pipefail
dir=${1:?usage: make-demo-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=asyncio demo CA" -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile ext.cnf -out server.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=asyncio demo client" -keyout client.key -out client.csr 2>/dev/null
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client-ext.cnf
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile client-ext.cnf -out client.pem 2>/dev/null
echo "$dir/server.pem $dir/server.key $dir/ca.pem"
