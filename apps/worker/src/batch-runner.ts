import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { RENDER_QUEUE } from '@synthline/queue';
import type { WorkerContext } from './context.ts';
import type { FailurePolicy } from './failure-policy.ts';
import { logFailedJob, logWorkerErrors, type QueueWorkerOptions } from './queue-worker.ts';
import { processRenderBatch, type BatchOutcome } from './render-batch.ts';

/** Batches this worker rendered and committed. */
export interface BatchStats {
  batches: number;
  frames: number;
}

/**
 * The batch runner: a BullMQ worker taking render batches, two per slot. Each batch is rendered
 * (processRenderBatch), or declined when this worker gave up on its job (the failure policy);
 * outcomes are counted, and a failed batch is reported to the policy.
 */
export function startBatchRunner(ctx: WorkerContext, policy: FailurePolicy, stats: BatchStats, opts: QueueWorkerOptions): Worker {
  const { metrics } = ctx;

  const render = async (job: Job, token: string | undefined, jobId: string): Promise<BatchOutcome['kind']> => {
    let outcome;
    try {
      outcome = await processRenderBatch(job, token, ctx);
    } catch (err) {
      if (!(err instanceof DelayedError)) {
        metrics.totals.batchesFailed++;
        if (!(err instanceof UnrecoverableError)) await policy.failed(jobId, err);
      }
      throw err;
    }
    if (outcome.kind === 'rendered') {
      stats.batches++;
      stats.frames += outcome.ok;
    }
    return outcome.kind;
  };

  const worker = new Worker(
    RENDER_QUEUE,
    async (job, token) => {
      const jobId = String((job.data as { jobId?: unknown }).jobId ?? '');
      try {
        const kind = policy.gaveUp(jobId) ? await policy.decline(job, token, jobId) : await render(job, token, jobId);
        metrics.batches.inc({ outcome: kind });
        // BullMQ keeps each child's return value on its finalize parent: keep it small.
        return kind;
      } catch (err) {
        metrics.batches.inc({ outcome: err instanceof DelayedError ? 'handed_back' : 'failed' });
        throw err;
      }
    },
    {
      connection: opts.connection,
      prefix: opts.prefix,
      autorun: true,
      // Two batches per slot: the next one waits for the slot and starts sending frames to Blender
      // as soon as the running one has sent its last, so Blender never idles between batches.
      concurrency: ctx.pool.slots.length * 2,
      lockDuration: opts.lockDurationMs,
      stalledInterval: Math.max(5000, Math.floor(opts.lockDurationMs / 2)),
      maxStalledCount: 2,
    },
  );
  worker.on('failed', (job, err) => {
    logFailedJob(opts.log, job, err);
    // Batches that failed for good (their last attempt, or not retryable) on this worker.
    if (job && (err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1)))
      metrics.batchFailures.inc();
  });
  logWorkerErrors(worker, opts.log);
  return worker;
}
