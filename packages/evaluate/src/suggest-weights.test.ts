import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classConfusions, MAX_WEIGHT, suggestWeights } from './suggest-weights.ts';

const products = (...weights: number[]) => weights.map((weight, i) => ({ asset: `builtin:m${i}`, weight }));
/** Each product one class (a `model` target): split is the identity. */
const identity = (n: number, frames = 10) =>
  Array.from({ length: n }, (_, p) => Array.from({ length: n }, (_, c) => (p === c ? frames : 0)));

test('accuracy per class and the class each is most often taken for; a class never mistaken has none', () => {
  const c = classConfusions(
    ['a', 'b', 'c'],
    [
      [8, 2, 0],
      [3, 5, 2],
      [0, 0, 4],
    ],
  );
  assert.deepEqual(c, [
    { class: 'a', n: 10, accuracy: 0.8, most_confused_with: 'b', confused: 2 },
    { class: 'b', n: 10, accuracy: 0.5, most_confused_with: 'a', confused: 3 },
    { class: 'c', n: 4, accuracy: 1, most_confused_with: null, confused: 0 },
  ]);
  assert.equal(
    classConfusions(
      ['a', 'b'],
      [
        [0, 0],
        [1, 1],
      ],
    )[0]?.accuracy,
    null,
  );
});

test('weight moves toward the worse class, the sum is kept, and the order of errors is the order of the moves', () => {
  const s = suggestWeights({
    products: products(1, 1, 1),
    classes: ['a', 'b', 'c'],
    confusion: [
      [10, 0, 0],
      [2, 8, 0],
      [3, 3, 4],
    ],
    split: identity(3),
  });
  // errors 0, 0.2, 0.6 -> factors 1, 1.2, 1.6 (sum 3.8) -> scaled to a sum of 3.
  assert.deepEqual(
    s.products.map((p) => p.new_weight),
    [0.789, 0.947, 1.26],
  );
  assert.deepEqual(
    s.products.map((p) => p.error),
    [0, 0.2, 0.6],
  );
  assert.equal(s.total_weight, 3);
  assert.ok(Math.abs(s.products.reduce((a, p) => a + p.new_weight, 0) - 3) < 0.01);
  assert.equal(s.changed, true);
  assert.equal(s.overall_error, 0.2667);
  assert.deepEqual(s.products[2]?.classes, [{ class: 'c', share: 1 }]);
});

test('bounded: a weight at most doubles or halves (alpha 1), never reaches 0, and stays under the schema cap', () => {
  const all = suggestWeights({
    products: products(1, 1),
    classes: ['a', 'b'],
    confusion: [
      [10, 0],
      [10, 0],
    ],
    split: identity(2),
  });
  // errors 0 and 1: factors 1 and 2, scaled to a sum of 2.
  assert.deepEqual(
    all.products.map((p) => p.new_weight),
    [0.667, 1.33],
  );
  const many = suggestWeights({
    products: products(0.001, 1000, 1000),
    classes: ['a', 'b', 'c'],
    confusion: [
      [0, 5, 5],
      [0, 10, 0],
      [0, 0, 10],
    ],
    split: identity(3),
  });
  const w = many.products.map((p) => p.new_weight);
  assert.ok((w[0] ?? 0) > 0 && (w[0] ?? 0) <= 0.002, `${w}`);
  for (const p of many.products) assert.ok(p.new_weight / p.old_weight <= 2 && p.new_weight / p.old_weight >= 0.5);
  const cap = suggestWeights({
    products: products(MAX_WEIGHT, 1),
    classes: ['a', 'b'],
    confusion: [
      [0, 10],
      [0, 10],
    ],
    split: identity(2),
  });
  assert.ok((cap.products[0]?.new_weight ?? Infinity) <= MAX_WEIGHT);
});

test('equal errors change nothing, not even the digits of a weight', () => {
  const s = suggestWeights({
    products: products(1.23456, 2),
    classes: ['a', 'b'],
    confusion: [
      [7, 3],
      [3, 7],
    ],
    split: identity(2),
  });
  assert.deepEqual(
    s.products.map((p) => p.new_weight),
    [1.23456, 2],
  );
  assert.equal(s.changed, false);
});

test('a product over several classes (colours) takes their errors weighted by its split; an untested one the overall error', () => {
  // Product 0 renders classes a (3/4 of its frames) and b; product 1 only c; product 2 only d, not in the test set.
  const s = suggestWeights({
    products: products(1, 1, 1),
    classes: ['a', 'b', 'c', 'd'],
    confusion: [
      [5, 5, 0, 0],
      [0, 10, 0, 0],
      [0, 0, 10, 0],
      [0, 0, 0, 0],
    ],
    split: [
      [30, 10, 0, 0],
      [0, 0, 20, 0],
      [0, 0, 0, 20],
    ],
  });
  assert.equal(s.products[0]?.error, 0.375);
  assert.equal(s.products[1]?.error, 0);
  assert.equal(s.products[2]?.error, null);
  assert.equal(s.overall_error, 0.1667);
  assert.deepEqual(s.products[0]?.classes, [
    { class: 'a', share: 0.75 },
    { class: 'b', share: 0.25 },
  ]);
  const w = s.products.map((p) => p.new_weight);
  assert.ok((w[0] ?? 0) > (w[2] ?? 0) && (w[2] ?? 0) > (w[1] ?? 0), `${w}`);
});

test('colour classes shared by products: the product whose colours fail more gains', () => {
  // Both products come in Black; only product 1 also comes in Gold, which the probe misses.
  const s = suggestWeights({
    products: products(2, 2),
    classes: ['Black', 'Gold'],
    confusion: [
      [10, 0],
      [6, 4],
    ],
    split: [
      [20, 0],
      [10, 10],
    ],
  });
  assert.deepEqual(
    s.products.map((p) => p.new_weight),
    // Errors 0 and 0.3 (half its frames Gold, missed 60 %): factors 1 and 1.3, scaled to a sum of 4.
    [1.74, 2.26],
  );
});

test('bad input is refused', () => {
  assert.throws(() => suggestWeights({ products: products(1), classes: ['a'], confusion: [[1]], split: [] }), /one row per product/);
  assert.throws(() => suggestWeights({ products: products(1), classes: ['a'], confusion: [[1]], split: identity(1), alpha: -1 }), /alpha/);
});
