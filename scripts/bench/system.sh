#!/usr/bin/env bash
# Whole-process figures of `harness graph` and `harness kube-gen --system`, side by side
# in one run with the baseline of one single-service `harness kube-gen` process per service:
#   1. the example system (examples/system.yaml: scotty, kirk, uhura): wall time of one
#      process, median over RUNS (hyperfine when installed, else a timed loop);
#   2. a generated system of 1,000 services (500 pairs: kirk-N calls scotty-N over gRPC,
#      each service with its own proto file and configuration): wall time and peak RSS
#      (/usr/bin/time -v) of one `graph` and one `kube-gen --system` process, and the total
#      wall time of 1,000 separate `kube-gen` processes on the same services.
#
# Usage: scripts/bench/system.sh
#        HARNESS_BIN=path/to/release/harness RUNS=50 scripts/bench/system.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$target/bench-system"
runs="${RUNS:-30}"
rm -rf "$work/big"
mkdir -p "$work/big"

if [[ -n "${HARNESS_BIN:-}" ]]; then
    harness="$HARNESS_BIN"
else
    cargo build --release --quiet -p harness-cli --bin harness
    harness="$target/release/harness"
fi

echo "== machine: $(nproc) cores, $(uname -sr); $("$harness" --version); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Median wall time in ms of $runs runs of "$@".
wall_ms() {
    if command -v hyperfine >/dev/null; then
        hyperfine --shell=none --warmup 3 --runs "$runs" --style none \
            --export-json "$work/h.json" "$*" >/dev/null 2>&1
        python3 -c 'import json,statistics,sys; print("%.2f" % (statistics.median(json.load(open(sys.argv[1]))["results"][0]["times"])*1e3))' "$work/h.json"
    else
        for _ in $(seq "$runs"); do
            local start end
            start=$(date +%s%N)
            "$@" >/dev/null 2>&1
            end=$(date +%s%N)
            echo $(( (end - start) / 1000 ))
        done | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]/1000}'
    fi
}

# Wall time (s), CPU time (user + system, s) and peak RSS (MiB) of one run of "$@", from
# /usr/bin/time -v. CPU time is what the process cost, however loaded the machine is.
time_rss() {
    /usr/bin/time -v -o "$work/time" "$@" >/dev/null 2>&1
    awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); wall=t[n]+(n>1?t[n-1]*60:0)}
                /User time/ {cpu+=$2} /System time/ {cpu+=$2}
                /Maximum resident set size/ {rss=$2/1024}
                END {printf "wall %7.3f s   CPU %7.3f s   peak RSS %6.1f MiB\n", wall, cpu, rss}' "$work/time"
}

# Mean CPU time (user + system, ms) of $runs runs of "$@": perf's task-clock when perf is
# there (children included), else /usr/bin/time (10 ms resolution, averaged).
cpu_ms() {
    if command -v perf >/dev/null; then
        perf stat -r "$runs" -x, -e task-clock -o "$work/perf" "$@" >/dev/null 2>&1
        awk -F, '/task-clock/ {printf "%.2f\n", $1}' "$work/perf"
        return
    fi
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%U %S" -o "$work/cpu" "$@" >/dev/null 2>&1
        cat "$work/cpu"
    done | awk '{t+=$1+$2} END {printf "%.2f\n", t*1000/NR}'
}

echo "== 1. the example system, one process: median wall time and mean CPU time of $runs runs (ms)"
example() {
    printf '%-20s wall %7s ms   CPU %7s ms\n' "$1" "$(wall_ms "${@:2}")" "$(cpu_ms "${@:2}")"
}
example "graph" "$harness" graph examples/system.yaml
example "graph --format json" "$harness" graph examples/system.yaml --format json
example "kube-gen --system" "$harness" kube-gen --system examples/system.yaml
single=(
    "$harness kube-gen examples/scotty/proto/scotty.proto examples/scotty/scotty.prod.yaml v1 --namespace bridge --secret-merge examples/scotty/scotty.prod-secrets.yaml"
    "$harness kube-gen examples/kirk/proto/kirk.proto examples/kirk/kirk.prod.yaml v1 --namespace bridge --secret-merge examples/kirk/kirk.prod-secrets.yaml"
    "$harness kube-gen examples/uhura/proto/uhura.proto examples/uhura/uhura.prod.yaml v1 --namespace bridge"
)
printf '%s\n' "${single[@]}" > "$work/single.sh"
example "3 x kube-gen" bash "$work/single.sh"
echo "(3 x kube-gen: the same three services, one kube-gen process each, from one bash script)"

echo "== 2. 1,000 services (500 kirk-N -> scotty-N pairs)"
big="$work/big"
system="$big/system.yaml"
printf 'namespace: bridge\nbase_domain: acme.dev\nservices:\n' > "$system"
for n in $(seq -w 1 500); do
    mkdir -p "$big/scotty-$n" "$big/kirk-$n"
    sed "s/name = \"scotty\"/name = \"scotty-$n\"/" examples/scotty/proto/scotty.proto > "$big/scotty-$n/scotty.proto"
    cp examples/scotty/scotty.prod.yaml examples/scotty/scotty.prod-secrets.yaml "$big/scotty-$n/"
    sed "s/name = \"kirk\"/name = \"kirk-$n\"/" examples/kirk/proto/kirk.proto > "$big/kirk-$n/kirk.proto"
    cp examples/scotty/proto/scotty.proto "$big/kirk-$n/scotty.proto"
    sed "s/host: scotty$/host: scotty-$n/" examples/kirk/kirk.prod.yaml > "$big/kirk-$n/kirk.prod.yaml"
    cp examples/kirk/kirk.prod-secrets.yaml "$big/kirk-$n/"
    cat >> "$system" <<YAML
  - {proto: scotty-$n/scotty.proto, config: scotty-$n/scotty.prod.yaml, merge: scotty-$n/scotty.prod-secrets.yaml, version: v1}
  - {proto: kirk-$n/kirk.proto, config: kirk-$n/kirk.prod.yaml, merge: kirk-$n/kirk.prod-secrets.yaml, version: v1}
YAML
done
printf 'outside:\n  - {host: otel-collector, port: 4317, protocol: TCP}\n' >> "$system"
"$harness" graph "$system" --format json 2>/dev/null \
    | python3 -c 'import json,sys; g=json.load(sys.stdin); print("checked: %d services, %d edges" % (len(g["services"]), len(g["edges"])))'
echo "graph                $(time_rss "$harness" graph "$system")"
echo "graph --format json  $(time_rss "$harness" graph "$system" --format json)"
echo "kube-gen --system    $(time_rss "$harness" kube-gen --system "$system")"
for n in $(seq -w 1 500); do
    echo "$harness kube-gen $big/scotty-$n/scotty.proto $big/scotty-$n/scotty.prod.yaml v1 --namespace bridge --secret-merge $big/scotty-$n/scotty.prod-secrets.yaml"
    echo "$harness kube-gen $big/kirk-$n/kirk.proto $big/kirk-$n/kirk.prod.yaml v1 --namespace bridge --secret-merge $big/kirk-$n/kirk.prod-secrets.yaml"
done > "$big/each.sh"
echo "1,000 x kube-gen     $(time_rss bash "$big/each.sh")  (one process per service, in sequence; RSS: the largest)"
