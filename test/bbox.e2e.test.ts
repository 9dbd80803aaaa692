import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { parseSpec, type FramePlan, type RenderResult } from '@synthline/spec';
import { plan } from '@synthline/planner';
import { RenderSlot } from '@synthline/blender';
import { decodeRgb } from '@synthline/sensor';
import { tempDir, tinySpec } from './helpers.ts';

// Frames whose product lies in varied poses, under varied light, at a size where a pixel matters.
const spec = parseSpec(tinySpec({ count: 40, render: { resolution: [160, 120], samples: 24 } }));
const slot = new RenderSlot();
let dir: string;

before(async () => {
  dir = await tempDir();
});
after(() => slot.close());

type Box = [number, number, number, number];

function extent(pixels: (x: number, y: number) => boolean, w: number, h: number): { box: Box | null; n: number } {
  let x0 = w,
    y0 = h,
    x1 = -1,
    y1 = -1,
    n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!pixels(x, y)) continue;
      n++;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  return { box: n ? [x0, y0, x1 - x0 + 1, y1 - y0 + 1] : null, n };
}

/** A 3x3 majority filter: keeps pixels whose neighbourhood mostly agrees (drops stray fireflies). */
function majority(set: (x: number, y: number) => boolean, w: number, h: number): (x: number, y: number) => boolean {
  const on = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) on[y * w + x] = set(x, y) ? 1 : 0;
  return (x, y) => {
    let n = 0;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx,
          ny = y + dy;
        if (nx >= 0 && ny >= 0 && nx < w && ny < h) n += on[ny * w + nx] ?? 0;
      }
    return n >= 5;
  };
}

async function render(p: FramePlan, name: string, withMask = false): Promise<RenderResult> {
  return slot.render(p, { image: join(dir, `${name}.png`), mask: withMask ? join(dir, `${name}.mask.png`) : null });
}

const recolour = (p: FramePlan, srgb: [number, number, number]): FramePlan => ({
  ...p,
  product: { ...p.product, side_up: 'back', color: { ...p.product.color, srgb } },
});

test('the bbox is tight around the product as it appears in the image', async () => {
  // Render each frame twice, back up, once with a red and once with a green body: the pixels
  // that change are the product's own, an independent silhouette to hold the bbox against.
  let checked = 0;
  for (let i = 0; i < 10; i++) {
    const p = plan(spec, i);
    const red = await render(recolour(p, [0.9, 0.05, 0.05]), `${i}-red`);
    await render(recolour(p, [0.05, 0.9, 0.05]), `${i}-green`);
    const a = await decodeRgb(join(dir, `${i}-red.png`));
    const b = await decodeRgb(join(dir, `${i}-green.png`));
    const differs = (x: number, y: number) => {
      const k = (y * a.width + x) * 3;
      return Math.abs((a.data[k] ?? 0) - (b.data[k] ?? 0)) + Math.abs((a.data[k + 1] ?? 0) - (b.data[k + 1] ?? 0)) > 40;
    };
    const changed = extent(majority(differs, a.width, a.height), a.width, a.height);
    if (!red.bbox) {
      assert.equal(changed.n, 0, `frame ${i}: no bbox, yet the product is visible`);
      continue;
    }
    assert.ok(changed.box, `frame ${i}: the product is visible`);
    const [bx, by, bw, bh] = red.bbox;
    const [cx, cy, cw, ch] = changed.box;
    for (const [edge, d] of [
      ['left', bx - cx],
      ['top', by - cy],
      ['right', bx + bw - (cx + cw)],
      ['bottom', by + bh - (cy + ch)],
    ] as const) {
      assert.ok(Math.abs(d) <= 2, `frame ${i}: bbox ${red.bbox} vs silhouette ${changed.box}: ${edge} edge off by ${d}px`);
    }
    checked++;
  }
  assert.ok(checked >= 8, `only ${checked} frames had the product in view`);
});

test('the mask matches the bbox and lies inside the projected product', async () => {
  for (let i = 10; i < 22; i++) {
    const p = plan(spec, i);
    const r = await render(p, `${i}`, true);
    const { data, info } = await sharp(join(dir, `${i}.mask.png`))
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], p.render.resolution);
    const m = extent((x, y) => (data[y * info.width + x] ?? 0) > 127, info.width, info.height);
    assert.deepEqual(m.box, r.bbox, `frame ${i}: mask extent equals bbox`);
    assert.equal(m.n, r.visible_pixels);
    if (!r.bbox) continue;

    // Project the corners of the product's box with the measured camera: the silhouette must
    // lie inside that projection (OpenCV convention, pixel centres at +0.5).
    const K = r.camera.K;
    const W = r.camera.world_to_camera;
    const M = r.product.matrix_world;
    const [dx, dy, dz] = r.product.dimensions_m.map((d) => d / 2) as [number, number, number];
    let u0 = Infinity,
      v0 = Infinity,
      u1 = -Infinity,
      v1 = -Infinity;
    for (const sx of [-1, 1])
      for (const sy of [-1, 1])
        for (const sz of [-1, 1]) {
          const local = [sx * dx, sy * dy, sz * dz, 1];
          const world = M.map((row) => row.reduce((s, v, k) => s + v * (local[k] ?? 0), 0));
          const cam = W.map((row) => row.reduce((s, v, k) => s + v * (world[k] ?? 0), 0));
          const [X, Y, Z] = cam as [number, number, number];
          assert.ok(Z > 0, 'the product is in front of the camera');
          const u = ((K[0]?.[0] ?? 0) * X) / Z + (K[0]?.[2] ?? 0);
          const v = ((K[1]?.[1] ?? 0) * Y) / Z + (K[1]?.[2] ?? 0);
          u0 = Math.min(u0, u);
          v0 = Math.min(v0, v);
          u1 = Math.max(u1, u);
          v1 = Math.max(v1, v);
        }
    const [bx, by, bw, bh] = r.bbox;
    const tol = 1.5;
    assert.ok(
      bx >= Math.max(0, u0) - tol && by >= Math.max(0, v0) - tol,
      `frame ${i}: bbox ${r.bbox} starts inside projection [${u0}, ${v0}]`,
    );
    assert.ok(
      bx + bw <= Math.min(info.width, u1) + tol && by + bh <= Math.min(info.height, v1) + tol,
      `frame ${i}: bbox ${r.bbox} ends inside projection [${u1}, ${v1}]`,
    );
    // And it is not much smaller: a phone lying flat fills most of its projected box.
    const projArea = (Math.min(info.width, u1) - Math.max(0, u0)) * (Math.min(info.height, v1) - Math.max(0, v0));
    assert.ok(bw * bh > 0.5 * projArea, `frame ${i}: bbox area ${bw * bh} vs projected ${projArea}`);
  }
});
