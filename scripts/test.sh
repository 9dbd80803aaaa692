#!/usr/bin/env bash
# The README's test command: type check, the Python tests of the bpy side's pure parts, then
# every TypeScript test (unit tests beside the code, end-to-end tests under test/ with real
# Blender) in one node test run, on Debian 12's Blender 3.4 and again on Blender 4.x (Debian 13's
# 4.3 in a chroot, scripts/blender-4.sh), the version of the worker image's family.
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHLINE_TEST_DEPS=1 bash scripts/ensure-deps.sh
echo "== typecheck" >&2
npx tsc -p tsconfig.json
npx tsc -p apps/console/web/tsconfig.json
echo "== layering (.dependency-cruiser.mjs: declared dependencies, layer order, no cycles)" >&2
npm run --silent layering
echo "== lint and format (biome.json for TypeScript; flake8 and black for blender-scripts)" >&2
npm run --silent lint
echo "== python (blender-scripts, no Blender needed)" >&2
python3 -m unittest discover -s blender-scripts/tests -t blender-scripts
echo "== python (evaluate-scripts, the probe runner, with Debian's PyTorch)" >&2
"${SYNTHLINE_PYTHON:-/usr/bin/python3}" -m unittest discover -s evaluate-scripts/tests -t evaluate-scripts
echo "== node tests" >&2
shopt -s nullglob
tests=(packages/*/src/*.test.ts apps/*/src/*.test.ts test/*.test.ts)
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${tests[@]}"
# Every test again on Blender 4.x: the tests that do not start Blender take seconds, and no list of
# the ones that do can fall out of date.
blender4="$(bash scripts/blender-4.sh)"
echo "== node tests on $("$blender4" -b --factory-startup --version 2>/dev/null | head -n 1) ($blender4)" >&2
BLENDER="$blender4" node --import tsx --test --test-concurrency=1 --test-reporter=spec "${tests[@]}"
