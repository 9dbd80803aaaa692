import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobFailures } from './job-failures.ts';

test('JobFailures counts per job and drops the job whose last failure is oldest past the cap', () => {
  const f = new JobFailures(3);
  assert.equal(f.add('a'), 1);
  assert.equal(f.add('b'), 1);
  assert.equal(f.add('a'), 2); // a is now the newest
  assert.equal(f.add('c'), 1);
  assert.deepEqual(f.jobs(), ['b', 'a', 'c']);
  assert.equal(f.add('d'), 1); // past the cap: b goes
  assert.deepEqual(f.jobs(), ['a', 'c', 'd']);
  assert.equal(f.count('b'), 0);
  assert.equal(f.count('a'), 2);
  for (let i = 0; i < 100; i++) f.add(`j${i}`);
  assert.equal(f.size, 3, 'never more than the cap');
  assert.throws(() => new JobFailures(0), RangeError);
});

test('JobFailures.prune drops the jobs that ended and keeps the rest', async () => {
  const f = new JobFailures();
  for (const id of ['done', 'running', 'gone', 'running']) f.add(id);
  let asked: string[] = [];
  const dropped = await f.prune(async (ids) => {
    asked = ids;
    return new Set(['done', 'gone', 'never-tracked']);
  });
  assert.deepEqual(asked, ['done', 'gone', 'running']);
  assert.equal(dropped, 2);
  assert.deepEqual(f.jobs(), ['running']);
  assert.equal(f.count('running'), 2);
  assert.equal(await new JobFailures().prune(async () => assert.fail('nothing to ask about')), 0);
});
