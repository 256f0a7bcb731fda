#!/usr/bin/env bash
# Whole-process wall time of `harness check` on the kirk fixture (with merge and patch
# files), this project's release binary side by side with the Python harness, in one
# hyperfine run. Needs hyperfine (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p harness-cli
python_harness=$(scripts/bench/baseline-venv.sh)
cd generators/cli/tests/fixtures
args="check kirk.proto kirk.yaml --merge secret-merge.yaml --patch secret-patch.yaml"
hyperfine -N --warmup 20 --runs "${RUNS:-100}" --export-markdown "${OUT:-/dev/stdout}" \
    -n "harness (Rust)" "../../../target/release/harness $args" \
    -n "harness (Python 0.1.0)" "$OLDPWD/$python_harness $args"
