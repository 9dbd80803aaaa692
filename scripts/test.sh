#!/usr/bin/env bash
# The README's test command: type check, the Python tests of the bpy side's pure parts, then
# every TypeScript test (unit tests beside the code, end-to-end tests under test/ with real
# Blender) in one node test run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "== typecheck" >&2
npx tsc -p tsconfig.json
echo "== layering (.dependency-cruiser.mjs: declared dependencies, layer order, no cycles)" >&2
npm run --silent layering
echo "== lint and format (biome.json for TypeScript; flake8 and black for blender-scripts)" >&2
npm run --silent lint
echo "== python (blender-scripts, no Blender needed)" >&2
python3 -m unittest discover -s blender-scripts/tests -t blender-scripts
echo "== node tests" >&2
shopt -s nullglob
node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  packages/*/src/*.test.ts apps/*/src/*.test.ts test/*.test.ts
