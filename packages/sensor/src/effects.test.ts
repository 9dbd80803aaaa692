import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applySensor, encode, toByte, type RawImage } from './effects.ts';

const none = { noise_sigma: 0, grain_strength: 0, grain_size_px: 1, blur_sigma_px: 0, exposure_ev: 0, seed: 1 };

function gradient(w = 64, h = 48): RawImage {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x * 4, y * 5, 128], (y * w + x) * 3);
  return { data, width: w, height: h };
}

const mean = (b: Buffer) => b.reduce((s, v) => s + v, 0) / b.length;

test('no effects leaves the pixels as they are', async () => {
  const img = gradient();
  assert.deepEqual((await applySensor(img, none)).data, img.data);
});

test('exposure brightens or darkens in linear light', async () => {
  const img = gradient();
  const up = await applySensor(img, { ...none, exposure_ev: 1 });
  const down = await applySensor(img, { ...none, exposure_ev: -1 });
  assert.ok(mean(up.data) > mean(img.data) + 10);
  assert.ok(mean(down.data) < mean(img.data) - 10);
  // Mid grey (sRGB 128, linear 0.216) doubled is linear 0.431, sRGB ~175.
  const grey = { data: Buffer.alloc(12, 128), width: 2, height: 2 };
  assert.ok(Math.abs(((await applySensor(grey, { ...none, exposure_ev: 1 })).data[0] ?? 0) - 175) <= 1);
});

test('noise has the requested spread and is seeded', async () => {
  const flat = { data: Buffer.alloc(128 * 128 * 3, 128), width: 128, height: 128 };
  const a = await applySensor(flat, { ...none, noise_sigma: 0.02 });
  const b = await applySensor(flat, { ...none, noise_sigma: 0.02 });
  const c = await applySensor(flat, { ...none, noise_sigma: 0.02, seed: 2 });
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  const sd = Math.sqrt(a.data.reduce((s, v) => s + (v - 128) ** 2, 0) / a.data.length) / 255;
  assert.ok(Math.abs(sd - 0.02) < 0.003, `noise sd ${sd}`);
});

test('grain is equal across channels and blur smooths edges', async () => {
  const flat = { data: Buffer.alloc(32 * 32 * 3, 100), width: 32, height: 32 };
  const g = await applySensor(flat, { ...none, grain_strength: 0.05, grain_size_px: 3 });
  for (let i = 0; i < g.data.length; i += 3) assert.ok(g.data[i] === g.data[i + 1] && g.data[i] === g.data[i + 2]);
  assert.notDeepEqual(g.data, flat.data);
  const edge = Buffer.alloc(32 * 32 * 3);
  for (let i = 0; i < edge.length; i += 3) if ((i / 3) % 32 >= 16) edge.fill(255, i, i + 3);
  const blurred = await applySensor({ data: edge, width: 32, height: 32 }, { ...none, blur_sigma_px: 2 });
  const at = (x: number) => blurred.data[(10 * 32 + x) * 3] ?? 0;
  assert.ok(at(15) > 0 && at(16) < 255, 'the edge is softened');
});

test('encoding the same pixels gives the same bytes, in every format', async () => {
  const img = gradient();
  for (const f of ['png', 'jpeg', 'webp'] as const) {
    const a = await encode(img, f, 90);
    const b = await encode(img, f, 90);
    assert.deepEqual(a, b, f);
    assert.ok(a.length > 50);
  }
});

test('vignetting darkens the corners by its strength and leaves the centre', async () => {
  const flat = { data: Buffer.alloc(65 * 49 * 3, 200), width: 65, height: 49 };
  const v = await applySensor(flat, { ...none, vignette: 0.5 });
  const at = (x: number, y: number) => v.data[(y * 65 + x) * 3] ?? 0;
  assert.equal(at(32, 24), 200, 'the centre keeps its value');
  // sRGB 200 is linear 0.578; half of it is 0.289, sRGB ~146.
  assert.ok(Math.abs(at(0, 0) - 146) <= 1, `corner ${at(0, 0)}`);
  assert.ok(at(0, 24) > at(0, 0) && at(0, 24) < 200, 'an edge falls less than a corner');
});

test('a white-balance error scales the channels; the camera JPEG leaves its blocks, deterministically', async () => {
  const flat = { data: Buffer.alloc(16 * 16 * 3, 128), width: 16, height: 16 };
  const warm = await applySensor(flat, { ...none, white_balance_gain: [1.2, 1, 0.8] });
  assert.ok((warm.data[0] ?? 0) > 128 && warm.data[1] === 128 && (warm.data[2] ?? 0) < 128);
  const img = gradient();
  const a = await applySensor(img, { ...none, jpeg_quality: 30 });
  const b = await applySensor(img, { ...none, jpeg_quality: 30 });
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, img.data);
  assert.equal(a.data.length, img.data.length);
});

test('toByte rounds every float32 in [0, 1] exactly as Math.round(f * 255) does', () => {
  // All 1,065,353,217 of them (a few seconds): the noise's bytes rest on this equality.
  const f32 = new Float32Array(1);
  const bits = new Uint32Array(f32.buffer);
  let differ = 0;
  for (let b = 0; b <= 0x3f800000; b++) {
    bits[0] = b;
    const f = f32[0] as number;
    if (toByte(f) !== Math.round(f * 255)) differ++;
  }
  assert.equal(differ, 0);
  assert.deepEqual([toByte(-0.5), toByte(-0), toByte(1.5), toByte(Number.MIN_VALUE)], [0, 0, 255, 0]);
});
