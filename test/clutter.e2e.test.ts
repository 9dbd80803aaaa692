// Clutter on the belt (issue 13, item 2, part): procedural e-waste, listed in the label, in the
// picture but never in the product's mask; other specs render as before; a frame without
// clutter after frames with it renders as it does alone.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DISTRACTOR_KINDS } from '@synthline/spec';
import sharp from 'sharp';
import { boxLibrary, cli, datasetSamples, tempDir } from './helpers.ts';

interface Sample {
  label: {
    index: number;
    bbox: number[] | null;
    distractors?: { kind: string; screen_up?: boolean; product?: { asset: string; color: { name: string }; source?: unknown } }[];
    instances?: { id: number }[];
  };
  png: Buffer;
  mask: Buffer;
}

async function render(
  dir: string,
  name: string,
  distractors: Record<string, unknown>,
  frames?: string,
  extra: { library?: string; output?: Record<string, unknown> } = {},
): Promise<Sample[]> {
  const spec = join(dir, `${name}.json`);
  await writeFile(
    spec,
    JSON.stringify({
      name: 'clutter',
      seed: 31,
      count: 4,
      render: { resolution: [128, 96], samples: 4 },
      camera: { distance_m: 0.45, elevation_deg: 90 },
      output: extra.output ?? { annotations: { mask: true } },
      distractors,
    }),
  );
  const out = join(dir, name);
  const lib = extra.library ? ['--library', extra.library] : [];
  const r = await cli(['render', spec, '--out', out, ...(frames ? ['--frames', frames] : []), ...lib]);
  assert.equal(r.code, 0, r.all);
  const all: Sample[] = (await datasetSamples(out)).map((x) => ({
    label: x.label as unknown as Sample['label'],
    png: x.member('png'),
    mask: x.member('mask.png'),
  }));
  return all;
}

test('clutter: listed in the label, in the picture around the product, never in its mask', async () => {
  const dir = await tempDir('synthline-clutter-');
  const bare = await render(dir, 'bare', {});
  const busy = await render(dir, 'busy', { count: 6 });
  for (let i = 0; i < bare.length; i++) {
    const a = bare[i];
    const b = busy[i];
    assert.ok(a && b);
    assert.equal(a.label.distractors, undefined);
    assert.equal(b.label.distractors?.length, 6);
    for (const d of b.label.distractors ?? []) assert.ok((DISTRACTOR_KINDS as readonly string[]).includes(d.kind), d.kind);
    // Outside the product's mask the picture changed: the clutter is there.
    const [pa, pb, mb] = await Promise.all([a.png, b.png, b.mask].map((p) => sharp(p).removeAlpha().raw().toBuffer()));
    assert.ok(pa && pb && mb);
    let changed = 0;
    for (let p = 0; p < pa.length; p += 3) if ((mb[p] ?? 0) === 0 && Math.abs((pa[p] ?? 0) - (pb[p] ?? 0)) > 40) changed++;
    assert.ok(changed > 50, `frame ${i}: ${changed} pixels of clutter`);
    // The mask holds only the product: no more pixels than without clutter (clutter may cover it).
    const count = async (png: Buffer) => (await sharp(png).raw().toBuffer()).reduce((n, v) => n + (v > 127 ? 1 : 0), 0);
    assert.ok((await count(b.mask)) <= (await count(a.mask)), `frame ${i}: the mask is the product's only`);
  }
});

test("other makers' phones: lying screen up or down, in the picture, never in the mask", async () => {
  const dir = await tempDir('synthline-clutter-phones-');
  const bare = await render(dir, 'bare', {});
  const phones = await render(dir, 'phones', { count: 3, kinds: ['generic_phone'], clearance_m: 0.1, spread_m: [0.01, 0.03] });
  const sides = new Set<boolean>();
  for (let i = 0; i < bare.length; i++) {
    const a = bare[i];
    const b = phones[i];
    assert.ok(a && b);
    for (const d of b.label.distractors ?? []) {
      assert.equal(d.kind, 'generic_phone');
      assert.equal(typeof d.screen_up, 'boolean');
      sides.add(d.screen_up ?? false);
    }
    const [pa, pb, ma, mb] = await Promise.all([a.png, b.png, a.mask, b.mask].map((p) => sharp(p).removeAlpha().raw().toBuffer()));
    assert.ok(pa && pb && ma && mb);
    let changed = 0;
    const d = (p: number) =>
      Math.abs((pa[p] ?? 0) - (pb[p] ?? 0)) + Math.abs((pa[p + 1] ?? 0) - (pb[p + 1] ?? 0)) + Math.abs((pa[p + 2] ?? 0) - (pb[p + 2] ?? 0));
    for (let p = 0; p < pa.length; p += 3) if ((mb[p] ?? 0) === 0 && d(p) > 30) changed++;
    assert.ok(changed > 100, `frame ${i}: ${changed} pixels of other phones`);
    // Never in the product's mask: they may cover some of it, they never add to it.
    let added = 0;
    for (let p = 0; p < ma.length; p++) if ((mb[p] ?? 0) > 127 && (ma[p] ?? 0) <= 127) added++;
    assert.ok(added < 5, `frame ${i}: ${added} mask pixels where only other phones are`);
  }
  assert.equal(sides.size, 2, 'both sides up among 12 phones');
});

test('a library product riding as clutter: in the picture, never a class, never in the mask or the instance map', async () => {
  const dir = await tempDir('synthline-clutter-library-');
  const lib = await boxLibrary(dir);
  const output = { annotations: { mask: true, instances: true } };
  const bare = await render(dir, 'bare', {}, undefined, { library: lib, output });
  const boxes = await render(
    dir,
    'boxes',
    { count: 2, kinds: ['screw'], products: ['library:box'], clearance_m: 0.1, spread_m: [0.01, 0.03] },
    undefined,
    { library: lib, output },
  );
  let seen = 0;
  for (let i = 0; i < bare.length; i++) {
    const a = bare[i];
    const b = boxes[i];
    assert.ok(a && b);
    const riding = (b.label.distractors ?? []).filter((d) => d.kind === 'product');
    for (const d of riding) {
      assert.equal(d.product?.asset, 'library:box');
      assert.equal(d.product?.color.name, 'Signal Red');
      assert.equal(d.product?.source, undefined, "the label does not carry the server's path");
    }
    seen += riding.length;
    assert.deepEqual(
      b.label.instances?.map((x) => x.id),
      [1],
      'the riding product is no instance',
    );
    const [pa, pb, ma, mb] = await Promise.all([a.png, b.png, a.mask, b.mask].map((p) => sharp(p).removeAlpha().raw().toBuffer()));
    assert.ok(pa && pb && ma && mb);
    let red = 0;
    for (let p = 0; p < pb.length; p += 3) {
      const isRed = (pb[p] ?? 0) > 90 && (pb[p] ?? 0) > 2 * (pb[p + 1] ?? 0) && (pb[p] ?? 0) > 2 * (pb[p + 2] ?? 0);
      if (isRed && (mb[p] ?? 0) === 0 && !((pa[p] ?? 0) > 90 && (pa[p] ?? 0) > 2 * (pa[p + 1] ?? 0))) red++;
    }
    if (riding.length) assert.ok(red > 30, `frame ${i}: ${red} red pixels of the riding box`);
    let added = 0;
    for (let p = 0; p < ma.length; p++) if ((mb[p] ?? 0) > 127 && (ma[p] ?? 0) <= 127) added++;
    assert.ok(added < 5, `frame ${i}: ${added} mask pixels where only the riding box is`);
  }
  assert.ok(seen >= 2, `the seed puts the box on the belt at least twice in 4 frames (${seen})`);
});

test('a frame without clutter after frames with it renders as it does alone', async () => {
  const dir = await tempDir('synthline-clutter-mixed-');
  const all = await render(dir, 'mixed', { count: { choice: [0, 5] } });
  const idx = all.findIndex((s, i) => i > 0 && !s.label.distractors && all.slice(0, i).some((p) => p.label.distractors));
  assert.ok(idx > 0, `the seed gives a bare frame after a cluttered one: ${all.map((s) => s.label.distractors?.length ?? 0)}`);
  const i = all[idx]?.label.index ?? 0;
  const [alone] = await render(dir, `alone-${i}`, { count: { choice: [0, 5] } }, `${i}:${i + 1}`);
  assert.ok(alone?.png.equals(all[idx]?.png ?? Buffer.alloc(0)), `frame ${i}: the same bytes alone`);
});
