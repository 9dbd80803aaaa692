// Phone cases (issue 13, item 3, part): the label says which case, the pixels change where the
// phone is and nowhere far from it, a bare phone after cased ones renders as it does alone.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { cli, datasetSamples, tempDir } from './helpers.ts';

const W = 128;
const H = 96;

async function render(
  dir: string,
  name: string,
  condition: Record<string, unknown>,
  frames?: string,
  count = 4,
  product: Record<string, unknown> = {},
) {
  const spec = join(dir, `${name}.json`);
  await writeFile(
    spec,
    JSON.stringify({
      name: 'cases',
      seed: 41,
      count,
      render: { resolution: [W, H], samples: 4 },
      products: [{ asset: 'builtin:iphone-13' }, { asset: 'builtin:iphone-8' }],
      product: { ...product, condition },
      output: { annotations: { mask: true } },
    }),
  );
  const out = join(dir, name);
  const r = await cli(['render', spec, '--out', out, ...(frames ? ['--frames', frames] : [])]);
  assert.equal(r.code, 0, r.all);
  return Promise.all(
    (await datasetSamples(out)).map(async (x) => ({
      label: x.label as unknown as {
        index: number;
        bbox: [number, number, number, number];
        attributes: { side: string };
        condition?: { case: { kind: string }; screen?: unknown; crack?: unknown };
      },
      png: x.member('png'),
      rgb: await sharp(x.member('png')).removeAlpha().raw().toBuffer(),
    })),
  );
}

type Rendered = Awaited<ReturnType<typeof render>>;

/** Asserts that each frame of `cased` differs from `bare` around the bare phone's box and hardly beyond. */
function changedAtThePhone(bare: Rendered, cased: Rendered, kind: string) {
  for (let i = 0; i < bare.length; i++) {
    const a = bare[i];
    const b = cased[i];
    assert.ok(a && b);
    assert.equal(a.label.condition, undefined);
    assert.equal(b.label.condition?.case.kind, kind);
    // Where the bare phone's box, grown by a few pixels for the case's wall, is, the pixels change;
    // beyond it they are the same render.
    const [x, y, w, h] = a.label.bbox;
    const near = (px: number, py: number) => px >= x - 4 && px < x + w + 4 && py >= y - 4 && py < y + h + 4;
    let inside = 0;
    let outside = 0;
    for (let py = 0; py < H; py++)
      for (let px = 0; px < W; px++) {
        const k = (py * W + px) * 3;
        const d =
          Math.abs((a.rgb[k] ?? 0) - (b.rgb[k] ?? 0)) +
          Math.abs((a.rgb[k + 1] ?? 0) - (b.rgb[k + 1] ?? 0)) +
          Math.abs((a.rgb[k + 2] ?? 0) - (b.rgb[k + 2] ?? 0));
        if (d > 30) {
          if (near(px, py)) inside++;
          else outside++;
        }
      }
    assert.ok(inside > 100, `frame ${i}: the case changed ${inside} pixels at the phone`);
    assert.ok(outside < inside / 10, `frame ${i}: ${outside} pixels changed away from the phone (shadow and bounce light only)`);
  }
}

test('a case: in the label, changing the pixels around the phone and nowhere far from it', async () => {
  const dir = await tempDir('synthline-cases-');
  const bare = await render(dir, 'bare', {});
  changedAtThePhone(bare, await render(dir, 'cased', { case_probability: 1, case_kinds: ['silicone'] }), 'silicone');
});

test('a wallet case: closed over the screen, so a lit or cracked screen is neither drawn nor labelled', async () => {
  const dir = await tempDir('synthline-cases-wallet-');
  const wallet = { case_probability: 1, case_kinds: ['wallet'] };
  const up = { face_down_probability: 0 };
  const bare = await render(dir, 'bare', {}, undefined, 3, up);
  const closed = await render(dir, 'wallet', wallet, undefined, 3, up);
  changedAtThePhone(bare, closed, 'wallet');
  const worn = await render(dir, 'worn', { ...wallet, screen_on_probability: 1, crack_probability: 1 }, undefined, 3, up);
  for (let i = 0; i < worn.length; i++) {
    const w = worn[i];
    assert.ok(w);
    assert.equal(w.label.condition?.case.kind, 'wallet');
    assert.equal(w.label.condition?.screen, undefined, `frame ${i}: no lit screen in a closed wallet`);
    assert.equal(w.label.condition?.crack, undefined, `frame ${i}: no crack to see`);
    assert.ok(w.png.equals(closed[i]?.png ?? Buffer.alloc(0)), `frame ${i}: the same picture as the wallet alone`);
  }
});

test('a bare phone after cased ones renders as it does alone', async () => {
  const dir = await tempDir('synthline-cases-mixed-');
  const all = await render(dir, 'mixed', { case_probability: 0.5 });
  const idx = all.findIndex((s, i) => i > 0 && !s.label.condition && all.slice(0, i).some((p) => p.label.condition));
  assert.ok(idx > 0, `the seed gives a bare phone after a cased one: ${all.map((s) => s.label.condition?.case.kind ?? '-')}`);
  const i = all[idx]?.label.index ?? 0;
  const [alone] = await render(dir, `alone-${i}`, { case_probability: 0.5 }, `${i}:${i + 1}`);
  assert.ok(alone?.png.equals(all[idx]?.png ?? Buffer.alloc(0)), `frame ${i}: the same bytes alone`);
});

test('three cased phones: each case is part of its own phone in the instance map', async () => {
  const dir = await tempDir('synthline-cases-many-');
  const three = { products_per_frame: 3, min_gap_m: 0.015 };
  const specOf = (condition: Record<string, unknown>) =>
    JSON.stringify({
      name: 'cases-many',
      seed: 8,
      count: 2,
      render: { resolution: [W, H], samples: 2 },
      layout: three,
      camera: { distance_m: [0.5, 0.55], elevation_deg: [80, 90], look_at_jitter_m: 0 },
      product: { condition },
      output: { annotations: { instances: true } },
    });
  type Inst = { id: number; bbox: [number, number, number, number] | null; visible_pixels: number };
  const run = async (name: string, condition: Record<string, unknown>) => {
    await writeFile(join(dir, `${name}.json`), specOf(condition));
    const r = await cli(['render', join(dir, `${name}.json`), '--out', join(dir, name)]);
    assert.equal(r.code, 0, r.all);
    return (await datasetSamples(join(dir, name))).map((x) => (x.label as unknown as { instances: Inst[] }).instances);
  };
  const bare = await run('bare', {});
  const cased = await run('cased', { case_probability: 1, case_kinds: ['silicone', 'wallet'] });
  for (let i = 0; i < bare.length; i++) {
    for (const b of bare[i] ?? []) {
      const c = cased[i]?.find((x) => x.id === b.id);
      assert.ok(b.bbox && c?.bbox, `frame ${i}, instance ${b.id}: seen bare and cased`);
      // Its box grows by the case's wall (a pixel or two), no more: no other phone is counted in it.
      for (const [k, v] of b.bbox.entries())
        assert.ok(Math.abs(v - (c.bbox?.[k] ?? 0)) <= 3, `frame ${i}, instance ${b.id}: box ${c.bbox} cased, ${b.bbox} bare`);
      assert.ok(c.visible_pixels >= b.visible_pixels, `frame ${i}, instance ${b.id}: the case adds pixels to its own phone`);
    }
  }
});
