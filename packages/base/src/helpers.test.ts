import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { partialName, writeFileAtomic } from './atomic-write.ts';
import { coerceError } from './errors.ts';
import { within } from './timeout.ts';

test('writeFileAtomic leaves the whole file and no temporary beside it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'synthline-base-'));
  try {
    const path = join(dir, 'a.json');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, Buffer.from('two'));
    assert.equal(await readFile(path, 'utf8'), 'two');
    assert.deepEqual(await readdir(dir), ['a.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('partialName is beside the file and its own to each writer', () => {
  const a = partialName('/x/y.tar');
  assert.match(a, new RegExp(`^/x/y\\.tar\\.${process.pid}-[0-9a-f]{8}\\.partial$`));
  assert.notEqual(a, partialName('/x/y.tar'));
});

test('within answers with the value, or an error once the time is up', async () => {
  assert.equal(await within(Promise.resolve(7), 1000), 7);
  await assert.rejects(within(new Promise(() => undefined), 20), /no answer within 20 ms/);
});

test('coerceError turns anything into an Error', () => {
  const e = new TypeError('t');
  assert.equal(coerceError(e), e);
  assert.equal(coerceError('text').message, 'text');
  assert.equal(coerceError({ a: 1 }).message, '{"a":1}');
});
