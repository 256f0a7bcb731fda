#!/usr/bin/env bash
# Whole-process figures of faults, on loopback: hello (harness runtime + http::Server)
# against hello-bare (the same router on plain axum::serve with its graceful shutdown),
# side by side in one run.
#   slowloris  CONNECTIONS (10000) connections that send a request head one line every
#              2 s: server RSS and open files over WATCH_SECONDS (15), a fresh request
#              each second
#   idle       IDLE_CONNECTIONS (19000) connections that send nothing: the same figures
#   drain      DRAIN_CLIENTS (16) keep-alive clients sending GET / in a loop, SIGTERM
#              after 1.5 s, DRAIN_ROUNDS (5) rounds: requests sent and never answered
#   outage     hello with its PostgreSQL pool behind a proxy that stops listening:
#              latency of GET / during the outage, acquire_timeout 5 s against the default
# Needs PostgreSQL on 127.0.0.1:5432 (outage) and python3; the open-file limit of this
# shell must allow IDLE_CONNECTIONS + 100 (ulimit -n).
#
# Usage: scripts/bench/faults.sh [slowloris|idle|drain|outage]...   (default: all four)
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --release -q -p hello
HELLO=target/release/hello
BARE=target/release/hello-bare
EXPERIMENTS=("$@")
[ ${#EXPERIMENTS[@]} -gt 0 ] || EXPERIMENTS=(slowloris idle drain outage)
for experiment in "${EXPERIMENTS[@]}"; do
    echo "== $experiment"
    python3 scripts/bench/faults.py "$experiment" "$HELLO" "$BARE"
done
