#!/usr/bin/env bash
# The whole kiln test suite, from a fresh machine: installs what the tests need (the reference
# tools helm and kubectl, a real OCI registry, git), then runs every test in the workspace.
# Usage: tests/run.sh            (README: "run all tests"; .ci/run calls this)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Real servers the source tests start on loopback: git (daemon + http-backend), a CNCF
# distribution registry (Debian's docker-registry) and skopeo to inspect what kiln pushes.
need=()
command -v git >/dev/null || need+=(git)
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
if [ ${#need[@]} -gt 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >/dev/null
fi

# Reference tools for differential tests, installed the way ../shared/tools/install-oracles.sh does.
oracles=$(bash tests/install-oracles.sh)
export KILN_ORACLES="$oracles"
export PATH="$oracles:$PATH"

if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
