#!/usr/bin/env bash
# Instructions per message of each consume case of wires/benches/brokers.rs, the wire
# beside the bare client, counted by callgrind: unlike time, hardly disturbed by what else
# the machine runs. Each side runs with N and 2N messages; the difference over N is the
# per-message count (filling the stream or queue included, the same on both sides),
# start-up cancelled out. Needs the machine's NATS (JetStream) and RabbitMQ.
#
# Usage: scripts/bench/brokers-instructions.sh [N] [ROUNDS]   (defaults 2000, 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-2000}
ROUNDS=${2:-2}
source scripts/bench/callgrind.sh
bin=$(bench_executable nats,amqp,mqtt brokers)
count() { # CASE MESSAGES
    instructions "$bin" BROKERS_COUNT="$1" BROKERS_MESSAGES="$2"
}
echo "$N and $((2 * N)) messages, $ROUNDS rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| case | bare: instructions per message | wire: instructions per message | wire overhead |"
echo "| --- | ---: | ---: | ---: |"
for broker in nats amqp; do
    declare -A per=()
    for side in bare wire; do
        values=()
        for _ in $(seq "$ROUNDS"); do
            one=$(count "$broker-$side" "$N")
            two=$(count "$broker-$side" $((2 * N)))
            values+=($(( (two - one) / N )))
        done
        per[$side]="${values[*]}"
    done
    python3 - "$broker" "${per[bare]}" "${per[wire]}" <<'PY'
import statistics, sys
broker, bare, wire = sys.argv[1], [int(v) for v in sys.argv[2].split()], [int(v) for v in sys.argv[3].split()]
b, w = statistics.median(bare), statistics.median(wire)
fmt = lambda v: f"{statistics.median(v):,.0f} ({min(v):,}–{max(v):,})"
print(f"| {broker} consume | {fmt(bare)} | {fmt(wire)} | {100 * (w / b - 1):+.1f} % |")
PY
done
