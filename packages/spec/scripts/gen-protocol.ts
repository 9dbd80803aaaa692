/**
 * Writes the render protocol's JSON Schema (packages/spec/src/protocol.ts) to
 * blender-scripts/synthline_bpy/core/protocol.schema.json, which the render server validates against.
 *   npm run gen:protocol            write it
 *   npm run gen:protocol -- --check exit 1 if the committed file is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { PROTOCOL_SCHEMA_PATH, protocolSchemaText } from '../src/protocol.ts';

const text = protocolSchemaText();
const where = relative(process.cwd(), PROTOCOL_SCHEMA_PATH);
if (process.argv.includes('--check')) {
  let old = '';
  try {
    old = readFileSync(PROTOCOL_SCHEMA_PATH, 'utf8');
  } catch {
    // missing: stale
  }
  if (old !== text) {
    console.error(`${where} is stale: run npm run gen:protocol`);
    process.exit(1);
  }
  console.log(`${where} is up to date`);
} else {
  writeFileSync(PROTOCOL_SCHEMA_PATH, text);
  console.log(`wrote ${where}`);
}
