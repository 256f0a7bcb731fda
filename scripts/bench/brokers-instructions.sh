#!/usr/bin/env bash
# Instructions per message of the wires of wires/benches/brokers.rs beside the bare
# client, counted by callgrind: unlike time, hardly disturbed by what else the machine
# runs. Each side runs with N and 2N messages; the difference over N is the per-message
# count, start-up cancelled out.
# - Consume: the whole process draining a filled stream or queue (filling included, the
#   same on both sides).
# - Publish: only inside the publish call (the bench's `counted_poll`), which is what its
#   latency measures: core NATS and MQTT QoS 1 hand the message to the client's
#   connection task and return.
# Needs the machine's NATS (JetStream) and RabbitMQ, and mosquitto.
#
# Usage: scripts/bench/brokers-instructions.sh [N] [ROUNDS]   (defaults 2000, 2)
# BASELINE=PATH adds a column for the wire side of another build of the bench (an
# earlier commit's sources with this bench), counted in the same rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-2000}
ROUNDS=${2:-2}
source scripts/bench/callgrind.sh
bin=$(bench_executable nats,amqp,mqtt brokers)
per_message() { # EXECUTABLE CASE
    local one two
    one=$(TOGGLE=$(inside "$2") instructions "$1" BROKERS_COUNT="$2" BROKERS_MESSAGES="$N")
    two=$(TOGGLE=$(inside "$2") instructions "$1" BROKERS_COUNT="$2" BROKERS_MESSAGES=$((2 * N)))
    echo $(((two - one) / N))
}
inside() { # CASE: the functions counted, none for the whole process
    case $1 in
        natscore-* | mqtt-*) echo 'brokers::counted_poll*' ;;
    esac
}
echo "$N and $((2 * N)) messages, $ROUNDS rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${BASELINE:-}" ]; then
    echo "| case | bare | wire, baseline | wire | wire overhead, baseline | wire overhead |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
else
    echo "| case | bare | wire | wire overhead |"
    echo "| --- | ---: | ---: | ---: |"
fi
for case in "nats consume" "amqp consume" "natscore publish" "mqtt publish"; do
    broker=${case%% *}
    bare=() wire=() base=()
    for _ in $(seq "$ROUNDS"); do
        bare+=("$(per_message "$bin" "$broker-bare")")
        [ -n "${BASELINE:-}" ] && base+=("$(per_message "$BASELINE" "$broker-wire")")
        wire+=("$(per_message "$bin" "$broker-wire")")
    done
    python3 - "$case" "${bare[*]}" "${wire[*]}" "${base[*]:-}" <<'PY'
import statistics, sys
case, bare, wire, base = sys.argv[1:5]
bare, wire = [int(v) for v in bare.split()], [int(v) for v in wire.split()]
base = [int(v) for v in base.split()]
fmt = lambda v: f"{statistics.median(v):,.0f} ({min(v):,}–{max(v):,})"
over = lambda v: f"{100 * (statistics.median(v) / statistics.median(bare) - 1):+.1f} %"
name = case.replace("natscore", "NATS core").replace("nats ", "NATS JetStream ").replace("amqp", "AMQP").replace("mqtt", "MQTT QoS 1")
if base:
    print(f"| {name} | {fmt(bare)} | {fmt(base)} | {fmt(wire)} | {over(base)} | {over(wire)} |")
else:
    print(f"| {name} | {fmt(bare)} | {fmt(wire)} | {over(wire)} |")
PY
done
