#!/usr/bin/env bash
# Measures the newcomer path of docs/getting-started.md on this machine, each step in a
# throwaway directory: installing the CLI, `harness new` and the first `cargo build` of a
# new service with a cold cargo registry (an empty CARGO_HOME: the index and every crate
# downloaded) and with a warm one (fresh target directory only), then an incremental
# build after editing src/main.rs. Prints one line per step; --timings reports are kept
# under $WORK (default: a new temporary directory) for what dominates each build.
#
#   scripts/newcomer-path.sh [FLAGS...]      # FLAGS of `harness new`, default --http --postgres
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${WORK:-$(mktemp -d /tmp/harness-newcomer.XXXXXX)}"
mkdir -p "$work"
flags=("$@")
[[ ${#flags[@]} -gt 0 ]] || flags=(--http --postgres)
unset CARGO_TARGET_DIR

# Runs "$@", prints LABEL and the wall time in seconds.
timed() {
    local label="$1"
    shift
    local start end
    start=$(date +%s.%N)
    "$@" >"$work/$label.log" 2>&1 || { echo "$label failed, see $work/$label.log" >&2; exit 1; }
    end=$(date +%s.%N)
    printf '%-32s %6.1f s   (load average before: %s)\n' "$label" "$(echo "$end - $start" | bc)" "$load"
}
load_now() { load=$(cut -d' ' -f1 /proc/loadavg); }

echo "work directory: $work; cores: $(nproc)"
load_now
timed install env CARGO_INSTALL_ROOT="$work/root" CARGO_TARGET_DIR="$work/install-target" \
    cargo install --locked --timings --path "$repo/generators/cli"
cp -r "$work/install-target/cargo-timings" "$work/install-timings" 2>/dev/null || true
harness="$work/root/bin/harness"

for registry in cold warm; do
    dir="$work/$registry"
    mkdir -p "$dir"
    home_env=()
    if [[ $registry == cold ]]; then
        home_env=(CARGO_HOME="$work/cargo-home" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}")
    fi
    load_now
    timed "new+first-build-$registry" env "${home_env[@]}" bash -c \
        "cd '$dir' && '$harness' new demo ${flags[*]} --harness-path '$repo' && cd demo && cargo build --timings"
done

# Incremental: a one-line change of the handler's text.
sed -i 's/let mut report = format!("{}\\n", self.greeting);/let mut report = format!("{}!\\n", self.greeting);/' \
    "$work/warm/demo/src/main.rs"
grep -q 'format!("{}!\\n"' "$work/warm/demo/src/main.rs" || { echo "main.rs edit failed" >&2; exit 1; }
load_now
timed incremental-build bash -c "cd '$work/warm/demo' && cargo build"
echo "timings: $work/install-timings, $work/{cold,warm}/demo/target/cargo-timings"
