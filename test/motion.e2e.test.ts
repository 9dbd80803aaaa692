// A moving belt (issue 13, item 4, part): the frame smears along the belt's travel and not across
// it, the label records the motion, and a still spec renders as it always did.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { cli, datasetSamples, tempDir } from './helpers.ts';

const W = 64;
const H = 48;

async function render(dir: string, name: string, motion: Record<string, unknown>) {
  const spec = join(dir, `${name}.json`);
  await writeFile(
    spec,
    JSON.stringify({
      name,
      seed: 5,
      count: 3,
      render: { resolution: [128, 96], samples: 8 },
      // Looking straight down at azimuth 0, no roll: the belt's travel (world x) is the image's vertical.
      camera: { azimuth_deg: 0, roll_deg: 0, elevation_deg: 90, distance_m: 0.35 },
      // The phone square to the image, so its sides run along the travel and its ends across it.
      product: { yaw_deg: 0, offset_m: 0 },
      // The world's light only: a lamp's glint sweeping over the screen would be an edge of its own.
      lights: { count: 0 },
      sensor: { noise_sigma: 0, grain_strength: 0, blur_sigma_px: 0, exposure_ev: 0 },
      motion,
    }),
  );
  const out = join(dir, name);
  const r = await cli(['render', spec, '--out', out]);
  assert.equal(r.code, 0, r.all);
  const frames: { label: Record<string, unknown>; grey: Buffer }[] = [];
  // Averaged down 2x: less of the render's sampling noise, its edges kept.
  for (const x of await datasetSamples(out))
    frames.push({ label: x.label, grey: await sharp(x.member('png')).greyscale().resize(W, H, { kernel: 'cubic' }).raw().toBuffer() });
  return frames;
}

/**
 * How sharp the product's edges are, on the grey image: across its rows, the steepest step
 * between vertical neighbours (its top and bottom edges, across the travel), and across its
 * columns, the steepest step between horizontal neighbours (its sides), each averaged over the
 * middle of the product's box (from the still frame's label, scaled to W x H).
 */
function sharpness(g: Buffer, bbox: number[]): { vertical: number; horizontal: number } {
  const [x, y, w, h] = bbox.map((v) => (v * W) / 128) as [number, number, number, number];
  const mid = (lo: number, n: number) => [Math.ceil(lo + n * 0.3), Math.floor(lo + n * 0.7)] as const;
  const at = (xx: number, yy: number) => g[Math.min(H - 1, Math.max(0, yy)) * W + Math.min(W - 1, Math.max(0, xx))] ?? 0;
  const steepest = (line: (k: number) => number, from: number, to: number) => {
    let best = 0;
    for (let k = from; k < to; k++) best = Math.max(best, Math.abs(line(k + 1) - line(k)));
    return best;
  };
  const [c0, c1] = mid(x, w);
  const [r0, r1] = mid(y, h); // the middle of the sides: away from the smeared ends
  let vertical = 0;
  for (let c = c0; c <= c1; c++) vertical += steepest((k) => at(c, k), Math.floor(y - 12), Math.ceil(y + h + 12));
  let horizontal = 0;
  for (let r = r0; r <= r1; r++) horizontal += steepest((k) => at(k, r), Math.floor(x - 4), Math.ceil(x + w + 4));
  return { vertical: vertical / (c1 - c0 + 1), horizontal: horizontal / (r1 - r0 + 1) };
}

test('a moving belt smears along its travel, not across it; the label says how far it moved', async () => {
  const dir = await tempDir('synthline-motion-');
  const still = await render(dir, 'still', {});
  const moving = await render(dir, 'moving', { belt_speed_m_s: 2, shutter_s: 0.02 });
  for (const f of still) assert.equal('motion' in f.label, false, 'a still frame has no motion in its label');
  for (let i = 0; i < still.length; i++) {
    const a = still[i];
    const b = moving[i];
    assert.ok(a && b);
    assert.deepEqual(b.label.motion, { belt_speed_m_s: 2, shutter_s: 0.02, travel_m: 0.04 });
    const bbox = a.label.bbox as number[];
    const s0 = sharpness(a.grey, bbox);
    const s1 = sharpness(b.grey, bbox);
    // The product's top and bottom edges (across the travel) smear; its sides barely change.
    const keptAcross = s1.vertical / s0.vertical;
    const keptAlong = s1.horizontal / s0.horizontal;
    assert.ok(
      keptAcross < 0.7 * keptAlong,
      `frame ${i}: edges across the travel kept ${keptAcross.toFixed(2)}, its sides ${keptAlong.toFixed(2)}`,
    );
  }
});

test('a still frame after moving ones renders as it does alone: nothing of the motion stays in the process', async () => {
  const dir = await tempDir('synthline-motion-mixed-');
  const spec = join(dir, 'mixed.json');
  await writeFile(
    spec,
    JSON.stringify({
      name: 'mixed',
      seed: 8,
      count: 6,
      render: { resolution: [64, 48], samples: 4 },
      motion: { belt_speed_m_s: { choice: [0, 2] }, shutter_s: 0.01 },
    }),
  );
  const all = join(dir, 'all');
  assert.equal((await cli(['render', spec, '--out', all])).code, 0);
  const samples = new Map<number, { moving: boolean; bytes: Buffer }>();
  for (const x of await datasetSamples(all)) samples.set(x.label.index, { moving: x.label.motion !== undefined, bytes: x.member('png') });
  const stillAfterMoving = [...samples.keys()].filter(
    (i) => !samples.get(i)?.moving && [...samples.keys()].some((j) => j < i && samples.get(j)?.moving),
  );
  assert.ok(
    stillAfterMoving.length > 0,
    `the seed gives a still frame after a moving one: ${[...samples.entries()].map(([i, s]) => `${i}:${s.moving}`)}`,
  );
  for (const i of stillAfterMoving) {
    const alone = join(dir, `alone-${i}`);
    assert.equal((await cli(['render', spec, '--out', alone, '--frames', `${i}:${i + 1}`])).code, 0);
    const [one] = await datasetSamples(alone);
    assert.ok(one?.member('png').equals(samples.get(i)?.bytes ?? Buffer.alloc(0)), `frame ${i}: the same bytes alone`);
  }
});
