#!/usr/bin/env bash
# Runs every test of the project. Prepares, when missing, the Python venv with Huawei
# Cloud's official SDK (the emulator's conformance tests and the signer's differential test
# drive it), then runs the Rust test suite of the whole workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-python.sh

export AKGUARD_PYTHON="$PWD/.venv/bin/python"
cargo test --workspace --locked --no-fail-fast "$@"
