#!/bin/bash
# Whole-process benchmarks of the runtime (docs/benchmarks-runtime.md).
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, database test) and wrk
# (`apt-get install -y wrk`). Usage: scripts/bench-runtime/run.sh [start|rss|http|codegen|rerun]...
set -euo pipefail
cd "$(dirname "$0")/../.."
what=("${@:-start rss http codegen rerun}")
set -- ${what[@]}
cargo build --release -q -p hello -p scotty -p kirk
cargo build -q -p hello
for step in "$@"; do
  case "$step" in
    rerun)
      # Nothing reruns when the protos are unchanged: the build script is not run again,
      # neither after a no-op build nor after an edit of main.rs.
      out=$(cargo build -p hello -v 2>&1)
      echo "$out" | grep -q "Fresh hello" && echo "no-op build: hello is Fresh"
      touch examples/hello/src/main.rs
      out=$(cargo build -p hello -v 2>&1)
      if echo "$out" | grep -q "build-script-build"; then echo "main.rs edit: build script RERAN"; else echo "main.rs edit: build script not rerun"; fi
      touch examples/hello/proto/hello.proto
      out=$(cargo build -p hello -v 2>&1)
      if echo "$out" | grep -q "hello-.*/build-script-build"; then echo "proto edit: build script rerun (as it must)"; else echo "proto edit: build script NOT rerun"; fi
      ;;
    *) python3 scripts/bench-runtime/measure.py "$step" ;;
  esac
done
