// A phone's wear (issue 13, item 3): a crack, a sticker, a lit screen, scratches and dust each change the pixels
// where the label says and hardly anywhere else; a plain phone after worn ones renders as alone.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { cli, datasetSamples, tempDir } from './helpers.ts';

const W = 192;
const H = 144;
type Box = [number, number, number, number];

type Condition = { screen?: unknown; crack?: { bbox: Box | null }; sticker?: { side: string; bbox: Box | null } };

interface Worn {
  label: {
    index: number;
    bbox: Box | null;
    attributes: { side: string };
    condition?: Condition;
    instances?: { id: number; bbox: Box | null; condition?: Condition }[];
  };
  png: Buffer;
  rgb: Buffer;
  /** The instance map (16-bit ids as PNG), empty when not asked for. */
  inst: Buffer;
}

async function render(
  dir: string,
  name: string,
  product: Record<string, unknown>,
  frames?: string,
  count = 3,
  extra: Record<string, unknown> = {},
): Promise<Worn[]> {
  const spec = join(dir, `${name}.json`);
  await writeFile(
    spec,
    JSON.stringify({
      name: 'wear',
      seed: 23,
      count,
      render: { resolution: [W, H], samples: 4 },
      products: [{ asset: 'builtin:iphone-13' }, { asset: 'builtin:iphone-14-pro' }],
      camera: { distance_m: [0.28, 0.32], elevation_deg: [75, 90] },
      product,
      ...extra,
    }),
  );
  const out = join(dir, name);
  const r = await cli(['render', spec, '--out', out, ...(frames ? ['--frames', frames] : [])]);
  assert.equal(r.code, 0, r.all);
  return Promise.all(
    (await datasetSamples(out)).map(async (x) => ({
      label: x.label as unknown as Worn['label'],
      png: x.member('png'),
      rgb: await sharp(x.member('png')).removeAlpha().raw().toBuffer(),
      inst: x.member('inst.png'),
    })),
  );
}

/** Pixels that changed between two renders inside a box (grown by `grow`) and outside it. */
function changedAround(a: Buffer, b: Buffer, box: Box, grow = 2): { inside: number; outside: number } {
  const [x, y, w, h] = box;
  let inside = 0;
  let outside = 0;
  for (let py = 0; py < H; py++)
    for (let px = 0; px < W; px++) {
      const k = (py * W + px) * 3;
      const d =
        Math.abs((a[k] ?? 0) - (b[k] ?? 0)) + Math.abs((a[k + 1] ?? 0) - (b[k + 1] ?? 0)) + Math.abs((a[k + 2] ?? 0) - (b[k + 2] ?? 0));
      if (d <= 40) continue;
      if (px >= x - grow && px < x + w + grow && py >= y - grow && py < y + h + grow) inside++;
      else outside++;
    }
  return { inside, outside };
}

test('a crack: in the label with its box, changing the pixels there and hardly elsewhere', async () => {
  const dir = await tempDir('synthline-wear-crack-');
  const plain = await render(dir, 'plain', { face_down_probability: 0 });
  const cracked = await render(dir, 'cracked', { face_down_probability: 0, condition: { crack_probability: 1 } });
  for (let i = 0; i < plain.length; i++) {
    const a = plain[i];
    const b = cracked[i];
    assert.ok(a && b);
    assert.equal(a.label.condition, undefined);
    const box = b.label.condition?.crack?.bbox;
    assert.ok(box, `frame ${i}: the crack faces the camera, so it has a box`);
    const { inside, outside } = changedAround(a.rgb, b.rgb, box);
    assert.ok(inside > 15, `frame ${i}: the crack changed ${inside} pixels in its box`);
    assert.ok(outside < Math.max(3, inside / 10), `frame ${i}: ${outside} pixels changed outside the crack's box`);
  }
});

test('a sticker: on the side the label says, its box where the pixels change; none seen from the other side', async () => {
  const dir = await tempDir('synthline-wear-sticker-');
  const plain = await render(dir, 'plain', { face_down_probability: 1 });
  const tagged = await render(dir, 'tagged', { face_down_probability: 1, condition: { sticker_probability: 1 } });
  let seen = 0;
  for (let i = 0; i < plain.length; i++) {
    const a = plain[i];
    const b = tagged[i];
    assert.ok(a && b);
    const sticker = b.label.condition?.sticker;
    assert.ok(sticker, `frame ${i}: a sticker`);
    if (sticker.side === 'front') {
      // The screen faces the belt: the sticker is out of sight, and the picture is the plain one's.
      assert.equal(sticker.bbox, null);
      assert.ok(a.png.equals(b.png) || changedAround(a.rgb, b.rgb, [0, 0, 0, 0], 0).outside < 5, `frame ${i}`);
      continue;
    }
    assert.ok(sticker.bbox, `frame ${i}: a sticker on the back faces the camera`);
    const { inside, outside } = changedAround(a.rgb, b.rgb, sticker.bbox);
    assert.ok(inside > 0.3 * sticker.bbox[2] * sticker.bbox[3], `frame ${i}: the sticker changed ${inside} pixels in its box`);
    assert.ok(outside < Math.max(3, inside / 10), `frame ${i}: ${outside} pixels changed outside the sticker's box`);
    seen++;
  }
  assert.ok(seen >= 1, 'the seed puts a sticker on the back at least once');
});

test('a lit screen changes the phone where it is, and nothing beyond it', async () => {
  const dir = await tempDir('synthline-wear-screen-');
  const plain = await render(dir, 'plain', { face_down_probability: 0 });
  const lit = await render(dir, 'lit', { face_down_probability: 0, condition: { screen_on_probability: 1 } });
  for (let i = 0; i < plain.length; i++) {
    const a = plain[i];
    const b = lit[i];
    assert.ok(a?.label.bbox && b?.label.condition?.screen);
    const { inside, outside } = changedAround(a.rgb, b.rgb, a.label.bbox, 3);
    assert.ok(inside > 100, `frame ${i}: the screen changed ${inside} pixels of the phone`);
    assert.ok(outside < inside / 10, `frame ${i}: ${outside} pixels changed away from the phone (glow only)`);
  }
});

test('scratches and dust: in the label, changing the phone where it is and nothing beyond it', async () => {
  const dir = await tempDir('synthline-wear-dust-');
  const plain = await render(dir, 'plain', { face_down_probability: 1 });
  const worn = await render(dir, 'worn', { face_down_probability: 1, condition: { scratch_probability: 1, dust_probability: 1 } });
  for (let i = 0; i < plain.length; i++) {
    const a = plain[i];
    const b = worn[i];
    const c = b?.label.condition as { scratches?: { strength: number; lines: unknown[] }; dust?: { strength: number } } | undefined;
    assert.ok(a?.label.bbox && b && c?.scratches && c.dust);
    assert.ok(c.scratches.lines.length >= 4 && c.scratches.strength > 0 && c.dust.strength > 0);
    const { inside, outside } = changedAround(a.rgb, b.rgb, a.label.bbox, 3);
    assert.ok(inside > 40, `frame ${i}: scratches and dust changed ${inside} pixels of the phone`);
    assert.ok(outside < Math.max(3, inside / 10), `frame ${i}: ${outside} pixels changed away from the phone`);
  }
});

test('a plain phone after worn ones renders as it does alone', async () => {
  const dir = await tempDir('synthline-wear-mixed-');
  const condition = {
    crack_probability: 0.15,
    sticker_probability: 0.15,
    screen_on_probability: 0.15,
    scratch_probability: 0.15,
    dust_probability: 0.15,
  };
  const all = await render(dir, 'mixed', { condition }, undefined, 6);
  const idx = all.findIndex((s, i) => i > 0 && !s.label.condition && all.slice(0, i).some((p) => p.label.condition));
  assert.ok(idx > 0, `the seed gives a plain phone after a worn one: ${all.map((s) => Object.keys(s.label.condition ?? {}))}`);
  const i = all[idx]?.label.index ?? 0;
  const [alone] = await render(dir, `alone-${i}`, { condition }, `${i}:${i + 1}`, 6);
  assert.ok(alone?.png.equals(all[idx]?.png ?? Buffer.alloc(0)), `frame ${i}: the same bytes alone`);
});

test('three phones, each with its own crack: in its instance, with a box inside its own, where the pixels change', async () => {
  const dir = await tempDir('synthline-wear-many-');
  const three = {
    layout: { products_per_frame: 3, min_gap_m: 0.01 },
    camera: { distance_m: [0.5, 0.55], elevation_deg: [80, 90], look_at_jitter_m: 0 },
    output: { annotations: { instances: true } },
  };
  const plain = await render(dir, 'plain', { face_down_probability: 0 }, undefined, 2, three);
  const cracked = await render(dir, 'cracked', { face_down_probability: 0, condition: { crack_probability: 1 } }, undefined, 2, three);
  for (let i = 0; i < plain.length; i++) {
    const a = plain[i];
    const b = cracked[i];
    assert.ok(a && b);
    const instances = b.label.instances ?? [];
    assert.equal(instances.length, 3, `frame ${i}: three phones`);
    // Wear lies inside each phone's outline and is part of it: the instance map is the plain one's.
    assert.ok(a.inst.length > 0 && a.inst.equals(b.inst), `frame ${i}: the same instance map as the phones without wear`);
    assert.deepEqual(b.label.instances?.[0]?.condition, b.label.condition, 'instance 1 is the top-level product');
    for (const inst of instances) {
      const crack = inst.condition?.crack?.bbox;
      assert.ok(crack && inst.bbox, `frame ${i}, instance ${inst.id}: a crack seen on a phone seen`);
      const [x, y, w, h] = inst.bbox;
      assert.ok(
        crack[0] >= x - 1 && crack[1] >= y - 1 && crack[0] + crack[2] <= x + w + 1 && crack[1] + crack[3] <= y + h + 1,
        `frame ${i}, instance ${inst.id}: the crack's box ${crack} lies in the phone's ${inst.bbox}`,
      );
      const { inside } = changedAround(a.rgb, b.rgb, crack);
      assert.ok(inside > 5, `frame ${i}, instance ${inst.id}: its crack changed ${inside} pixels in its box`);
    }
    // Everything that changed lies in one of the cracks' boxes.
    const boxes = instances.map((x) => x.condition?.crack?.bbox as Box);
    let outside = 0;
    let total = 0;
    for (let py = 0; py < H; py++)
      for (let px = 0; px < W; px++) {
        const k = (py * W + px) * 3;
        const d = [0, 1, 2].reduce((t, c) => t + Math.abs((a.rgb[k + c] ?? 0) - (b.rgb[k + c] ?? 0)), 0);
        if (d <= 40) continue;
        total++;
        if (!boxes.some(([x, y, w, h]) => px >= x - 2 && px < x + w + 2 && py >= y - 2 && py < y + h + 2)) outside++;
      }
    assert.ok(outside < Math.max(3, total / 10), `frame ${i}: ${outside} of ${total} changed pixels outside every crack's box`);
  }
});
