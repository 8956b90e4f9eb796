#!/usr/bin/env bash
# Applies the Helm chart, rendered for the default values and each example values file, to
# the Kubernetes API simulator (`akguard simulator`) with the real kubectl, then checks that
# the operator's Deployment, ServiceAccount and RBAC objects exist in each release namespace.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --quiet --bin akguard
kubeconfig=$(mktemp)
rm -f "$kubeconfig"
target/debug/akguard simulator --kubeconfig "$kubeconfig" >/dev/null &
simulator=$!
trap 'kill "$simulator" 2>/dev/null || true; wait "$simulator" 2>/dev/null || true; rm -f "$kubeconfig"' EXIT

for _ in $(seq 1 100); do
  [ -s "$kubeconfig" ] && break
  sleep 0.1
done
if [ ! -s "$kubeconfig" ]; then
  echo "error: the simulator did not write its kubeconfig within 10 s" >&2
  exit 1
fi

bash scripts/ci-packaging.sh apply-to-api-server --kubeconfig "$kubeconfig"

for values in default charts/akguard/ci/*-values.yaml; do
  name=$(basename "$values" .yaml)
  name=${name%-values}
  namespace="akguard-$name"
  for object in deployment/ci-$name-akguard serviceaccount/ci-$name-akguard; do
    if ! kubectl --kubeconfig "$kubeconfig" --namespace "$namespace" get "$object" -o name >/dev/null; then
      echo "error: $object is missing in namespace $namespace after applying the chart" >&2
      exit 1
    fi
  done
  echo "applied: release ci-$name in namespace $namespace"
done
