import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import { pino, type Logger } from 'pino';
import { coerceError, findBlender } from '@synthline/blender';
import { FINALIZE_QUEUE, JobQueue, JobStore, RENDER_QUEUE, createRedis, workerInstance } from '@synthline/queue';
import { parseSpec } from '@synthline/spec';
import { openStorage } from '@synthline/storage';
import type { WorkerContext } from './context.ts';
import { loadEnv, type WorkerEnv } from './env.ts';
import { processFinalize } from './finalize.ts';
import { handBack, processRenderBatch } from './render-batch.ts';
import { JobFailures, PRUNE_EVERY_MS, endedJobs } from './job-failures.ts';
import { JobWaits } from './job-waits.ts';
import { SlotPool } from './slot-pool.ts';
import { buildHeartbeat } from './heartbeat.ts';
import { startWorkerHttp, type WorkerHttp } from './http.ts';
import { WorkerMetrics } from './metrics.ts';

export interface RunningWorker {
  id: string;
  /** Batches this worker rendered and committed. */
  readonly stats: { batches: number; frames: number };
  /** Base URL of this worker's `/metrics` and `/healthz` server; undefined when off or its port was taken. */
  readonly httpUrl: string | undefined;
  /** Stops taking batches, hands running ones back at their next frame, closes Blender. */
  close(): Promise<void>;
}

/**
 * Starts a worker: `WORKER_SLOTS` warm Blender slots taking render batches, plus finalize jobs.
 * Blender runs as child processes, so the event loop stays free to renew BullMQ's locks.
 */
export async function startWorker(envIn: Partial<WorkerEnv> | NodeJS.ProcessEnv = process.env, logger?: Logger): Promise<RunningWorker> {
  const env = loadEnv(envIn as NodeJS.ProcessEnv);
  const log = (logger ?? pino({ level: env.LOG_LEVEL })).child({ worker: env.WORKER_ID });
  const blender = findBlender(); // fail at start, not per frame
  const storage = openStorage(env.SYNTHLINE_OUTPUT);
  await storage.check(); // a missing bucket fails here, not on the first batch
  const redis = createRedis(env.REDIS_URL);
  const queue = new JobQueue(redis, env.SYNTHLINE_PREFIX);
  const metrics = new WorkerMetrics({
    worker: env.WORKER_ID,
    slots: () => pool.slots,
    // A slot's next batch may start while the last one finishes: count slots, not batches.
    busySlots: () => new Set([...ctx.running.values()].map((r) => r.slot)).size,
    queueDepth: () => queue.render.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children'),
  });
  // WORKER_SLOTS auto: one slot per GPU of WORKER_DEVICE's kind, 1 on the CPU. A GPU kind this
  // machine lacks fails the start (DEVICE_UNAVAILABLE, naming what Blender found) unless
  // WORKER_ALLOW_CPU_FALLBACK=1.
  const pool = await SlotPool.create(env.WORKER_SLOTS, {
    blender,
    threads: env.BLENDER_THREADS,
    device: env.WORKER_DEVICE,
    allowCpuFallback: env.WORKER_ALLOW_CPU_FALLBACK,
    frameTimeoutMs: env.FRAME_TIMEOUT_MS,
    maxFramesPerProcess: env.MAX_FRAMES_PER_PROCESS,
    maxRssBytes: env.MAX_BLENDER_RSS_MB * 1024 * 1024,
    memoryLimitBytes: env.BLENDER_MEMORY_LIMIT_MB * 1024 * 1024,
    onEvent: (e) => {
      metrics.slotEvent(e, pool.slots);
      if (e.type === 'crashed') log.warn({ frame: e.index, attempt: e.attempt, code: e.error.code }, `Blender failed: ${e.error.message}`);
      else log.debug(e, `slot ${e.type}`);
    },
  }).catch((err: unknown) => {
    redis.disconnect();
    throw err;
  });
  log.info({ devices: pool.deviceLabels }, `render slots: ${pool.slots.length}`);
  let closing = false;
  const ctx: WorkerContext = {
    queue,
    storage,
    pool,
    log,
    libraryRoot: env.SYNTHLINE_LIBRARY,
    closing: () => closing,
    running: new Map(),
    metrics,
    waits: new JobWaits({ queue, instance: workerInstance(env.WORKER_ID, metrics.startedAt.toISOString()), waitMs: env.DEVICE_WAIT_MS, log }),
    test: {
      crashFrames: new Set(env.SYNTHLINE_TEST_CRASH_FRAMES ? env.SYNTHLINE_TEST_CRASH_FRAMES.split(',').map(Number) : []),
      failBatches: env.SYNTHLINE_TEST_FAIL_BATCHES === '1',
    },
  };
  // Failed batches per job on this worker: past the limit it leaves that job to other workers
  // (a broken GPU should not burn every attempt of every batch). Pruned of jobs that ended, capped.
  const jobFailures = new JobFailures();
  const stats = { batches: 0, frames: 0 };

  const common = { connection: redis, prefix: env.SYNTHLINE_PREFIX, autorun: true };
  const render = new Worker(RENDER_QUEUE, async (job, token) => {
    const jobId = String((job.data as { jobId?: unknown }).jobId ?? '');
    if (jobFailures.count(jobId) >= env.MAX_JOB_FAILURES_PER_WORKER) {
      const status = await queue.store.status(jobId);
      if (!status || JobStore.isFinal(status)) {
        // The job ended: nothing to hand back, and nothing to remember about it.
        jobFailures.delete(jobId);
        await ctx.waits.forget(jobId);
        metrics.batches.inc({ outcome: 'skipped' });
        return 'skipped';
      }
      // Hand it back without spending an attempt; another worker takes it. If no live worker
      // that has not given up on it can take it for longer than DEVICE_WAIT_MS, the job fails
      // (NO_WORKER_CAN_RENDER).
      try {
        await ctx.waits.giveUp(jobId);
        const spec = parseSpec(await queue.store.spec(jobId));
        const outcome = await handBack(job, token, ctx, jobId, spec.render.device, spec.render.allow_cpu_fallback, 'this worker gave up on the job');
        metrics.batches.inc({ outcome: outcome.kind });
        return outcome.kind;
      } catch (err) {
        metrics.batches.inc({ outcome: err instanceof DelayedError ? 'handed_back' : 'failed' });
        throw err;
      }
    }
    let outcome;
    try {
      outcome = await processRenderBatch(job, token, ctx);
    } catch (err) {
      metrics.batches.inc({ outcome: err instanceof DelayedError ? 'handed_back' : 'failed' });
      if (!(err instanceof DelayedError)) metrics.totals.batchesFailed++;
      if (!(err instanceof DelayedError) && !(err instanceof UnrecoverableError)) {
        const n = jobFailures.add(jobId);
        if (n === env.MAX_JOB_FAILURES_PER_WORKER) {
          const why = `worker ${env.WORKER_ID} stopped taking this job's batches after ${n} failures; last: ${coerceError(err).message}`;
          log.warn({ job: jobId }, why);
          await queue.store.addNote(jobId, why).catch(() => undefined);
          await ctx.waits.giveUp(jobId).catch(() => undefined);
        }
      }
      throw err;
    }
    metrics.batches.inc({ outcome: outcome.kind });
    if (outcome.kind === 'rendered') {
      stats.batches++;
      stats.frames += outcome.ok;
    }
    // BullMQ keeps each child's return value on its finalize parent: keep it small.
    return outcome.kind;
  }, {
    ...common,
    // Two batches per slot: the next one waits for the slot and starts sending frames to Blender
    // as soon as the running one has sent its last, so Blender never idles between batches.
    concurrency: pool.slots.length * 2,
    lockDuration: env.LOCK_DURATION_MS,
    stalledInterval: Math.max(5000, Math.floor(env.LOCK_DURATION_MS / 2)),
    maxStalledCount: 2,
  });
  const finalize = new Worker(FINALIZE_QUEUE, (job) => processFinalize(job, ctx), {
    ...common,
    concurrency: 1,
    lockDuration: Math.max(env.LOCK_DURATION_MS, 120_000),
  });
  for (const w of [render, finalize]) {
    w.on('failed', (job, err) => {
      const data = (job?.data ?? {}) as { jobId?: string; batch?: number };
      log.warn({ job: data.jobId, batch: data.batch, bullJob: job?.id, attempts: job?.attemptsMade }, `job failed: ${err.message}`);
    });
    w.on('error', (err) => log.error({ err }, 'worker error'));
  }

  const beat = async () => {
    try {
      // The record outlives the registry's 10 minutes of listing a lost worker (ttl x 10 s).
      const info = buildHeartbeat({
        slots: pool.slots,
        running: ctx.running,
        metrics,
        batchesRendered: stats.batches,
        heartbeatMs: env.HEARTBEAT_MS,
        deviceLabels: pool.deviceLabels,
        deviceRequested: env.WORKER_DEVICE,
        cpuFallback: pool.devices.some((d) => d?.fallback === true),
      });
      await queue.store.heartbeat(env.WORKER_ID, info, 90);
    } catch (err) {
      log.debug({ err }, 'heartbeat failed (Redis away?)');
    }
  };
  await beat();
  const heartbeat = setInterval(beat, env.HEARTBEAT_MS);
  heartbeat.unref();
  const prune = setInterval(() => {
    jobFailures
      .prune((ids) => endedJobs(queue.store, ids))
      .then((n) => n > 0 && log.debug({ dropped: n, kept: jobFailures.size }, 'failure counts of ended jobs dropped'))
      .catch((err: unknown) => log.debug({ err }, 'pruning failure counts failed (Redis away?)'));
  }, PRUNE_EVERY_MS);
  prune.unref();
  log.info({ slots: pool.slots.length, prefix: env.SYNTHLINE_PREFIX, output: storage.root }, 'worker ready');
  // Batches that failed for good (their last attempt, or not retryable) on this worker.
  render.on('failed', (job, err) => {
    if (job && (err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1))) metrics.batchFailures.inc();
  });
  let http: WorkerHttp | undefined;
  if (env.WORKER_HTTP_PORT > 0) {
    try {
      http = await startWorkerHttp({
        host: env.WORKER_HTTP_HOST,
        port: env.WORKER_HTTP_PORT,
        log,
        metrics: () => metrics.text(),
        unhealthy: async () => {
          if (closing) return 'shutting down';
          const pong = await Promise.race([redis.ping().catch(() => 'error'), new Promise((r) => setTimeout(() => r('timeout'), 1000).unref())]);
          return pong === 'PONG' ? null : 'Redis does not answer PING';
        },
      });
      log.info({ url: http.url }, 'worker metrics on /metrics, health on /healthz');
    } catch (err) {
      log.warn({ err, host: env.WORKER_HTTP_HOST, port: env.WORKER_HTTP_PORT }, `worker HTTP server not started (${(err as Error).message}): no /metrics or /healthz for this worker`);
    }
  }

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      clearInterval(heartbeat);
      clearInterval(prune);
      // BullMQ's close() has no deadline of its own and can hang while Redis is away.
      const graceful = Promise.allSettled([render.close(), finalize.close()]);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((r) => {
        timer = setTimeout(() => r('deadline'), env.SHUTDOWN_DEADLINE_MS);
      });
      const how = await Promise.race([graceful.then(() => 'graceful' as const), deadline]);
      clearTimeout(timer);
      if (how === 'deadline') {
        log.warn(`shutdown deadline of ${env.SHUTDOWN_DEADLINE_MS} ms passed: forcing`);
        await Promise.allSettled([render.close(true), finalize.close(true)]);
      }
      await pool.close();
      try {
        await Promise.race([queue.store.removeWorker(env.WORKER_ID), new Promise((r) => setTimeout(r, 1000))]);
      } catch {
        // Redis away: the registry marks this worker lost by its silence.
      }
      await http?.close();
      await queue.close();
      redis.disconnect();
      log.info({ how }, 'worker closed');
    })());
  return { id: env.WORKER_ID, stats, httpUrl: http?.url, close };
}
