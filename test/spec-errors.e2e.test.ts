import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtinCatalog } from '@synthline/spec';
import { cli, tempDir } from './helpers.ts';

// A spec's mistakes as `synthline render` reports them (issue 17): one line per field, in the
// order the file has them, each with the field, value or model probably meant. A bad spec never
// starts Blender, so these are quick.

/** Renders `spec` with the real CLI; its exit code, stderr lines, and whether --out was made. */
async function renderSpec(spec: unknown) {
  const dir = await tempDir();
  const specPath = join(dir, 'bad.json');
  await writeFile(specPath, typeof spec === 'string' ? spec : JSON.stringify(spec));
  const out = join(dir, 'o');
  const r = await cli(['render', specPath, '--out', out]);
  return { ...r, lines: r.stderr.trimEnd().split('\n'), outMade: existsSync(out) };
}

test('misspelt fields and a misspelt model: one line each, in spec order, with the fix', async () => {
  const r = await renderSpec(
    '{"count":4,"produts":[],"render":{"sampels":4},"camera":{"distance":1},"products":[{"asset":"builtin:iPhone-8","colors":["blue"]}]}',
  );
  assert.equal(r.code, 2, r.all);
  assert.deepEqual(r.lines, [
    'invalid spec:',
    '  produts: unknown field; did you mean "products"?',
    '  render.sampels: unknown field; did you mean "samples"?',
    '  camera.distance: unknown field; did you mean "distance_m"?',
    '  products[0].asset: unknown model "iPhone-8"; did you mean "builtin:iphone-8"?',
  ]);
  assert.equal(r.stdout, '');
  assert.equal(r.outMade, false, 'nothing is rendered');
});

test('with the models fixed, misspelt colours get the palette colour meant', async () => {
  const r = await renderSpec({
    count: 4,
    products: [
      { asset: 'builtin:iphone-8', colors: ['space grey'] },
      { asset: 'builtin:iphone-13', colors: ['Blue', 'blue'] },
    ],
    render: { sampels: 4 },
  });
  assert.equal(r.code, 2, r.all);
  assert.deepEqual(r.lines, [
    'invalid spec:',
    '  products[0].colors[0]: "space grey" is not a colour of iPhone 8; did you mean "Space Gray"?',
    '  products[1].colors[1]: "blue" is not a colour of iPhone 13; did you mean "Blue"?',
    '  render.sampels: unknown field; did you mean "samples"?',
  ]);
});

test('enum values, a missing "builtin:" and nested unknown fields get the value meant; far-off names get none', async () => {
  const r = await renderSpec({
    render: { format: 'PNG', zoom: 2 },
    products: [{ asset: 'iphone-x' }, { asset: 'builtin:nokia-3310' }],
    output: { class_by: 'model-color', annotations: { masks: true } },
    world: { hdris: ['Studio'] },
  });
  assert.equal(r.code, 2, r.all);
  assert.deepEqual(r.lines, [
    'invalid spec:',
    '  render.format: Invalid option: expected one of "png"|"jpeg"|"webp"; did you mean "png"?',
    '  render.zoom: unknown field',
    '  products[0].asset: expected "builtin:<model-id>" or "library:<product-id>"; did you mean "builtin:iphone-x"?',
    `  products[1].asset: unknown model "nokia-3310" (builtin models: ${builtinCatalog()
      .models.map((m) => m.id)
      .join(', ')})`,
    '  output.class_by: Invalid option: expected one of "model"|"model_color"|"model_color_side"; did you mean "model_color"?',
    '  output.annotations.masks: unknown field; did you mean "mask"?',
    '  world.hdris[0]: Invalid option: expected one of "city"|"courtyard"|"forest"|"interior"|"night"|"studio"|"sunrise"|"sunset"; did you mean "studio"?',
  ]);
});
