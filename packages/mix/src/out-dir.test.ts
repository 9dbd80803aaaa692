import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MixError } from './errors.ts';
import { checkOutDir, nameFor, prepareMixDir, within } from './out-dir.ts';

test('nameFor makes shard-safe names from the output folder', () => {
  assert.equal(nameFor('/data/mixes/belt-mix_v2'), 'belt-mix_v2');
  assert.equal(nameFor('/data/mixes/mix.2024 06'), 'mix_2024_06');
  assert.equal(nameFor('/'), 'mix');
  assert.equal(nameFor('/data/...'), 'mix');
});

test('within tells a folder inside another', () => {
  assert.equal(within('/a/b/c', '/a/b'), true);
  assert.equal(within('/a/b', '/a/b/'), true);
  assert.equal(within('/a/bc', '/a/b'), false);
  assert.equal(within('/a', '/a/b'), false);
});

test("a non-empty output is refused unless overwriting; only a mix's own files are replaced", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mix-out-'));
  await checkOutDir(join(dir, 'absent'), false, []);
  await mkdir(join(dir, 'empty'));
  await checkOutDir(join(dir, 'empty'), false, []);
  const out = join(dir, 'full');
  await mkdir(out);
  for (const f of ['dataset.json', 'full-000000.tar', 'full-000001.tar.partial', 'contact-sheet.jpg', 'notes.txt'])
    await writeFile(join(out, f), 'x');
  await assert.rejects(
    checkOutDir(out, false, []),
    (e: unknown) => e instanceof MixError && e.code === 'OUTPUT_EXISTS' && /--overwrite/.test(e.message),
  );
  await checkOutDir(out, true, []);
  await assert.rejects(checkOutDir(join(dir, 'in', 'x'), true, [{ flag: '--real', path: join(dir, 'in') }]), /lies inside, --real/);
  await prepareMixDir(out);
  assert.deepEqual(await readdir(out), ['notes.txt']);
});
