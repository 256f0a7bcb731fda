#!/usr/bin/env bash
# Installs the Python harness (PyPI `harness` 0.1.0, vmagamedov's) into .venv-baseline,
# the baseline of the whole-process benchmarks. Its generated code needs protobuf 3.20;
# grpcio-tools is pinned without its dependencies so it does not pull protobuf 4.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${BASELINE_VENV:-.venv-baseline}
if [ ! -x "$venv/bin/harness" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q harness==0.1.0 PyYAML jsonpatch json-merge-patch
    "$venv/bin/pip" install -q --no-deps protobuf==3.20.3 grpcio-tools==1.59.3
fi
echo "$venv/bin/harness"
