// synthline export --format coco | yolo | crops on a real rendered dataset with masks: the COCO
// RLE decodes back to the mask pixel for pixel, YOLO boxes to the label's box, crops hold the box.
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { type CocoRle, decodeRle } from '@synthline/mix';
import { cli, datasetSamples, tempDir } from './helpers.ts';

let work: string;
let dataset: string;
interface Sample {
  label: { class: string; class_index: number; bbox: [number, number, number, number]; image: { width: number; height: number } };
  mask: Uint8Array;
  image: Buffer;
}
const samples = new Map<string, Sample>();
let classes: { index: number; name: string }[] = [];

before(async () => {
  work = await tempDir('synthline-export-');
  dataset = join(work, 'ds');
  const spec = join(work, 'spec.json');
  await writeFile(
    spec,
    JSON.stringify({
      name: 'exp',
      seed: 9,
      count: 6,
      render: { resolution: [96, 72], samples: 4 },
      output: { shard_size: 4, annotations: { mask: true } },
    }),
  );
  const r = await cli(['render', spec, '--out', dataset]);
  assert.equal(r.code, 0, r.all);
  const manifest = JSON.parse(await readFile(join(dataset, 'dataset.json'), 'utf8')) as {
    classes: { index: number; name: string }[];
  };
  classes = manifest.classes;
  for (const x of await datasetSamples(dataset)) {
    const { data, info } = await sharp(x.member('mask.png')).raw().toBuffer({ resolveWithObject: true });
    const mask = Uint8Array.from({ length: info.width * info.height }, (_, i) => ((data[i * info.channels] ?? 0) > 127 ? 1 : 0));
    samples.set(x.key, { label: x.label as unknown as Sample['label'], mask, image: x.member('png') });
  }
  assert.equal(samples.size, 6);
});

test('coco: categories from id 1, one annotation per product, its RLE the mask pixel for pixel, images byte for byte', async () => {
  const out = join(work, 'coco');
  const r = await cli(['export', '--format', 'coco', '--from', dataset, '--out', out]);
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /exported 6 images of \d+ class\(es\) as coco \(6 annotations, 6 with mask\)/);
  const doc = JSON.parse(await readFile(join(out, 'annotations.json'), 'utf8')) as {
    categories: { id: number; name: string }[];
    images: { id: number; file_name: string; width: number; height: number; synthline_key: string }[];
    annotations: { image_id: number; category_id: number; bbox: number[]; area: number; segmentation: CocoRle; iscrowd: number }[];
  };
  assert.deepEqual(
    doc.categories.map((c) => [c.id, c.name]),
    classes.map((c) => [c.index + 1, c.name]),
  );
  assert.equal(doc.images.length, 6);
  assert.equal(doc.annotations.length, 6);
  for (const a of doc.annotations) {
    const img = doc.images.find((i) => i.id === a.image_id);
    assert.ok(img);
    const s = samples.get(img.synthline_key);
    assert.ok(s);
    assert.equal(a.category_id, s.label.class_index + 1);
    assert.deepEqual(a.bbox, s.label.bbox);
    assert.equal(a.iscrowd, 0);
    assert.deepEqual(a.segmentation.size, [s.label.image.height, s.label.image.width]);
    const decoded = decodeRle(a.segmentation);
    assert.deepEqual(Buffer.from(decoded), Buffer.from(s.mask), `${img.synthline_key}: RLE = mask`);
    assert.equal(
      a.area,
      s.mask.reduce((n, v) => n + v, 0),
    );
    assert.ok((await readFile(join(out, 'images', img.file_name))).equals(s.image));
  }
  const index = JSON.parse(await readFile(join(out, 'export.json'), 'utf8')) as { format: string };
  assert.equal(index.format, 'synthline.coco/1');
});

test("yolo: a txt per image whose box is the label's, data.yaml naming every class by index", async () => {
  const out = join(work, 'yolo');
  const r = await cli(['export', '--format', 'yolo', '--from', dataset, '--out', out]);
  assert.equal(r.code, 0, r.all);
  const splits = await readdir(join(out, 'labels'));
  let n = 0;
  for (const split of splits) {
    for (const f of await readdir(join(out, 'labels', split))) {
      const key = f.replace(/\.txt$/, '');
      const s = samples.get(key);
      assert.ok(s, f);
      const [cls, cx, cy, w, h] = (await readFile(join(out, 'labels', split, f), 'utf8')).trim().split(' ').map(Number);
      const { width: W, height: H } = s.label.image;
      assert.equal(cls, s.label.class_index);
      const [x, y, bw, bh] = s.label.bbox;
      for (const [got, want] of [
        [(cx ?? 0) * W - ((w ?? 0) * W) / 2, x],
        [(cy ?? 0) * H - ((h ?? 0) * H) / 2, y],
        [(w ?? 0) * W, bw],
        [(h ?? 0) * H, bh],
      ] as const)
        assert.ok(Math.abs(got - want) < 1e-3, `${key}: ${got} vs ${want}`);
      assert.ok((await readFile(join(out, 'images', split, `${key}.png`))).equals(s.image));
      n++;
    }
  }
  assert.equal(n, 6);
  const yaml = await readFile(join(out, 'data.yaml'), 'utf8');
  for (const split of splits) assert.match(yaml, new RegExp(`^${split === 'validation' ? 'val' : split}: "images/${split}"$`, 'm'));
  for (const c of classes) assert.ok(yaml.includes(`  ${c.index}: ${JSON.stringify(c.name)}\n`), c.name);
});

test('crops: one image per product, the box and its margin, in its class folder; bad options named', async () => {
  const out = join(work, 'crops');
  const r = await cli(['export', '--format', 'crops', '--margin', '0.25', '--with-labels', '--from', dataset, '--out', out]);
  assert.equal(r.code, 0, r.all);
  for (const [key, s] of samples) {
    const file = join(out, s.label.class, `${key}.png`);
    const meta = await sharp(file).metadata();
    const [x, y, w, h] = s.label.bbox;
    const { width: W, height: H } = s.label.image;
    const left = Math.max(0, Math.floor(x - 0.25 * w));
    const top = Math.max(0, Math.floor(y - 0.25 * h));
    assert.equal(meta.width, Math.min(W, Math.ceil(x + w + 0.25 * w)) - left);
    assert.equal(meta.height, Math.min(H, Math.ceil(y + h + 0.25 * h)) - top);
    // The crop's pixels are the image's.
    const want = await sharp(s.image)
      .extract({ left, top, width: meta.width ?? 0, height: meta.height ?? 0 })
      .raw()
      .toBuffer();
    assert.ok((await sharp(file).raw().toBuffer()).equals(want), key);
    const label = JSON.parse(await readFile(join(out, s.label.class, `${key}.json`), 'utf8')) as { crop: { box: number[] } };
    assert.deepEqual(label.crop.box, [left, top, meta.width, meta.height]);
  }
  const bad = await cli(['export', '--format', 'cocoa', '--from', dataset, '--out', join(work, 'x')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format cocoa is not one of imagefolder, coco, yolo, crops; did you mean coco\?/);
  const margin = await cli(['export', '--format', 'coco', '--margin', '0.1', '--from', dataset, '--out', join(work, 'x')]);
  assert.equal(margin.code, 2);
  assert.match(margin.stderr, /--margin applies to --format crops only/);
});

test('coco from frames of several products: one annotation per instance, its RLE its id in the instance map', async () => {
  const dir = await tempDir('synthline-export-multi-');
  const spec = join(dir, 'spec.json');
  await writeFile(
    spec,
    JSON.stringify({
      name: 'multi',
      seed: 3,
      count: 3,
      render: { resolution: [128, 96], samples: 4 },
      layout: { products_per_frame: 3 },
      output: { annotations: { instances: true } },
    }),
  );
  const ds = join(dir, 'ds');
  assert.equal((await cli(['render', spec, '--out', ds])).code, 0);
  const byKey = new Map<string, { ids: Uint16Array; instances: { id: number; class_index: number; bbox: number[] | null }[] }>();
  let expected = 0;
  for (const x of await datasetSamples(ds)) {
    const { data, info } = await sharp(x.member('inst.png')).raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    const all = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    const ids = Uint16Array.from({ length: info.width * info.height }, (_, i) => all[i * info.channels] ?? 0);
    const instances = (x.label.instances ?? []) as { id: number; class_index: number; bbox: number[] | null }[];
    expected += instances.filter((i) => i.bbox !== null).length;
    byKey.set(x.key, { ids, instances });
  }
  assert.ok(expected > 3, `several products per frame: ${expected} instances in 3 frames`);
  const out = join(dir, 'coco');
  const r = await cli(['export', '--format', 'coco', '--from', ds, '--out', out]);
  assert.equal(r.code, 0, r.all);
  const doc = JSON.parse(await readFile(join(out, 'annotations.json'), 'utf8')) as {
    images: { id: number; synthline_key: string }[];
    annotations: { image_id: number; category_id: number; bbox: number[]; segmentation: CocoRle; synthline_instance: number }[];
  };
  assert.equal(doc.annotations.length, expected);
  for (const a of doc.annotations) {
    const key = doc.images.find((i) => i.id === a.image_id)?.synthline_key ?? '';
    const frame = byKey.get(key);
    assert.ok(frame);
    const inst = frame.instances.find((i) => i.id === a.synthline_instance);
    assert.ok(inst);
    assert.equal(a.category_id, inst.class_index + 1);
    assert.deepEqual(a.bbox, inst.bbox);
    const want = Buffer.from(Uint8Array.from(frame.ids, (v) => (v === inst.id ? 1 : 0)));
    assert.ok(Buffer.from(decodeRle(a.segmentation)).equals(want), `${key} instance ${inst.id}: RLE = its id in the map`);
  }
});
