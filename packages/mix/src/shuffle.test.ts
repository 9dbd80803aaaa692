import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shuffled } from './shuffle.ts';

const items = Array.from({ length: 50 }, (_, i) => i);

test('a shuffle is a permutation fixed by seed and label', () => {
  const a = shuffled(items, 7, 'order');
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    items,
  );
  assert.deepEqual(shuffled(items, 7, 'order'), a);
  assert.notDeepEqual(a, items);
  assert.deepEqual(
    items,
    Array.from({ length: 50 }, (_, i) => i),
    'the input is not changed',
  );
});

test('another seed or another label gives another order', () => {
  const a = shuffled(items, 7, 'order');
  assert.notDeepEqual(shuffled(items, 8, 'order'), a);
  assert.notDeepEqual(shuffled(items, 7, 'real/x'), a);
  assert.notDeepEqual(shuffled(items, 2 ** 40, 'order'), shuffled(items, 0, 'order'));
});

test('every position is reachable: no element sticks to its place over many seeds', () => {
  const firsts = new Set<number>();
  for (let seed = 0; seed < 400; seed++) firsts.add(shuffled(items.slice(0, 10), seed, 't')[0] ?? -1);
  assert.equal(firsts.size, 10);
});

test('empty and single lists come back as they are', () => {
  assert.deepEqual(shuffled([], 1, 'x'), []);
  assert.deepEqual(shuffled(['a'], 1, 'x'), ['a']);
});
