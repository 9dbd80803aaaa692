// Line lights (issue 13, item 4, part): a long strip across the belt, seen in a glossy belt as a
// long streak across the travel; the label records its length; mixed with square area lights in
// one process, every frame renders as it does alone.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { cli, datasetSamples, tempDir } from './helpers.ts';

const W = 128;
const H = 96;

async function samples(out: string) {
  return (await datasetSamples(out)).map((x) => ({
    label: x.label as unknown as { index: number; lights: { type: string; length_m?: number }[] },
    png: x.member('png'),
  }));
}

async function render(dir: string, name: string, types: string[], count = 2, frames?: string) {
  const outName = frames ? `${name}-${frames.replace(':', '-')}` : name;
  const spec = join(dir, `${outName}.json`);
  await writeFile(
    spec,
    JSON.stringify({
      name,
      seed: 13,
      count,
      render: { resolution: [W, H], samples: 8 },
      // Straight down, azimuth 0: world y (across the belt) is the image's horizontal.
      camera: { azimuth_deg: 0, roll_deg: 0, elevation_deg: 90, distance_m: 0.35, look_at_jitter_m: 0 },
      product: { offset_m: 0.09 },
      lights: { count: 1, types, elevation_deg: 90, distance_m: 0.8, size_m: 0.03, line_length_m: 1.5, area_energy_w: 60 },
      world: { strength: 0.02 },
      background: { roughness: 0.02, image_probability: 0 },
      sensor: { noise_sigma: 0, grain_strength: 0, blur_sigma_px: 0, exposure_ev: 0 },
    }),
  );
  const out = join(dir, outName);
  const r = await cli(['render', spec, '--out', out, ...(frames ? ['--frames', frames] : [])]);
  assert.equal(r.code, 0, r.all);
  return samples(out);
}

/** The extent, in x and in y, of the brightest pixels (the light's reflection in the belt). */
async function highlight(png: Buffer): Promise<{ x: number; y: number }> {
  const g = await sharp(png).greyscale().raw().toBuffer();
  const max = Math.max(...g);
  let x0 = W;
  let x1 = -1;
  let y0 = H;
  let y1 = -1;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      if ((g[y * W + x] ?? 0) >= max * 0.8) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  return { x: x1 - x0 + 1, y: y1 - y0 + 1 };
}

test('a line light: a streak across the belt where a square light makes a spot; its length in the label', async () => {
  const dir = await tempDir('synthline-line-light-');
  const line = await render(dir, 'line', ['line']);
  const square = await render(dir, 'square', ['area']);
  for (let i = 0; i < line.length; i++) {
    const l = line[i];
    const s = square[i];
    assert.ok(l && s);
    assert.deepEqual(
      l.label.lights.map((x) => [x.type, x.length_m]),
      [['area', 1.5]],
    );
    assert.equal('length_m' in (s.label.lights[0] ?? {}), false);
    const hl = await highlight(l.png);
    const hs = await highlight(s.png);
    assert.ok(hl.x > 3 * hl.y, `frame ${i}: the strip's streak ${hl.x} x ${hl.y} px`);
    assert.ok(hl.x > 2 * hs.x, `frame ${i}: longer than the square's ${hs.x} x ${hs.y} px`);
  }
});

test('line and square area lights in one process: each frame renders as it does alone', async () => {
  const dir = await tempDir('synthline-line-mixed-');
  const all = await render(dir, 'mixed', ['line', 'area'], 6);
  const kinds = all.map((s) => (s.label.lights[0]?.length_m ? 'line' : 'square'));
  assert.ok(kinds.includes('line') && kinds.includes('square'), kinds.join(','));
  // Each frame after the first follows frames that used the pooled area light the other way.
  for (const s of all.slice(1)) {
    const i = s.label.index;
    const [alone] = await render(dir, 'mixed', ['line', 'area'], 6, `${i}:${i + 1}`);
    assert.ok(alone?.png.equals(s.png), `frame ${i} (${kinds[i]}): the same bytes alone`);
  }
});
