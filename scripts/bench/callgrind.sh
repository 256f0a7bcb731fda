# Shared by the instruction-count scripts (source it): the executable of a wires bench,
# and the instructions callgrind counts for one run of it.

command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install -y valgrind" >&2; exit 2; }

# bench_executable FEATURES BENCH: builds bench BENCH of harness-wires with FEATURES and
# prints the path of its executable.
bench_executable() {
    cargo bench -q -p harness-wires --features "$1" --bench "$2" --no-run \
        --message-format=json 2>/dev/null \
        | BENCH="$2" python3 -c 'import json,os,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == os.environ["BENCH"] and m.get("executable"):
        print(m["executable"])'
}

# instructions EXECUTABLE [NAME=VALUE...]: the instructions of one run of EXECUTABLE with
# the NAME=VALUE environment; with TOGGLE=PATTERN set, only those inside the functions
# PATTERN matches (callgrind's --toggle-collect).
instructions() {
    local bin=$1
    shift
    env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        ${TOGGLE:+"--toggle-collect=$TOGGLE"} "$bin" 2>&1 \
        | awk '/refs:/ {gsub(",", "", $NF); print $NF}'
}
