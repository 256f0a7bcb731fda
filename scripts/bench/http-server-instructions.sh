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
source scripts/bench/callgrind.sh
bin=$(bench_executable http,metrics,otlp http_server)
count() { # CASE REQUESTS
    instructions "$bin" HTTP_SERVER_CASE="$1" HTTP_SERVER_REQUESTS="$2"
}
echo "| case | instructions per request |"
echo "| --- | ---: |"
for case in "axum router alone" "server, telemetry off" "server, metrics" \
    "server, metrics + tracing unsampled" "server, metrics + tracing sampled (not exported)"; do
    one=$(count "$case" "$N")
    two=$(count "$case" $((2 * N)))
    echo "| $case | $(( (two - one) / N )) |"
done
