#!/usr/bin/env bash
# The README's main command: installs what is missing, then `synthline demo`: a private Redis,
# the API and one worker; the quickstart job submitted over REST; its dataset verified.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node apps/cli/bin/synthline.js demo "$@"
