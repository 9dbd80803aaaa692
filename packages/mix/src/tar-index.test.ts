import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TarWriter, readTar, type Sample } from '@synthline/shards';
import { MemberReader, indexTar } from './tar-index.ts';

const temp = () => mkdtemp(join(tmpdir(), 'mix-tar-'));

test('indexTar finds every member of a shard and reads back the same bytes as readTar', async () => {
  const dir = await temp();
  const w = new TarWriter(join(dir, 'a.tar'));
  for (let i = 0; i < 4; i++) {
    await w.add({
      key: `k${i}`,
      members: [
        { ext: 'png', data: Buffer.alloc(700 + i, i) },
        { ext: 'json', data: Buffer.from(JSON.stringify({ i })) },
        { ext: 'mask.png', data: Buffer.alloc(3, 9) },
        { ext: 'cls', data: Buffer.from(String(i)) },
      ],
    });
  }
  await w.finish();
  const index = await indexTar(join(dir, 'a.tar'));
  const reader = new MemberReader();
  try {
    const expected: Sample[] = [];
    for await (const s of readTar(join(dir, 'a.tar'))) expected.push(s);
    assert.equal(index.length, 4);
    for (const [i, s] of index.entries()) {
      const want = expected[i];
      assert.equal(s.key, want?.key);
      assert.deepEqual(
        s.members.map((m) => m.ext),
        ['png', 'json', 'mask.png', 'cls'],
      );
      for (const [j, m] of s.members.entries()) assert.deepEqual(await reader.read(join(dir, 'a.tar'), m), want?.members[j]?.data);
    }
  } finally {
    await reader.close();
    await reader.close();
  }
});

test('indexTar reads GNU and pax long names, skips folders and drops a leading ./', async () => {
  const dir = await temp();
  const src = join(dir, 'src');
  const long = `${'d'.repeat(60)}/${'e'.repeat(70)}`;
  await mkdir(join(src, long), { recursive: true });
  await writeFile(join(src, long, 'sample01.jpg'), 'JPEG');
  await writeFile(join(src, long, 'sample01.cls'), '2');
  await writeFile(join(src, 'x.y.json'), '{}');
  for (const format of ['gnu', 'pax']) {
    const tarPath = join(dir, `${format}.tar`);
    execFileSync('tar', [
      '-cf',
      tarPath,
      `--format=${format}`,
      '-C',
      src,
      `./${long}/sample01.jpg`,
      `./${long}/sample01.cls`,
      './x.y.json',
    ]);
    const index = await indexTar(tarPath);
    assert.deepEqual(
      index.map((s) => [s.key, s.members.map((m) => m.ext)]),
      [
        [`${long}/sample01`, ['jpg', 'cls']],
        ['x', ['y.json']],
      ],
      format,
    );
    const reader = new MemberReader();
    assert.equal((await reader.read(tarPath, index[0]?.members[0] ?? { ext: '', offset: 0, size: 0 })).toString(), 'JPEG');
    await reader.close();
  }
  // A file name over 100 characters cannot be split into ustar's prefix: pax writes an `x` header.
  const longFile = `${'f'.repeat(120)}.webp`;
  await writeFile(join(src, longFile), 'WEBP');
  execFileSync('tar', ['-cf', join(dir, 'paxlong.tar'), '--format=pax', '-C', src, longFile]);
  assert.deepEqual(
    (await indexTar(join(dir, 'paxlong.tar'))).map((s) => [s.key, s.members[0]?.ext, s.members[0]?.size]),
    [['f'.repeat(120), 'webp', 4]],
  );
  execFileSync('tar', ['-cf', join(dir, 'dirs.tar'), '-C', src, '.']);
  const withDirs = await indexTar(join(dir, 'dirs.tar'));
  assert.equal(
    withDirs.reduce((n, s) => n + s.members.length, 0),
    4,
    'folder entries are skipped',
  );
});

test('a truncated or damaged tar is an error naming the file', async () => {
  const dir = await temp();
  const w = new TarWriter(join(dir, 'a.tar'));
  for (let i = 0; i < 3; i++) await w.add({ key: `k${i}`, members: [{ ext: 'png', data: Buffer.alloc(2000, 1) }] });
  await w.finish();
  const bytes = await readFile(join(dir, 'a.tar'));
  await writeFile(join(dir, 'cut.tar'), bytes.subarray(0, 3000));
  await assert.rejects(indexTar(join(dir, 'cut.tar')), /cut\.tar: truncated tar/);
  const damaged = Buffer.from(bytes);
  damaged[10] = 0x41;
  await writeFile(join(dir, 'bad.tar'), damaged);
  await assert.rejects(indexTar(join(dir, 'bad.tar')), /bad\.tar: damaged tar header at byte 0/);
});
