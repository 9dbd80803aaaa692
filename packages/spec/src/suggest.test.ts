import assert from 'node:assert/strict';
import { test } from 'node:test';
import { didYouMean, editDistance, suggest } from './suggest.ts';

test('suggest: the same name ignoring case comes first', () => {
  assert.equal(suggest('blue', ['Black', 'Blue', 'Bluey']), 'Blue');
  assert.equal(suggest('iPhone-8', ['iphone-8', 'iphone-x']), 'iphone-8');
  assert.equal(suggest('IPHONE-X', ['iphone-xr', 'iphone-x']), 'iphone-x');
});

test('suggest: then the same name ignoring separators', () => {
  assert.equal(suggest('model-color', ['model', 'model_color', 'model_color_side']), 'model_color');
  assert.equal(suggest('builtin-iphone-8', ['builtin:iphone-8', 'builtin:iphone-x']), 'builtin:iphone-8');
});

test('suggest: then a name that starts with or contains the typed one (or is contained in it)', () => {
  assert.equal(suggest('distance', ['distance_m', 'elevation_deg']), 'distance_m');
  assert.equal(suggest('energy', ['area_energy_w', 'energy_w']), 'energy_w', 'a prefix beats a substring');
  assert.equal(suggest('temperature', ['color_temperature_k', 'count']), 'color_temperature_k');
  assert.equal(suggest('samples_count', ['samples', 'seed']), 'samples');
  assert.equal(suggest('st', ['status', 'stop']), undefined, 'too short to match by prefix');
});

test('suggest: then a small Damerau-Levenshtein distance, at most max(1, floor(length / 3)), from 4 characters', () => {
  assert.equal(suggest('sampels', ['resolution', 'samples', 'engine']), 'samples', 'a swap counts 1');
  assert.equal(suggest('produts', ['product', 'products', 'render']), 'products');
  assert.equal(suggest('colour', ['asset', 'colors', 'weight']), 'colors');
  assert.equal(suggest('space grey', ['Space Gray', 'Silver']), 'Space Gray');
  assert.equal(suggest('frmaes', ['frames', 'out']), 'frames');
  assert.equal(suggest('rendr', ['render', 'verify']), 'render');
  assert.equal(suggest('zoom', ['distance_m', 'roll_deg']), undefined);
  assert.equal(suggest('ab', ['xy']), undefined);
  assert.equal(suggest('gpu', ['auto', 'cpu', 'cuda']), undefined, 'a name of 3 characters or fewer gets no guess by distance');
  assert.equal(suggest('nokia-3310', ['iphone-8', 'iphone-x']), undefined);
});

test('suggest: two equally near candidates suggest neither', () => {
  assert.equal(suggest('iphone-99', ['iphone-8', 'iphone-x', 'iphone-13']), undefined);
  assert.equal(suggest('cat', ['bat', 'hat']), undefined);
  assert.equal(suggest('', ['a']), undefined);
  assert.equal(suggest('x', []), undefined);
});

test('didYouMean: the suffix a message gets', () => {
  assert.equal(didYouMean('sampels', ['samples']), '; did you mean "samples"?');
  assert.equal(
    didYouMean('iPhone-8', ['iphone-8'], (id) => `builtin:${id}`),
    '; did you mean "builtin:iphone-8"?',
  );
  assert.equal(didYouMean('zoom', ['samples']), '');
});

test('editDistance: optimal string alignment', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('abc', ''), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('ab', 'ba'), 1);
  assert.equal(editDistance('ca', 'abc'), 3);
  assert.ok(editDistance('abcdef', 'uvwxyz', 2) > 2, 'stops past the cap');
});
