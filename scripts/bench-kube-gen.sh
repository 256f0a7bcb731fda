#!/usr/bin/env bash
# Whole-process figures of `harness kube-gen`, side by side with the Python harness:
#   1. kirk, one process: wall time (hyperfine, median) and peak RSS (/usr/bin/time);
#   2. 1,000 generated kirk configurations, one process each: total wall time and the
#      largest peak RSS (the Python harness runs the first 50 of them: ~0.5 s each).
# The in-process figures are the criterion bench: cargo bench -p harness-cli --bench kube_gen
#
# Baseline: vmagamedov's harness 0.1.0 from PyPI in a venv ($PY_HARNESS, default
# TARGET/bench-kube-gen/py). It needs grpcio-tools 1.48 with protobuf 3.20, whose wheels
# stop at CPython 3.10, so the venv is made with $PYTHON310 (default: pyenv's 3.10).
# Skipped, with a note, when that Python is not there.
#
# Usage: scripts/bench-kube-gen.sh   (needs hyperfine: apt-get install hyperfine)
#        HARNESS_BIN=path/to/release/harness RUNS=100 scripts/bench-kube-gen.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$target/bench-kube-gen"
inputs="$root/generators/cli/tests/golden/inputs"
mkdir -p "$work/configs"

if [[ -n "${HARNESS_BIN:-}" ]]; then
    rust="$HARNESS_BIN"   # a release binary built beforehand
else
    cargo build --release --quiet -p harness-cli --bin harness
    rust="$target/release/harness"
fi

py_venv="${PY_HARNESS:-$work/py}"
python310="${PYTHON310:-$(ls -d /root/.pyenv/versions/3.10.*/bin/python 2>/dev/null | tail -1)}"
python=""
if [[ -x "$py_venv/bin/harness" ]]; then
    python="$py_venv/bin/harness"
elif [[ -n "$python310" && -x "$python310" ]]; then
    "$python310" -m venv "$py_venv"
    "$py_venv/bin/pip" install --quiet --disable-pip-version-check \
        "harness==0.1.0" "protobuf==3.20.3" "grpcio-tools==1.48.2" "setuptools<70"
    python="$py_venv/bin/harness"
else
    echo "note: no CPython 3.10 for the Python harness baseline; Rust figures only" >&2
fi

echo "== machine: $(nproc) cores, $(uname -sr); $("$rust" --version); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ -n "$python" ]] && echo "== baseline: $("$py_venv/bin/pip" show harness | grep -E '^(Name|Version|Author):' | tr '\n' ' ')"

echo "== 1. kirk, one process (hyperfine)"
commands=("$rust kube-gen $inputs/kirk.proto $inputs/kirk.yaml v1")
[[ -n "$python" ]] && commands+=("$python kube-gen python $inputs/kirk.proto $inputs/kirk.yaml v1")
hyperfine --shell=none --warmup 10 --runs "${RUNS:-100}" --style basic \
    --export-json "$work/kirk.json" "${commands[@]}" >/dev/null
python3 - "$work/kirk.json" <<'PY'
import json, statistics, sys
for r in json.load(open(sys.argv[1]))["results"]:
    t = sorted(r["times"])
    name = "rust  " if "kube-gen python" not in r["command"] else "python"
    print(f"{name} median {statistics.median(t)*1e3:8.2f} ms   mean {r['mean']*1e3:8.2f} ms   "
          f"min {t[0]*1e3:8.2f} ms   max {t[-1]*1e3:8.2f} ms   runs {len(t)}")
PY

peak_rss() { # prints the peak RSS in KiB of one run of "$@"
    /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null 2>&1
    cat "$work/rss"
}
cpu_ms() { # prints the mean CPU time (perf's task-clock) in ms over 30 runs of "$@"
    perf stat -r 30 -x, -e task-clock -o "$work/cpu" "$@" >/dev/null 2>&1
    awk -F, '/task-clock/ {printf "%.2f\n", $1}' "$work/cpu"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "== kirk, peak RSS (KiB, median of 10) and CPU time (ms, perf task-clock, mean of 30: unlike wall time, not inflated by other load)"
for i in $(seq 10); do peak_rss "$rust" kube-gen "$inputs/kirk.proto" "$inputs/kirk.yaml" v1; done | median | sed 's/^/rust   RSS /'
cpu_ms "$rust" kube-gen "$inputs/kirk.proto" "$inputs/kirk.yaml" v1 | sed 's/^/rust   CPU /'
if [[ -n "$python" ]]; then
    for i in $(seq 10); do peak_rss "$python" kube-gen python "$inputs/kirk.proto" "$inputs/kirk.yaml" v1; done | median | sed 's/^/python RSS /'
    cpu_ms "$python" kube-gen python "$inputs/kirk.proto" "$inputs/kirk.yaml" v1 | sed 's/^/python CPU /'
fi

echo "== 2. 1,000 generated kirk configurations, one process each"
cp "$inputs/kirk.proto" "$work/configs/"
for i in $(seq 0 999); do
    sed -e "s/host: db.acme.dev/host: db-$i.acme.dev/" -e "s/port: 8000/port: $((8000 + i))/" \
        "$inputs/kirk.yaml" > "$work/configs/kirk-$i.yaml"
done
run_all() { # $1 = label, $2 = count, rest = command prefix
    # Wall time of the plain loop, then the largest peak RSS over the first 20 runs.
    local label="$1" count="$2"; shift 2
    local start end max=0 rss i
    start=$(date +%s.%N)
    for i in $(seq 0 $((count - 1))); do
        "$@" "$work/configs/kirk.proto" "$work/configs/kirk-$i.yaml" "v$i" --instance "i$i" >/dev/null
    done
    end=$(date +%s.%N)
    for i in $(seq 0 19); do
        rss=$(peak_rss "$@" "$work/configs/kirk.proto" "$work/configs/kirk-$i.yaml" "v$i" --instance "i$i")
        (( rss > max )) && max=$rss
    done
    python3 -c "t=$end-$start; print(f'$label {$count} services: {t:.2f} s wall, {t/$count*1e3:.2f} ms per process, max peak RSS {$max} KiB')"
}
run_all "rust  " 1000 "$rust" kube-gen
[[ -n "$python" ]] && run_all "python" 50 "$python" kube-gen python
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
