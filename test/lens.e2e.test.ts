// Lens distortion (issue 13, item 4): the picture and its mask are distorted with one mapping,
// the label carries K and k1, k2, and undistorting the mask with them gives back the pinhole
// render's mask; boxes are the distorted mask's extent; a frame without distortion after
// distorted ones renders as it does alone.
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
    bbox: [number, number, number, number] | null;
    camera: { K: number[][]; plan: { distortion?: { k1: number; k2: number } } };
  };
  png: Buffer;
  mask: Buffer;
}

async function render(dir: string, name: string, camera: Record<string, unknown>, frames?: string, count = 3, seed = 29): Promise<Frame[]> {
  const spec = join(dir, `${name}.json`);
  await writeFile(
    spec,
    JSON.stringify({
      name: 'lens',
      seed,
      count,
      render: { resolution: [W, H], samples: 4 },
      camera: { distance_m: [0.28, 0.34], ...camera },
      output: { annotations: { mask: true, depth: true } },
    }),
  );
  const out = join(dir, name);
  const r = await cli(['render', spec, '--out', out, ...(frames ? ['--frames', frames] : [])]);
  assert.equal(r.code, 0, r.all);
  return Promise.all(
    (await datasetSamples(out)).map(async (x) => ({
      label: x.label as unknown as Frame['label'],
      png: x.member('png'),
      mask: await sharp(x.member('mask.png')).toColourspace('b-w').raw().toBuffer(),
    })),
  );
}

/** The distorted mask sampled back onto the pinhole render's pixels (OpenCV's model). */
function undistortMask(d: Frame, Kr: number[][]): Uint8Array {
  const Kd = d.label.camera.K;
  const { k1, k2 } = d.label.camera.plan.distortion ?? { k1: 0, k2: 0 };
  const out = new Uint8Array(W * H);
  const [rfx, rfy, rcx, rcy] = [Kr[0]?.[0] ?? 1, Kr[1]?.[1] ?? 1, Kr[0]?.[2] ?? 0, Kr[1]?.[2] ?? 0];
  const [fx, fy, cx, cy] = [Kd[0]?.[0] ?? 1, Kd[1]?.[1] ?? 1, Kd[0]?.[2] ?? 0, Kd[1]?.[2] ?? 0];
  for (let v = 0; v < H; v++)
    for (let u = 0; u < W; u++) {
      const x = (u - rcx) / rfx;
      const y = (v - rcy) / rfy;
      const r2 = x * x + y * y;
      const f = 1 + k1 * r2 + k2 * r2 * r2;
      const ud = Math.round(x * f * fx + cx);
      const vd = Math.round(y * f * fy + cy);
      if (ud >= 0 && ud < W && vd >= 0 && vd < H) out[v * W + u] = d.mask[vd * W + ud] ?? 0;
    }
  return out;
}

function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let both = 0;
  let either = 0;
  for (let i = 0; i < a.length; i++) {
    const x = (a[i] ?? 0) > 127;
    const y = (b[i] ?? 0) > 127;
    if (x && y) both++;
    if (x || y) either++;
  }
  return either ? both / either : 1;
}

function extent(mask: Buffer): [number, number, number, number] | null {
  let [x0, y0, x1, y1] = [W, H, -1, -1];
  for (let v = 0; v < H; v++)
    for (let u = 0; u < W; u++)
      if ((mask[v * W + u] ?? 0) > 127) {
        x0 = Math.min(x0, u);
        y0 = Math.min(y0, v);
        x1 = Math.max(x1, u);
        y1 = Math.max(y1, v);
      }
  return x1 < 0 ? null : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

test("barrel distortion: undistorting the mask with the label's K, k1 and k2 gives back the pinhole render's", async () => {
  const dir = await tempDir('synthline-lens-');
  const plain = await render(dir, 'plain', {});
  const bent = await render(dir, 'bent', { distortion_k1: -0.3, distortion_k2: 0.05 });
  for (let i = 0; i < plain.length; i++) {
    const a = plain[i];
    const b = bent[i];
    assert.ok(a && b);
    assert.equal(a.label.camera.plan.distortion, undefined);
    assert.deepEqual(b.label.camera.plan.distortion, { k1: -0.3, k2: 0.05 });
    // The distorted camera is zoomed in so that no corner is left black: its focal length is longer.
    assert.ok((b.label.camera.K[0]?.[0] ?? 0) > (a.label.camera.K[0]?.[0] ?? 0));
    const direct = iou(a.mask, b.mask);
    const back = iou(a.mask, undistortMask(b, a.label.camera.K));
    assert.ok(back > 0.93, `frame ${i}: undistorted mask IoU ${back.toFixed(3)}`);
    assert.ok(direct < back - 0.05, `frame ${i}: the lens changed the mask (IoU ${direct.toFixed(3)} before undistorting)`);
    assert.deepEqual(b.label.bbox, extent(b.mask), `frame ${i}: the box is the distorted mask's extent`);
    // The corners show the belt, not black.
    const rgb = await sharp(b.png).removeAlpha().raw().toBuffer();
    for (const [u, v] of [
      [0, 0],
      [W - 1, 0],
      [0, H - 1],
      [W - 1, H - 1],
    ] as const) {
      const k = (v * W + u) * 3;
      assert.ok((rgb[k] ?? 0) + (rgb[k + 1] ?? 0) + (rgb[k + 2] ?? 0) > 3, `frame ${i}: corner (${u}, ${v}) is not black`);
    }
  }
});

test('a frame without distortion after distorted ones renders as it does alone', async () => {
  const dir = await tempDir('synthline-lens-mixed-');
  const camera = { distortion_k1: { choice: [0, -0.2] } };
  const all = await render(dir, 'mixed', camera, undefined, 6, 30);
  const idx = all.findIndex(
    (f, i) => i > 0 && !f.label.camera.plan.distortion && all.slice(0, i).some((p) => p.label.camera.plan.distortion),
  );
  assert.ok(idx > 0, `the seed gives a plain frame after a distorted one: ${all.map((f) => f.label.camera.plan.distortion?.k1 ?? 0)}`);
  const i = all[idx]?.label.index ?? 0;
  const [alone] = await render(dir, `alone-${i}`, camera, `${i}:${i + 1}`, 6, 30);
  assert.ok(alone?.png.equals(all[idx]?.png ?? Buffer.alloc(0)), `frame ${i}: the same bytes alone`);
});
