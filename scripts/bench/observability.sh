#!/usr/bin/env bash
# Per-request cost of metrics and tracing on an HTTP service, in one run.
#
# One binary (examples/sulu: hello's handler, every observability wire optional) is run
# with four configurations, interleaved over ROUNDS rounds, and loaded with wrk:
#   bare        the HTTP server alone (no metrics, no tracing)
#   metrics     + metrics::Prometheus (RED metrics of every request)
#   unsampled   + metrics + tracing::Otlp with sampler_ratio 0 (spans decided, not recorded)
#   sampled     + metrics + tracing::Otlp with sampler_ratio 1 (every request exported)
#   bare-again  bare once more, last in the round: the run's own noise
# Spans go over OTLP/HTTP to a sink this script starts (it answers 200 to every export).
# The service is pinned to CPU 0 and wrk to CPU 1. Reported: the service's CPU time per
# request (from /proc, robust to a shared machine's steal time), requests/s, and the
# median of each round's throughput cost against that round's two bare runs.
#
# Usage: scripts/bench/observability.sh [ROUNDS] [SECONDS]   (defaults 3 and 8)
# Needs wrk (apt-get install -y wrk) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${1:-3}
SECONDS_EACH=${2:-8}
CONNECTIONS=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }

cargo build --release -q -p sulu
BIN=target/release/sulu
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on $1" >&2
    return 1
}

# The OTLP/HTTP sink: reads each export, answers an empty ExportTraceServiceResponse.
SINK_PORT=$(free_port)
cat > "$WORK/sink.py" <<'PY'
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    spans = 0
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
taskset -c 1 python3 "$WORK/sink.py" "$SINK_PORT" &
wait_port "$SINK_PORT"

config() { # NAME PORT METRICS_PORT
    local name=$1 port=$2 metrics_port=$3
    echo "greeting: Hello"
    echo "server: {bind: {host: 127.0.0.1, port: $port}}"
    case $name in
        metrics|unsampled|sampled)
            echo "metrics: {prefix: sulu, bind: {host: 127.0.0.1, port: $metrics_port}}" ;;
    esac
    case $name in
        unsampled) echo "tracing: {address: {host: 127.0.0.1, port: $SINK_PORT}, protocol: HTTP_PROTOBUF, sampler_ratio: 0}" ;;
        sampled) echo "tracing: {address: {host: 127.0.0.1, port: $SINK_PORT}, protocol: HTTP_PROTOBUF, sampler_ratio: 1}" ;;
    esac
}

RESULTS="$WORK/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
    for name in bare metrics unsampled sampled bare-again; do
        port=$(free_port); metrics_port=$(free_port)
        config "$name" "$port" "$metrics_port" > "$WORK/$name.yaml"
        RUST_LOG=warn taskset -c 0 "$BIN" "$WORK/$name.yaml" 2>"$WORK/$name.log" &
        pid=$!
        wait_port "$port"
        taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$port/" >/dev/null
        ticks_before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
        out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency "http://127.0.0.1:$port/")
        ticks_after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
        rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
        requests=$(awk '/requests in/ {print $1}' <<<"$out")
        # CPU time the service spent per request (user + system), in microseconds.
        cpu_us=$(python3 -c "import os; print(round(($ticks_after - $ticks_before) / os.sysconf('SC_CLK_TCK') * 1e6 / $requests, 2))")
        p50=$(awk '$1=="50%" {print $2}' <<<"$out")
        p99=$(awk '$1=="99%" {print $2}' <<<"$out")
        if [ "$name" != bare ] && [ "$name" != bare-again ]; then
            # The metrics were recorded: the request counter is there.
            curl -s "http://127.0.0.1:$metrics_port/metrics" | grep -q '^sulu_http_server_requests_total' \
                || { echo "$name: no request counter" >&2; exit 1; }
        fi
        kill -TERM "$pid"; wait "$pid" || true
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$rps" "$p50" "$p99" "$cpu_us" | tee -a "$RESULTS"
    done
done

python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().split("\n") if line]
names = ["bare", "metrics", "unsampled", "sampled", "bare-again"]
def ms(text):
    text = text.strip()
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float("nan")
median = {n: statistics.median(float(r[2]) for r in rows if r[1] == n) for n in names}
# Paired: each configuration against the mean of the same round's two bare runs, which
# cancels the drift of a shared machine between rounds.
rounds = sorted({r[0] for r in rows})
def rps(rnd, name):
    return next(float(r[2]) for r in rows if r[0] == rnd and r[1] == name)
paired = {
    n: statistics.median(
        1 - rps(rnd, n) / ((rps(rnd, "bare") + rps(rnd, "bare-again")) / 2) for rnd in rounds
    ) * 100
    for n in names
}
cpu = {n: statistics.median(float(r[5]) for r in rows if r[1] == n) for n in names}
cpu_bare = (cpu["bare"] + cpu["bare-again"]) / 2
print()
print("| configuration | CPU µs/request (median) | CPU cost vs bare | requests/s (median) | throughput cost (paired per round) | p50 ms | p99 ms |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for n in names:
    p50 = statistics.median(ms(r[3]) for r in rows if r[1] == n)
    p99 = statistics.median(ms(r[4]) for r in rows if r[1] == n)
    print(f"| {n} | {cpu[n]:.2f} | {(cpu[n] / cpu_bare - 1) * 100:+.1f}% | {median[n]:,.0f} | {paired[n]:+.1f}% | {p50:.3f} | {p99:.3f} |")
PY
