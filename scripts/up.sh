#!/usr/bin/env bash
# The service on this machine until Ctrl-C: a private Redis, the API on :8080, one worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node apps/cli/bin/synthline.js up "$@"
