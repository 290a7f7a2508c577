#!/usr/bin/env bash
# The whole kiln test suite, from a fresh machine: installs what the tests need (the reference
# tools helm and kubectl, a real OCI registry, git), then runs every test in the workspace.
# Usage: tests/run.sh            (README: "run all tests"; .ci/run calls this)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Reference tools for differential tests, installed the way ../shared/tools/install-oracles.sh does.
oracles=$(bash tests/install-oracles.sh)
export KILN_ORACLES="$oracles"
export PATH="$oracles:$PATH"

if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --all-targets --no-fail-fast
else
  cargo test --workspace --all-targets --no-fail-fast
fi
