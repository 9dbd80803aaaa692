import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Stream } from './random.ts';

test('the generator is roughly uniform and streams are independent', () => {
  const r = new Stream(1, 2, 'x');
  const bins = new Array(10).fill(0);
  for (let i = 0; i < 20000; i++) bins[Math.floor(r.float() * 10)]++;
  for (const b of bins) assert.ok(Math.abs(b - 2000) < 200, `bin ${b}`);
  assert.notEqual(new Stream(1, 2, 'x').nextU32(), new Stream(1, 2, 'y').nextU32());
  assert.notEqual(new Stream(1, 2, 'x').nextU32(), new Stream(1, 3, 'x').nextU32());
  assert.notEqual(new Stream(2 ** 40, 2, 'x').nextU32(), new Stream(2 ** 40 + 1, 2, 'x').nextU32());
});
