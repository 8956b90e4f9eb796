#!/usr/bin/env bash
# Creates .venv with the pinned Huawei Cloud SDK packages unless it already has them.
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=tests/sdk/requirements.txt
stamp=.venv/.requirements.sha256
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)

if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
  exit 0
fi

python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"
echo "$wanted" > "$stamp"
