#!/usr/bin/env bash
# The README's main command: renders the quickstart dataset and verifies it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
out="${1:-out/quickstart}"
node apps/cli/bin/synthline.js render examples/quickstart.json --out "$out" --overwrite
node apps/cli/bin/synthline.js verify "$out"
