#!/usr/bin/env bash
# Instructions per request of http::Server's instrumentation (wires/benches/http_server.rs),
# counted by callgrind: unlike time, not disturbed by whatever else the machine runs.
# Each case runs twice, with N and 2N requests; the difference over N is the per-request
# count, start-up cancelled out.
#
# Usage: scripts/bench/http-server-instructions.sh [N]   (default 20000; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-20000}
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install -y valgrind" >&2; exit 2; }
bin=$(cargo bench -q -p harness-wires --features http,metrics,otlp --bench http_server --no-run \
    --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "http_server" and m.get("executable"):
        print(m["executable"])')
count() { # CASE REQUESTS
    HTTP_SERVER_CASE=$1 HTTP_SERVER_REQUESTS=$2 valgrind --tool=callgrind \
        --callgrind-out-file=/dev/null "$bin" 2>&1 | awk '/refs:/ {gsub(",", "", $NF); print $NF}'
}
echo "| case | instructions per request |"
echo "| --- | ---: |"
for case in "axum router alone" "server, telemetry off" "server, metrics" \
    "server, metrics + tracing unsampled" "server, metrics + tracing sampled (not exported)"; do
    one=$(count "$case" "$N")
    two=$(count "$case" $((2 * N)))
    echo "| $case | $(( (two - one) / N )) |"
done
