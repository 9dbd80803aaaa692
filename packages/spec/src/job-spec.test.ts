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
  assert.equal(p.get('render.sample'), 'unknown field');
  assert.equal(p.get('camera.zoom'), 'unknown field');
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
