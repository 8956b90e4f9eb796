#!/usr/bin/env bash
# Runs the shell block of the README's "Install on a cluster" section, as written, against the
# Kubernetes API simulator (`akguard simulator`). kubectl and Helm come from .tools/bin, which
# scripts/install-tools.sh fills. Afterwards it checks that the operator's Deployment exists in
# akguard-system and the example AccessKeyRotation exists in payments.
set -euo pipefail
cd "$(dirname "$0")/.."

readme=README.md
section="## Install on a cluster"

# The section's first ```sh block, up to its closing fence.
block=$(awk -v section="$section" '
  $0 == section { in_section = 1; next }
  in_section && /^## / { exit }
  in_section && /^```sh$/ { in_block = 1; next }
  in_block && /^```$/ { exit }
  in_block { print }
' "$readme")
if [ -z "$block" ]; then
  echo "error: no \`\`\`sh block found under \"$section\" in $readme" >&2
  exit 1
fi

# No container engine runs in CI, so the image build and push are left out. The simulator
# starts no containers, so the image the chart names need not exist.
if grep -E '^docker (build|push) .*\\$' <<<"$block" >/dev/null; then
  echo "error: a docker line in $readme continues onto the next line; this script drops whole lines only" >&2
  exit 1
fi
commands=$(grep -Ev '^docker (build|push) ' <<<"$block")
if grep -q docker <<<"$commands"; then
  echo "error: the install block has a docker command this script does not know how to skip:" >&2
  grep docker <<<"$commands" >&2
  exit 1
fi

cargo build --locked --quiet --bin akguard

workdir=$(mktemp -d)
kubeconfig="$workdir/kubeconfig"
target/debug/akguard simulator --kubeconfig "$kubeconfig" >"$workdir/simulator.log" 2>&1 &
simulator=$!
cleanup() {
  kill "$simulator" 2>/dev/null || true
  wait "$simulator" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  [ -s "$kubeconfig" ] && break
  sleep 0.1
done
if [ ! -s "$kubeconfig" ]; then
  echo "error: the simulator did not write its kubeconfig within 10 s; its output:" >&2
  cat "$workdir/simulator.log" >&2
  exit 1
fi

export KUBECONFIG="$kubeconfig"
export PATH="$PWD/.tools/bin:$PATH"
for tool in kubectl helm; do
  if [ "$(command -v "$tool")" != "$PWD/.tools/bin/$tool" ]; then
    echo "error: $tool is not in .tools/bin; run: bash scripts/install-tools.sh" >&2
    exit 1
  fi
done

echo "== running the README's install commands (docker build and push left out):"
printf '%s\n' "$commands"
printf 'set -euo pipefail\n%s\n' "$commands" >"$workdir/install.sh"
bash "$workdir/install.sh"

echo "== checking the installed objects"
kubectl --namespace akguard-system get deployment akguard -o name
kubectl --namespace payments get accesskeyrotation payments -o name
echo "ok: the README's install section works against the simulator"
