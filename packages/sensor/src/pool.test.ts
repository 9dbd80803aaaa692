import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { Stream } from '@synthline/base';
import { applySensor, type RawImage } from './effects.ts';
import { ImageDecodeError, finishImage, type Finished } from './finish.ts';
import { SensorPool } from './pool.ts';

// The sensor maths as released before it was fused into one pass and moved to threads, kept
// verbatim as the reference: the fast path must give the same bytes for every plan.
function referenceSensor(img: RawImage, s: { noise_sigma: number; grain_strength: number; grain_size_px: number; seed: number }): Buffer {
  const { width, height } = img;
  const data = Buffer.from(img.data);
  const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);
  const gaussians = (r: Stream, n: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const u = 1 - r.float();
      const v = r.float();
      const m = Math.sqrt(-2 * Math.log(u));
      out[i] = m * Math.cos(2 * Math.PI * v);
      if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
    }
    return out;
  };
  const r = new Stream(s.seed, 0, 'sensor-noise');
  const f = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) f[i] = (data[i] ?? 0) / 255;
  if (s.grain_strength > 0) {
    const size = Math.max(1, s.grain_size_px);
    const gw = Math.ceil(width / size) + 2;
    const gh = Math.ceil(height / size) + 2;
    const grid = gaussians(r, gw * gh);
    for (let y = 0; y < height; y++) {
      const gy = y / size;
      const y0 = Math.floor(gy);
      const ty = gy - y0;
      for (let x = 0; x < width; x++) {
        const gx = x / size;
        const x0 = Math.floor(gx);
        const tx = gx - x0;
        const a = grid[y0 * gw + x0] ?? 0;
        const b = grid[y0 * gw + x0 + 1] ?? 0;
        const c = grid[(y0 + 1) * gw + x0] ?? 0;
        const d = grid[(y0 + 1) * gw + x0 + 1] ?? 0;
        const v = ((a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty) * s.grain_strength;
        const i = (y * width + x) * 3;
        f[i] = (f[i] ?? 0) + v;
        f[i + 1] = (f[i + 1] ?? 0) + v;
        f[i + 2] = (f[i + 2] ?? 0) + v;
      }
    }
  }
  if (s.noise_sigma > 0) {
    const g = gaussians(r, f.length);
    for (let i = 0; i < f.length; i++) f[i] = (f[i] ?? 0) + (g[i] ?? 0) * s.noise_sigma;
  }
  for (let i = 0; i < f.length; i++) data[i] = Math.round(clamp(f[i] ?? 0, 0, 1) * 255);
  return data;
}

function picture(w: number, h: number, seed: number): RawImage {
  const r = new Stream(seed, 0, 'picture');
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = r.int(0, 255);
  return { data, width: w, height: h };
}

test('the fused sensor pass gives the reference bytes: odd and even sizes, grain, noise, both', async () => {
  // 1x1 and 7x5: an odd count of channel values (the last normal pair half used); 333 px rows:
  // blocks of draws that must not split a pair; 256: the common case.
  for (const [w, h] of [
    [1, 1],
    [7, 5],
    [333, 41],
    [256, 256],
  ] as const) {
    for (const [grain, noise, size] of [
      [0.03, 0, 2.5],
      [0, 0.02, 1],
      [0.05, 0.04, 1],
      [0.02, 0.01, 3.7],
    ] as const) {
      const img = picture(w, h, w * 1000 + h);
      const s = { noise_sigma: noise, grain_strength: grain, grain_size_px: size, blur_sigma_px: 0, exposure_ev: 0, seed: 77 + w };
      const got = (await applySensor(img, s)).data;
      assert.ok(got.equals(referenceSensor(img, s)), `${w}x${h} grain ${grain} noise ${noise} size ${size}`);
    }
  }
});

test('the pool finishes images to the same bytes as in-process, on 1 or 3 threads, and reports bad files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'synthline-pool-'));
  const jobs = [];
  for (let i = 0; i < 8; i++) {
    const img = picture(96 + i, 64, i);
    const path = join(dir, `${i}.png`);
    await writeFile(
      path,
      await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
        .png()
        .toBuffer(),
    );
    jobs.push({
      imagePath: path,
      sensor: { noise_sigma: 0.02, grain_strength: 0.03, grain_size_px: 2, blur_sigma_px: i % 2 ? 0.8 : 0, exposure_ev: 0.25, seed: i },
      format: 'png' as const,
      quality: 90,
    });
  }
  const hash = (bs: Buffer[]) => createHash('sha256').update(Buffer.concat(bs)).digest('hex');
  const local = hash(await Promise.all(jobs.map(async (j) => (await finishImage(j)).image)));
  for (const n of [1, 3]) {
    const pool = new SensorPool(n);
    try {
      const out: Finished[] = await Promise.all(jobs.map((j) => pool.finish(j)));
      assert.equal(hash(out.map((o) => o.image)), local, `${n} thread(s)`);
      assert.deepEqual([out[2]?.width, out[2]?.height], [98, 64]);
      const bad = join(dir, 'bad.png');
      await writeFile(bad, 'not a png');
      await assert.rejects(pool.finish({ ...(jobs[0] as (typeof jobs)[number]), imagePath: bad }), ImageDecodeError);
      // The pool still works after a failed image.
      assert.equal((await pool.finish(jobs[0] as (typeof jobs)[number])).image.length > 0, true);
    } finally {
      await pool.close();
    }
  }
});
