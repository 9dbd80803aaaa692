import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { FileStorage } from './file-storage.ts';

test('remove takes a job folder or a prefix away whole, leaves nothing aside, and accepts a missing one', async () => {
  const root = await mkdtemp(join(tmpdir(), 'synthline-fs-'));
  const s = new FileStorage(root);
  await writeFile(await s.prepare('job1', 'fragments/000000-ab.tar'), 'x');
  await writeFile(await s.prepare('job1', 'shard-000000.tar'), 'y');
  await s.remove('job1', 'fragments/');
  assert.deepEqual(await readdir(join(root, 'job1')), ['shard-000000.tar']);
  await s.remove('job1');
  assert.deepEqual(await readdir(root), []);
  await s.remove('job1');
  await s.remove('job2', 'fragments/');
  assert.deepEqual(await readdir(root), []);
});
