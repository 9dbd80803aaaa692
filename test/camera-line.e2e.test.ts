// The camera-line sensor stages (issue 13, item 4, part) through `synthline render`: recorded in
// every label, applied where the label says, and absent from datasets that do not ask for them.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { cli, datasetSamples, tempDir } from './helpers.ts';

async function render(dir: string, sensor: Record<string, unknown>) {
  const spec = join(dir, `${Object.keys(sensor).join('-') || 'plain'}.json`);
  const still = { noise_sigma: 0, grain_strength: 0, blur_sigma_px: 0, exposure_ev: 0 };
  await writeFile(
    spec,
    JSON.stringify({ name: 'line', seed: 21, count: 2, render: { resolution: [96, 72], samples: 4 }, sensor: { ...still, ...sensor } }),
  );
  const out = join(dir, `out-${Object.keys(sensor).join('-') || 'plain'}`);
  const r = await cli(['render', spec, '--out', out]);
  assert.equal(r.code, 0, r.all);
  const samples: { label: { sensor: Record<string, unknown> }; pixels: Buffer }[] = [];
  for (const x of await datasetSamples(out))
    samples.push({
      label: x.label as unknown as { sensor: Record<string, unknown> },
      pixels: await sharp(x.member('png')).removeAlpha().raw().toBuffer(),
    });
  return samples;
}

test('vignetting, a white-balance error and the camera JPEG: in the label, in the pixels, and nowhere when off', async () => {
  const dir = await tempDir('synthline-line-');
  const plain = await render(dir, {});
  const line = await render(dir, { vignette: 0.6, white_balance_mired: 40, jpeg_quality: 60 });
  const vig = await render(dir, { vignette: 0.6 });
  for (const s of plain) {
    for (const k of ['vignette', 'white_balance_gain', 'jpeg_quality']) assert.equal(k in s.label.sensor, false, `${k} absent when off`);
  }
  for (const s of line) {
    assert.equal(s.label.sensor.vignette, 0.6);
    assert.equal(s.label.sensor.jpeg_quality, 60);
    const gain = s.label.sensor.white_balance_gain as number[];
    assert.ok((gain[0] ?? 0) > 1 && gain[1] === 1 && (gain[2] ?? 2) < 1, `warmer: ${gain}`);
  }
  // The same render with vignetting alone: corners darker, the centre the same.
  const W = 96;
  const H = 72;
  const lum = (b: Buffer, x0: number, y0: number, n: number) => {
    let sum = 0;
    for (let y = y0; y < y0 + n; y++) for (let x = x0; x < x0 + n; x++) for (let c = 0; c < 3; c++) sum += b[(y * W + x) * 3 + c] ?? 0;
    return sum / (n * n * 3);
  };
  for (let i = 0; i < plain.length; i++) {
    const a = plain[i]?.pixels ?? Buffer.alloc(0);
    const b = vig[i]?.pixels ?? Buffer.alloc(0);
    assert.equal(lum(b, 46, 34, 4), lum(a, 46, 34, 4), 'the centre keeps its light');
    for (const [x, y] of [
      [0, 0],
      [W - 6, 0],
      [0, H - 6],
      [W - 6, H - 6],
    ] as const)
      assert.ok(lum(b, x, y, 6) < lum(a, x, y, 6) * 0.8, `corner ${x},${y} darker`);
  }
});
