import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { Manifest, SampleLabel } from '@synthline/spec';
import { readTar, type Sample } from '@synthline/shards';
import { cli, tempDir, tinySpec } from './helpers.ts';

let work: string;
let specPath: string;
let first: Manifest;

async function samplesOf(dir: string, m: Manifest): Promise<Map<string, Sample>> {
  const out = new Map<string, Sample>();
  for (const s of m.shards) for await (const x of readTar(join(dir, s.name))) out.set(x.key, x);
  return out;
}

const manifestOf = async (dir: string) => Manifest.parse(JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8')));

before(async () => {
  work = await tempDir();
  specPath = join(work, 'spec.json');
  await writeFile(specPath, JSON.stringify(tinySpec()));
  const r = await cli(['render', specPath, '--out', join(work, 'a')]);
  assert.equal(r.code, 0, r.all);
  first = await manifestOf(join(work, 'a'));
});

test('render writes shards, labels, a contact sheet and a manifest that verify accepts', async () => {
  const dir = join(work, 'a');
  assert.equal(first.counts.samples, 30);
  assert.deepEqual(
    first.shards.map((s) => s.samples),
    [8, 8, 8, 6],
  );
  assert.deepEqual(first.frames.failed, []);
  const v = await cli(['verify', dir]);
  assert.equal(v.code, 0, v.all);
  assert.match(v.stdout, /ok: 30 samples in 4 shard/);

  const samples = await samplesOf(dir, first);
  assert.deepEqual(
    [...samples.keys()],
    Array.from({ length: 30 }, (_, i) => String(i).padStart(8, '0')),
  );
  const classes = new Set<string>();
  for (const s of samples.values()) {
    assert.deepEqual(
      s.members.map((m) => m.ext),
      ['png', 'json', 'cls'],
    );
    const label = SampleLabel.parse(JSON.parse(s.members[1]?.data.toString() ?? ''));
    classes.add(label.class);
    assert.equal(s.members[2]?.data.toString(), String(label.class_index));
    assert.equal(first.classes[label.class_index]?.name, label.class);
    assert.equal(label.camera.K.length, 3);
    assert.equal(label.camera.world_to_camera.length, 4);
    assert.match(label.blender_version, /^\d+\.\d+/);
    assert.ok(label.bbox, `frame ${label.index}: the phone is in view`);
    const meta = await sharp(s.members[0]?.data).metadata();
    assert.deepEqual([meta.width, meta.height], [96, 72]);
  }
  assert.ok(classes.size >= 3, `several classes appear: ${[...classes].join(', ')}`);
  const sheet = await sharp(join(dir, 'contact-sheet.jpg')).metadata();
  assert.ok((sheet.width ?? 0) > 500);
  const timings = (await readFile(join(dir, 'timings.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(timings.length, 30);
});

test('the same spec rendered twice gives byte-identical shards', async () => {
  const r = await cli(['render', specPath, '--out', join(work, 'b')]);
  assert.equal(r.code, 0, r.all);
  const second = await manifestOf(join(work, 'b'));
  assert.deepEqual(second.shards, first.shards);
});

test('--frames A:B reproduces exactly those samples, byte for byte', async () => {
  const r = await cli(['render', specPath, '--out', join(work, 'part'), '--frames', '10:17']);
  assert.equal(r.code, 0, r.all);
  const part = await manifestOf(join(work, 'part'));
  assert.deepEqual(part.frames.requested, [10, 17]);
  const full = await samplesOf(join(work, 'a'), first);
  const sub = await samplesOf(join(work, 'part'), part);
  assert.deepEqual([...sub.keys()], ['00000010', '00000011', '00000012', '00000013', '00000014', '00000015', '00000016']);
  for (const [key, s] of sub) assert.deepEqual(s, full.get(key), `sample ${key} differs`);
});

test('an existing dataset is not overwritten unless asked', async () => {
  const r = await cli(['render', specPath, '--out', join(work, 'a'), '--frames', '0:1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already holds a dataset.*--overwrite/);
  assert.deepEqual(await manifestOf(join(work, 'a')), first);
});

test('verify finds a corrupted shard', async () => {
  const dir = join(work, 'b');
  const shard = join(dir, first.shards[1]?.name ?? '');
  const bytes = await readFile(shard);
  bytes[700] = (bytes[700] ?? 0) ^ 0xff;
  await writeFile(shard, bytes);
  const v = await cli(['verify', dir]);
  assert.equal(v.code, 1);
  assert.match(v.stdout, /INVALID/);
  assert.match(v.stdout, /tiny-000001\.tar: sha256/);
});

test('a bad spec is refused before anything renders, naming each field', async () => {
  const bad = join(work, 'bad.json');
  await writeFile(
    bad,
    JSON.stringify({
      count: -3,
      colour: 'red',
      products: [{ asset: 'builtin:iphone-99' }, { asset: 'builtin:iphone-13', colors: ['Coral'] }],
      render: { samples: 'many', resolution: [64, 100000] },
      camera: { elevation_deg: [80, 20] },
    }),
  );
  const out = join(work, 'never');
  const r = await cli(['render', bad, '--out', out]);
  assert.equal(r.code, 2);
  for (const field of [
    'count',
    'colour',
    'products[0].asset',
    'products[1].colors[0]',
    'render.samples',
    'render.resolution[1]',
    'camera.elevation_deg',
  ]) {
    assert.ok(r.stderr.includes(`${field}:`), `stderr names ${field}:\n${r.stderr}`);
  }
  assert.equal(existsSync(out), false, 'nothing was created');

  await writeFile(bad, '{"count": 3,');
  const broken = await cli(['render', bad, '--out', out]);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /not valid JSON/);
});

test('a missing Blender gets a message saying how to install it', async () => {
  const r = await cli(['render', specPath, '--out', join(work, 'noblender')], { BLENDER: '/nonexistent/blender' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Blender was not found.*apt-get install -y blender/s);
  assert.equal(existsSync(join(work, 'noblender', 'dataset.json')), false);
});
