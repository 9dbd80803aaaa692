import { destination, pino, type Logger } from 'pino';
import type { WorkerEnv } from '@synthline/config';
import { findBlender } from '@synthline/blender';
import { JobQueue, createRedis } from '@synthline/queue';
import { openStorage } from '@synthline/storage';
import { workerInstance } from './device-wait.ts';
import type { WorkerContext, WorkerFaults } from './context.ts';
import { JobWaits } from './job-waits.ts';
import { SlotPool } from './slot-pool.ts';
import { buildHeartbeat, startHeartbeat } from './heartbeat.ts';
import { serveWorkerHttp } from './http.ts';
import { WorkerMetrics } from './metrics.ts';
import { FailurePolicy } from './failure-policy.ts';
import { startBatchRunner, type BatchStats } from './batch-runner.ts';
import { startFinalizer } from './finalizer.ts';
import { probeEvaluationRunner, startEvaluator } from './evaluator.ts';
import type { EvaluationRunner } from '@synthline/jobs';
import type { Worker } from 'bullmq';
import { shutdown } from './shutdown.ts';

export interface RunningWorker {
  id: string;
  /** Batches this worker rendered and committed. */
  readonly stats: Readonly<BatchStats>;
  /** Base URL of this worker's `/metrics` and `/healthz` server; undefined when off or its port was taken. */
  readonly httpUrl: string | undefined;
  /**
   * The evaluation runner this worker advertises once its probe at start is done (null: none, or
   * WORKER_EVALUATIONS=0); it takes evaluations only with one.
   */
  readonly evaluationRunner: Promise<EvaluationRunner | null>;
  /** Stops taking batches, hands running ones back at their next frame, closes Blender. Safe to call twice. */
  close(): Promise<void>;
}

export interface WorkerOptions {
  /** Default: pino at LOG_LEVEL. */
  logger?: Logger;
  /** Faults to inject: tests only. */
  faults?: WorkerFaults;
}

/**
 * Starts a worker (configured by `loadWorkerEnv` of @synthline/config): `WORKER_SLOTS` warm
 * Blender slots taking render batches (the batch runner), plus finalize jobs (the finalizer),
 * the failure policy, the heartbeat and the HTTP server; {@link RunningWorker.close} shuts them
 * down. Blender runs as child processes, so the event loop stays free to renew BullMQ's locks.
 */
export async function startWorker(env: WorkerEnv, options: WorkerOptions = {}): Promise<RunningWorker> {
  const log = (options.logger ?? pino({ level: env.LOG_LEVEL }, destination(2))).child({ worker: env.WORKER_ID });
  const blender = findBlender(); // fail at start, not per frame
  const storage = openStorage(env.SYNTHLINE_OUTPUT);
  await storage.check(); // a missing bucket fails here, not on the first batch
  const redis = createRedis(env.REDIS_URL);
  const queue = new JobQueue(redis, env.SYNTHLINE_PREFIX);
  const running: WorkerContext['running'] = new Map();
  const metrics = new WorkerMetrics({
    worker: env.WORKER_ID,
    slots: () => pool.slots,
    // A slot's next batch may start while the last one finishes: count slots, not batches.
    busySlots: () => new Set([...running.values()].map((r) => r.slot)).size,
    queueDepth: () => queue.render.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children'),
  });
  const pool: SlotPool = await createSlotPool(env, blender, metrics, log).catch((err: unknown) => {
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
    running,
    metrics,
    waits: new JobWaits({
      queue,
      instance: workerInstance(env.WORKER_ID, metrics.startedAt.toISOString()),
      waitMs: env.DEVICE_WAIT_MS,
      log,
    }),
    faults: { crashFrames: new Set(options.faults?.crashFrames ?? []), failBatches: options.faults?.failBatches ?? false },
  };
  const policy = new FailurePolicy(ctx, { workerId: env.WORKER_ID, maxFailures: env.MAX_JOB_FAILURES_PER_WORKER });
  const stats: BatchStats = { batches: 0, frames: 0 };
  const queueOpts = { connection: redis, prefix: env.SYNTHLINE_PREFIX, lockDurationMs: env.LOCK_DURATION_MS, log };
  const batchRunner = startBatchRunner(ctx, policy, stats, queueOpts);
  const finalizer = startFinalizer(ctx, queueOpts);
  let evaluationRunner: EvaluationRunner | null = null;
  let evaluator: Worker | undefined;
  const heartbeat = await startHeartbeat({
    store: queue.store,
    workerId: env.WORKER_ID,
    intervalMs: env.HEARTBEAT_MS,
    log,
    info: () =>
      buildHeartbeat({
        slots: pool.slots,
        running,
        metrics,
        batchesRendered: stats.batches,
        heartbeatMs: env.HEARTBEAT_MS,
        deviceLabels: pool.deviceLabels,
        deviceKinds: pool.deviceKinds,
        deviceRequested: env.WORKER_DEVICE,
        cpuFallback: pool.devices.some((d) => d?.fallback === true),
        evaluationRunner,
      }),
  });
  // The Python runner is probed beside the rendering (importing torch takes seconds): the worker
  // advertises it, then takes evaluations; a worker without it never takes one.
  const probed = (async (): Promise<EvaluationRunner | null> => {
    if (!env.WORKER_EVALUATIONS) return null;
    const { runner, why } = await probeEvaluationRunner(env.SYNTHLINE_PYTHON);
    if (!runner) {
      log.info(`no evaluation runner, so no evaluations here: ${why}`);
      return null;
    }
    if (closing) return null;
    evaluationRunner = runner;
    await heartbeat.beat();
    if (closing) return null;
    evaluator = startEvaluator(
      { queue, storage, realRoot: env.SYNTHLINE_REAL, python: env.SYNTHLINE_PYTHON, workerId: env.WORKER_ID, log },
      queueOpts,
    );
    log.info({ torch: runner.torch, cuda: runner.cuda }, 'evaluation runner ready: taking evaluations');
    return runner;
  })();
  policy.startPruning();
  log.info({ slots: pool.slots.length, prefix: env.SYNTHLINE_PREFIX, output: storage.root }, 'worker ready');
  const http = await serveWorkerHttp({
    host: env.WORKER_HTTP_HOST,
    port: env.WORKER_HTTP_PORT,
    log,
    metrics: () => metrics.text(),
    closing: () => closing,
    redis,
  });

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= shutdown({
      log,
      deadlineMs: env.SHUTDOWN_DEADLINE_MS,
      stopTaking: () => {
        closing = true;
        heartbeat.stop();
        policy.stop();
      },
      queueWorkers: [batchRunner, finalizer, ...(evaluator ? [evaluator] : [])],
      pool,
      deregister: () => queue.store.removeWorker(env.WORKER_ID),
      http,
      queue,
      redis,
    }));
  return { id: env.WORKER_ID, stats, httpUrl: http?.url, evaluationRunner: probed, close };
}

/**
 * WORKER_SLOTS warm Blender slots; `auto`: one slot per GPU of WORKER_DEVICE's kind, 1 on the CPU.
 * A GPU kind this machine lacks fails the start (DEVICE_UNAVAILABLE, naming what Blender found)
 * unless WORKER_ALLOW_CPU_FALLBACK=1.
 */
async function createSlotPool(env: WorkerEnv, blender: string, metrics: WorkerMetrics, log: Logger): Promise<SlotPool> {
  const pool: SlotPool = await SlotPool.create(env.WORKER_SLOTS, {
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
  });
  return pool;
}
