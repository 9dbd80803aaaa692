#!/usr/bin/env bash
# Installs what synthline needs on a fresh Debian/Ubuntu machine, only where it is absent:
# npm packages (npm ci); Blender, numpy (for Blender's importers), redis-server and PyTorch
# (python3-torch, python3-torchvision: the probe of `synthline evaluate`) from Debian.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then need_apt+=(redis-server); fi
if [ -z "${BLENDER:-}" ] && ! command -v blender >/dev/null 2>&1; then need_apt+=(blender); fi
# Debian's Blender imports numpy from the system Python (not a pyenv or venv python3 on PATH).
if [ -z "${BLENDER:-}" ] && ! dpkg -s python3-numpy >/dev/null 2>&1; then need_apt+=(python3-numpy); fi
# The Python linter and formatter that `npm test` runs over blender-scripts/ (no pip packages).
if ! command -v flake8 >/dev/null 2>&1; then need_apt+=(flake8); fi
if ! command -v black >/dev/null 2>&1; then need_apt+=(black); fi
# `synthline evaluate` trains its probe with Debian's PyTorch, run by /usr/bin/python3 (SYNTHLINE_PYTHON).
if [ -z "${SYNTHLINE_PYTHON:-}" ] && ! dpkg -s python3-torch >/dev/null 2>&1; then need_apt+=(python3-torch); fi
if [ -z "${SYNTHLINE_PYTHON:-}" ] && ! dpkg -s python3-torchvision >/dev/null 2>&1; then need_apt+=(python3-torchvision); fi
# Chromium, only for the tests (test/console.e2e.test.ts drives it with playwright-core; never a
# downloaded browser): scripts/test.sh sets SYNTHLINE_TEST_DEPS=1.
if [ "${SYNTHLINE_TEST_DEPS:-}" = 1 ] && [ ! -x /usr/bin/chromium ]; then need_apt+=(chromium); fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "synthline needs: ${need_apt[*]}. Install them with your package manager (Blender 3.4 or later)." >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing from Debian: ${need_apt[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
# The web console the API serves at / (npm ci builds it; this covers an install without scripts).
if [ ! -f apps/console/dist/app.js ]; then
  echo "building the web console" >&2
  node apps/console/build.mjs
fi
