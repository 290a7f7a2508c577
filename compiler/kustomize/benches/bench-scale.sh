#!/usr/bin/env bash
# Scaling benchmark: generated overlays of N resources and 50 patches (gen-overlay.py), built by
# `kiln kustomize` and `kubectl kustomize` side by side, whole-process wall and user CPU time.
#
# usage: bench-scale.sh KILN_BIN [SIZES...]   (default sizes: 1000 5000 20000)
# Environment: KILN_ORACLES (kubectl location, default ~/.cache/kiln-oracles),
#              KUBECTL_MAX (largest size kubectl is run on, default 5000: it is quadratic).
set -eu
kiln=$1; shift
[ $# -gt 0 ] && sizes=("$@") || sizes=(1000 5000 20000)
kubectl=${KILN_ORACLES:-$HOME/.cache/kiln-oracles}/kubectl
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for n in "${sizes[@]}"; do
  python3 "$here/gen-overlay.py" "$tmp/k$n" "$n" 50
  /usr/bin/time -f "kiln    $n resources: %e s wall, %U s user, %M KB" "$kiln" kustomize "$tmp/k$n/overlay" >"$tmp/kiln.yaml"
  if [ -x "$kubectl" ] && [ "$n" -le "${KUBECTL_MAX:-5000}" ]; then
    /usr/bin/time -f "kubectl $n resources: %e s wall, %U s user, %M KB" "$kubectl" kustomize "$tmp/k$n/overlay" >"$tmp/kubectl.yaml"
    cmp -s "$tmp/kiln.yaml" "$tmp/kubectl.yaml" && echo "  outputs identical" || echo "  OUTPUTS DIFFER"
  fi
done
