// The belt as a line has it (issue 13, item 4): side rails, a seam, worn streaks and dirt, each
// changing the picture where it lies on the belt (pixels traced back onto the belt through the
// label's camera); a plain frame after such frames renders as it does alone.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { cli, datasetSamples, tempDir } from './helpers.ts';

const W = 160;
const H = 120;

interface Frame {
  label: {
    index: number;
    belt?: { width_m: number; centre_y_m: number; rail_height_m: number; seam_x_m: number | null; wear: number; dirt: number };
    camera: { K: number[][]; world_to_camera: number[][] };
  };
  png: Buffer;
  rgb: Buffer;
}

async function render(dir: string, name: string, belt: Record<string, unknown> | undefined, frames?: string, count = 3): Promise<Frame[]> {
  const spec = join(dir, `${name}.json`);
  await writeFile(
    spec,
    JSON.stringify({
      name: 'belt',
      seed: 17,
      count,
      render: { resolution: [W, H], samples: 4 },
      camera: { distance_m: [0.4, 0.45], elevation_deg: [80, 90] },
      ...(belt ? { belt } : {}),
    }),
  );
  const out = join(dir, name);
  const r = await cli(['render', spec, '--out', out, ...(frames ? ['--frames', frames] : [])]);
  assert.equal(r.code, 0, r.all);
  return Promise.all(
    (await datasetSamples(out)).map(async (x) => ({
      label: x.label as unknown as Frame['label'],
      png: x.member('png'),
      rgb: await sharp(x.member('png')).removeAlpha().raw().toBuffer(),
    })),
  );
}

/** Where the ray through pixel (u, v) meets the belt (z = 0), in world metres. */
function onBelt(cam: Frame['label']['camera'], u: number, v: number): [number, number] {
  const K = cam.K;
  const M = cam.world_to_camera;
  const fx = K[0]?.[0] ?? 1;
  const fy = K[1]?.[1] ?? 1;
  const cx = K[0]?.[2] ?? 0;
  const cy = K[1]?.[2] ?? 0;
  const dc = [(u + 0.5 - cx) / fx, (v + 0.5 - cy) / fy, 1];
  const R = [0, 1, 2].map((i) => [0, 1, 2].map((j) => M[i]?.[j] ?? 0));
  const t = [0, 1, 2].map((i) => M[i]?.[3] ?? 0);
  // World = R^T (c - t): the camera centre is -R^T t, a direction is R^T d.
  const rt = (x: number[]) => [0, 1, 2].map((j) => [0, 1, 2].reduce((a, i) => a + (R[i]?.[j] ?? 0) * (x[i] ?? 0), 0));
  const C = rt(t.map((x) => -x));
  const d = rt(dc);
  const s = -(C[2] ?? 0) / (d[2] ?? 1);
  return [(C[0] ?? 0) + s * (d[0] ?? 0), (C[1] ?? 0) + s * (d[1] ?? 0)];
}

/** World belt points of the pixels that changed by more than 40 (summed over channels). */
function changed(a: Frame, b: Frame): [number, number][] {
  const out: [number, number][] = [];
  for (let v = 0; v < H; v++)
    for (let u = 0; u < W; u++) {
      const k = (v * W + u) * 3;
      const d =
        Math.abs((a.rgb[k] ?? 0) - (b.rgb[k] ?? 0)) +
        Math.abs((a.rgb[k + 1] ?? 0) - (b.rgb[k + 1] ?? 0)) +
        Math.abs((a.rgb[k + 2] ?? 0) - (b.rgb[k + 2] ?? 0));
      if (d > 40) out.push(onBelt(b.label.camera, u, v));
    }
  return out;
}

test('side rails: in the label, the picture changes along the belt edges it names and not in its middle', async () => {
  const dir = await tempDir('synthline-belt-rails-');
  const plain = await render(dir, 'plain', undefined);
  const belt = { width_m: 0.24, centre_offset_m: 0, rail_height_m: 0.03, seam_probability: 0, wear: 0, dirt: 0 };
  const railed = await render(dir, 'railed', belt);
  for (let i = 0; i < plain.length; i++) {
    const a = plain[i];
    const b = railed[i];
    assert.ok(a && b?.label.belt);
    assert.equal(a.label.belt, undefined);
    const { centre_y_m: c, width_m: w } = b.label.belt;
    const pts = changed(a, b);
    assert.ok(pts.length > 100, `frame ${i}: ${pts.length} pixels of rails`);
    // Beside a rail (its face, its top seen in perspective, its shadow): within 6 cm of an edge.
    const nearEdge = pts.filter(([, y]) => Math.abs(Math.abs(y - c) - w / 2) < 0.06).length;
    assert.ok(nearEdge > 0.95 * pts.length, `frame ${i}: ${nearEdge} of ${pts.length} changed pixels by the edges`);
  }
});

test('a seam crosses the belt where the label says', async () => {
  const dir = await tempDir('synthline-belt-seam-');
  const plain = await render(dir, 'plain', undefined);
  const seamed = await render(dir, 'seamed', { width_m: 1, rail_height_m: 0, seam_probability: 1, wear: 0, dirt: 0 });
  for (let i = 0; i < plain.length; i++) {
    const a = plain[i];
    const b = seamed[i];
    const x = b?.label.belt?.seam_x_m;
    assert.ok(a && b && typeof x === 'number');
    const pts = changed(a, b).filter(([, y]) => Math.abs(y - (b.label.belt?.centre_y_m ?? 0)) < 0.45);
    assert.ok(pts.length > 10, `frame ${i}: ${pts.length} pixels of seam`);
    const near = pts.filter(([px]) => Math.abs(px - x) < 0.01).length;
    assert.ok(near > 0.9 * pts.length, `frame ${i}: ${near} of ${pts.length} changed pixels within 1 cm of the seam at x = ${x}`);
  }
});

test('wear and dirt mark the belt all over', async () => {
  const dir = await tempDir('synthline-belt-wear-');
  const plain = await render(dir, 'plain', undefined);
  const worn = await render(dir, 'worn', { width_m: 2, rail_height_m: 0, seam_probability: 0, wear: 1, dirt: 1 });
  for (let i = 0; i < plain.length; i++) {
    const a = plain[i];
    const b = worn[i];
    assert.ok(a && b);
    const n = changed(a, b).length;
    assert.ok(n > 0.05 * W * H, `frame ${i}: wear and dirt changed ${n} pixels`);
  }
});

test('a plain frame after frames with a railed, worn belt renders as it does alone', async () => {
  const dir = await tempDir('synthline-belt-mixed-');
  const belt = { probability: 0.5, width_m: 0.3, seam_probability: 1, wear: 1, dirt: 1 };
  const all = await render(dir, 'mixed', belt, undefined, 6);
  const idx = all.findIndex((f, i) => i > 0 && !f.label.belt && all.slice(0, i).some((p) => p.label.belt));
  assert.ok(idx > 0, `the seed gives a plain frame after a belt frame: ${all.map((f) => (f.label.belt ? 'B' : '-')).join('')}`);
  const i = all[idx]?.label.index ?? 0;
  const [alone] = await render(dir, `alone-${i}`, belt, `${i}:${i + 1}`, 6);
  assert.ok(alone?.png.equals(all[idx]?.png ?? Buffer.alloc(0)), `frame ${i}: the same bytes alone`);
});
