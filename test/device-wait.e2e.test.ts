import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { parseSpec } from '@synthline/spec';
import { openStorage } from '@synthline/storage';
import { workerList, type JobRecord } from '@synthline/jobs';
import { JobQueue, createRedis } from '@synthline/queue';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { loadWorkerEnv } from '@synthline/config';
import { startWorker, type RunningWorker, type WorkerFaults } from '@synthline/worker';
import { endedJobs } from '../apps/worker/src/job-failures.ts';
import { UNSERVABLE_SINCE } from '@synthline/jobs';
import { tempDir, tinySpec, until } from './helpers.ts';

// Jobs that can never run end: a real worker on the CPU, a job asking for an OptiX GPU that no
// live worker has fails with DEVICE_UNAVAILABLE once DEVICE_WAIT_MS has passed (its batches handed
// back meanwhile, no attempt spent), while a CPU job beside it completes; and a job every live
// worker gave up on fails with NO_WORKER_CAN_RENDER.

const DEVICE_WAIT_MS = 2000;
let redis: PrivateRedis;
let conn: Redis;
const workers: RunningWorker[] = [];
const queues: JobQueue[] = [];
let n = 0;

before(async () => {
  redis = await startPrivateRedis();
  conn = createRedis(redis.url);
});
after(async () => {
  await Promise.allSettled(workers.map((w) => w.close()));
  for (const q of queues) await q.close();
  conn?.disconnect();
  await redis?.dispose();
});

/** A worker on the CPU and a queue to submit to, on a prefix of their own. */
async function stack(
  extra: Record<string, string> = {},
  queueOpts: ConstructorParameters<typeof JobQueue>[2] = {},
  faults: WorkerFaults = {},
) {
  const prefix = `dw${process.pid}x${n++}`;
  const out = await tempDir('synthline-devwait-');
  const env = {
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: prefix,
    SYNTHLINE_OUTPUT: out,
    WORKER_ID: `${prefix}-cpu`,
    WORKER_DEVICE: 'cpu',
    WORKER_HTTP_PORT: '0',
    DEVICE_WAIT_MS: String(DEVICE_WAIT_MS),
    HEARTBEAT_MS: '300',
    BLENDER_THREADS: '1',
    LOG_LEVEL: 'silent',
    ...extra,
  };
  const worker = await startWorker(loadWorkerEnv(env), { faults });
  workers.push(worker);
  const queue = new JobQueue(conn, prefix, { batchSize: 3, window: 2, ...queueOpts });
  queues.push(queue);
  const storage = openStorage(out);
  const submit = async (spec: unknown) => (await queue.submit(parseSpec(spec), { outputUri: (id) => storage.url(id) })).record.id;
  const ended = (id: string) =>
    until(`job ${id} to end`, async () => {
      const r = await queue.store.get(id);
      return r && ['completed', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
    });
  /** BullMQ jobs of a job still waiting, delayed, active or held in either queue. */
  const pending = async (id: string) => {
    const states = ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'] as const;
    const all = [...(await queue.render.getJobs([...states])), ...(await queue.finalize.getJobs([...states]))];
    return all.filter((j) => (j.data as { jobId?: string }).jobId === id).map((j) => `${j.name}:${j.id}`);
  };
  return { prefix, queue, worker, submit, ended, pending };
}

const small = (over: Record<string, unknown> = {}) =>
  tinySpec({ count: 6, render: { resolution: [48, 40], samples: 2 }, output: { shard_size: 8 }, ...over });

test('a job asking for a device no live worker has fails with DEVICE_UNAVAILABLE after DEVICE_WAIT_MS; a CPU job beside it completes', async () => {
  const s = await stack();
  // The worker says what it serves.
  const views = await until('the worker in the registry', async () =>
    workerList(await s.queue.store.workers()).items.find((w) => w.id === s.worker.id),
  );
  assert.deepEqual([views.status, views.device_kinds, views.device_requested, views.cpu_fallback], ['live', ['cpu'], 'cpu', false]);

  const t0 = Date.now();
  const optix = await s.submit(small({ name: 'optix', render: { resolution: [48, 40], samples: 2, device: 'optix' } }));
  const cpu = await s.submit(small({ name: 'cpu' }));
  // Waiting: the batches are handed back, the job stays queued and records since when.
  const since = await until('the wait to be recorded', async () => conn.hget(`${s.prefix}:job:${optix}`, UNSERVABLE_SINCE));
  assert.ok(Number(since) >= t0 - 1000, since);
  assert.equal((await s.queue.store.get(optix))?.status, 'queued', 'nobody renders it: not running');

  const failed: JobRecord = await s.ended(optix);
  const tookMs = Date.now() - t0;
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error?.code, 'DEVICE_UNAVAILABLE', JSON.stringify(failed.error));
  assert.match(failed.error?.message ?? '', /render\.device "optix", but none of the 1 live worker renders on it \(they render on cpu\)/);
  assert.match(failed.error?.message ?? '', /render\.allow_cpu_fallback: true/);
  assert.match(failed.error?.message ?? '', /WORKER_DEVICE=optix/);
  assert.equal(failed.started_at, null, 'it never ran');
  assert.ok(failed.finished_at);
  assert.deepEqual(failed.notes, [
    `no live worker renders on render.device "optix" (they render on cpu): the job waits up to 2 s (DEVICE_WAIT_MS) for one, then fails with DEVICE_UNAVAILABLE`,
  ]);
  assert.ok(tookMs >= DEVICE_WAIT_MS, `failed after ${tookMs} ms, before the ${DEVICE_WAIT_MS} ms bound`);
  assert.ok(tookMs < DEVICE_WAIT_MS + 30_000, `failed after ${tookMs} ms: not bounded`);
  // Nothing of it is left to run: no batch waiting, delayed or active, no finalize pending.
  await until('no BullMQ job of the failed job left', async () => (await s.pending(optix)).length === 0, 30_000);
  // Its batches were handed back, not failed through their attempts: none retried.
  const failedBatches = (await s.queue.render.getJobs(['failed'])).filter((j) => (j.data as { jobId?: string }).jobId === optix);
  assert.ok(
    failedBatches.every((j) => j.attemptsMade <= 1),
    JSON.stringify(failedBatches.map((j) => j.attemptsMade)),
  );

  const done = await s.ended(cpu);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.frames_done, 6);
  assert.equal((await s.queue.store.get(optix))?.status, 'failed', 'still failed');
  assert.deepEqual(await endedJobs(s.queue.store, [optix, cpu, 'no-such-job']), new Set([optix, cpu, 'no-such-job']));
});

test('a cuda job allowing CPU fallback is rendered by the CPU worker, no wait recorded', async () => {
  const s = await stack();
  const id = await s.submit(
    small({ name: 'fallback', render: { resolution: [48, 40], samples: 2, device: 'cuda', allow_cpu_fallback: true } }),
  );
  const r = await s.ended(id);
  assert.equal(r.status, 'completed', JSON.stringify(r.error));
  assert.equal(await conn.hget(`${s.prefix}:job:${id}`, UNSERVABLE_SINCE), null);
  assert.deepEqual(await endedJobs(s.queue.store, [id]), new Set([id]));
});

test('a job waits while a live worker has its device, the wait restarting when one appears; it fails once that worker is lost', async () => {
  const s = await stack();
  const t0 = Date.now();
  const id = await s.submit(small({ name: 'hip', render: { resolution: [48, 40], samples: 2, device: 'hip' } }));
  const key = `${s.prefix}:job:${id}`;
  await until('the wait to be recorded', async () => conn.hget(key, UNSERVABLE_SINCE));
  // A worker with a HIP GPU joins (its heartbeats only: no such GPU here).
  const gpu = {
    host: 'gpu-box',
    pid: 1,
    heartbeat_ms: 200,
    started_at: new Date().toISOString(),
    device_kinds: ['hip'],
    device_requested: 'hip',
    cpu_fallback: false,
  };
  const beat = () => s.queue.store.heartbeat('fake-hip', gpu, 90).catch(() => undefined);
  await beat();
  const beating = setInterval(beat, 200);
  try {
    await until('the wait to be cleared', async () => (await conn.hget(key, UNSERVABLE_SINCE)) === null);
    // While it is live the job keeps waiting for it, however long: watch it over twice the bound.
    const from = Date.now();
    await until('twice the bound to pass with the job waiting', async () => {
      assert.equal((await s.queue.store.get(id))?.status, 'queued');
      return Date.now() - from > 2 * DEVICE_WAIT_MS;
    });
  } finally {
    clearInterval(beating);
  }
  // Silent, it turns lost after 3 of its heartbeats; the bound counts from then.
  const lostAt = Date.now();
  const r = await s.ended(id);
  assert.equal(r.status, 'failed');
  assert.equal(r.error?.code, 'DEVICE_UNAVAILABLE', JSON.stringify(r.error));
  assert.ok(Date.now() - lostAt >= DEVICE_WAIT_MS, 'the wait started again when the HIP worker was lost');
  assert.match(r.error?.message ?? '', /render\.device "hip", but none of the 1 live worker renders on it \(they render on cpu\)/);
  assert.ok(Date.now() - t0 > 3 * DEVICE_WAIT_MS);
  await until('no BullMQ job of the failed job left', async () => (await s.pending(id)).length === 0, 30_000);
});

test('a job every live worker gave up on fails with NO_WORKER_CAN_RENDER after DEVICE_WAIT_MS', async () => {
  const s = await stack({ MAX_JOB_FAILURES_PER_WORKER: '2' }, { backoffMs: 50 }, { failBatches: true });
  const id = await s.submit(small({ name: 'doomed' }));
  const gaveUpKey = `${s.prefix}:job:${id}:gave-up`;
  await until('the worker to give up', async () => (await conn.scard(gaveUpKey)) > 0);
  assert.ok((await conn.ttl(gaveUpKey)) > 0, 'the set expires');
  const r = await s.ended(id);
  assert.equal(r.status, 'failed');
  assert.equal(r.error?.code, 'NO_WORKER_CAN_RENDER', JSON.stringify(r.error));
  assert.match(r.error?.message ?? '', new RegExp(`gave up on it after repeated failed batches \\(${s.worker.id}\\)`));
  assert.ok(
    r.notes.some((x) => x.includes(`worker ${s.worker.id} stopped taking this job's batches after 2 failures`)),
    JSON.stringify(r.notes),
  );
  await until('no BullMQ job of the failed job left', async () => (await s.pending(id)).length === 0, 30_000);
  assert.equal(await conn.exists(gaveUpKey), 0, 'the set goes with the job');
});
