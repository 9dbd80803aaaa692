import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRle, encodeRle, rleArea } from './coco-rle.ts';

test('RLE: column-major runs starting with 0s, as pycocotools writes them, and back', () => {
  // 3 wide, 2 high:   0 1 1
  //                   0 1 0
  const mask = Uint8Array.from([0, 255, 255, 0, 255, 0]);
  const rle = encodeRle(mask, 3, 2);
  // Columns top to bottom: (0,0) (1,1) (1,0) -> 0 0 | 1 1 | 1 0 -> runs 2 zeros, 3 ones, 1 zero.
  assert.deepEqual(rle, { size: [2, 3], counts: [2, 3, 1] });
  assert.equal(rleArea(rle), 3);
  assert.deepEqual([...decodeRle(rle)], [0, 1, 1, 0, 1, 0]);
  // A mask starting with a set pixel starts with an empty run of 0s.
  assert.deepEqual(encodeRle(Uint8Array.from([255, 0]), 2, 1).counts, [0, 1, 1]);
  // Channels: only the first is read.
  assert.deepEqual(encodeRle(Uint8Array.from([255, 0, 0, 0, 255, 255]), 2, 1, 3).counts, [0, 1, 1]);
});

test('RLE: random masks round-trip; malformed counts are refused', () => {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let n = 0; n < 20; n++) {
    const w = 1 + Math.floor(rnd() * 20);
    const h = 1 + Math.floor(rnd() * 20);
    const mask = Uint8Array.from({ length: w * h }, () => (rnd() < 0.4 ? 1 : 0));
    const back = decodeRle(encodeRle(mask, w, h));
    assert.deepEqual([...back], [...mask]);
  }
  assert.throws(() => decodeRle({ size: [2, 2], counts: [1, 1] }), /cover 2 pixels/);
  assert.throws(() => decodeRle({ size: [2, 2], counts: [3, 3] }), /do not fit/);
});
