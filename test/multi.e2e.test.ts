import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { Manifest, SampleLabel } from '@synthline/spec';
import { readTar, type Sample } from '@synthline/shards';
import { cli, tempDir } from './helpers.ts';

// Several products per frame (layout) with an instance map: rendered through the CLI.
const SPEC = {
  name: 'multi',
  seed: 3,
  count: 4,
  render: { resolution: [128, 96], samples: 4 },
  // High enough above the belt that three phones fit in the view.
  camera: { distance_m: [0.6, 0.7], elevation_deg: 90 },
  layout: { products_per_frame: 3 },
  output: { annotations: { mask: true, instances: true } },
};

let work: string;

async function samplesOf(dir: string): Promise<Sample[]> {
  const m = Manifest.parse(JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8')));
  const out: Sample[] = [];
  for (const s of m.shards) for await (const x of readTar(join(dir, s.name))) out.push(x);
  return out;
}

const member = (s: Sample, ext: string) => {
  const m = s.members.find((x) => x.ext === ext);
  assert.ok(m, `${s.key} has no ${ext}`);
  return m.data;
};

before(async () => {
  work = await tempDir();
  await writeFile(join(work, 'spec.json'), JSON.stringify(SPEC));
  for (const out of ['a', 'b']) {
    const r = await cli(['render', join(work, 'spec.json'), '--out', join(work, out)]);
    assert.equal(r.code, 0, r.all);
  }
});

test('each frame has its instances, and every box and pixel count matches the instance map', async () => {
  const samples = await samplesOf(join(work, 'a'));
  assert.equal(samples.length, 4);
  let three = 0;
  const byClass: Record<string, number> = {};
  for (const s of samples) {
    const label = SampleLabel.parse(JSON.parse(member(s, 'json').toString('utf8')));
    const inst = label.instances ?? [];
    for (const i of inst) byClass[i.class] = (byClass[i.class] ?? 0) + 1;
    assert.ok(inst.length >= 2 && inst.length <= 3, `${s.key}: ${inst.length} instances`);
    if (inst.length === 3) three++;
    assert.deepEqual(
      inst.map((i) => i.id),
      inst.map((_, j) => j + 1),
    );
    assert.equal(label.annotations.instances, 'inst.png');
    const { data, info } = await sharp(member(s, 'inst.png'))
      .toColourspace('grey16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 1);
    assert.deepEqual([info.width, info.height], [128, 96]);
    const ids = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
    // Extent and count of each id in the map.
    const seen = new Map<number, { x0: number; y0: number; x1: number; y1: number; n: number }>();
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        const id = ids[y * info.width + x] ?? 0;
        if (id === 0) continue;
        const e = seen.get(id) ?? { x0: x, y0: y, x1: x, y1: y, n: 0 };
        e.x0 = Math.min(e.x0, x);
        e.y0 = Math.min(e.y0, y);
        e.x1 = Math.max(e.x1, x);
        e.y1 = Math.max(e.y1, y);
        e.n++;
        seen.set(id, e);
      }
    }
    const visible = inst.filter((i) => i.visible_pixels > 0);
    assert.deepEqual(
      [...seen.keys()].sort((a, b) => a - b),
      visible.map((i) => i.id),
      `${s.key}: ids in the map are the label's`,
    );
    for (const i of inst) {
      const e = seen.get(i.id);
      if (!e) {
        assert.equal(i.bbox, null);
        continue;
      }
      assert.deepEqual(i.bbox, [e.x0, e.y0, e.x1 - e.x0 + 1, e.y1 - e.y0 + 1], `${s.key} instance ${i.id}`);
      assert.equal(i.visible_pixels, e.n);
      assert.ok(i.visible_fraction > 0 && i.visible_fraction <= 1);
      assert.ok(i.occluded_by.every((j) => j !== i.id && inst.some((o) => o.id === j)));
    }
    // The top level stays instance 1's; the mask is every product's pixels.
    const first = inst[0];
    assert.ok(first);
    assert.deepEqual(label.bbox, first.bbox);
    assert.equal(label.visible_pixels, first.visible_pixels);
    assert.equal(label.class, first.class);
    const mask = await sharp(member(s, 'mask.png')).toColourspace('b-w').raw().toBuffer();
    let maskPixels = 0;
    for (const v of mask) if (v === 255) maskPixels++;
    assert.equal(
      maskPixels,
      [...seen.values()].reduce((a, e) => a + e.n, 0),
    );
  }
  assert.ok(three >= 2, `three products where they fit (${three} of 4 frames)`);
  // The manifest counts every instance by class, beside the frames by their product's class.
  const m = Manifest.parse(JSON.parse(await readFile(join(work, 'a', 'dataset.json'), 'utf8')));
  const counted = Object.fromEntries(Object.entries(m.counts.instances_per_class ?? {}).filter(([, n]) => n > 0));
  assert.deepEqual(counted, byClass);
  assert.equal(
    Object.values(m.counts.per_class).reduce((a, n) => a + n, 0),
    4,
  );
  const v = await cli(['verify', join(work, 'a')]);
  assert.equal(v.code, 0, v.all);
});

test('the same spec rendered twice gives identical shards', async () => {
  const a = await samplesOf(join(work, 'a'));
  const b = await samplesOf(join(work, 'b'));
  assert.deepEqual(
    b.map((s) => s.members.map((m) => [m.ext, m.data.toString('base64')])),
    a.map((s) => s.members.map((m) => [m.ext, m.data.toString('base64')])),
  );
  const m = Manifest.parse(JSON.parse(await readFile(join(work, 'a', 'dataset.json'), 'utf8')));
  for (const s of m.shards) assert.deepEqual(await readFile(join(work, 'b', s.name)), await readFile(join(work, 'a', s.name)));
});

test('verify catches a manifest whose instance counts are not the labels', async () => {
  const dir = join(work, 'c');
  await cp(join(work, 'a'), dir, { recursive: true });
  const m = JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8'));
  const [name] = Object.entries(m.counts.instances_per_class as Record<string, number>).find(([, n]) => n > 0) ?? [];
  assert.ok(name);
  m.counts.instances_per_class[name] += 1;
  await writeFile(join(dir, 'dataset.json'), JSON.stringify(m));
  const v = await cli(['verify', dir]);
  assert.notEqual(v.code, 0);
  assert.match(v.all, new RegExp(`class ${name}: \\d+ instances, manifest says \\d+`));
});
