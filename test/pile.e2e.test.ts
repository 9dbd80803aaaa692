// A pile (issue 13, item 1): products dropped on one spot and settled by Blender's rigid-body
// simulation. The same spec settles the same way twice (same bytes, two separate renders); the
// products lie on the belt and on each other, where they settled rather than where they were
// dropped; a single-product frame after pile frames, and a pile after piles, render as they do
// alone.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { SampleLabel } from '@synthline/spec';
import { boxLibrary, cli, datasetSamples, tempDir } from './helpers.ts';

const SPEC = {
  name: 'pile',
  seed: 5,
  count: 3,
  render: { resolution: [128, 96], samples: 4 },
  camera: { distance_m: [0.45, 0.5], elevation_deg: 90 },
  layout: { mode: 'pile', products_per_frame: 3 },
  output: { annotations: { mask: true, instances: true } },
};

async function render(dir: string, name: string, spec: object, frames?: string, library?: string) {
  await writeFile(join(dir, `${name}.json`), JSON.stringify(spec));
  const out = join(dir, name);
  const r = await cli([
    'render',
    join(dir, `${name}.json`),
    '--out',
    out,
    ...(frames ? ['--frames', frames] : []),
    ...(library ? ['--library', library] : []),
  ]);
  assert.equal(r.code, 0, r.all);
  return out;
}

test('a pile of 3 settles the same way twice: the same bytes, products on the belt and on each other', async () => {
  const dir = await tempDir('synthline-pile-');
  const a = await render(dir, 'a', SPEC);
  const b = await render(dir, 'b', SPEC);
  const m = JSON.parse(await readFile(join(a, 'dataset.json'), 'utf8')) as { shards: { name: string }[] };
  assert.ok(m.shards.length > 0);
  for (const s of m.shards) assert.ok((await readFile(join(b, s.name))).equals(await readFile(join(a, s.name))), `${s.name}: same bytes`);

  const samples = await datasetSamples(a);
  assert.equal(samples.length, 3);
  let hidden = 0;
  let overlapping = 0;
  let onOthers = 0;
  for (const s of samples) {
    const label = SampleLabel.parse(s.label);
    const inst = label.instances ?? [];
    const drops = label.pile?.drops ?? [];
    assert.equal(inst.length, 3, `${s.key}: 3 instances`);
    assert.deepEqual(
      drops.map((d) => d.id),
      [1, 2, 3],
    );
    for (const i of inst) {
      const drop = drops.find((d) => d.id === i.id);
      assert.ok(drop);
      const z = i.pose.location_m[2];
      const half = Math.min(...i.pose.dimensions_m) / 2;
      // Settled: resting on the belt (centre at least half its thickness above it, a little
      // tolerance for the collision margin) and far below where it was dropped from.
      assert.ok(z > half * 0.8, `${s.key} #${i.id}: z ${z} above the belt`);
      assert.ok(z < 0.05 && z < drop.height_m / 2, `${s.key} #${i.id}: z ${z} settled (dropped at ${drop.height_m})`);
      if (z > half * 2) onOthers++;
      // Tilted drops land on the side the plan put up: the product's own z axis still points up
      // (front) or down (back), so the label's side and class stay true.
      const up = i.pose.matrix_world[2]?.[2] ?? 0;
      assert.ok(i.pose.side_up === 'front' ? up > 0.5 : up < -0.5, `${s.key} #${i.id}: ${i.pose.side_up} up (z axis ${up})`);
      if (i.visible_fraction < 0.999) hidden++;
    }
    // Boxes that overlap in the image: the products lie against or on each other.
    for (const p of inst)
      for (const q of inst) {
        if (p.id >= q.id || !p.bbox || !q.bbox) continue;
        const [px, py, pw, ph] = p.bbox;
        const [qx, qy, qw, qh] = q.bbox;
        if (px < qx + qw && qx < px + pw && py < qy + qh && qy < py + ph) overlapping++;
      }
    assert.equal(label.annotations.instances, 'inst.png');
  }
  assert.ok(hidden >= 2, `some products are partly hidden by others (${hidden})`);
  assert.ok(overlapping >= 3, `boxes overlap (${overlapping} pairs)`);
  assert.ok(onOthers >= 2, `some products lie on others (${onOthers})`);
});

test('a single-product frame after pile frames, and a pile after piles, render as they do alone', async () => {
  const dir = await tempDir('synthline-pile-mixed-');
  const spec = { ...SPEC, count: 6, seed: 8, layout: { mode: 'pile', products_per_frame: { choice: [1, 3] } } };
  const all = await datasetSamples(await render(dir, 'mixed', spec));
  const idx = all.findIndex((s, i) => i > 0 && !s.label.pile && all.slice(0, i).some((p) => p.label.pile));
  assert.ok(idx > 0, `the seed gives a single product after a pile: ${all.map((s) => (s.label.pile ? 'pile' : 'one'))}`);
  const frame = all[idx];
  assert.ok(frame);
  const i = frame.label.index;
  const [alone] = await datasetSamples(await render(dir, `alone-${i}`, spec, `${i}:${i + 1}`));
  assert.ok(alone);
  for (const ext of ['png', 'mask.png', 'inst.png', 'json'])
    assert.ok(alone.member(ext).equals(frame.member(ext)), `frame ${i} ${ext}: the same bytes alone`);
  // A pile after other frames settles as it does alone: nothing of one settle carries into the next.
  const last = all.findLastIndex((s, j) => j > 0 && s.label.pile && all.slice(0, j).some((p) => p.label.pile));
  const pileFrame = all[last];
  assert.ok(last > 0 && pileFrame, `the seed gives a pile after a pile: ${all.map((s) => (s.label.pile ? 'pile' : 'one'))}`);
  const k = pileFrame.label.index;
  const [pileAlone] = await datasetSamples(await render(dir, `alone-${k}`, spec, `${k}:${k + 1}`));
  assert.ok(pileAlone);
  for (const ext of ['png', 'mask.png', 'inst.png', 'json'])
    assert.ok(pileAlone.member(ext).equals(pileFrame.member(ext)), `pile frame ${k} ${ext}: the same bytes alone`);
});

test('a library product in a pile settles at its own size among phones', async () => {
  const dir = await tempDir('synthline-pile-library-');
  const lib = await boxLibrary(dir);
  const spec = {
    ...SPEC,
    count: 2,
    products: [{ asset: 'library:box' }, { asset: 'builtin:iphone-13' }],
    layout: { mode: 'pile', products_per_frame: 3 },
  };
  const samples = await datasetSamples(await render(dir, 'pile', spec, undefined, lib));
  let boxes = 0;
  let onBelt = 0;
  for (const s of samples) {
    const label = SampleLabel.parse(s.label);
    for (const i of label.instances ?? []) {
      const z = i.pose.location_m[2];
      if (i.asset !== 'library:box') continue;
      boxes++;
      // It stands on the belt, a phone or a box at its own size (the scaled model's smallest
      // side: its centre at least half that up), and fell from where it was dropped.
      const half = Math.min(...i.pose.dimensions_m) / 2;
      assert.ok(half > 0.015, `${s.key} #${i.id}: box size ${i.pose.dimensions_m}`);
      const drop = label.pile?.drops.find((d) => d.id === i.id);
      assert.ok(drop);
      assert.ok(
        z > half * 0.95 && z < drop.height_m - 0.01,
        `${s.key} #${i.id}: box centre at z ${z} (half ${half}, dropped at ${drop.height_m})`,
      );
      // Where it lies on the belt, its stand-in had its size: neither sunk in nor floating.
      if (Math.abs(z - half) < 0.002) onBelt++;
    }
  }
  assert.ok(boxes >= 2, `boxes in the piles (${boxes})`);
  assert.ok(onBelt >= 1, `a box lies on the belt (${onBelt})`);
});
