import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { JobStore } from '@synthline/jobs';
import { createRedis } from '@synthline/queue';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';

// The job store's named transitions against a real Redis: where each may start from, what it
// stores, that a final status is never left, and that the per-status indexes and counters follow.

let redis: PrivateRedis;
let conn: Redis;
let store: JobStore;

before(async () => {
  redis = await startPrivateRedis({ appendonly: false });
  conn = createRedis(redis.url);
  store = new JobStore(conn, `js${process.pid}`);
});

after(async () => {
  conn?.disconnect();
  await redis?.dispose();
});

let n = 0;
async function newJob(): Promise<string> {
  const id = `job${String(++n).padStart(9, '0')}`;
  await store.create({
    id,
    name: 't',
    spec: {},
    frames_total: 10,
    batch_size: 5,
    batches_total: 2,
    window: 2,
    max_failed_frames: 1,
    output_uri: `file:///out/${id}`,
  });
  return id;
}

test('start, startFinalizing and complete walk a job through its life', async () => {
  const id = await newJob();
  assert.equal(await store.startFinalizing('nosuchjob'), null);
  assert.equal(await store.start(id), 'running');
  const started = (await store.get(id))?.started_at;
  assert.ok(started);
  assert.equal(await store.start(id), 'running', 'a running job stays running');
  assert.equal((await store.get(id))?.started_at, started, 'started_at is set once');
  assert.equal(await store.startFinalizing(id), 'finalizing');
  assert.equal(await store.start(id), 'finalizing', 'start does not move a job back');
  const shards = [{ name: 't-000000.tar', samples: 9, bytes: 1024, sha256: 'ab' }];
  assert.equal(await store.complete(id, { frames_done: 9, frames_failed: 1, manifest_uri: 'file:///out/m.json', shards }), 'completed');
  const rec = await store.get(id);
  assert.equal(rec?.status, 'completed');
  assert.equal(rec?.frames_done, 9);
  assert.equal(rec?.frames_failed, 1);
  assert.equal(rec?.manifest_uri, 'file:///out/m.json');
  assert.deepEqual(rec?.shards, shards);
  assert.ok(rec?.finished_at);
  assert.equal(rec?.error, null);
});

test('fail stores the error as data; a final status is never left', async () => {
  const id = await newJob();
  assert.equal(await store.fail(id, 'TOO_MANY_FAILED_FRAMES', '3 frames failed', { frames_failed: 3 }), 'failed');
  const rec = await store.get(id);
  assert.deepEqual(rec?.error, { code: 'TOO_MANY_FAILED_FRAMES', message: '3 frames failed' });
  assert.equal(rec?.frames_failed, 3);
  assert.ok(rec?.finished_at);
  // The stored text is what readers of older versions parse: code, then message.
  assert.equal(await conn.hget(store.jobKey(id), 'error'), '{"code":"TOO_MANY_FAILED_FRAMES","message":"3 frames failed"}');
  assert.equal(await store.cancel(id), 'failed');
  assert.equal(await store.complete(id, { frames_done: 10, manifest_uri: 'file:///x' }), 'failed');
  assert.equal(await store.start(id), 'failed');

  const other = await newJob();
  assert.equal(await store.fail(other, 'OUTPUT_FULL', 'disk full', { details: ['ENOSPC'] }), 'failed');
  assert.deepEqual((await store.get(other))?.error, { code: 'OUTPUT_FULL', message: 'disk full', details: ['ENOSPC'] });
});

test('cancel ends a job and the counters follow every transition', async () => {
  const before = await store.statusCounts();
  const id = await newJob();
  await store.start(id);
  assert.equal(await store.cancel(id), 'cancelled');
  assert.equal(await store.fail(id, 'OUTPUT_FULL', 'too late'), 'cancelled');
  const counts = await store.statusCounts();
  assert.equal(counts.cancelled, before.cancelled + 1);
  assert.equal(counts.running, before.running);
  assert.equal(counts.queued, before.queued);
  assert.deepEqual((await store.list({ status: 'cancelled' })).ids, [id]);
});
