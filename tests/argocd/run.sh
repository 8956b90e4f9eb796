#!/usr/bin/env bash
# Runs the Argo CD health check for AccessKeyRotation on each sample object listed in
# health_test.yaml with lua5.1 and fails when a status or message differs from the expected one.
# First checks that every sample is valid against the CRD the chart ships.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
check="$here/../../charts/akguard/argocd/health.lua"
crd="$here/../../charts/akguard/crds/accesskeyrotations.akguard.io.yaml"

if ! command -v lua5.1 >/dev/null; then
  echo "error: lua5.1 not found; run scripts/install-tools.sh (or apt-get install lua5.1)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One line per test: input path, expected status, expected message (tab-separated).
python3 - "$here/health_test.yaml" > "$work/cases.tsv" <<'PY'
import sys
import yaml

with open(sys.argv[1], encoding="utf-8") as source:
    for case in yaml.safe_load(source)["tests"]:
        expected = case["healthStatus"]
        print("\t".join([case["inputPath"], expected["status"], expected.get("message", "")]))
PY

if ! python3 "$here/check_samples.py" "$crd" "$here"/testdata/*.yaml; then
  echo "error: the sample objects above do not match $crd; fix them in tests/argocd/testdata" >&2
  exit 1
fi

passed=0
failed=0
while IFS=$'\t' read -r input_path want_status want_message; do
  python3 "$here/yaml_to_lua.py" "$here/$input_path" > "$work/object.lua"
  if ! output=$(cd "$work" && lua5.1 "$here/harness.lua" "$check" "$work/object.lua" 2>&1); then
    echo "FAIL $input_path: the health check raised an error:"
    echo "$output" | sed 's/^/    /'
    failed=$((failed + 1))
    continue
  fi
  got_status=$(sed -n 1p <<<"$output")
  got_message=$(sed -n 2p <<<"$output")
  if [ "$got_status" = "$want_status" ] && [ "$got_message" = "$want_message" ]; then
    echo "ok   $input_path: $got_status"
    passed=$((passed + 1))
  else
    echo "FAIL $input_path"
    echo "    expected: $want_status: $want_message"
    echo "    got:      $got_status: $got_message"
    failed=$((failed + 1))
  fi
done < "$work/cases.tsv"

echo "argocd-health: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
