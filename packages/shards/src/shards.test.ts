import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ShardWriter, TarWriter, hashFile, readTar, type Sample } from './index.ts';

const sample = (i: number): Sample => ({
  key: String(i).padStart(8, '0'),
  members: [
    { ext: 'png', data: Buffer.from(`image ${i}`) },
    { ext: 'json', data: Buffer.from(JSON.stringify({ i })) },
    { ext: 'cls', data: Buffer.from(String(i % 3)) },
  ],
});

test('a tar file has fixed headers, so equal content gives equal bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shards-'));
  const infos = [];
  for (const name of ['a.tar', 'b.tar']) {
    const w = new TarWriter(join(dir, name));
    for (let i = 0; i < 5; i++) await w.add(sample(i));
    infos.push(await w.finish());
  }
  assert.equal(infos[0]?.sha256, infos[1]?.sha256);
  assert.deepEqual(await hashFile(join(dir, 'a.tar')), { sha256: infos[0]?.sha256, bytes: infos[0]?.bytes });
  // The system tar reads it: members consecutive per key, owner root, mode 644, mtime 1970.
  const listing = execFileSync('tar', ['-tvf', join(dir, 'a.tar'), '--numeric-owner'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  assert.equal(listing.length, 15);
  assert.match(listing[0] ?? '', /^-rw-r--r-- 0\/0 .* 1970-01-01 00:00 00000000\.png$/);
  assert.match(listing[1] ?? '', /00000000\.json$/);
  assert.match(listing[2] ?? '', /00000000\.cls$/);
  assert.deepEqual((await readdir(dir)).sort(), ['a.tar', 'b.tar'], 'no .partial left behind');
});

test('keys with dots or slashes are refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shards-'));
  const w = new TarWriter(join(dir, 'x.tar'));
  await assert.rejects(w.add({ key: 'a.b', members: [] }), /invalid sample key/);
  await assert.rejects(w.add({ key: '../x', members: [] }), /invalid sample key/);
  await w.abort();
  assert.deepEqual(await readdir(dir), []);
});

test('the shard writer rolls over at shard_size and the reader gives the samples back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shards-'));
  const w = new ShardWriter(dir, 'ds', 4);
  for (let i = 0; i < 10; i++) await w.add(sample(i));
  const shards = await w.close();
  assert.deepEqual(
    shards.map((s) => [s.name, s.samples, s.first_key, s.last_key]),
    [
      ['ds-000000.tar', 4, '00000000', '00000003'],
      ['ds-000001.tar', 4, '00000004', '00000007'],
      ['ds-000002.tar', 2, '00000008', '00000009'],
    ],
  );
  const back: Sample[] = [];
  for (const s of shards) for await (const x of readTar(join(dir, s.name))) back.push(x);
  assert.deepEqual(
    back,
    Array.from({ length: 10 }, (_, i) => sample(i)),
  );
});

test('a shard written exactly full leaves no empty shard behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shards-'));
  const w = new ShardWriter(dir, 'ds', 5);
  for (let i = 0; i < 10; i++) await w.add(sample(i));
  assert.equal((await w.close()).length, 2);
  assert.deepEqual((await readdir(dir)).sort(), ['ds-000000.tar', 'ds-000001.tar']);
});

test('reading a truncated tar fails loudly', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shards-'));
  const w = new TarWriter(join(dir, 'a.tar'));
  for (let i = 0; i < 3; i++) await w.add(sample(i));
  await w.finish();
  const bytes = await readFile(join(dir, 'a.tar'));
  await writeFile(join(dir, 'cut.tar'), bytes.subarray(0, 700));
  await assert.rejects(async () => {
    for await (const _ of readTar(join(dir, 'cut.tar'))) void _;
  });
});
