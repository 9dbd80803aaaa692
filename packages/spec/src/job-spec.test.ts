import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpecError, builtinCatalog, classFor, classesOf, parseSpec, rangeExtent } from './index.ts';

function problems(input: unknown): Map<string, string> {
  try {
    parseSpec(input);
  } catch (err) {
    assert.ok(err instanceof SpecError);
    return new Map(err.problems.map((p) => [p.path, p.message]));
  }
  assert.fail('spec was accepted');
}

test('{"count": 100} alone is a valid spec with every default filled', () => {
  const spec = parseSpec({ count: 100 });
  assert.equal(spec.version, 1);
  assert.equal(spec.count, 100);
  assert.equal(spec.products.length, builtinCatalog().models.length);
  assert.deepEqual(spec.render.resolution, [256, 256]);
  assert.equal(spec.render.engine, 'cycles');
  assert.equal(spec.output.shard_size, 1000);
  assert.deepEqual(spec.camera.elevation_deg, [60, 90]);
  assert.equal(spec.world.hdris.length, 8);
});

test('an empty spec is valid too', () => {
  assert.equal(parseSpec({}).count, 100);
});

test('unknown fields are named by their full path', () => {
  const p = problems({ count: 1, colour: 'red', render: { sample: 3 }, camera: { distance_m: 0.4, zoom: 2 } });
  assert.equal(p.get('colour'), 'unknown field');
  assert.equal(p.get('render.sample'), 'unknown field; did you mean "samples"?');
  assert.equal(p.get('camera.zoom'), 'unknown field');
});

function messages(input: unknown): string[] {
  try {
    parseSpec(input);
  } catch (err) {
    assert.ok(err instanceof SpecError);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('spec was accepted');
}

test('a misspelt field, enum value, model or colour is refused with the one probably meant', () => {
  const p = problems({
    produts: [],
    render: { sampels: 4, format: 'PNG', engine: 'Cycles' },
    camera: { distance: 1, roll_deg: { choise: [1, 2] } },
    world: { hdris: ['Studio'] },
    output: { class_by: 'model-color' },
    products: [
      { asset: 'builtin:iPhone-8' },
      { asset: 'builtin:iphone-13', colors: ['blue', 'Plaid'] },
      { asset: 'iphone-x' },
      { asset: 'builtin:iphone-99' },
    ],
  });
  assert.equal(p.get('produts'), 'unknown field; did you mean "products"?');
  assert.equal(p.get('render.sampels'), 'unknown field; did you mean "samples"?');
  assert.equal(p.get('camera.distance'), 'unknown field; did you mean "distance_m"?');
  assert.match(p.get('camera.roll_deg') ?? '', /^unknown field "choise"; did you mean "choice"\?/);
  assert.match(p.get('render.format') ?? '', /; did you mean "png"\?$/);
  assert.match(p.get('render.engine') ?? '', /; did you mean "cycles"\?$/);
  assert.match(p.get('world.hdris[0]') ?? '', /; did you mean "studio"\?$/);
  assert.match(p.get('output.class_by') ?? '', /; did you mean "model_color"\?$/);
  assert.equal(p.get('products[0].asset'), 'unknown model "iPhone-8"; did you mean "builtin:iphone-8"?');
  assert.equal(p.get('products[1].colors[0]'), '"blue" is not a colour of iPhone 13; did you mean "Blue"?');
  // Nothing near: the palette, or the models, are listed instead.
  assert.match(p.get('products[1].colors[1]') ?? '', /^"Plaid" is not a colour of iPhone 13 \(.*Blue.*\)$/);
  assert.equal(p.get('products[2].asset'), 'expected "builtin:<model-id>" or "library:<product-id>"; did you mean "builtin:iphone-x"?');
  assert.match(p.get('products[3].asset') ?? '', /^unknown model "iphone-99" \(builtin models: iphone-8, /);
});

test('one problem per field, in the order the document has them', () => {
  assert.deepEqual(
    messages({
      count: 4,
      produts: [],
      render: { sampels: 4 },
      camera: { distance: 1 },
      products: [{ asset: 'builtin:iPhone-8', colors: ['blue'] }],
    }),
    [
      'produts: unknown field; did you mean "products"?',
      'render.sampels: unknown field; did you mean "samples"?',
      'camera.distance: unknown field; did you mean "distance_m"?',
      'products[0].asset: unknown model "iPhone-8"; did you mean "builtin:iphone-8"?',
    ],
  );
  // Key order as written, not the schema's; a missing field after everything its parent holds.
  assert.deepEqual(
    messages({ output: { shard_size: 0 }, products: [{ colour: 'x' }, { asset: 'builtin:iphone-8', colors: ['gold'] }], count: 0 }),
    [
      'output.shard_size: Too small: expected number to be >=1',
      'products[0].colour: unknown field; did you mean "colors"?',
      'products[0].asset: Invalid input: expected string, received undefined',
      'products[1].colors[0]: "gold" is not a colour of iPhone 8; did you mean "Gold"?',
      'count: Too small: expected number to be >=1',
    ],
  );
  // A product listed twice and unknown is named once.
  assert.deepEqual(messages({ products: [{ asset: 'builtin:iphone-14-po' }, { asset: 'builtin:iphone-14-po' }] }), [
    'products[0].asset: unknown model "iphone-14-po"; did you mean "builtin:iphone-14-pro"?',
    'products[1].asset: unknown model "iphone-14-po"; did you mean "builtin:iphone-14-pro"?',
  ]);
});

test('wrong types and out-of-range values name each field', () => {
  const p = problems({
    count: 0,
    seed: 1.5,
    name: 'a.b',
    render: { resolution: [64, 'x'], samples: 100000, engine: 'luxcore', format: 'gif' },
    camera: { distance_m: [0.5, 0.2], elevation_deg: 120, roll_deg: { choice: [] } },
    product: { face_down_probability: 2 },
    output: { shard_size: -1 },
  });
  for (const path of [
    'count',
    'seed',
    'name',
    'render.resolution[1]',
    'render.samples',
    'render.engine',
    'render.format',
    'camera.distance_m',
    'camera.elevation_deg',
    'camera.roll_deg.choice',
    'product.face_down_probability',
    'output.shard_size',
  ]) {
    assert.ok(p.has(path), `expected a problem at ${path}; got ${[...p.keys()].join(', ')}`);
  }
  assert.match(p.get('camera.distance_m') ?? '', /min <= max/);
});

test('unknown models and colours are refused, naming the entry', () => {
  const p = problems({
    products: [{ asset: 'builtin:iphone-99' }, { asset: 'builtin:iphone-13', colors: ['Blue', 'Coral'] }, { asset: 'iphone-8' }],
    render: { samples: 0 },
  });
  assert.match(p.get('products[0].asset') ?? '', /unknown model "iphone-99"/);
  assert.match(p.get('products[1].colors[1]') ?? '', /"Coral" is not a colour of iPhone 13/);
  assert.match(p.get('products[2].asset') ?? '', /builtin:<model-id>/);
  assert.ok(p.has('render.samples'), 'other problems are reported alongside product problems');
});

test('a product listed twice is refused', () => {
  const p = problems({ products: [{ asset: 'builtin:iphone-13' }, { asset: 'builtin:iphone-13' }] });
  assert.match(p.get('products[1].asset') ?? '', /listed twice/);
});

test('a distractor product is never a class, and is listed once', () => {
  const p = problems({
    products: [{ asset: 'builtin:iphone-13' }],
    distractors: { count: 1, products: ['builtin:iphone-8', 'builtin:iphone-13', 'builtin:iphone-8'] },
  });
  assert.match(p.get('distractors.products[1]') ?? '', /one of products \(a class\); a distractor is never a class/);
  assert.match(p.get('distractors.products[2]') ?? '', /listed twice/);
  assert.equal(p.size, 2);
});

test('ranges take a constant, an interval or a choice list', () => {
  const spec = parseSpec({ camera: { distance_m: 0.4, elevation_deg: [60, 80], roll_deg: { choice: [0, 90, 180] } } });
  assert.deepEqual(rangeExtent(spec.camera.distance_m), [0.4, 0.4]);
  assert.deepEqual(rangeExtent(spec.camera.elevation_deg), [60, 80]);
  assert.deepEqual(rangeExtent(spec.camera.roll_deg), [0, 180]);
});

test('classes: products in order, colours in palette order, indices dense', () => {
  const spec = parseSpec({ products: [{ asset: 'builtin:iphone-13', colors: ['Green', 'Midnight'] }, { asset: 'builtin:iphone-8' }] });
  const classes = classesOf(spec);
  assert.deepEqual(
    classes.slice(0, 2).map((c) => c.name),
    ['iphone-13_midnight', 'iphone-13_green'],
  );
  assert.deepEqual(
    classes.map((c) => c.index),
    classes.map((_, i) => i),
  );
  assert.equal(classes.length, 2 + (builtinCatalog().models.find((m) => m.id === 'iphone-8')?.colors.length ?? 0));
  assert.equal(classFor(classes, 'iphone-13', 'Green', 'back').name, 'iphone-13_green');

  const byModel = classesOf(parseSpec({ output: { class_by: 'model' } }));
  assert.equal(byModel.length, builtinCatalog().models.length);
  const bySide = classesOf(parseSpec({ products: [{ asset: 'builtin:iphone-x' }], output: { class_by: 'model_color_side' } }));
  assert.equal(classFor(bySide, 'iphone-x', 'Silver', 'back').name, 'iphone-x_silver_back');
});

test('the builtin catalog has at least 6 models, each with marketed colours', () => {
  const models = builtinCatalog().models;
  assert.ok(models.length >= 6);
  for (const m of models) assert.ok(m.colors.length >= 2, `${m.id} has fewer than 2 colours`);
  assert.equal(new Set(models.map((m) => m.id)).size, models.length);
});
