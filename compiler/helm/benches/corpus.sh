#!/usr/bin/env bash
# Whole-process `kiln helm template` beside `helm template` over the conformance corpus: the figures
# in ../BENCHMARKS.md. Builds the engine's `helm` example (the same code as `kiln helm template`,
# without linking the rest of kiln) in release mode, then runs the shared corpus timer, which
# alternates the two tools per case and prints per-case medians and the median speed-up.
#
# usage: compiler/helm/benches/corpus.sh [--runs N] [--only CASE...]
#        KILN_BIN=/path/to/kiln compiler/helm/benches/corpus.sh   # time a built kiln binary instead
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
shared="${KILN_SHARED:-$root/../shared}"
bin="${KILN_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --quiet --release -p kiln-helm --example helm --manifest-path "$root/Cargo.toml"
  bin="${CARGO_TARGET_DIR:-$root/target}/release/examples/helm"
fi
exec python3 "$shared/tools/bench-corpus.py" helm "$bin" --runs 3 "$@"
