/**
 * Benchmark, not a test: what the queue costs per batch. The real JobQueue and JobStore run
 * against a private redis-server; BullMQ workers run a simulated renderer (a fixed sleep per
 * frame instead of Blender) that does a render batch's queue work exactly as the worker does:
 * read the job, enqueue the batch `window` places ahead, check and commit the batch, report
 * progress per frame. For 1 to 32 slots and 10,000 batches it prints frames/s, p50/p99 batch
 * latency (enqueued to committed), the queue's overhead per batch (batch time minus its
 * sleeps), and Redis memory; then a 1,000,000-frame job: time to accept it and Redis memory
 * while batches run.
 *   npm run bench:overhead -- [--batches 10000] [--frame-ms 1]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'bullmq';
import { parseSpec } from '@synthline/spec';
import { JobQueue, RENDER_QUEUE, RenderBatchPayload, batchRange, createRedis } from '@synthline/queue';
import { startPrivateRedis } from '@synthline/cli/private-redis';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '10000' },
    'frame-ms': { type: 'string', default: '1' },
    slots: { type: 'string', default: '1,4,16,32' },
  },
});
const BATCHES = Number(values.batches);
const FRAME_MS = Number(values['frame-ms']);
const FRAMES_PER_BATCH = 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

const redis = await startPrivateRedis({ appendonly: false });
const conn = createRedis(redis.url);
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await conn.info('memory'))?.[1] ?? 0);

async function run(slots: number, frames: number, batchSize: number, stopAfterMs?: number) {
  await conn.flushdb();
  const queue = new JobQueue(conn, 'bench', { batchSize, window: Math.max(16, slots * 2), attempts: 1 });
  const enqueuedAt = new Map<number, number>();
  const latencies: number[] = [];
  const overheads: number[] = [];
  let framesDone = 0;
  let peakMemory = 0;
  const started = performance.now();
  // The simulated renderer: a render batch's queue work, with a sleep where Blender would render.
  const worker = new Worker(
    RENDER_QUEUE,
    async (job) => {
      const t0 = performance.now();
      const { jobId, batch } = RenderBatchPayload.parse(job.data);
      const rec = await queue.store.batchInfo(jobId);
      if (!rec) return 'missing';
      await queue.enqueueBatch(jobId, batch + rec.window, rec.batches_total);
      enqueuedAt.set(batch + rec.window, performance.now());
      if (await queue.store.batchCommitted(jobId, batch)) return 'done';
      await queue.store.start(jobId);
      const [a, b] = batchRange(batch, rec.batch_size, rec.frames_total);
      let slept = 0;
      let lastReport = 0;
      for (let i = a; i < b; i++) {
        const s0 = performance.now();
        await sleep(FRAME_MS);
        slept += performance.now() - s0;
        // As the worker does: progress and a cancellation check at most every 200 ms.
        if (performance.now() - lastReport >= 200) {
          lastReport = performance.now();
          await queue.store.setInflight(jobId, batch, i - a + 1);
          await queue.store.status(jobId);
        }
      }
      await queue.store.commitBatch(jobId, batch, b - a, []);
      framesDone += b - a;
      const now = performance.now();
      latencies.push(now - (enqueuedAt.get(batch) ?? started));
      overheads.push(now - t0 - slept);
      return 'rendered';
    },
    { connection: conn, prefix: 'bench', concurrency: slots },
  );
  const t = performance.now();
  const { record } = await queue.submit(parseSpec({ count: frames }), { outputUri: () => 'file:///dev/null' });
  const acceptMs = performance.now() - t;
  for (let b = 0; b < Math.min(record.batches_total, queue.window); b++) enqueuedAt.set(b, performance.now());
  const target = stopAfterMs ? Number.POSITIVE_INFINITY : frames;
  const deadline = performance.now() + (stopAfterMs ?? 1e12);
  while (framesDone < target && performance.now() < deadline) {
    peakMemory = Math.max(peakMemory, await usedMemory());
    await sleep(50);
  }
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.close().catch(() => undefined);
  return {
    slots,
    frames: framesDone,
    seconds,
    fps: framesDone / seconds,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    overheadP50: pct(overheads, 50),
    overheadP99: pct(overheads, 99),
    peakMemory,
    acceptMs,
    batchSize: record.batch_size,
    batches: record.batches_total,
  };
}

console.log(`simulated renderer: ${FRAMES_PER_BATCH} frame per batch, ${FRAME_MS} ms per frame, ${BATCHES} batches`);
console.log('slots   frames/s   batch latency p50 / p99     queue overhead per batch p50 / p99   Redis peak');
for (const slots of values.slots.split(',').map(Number)) {
  const r = await run(slots, BATCHES * FRAMES_PER_BATCH, FRAMES_PER_BATCH);
  console.log(
    `${String(slots).padStart(5)}   ${r.fps.toFixed(0).padStart(8)}   ${r.p50.toFixed(1).padStart(8)} / ${r.p99.toFixed(1).padStart(7)} ms     ` +
      `${r.overheadP50.toFixed(2).padStart(10)} / ${r.overheadP99.toFixed(2).padStart(6)} ms           ${(r.peakMemory / 1024 / 1024).toFixed(2)} MiB`,
  );
}
// A million-frame job: accepted at once; Redis memory while 32 slots work on it for 20 s.
const big = await run(32, 1_000_000, 24, 20_000);
console.log(
  `\n1,000,000-frame job: accepted in ${big.acceptMs.toFixed(1)} ms (${big.batches} batches of ${big.batchSize}); ` +
    `after ${big.seconds.toFixed(0)} s with 32 slots, ${big.frames} frames done, Redis peak ${(big.peakMemory / 1024 / 1024).toFixed(2)} MiB`,
);
conn.disconnect();
await redis.dispose();
