import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { overlayPixels, overlayPng } from './annotation-view.ts';

test('overlays: nothing is transparent, instances take their own colours, depth runs near-bright to far-dark', async () => {
  const inst = overlayPixels('instances', [0, 1, 2, 1]);
  assert.equal(inst[3], 0, 'id 0 is transparent');
  assert.deepEqual([...inst.subarray(4, 8)], [...inst.subarray(12, 16)], 'one id, one colour');
  assert.notDeepEqual([...inst.subarray(4, 7)], [...inst.subarray(8, 11)], 'two ids, two colours');
  const depth = overlayPixels('depth', [0, 300, 400, 500]);
  assert.equal(depth[3], 0);
  assert.ok((depth[4] ?? 0) > (depth[8] ?? 0) && (depth[8] ?? 0) > (depth[12] ?? 0), 'nearer is brighter');
  assert.equal(depth[4], 255);
  assert.equal(depth[12], 0);
  // A real 16-bit PNG through sharp: its values survive (no 8-bit rounding of ids 1 and 2).
  const ids = new Uint16Array([0, 1, 2, 0]);
  const png = await sharp(ids, { raw: { width: 2, height: 2, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toBuffer();
  const back = await sharp(await overlayPng('instances', png))
    .raw()
    .toBuffer();
  assert.deepEqual([...back], [...overlayPixels('instances', ids)]);
});
